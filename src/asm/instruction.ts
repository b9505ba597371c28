/**
 * One eBPF instruction: the raw fields of its encoding plus metadata that travels with it through
 * edits — the `symbol` (a label or function name defined at it), the `reference` (the symbol it jumps
 * to, calls or loads, resolved later by `link()` or by the loader), and what the object's .BTF.ext says
 * about it (function type, source line, CO-RE relocation), attached by the object layer.
 *
 * Fields hold exactly the bits of the encoding, so that decode and encode are inverse functions even
 * for instructions the ISA does not define. Setters check ranges, so an Instruction can always be
 * encoded. The 64-bit immediate load (`lddw`, opcode 0x18) is one Instruction that occupies two slots.
 * The getters (`cls`, `operation`, `size`, …) and predicates (`isCall`, `isJump`, …) read the opcode.
 */

import {
  BPF_ATOMIC,
  BPF_CALL,
  BPF_EXIT,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD_IMM64,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_STX,
  CLASS_MASK,
  MODE_MASK,
  OPERATION_MASK,
  SIZE_MASK,
  SOURCE_MASK,
  type InstructionClass,
  type SizeModifier,
  type Source,
} from "./opcodes.js";

/** Where an instruction comes from in C source (a `bpf_line_info` record of .BTF.ext). */
export interface SourceLine {
  /** The file name, as the compiler recorded it. */
  readonly fileName: string;
  /** The text of the source line. */
  readonly line: string;
  /** 1-based line number. */
  readonly lineNumber: number;
  /** 1-based column, 0 when unknown. */
  readonly column: number;
  /** Offset of the file name in the string table of the object's BTF. */
  readonly fileNameOff: number;
  /** Offset of the line's text in the string table of the object's BTF. */
  readonly lineOff: number;
}

/** A CO-RE relocation of an instruction (a `bpf_core_relo` record of .BTF.ext). */
export interface CoreRelocation {
  /** The local BTF type at the root of the access. */
  readonly typeId: number;
  /** The access string, such as `0:1:2`. */
  readonly accessStr: string;
  /** What the relocation computes (`enum bpf_core_relo_kind`). */
  readonly kind: number;
}

/** The fields of an instruction; all but `opcode` default to 0 or absent. */
export interface InstructionFields {
  /** The opcode byte. */
  readonly opcode: number;
  /** Destination register field (0–15; registers are 0–10). */
  readonly dst?: number;
  /** Source register field (0–15), or a pseudo source for calls and 64-bit loads. */
  readonly src?: number;
  /** Signed 16-bit offset. */
  readonly offset?: number;
  /** 32-bit immediate; values from 2^31 to 2^32-1 are stored as their two's complement. */
  readonly imm?: number;
  /** The second slot's immediate of a 64-bit load (its high 32 bits). */
  readonly imm2?: number;
  /** A label or function name defined at this instruction. */
  readonly symbol?: string;
  /** The symbol this instruction jumps to, calls or loads. */
  readonly reference?: string;
  /** The BTF id of the FUNC type of the function that starts here. */
  readonly funcType?: number;
  /** The C source line the instruction comes from. */
  readonly line?: SourceLine;
  /** The CO-RE relocation the loader must apply to the instruction. */
  readonly coreRelocation?: CoreRelocation;
}

const MAP_SOURCES: ReadonlySet<number> = new Set([
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
]);
const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;
const REGISTER_FIELD_MAX = 0x0f;
const OPCODE_MAX = 0xff;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

