// Open + load + close of a 5-program / 5-map object (fixtures/obj/bench_multi.o), Waggle against
// libbpf 1.1 (bench/c/load_libbpf.c), same iterations, one run. Node start-up is excluded: Waggle's
// modules are imported and warmed before timing, and libbpf's first (cold) iteration is reported
// apart from the steady state, as ours is. Then a verification-bound object (fixtures/obj/bench_heavy.o,
// 4 programs of tens of milliseconds each), where loading programs in parallel is what counts.
import { readFileSync } from "node:fs";
import { cBaseline, header, msSince, root, row, runBaseline, stats } from "./lib.mjs";

const OBJECT = `${root}fixtures/obj/bench_multi.o`;
const HEAVY = `${root}fixtures/obj/bench_heavy.o`;

/**
 * V8 keeps tiering the loader up (Maglev, then TurboFan on background threads) for the first couple of
 * thousand loads; fewer warm-up iterations time half-optimised code, and the compiler threads' CPU lands
 * in the user-CPU row. Both sides run the same warm-up.
 */
export async function run({ iterations = 1000, warmup = 2000 } = {}) {
  const { load, ObjectSpec } = await import(`${root}dist/src/index.js`);
  const { syscallPool } = await import(`${root}dist/src/sys/syscall-pool.js`);
  const bytes = new Uint8Array(readFileSync(OBJECT));

  const coldStart = process.hrtime.bigint();
  load(ObjectSpec.parse(bytes, { file: OBJECT })).close();
  const cold = msSince(coldStart);
  // Steady state includes the verification workers, which the first load started.
  await workersUp(syscallPool());

  const open = [], loadMs = [], close = [], openLoad = [], total = [];
  let cpuStart;
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) cpuStart = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const spec = ObjectSpec.parse(new Uint8Array(readFileSync(OBJECT)), { file: OBJECT });
    const t1 = process.hrtime.bigint();
    const coll = load(spec);
    const t2 = process.hrtime.bigint();
    coll.close();
    const t3 = process.hrtime.bigint();
    if (i < warmup) continue;
    open.push(Number(t1 - t0) / 1e6);
    loadMs.push(Number(t2 - t1) / 1e6);
    close.push(Number(t3 - t2) / 1e6);
    openLoad.push(Number(t2 - t0) / 1e6);
    total.push(Number(t3 - t0) / 1e6);
  }

  // CPU time per iteration, split like getrusage: JavaScript (and GC threads) vs the kernel's bpf() work.
  const cpu = process.cpuUsage(cpuStart);
  // The same loads alternating with one-by-one loads, so both share the VM's drift.
  const alternating = { parallel: [], oneByOne: [] };
  for (let i = 0; i < 2 * iterations; i++) {
    const t0 = process.hrtime.bigint();
    load(ObjectSpec.parse(new Uint8Array(readFileSync(OBJECT)), { file: OBJECT }), { parallel: i % 2 === 0 }).close();
    (i % 2 === 0 ? alternating.parallel : alternating.oneByOne).push(msSince(t0));
  }
  const binary = cBaseline("load_libbpf");
  const c = binary ? runBaseline(binary, [OBJECT, String(iterations), String(warmup)]) : undefined;

  header(`open + load + close of bench_multi.o (5 programs, 5 maps), ${warmup} warm-up + ${iterations} iterations, median ms`);
  row("open (parse)", stats(open).median, c?.open_ms.median, "ms");
  row("load (maps + programs)", stats(loadMs).median, c?.load_ms.median, "ms");
  row("close", stats(close).median, c?.close_ms.median, "ms");
  row("open + load", stats(openLoad).median, c?.open_load_ms.median, "ms");
  row("open + load (min)", stats(openLoad).min, c?.open_load_ms.min, "ms");
  row("open + load + close", stats(total).median, c?.total_ms.median, "ms");
  row("  alternating: programs in parallel", stats(alternating.parallel).median, c?.total_ms.median, "ms");
  row("  alternating: programs one by one", stats(alternating.oneByOne).median, c?.total_ms.median, "ms");
  row("first load in the process (cold)", cold, c?.cold_total_ms, "ms");
  row("user CPU per iteration", cpu.user / 1e3 / iterations, c?.user_cpu_ms, "ms");
  row("system CPU per iteration", cpu.system / 1e3 / iterations, c?.system_cpu_ms, "ms");
  const heavy = await runHeavy(load);
  return { openLoadRatio: c ? stats(openLoad).median / c.open_load_ms.median : undefined, heavyRatio: heavy };
}

/** Waits until the verification workers have started (they start on the first multi-program load). */
async function workersUp(pool) {
  while (pool.ready < pool.capacity) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** bench_heavy.o: Waggle's default (programs verified in parallel), one by one, and libbpf. */
async function runHeavy(load, { iterations = 15, warmup = 2 } = {}) {
  const parallel = [], oneByOne = [];
  for (let i = 0; i < warmup + iterations; i++) {
    for (const [times, options] of [[parallel, {}], [oneByOne, { parallel: false }]]) {
      const t0 = process.hrtime.bigint();
      load(HEAVY, options).close();
      if (i >= warmup) times.push(msSince(t0));
    }
  }
  const binary = cBaseline("load_libbpf");
  const c = binary ? runBaseline(binary, [HEAVY, String(iterations), String(warmup)]) : undefined;
  header(`open + load + close of bench_heavy.o (4 verification-bound programs), ${warmup} warm-up + ${iterations} iterations, median ms`);
  row("programs verified in parallel (default)", stats(parallel).median, c?.total_ms.median, "ms");
  row("programs one by one (parallel: false)", stats(oneByOne).median, c?.total_ms.median, "ms");
  return c ? stats(parallel).median / c.total_ms.median : undefined;
}
