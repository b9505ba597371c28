/**
 * The disassembler: {@link Instruction}s into text, in one of two syntaxes.
 *
 * - `"llvm"` prints exactly what `llvm-objdump-19 -d --no-show-raw-insn` prints for the same bytes:
 *   `r0 = *(u32 *)(r2 + 0x0)`, `if r0 == 0x0 goto +0x2 <prog+0x58>`, `<unknown>` for what the ISA does
 *   not define. Like llvm it ignores fields an instruction does not use. With `alu32: true` it matches
 *   `llvm-objdump --mattr=+alu32` (or `--mcpu=v3`), which names 32-bit loads and stores with w registers.
 * - `"pretty"`, Waggle's own, is llvm's syntax plus names: `call bpf_map_lookup_elem#1`,
 *   `r1 = map[counts] ll`, `call pc+0x3`, `if r0 == 0x0 goto out` for jumps that carry a reference.
 *   Unlike llvm's it tells local calls from helper calls and keeps the offset of map value loads, so it
 *   survives `assemble()` for every instruction whose unused fields are zero (a reference stands in for
 *   the number it names).
 *
 * Where we knowingly differ from llvm-objdump-19:
 * - 32-bit atomics other than a plain add print in their alu32 form even without alu32; llvm-objdump-19
 *   then prints `<unknown>` for them and drops the fetch flag of `atomic_fetch_add`.
 * - load-acquire and store-release print in the syntax llvm 20 introduced
 *   (`r0 = load_acquire((u64 *)(r1 + 0x0))`); llvm-objdump-19 misreads them as an atomic add or `<unknown>`.
 * - Bit patterns outside the ISA: atomics with an undefined imm and `may_goto` with a non-zero src are
 *   `<unknown>`, where llvm-objdump-19 ignores some of their bits.
 */

import { helperName } from "./helpers.js";
import type { Instruction, SourceLine } from "./instruction.js";
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_JA,
  BPF_JCOND,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_MAY_GOTO,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_OR,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_ST,
  BPF_STORE_REL,
  BPF_STX,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  BPF_XOR,
  INSTRUCTION_SIZE,
  ADDRESS_SPACE_BITS,
  ADDRESS_SPACE_MASK,
  BPF_ADDR_SPACE_CAST,
  MOVSX_OFFSETS,
  SWAP_WIDTHS,
} from "./opcodes.js";
import {
  ALU_OPERATIONS,
  ATOMIC_OPERATORS,
  JUMP_CONDITIONS,
  PSEUDO_LOAD_NAMES,
  PSEUDO_LOADS_WITH_OFFSET,
  memorySizeName,
} from "./operations.js";
import { slotOffsets } from "./slots.js";

/** Options of {@link formatInstruction}. */
export interface FormatOptions {
  /** `"llvm"` (the default) for llvm-objdump's text, `"pretty"` for Waggle's, which adds names. */
  readonly syntax?: "llvm" | "pretty";
  /** Name registers of 32-bit loads and stores `w`, as `llvm-objdump --mattr=+alu32` does. Default false. */
  readonly alu32?: boolean;
}

/** Options of {@link disassemble}. */
export interface DisassembleOptions extends FormatOptions {
  /**
   * The byte offset of the first instruction within its section (default 0). llvm-objdump numbers
   * lines and addresses symbols from the start of the section.
   */
  readonly sectionOffset?: number;
}

/** What llvm prints for bytes that are no instruction. */
const UNKNOWN = "<unknown>";
/** llvm knows r11 (the kernel's hidden auxiliary register), so it prints it like the others. */
const MAX_REGISTER = 11;
const ADDRESS_DIGITS = 16;
const SLOT_COLUMN_WIDTH = 8;
/** The read-modify-write atomics written with an operator, by their imm without BPF_FETCH. */
const ATOMIC_NAMES = new Map<number, keyof typeof ATOMIC_OPERATORS>([
  [BPF_ADD, "add"],
  [BPF_OR, "or"],
  [BPF_AND, "and"],
  [BPF_XOR, "xor"],
]);

interface Context {
  readonly pretty: boolean;
  readonly alu32: boolean;
  /** The `<symbol+0x10>` annotation of a jump's target, when known. */
  readonly annotation?: string;
}

/**
 * One instruction as text, without its address. Jumps carry no `<symbol+offset>` annotation, which
 * needs the surrounding program: use {@link disassemble} for that.
 *
 * @example
 * formatInstruction(insn);                      // "call 0x1"
 * formatInstruction(insn, { syntax: "pretty" }); // "call bpf_map_lookup_elem#1"
 */
export function formatInstruction(instruction: Instruction, options: FormatOptions = {}): string {
  return format(instruction, { pretty: options.syntax === "pretty", alu32: options.alu32 ?? false });
}

