/**
 * `load()`: turns an eBPF object (a path, bytes or an `ObjectSpec`) into live maps and programs.
 *
 * Order of work, as libbpf does it: load the object's BTF (dropping it, with a debug message, when the
 * kernel rejects it and nothing needs it); create maps — inner-map templates first, global data filled
 * in and `.rodata` frozen so the verifier sees its values as constants; link and load the selected
 * programs, turning a verifier rejection into a `VerifierError` that names the C source line; fill
 * prog arrays and map-in-maps from their static initialisers. Unlike libbpf, maps are created and
 * programs verified several at a time, on worker threads (src/sys/create-batch.ts). Anything created
 * before a failure is closed before the error propagates, so a failed load leaks no fd.
 */

import { readFileSync } from "node:fs";
import { debuglog } from "node:util";
import { marshalBtf, sanitizeBtf, type Btf } from "./btf/index.js";
import { btfSupport } from "./features/index.js";
import { Collection } from "./collection.js";
import { NotSupportedError, VerifierError, WaggleError, isWaggleError } from "./errors.js";
import { kernelBtf, kernelModuleBtfs } from "./kernel/kernel-btf.js";
import { ExternResolver, kconfigData, type KconfigValue } from "./load-externs.js";
import { CoreRelocator, type CoreTargets } from "./object/core/index.js";
import type { BpfMap } from "./maps/bpf-map.js";
import { createMapsFromSpecs, kernelObjectName } from "./maps/create-map.js";
import type { MapOfMaps, ProgramArray } from "./maps/fd-maps.js";
import { ArenaMap } from "./maps/special-maps.js";
import { ObjectSpec, ProgramSpec } from "./object/index.js";
import { FUNC_INFO_SIZE, LINE_INFO_SIZE, type LinkedProgram, linkProgram, sourceLineAt } from "./object/link-program.js";
import { BpfProgram } from "./programs/bpf-program.js";
import { btfLoad, CreateBatch, expectCreateBatch, parallelCreateAvailable, progLoad, submitProgLoad, type ProgLoadParams, type FD } from "./sys/index.js";
import { ATTACH_TYPES, PROGRAM_TYPES, ProgramFlags } from "./uapi.js";

/** Receives Waggle's diagnostics. */
export type Logger = (level: "debug" | "warn", message: string) => void;

/** Options for {@link load}. */
export interface LoadOptions {
  /**
   * Which programs to load: a list of names, or a predicate over their specs. By default every program
   * whose section does not start with `?`. The others are skipped (like libbpf's autoload), which is how
   * tools ship fallback variants — an fentry and a kprobe version — and load the one the kernel supports.
   */
  programs?: readonly string[] | ((spec: ProgramSpec) => boolean);
  /**
   * Create the maps and verify the programs concurrently, on this thread and on worker threads (default
   * true). The kernel does this work from different threads in parallel, so an object loads in about
   * the time of its slowest few maps and programs instead of all of them added up. Workers start in the
   * background on the first load that could use them (none on a one-CPU machine); until they are up,
   * and for programs when a log is asked for, everything is done one at a time.
   */
  parallel?: boolean;
  /** Verifier log level for every program: 0 (a log only on failure), 1, or 2 (verbose). */
  logLevel?: 0 | 1 | 2;
  /** Initial verifier log buffer size in bytes (it grows on demand). */
  logSize?: number;
  /**
   * BTF that stands for the kernel's in CO-RE relocation (libbpf's `btf_custom_path`), for kernels that
   * ship no BTF. Defaults to the running kernel's (and its modules'). Attach targets and kfuncs are always
   * looked up in the running kernel's BTF, since their ids are handed to that kernel.
   */
  kernelBtf?: Btf;
  /**
   * Values for `__kconfig` externs, used before the kernel's own configuration: `true`/`false` for
   * y/n, numbers, or text as a Kconfig file has it (`"m"`, `'"a string"'`). Names the object does not
   * declare are ignored, so one set of values can serve many objects.
   */
  kconfig?: Readonly<Record<string, KconfigValue>>;
  /** Receives diagnostics; by default they go to `NODE_DEBUG=waggle`. */
  log?: Logger;
  /** The object's name when loading bytes (names global-data maps like libbpf). */
  name?: string;
  /** Where maps marked `LIBBPF_PIN_BY_NAME` are pinned and looked for (default /sys/fs/bpf). */
  pinRoot?: string;
}

const debug = debuglog("waggle");
const defaultLogger: Logger = (level, message) => (level === "warn" ? process.emitWarning(message, "WaggleWarning") : debug(message));


