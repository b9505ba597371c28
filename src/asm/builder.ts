/**
 * The program builder: writes eBPF with methods named after the ISA's operations, labels for jump
 * targets and local functions, and named references for maps. `build()` links the labels into offsets.
 * Tests, the assembler and (later) the TypeScript compiler build programs with it.
 *
 * Operands are registers (`R1`, or the string `"r1"`) or immediates (numbers), so `mov(R1, R2)` copies a
 * register and `mov(R1, 2)` loads a constant. Methods ending in 32 operate on the low 32 bits (llvm's
 * `w` registers) and zero the upper half. Memory sizes are the C types llvm prints: `"u8"` … `"u64"`.
 * Argument order follows the kernel's instruction macros: `ldx(size, dst, src, offset)`,
 * `st(size, dst, offset, imm)`, `stx(size, dst, src, offset)`.
 *
 * @example
 * const insns = new ProgramBuilder()
 *   .loadMap(R1, "counts")
 *   .mov(R2, FP).add(R2, -4)
 *   .call("bpf_map_lookup_elem")
 *   .jeq(R0, 0, "out")
 *   .ldx("u64", R1, R0, 0).add(R1, 1).stx("u64", R0, R1, 0)
 *   .label("out")
 *   .mov(R0, 0)
 *   .exit()
 *   .build();
 */

import { helperId } from "./helpers.js";
import { Instruction } from "./instruction.js";
import { isCodeReference, link } from "./link.js";
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LD_IMM64,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_MAY_GOTO,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  BPF_ST,
  BPF_STORE_REL,
  BPF_STX,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_X,
  BPF_XCHG,
  BPF_CMPXCHG,
  ADDRESS_SPACE_BITS,
  ADDRESS_SPACE_MASK,
  BPF_ADDR_SPACE_CAST,
  MOVSX_OFFSETS,
  SWAP_WIDTHS,
} from "./opcodes.js";
import {
  ALU_OPERATIONS,
  ATOMIC_OPERATIONS,
  JUMP_CONDITIONS,
  MEMORY_SIZES,
  SIGNED_SIZES,
  type AluOperation,
  type AtomicOperation,
  type JumpCondition,
  type MemorySize,
  type SignedSize,
} from "./operations.js";
import { registerNumber, type Register } from "./registers.js";

/** A second operand: a register, or an immediate. */
export type Operand = Register | number;

/** Where a jump goes: a label, or a displacement in slots counted from the next instruction. */
export type JumpTarget = string | number;

/** Options of {@link ProgramBuilder.atomic}. */
export interface AtomicOptions {
  /** Also return the old value in src (implied by xchg and cmpxchg). */
  readonly fetch?: boolean;
}

const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const UINT32_MAX = 0xffff_ffff;

/** Builds a program instruction by instruction; every method but {@link build} returns the builder. */
export class ProgramBuilder {
  readonly #instructions: Instruction[] = [];
  /** Labels waiting for the next instruction. */
  #pending: string[] = [];
  readonly #defined = new Set<string>();
  /** Labels defined at an instruction that already has a symbol, mapped to that symbol. */
  readonly #aliases = new Map<string, string>();

