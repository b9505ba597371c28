/**
 * Objects written by others load with Waggle exactly as with libbpf.
 *
 * scripts/external-objects.mjs compiles CO-RE programs from Debian's linux-source-6.1 (runqslower,
 * samples/bpf, the BPF selftests) with clang-19 against a vmlinux.h of the running kernel, cached by
 * source hash. For each object this test
 *
 * 1. loads it with libbpf 1.1: `bpftool prog loadall OBJ /sys/fs/bpf/<dir> pinmaps <dir>_maps`, then reads
 *    each pinned program with `bpftool -j prog dump xlated pinned … opcodes` (translated instructions,
 *    with the function prototypes and source lines that func_info/line_info give) and
 *    `bpftool -j prog show pinned …`, and each pinned map with `bpftool -j map show pinned …`;
 * 2. loads it with Waggle's `load(path)` and reads each program's translated instructions with
 *    `program.info({ xlatedInsns: true })`; the same program dumped by id with bpftool must give the same
 *    bytes (a check of `info()`), and gives the prototypes and source lines; maps are shown by id;
 * 3. compares the programs instruction by instruction (bytes, prototype, source line), their type, kernel
 *    name, GPL flag and whether they carry BTF; and the maps field by field.
 *
 * What legitimately differs between two loads of one object, and how it is normalised (everything else
 * must be byte-identical):
 *
 * - A map reference (`ld_imm64` with src_reg BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE): the kernel
 *   dumps the map's id in imm, and each load creates its own maps. The id is replaced by the map's kernel
 *   name (looked up with `bpftool -j map show id`, for both loads alike); the opcode, registers, and the
 *   value offset in the second slot stay exact. Map names stand for maps only if they are unique within a
 *   load, which the test checks.
 * - A 64-bit immediate with src_reg 0 that points into the kernel's heap (direct map or vmalloc area,
 *   0xffff800000000000 – 0xffffffff7fffffff on x86-64): the verifier writes addresses of per-load objects
 *   there (`prog->aux` for timers and some kfuncs, BTF struct meta for `bpf_obj_new`). They are replaced by
 *   `<heap address>`. Addresses inside the kernel image (≥ 0xffffffff80000000: ksyms) and per-CPU
 *   offsets are the same for every load of the running kernel and stay exact.
 * - Nothing else in instructions: helper and kfunc calls are dumped as offsets from `__bpf_call_base`, the
 *   same for every load of one kernel; bpf-to-bpf calls and callback references are dumped as subprogram
 *   indexes and instruction offsets; CO-RE results (field offsets, kernel BTF type ids, enum values) come
 *   from the same vmlinux BTF. The object's BTF id differs between the loads but never appears in
 *   instructions; only whether a program or map has BTF at all is compared.
 * - Maps are compared by name, type, key/value size, max_entries, flags, frozen and having BTF; ids, BTF
 *   ids and memlock are per load. One flag is allowed to differ: libbpf 1.1 sets BPF_F_MMAPABLE on every
 *   global-data map (.data/.rodata/.bss), while libbpf ≥ 1.2 (map_is_mmapable()) and Waggle set it only
 *   when the section's DATASEC holds a non-static variable. The test accepts exactly that: libbpf's flags
 *   are Waggle's plus BPF_F_MMAPABLE, on a global-data map whose section has no DATASEC in the object's
 *   BTF (string literals, `.rodata.str1.1`) or a DATASEC with only static variables.
 * - `__kconfig` values: both loaders compute `LINUX_HAS_SYSCALL_WRAPPER`, and libbpf 1.1 does it by
 *   creating a kprobe on `__x64_sys_bpf` — which this kernel refuses — so it answers 0 although the
 *   kernel has syscall wrappers (Waggle looks the wrapper up in the kernel's BTF and answers 1). The
 *   verifier prunes the branch not taken, so the code differs. The test compares the two `.kconfig` maps
 *   byte for byte; where they differ only in that value, it loads the object again with libbpf's value
 *   (the `kconfig` option) and compares the code of that load. Any other difference in values fails.
 *
 * Outcomes per object: identical; differences (shown, and the test fails); excluded because libbpf 1.1
 * cannot load it (with libbpf's reason, and what Waggle does with it, for information); Waggle cannot
 * load it (the test fails). The full report goes to $TMPDIR/waggle-external-objects/report.md (and .json).
 *
 * Skipped with a reason when not root (kernelTest), when not on x86-64 (the corpus is built with
 * -D__TARGET_ARCH_x86), or when linux-source-6.1, clang-19, bpftool or libbpf-dev are missing.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext } from "node:test";
import { load, type Collection } from "../../src/index.js";
import { ensureBpffs } from "../../src/sys/index.js";
import { repoRoot } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

// ---------------------------------------------------------------------------------------------
// The corpus

/** An object the build script produced (`--json`). */
interface CorpusObject {
  readonly id: string;
  /** Source path(s) inside the kernel tree. */
  readonly source: string;
  readonly object: string;
  readonly sections: readonly string[];
  readonly coreRelocations: number;
}

