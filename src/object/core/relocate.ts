/**
 * Applying CO-RE relocations to a program: for each instruction carrying a `.BTF.ext` CO-RE record,
 * resolve the access against the target BTF (every candidate type must agree, else the relocation is
 * ambiguous), then patch the instruction — an immediate, a memory offset (and its access size when a
 * field changed size safely), or a 64-bit constant. A relocation nothing satisfies *poisons* its
 * instruction (a call to helper 0xbad2310): harmless if the program never reaches it (guarded by a
 * `bpf_core_field_exists()` check), and reported by the verifier with the source line if it does.
 *
 * Pure: a function of the programs, their object's BTF and the target BTFs.
 */

import { BPF_LD_IMM64 } from "../../asm/index.js";
import { CoreReloKind, type Btf, type TypeId } from "../../btf/index.js";
import type { Instruction } from "../../asm/index.js";
import { CoreRelocationError } from "../../errors.js";
import type { ProgramSpec } from "../program-spec.js";
import { calculate, type SideValue } from "./calculate.js";
import { findCandidates, type Candidate, type CoreTargets } from "./candidates.js";
import { matchSpec, parseSpec, relocationFamily, type CoreSpec } from "./core-spec.js";

/** The helper id a poisoned instruction calls: the verifier reports `invalid func unknown#195896080`. */
export const POISON_HELPER = 0xbad2310;

/** What a relocation resolved to. */
export interface CoreResolution {
  readonly kind: CoreReloKind;
  /** The compiler's value (from the object's own BTF). */
  readonly local: SideValue;
  /** The value for the target; `value` undefined means poison. */
  readonly target: SideValue;
  /** A memory access whose size would have to change unsafely: poisoned instead. */
  readonly unsafeSizeChange: boolean;
}

/** A resolution, or why the record cannot be resolved (ambiguous or malformed). */
type Outcome = CoreResolution | { readonly error: string };

/** Finished sessions, per target and object BTF, by the ordered list of records they resolved. */
const sessions = new WeakMap<Btf, WeakMap<Btf, Map<string, Map<string, Outcome>>>>();

/** Unnarrowed candidate lists, per target and object BTF, by local type id. */
const candidateCache = new WeakMap<Btf, WeakMap<Btf, Map<TypeId, readonly Candidate[]>>>();

function cachedIn<V>(outer: WeakMap<Btf, WeakMap<Btf, V>>, a: Btf, b: Btf, make: () => V): V {
  let inner = outer.get(a);
  if (!inner) outer.set(a, (inner = new WeakMap()));
  let value = inner.get(b);
  if (value === undefined) inner.set(b, (value = make()));
  return value;
}

const recordKey = (r: { typeId: TypeId; accessStr: string; kind: number }): string => `${r.typeId}:${r.accessStr}:${r.kind}`;

/**
 * CO-RE for one load: resolves the CO-RE records of the programs being loaded, in order, the way
 * libbpf does. Every record narrows its local type's candidate list to the candidates it matched
 * (unless it matched none), and later records only consider what is left — so two accesses that can
 * only be satisfied by *different* flavors of a type are not silently resolved against both.
 * The results are cached per (target, object BTF, records), so loading an object again costs a lookup.
 */
export class CoreRelocator {
  readonly #outcomes: Map<string, Outcome>;

  constructor(
    readonly local: Btf,
    readonly targets: CoreTargets,
    programs: Iterable<ProgramSpec>,
  ) {
    const records = new Map<string, { typeId: TypeId; accessStr: string; kind: number }>();
    for (const program of programs) {
      for (const insn of program.instructions) {
        const record = insn.coreRelocation;
        if (record) records.set(recordKey(record), record);
      }
    }
    const signature = [...records.keys()].join("|");
    const perRecords = cachedIn(sessions, targets.main.btf, local, () => new Map<string, Map<string, Outcome>>());
    let outcomes = perRecords.get(signature);
    if (!outcomes) {
      outcomes = this.#resolveAll(records);
      perRecords.set(signature, outcomes);
    }
    this.#outcomes = outcomes;
  }