/**
 * Loads an eBPF object into the kernel.
 *
 * @param source A path to an ELF object, its bytes, or a (possibly edited) `ObjectSpec`.
 * @returns The loaded maps and programs; close it (or `using`) to release them.
 * @throws FormatError for a malformed object, VerifierError when the verifier rejects a program,
 *   SyscallError / PermissionError / NotSupportedError when the kernel refuses something.
 * @example
 * using coll = load("xdp_filter.o");
 * const { retval } = coll.program("xdp_filter").run(packet);
 */
export function load(source: string | Uint8Array | ObjectSpec, options: LoadOptions = {}): Collection {
  // Workers take 0.1–0.2 ms to wake: let that overlap the parse. A path or bytes may well hold several
  // maps or programs; a spec tells.
  const parallelWork = !(source instanceof ObjectSpec) || source.maps.size > 1 || source.programs.size > 1;
  if (options.parallel !== false && parallelWork) expectCreateBatch();
  const spec = toSpec(source, options);
  const log = options.log ?? defaultLogger;
  if (spec.littleEndian !== (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1)) {
    throw new NotSupportedError(`a ${spec.littleEndian ? "little" : "big"}-endian object`, "the kernel runs in the other byte order");
  }
  const selected = selectPrograms(spec, options.programs);
  const owned: { close(): void }[] = [];
  try {
    const btfFd = loadObjectBtf(spec, selected, log, owned);
    const maps = createMaps(spec, btfFd, options, log, owned);
    const programs = new Map<string, BpfProgram>();
    const core = needsCore(spec, selected) ? new CoreRelocator(spec.btf!, coreTargets(options), selected) : undefined;
    const externs = new ExternResolver(spec);
    owned.push(externs);
    // In parallel, each program goes to the kernel as soon as it is linked, while the next is linked.
    const batch = loadsInParallel(selected, options) ? new CreateBatch() : undefined;
    const prepared: PreparedProgram[] = [];
    let fds: (FD | undefined)[] = [];
    try {
      for (const program of selected) {
        const ready = prepareProgram({ spec, maps, btfFd, options, core, externs }, program);
        prepared.push(ready);
        if (batch) submitProgLoad(batch, ready.params);
      }
    } finally {
      fds = batch?.finish() ?? [];
      for (const fd of fds) if (fd) owned.push(fd);
    }
    for (const [i, program] of prepared.entries()) {
      const loaded = loadPrepared(program, fds[i]);
      owned.push(loaded);
      programs.set(program.spec.name, loaded);
    }
    fillProgramSlots(spec, maps, programs, log);
    // Maps and programs hold their own references to the object's and modules' BTF; ours can go.
    btfFd?.close();
    externs.close();
    return new Collection(spec, programs, maps);
  } catch (error) {
    for (const resource of owned.reverse()) resource.close();
    throw error;
  }
}

function toSpec(source: string | Uint8Array | ObjectSpec, options: LoadOptions): ObjectSpec {
  if (source instanceof ObjectSpec) return source;
  const parseOptions = options.name !== undefined ? { name: options.name } : {};
  if (typeof source === "string") {
    return ObjectSpec.parse(new Uint8Array(readFileSync(source)), { ...parseOptions, file: source });
  }
  return ObjectSpec.parse(source, parseOptions);
}

function selectPrograms(spec: ObjectSpec, choice: LoadOptions["programs"]): ProgramSpec[] {
  const all = [...spec.programs.values()];
  if (choice === undefined) return all.filter((p) => p.autoload);
  if (typeof choice === "function") return all.filter(choice);
  for (const name of choice) {
    if (!spec.programs.has(name)) {
      throw new WaggleError(`Cannot load program "${name}": the object has ${[...spec.programs.keys()].map((n) => `"${n}"`).join(", ") || "no programs"}`);
    }
  }
  return all.filter((p) => choice.includes(p.name));
}

/**
 * Loads the object's BTF. When the kernel rejects it (GCC 12's BTF, or kinds this kernel predates) and
 * no selected program needs it, logs why at debug level and carries on without BTF, as libbpf does.
 */
function loadObjectBtf(spec: ObjectSpec, programs: ProgramSpec[], log: Logger, owned: { close(): void }[]): FD | undefined {
  if (!spec.btf) return undefined;
  try {
    // Kinds this kernel predates are rewritten the way libbpf does; the spec keeps the compiler's BTF
    // for CO-RE and externs.
    const { fd } = btfLoad(marshalBtf(sanitizeBtf(spec.btf, btfSupport())));
    owned.push(fd);
    return fd;
  } catch (error) {
    if (!isWaggleError(error)) throw error;
    const needer = programs.find((p) => needsBtf(spec.btf!, p));
    if (needer) {
      if (!isWaggleError(error, "VerifierError")) throw error;
      throw new VerifierError(spec.name, error.errno, error.log, {}, error.truncated, "BTF");
    }
    log("debug", `object "${spec.name}": the kernel rejected its BTF, loading without it: ${(error as Error).message}`);
    return undefined;
  }
}