/**
 * A program as lines of text laid out like llvm-objdump's: a `0000000000000000 <name>:` header (after a
 * blank line, unless first) for each instruction that defines a symbol, then one line per instruction,
 * `     12:\t<text>`, numbered by slot. Jumps name their target after the nearest preceding symbol,
 * `<prog+0x58>`, as llvm-objdump does. The pretty syntax also shows the C source line an instruction
 * comes from, when it knows it and it changes, as a comment: `; return 0; (prog.c:12)`.
 * `assemble()` reads this layout back.
 *
 * @throws RangeError when `sectionOffset` is not a non-negative multiple of 8.
 * @example
 * console.log(disassemble(insns, { syntax: "pretty" }).join("\n"));
 */
export function disassemble(instructions: readonly Instruction[], options: DisassembleOptions = {}): string[] {
  const sectionOffset = options.sectionOffset ?? 0;
  if (!Number.isSafeInteger(sectionOffset) || sectionOffset < 0 || sectionOffset % INSTRUCTION_SIZE !== 0) {
    throw new RangeError(`Cannot disassemble at section offset ${sectionOffset}: expected a multiple of 8`);
  }
  const firstSlot = sectionOffset / INSTRUCTION_SIZE;
  const slots = slotOffsets(instructions).map((slot) => slot + firstSlot);
  const symbols: { readonly address: bigint; readonly name: string }[] = [];
  instructions.forEach((instruction, i) => {
    if (instruction.symbol !== undefined) symbols.push({ address: BigInt(slots[i]! * INSTRUCTION_SIZE), name: instruction.symbol });
  });

  /** Names a target slot after the last symbol at or before it; llvm computes addresses modulo 2^64. */
  const annotate = (target: bigint): string | undefined => {
    const address = BigInt.asUintN(64, target * BigInt(INSTRUCTION_SIZE));
    let low = 0;
    let high = symbols.length; // symbols[low..high) are the candidates; addresses ascend
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (symbols[middle]!.address <= address) low = middle + 1;
      else high = middle;
    }
    const nearest = symbols[low - 1];
    if (nearest === undefined) return undefined;
    const delta = address - nearest.address;
    return delta === 0n ? nearest.name : `${nearest.name}+0x${delta.toString(16)}`;
  };

  const pretty = options.syntax === "pretty";
  const alu32 = options.alu32 ?? false;
  const lines: string[] = [];
  let source: SourceLine | undefined;
  instructions.forEach((instruction, i) => {
    const slot = slots[i]!;
    if (instruction.symbol !== undefined) {
      if (lines.length > 0) lines.push("");
      const address = (slot * INSTRUCTION_SIZE).toString(16).padStart(ADDRESS_DIGITS, "0");
      lines.push(`${address} <${instruction.symbol}>:`);
    }
    if (pretty && instruction.line !== undefined && !sameSourceLine(instruction.line, source)) {
      source = instruction.line;
      lines.push(`; ${source.line.trim()} (${source.fileName}:${source.lineNumber})`);
    }
    const annotation = instruction.isJump
      ? annotate(BigInt(slot + 1) + BigInt(instruction.jumpOffset))
      : undefined;
    const text = format(instruction, { pretty, alu32, annotation });
    lines.push(`${String(slot).padStart(SLOT_COLUMN_WIDTH)}:\t${text}`);
  });
  return lines;
}

function sameSourceLine(a: SourceLine, b: SourceLine | undefined): boolean {
  return b !== undefined && a.fileName === b.fileName && a.lineNumber === b.lineNumber;
}

function format(insn: Instruction, context: Context): string {
  switch (insn.cls) {
    case BPF_ALU:
    case BPF_ALU64:
      return formatAlu(insn, context);
    case BPF_JMP:
    case BPF_JMP32:
      return formatJump(insn, context);
    case BPF_LD:
      return formatLd(insn, context);
    case BPF_LDX:
      return formatLdx(insn, context);
    case BPF_ST:
      return formatSt(insn, context);
    case BPF_STX:
      return formatStx(insn, context);
  }
}

function unknown(insn: Instruction, context: Context): string {
  if (!context.pretty) return UNKNOWN;
  return `<unknown: opcode ${hex(insn.opcode)}, dst ${insn.dst}, src ${insn.src}, offset ${hex(insn.offset)}, imm ${hex(insn.imm)}>`;
}

/** A register field in llvm's syntax, `r3` or (32-bit) `w3`; undefined for fields above r11. */
function register(field: number, w = false): string | undefined {
  return field > MAX_REGISTER ? undefined : `${w ? "w" : "r"}${field}`;
}