  #resolveAll(records: Map<string, { typeId: TypeId; accessStr: string; kind: number }>): Map<string, Outcome> {
    const all = cachedIn(candidateCache, this.targets.main.btf, this.local, () => new Map<TypeId, readonly Candidate[]>());
    const narrowed = new Map<TypeId, readonly Candidate[]>();
    const candidatesOf = (typeId: TypeId): readonly Candidate[] => {
      let list = narrowed.get(typeId) ?? all.get(typeId);
      if (!list) all.set(typeId, (list = findCandidates(this.local, typeId, this.targets)));
      return list;
    };
    const outcomes = new Map<string, Outcome>();
    for (const [key, r] of records) {
      try {
        const { resolution, matched } = compute(this.local, r.typeId, r.accessStr, r.kind as CoreReloKind, this.targets.main.btf.littleEndian, candidatesOf);
        if (matched && matched.length > 0) narrowed.set(r.typeId, matched);
        outcomes.set(key, resolution);
      } catch (error) {
        outcomes.set(key, { error: `${(error as Error).message} (type [${r.typeId}], access "${r.accessStr}")` });
      }
    }
    return outcomes;
  }

  /**
   * A copy of the program's instructions with every CO-RE relocation applied. Instructions without a
   * relocation are shared with the spec, the others are copies.
   *
   * @throws CoreRelocationError for malformed or ambiguous relocations and instructions that do not
   *   hold the value the compiler should have put there.
   */
  relocate(program: ProgramSpec): Instruction[] {
    const known = program.instructions.every((insn) => !insn.coreRelocation || this.#outcomes.has(recordKey(insn.coreRelocation)));
    // A program the relocator was not built for has its records resolved on their own.
    const outcomes = known ? this.#outcomes : new CoreRelocator(this.local, this.targets, [program]).#outcomes;
    let slot = 0;
    return program.instructions.flatMap((insn) => {
      const at = slot;
      slot += insn.slots;
      const record = insn.coreRelocation;
      if (!record) return [insn];
      const outcome = outcomes.get(recordKey(record))!;
      if ("error" in outcome) throw new CoreRelocationError(program.name, at, outcome.error);
      if (outcome.target.value === undefined || (outcome.unsafeSizeChange && isMemoryAccess(insn))) return poisoned(insn);
      const patched = insn.clone();
      const problem = patchInstruction(patched, outcome);
      if (problem) throw new CoreRelocationError(program.name, at, problem);
      return [patched];
    });
  }
}

/** Resolves one relocation record on its own (no narrowing). Throws Error for ambiguous or malformed records. */
export function resolveRelocation(local: Btf, typeId: TypeId, access: string, kind: CoreReloKind, targets: CoreTargets): CoreResolution {
  return compute(local, typeId, access, kind, targets.main.btf.littleEndian, (id) => findCandidates(local, id, targets)).resolution;
}

function compute(
  local: Btf,
  typeId: TypeId,
  access: string,
  kind: CoreReloKind,
  littleEndian: boolean,
  candidatesOf: (id: TypeId) => readonly Candidate[],
): { resolution: CoreResolution; matched?: Candidate[] } {
  const localSpec = parseSpec(local, typeId, access, kind);
  const localValue = calculate(kind, localSpec, local.littleEndian);
  if (kind === CoreReloKind.TYPE_ID_LOCAL) {
    return { resolution: { kind, local: localValue, target: localValue, unsafeSizeChange: false } };
  }
  if (local.type(typeId).name === "") throw new Error("CO-RE relocations against anonymous types are not supported");

  let chosen: { spec: CoreSpec; value: SideValue } | undefined;
  const matched: Candidate[] = [];
  for (const candidate of candidatesOf(typeId)) {
    const spec = matchSpec(localSpec, candidate.target.btf, candidate.id);
    if (!spec) continue;
    matched.push(candidate);
    const value = calculate(kind, spec, littleEndian);
    if (!chosen) {
      chosen = { spec, value };
      continue;
    }
    if (relocationFamily(kind) === "field" && spec.bitOffset !== chosen.spec.bitOffset) {
      throw new Error(`field offset is ambiguous: candidates give bit offsets ${chosen.spec.bitOffset} and ${spec.bitOffset}`);
    }
    if (value.value !== chosen.value.value) {
      throw new Error(`relocation is ambiguous: candidates give ${describe(chosen.value)} and ${describe(value)}`);
    }
  }
  const target = chosen?.value ?? calculate(kind, undefined, littleEndian);
  return { resolution: { kind, local: localValue, target, unsafeSizeChange: unsafeSizeChange(localSpec, chosen?.spec, localValue, target) }, matched };
}