/** A program needs its BTF loaded when it calls global functions, which the verifier checks by their BTF. */
function needsBtf(btf: Btf, program: ProgramSpec): boolean {
  return program.instructions.some((insn, i) => {
    if (i === 0 || insn.symbol === undefined || insn.funcType === undefined) return false;
    const fn = btf.type(insn.funcType);
    return fn.kind === "func" && fn.linkage === "global";
  });
}

function createMaps(spec: ObjectSpec, btfFd: FD | undefined, options: LoadOptions, log: Logger, owned: { close(): void }[]): Map<string, BpfMap<any, any>> {
  const maps = new Map<string, BpfMap<any, any>>();
  const reused = new Set<string>();
  const specs = [...spec.maps.values()];
  const created = createMapsFromSpecs(specs, { btfFd, btf: spec.btf, pinRoot: options.pinRoot, parallel: options.parallel !== false });
  for (const { map } of created) owned.push(map);
  for (const [i, mapSpec] of specs.entries()) {
    const { map, reused: wasPinned } = created[i]!;
    maps.set(mapSpec.name, map);
    if (wasPinned) {
      reused.add(mapSpec.name);
      continue;
    }
    const data = mapSpec.kind === "kconfig" ? kconfigData(spec, mapSpec.valueSize, options.kconfig ?? {}, log) : mapSpec.data;
    if (data) {
      const value = new Uint8Array(map.valueBufferSize);
      value.set(data);
      map.updateBytes(new Uint8Array(4), value);
      if (mapSpec.kind === "rodata" || mapSpec.kind === "kconfig") map.freeze();
    }
    // Programs find an arena at the address its first mapping chose: map it before they load.
    if (map instanceof ArenaMap) map.memory;
  }
  for (const mapSpec of spec.maps.values()) {
    if (reused.has(mapSpec.name)) continue;
    for (const slot of mapSpec.slots) {
      if (slot.target.kind !== "map") continue;
      (maps.get(mapSpec.name) as MapOfMaps).set(slot.index, maps.get(slot.target.name)!);
    }
  }
  return maps;
}

/** What loading each program of one object shares. */
interface LoadContext {
  readonly spec: ObjectSpec;
  readonly maps: Map<string, BpfMap<any, any>>;
  readonly btfFd: FD | undefined;
  readonly options: LoadOptions;
  readonly core: CoreRelocator | undefined;
  readonly externs: ExternResolver;
}

/** A program linked and ready for BPF_PROG_LOAD. */
interface PreparedProgram {
  readonly spec: ProgramSpec;
  readonly params: ProgLoadParams;
  readonly linked: LinkedProgram;
}

function prepareProgram({ spec, maps, btfFd, options, core, externs }: LoadContext, program: ProgramSpec): PreparedProgram {
  if (program.type === "struct_ops") {
    throw new NotSupportedError(`struct_ops program "${program.name}"`, "registering struct_ops maps is not implemented yet");
  }
  if (program.type === "unspec") {
    throw new WaggleError(`Cannot load program "${program.name}": section "${program.section}" names no program type; set its spec's type or leave it out`);
  }
  // CO-RE patches a copy: the collection keeps the object's own spec.
  const relocated = core && program.instructions.some((insn) => insn.coreRelocation) ? new ProgramSpec({ ...program, instructions: core.relocate(program) }) : program;
  const linked = linkProgram(
    relocated,
    {
      mapFd: (name) => {
        const map = maps.get(name);
        if (!map) throw new WaggleError(`Cannot link program "${program.name}": it uses map "${name}", which the object does not define`);
        return map.fd.value;
      },
      // func/line info names FUNC types, which a kernel without them never saw.
      withBtfInfo: btfFd !== undefined && btfSupport().funcs,
      resolveExtern: (name) => externs.resolve(name, program.name),
    },
    spec.littleEndian,
  );
  const attach = attachTarget(program);
  const fdArray = externs.fdArray();
  const flags = (program.sectionFlags.includes("sleepable") ? ProgramFlags.SLEEPABLE : 0) | (program.sectionFlags.includes("frags") ? ProgramFlags.XDP_HAS_FRAGS : 0);
  const params: ProgLoadParams = {
    progType: PROGRAM_TYPES[program.type],
    insns: linked.insns,
    license: program.license,
    name: kernelObjectName(program.name),
    kernVersion: program.kernelVersion,
    flags,
    ...(program.expectedAttachType !== undefined && { expectedAttachType: ATTACH_TYPES[program.expectedAttachType] }),
    ...(btfFd !== undefined && { progBtfFd: btfFd.value }),
    ...(linked.funcInfo && { funcInfo: linked.funcInfo, funcInfoRecSize: FUNC_INFO_SIZE }),
    ...(linked.lineInfo && { lineInfo: linked.lineInfo, lineInfoRecSize: LINE_INFO_SIZE }),
    ...(attach !== undefined && { attachBtfId: attach }),
    ...(fdArray && { fdArray }),
    ...(options.logLevel !== undefined && { logLevel: options.logLevel }),
    ...(options.logSize !== undefined && { logSize: options.logSize }),
  };
  return { spec: program, params, linked };
}

