// CO-RE resolution of a typical object against the running kernel's BTF, Waggle against libbpf 1.1
// (bench/c/core_libbpf.c). The object is examples/bpf/runqslower.o, a runqslower-like tool with the
// pid-namespace and cgroup lookups such tools add: 8 kernel structs, two task_struct flavors,
// field-exists checks. Both sides relocate the same three programs (the raw_tp/ set; libbpf needs
// that, see core_libbpf.c), 31 CO-RE relocations.
//
// Waggle, cold: a fresh Node process (one per sample) with Waggle's modules imported and the object
// parsed, timed from nothing of the kernel's BTF read to every relocation of the three programs
// applied: reading and parsing /sys/kernel/btf/vmlinux, finding candidates, matching, patching
// (`new CoreRelocator(...)` + `relocate()` per program, what load() does). Extra heap: heapUsed +
// external (which includes arrayBuffers, so they are not added again) before and after, each after
// gc(); it counts the retained kernel BTF — its 5 MB of bytes whether read or mapped — and what was
// decoded and indexed from it.
// Waggle, warm: in the same process, the object parsed again (not timed) and relocated again: the
// kernel BTF, its indexes and decoded types are cached, the object's own BTF is new.
// libbpf: see core_libbpf.c — the difference between loading the same programs against vmlinux BTF
// and against a minimal BTF holding only the types they use; it caches nothing between loads, so its
// every load pays what its first does.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildDir, cBaseline, header, root, row, runBaseline, stats } from "./lib.mjs";

const OBJECT = `${root}examples/bpf/runqslower.o`;
const SECTION_PREFIX = "raw_tp/";
const MIN_BTF = `${buildDir}/runqslower.min.btf`;
const TARGETS = { coldMs: 15, heapMb: 10, warmMs: 1 };

export async function run({ coldSamples = 11, warmIterations = 200, libbpfIterations = 30 } = {}) {
  const samples = [];
  for (let i = 0; i < coldSamples; i++) {
    const child = spawnSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), String(warmIterations)], {
      encoding: "utf8",
    });
    if (child.status !== 0) throw new Error(`bench/core.mjs child failed: ${child.stderr}`);
    samples.push(JSON.parse(child.stdout.trim().split("\n").pop()));
  }
  const pick = (key) => stats(samples.map((s) => s[key]));
  const cold = pick("coldMs");
  const parse = pick("parseMs");
  const heap = pick("heapMb");
  const warm = pick("warmMedianMs");

  let c;
  const binary = cBaseline("core_libbpf");
  if (binary) {
    const min = spawnSync("bpftool", ["gen", "min_core_btf", "/sys/kernel/btf/vmlinux", MIN_BTF, OBJECT], { encoding: "utf8" });
    if (min.status === 0) c = runBaseline(binary, [OBJECT, MIN_BTF, String(libbpfIterations), SECTION_PREFIX]);
    else console.log(`  (libbpf baseline unavailable: bpftool gen min_core_btf: ${(min.stderr || min.error?.message || "").trim()})`);
  }

  const { programs, relocations, records } = samples[0];
  header(
    `CO-RE of runqslower.o (${programs} programs, ${relocations} relocations, ${records} distinct) against vmlinux BTF, ` +
      `median of ${coldSamples} fresh processes / ${libbpfIterations} libbpf loads`,
  );
  row("vmlinux BTF read + parse", parse.median, c?.vmlinux_parse_ms.median, "ms");
  row("CO-RE, cold process", cold.median, c?.core_ms.median, "ms");
  row("CO-RE, cold process (min)", cold.min, c?.core_ms.min, "ms");
  row("CO-RE, warm (kernel BTF cached)", warm.median, c?.core_ms.median, "ms");
  row("extra heap", heap.median, c?.vmlinux_btf_heap_mb, "MB");
  const met = (ok) => (ok ? "met" : "NOT met");
  console.log(
    `  targets: cold ≤ ${TARGETS.coldMs} ms ${met(cold.median <= TARGETS.coldMs)}, ` +
      `heap ≤ ${TARGETS.heapMb} MB ${met(heap.median <= TARGETS.heapMb)}, ` +
      `warm ≤ ${TARGETS.warmMs} ms ${met(warm.median <= TARGETS.warmMs)} (warm ${(warm.median * 1000).toFixed(0)} µs)`,
  );
  return { coldRatio: c ? cold.median / c.core_ms.median : undefined };
}

/** One cold sample, in this (fresh) process: prints one JSON line. */
async function child(warmIterations) {
  const { ObjectSpec } = await import(`${root}dist/src/index.js`);
  const { CoreRelocator } = await import(`${root}dist/src/object/core/index.js`);
  const { kernelBtf, kernelModuleBtfs } = await import(`${root}dist/src/kernel/kernel-btf.js`);
  const bytes = new Uint8Array(readFileSync(OBJECT));
  const programsOf = (spec) => [...spec.programs.values()].filter((p) => p.section.startsWith(SECTION_PREFIX));
  const targets = () => ({ main: { btf: kernelBtf(), name: "vmlinux" }, modules: () => kernelModuleBtfs() });
  const relocateAll = (spec, programs) => {
    const relocator = new CoreRelocator(spec.btf, targets(), programs);
    for (const program of programs) relocator.relocate(program);
  };
  const memory = () => {
    globalThis.gc();
    globalThis.gc();
    const { heapUsed, external } = process.memoryUsage();
    return heapUsed + external;
  };

  const spec = ObjectSpec.parse(bytes, { file: OBJECT });
  const programs = programsOf(spec);
  const before = memory();
  const t0 = process.hrtime.bigint();
  kernelBtf();
  const t1 = process.hrtime.bigint();
  relocateAll(spec, programs);
  const t2 = process.hrtime.bigint();
  const after = memory();

  const warm = [];
  for (let i = 0; i < warmIterations; i++) {
    const again = ObjectSpec.parse(bytes, { file: OBJECT });
    const againPrograms = programsOf(again);
    const start = process.hrtime.bigint();
    relocateAll(again, againPrograms);
    warm.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const relocations = programs.flatMap((p) => p.instructions.flatMap((i) => (i.coreRelocation ? [i.coreRelocation] : [])));
  console.log(
    JSON.stringify({
      programs: programs.length,
      relocations: relocations.length,
      records: new Set(relocations.map((r) => `${r.typeId}:${r.accessStr}:${r.kind}`)).size,
      parseMs: Number(t1 - t0) / 1e6,
      coldMs: Number(t2 - t0) / 1e6,
      heapMb: (after - before) / (1024 * 1024),
      warmMedianMs: stats(warm).median,
    }),
  );
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  await child(Number(process.argv[2] ?? 200));
}