  /** Defines a label at the next instruction. Several labels may mark the same instruction. */
  label(name: string): this {
    if (typeof name !== "string" || name === "") throw new TypeError("Cannot define a label without a name");
    if (this.#defined.has(name)) throw new RangeError(`Cannot define label "${name}": it is already defined`);
    this.#defined.add(name);
    this.#pending.push(name);
    return this;
  }

  /** Appends copies of ready-made instructions, keeping their symbols and references. */
  emit(...instructions: Instruction[]): this {
    for (const instruction of instructions) this.#push(instruction.clone());
    return this;
  }

  /**
   * The program: copies of the instructions with every label jump, local call and function load
   * linked (see `link()`). The builder can go on growing afterwards.
   *
   * @throws RangeError when a label marks no instruction, or a jump does not reach its label.
   * @throws FormatError when a jump or call names an undefined label.
   */
  build(): Instruction[] {
    if (this.#pending.length > 0) {
      throw new RangeError(`Cannot build the program: label "${this.#pending[0]}" is not followed by an instruction`);
    }
    const program = this.#instructions.map((instruction) => {
      const copy = instruction.clone();
      const alias = copy.reference === undefined ? undefined : this.#aliases.get(copy.reference);
      if (alias !== undefined && isCodeReference(copy)) copy.reference = alias;
      return copy;
    });
    link(program);
    return program;
  }

  // ─── Arithmetic ──────────────────────────────────────────────────────────────────────────────────

  /** An arithmetic operation on 64 bits: `dst op= src`. */
  alu(operation: AluOperation, dst: Register, src: Operand): this {
    return this.#alu(BPF_ALU64, operation, dst, src);
  }
  /** An arithmetic operation on 32 bits: `wDst op= wSrc`. */
  alu32(operation: AluOperation, dst: Register, src: Operand): this {
    return this.#alu(BPF_ALU, operation, dst, src);
  }

  /** `dst = src` */
  mov(dst: Register, src: Operand): this {
    return this.alu("mov", dst, src);
  }
  /** `wDst = wSrc` (zeroes the upper half) */
  mov32(dst: Register, src: Operand): this {
    return this.alu32("mov", dst, src);
  }
  /** `dst += src` */
  add(dst: Register, src: Operand): this {
    return this.alu("add", dst, src);
  }
  /** `wDst += wSrc` */
  add32(dst: Register, src: Operand): this {
    return this.alu32("add", dst, src);
  }
  /** `dst -= src` */
  sub(dst: Register, src: Operand): this {
    return this.alu("sub", dst, src);
  }
  /** `wDst -= wSrc` */
  sub32(dst: Register, src: Operand): this {
    return this.alu32("sub", dst, src);
  }
  /** `dst *= src` */
  mul(dst: Register, src: Operand): this {
    return this.alu("mul", dst, src);
  }
  /** `wDst *= wSrc` */
  mul32(dst: Register, src: Operand): this {
    return this.alu32("mul", dst, src);
  }
  /** `dst /= src`, unsigned; 0 when src is 0 */
  div(dst: Register, src: Operand): this {
    return this.alu("div", dst, src);
  }
  /** `wDst /= wSrc`, unsigned */
  div32(dst: Register, src: Operand): this {
    return this.alu32("div", dst, src);
  }
  /** `dst s/= src`, signed (cpu v4) */
  sdiv(dst: Register, src: Operand): this {
    return this.alu("sdiv", dst, src);
  }
  /** `wDst s/= wSrc`, signed (cpu v4) */
  sdiv32(dst: Register, src: Operand): this {
    return this.alu32("sdiv", dst, src);
  }
  /** `dst %= src`, unsigned; dst unchanged when src is 0 */
  mod(dst: Register, src: Operand): this {
    return this.alu("mod", dst, src);
  }
  /** `wDst %= wSrc`, unsigned */
  mod32(dst: Register, src: Operand): this {
    return this.alu32("mod", dst, src);
  }
  /** `dst s%= src`, signed (cpu v4) */
  smod(dst: Register, src: Operand): this {
    return this.alu("smod", dst, src);
  }
  /** `wDst s%= wSrc`, signed (cpu v4) */
  smod32(dst: Register, src: Operand): this {
    return this.alu32("smod", dst, src);
  }
  /** `dst |= src` */
  or(dst: Register, src: Operand): this {
    return this.alu("or", dst, src);
  }
  /** `wDst |= wSrc` */
  or32(dst: Register, src: Operand): this {
    return this.alu32("or", dst, src);
  }
  /** `dst &= src` */
  and(dst: Register, src: Operand): this {
    return this.alu("and", dst, src);
  }
  /** `wDst &= wSrc` */
  and32(dst: Register, src: Operand): this {
    return this.alu32("and", dst, src);
  }
  /** `dst ^= src` */
  xor(dst: Register, src: Operand): this {
    return this.alu("xor", dst, src);
  }
  /** `wDst ^= wSrc` */
  xor32(dst: Register, src: Operand): this {
    return this.alu32("xor", dst, src);
  }
  /** `dst <<= src` */
  lsh(dst: Register, src: Operand): this {
    return this.alu("lsh", dst, src);
  }
  /** `wDst <<= wSrc` */
  lsh32(dst: Register, src: Operand): this {
    return this.alu32("lsh", dst, src);
  }
  /** `dst >>= src`, logical */
  rsh(dst: Register, src: Operand): this {
    return this.alu("rsh", dst, src);
  }
  /** `wDst >>= wSrc`, logical */
  rsh32(dst: Register, src: Operand): this {
    return this.alu32("rsh", dst, src);
  }
  /** `dst s>>= src`, arithmetic */
  arsh(dst: Register, src: Operand): this {
    return this.alu("arsh", dst, src);
  }
  /** `wDst s>>= wSrc`, arithmetic */
  arsh32(dst: Register, src: Operand): this {
    return this.alu32("arsh", dst, src);
  }

  /** `dst = -dst` */
  neg(dst: Register): this {
    return this.#push(new Instruction({ opcode: BPF_ALU64 | BPF_NEG | BPF_K, dst: registerNumber(dst) }));
  }
  /** `wDst = -wDst` */
  neg32(dst: Register): this {
    return this.#push(new Instruction({ opcode: BPF_ALU | BPF_NEG | BPF_K, dst: registerNumber(dst) }));
  }

  /** `dst = (s8|s16|s32)src`: move the low `bits` of src, sign-extended (cpu v4). */
  movsx(dst: Register, src: Register, bits: 8 | 16 | 32): this {
    return this.#movsx(BPF_ALU64, dst, src, bits);
  }
  /** `wDst = (s8|s16)wSrc`: move the low `bits` of src, sign-extended to 32 bits (cpu v4). */
  movsx32(dst: Register, src: Register, bits: 8 | 16): this {
    return this.#movsx(BPF_ALU, dst, src, bits);
  }

  /**
   * `dst = addr_space_cast(src, toSpace, fromSpace)`: convert an arena pointer between address spaces
   * (1 is the arena's, 0 the kernel's; kernel 6.9).
   */
  addrSpaceCast(dst: Register, src: Register, toSpace: number, fromSpace: number): this {
    for (const space of [toSpace, fromSpace]) {
      if (!Number.isInteger(space) || space < 0 || space > ADDRESS_SPACE_MASK) {
        throw new RangeError(`Cannot cast to address space ${space}: expected an integer from 0 to ${ADDRESS_SPACE_MASK}`);
      }
    }
    const instruction = new Instruction({
      opcode: BPF_ALU64 | BPF_MOV | BPF_X,
      dst: registerNumber(dst),
      src: registerNumber(src),
      offset: BPF_ADDR_SPACE_CAST,
    });
    instruction.imm = toSpace * 2 ** ADDRESS_SPACE_BITS + fromSpace;
    return this.#push(instruction);
  }

  /** `dst = bswap16|32|64 dst`: reverse the bytes of the low `bits` unconditionally (cpu v4). */
  bswap(dst: Register, bits: 16 | 32 | 64): this {
    return this.#swap(BPF_ALU64 | BPF_END | BPF_TO_LE, dst, bits);
  }
  /** `dst = le16|32|64 dst`: convert the low `bits` between host order and little endian. */
  le(dst: Register, bits: 16 | 32 | 64): this {
    return this.#swap(BPF_ALU | BPF_END | BPF_TO_LE, dst, bits);
  }
  /** `dst = be16|32|64 dst`: convert the low `bits` between host order and big endian. */
  be(dst: Register, bits: 16 | 32 | 64): this {
    return this.#swap(BPF_ALU | BPF_END | BPF_TO_BE, dst, bits);
  }

  // ─── Memory ──────────────────────────────────────────────────────────────────────────────────────

  /** `dst = *(size *)(src + offset)`, zero-extended. */
  ldx(size: MemorySize, dst: Register, src: Register, offset: number): this {
    return this.#memory(BPF_LDX | BPF_MEM | MEMORY_SIZES[size], dst, src, offset);
  }
  /** `dst = *(s8|s16|s32 *)(src + offset)`, sign-extended (cpu v4). */
  ldxsx(size: SignedSize, dst: Register, src: Register, offset: number): this {
    return this.#memory(BPF_LDX | BPF_MEMSX | SIGNED_SIZES[size], dst, src, offset);
  }
  /** `*(size *)(dst + offset) = imm` */
  st(size: MemorySize, dst: Register, offset: number, imm: number): this {
    const instruction = this.#memoryInstruction(BPF_ST | BPF_MEM | MEMORY_SIZES[size], dst, "r0", offset);
    instruction.imm = immediate(imm, size !== "u64");
    return this.#push(instruction);
  }
  /** `*(size *)(dst + offset) = src` */
  stx(size: MemorySize, dst: Register, src: Register, offset: number): this {
    return this.#memory(BPF_STX | BPF_MEM | MEMORY_SIZES[size], dst, src, offset);
  }

  /**
   * An atomic read-modify-write of `*(size *)(dst + offset)` with src: add, or, and, xor (returning the
   * old value in src with `{ fetch: true }`), xchg (swap with src) or cmpxchg (store src if the memory
   * equals r0; r0 gets the old value).
   */
  atomic(operation: AtomicOperation, size: "u32" | "u64", dst: Register, src: Register, offset: number, options: AtomicOptions = {}): this {
    const instruction = this.#memoryInstruction(BPF_STX | BPF_ATOMIC | MEMORY_SIZES[size], dst, src, offset);
    const imm = ATOMIC_OPERATIONS[operation];
    const alwaysFetches = imm === BPF_XCHG || imm === BPF_CMPXCHG;
    instruction.imm = options.fetch === true && !alwaysFetches ? imm | BPF_FETCH : imm;
    return this.#push(instruction);
  }
  /** `dst = load_acquire((size *)(src + offset))` (kernel 6.15). */
  loadAcquire(size: MemorySize, dst: Register, src: Register, offset: number): this {
    const instruction = this.#memoryInstruction(BPF_STX | BPF_ATOMIC | MEMORY_SIZES[size], dst, src, offset);
    instruction.imm = BPF_LOAD_ACQ;
    return this.#push(instruction);
  }
  /** `store_release((size *)(dst + offset), src)` (kernel 6.15). */
  storeRelease(size: MemorySize, dst: Register, src: Register, offset: number): this {
    const instruction = this.#memoryInstruction(BPF_STX | BPF_ATOMIC | MEMORY_SIZES[size], dst, src, offset);
    instruction.imm = BPF_STORE_REL;
    return this.#push(instruction);
  }

  /** Legacy packet load `r0 = *(size *)skb[imm]` (socket filters only). */
  ldabs(size: "u8" | "u16" | "u32", imm: number): this {
    return this.#push(new Instruction({ opcode: BPF_LD | BPF_ABS | MEMORY_SIZES[size], imm: immediate(imm, true) }));
  }
  /** Legacy packet load `r0 = *(size *)skb[src + imm]` (socket filters only). */
  ldind(size: "u8" | "u16" | "u32", src: Register, imm: number): this {
    return this.#push(
      new Instruction({ opcode: BPF_LD | BPF_IND | MEMORY_SIZES[size], src: registerNumber(src), imm: immediate(imm, true) }),
    );
  }

  // ─── 64-bit immediates ───────────────────────────────────────────────────────────────────────────

  /** `dst = value ll`: load a 64-bit constant (two slots). */
  lddw(dst: Register, value: bigint | number): this {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      throw new RangeError(`Cannot load ${value} as a 64-bit constant: pass a bigint or a safe integer`);
    }
    const instruction = new Instruction({ opcode: BPF_LD_IMM64, dst: registerNumber(dst) });
    instruction.constant64 = BigInt(value);
    return this.#push(instruction);
  }
  /**
   * A 64-bit load with a pseudo source (`BPF_PSEUDO_MAP_FD` …), which the kernel turns into an address:
   * `imm` and `nextImm` mean what the source says (map fd, BTF id, map index, value offset…).
   */
  ldPseudo(dst: Register, source: number, imm: number, nextImm = 0, reference?: string): this {
    const instruction = new Instruction({ opcode: BPF_LD_IMM64, dst: registerNumber(dst), src: source, reference });
    instruction.imm = immediate(imm, true);
    instruction.imm2 = immediate(nextImm, true);
    return this.#push(instruction);
  }
  /** `dst = map[name]`: the address of a map, resolved by the loader (BPF_PSEUDO_MAP_FD). */
  loadMap(dst: Register, map: string): this {
    return this.ldPseudo(dst, BPF_PSEUDO_MAP_FD, 0, 0, map);
  }
  /** `dst = map_value[name] + offset`: an address in a map's value, such as a global variable (BPF_PSEUDO_MAP_VALUE). */
  loadMapValue(dst: Register, map: string, offset = 0): this {
    return this.ldPseudo(dst, BPF_PSEUDO_MAP_VALUE, 0, offset, map);
  }
  /** `dst = func[label]`: the address of a local function, for callbacks (BPF_PSEUDO_FUNC). */
  loadFunc(dst: Register, label: string): this {
    return this.ldPseudo(dst, BPF_PSEUDO_FUNC, 0, 0, label);
  }

  // ─── Jumps ───────────────────────────────────────────────────────────────────────────────────────

  /** A conditional jump comparing 64 bits: `if dst op src goto target`. */
  jump(condition: JumpCondition, dst: Register, src: Operand, target: JumpTarget): this {
    return this.#jump(BPF_JMP, condition, dst, src, target);
  }
  /** A conditional jump comparing the low 32 bits: `if wDst op wSrc goto target`. */
  jump32(condition: JumpCondition, dst: Register, src: Operand, target: JumpTarget): this {
    return this.#jump(BPF_JMP32, condition, dst, src, target);
  }

  /** `if dst == src goto target` */
  jeq(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jeq", dst, src, target);
  }
  /** `if wDst == wSrc goto target` */
  jeq32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jeq", dst, src, target);
  }
  /** `if dst != src goto target` */
  jne(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jne", dst, src, target);
  }
  /** `if wDst != wSrc goto target` */
  jne32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jne", dst, src, target);
  }
  /** `if dst > src goto target`, unsigned */
  jgt(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jgt", dst, src, target);
  }
  /** `if wDst > wSrc goto target`, unsigned */
  jgt32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jgt", dst, src, target);
  }
  /** `if dst >= src goto target`, unsigned */
  jge(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jge", dst, src, target);
  }
  /** `if wDst >= wSrc goto target`, unsigned */
  jge32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jge", dst, src, target);
  }
  /** `if dst < src goto target`, unsigned */
  jlt(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jlt", dst, src, target);
  }
  /** `if wDst < wSrc goto target`, unsigned */
  jlt32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jlt", dst, src, target);
  }
  /** `if dst <= src goto target`, unsigned */
  jle(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jle", dst, src, target);
  }
  /** `if wDst <= wSrc goto target`, unsigned */
  jle32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jle", dst, src, target);
  }
  /** `if dst s> src goto target`, signed */
  jsgt(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jsgt", dst, src, target);
  }
  /** `if wDst s> wSrc goto target`, signed */
  jsgt32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jsgt", dst, src, target);
  }
  /** `if dst s>= src goto target`, signed */
  jsge(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jsge", dst, src, target);
  }
  /** `if wDst s>= wSrc goto target`, signed */
  jsge32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jsge", dst, src, target);
  }
  /** `if dst s< src goto target`, signed */
  jslt(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jslt", dst, src, target);
  }
  /** `if wDst s< wSrc goto target`, signed */
  jslt32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jslt", dst, src, target);
  }
  /** `if dst s<= src goto target`, signed */
  jsle(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jsle", dst, src, target);
  }
  /** `if wDst s<= wSrc goto target`, signed */
  jsle32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jsle", dst, src, target);
  }
  /** `if dst & src goto target` */
  jset(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump("jset", dst, src, target);
  }
  /** `if wDst & wSrc goto target` */
  jset32(dst: Register, src: Operand, target: JumpTarget): this {
    return this.jump32("jset", dst, src, target);
  }

  /** `goto target`: an unconditional jump within ±32767 slots. */
  ja(target: JumpTarget): this {
    return this.#push(this.#target(new Instruction({ opcode: BPF_JMP | BPF_JA }), target));
  }
  /** `gotol target`: an unconditional jump with a 32-bit displacement (cpu v4). */
  gotol(target: JumpTarget): this {
    return this.#push(this.#target(new Instruction({ opcode: BPF_JMP32 | BPF_JA }), target));
  }
  /** `may_goto target`: jump once the kernel's loop budget is spent (kernel 6.9). */
  mayGoto(target: JumpTarget): this {
    return this.#push(this.#target(new Instruction({ opcode: BPF_JMP | BPF_JCOND, src: BPF_MAY_GOTO }), target));
  }

  // ─── Calls ───────────────────────────────────────────────────────────────────────────────────────

  /** `call helper`: call a helper by id or name (`"bpf_map_lookup_elem"` or `"map_lookup_elem"`). */
  call(helper: number | string): this {
    const id = typeof helper === "number" ? immediate(helper, false) : helperId(helper);
    if (id === undefined) throw new RangeError(`Cannot call helper "${helper}": no helper has that name`);
    return this.#push(new Instruction({ opcode: BPF_JMP | BPF_CALL, imm: id }));
  }
  /** `call label`: call a local function defined by a label (BPF_PSEUDO_CALL). */
  callLocal(label: string): this {
    return this.#push(new Instruction({ opcode: BPF_JMP | BPF_CALL, src: BPF_PSEUDO_CALL, reference: label }));
  }
  /** Call a kernel function by BTF id, or by name for the loader to resolve (BPF_PSEUDO_KFUNC_CALL). */
  callKfunc(kfunc: number | string): this {
    const instruction = new Instruction({ opcode: BPF_JMP | BPF_CALL, src: BPF_PSEUDO_KFUNC_CALL });
    if (typeof kfunc === "number") instruction.imm = immediate(kfunc, false);
    else instruction.reference = kfunc;
    return this.#push(instruction);
  }
  /** `callx reg`: call the address in a register (llvm's encoding puts it in dst; Linux does not run it). */
  callx(target: Register): this {
    return this.#push(new Instruction({ opcode: BPF_JMP | BPF_CALL | BPF_X, dst: registerNumber(target) }));
  }
  /** `exit`: return r0. */
  exit(): this {
    return this.#push(new Instruction({ opcode: BPF_JMP | BPF_EXIT }));
  }

  // ─── Internals ───────────────────────────────────────────────────────────────────────────────────

  #push(instruction: Instruction): this {
    if (this.#pending.length > 0) {
      const symbol = instruction.symbol ?? this.#pending[0]!;
      for (const label of this.#pending) if (label !== symbol) this.#aliases.set(label, symbol);
      if (instruction.symbol !== undefined) this.#define(instruction.symbol);
      instruction.symbol = symbol;
      this.#pending = [];
    } else if (instruction.symbol !== undefined) {
      this.#define(instruction.symbol);
    }
    this.#instructions.push(instruction);
    return this;
  }

  #define(symbol: string): void {
    if (this.#defined.has(symbol)) throw new RangeError(`Cannot define label "${symbol}": it is already defined`);
    this.#defined.add(symbol);
  }

  #alu(cls: typeof BPF_ALU | typeof BPF_ALU64, operation: AluOperation, dst: Register, src: Operand): this {
    const { code, offset } = ALU_OPERATIONS[operation];
    const instruction = new Instruction({ opcode: cls | code, dst: registerNumber(dst), offset });
    return this.#push(withOperand(instruction, src, cls === BPF_ALU));
  }

  #movsx(cls: typeof BPF_ALU | typeof BPF_ALU64, dst: Register, src: Register, bits: number): this {
    const widths: readonly number[] = cls === BPF_ALU64 ? MOVSX_OFFSETS : MOVSX_OFFSETS.slice(0, 2);
    if (!widths.includes(bits)) throw new RangeError(`Cannot sign-extend from ${bits} bits: expected ${widths.join(", ")}`);
    return this.#push(
      new Instruction({ opcode: cls | BPF_MOV | BPF_X, dst: registerNumber(dst), src: registerNumber(src), offset: bits }),
    );
  }

  #swap(opcode: number, dst: Register, bits: number): this {
    if (!(SWAP_WIDTHS as readonly number[]).includes(bits)) throw new RangeError(`Cannot swap ${bits} bits: expected 16, 32 or 64`);
    return this.#push(new Instruction({ opcode, dst: registerNumber(dst), imm: bits }));
  }

  #memoryInstruction(opcode: number, dst: Register, src: Register, offset: number): Instruction {
    if (!Number.isInteger(offset) || offset < INT16_MIN || offset > INT16_MAX) {
      throw new RangeError(`Cannot use memory offset ${offset}: expected an integer from ${INT16_MIN} to ${INT16_MAX}`);
    }
    return new Instruction({ opcode, dst: registerNumber(dst), src: registerNumber(src), offset });
  }

  #memory(opcode: number, dst: Register, src: Register, offset: number): this {
    return this.#push(this.#memoryInstruction(opcode, dst, src, offset));
  }

  #jump(cls: typeof BPF_JMP | typeof BPF_JMP32, condition: JumpCondition, dst: Register, src: Operand, target: JumpTarget): this {
    const instruction = new Instruction({ opcode: cls | JUMP_CONDITIONS[condition].code, dst: registerNumber(dst) });
    return this.#push(this.#target(withOperand(instruction, src, cls === BPF_JMP32), target));
  }

  /** Points a jump at a label (linked by build) or a raw displacement. */
  #target(instruction: Instruction, target: JumpTarget): Instruction {
    if (typeof target === "string") {
      instruction.reference = target;
      return instruction;
    }
    if (instruction.isLongJump) {
      instruction.imm = immediate(target, false);
    } else if (Number.isInteger(target) && target >= INT16_MIN && target <= INT16_MAX) {
      instruction.offset = target;
    } else {
      throw new RangeError(`Cannot jump ${target} slots: expected an integer from ${INT16_MIN} to ${INT16_MAX} (use gotol)`);
    }
    return instruction;
  }
}

/** Sets the source bit and the register or immediate of an arithmetic or jump instruction. */
function withOperand(instruction: Instruction, src: Operand, is32: boolean): Instruction {
  if (typeof src === "number") {
    instruction.imm = immediate(src, is32);
  } else {
    instruction.opcode |= BPF_X;
    instruction.src = registerNumber(src);
  }
  return instruction;
}

/**
 * Checks an immediate. 64-bit operations sign-extend imm, so they take -2^31 to 2^31-1; 32-bit ones
 * also take 2^31 to 2^32-1 (stored as the same bits), so that masks such as 0xffffffff read naturally.
 */
function immediate(value: number, is32: boolean): number {
  const max = is32 ? UINT32_MAX : INT32_MAX;
  if (!Number.isInteger(value) || value < INT32_MIN || value > max) {
    throw new RangeError(
      `Cannot use ${value} as an immediate: expected an integer from ${INT32_MIN} to ${max}` +
        (is32 ? "" : " (64-bit operations sign-extend their 32-bit immediate; use lddw for larger constants)"),
    );
  }
  return value | 0;
}