/**
 * Whether to verify the programs concurrently (see src/sys/syscall-pool.ts): two or more of them, no
 * log asked for (a log is per load and may need retries), and a spare CPU.
 */
function loadsInParallel(programs: readonly ProgramSpec[], options: LoadOptions): boolean {
  return programs.length > 1 && options.parallel !== false && !options.logLevel && parallelCreateAvailable();
}

/**
 * Wraps a program the parallel attempt loaded (`fd`), or loads it now — with the verifier log on
 * failure, turned into a `VerifierError` that names the C source line.
 */
function loadPrepared({ spec: program, params, linked }: PreparedProgram, fd: FD | undefined): BpfProgram {
  if (fd) return new BpfProgram(fd, program.name, program.type, program, "");
  try {
    const { fd, log } = progLoad(params);
    return new BpfProgram(fd, program.name, program.type, program, log);
  } catch (error) {
    if (!(error instanceof VerifierError) && !isWaggleError(error, "VerifierError")) throw error;
    const e = error as VerifierError;
    const instruction = e.instruction;
    const source = instruction !== undefined ? sourceLineAt(linked.instructions, instruction) : undefined;
    throw new VerifierError(
      program.name,
      e.errno,
      e.log,
      { ...(instruction !== undefined && { instruction }), ...(source && { source }) },
      e.truncated,
    );
  }
}

function needsCore(spec: ObjectSpec, programs: ProgramSpec[]): boolean {
  return spec.btf !== undefined && programs.some((p) => p.instructions.some((insn) => insn.coreRelocation));
}

/** What CO-RE relocates against: the given BTF (and nothing else), or vmlinux then the modules. */
function coreTargets(options: LoadOptions): CoreTargets {
  if (options.kernelBtf) return { main: { btf: options.kernelBtf, name: options.kernelBtf.file ?? "custom BTF" }, modules: () => [] };
  return { main: { btf: kernelBtf(), name: "vmlinux" }, modules: () => kernelModuleBtfs() };
}

/** The kernel BTF id a tracing/LSM/iterator program attaches to, named by its section. */
function attachTarget(program: ProgramSpec): number | undefined {
  if (!program.sectionFlags.includes("attachBtf")) return undefined;
  if (program.attachTo === "") {
    throw new WaggleError(`Cannot load program "${program.name}": section "${program.section}" names no attach target`);
  }
  if (program.type === "ext") {
    throw new NotSupportedError(`freplace program "${program.name}"`, "replacing a BPF function needs a target program, which load() cannot take yet");
  }
  const [name, kind] = attachBtfName(program);
  const btf = kernelBtf(); // never the CO-RE `kernelBtf` option: the id must mean something to this kernel
  const id = btf.find(name, kind);
  if (id === undefined) throw new NotSupportedError(`attach target "${program.attachTo}" of program "${program.name}"`, `the kernel's BTF has no ${kind} "${name}"`);
  return id;
}

/** The BTF name and kind libbpf looks up for each attach type. */
function attachBtfName(program: ProgramSpec): [string, "func" | "typedef"] {
  switch (program.expectedAttachType) {
    case "trace_raw_tp":
      return [`btf_trace_${program.attachTo}`, "typedef"];
    case "lsm_mac":
    case "lsm_cgroup":
      return [`bpf_lsm_${program.attachTo}`, "func"];
    case "trace_iter":
      return [`bpf_iter_${program.attachTo}`, "func"];
    default:
      return [program.attachTo, "func"];
  }
}

function fillProgramSlots(spec: ObjectSpec, maps: Map<string, BpfMap<any, any>>, programs: Map<string, BpfProgram>, log: Logger): void {
  for (const mapSpec of spec.maps.values()) {
    for (const slot of mapSpec.slots) {
      if (slot.target.kind !== "program") continue;
      const program = programs.get(slot.target.name);
      if (!program) {
        log("debug", `map "${mapSpec.name}": slot ${slot.index} stays empty because program "${slot.target.name}" was not loaded`);
        continue;
      }
      (maps.get(mapSpec.name) as ProgramArray).set(slot.index, program);
    }
  }
}