/** A signed hexadecimal number as llvm prints it: `0x10`, `-0x4`. */
function hex(value: number | bigint): string {
  return value < 0 ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/** A jump displacement as llvm prints it: `+0x2`, `-0x3`. */
function displacement(value: number): string {
  return value < 0 ? hex(value) : `+${hex(value)}`;
}

/** A memory operand: `r10 - 0x4`. */
function address(base: string, offset: number): string {
  return `${base} ${offset < 0 ? "-" : "+"} ${hex(Math.abs(offset))}`;
}

function formatAlu(insn: Instruction, context: Context): string {
  const is32 = insn.cls === BPF_ALU;
  const dst = register(insn.dst, is32);
  if (dst === undefined) return unknown(insn, context);
  const byRegister = insn.source === BPF_X;
  switch (insn.operation) {
    case BPF_NEG:
      return byRegister ? unknown(insn, context) : `${dst} = -${dst}`;
    case BPF_END: {
      if (!(SWAP_WIDTHS as readonly number[]).includes(insn.imm) || (!is32 && byRegister)) return unknown(insn, context);
      const kind = !is32 ? "bswap" : byRegister ? "be" : "le";
      const whole = register(insn.dst);
      return `${whole} = ${kind}${insn.imm} ${whole}`;
    }
  }
  const src = byRegister ? register(insn.src, is32) : hex(insn.imm);
  if (src === undefined) return unknown(insn, context);
  if (insn.operation === BPF_MOV && byRegister && insn.offset !== 0) {
    if (!is32 && insn.offset === BPF_ADDR_SPACE_CAST) {
      const spaces = insn.imm >>> 0;
      return `${dst} = addr_space_cast(${src}, ${hex(spaces >>> ADDRESS_SPACE_BITS)}, ${hex(spaces & ADDRESS_SPACE_MASK)})`;
    }
    const widths: readonly number[] = is32 ? MOVSX_OFFSETS.slice(0, 2) : MOVSX_OFFSETS;
    return widths.includes(insn.offset) ? `${dst} = (s${insn.offset})${src}` : unknown(insn, context);
  }
  const operation = Object.values(ALU_OPERATIONS).find((o) => o.code === insn.operation && o.offset === insn.offset);
  return operation === undefined ? unknown(insn, context) : `${dst} ${operation.operator} ${src}`;
}

function formatJump(insn: Instruction, context: Context): string {
  const is32 = insn.cls === BPF_JMP32;
  const byRegister = insn.source === BPF_X;
  switch (insn.operation) {
    case BPF_JA:
      if (byRegister) return unknown(insn, context);
      return is32 ? `gotol ${jumpTarget(insn, context)}` : `goto ${jumpTarget(insn, context)}`;
    case BPF_CALL: {
      if (is32) return unknown(insn, context);
      if (!byRegister) return formatCall(insn, context);
      const target = register(insn.dst);
      return target === undefined ? unknown(insn, context) : `callx ${target}`;
    }
    case BPF_EXIT:
      return is32 || byRegister || insn.imm !== 0 ? unknown(insn, context) : "exit";
    case BPF_JCOND:
      return is32 || byRegister || insn.src !== BPF_MAY_GOTO
        ? unknown(insn, context)
        : `may_goto ${jumpTarget(insn, context)}`;
  }
  const condition = Object.values(JUMP_CONDITIONS).find((c) => c.code === insn.operation);
  const dst = register(insn.dst, is32);
  const src = byRegister ? register(insn.src, is32) : hex(insn.imm);
  if (condition === undefined || dst === undefined || src === undefined) return unknown(insn, context);
  return `if ${dst} ${condition.operator} ${src} goto ${jumpTarget(insn, context)}`;
}

function jumpTarget(insn: Instruction, context: Context): string {
  if (context.pretty && insn.reference !== undefined) return insn.reference;
  const text = displacement(insn.jumpOffset);
  return context.annotation === undefined ? text : `${text} <${context.annotation}>`;
}

function formatCall(insn: Instruction, context: Context): string {
  if (!context.pretty) return `call ${hex(insn.imm)}`;
  switch (insn.src) {
    case 0: {
      const name = helperName(insn.imm);
      return name === undefined ? `call ${hex(insn.imm)}` : `call ${name}#${insn.imm}`;
    }
    case BPF_PSEUDO_CALL:
      return `call ${insn.reference ?? `pc${displacement(insn.imm)}`}`;
    case BPF_PSEUDO_KFUNC_CALL:
      return `call kfunc[${insn.reference ?? hex(insn.imm)}]`;
    default:
      return unknown(insn, context);
  }
}

function formatLd(insn: Instruction, context: Context): string {
  if (insn.isLdImm64) return insn.offset === 0 ? formatLdImm64(insn, context) : unknown(insn, context);
  if (insn.size === BPF_DW) return unknown(insn, context);
  const type = memorySizeName(insn.size);
  switch (insn.mode) {
    case BPF_ABS:
      return `r0 = *(${type} *)skb[${hex(insn.imm)}]`;
    case BPF_IND: {
      const src = register(insn.src);
      return src === undefined ? unknown(insn, context) : `r0 = *(${type} *)skb[${src}]`;
    }
    default:
      return unknown(insn, context);
  }
}

function formatLdImm64(insn: Instruction, context: Context): string {
  const dst = register(insn.dst);
  if (dst === undefined) return unknown(insn, context);
  if (insn.src === 0) {
    const constant = insn.constant64;
    if (!context.pretty || insn.reference === undefined) return `${dst} = ${hex(constant)} ll`;
    const addend = constant === 0n ? "" : ` ${constant < 0n ? "-" : "+"} ${hex(constant < 0n ? -constant : constant)}`;
    return `${dst} = ${insn.reference}${addend} ll`;
  }
  const name = PSEUDO_LOAD_NAMES[insn.src];
  if (!context.pretty || name === undefined) return `ld_pseudo\t${dst}, ${hex(insn.src)}, ${hex(insn.imm >>> 0)}`;
  const offset = PSEUDO_LOADS_WITH_OFFSET.has(insn.src) && insn.imm2 !== 0 ? ` + ${hex(insn.imm2)}` : "";
  return `${dst} = ${name}[${insn.reference ?? hex(insn.imm)}]${offset} ll`;
}

function formatLdx(insn: Instruction, context: Context): string {
  const wide = insn.size === BPF_DW;
  const src = register(insn.src);
  if (src === undefined) return unknown(insn, context);
  switch (insn.mode) {
    case BPF_MEM: {
      const dst = register(insn.dst, context.alu32 && !wide);
      if (dst === undefined) return unknown(insn, context);
      return `${dst} = *(${memorySizeName(insn.size)} *)(${address(src, insn.offset)})`;
    }
    case BPF_MEMSX: {
      const dst = register(insn.dst);
      if (dst === undefined || wide) return unknown(insn, context);
      return `${dst} = *(s${memorySizeName(insn.size).slice(1)} *)(${address(src, insn.offset)})`;
    }
    default:
      return unknown(insn, context);
  }
}

function formatSt(insn: Instruction, context: Context): string {
  const dst = register(insn.dst);
  if (insn.mode !== BPF_MEM || dst === undefined) return unknown(insn, context);
  return `*(${memorySizeName(insn.size)} *)(${address(dst, insn.offset)}) = ${hex(insn.imm)}`;
}

function formatStx(insn: Instruction, context: Context): string {
  const wide = insn.size === BPF_DW;
  const dst = register(insn.dst);
  if (dst === undefined) return unknown(insn, context);
  switch (insn.mode) {
    case BPF_MEM: {
      const src = register(insn.src, context.alu32 && !wide);
      if (src === undefined) return unknown(insn, context);
      return `*(${memorySizeName(insn.size)} *)(${address(dst, insn.offset)}) = ${src}`;
    }
    case BPF_ATOMIC:
      return formatAtomic(insn, context);
    default:
      return unknown(insn, context);
  }
}

function formatAtomic(insn: Instruction, context: Context): string {
  const wide = insn.size === BPF_DW;
  const type = memorySizeName(insn.size);
  if (insn.dst > MAX_REGISTER || insn.src > MAX_REGISTER) return unknown(insn, context);
  if (insn.imm === BPF_LOAD_ACQ) {
    // Like a load: dst receives, src holds the address.
    return `${register(insn.dst, !wide)} = load_acquire((${type} *)(${address(`r${insn.src}`, insn.offset)}))`;
  }
  const memory = address(`r${insn.dst}`, insn.offset);
  const src = `${wide ? "r" : "w"}${insn.src}`;
  if (insn.imm === BPF_STORE_REL) return `store_release((${type} *)(${memory}), ${src})`;
  if (!wide && insn.size !== BPF_W) return unknown(insn, context);
  const r0 = wide ? "r0" : "w0";
  switch (insn.imm) {
    case BPF_XCHG:
      return `${src} = ${wide ? "xchg_64" : "xchg32_32"}(${memory}, ${src})`;
    case BPF_CMPXCHG:
      return `${r0} = ${wide ? "cmpxchg_64" : "cmpxchg32_32"}(${memory}, ${r0}, ${src})`;
  }
  const name = ATOMIC_NAMES.get(insn.imm & ~BPF_FETCH);
  if (name === undefined) return unknown(insn, context);
  if ((insn.imm & BPF_FETCH) !== 0) return `${src} = atomic_fetch_${name}((${type} *)(${memory}), ${src})`;
  // Without alu32 llvm names the register of a 32-bit atomic add r, not w.
  const operand = !wide && name === "add" && !context.alu32 ? `r${insn.src}` : src;
  return `lock *(${type} *)(${memory}) ${ATOMIC_OPERATORS[name].operator} ${operand}`;
}