interface Manifest {
  readonly unavailable?: string;
  readonly clang: string;
  readonly bpftool: string;
  readonly cache: string;
  readonly objects: readonly CorpusObject[];
  readonly skipped: readonly { readonly source: string; readonly reason: string }[];
}

/** The build script's exit status when a tool or the tarball is missing. */
const EXIT_UNAVAILABLE = 2;
/** The corpus must have at least this many objects, and at least COMPARED_MIN must be compared. */
const CORPUS_MIN = 25;
const COMPARED_MIN = 20;
const BPFFS = "/sys/fs/bpf";

function buildCorpus(): { manifest: Manifest; ms: number } | { unavailable: string } {
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(repoRoot, "scripts", "external-objects.mjs"), "--json"], {
    encoding: "utf8",
    timeout: 10 * 60_000,
    maxBuffer: 64 << 20,
  });
  if (run.status === EXIT_UNAVAILABLE) return { unavailable: (JSON.parse(run.stdout) as Manifest).unavailable! };
  assert.equal(run.status, 0, `scripts/external-objects.mjs failed:\n${run.stderr}`);
  return { manifest: JSON.parse(run.stdout) as Manifest, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Instructions and their normalised form

const BPF_LD_IMM64 = 0x18;
const BPF_PSEUDO_MAP_FD = 1;
const BPF_PSEUDO_MAP_VALUE = 2;
const SLOT = 8;
/** x86-64: the direct map, vmalloc, vmemmap… lie in [HEAP_LOW, IMAGE_LOW); the kernel image and modules above. */
const HEAP_LOW = 0xffff800000000000n;
const IMAGE_LOW = 0xffffffff80000000n;
const BPF_F_MMAPABLE = 0x400;

/** One translated instruction (two slots for ld_imm64). */
interface Insn {
  /** Its bytes (8, or 16 for ld_imm64). */
  readonly bytes: Uint8Array;
  /** bpftool's text for it. */
  readonly text: string;
  /** The function prototype starting here (func_info), as bpftool prints it. */
  readonly proto?: string;
  /** The source line starting here (line_info), as bpftool prints it. */
  readonly src?: string;
}

/** One loaded program, as bpftool shows it. */
interface ProgramDump {
  readonly insns: Insn[];
  /** Type, kernel name, GPL flag, has BTF: compared as a string. */
  readonly summary: string;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/**
 * The normalised form of one instruction: its hex, with a map id replaced by the map's name and a
 * kernel heap address by `<heap address>` (see the file comment).
 */
function normalise(bytes: Uint8Array, mapName: (id: number) => string): string {
  if (bytes[0] !== BPF_LD_IMM64 || bytes.length !== 2 * SLOT) return hex(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const src = bytes[1]! >> 4;
  const head = hex(bytes.subarray(0, 4));
  const middle = hex(bytes.subarray(8, 12));
  if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE) {
    return `${head} map(${mapName(view.getUint32(4, true))}) ${middle} ${hex(bytes.subarray(12, 16))}`;
  }
  if (src === 0) {
    const value = (BigInt(view.getUint32(12, true)) << 32n) | BigInt(view.getUint32(4, true));
    if (value >= HEAP_LOW && value < IMAGE_LOW) return `${head} <heap address> ${middle} <heap address>`;
  }
  return hex(bytes);
}

/** Splits translated instructions as bpftool does (ld_imm64 keeps both slots). */
function splitInsns(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const width = bytes[at] === BPF_LD_IMM64 && at + 2 * SLOT <= bytes.length ? 2 * SLOT : SLOT;
    out.push(bytes.subarray(at, at + width));
    at += width;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// bpftool

function bpftool(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("bpftool", args, { encoding: "utf8", maxBuffer: 256 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
}

function bpftoolJson<T>(args: readonly string[]): T {
  const r = bpftool(["-j", ...args]);
  if (r.status !== 0) throw new Error(`bpftool ${args.join(" ")} failed: ${r.stderr.trim() || r.stdout.trim()}`);
  return JSON.parse(r.stdout) as T;
}

/** One element of `bpftool -j prog dump xlated … opcodes`. */
interface BpftoolInsn {
  readonly disasm: string;
  readonly proto?: string;
  readonly src?: string;
  readonly opcodes: {
    readonly code: string;
    readonly src_reg: string;
    readonly dst_reg: string;
    readonly off: readonly string[];
    readonly imm: readonly string[];
  };
}

/** The instruction bytes from bpftool's opcodes: imm holds 4 bytes, or 12 (the rest of both slots) for ld_imm64. */
function bpftoolBytes(insn: BpftoolInsn): Uint8Array {
  const o = insn.opcodes;
  const byte = (s: string) => Number.parseInt(s, 16);
  return Uint8Array.from([byte(o.code), byte(o.dst_reg) | (byte(o.src_reg) << 4), ...o.off.map(byte), ...o.imm.map(byte)]);
}

/** `pinned PATH` or `id N`: how bpftool is told which program or map. */
type Handle = readonly ["pinned", string] | readonly ["id", string];

function dumpProgram(handle: Handle): ProgramDump {
  const dump = bpftoolJson<BpftoolInsn[]>(["prog", "dump", "xlated", ...handle, "opcodes"]);
  const show = bpftoolJson<{ type: string; name?: string; gpl_compatible?: boolean; btf_id?: number }>(["prog", "show", ...handle]);
  return {
    insns: dump.map((insn) => ({
      bytes: bpftoolBytes(insn),
      text: insn.disasm,
      ...(insn.proto !== undefined && { proto: insn.proto }),
      ...(insn.src !== undefined && { src: insn.src }),
    })),
    summary: `type ${show.type}, name "${show.name ?? ""}", gpl_compatible ${show.gpl_compatible ?? false}, ${show.btf_id ? "with" : "without"} BTF`,
  };
}

/** What `bpftool -j map show` says about a map; the fields compared are MAP_FIELDS and having BTF. */
interface BpftoolMap {
  readonly id: number;
  readonly name?: string;
  readonly flags?: number;
  readonly btf_id?: number;
  readonly [field: string]: unknown;
}

const MAP_FIELDS = ["type", "bytes_key", "bytes_value", "max_entries", "flags", "frozen"] as const;

function mapDefinition(map: BpftoolMap, flags = map.flags): string {
  return [...MAP_FIELDS.map((f) => `${f}=${JSON.stringify(f === "flags" ? flags ?? 0 : map[f] ?? null)}`), map.btf_id ? "btf" : "no-btf"].join(" ");
}

/** Map id → name through bpftool, cached for one comparison (ids are global, so both sides share it). */
class MapNames {
  readonly #names = new Map<number, string>();
  name(id: number): string {
    let name = this.#names.get(id);
    if (name === undefined) {
      try {
        name = `"${bpftoolJson<BpftoolMap>(["map", "show", "id", String(id)]).name ?? ""}"`;
      } catch {
        name = `<unknown map id ${id}>`;
      }
      this.#names.set(id, name);
    }
    return name;
  }
}

/** One load of an object: programs by name, maps by kernel name; problems found while reading it. */
interface Loaded {
  readonly programs: Map<string, ProgramDump>;
  readonly maps: Map<string, BpftoolMap>;
  readonly problems: string[];
}

/** The lines of libbpf's and the verifier's output that say why a load failed. */
function libbpfReason(stderr: string): string {
  const noise = /^Warning|--legacy|strict mode/;
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l && !noise.test(l));
  const interesting = lines.filter((l) =>
    /failed to create|not found in kernel|failed to find|failed to resolve|BPF program load failed|<invalid CO-RE relocation>|invalid |cannot |unknown func|ldimm64|R\d+ |too large|too many|Argument list too long|failed to open/.test(l),
  );
  return (interesting.length ? interesting : lines).slice(0, 3).join(" | ").replace(/^libbpf: /, "");
}

function loadWithLibbpf(object: string, dir: string): { loaded: Loaded } | { error: string } {
  const mapDir = `${dir}_maps`; // bpffs refuses dots in names
  unpin(dir);
  const r = bpftool(["prog", "loadall", object, dir, "pinmaps", mapDir]);
  if (r.status !== 0) return { error: libbpfReason(r.stderr) || `bpftool exited with ${r.status}` };
  const programs = new Map<string, ProgramDump>();
  for (const pin of readdirSync(dir).sort()) programs.set(pin, dumpProgram(["pinned", join(dir, pin)]));
  const maps = new Map<string, BpftoolMap>();
  for (const pin of existsSync(mapDir) ? readdirSync(mapDir).sort() : []) {
    const map = bpftoolJson<BpftoolMap>(["map", "show", "pinned", join(mapDir, pin)]);
    maps.set(map.name ?? pin, map);
  }
  return { loaded: { programs, maps, problems: [] } };
}

function unpin(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  rmSync(`${dir}_maps`, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Waggle's side

/** The values libbpf computes differently here, and why (see the file comment). */
const KCONFIG_EXPLAINED: Record<string, string> = {
  LINUX_HAS_SYSCALL_WRAPPER: "libbpf 1.1 probes it with a kprobe, which this kernel cannot attach",
};

/**
 * Compares Waggle's `.kconfig` map with libbpf's. Returns the overrides that reproduce libbpf's values
 * when they differ only where KCONFIG_EXPLAINED says why (and notes each), else undefined; other
 * differences are noted with a leading "!" (failures).
 */
function sameKconfigAsLibbpf(coll: Collection, libbpfMaps: Map<string, BpftoolMap>, notes: string[]): Record<string, number> | undefined {
  const ours = coll.maps.get(".kconfig");
  if (!ours) return undefined;
  const theirs = [...libbpfMaps.values()].find((m) => m.name?.endsWith(".kconfig"));
  if (!theirs) {
    notes.push("!libbpf created no .kconfig map");
    return undefined;
  }
  const dump = bpftoolJson<{ value: string[] }[]>(["map", "dump", "id", String(theirs.id)]);
  const libbpfBytes = Uint8Array.from(dump[0]!.value.map(Number));
  const waggleBytes = ours.lookupBytes(new Uint8Array(4))!;
  const overrides: Record<string, number> = {};
  for (const ext of coll.spec.externs.values()) {
    const slot = ext.kconfig;
    if (!slot) continue;
    const a = libbpfBytes.subarray(slot.offset, slot.offset + slot.size);
    const b = waggleBytes.subarray(slot.offset, slot.offset + slot.size);
    if (a.every((x, i) => x === b[i])) continue;
    const value = (bytes: Uint8Array) => bytes.reduceRight((n, x) => n * 256 + x, 0);
    const why = KCONFIG_EXPLAINED[ext.name];
    if (!why) {
      notes.push(`!__kconfig ${ext.name}: libbpf ${value(a)}, Waggle ${value(b)}`);
      continue;
    }
    overrides[ext.name] = value(a);
    notes.push(`${ext.name}: libbpf ${value(a)}, Waggle ${value(b)} (${why}); compared with libbpf's value`);
  }
  return Object.keys(overrides).length > 0 ? overrides : undefined;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split("\n").slice(0, 4).join(" | ")}`;
  return String(error);
}

/**
 * Waggle's load read back: the instructions come from `program.info({ xlatedInsns: true })`; bpftool's
 * dump of the same program by id adds prototypes and source lines, and must have the same bytes.
 */
function readWaggle(coll: Collection): Loaded {
  const programs = new Map<string, ProgramDump>();
  const problems: string[] = [];
  for (const [name, program] of coll.programs) {
    const info = program.info({ xlatedInsns: true });
    const bytes = info.xlatedInsns ?? new Uint8Array();
    const dump = dumpProgram(["id", String(info.id)]);
    const own = splitInsns(bytes);
    const same = own.length === dump.insns.length && own.every((b, i) => hex(b) === hex(dump.insns[i]!.bytes));
    if (!same) {
      problems.push(`program ${name}: program.info({ xlatedInsns: true }) gave ${bytes.length} bytes that differ from bpftool's dump of program id ${info.id}`);
    }
    programs.set(name, { insns: own.map((b, i) => ({ ...dump.insns[i], bytes: b, text: dump.insns[i]?.text ?? hex(b) })), summary: dump.summary });
  }
  const maps = new Map<string, BpftoolMap>();
  for (const map of coll.maps.values()) {
    const shown = bpftoolJson<BpftoolMap>(["map", "show", "id", String(map.info().id)]);
    maps.set(shown.name ?? "", shown);
  }
  return { programs, maps, problems };
}

/**
 * True when the global-data map Waggle created as `kernelName` has no DATASEC (string literals in
 * `.rodata.str1.1`) or one with only static variables: then libbpf 1.1 adds BPF_F_MMAPABLE and
 * libbpf ≥ 1.2 and Waggle do not (see the file comment).
 */
function onlyStaticVariables(coll: Collection, kernelName: string): boolean {
  const spec = [...coll.spec.maps.values()].find((m) => m.kernelName === kernelName);
  if (!spec || spec.kind === "declared") return false;
  const btf = coll.spec.btf;
  if (!btf || !spec.valueType) return true;
  const datasec = btf.type(spec.valueType);
  if (datasec.kind !== "datasec") return true;
  return datasec.vars.every((info) => {
    const v = btf.type(info.type);
    return v.kind !== "var" || v.linkage === "static";
  });
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** The result for one program of one object. */
interface ProgramResult {
  readonly name: string;
  readonly instructions: number;
  readonly identical: boolean;
  readonly differences: readonly string[];
  /** Instructions whose bytes differ only by a map id (the kernel's dump names the map by id). */
  readonly mapReferences?: number;
  /** Instructions whose bytes differ only by a kernel heap address. */
  readonly heapAddresses?: number;
}

type Outcome = "identical" | "differences" | "libbpf cannot load" | "Waggle cannot load";

interface ObjectResult {
  readonly id: string;
  readonly source: string;
  readonly outcome: Outcome;
  /** Why libbpf or Waggle could not load it. */
  readonly reason?: string;
  /** For objects libbpf cannot load: what Waggle does with them (information only). */
  readonly waggle?: string;
  readonly programs: readonly ProgramResult[];
  /** Differences in maps, and problems reading Waggle's load. */
  readonly otherDifferences: readonly string[];
  /** Legitimate differences that were normalised away (see the file comment), for the report. */
  readonly normalised: readonly string[];
}

/** Differences shown per program before "… and N more". */
const SHOWN_DIFFERENCES = 12;

/** The functions of a program in the order they are laid out, with their first instruction, from func_info. */
function functionLayout(insns: readonly Insn[]): string {
  const out: string[] = [];
  insns.forEach((insn, i) => {
    if (insn.proto !== undefined) out.push(`${/(\w+)\s*\(/.exec(insn.proto)?.[1] ?? insn.proto}@${i}`);
  });
  return out.join(" ") || "(no func_info)";
}

function compareProgram(name: string, libbpf: ProgramDump, waggle: ProgramDump, names: MapNames): ProgramResult {
  const differences: string[] = [];
  if (libbpf.summary !== waggle.summary) differences.push(`program: libbpf ${libbpf.summary}; Waggle ${waggle.summary}`);
  const a = libbpf.insns;
  const b = waggle.insns;
  if (a.length !== b.length) differences.push(`length: libbpf ${a.length} instructions, Waggle ${b.length}`);
  const layoutA = functionLayout(a);
  const layoutB = functionLayout(b);
  if (layoutA !== layoutB) differences.push(`function layout (func_info order): libbpf ${layoutA}; Waggle ${layoutB}`);
  let hidden = 0;
  const show = (i: number, what: string, x: string, y: string) => {
    if (differences.length >= SHOWN_DIFFERENCES) return hidden++;
    const prefix = `insn ${i} ${what}: `;
    return differences.push(`${prefix}libbpf ${x}\n${" ".repeat(prefix.length)}Waggle ${y}`);
  };
  let mapReferences = 0;
  let heapAddresses = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const nx = x && normalise(x.bytes, (id) => names.name(id));
    const ny = y && normalise(y.bytes, (id) => names.name(id));
    if (nx === ny && hex(x!.bytes) !== hex(y!.bytes)) {
      if (nx!.includes("<heap address>")) heapAddresses++;
      else mapReferences++;
    }
    if (nx !== ny) show(i, "code", x ? `${nx}  ${x.text}` : "(none)", y ? `${ny}  ${y.text}` : "(none)");
    else if (x!.proto !== y!.proto) show(i, "func_info", JSON.stringify(x!.proto ?? null), JSON.stringify(y!.proto ?? null));
    else if (x!.src !== y!.src) show(i, "line_info", JSON.stringify(x!.src ?? null), JSON.stringify(y!.src ?? null));
  }
  if (hidden) differences.push(`… and ${hidden} more differing instructions`);
  return { name, instructions: a.length, identical: differences.length === 0, differences, mapReferences, heapAddresses };
}

function compareMaps(libbpf: Map<string, BpftoolMap>, waggle: Map<string, BpftoolMap>, coll: Collection, normalised: string[]): string[] {
  const out: string[] = [];
  for (const [name, a] of libbpf) {
    const b = waggle.get(name);
    if (!b) {
      out.push(`map "${name}" (${mapDefinition(a)}): libbpf created it, Waggle has no map by that name (Waggle's: ${[...waggle.keys()].map((k) => `"${k}"`).join(", ")})`);
      continue;
    }
    if (mapDefinition(a) === mapDefinition(b)) continue;
    const flagsA = a.flags ?? 0;
    const flagsB = b.flags ?? 0;
    if (flagsA === (flagsB | BPF_F_MMAPABLE) && flagsA !== flagsB && mapDefinition(a) === mapDefinition(b, flagsA) && onlyStaticVariables(coll, name)) {
      normalised.push(`map "${name}": BPF_F_MMAPABLE set by libbpf 1.1 only (no DATASEC, or only static variables in it)`);
      continue;
    }
    out.push(`map "${name}": libbpf ${mapDefinition(a)}; Waggle ${mapDefinition(b)}`);
  }
  for (const [name, b] of waggle) {
    if (!libbpf.has(name)) out.push(`map "${name}" (${mapDefinition(b)}): Waggle created it, libbpf did not`);
  }
  for (const [side, maps] of [["libbpf", libbpf], ["Waggle", waggle]] as const) {
    if (maps.size !== new Set([...maps.values()].map((m) => m.name)).size) {
      out.push(`${side} gave two maps the same name: map references cannot be told apart by name`);
    }
  }
  return out;
}

function compareObject(entry: CorpusObject, pinDir: string): ObjectResult {
  const names = new MapNames();
  const base = { id: entry.id, source: entry.source, programs: [], otherDifferences: [], normalised: [] };
  const dir = join(pinDir, entry.id.replaceAll("/", "_"));
  try {
    const libbpf = loadWithLibbpf(entry.object, dir);
    if ("error" in libbpf) {
      let waggle: string;
      try {
        const coll = load(entry.object);
        waggle = `loads it (${coll.programs.size} programs)`;
        coll.close();
      } catch (error) {
        waggle = `rejects it too: ${describeError(error)}`;
      }
      return { ...base, outcome: "libbpf cannot load", reason: libbpf.error, waggle };
    }
    let coll: Collection;
    const kconfigNotes: string[] = [];
    try {
      coll = load(entry.object);
      const kconfig = sameKconfigAsLibbpf(coll, libbpf.loaded.maps, kconfigNotes);
      if (kconfig) {
        coll.close();
        coll = load(entry.object, { kconfig });
      }
    } catch (error) {
      return { ...base, outcome: "Waggle cannot load", reason: describeError(error) };
    }
    try {
      const waggle = readWaggle(coll);
      const programs: ProgramResult[] = [];
      for (const [name, dump] of libbpf.loaded.programs) {
        const w = waggle.programs.get(name);
        programs.push(w ? compareProgram(name, dump, w, names) : { name, instructions: dump.insns.length, identical: false, differences: ["libbpf loaded it, Waggle did not"] });
      }
      for (const [name, dump] of waggle.programs) {
        if (!libbpf.loaded.programs.has(name)) programs.push({ name, instructions: dump.insns.length, identical: false, differences: ["Waggle loaded it, libbpf did not"] });
      }
      const normalised: string[] = kconfigNotes.filter((n) => !n.startsWith("!"));
      const otherDifferences = [
        ...kconfigNotes.filter((n) => n.startsWith("!")).map((n) => n.slice(1)),
        ...waggle.problems,
        ...compareMaps(libbpf.loaded.maps, waggle.maps, coll, normalised),
      ];
      const identical = programs.every((p) => p.identical) && otherDifferences.length === 0;
      return { ...base, outcome: identical ? "identical" : "differences", programs, otherDifferences, normalised };
    } finally {
      coll.close();
    }
  } finally {
    unpin(dir);
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

function objectLine(r: ObjectResult): string {
  const maps = r.programs.reduce((n, p) => n + (p.mapReferences ?? 0), 0);
  const heap = r.programs.reduce((n, p) => n + (p.heapAddresses ?? 0), 0);
  const normalisations = [
    ...(maps ? [`${maps} map references`] : []),
    ...(heap ? [`${heap} heap addresses`] : []),
    ...r.normalised,
  ];
  const normalised = normalisations.length ? `; normalised: ${normalisations.join("; ")}` : "";
  switch (r.outcome) {
    case "identical":
      return `identical: ${r.programs.length} programs (${r.programs.map((p) => `${p.name} ${p.instructions}`).join(", ")} insns)${normalised}`;
    case "differences": {
      const bad = r.programs.filter((p) => !p.identical).map((p) => p.name);
      const maps = r.otherDifferences.length ? ` and ${r.otherDifferences.length} other differences` : "";
      return `DIFFERENCES in ${bad.length} of ${r.programs.length} programs${bad.length ? ` (${bad.join(", ")})` : ""}${maps}${normalised}`;
    }
    case "libbpf cannot load":
      return `excluded, libbpf 1.1 cannot load it: ${r.reason}; Waggle ${r.waggle}`;
    case "Waggle cannot load":
      return `WAGGLE CANNOT LOAD IT: ${r.reason}`;
  }
}

function objectDetail(r: ObjectResult): string {
  const lines: string[] = [];
  for (const p of r.programs.filter((p) => !p.identical)) {
    lines.push(`  program ${p.name} (${p.instructions} insns with libbpf):`);
    for (const d of p.differences) lines.push(...d.split("\n").map((l) => `    ${l}`));
  }
  for (const m of r.otherDifferences) lines.push(`  ${m}`);
  return lines.join("\n");
}

function writeReport(manifest: Manifest, results: readonly ObjectResult[], summary: string): string {
  const lines = [
    "# External CO-RE objects: Waggle vs libbpf 1.1",
    "",
    `${manifest.clang}; ${manifest.bpftool.split("\n").join(", ")}`,
    "",
    summary,
    "",
    ...results.flatMap((r) => {
      const detail = objectDetail(r);
      return [`- ${r.source}: ${objectLine(r)}`, ...(detail ? ["", "```", detail, "```", ""] : [])];
    }),
    "",
    `## Sources not compiled or not kept (${manifest.skipped.length})`,
    "",
    ...manifest.skipped.map((s) => `- ${s.source}: ${s.reason}`),
    "",
  ];
  const path = join(manifest.cache, "report.md");
  writeFileSync(path, lines.join("\n"));
  writeFileSync(join(manifest.cache, "report.json"), `${JSON.stringify({ summary, results }, null, 2)}\n`);
  return path;
}

// ---------------------------------------------------------------------------------------------

describe("external CO-RE objects (linux-source-6.1) load with Waggle exactly as with libbpf 1.1", () => {
  kernelTest("runqslower, samples/bpf and BPF selftests objects give the same translated instructions and maps as bpftool prog loadall", async (t: TestContext) => {
    if (process.arch !== "x64") return t.skip(`the corpus is built for x86-64 (-D__TARGET_ARCH_x86); this is ${process.arch}`);
    const build = buildCorpus();
    if ("unavailable" in build) return t.skip(build.unavailable);
    const { manifest } = build;
    t.diagnostic(`corpus: ${manifest.objects.length} CO-RE objects compiled or reused in ${build.ms} ms (${manifest.skipped.length} sources skipped; see scripts/external-objects.mjs)`);
    assert.ok(manifest.objects.length >= CORPUS_MIN, `only ${manifest.objects.length} objects compiled; expected at least ${CORPUS_MIN}`);

    ensureBpffs(BPFFS);
    const pinDir = join(BPFFS, `waggle-external-${process.pid}`);
    mkdirSync(pinDir, { recursive: true });
    const results: ObjectResult[] = [];
    try {
      for (const entry of manifest.objects) {
        await t.test(entry.source, (st) => {
          const result = compareObject(entry, pinDir);
          results.push(result);
          st.diagnostic(objectLine(result));
          switch (result.outcome) {
            case "identical":
              return;
            case "libbpf cannot load":
              return st.skip(`libbpf 1.1 cannot load it: ${result.reason}`);
            case "Waggle cannot load":
              return assert.fail(`libbpf loads ${entry.source}, Waggle does not: ${result.reason}`);
            case "differences":
              return assert.fail(`${entry.source}: Waggle's load differs from libbpf's\n${objectDetail(result)}`);
          }
        });
      }
    } finally {
      rmSync(pinDir, { recursive: true, force: true });
    }

    const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
    const programs = results.filter((r) => r.outcome === "identical" || r.outcome === "differences").flatMap((r) => r.programs);
    const summary =
      `${results.length} objects: ${count("identical")} identical, ${count("differences")} with differences, ` +
      `${count("Waggle cannot load")} Waggle cannot load, ` +
      `${count("libbpf cannot load")} excluded (libbpf 1.1 cannot load them); ` +
      `${programs.filter((p) => p.identical).length} of ${programs.length} compared programs identical ` +
      `(${programs.reduce((n, p) => n + p.instructions, 0)} instructions; normalised: ${programs.reduce((n, p) => n + (p.mapReferences ?? 0), 0)} map references, ` +
      `${programs.reduce((n, p) => n + (p.heapAddresses ?? 0), 0)} heap addresses, ${results.reduce((n, r) => n + r.normalised.length, 0)} map flags and kconfig values)`;
    t.diagnostic(`${summary}; report: ${writeReport(manifest, results, summary)}`);
    const comparable = results.length - count("libbpf cannot load");
    assert.ok(comparable >= COMPARED_MIN, `libbpf loads only ${comparable} objects; expected at least ${COMPARED_MIN} to compare`);
    const compared = count("identical") + count("differences");
    assert.ok(compared >= COMPARED_MIN, `only ${compared} objects compared; expected at least ${COMPARED_MIN}`);
  });
});