function describe(v: SideValue): string {
  return v.value === undefined ? "failure" : String(v.value);
}

/**
 * A load or store must change size with its field only when that keeps the value right: pointers
 * (the kernel's may be 32-bit) and unsigned integers (zero extension preserves them).
 */
function unsafeSizeChange(localSpec: CoreSpec, targetSpec: CoreSpec | undefined, local: SideValue, target: SideValue): boolean {
  if (!targetSpec || local.fieldSize === target.fieldSize) return false;
  const l = localSpec.btf.type(local.fieldType);
  const t = targetSpec.btf.type(target.fieldType);
  if (l.kind === "ptr" && t.kind === "ptr") return false;
  if (l.kind === "int" && t.kind === "int" && !l.signed && !t.signed) return false;
  return true;
}

/** Patches one instruction in place with a resolved (not poisoned) value; returns a problem, or undefined. */
export function patchInstruction(insn: Instruction, r: CoreResolution): string | undefined {
  const expected = r.local.value!;
  const value = r.target.value!;
  const cls = insn.opcode & 0x07;
  switch (cls) {
    case 0x04: // ALU
    case 0x07: // ALU64
      if ((insn.opcode & 0x08) !== 0) return "the instruction uses a register operand, not an immediate";
      if (r.local.validate && BigInt(insn.imm) !== expected && BigInt(insn.imm >>> 0) !== expected) {
        return `the instruction holds ${insn.imm}, not the expected ${expected}`;
      }
      insn.imm = Number(BigInt.asIntN(32, value));
      return undefined;
    case 0x01: // LDX
    case 0x02: // ST
    case 0x03: // STX
      if (r.local.validate && BigInt(insn.offset) !== expected) return `the instruction's offset is ${insn.offset}, not the expected ${expected}`;
      if (value > 0x7fffn) return `offset ${value} does not fit a memory instruction`;
      insn.offset = Number(value);
      if (r.local.fieldSize !== r.target.fieldSize) {
        const size = SIZE_BITS.get(r.target.fieldSize);
        if (BYTES_OF_SIZE.get(insn.opcode & 0x18) !== r.local.fieldSize) return `the memory access is not ${r.local.fieldSize} bytes wide`;
        if (size === undefined) return `a ${r.target.fieldSize}-byte access is impossible`;
        insn.opcode = (insn.opcode & ~0x18) | size;
      }
      return undefined;
    case 0x00: // LD
      if (insn.opcode !== BPF_LD_IMM64 || insn.src !== 0 || insn.offset !== 0) return "the 64-bit immediate load has an unexpected form";
      if (r.local.validate && BigInt.asUintN(64, insn.constant64) !== expected) return `the instruction holds ${insn.constant64}, not the expected ${expected}`;
      insn.constant64 = value;
      return undefined;
    default:
      return `instruction opcode 0x${insn.opcode.toString(16)} cannot be relocated`;
  }
}

const SIZE_BITS = new Map([[1, 0x10], [2, 0x08], [4, 0x00], [8, 0x18]]);
const BYTES_OF_SIZE = new Map([[0x10, 1], [0x08, 2], [0x00, 4], [0x18, 8]]);

function isMemoryAccess(insn: Instruction): boolean {
  const cls = insn.opcode & 0x07;
  return cls === 0x01 || cls === 0x02 || cls === 0x03;
}

/**
 * The instruction replaced by a call of a helper that does not exist; an ld_imm64 becomes two such
 * calls, so that every later instruction keeps its slot and jumps stay right.
 */
function poisoned(insn: Instruction): Instruction[] {
  const call = insn.clone();
  call.opcode = 0x85; // BPF_JMP | BPF_CALL
  call.dst = 0;
  call.src = 0;
  call.offset = 0;
  call.imm = POISON_HELPER;
  call.imm2 = 0;
  call.coreRelocation = undefined;
  if (!insn.isLdImm64) return [call];
  const second = call.clone();
  second.symbol = undefined;
  second.line = undefined;
  second.funcType = undefined;
  return [call, second];
}