function checkInteger(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot set instruction ${field} to ${value}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Marks constructor calls whose fields need no range checks; module-private, so users cannot pass it. */
const TRUSTED: unique symbol = Symbol("trusted instruction fields");

/** One eBPF instruction (a 64-bit immediate load is one instruction of two slots). */
export class Instruction {
  #opcode = 0;
  #dst = 0;
  #src = 0;
  #offset = 0;
  #imm = 0;
  #imm2 = 0;
  /** A label or function name defined at this instruction. */
  symbol: string | undefined;
  /** The symbol this instruction jumps to, calls or loads, resolved by `link()` or the loader. */
  reference: string | undefined;
  /** The BTF id of the FUNC type of the function that starts here (.BTF.ext func info). */
  funcType: number | undefined;
  /** The C source line the instruction comes from (.BTF.ext line info). */
  line: SourceLine | undefined;
  /** The CO-RE relocation the loader must apply to the instruction (.BTF.ext). */
  coreRelocation: CoreRelocation | undefined;

  constructor(fields: InstructionFields, trusted?: typeof TRUSTED) {
    if (trusted === TRUSTED) {
      // Fields from decoded bytes or another Instruction are in range already: skip the checks.
      this.#opcode = fields.opcode;
      this.#dst = fields.dst ?? 0;
      this.#src = fields.src ?? 0;
      this.#offset = fields.offset ?? 0;
      this.#imm = fields.imm ?? 0;
      this.#imm2 = fields.imm2 ?? 0;
    } else {
      this.opcode = fields.opcode;
      this.dst = fields.dst ?? 0;
      this.src = fields.src ?? 0;
      this.offset = fields.offset ?? 0;
      this.imm = fields.imm ?? 0;
      this.imm2 = fields.imm2 ?? 0;
    }
    this.symbol = fields.symbol;
    this.reference = fields.reference;
    this.funcType = fields.funcType;
    this.line = fields.line;
    this.coreRelocation = fields.coreRelocation;
  }

  /** The opcode byte. */
  get opcode(): number {
    return this.#opcode;
  }
  set opcode(value: number) {
    this.#opcode = checkInteger("opcode", value, 0, OPCODE_MAX);
  }

  /** The destination register field (4 bits). */
  get dst(): number {
    return this.#dst;
  }
  set dst(value: number) {
    this.#dst = checkInteger("dst", value, 0, REGISTER_FIELD_MAX);
  }

  /** The source register field (4 bits), also the pseudo source of calls and 64-bit loads. */
  get src(): number {
    return this.#src;
  }
  set src(value: number) {
    this.#src = checkInteger("src", value, 0, REGISTER_FIELD_MAX);
  }

  /** The signed 16-bit offset. */
  get offset(): number {
    return this.#offset;
  }
  set offset(value: number) {
    this.#offset = checkInteger("offset", value, INT16_MIN, INT16_MAX);
  }

  /** The signed 32-bit immediate. Assigning 2^31 to 2^32-1 stores the same bits (0xffffffff reads back as -1). */
  get imm(): number {
    return this.#imm;
  }
  set imm(value: number) {
    this.#imm = checkInteger("imm", value, INT32_MIN, UINT32_MAX) | 0;
  }

  /** The immediate of a 64-bit load's second slot: the high 32 bits of {@link constant64}. Not encoded for other instructions. */
  get imm2(): number {
    return this.#imm2;
  }
  set imm2(value: number) {
    this.#imm2 = checkInteger("imm2", value, INT32_MIN, UINT32_MAX) | 0;
  }

  /**
   * The 64-bit constant of a 64-bit load, `(imm2 << 32) | (imm >>> 0)`, read as a signed value.
   * Assigning accepts -2^63 to 2^64-1 and stores the low and high halves in `imm` and `imm2`.
   */
  get constant64(): bigint {
    return BigInt.asIntN(64, (BigInt(this.#imm2) << 32n) | BigInt(this.#imm >>> 0));
  }
  set constant64(value: bigint) {
    if (value < INT64_MIN || value > UINT64_MAX) {
      throw new RangeError(`Cannot set a 64-bit constant to ${value}: it does not fit in 64 bits`);
    }
    this.#imm = Number(BigInt.asIntN(32, value));
    this.#imm2 = Number(BigInt.asIntN(32, value >> 32n));
  }

  /** How many 8-byte slots the instruction occupies: 2 for a 64-bit immediate load, else 1. */
  get slots(): 1 | 2 {
    return this.isLdImm64 ? 2 : 1;
  }

  /** The instruction class (BPF_LD … BPF_ALU64). */
  get cls(): InstructionClass {
    return (this.#opcode & CLASS_MASK) as InstructionClass;
  }

  /** The operation code of an arithmetic or jump instruction (BPF_ADD … BPF_END, or BPF_JA … BPF_JCOND). */
  get operation(): number {
    return this.#opcode & OPERATION_MASK;
  }

  /** The operation of an arithmetic instruction (BPF_ADD … BPF_END); the same bits as {@link operation}. */
  get aluOp(): number {
    return this.operation;
  }

  /** The operation of a jump instruction (BPF_JA … BPF_JCOND); the same bits as {@link operation}. */
  get jmpOp(): number {
    return this.operation;
  }

  /** The source bit of an arithmetic or jump instruction: BPF_K (immediate) or BPF_X (register). */
  get source(): Source {
    return (this.#opcode & SOURCE_MASK) as Source;
  }

  /** The size of a load or store (BPF_W, BPF_H, BPF_B, BPF_DW). */
  get size(): SizeModifier {
    return (this.#opcode & SIZE_MASK) as SizeModifier;
  }

  /** The mode of a load or store (BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM, BPF_MEMSX, BPF_ATOMIC). */
  get mode(): number {
    return this.#opcode & MODE_MASK;
  }

  /** True for the two-slot 64-bit immediate load (`lddw`, opcode 0x18), whatever its pseudo source. */
  get isLdImm64(): boolean {
    return this.#opcode === BPF_LD_IMM64;
  }

  /** True for a 64-bit load of a function's address, for a callback (src BPF_PSEUDO_FUNC). */
  get isPseudoFunc(): boolean {
    return this.isLdImm64 && this.#src === BPF_PSEUDO_FUNC;
  }

  /**
   * True for a 64-bit load of a map or of an address in a map's value, by fd (src BPF_PSEUDO_MAP_FD,
   * BPF_PSEUDO_MAP_VALUE) or by index (BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE).
   */
  get isMapReference(): boolean {
    return this.isLdImm64 && MAP_SOURCES.has(this.#src);
  }

  /** True for a call of any kind: helper, local function or kfunc (not `callx`). */
  get isCall(): boolean {
    return this.#opcode === (BPF_JMP | BPF_CALL);
  }

  /** True for a call of a helper function by number. */
  get isHelperCall(): boolean {
    return this.isCall && this.#src === 0;
  }

  /** True for a call of a local (BPF-to-BPF) function. */
  get isPseudoCall(): boolean {
    return this.isCall && this.#src === BPF_PSEUDO_CALL;
  }

  /** True for a call of a kernel function by BTF id. */
  get isKfuncCall(): boolean {
    return this.isCall && this.#src === BPF_PSEUDO_KFUNC_CALL;
  }

  /** True for `exit`. */
  get isExit(): boolean {
    return this.#opcode === (BPF_JMP | BPF_EXIT);
  }

  /** True for every jump: conditional ones, `goto`, `gotol` and `may_goto` (not calls or exit). */
  get isJump(): boolean {
    const cls = this.cls;
    if (cls !== BPF_JMP && cls !== BPF_JMP32) return false;
    const op = this.operation;
    return op !== BPF_CALL && op !== BPF_EXIT && op <= BPF_JCOND;
  }

  /** True for the long jump `gotol`, whose displacement is in imm rather than offset. */
  get isLongJump(): boolean {
    return this.#opcode === (BPF_JMP32 | BPF_JA);
  }

  /** The displacement in slots of a jump, from the next instruction: imm for `gotol`, offset for the others. */
  get jumpOffset(): number {
    return this.isLongJump ? this.#imm : this.#offset;
  }

  /** True for atomic memory operations (BPF_STX | BPF_ATOMIC), including load-acquire and store-release. */
  get isAtomic(): boolean {
    return this.cls === BPF_STX && this.mode === BPF_ATOMIC;
  }

  /** A copy with the same fields and metadata. */
  clone(): Instruction {
    return new Instruction(this.fields(), TRUSTED);
  }

  /** @internal An instruction from fields known to be in range (the decoder's), built without checks. */
  static trusted(fields: InstructionFields): Instruction {
    return new Instruction(fields, TRUSTED);
  }

  /** The fields and metadata as a plain object, for spreading into a modified copy or comparing. */
  fields(): InstructionFields {
    return {
      opcode: this.#opcode,
      dst: this.#dst,
      src: this.#src,
      offset: this.#offset,
      imm: this.#imm,
      imm2: this.#imm2,
      symbol: this.symbol,
      reference: this.reference,
      funcType: this.funcType,
      line: this.line,
      coreRelocation: this.coreRelocation,
    };
  }
}
