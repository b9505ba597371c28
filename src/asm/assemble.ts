/**
 * The assembler: text in llvm's BPF syntax — as `disassemble()` and llvm-objdump print it, or as
 * written in inline asm — into linked {@link Instruction}s. It also reads Waggle's pretty syntax
 * (`call bpf_map_lookup_elem#1`, `call pc+0x3`, `r1 = map[counts] ll`), labels (`out:`, or
 * llvm-objdump's `0000000000000000 <prog>:`), jumps to labels (`goto out`), llvm-objdump's line
 * numbers (`  12:\t…`) and its `<prog+0x58>` annotations, which it ignores. Comments start with `//`,
 * `;` or a `#` that follows a space.
 *
 * One line is one instruction; each is parsed by the first rule of {@link RULES} that matches, and
 * written with the {@link ProgramBuilder}, which links the labels at the end.
 *
 * llvm's syntax prints local calls like helper calls (`call 0x3`), so assembling it yields a helper
 * call; the pretty syntax keeps them apart. Apart from that, `assemble(disassemble(insns))` encodes to
 * the same bytes as `insns` for every instruction whose unused fields are zero.
 */

import { FormatError } from "../errors.js";
import { ProgramBuilder } from "./builder.js";
import { helperId, helperName } from "./helpers.js";
import { Instruction } from "./instruction.js";
import { BPF_CALL, BPF_JMP, BPF_LD_IMM64, BPF_PSEUDO_CALL } from "./opcodes.js";
import {
  ALU_OPERATIONS,
  ATOMIC_OPERATORS,
  JUMP_CONDITIONS,
  PSEUDO_LOAD_NAMES,
  type AluOperation,
  type JumpCondition,
  type MemorySize,
  type SignedSize,
} from "./operations.js";
import { isRegister, registerNumber, type Register } from "./registers.js";

/**
 * Assembles text into instructions.
 *
 * @throws FormatError when a line cannot be parsed or encoded (the message gives its number), a label
 *   marks no instruction, or a jump names an undefined label or does not reach it.
 * @example
 * const insns = assemble(`
 *   r0 = 0x0
 *   if r1 == 0x0 goto out
 *   r0 = 0x1
 * out:
 *   exit
 * `);
 */
export function assemble(text: string): Instruction[] {
  const builder = new ProgramBuilder();
  text.split("\n").forEach((raw, index) => {
    const line = normalize(raw);
    if (line !== "") withLocation(`line ${index + 1}`, () => write(builder, line));
  });
  return withLocation("at the end", () => builder.build());
}

/** Reports the builder's complaints about the text (RangeError, TypeError) as FormatErrors saying where. */
function withLocation<T>(where: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (!(error instanceof SyntaxError || error instanceof RangeError || error instanceof TypeError)) throw error;
    throw new FormatError("assembly", `${where}: ${error.message}`, {}, { cause: error });
  }
}

/** Writes one non-empty line: a label or an instruction. */
function write(builder: ProgramBuilder, line: string): void {
  const label = LABEL.exec(line) ?? OBJDUMP_SYMBOL.exec(line);
  if (label !== null) {
    builder.label(label[1]!);
    return;
  }
  const statement = line.replace(OBJDUMP_LINE_NUMBER, "").replace(JUMP_ANNOTATION, "$1");
  for (const [pattern, writeInstruction] of RULES) {
    const match = pattern.exec(statement);
    if (match !== null) {
      writeInstruction(builder, match.slice(1));
      return;
    }
  }
  throw new SyntaxError(`"${statement}" is no instruction`);
}

// ─── Lines ─────────────────────────────────────────────────────────────────────────────────────────

const COMMENT = /\/\/.*$|;.*$|(?:^|\s)#.*$/;
const LABEL = /^([A-Za-z_.$][\w.$]*):$/;
const OBJDUMP_SYMBOL = /^[0-9a-f]+ <(.+)>:$/;
const OBJDUMP_LINE_NUMBER = /^\d+: /;
const JUMP_ANNOTATION = /((?:goto|gotol|may_goto) \S+) <[^<>]*>$/;

/** Strips the comment, trims, and collapses runs of whitespace (llvm prints a tab after `ld_pseudo`). */
function normalize(line: string): string {
  return line.replace(COMMENT, "").trim().replace(/\s+/g, " ");
}

// ─── Operands ──────────────────────────────────────────────────────────────────────────────────────

const REG = String.raw`([rw]\d+)`;
const NUM = String.raw`(-?(?:0x[0-9a-fA-F]+|\d+))`;
const NAME = String.raw`([A-Za-z_.$][\w.$]*)`;
const OPERAND = String.raw`([rw]\d+|-?(?:0x[0-9a-fA-F]+|\d+))`;
const TARGET = String.raw`([+-](?:0x[0-9a-fA-F]+|\d+)|[A-Za-z_.$][\w.$]*)`;
/** A memory operand `r1 + 0x8`: base register, sign, magnitude. */
const MEM = String.raw`([rw]\d+) ([+-]) (0x[0-9a-fA-F]+|\d+)`;
const TYPE = "(u8|u16|u32|u64)";

/** A decimal or hexadecimal number with an optional sign (`Number()` rejects `+0x2`). */
function number(text: string): number {
  const magnitude = Number(/^[+-]/.test(text) ? text.slice(1) : text);
  return text.startsWith("-") ? -magnitude : magnitude;
}

function bigNumber(text: string): bigint {
  return text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text);
}

interface ParsedRegister {
  readonly register: Register;
  /** Written as a 32-bit `w` register. */
  readonly w: boolean;
}

function reg(text: string): ParsedRegister {
  const register = `r${text.slice(1)}`;
  if (!isRegister(register)) throw new SyntaxError(`"${text}" is no register`);
  return { register, w: text.startsWith("w") };
}

/** The register or immediate of a second operand. */
function operand(text: string): Register | number {
  return /^[rw]/.test(text) ? reg(text).register : number(text);
}

/** The width of an operation written with the registers `dst` and `src`: 32 for `w`, 64 for `r`. */
function is32(dst: ParsedRegister, src: string): boolean {
  if (/^[rw]/.test(src) && reg(src).w !== dst.w) throw new SyntaxError("registers mix r and w");
  return dst.w;
}

function offset(sign: string, magnitude: string): number {
  return sign === "-" ? -number(magnitude) : number(magnitude);
}

function target(text: string): string | number {
  return /^[+-]/.test(text) ? number(text) : text;
}

function byOperator<T extends string>(table: Readonly<Record<T, { readonly operator: string }>>, operator: string): T {
  const found = (Object.keys(table) as T[]).find((name) => table[name].operator === operator);
  if (found === undefined) throw new SyntaxError(`"${operator}" is no operator`);
  return found;
}

// ─── Rules ─────────────────────────────────────────────────────────────────────────────────────────

type Rule = readonly [RegExp, (builder: ProgramBuilder, groups: string[]) => void];

function rule(pattern: string, write: (builder: ProgramBuilder, groups: string[]) => void): Rule {
  return [new RegExp(`^${pattern}$`), write];
}

/** The instruction forms, most specific first. */
const RULES: readonly Rule[] = [
  rule("exit", (b) => b.exit()),
  rule(String.raw`callx ${REG}`, (b, [r]) => b.callx(reg(r!).register)),
  rule(String.raw`call (.+)`, (b, [callee]) => call(b, callee!)),
  rule(String.raw`goto ${TARGET}`, (b, [t]) => b.ja(target(t!))),
  rule(String.raw`gotol ${TARGET}`, (b, [t]) => b.gotol(target(t!))),
  rule(String.raw`may_goto ${TARGET}`, (b, [t]) => b.mayGoto(target(t!))),
  rule(String.raw`if ${REG} (==|!=|>=|<=|>|<|s>=|s<=|s>|s<|&) ${OPERAND} goto ${TARGET}`, (b, [d, op, s, t]) => {
    const dst = reg(d!);
    const condition: JumpCondition = byOperator(JUMP_CONDITIONS, op!);
    if (is32(dst, s!)) b.jump32(condition, dst.register, operand(s!), target(t!));
    else b.jump(condition, dst.register, operand(s!), target(t!));
  }),
  rule(String.raw`${REG} = \*\((u8|u16|u32|u64) \*\)\(${MEM}\)`, (b, [d, type, s, sign, off]) => {
    const dst = reg(d!);
    if (dst.w && type === "u64") throw new SyntaxError("a 64-bit load needs an r register");
    b.ldx(type as MemorySize, dst.register, reg(s!).register, offset(sign!, off!));
  }),
  rule(String.raw`${REG} = \*\((s8|s16|s32) \*\)\(${MEM}\)`, (b, [d, type, s, sign, off]) =>
    b.ldxsx(type as SignedSize, reg(d!).register, reg(s!).register, offset(sign!, off!)),
  ),
  rule(String.raw`r0 = \*\((u8|u16|u32) \*\)skb\[${OPERAND}\]`, (b, [type, source]) => {
    const size = type as "u8" | "u16" | "u32";
    const at = operand(source!);
    if (typeof at === "number") b.ldabs(size, at);
    else b.ldind(size, at, 0);
  }),
  rule(String.raw`\*\(${TYPE} \*\)\(${MEM}\) = ${OPERAND}`, (b, [type, d, sign, off, s]) => {
    const size = type as MemorySize;
    const value = operand(s!);
    if (typeof value === "number") b.st(size, reg(d!).register, offset(sign!, off!), value);
    else b.stx(size, reg(d!).register, value, offset(sign!, off!));
  }),
  rule(String.raw`lock \*\((u32|u64) \*\)\(${MEM}\) (\+|\||&|\^)= ${REG}`, (b, [type, d, sign, off, op, s]) =>
    b.atomic(byOperator(ATOMIC_OPERATORS, `${op}=`), type as "u32" | "u64", reg(d!).register, reg(s!).register, offset(sign!, off!)),
  ),
  rule(String.raw`${REG} = atomic_fetch_(add|or|and|xor)\(\((u32|u64) \*\)\(${MEM}\), ${REG}\)`, (b, [r, op, type, d, sign, off, s]) => {
    sameRegister(r!, s!);
    b.atomic(op as "add", type as "u32" | "u64", reg(d!).register, reg(s!).register, offset(sign!, off!), { fetch: true });
  }),
  rule(String.raw`${REG} = (xchg_64|xchg32_32)\(${MEM}, ${REG}\)`, (b, [r, name, d, sign, off, s]) => {
    sameRegister(r!, s!);
    b.atomic("xchg", name === "xchg_64" ? "u64" : "u32", reg(d!).register, reg(s!).register, offset(sign!, off!));
  }),
  rule(String.raw`${REG} = (cmpxchg_64|cmpxchg32_32)\(${MEM}, ${REG}, ${REG}\)`, (b, [r, name, d, sign, off, expected, s]) => {
    sameRegister(r!, "r0");
    sameRegister(expected!, "r0");
    b.atomic("cmpxchg", name === "cmpxchg_64" ? "u64" : "u32", reg(d!).register, reg(s!).register, offset(sign!, off!));
  }),
  rule(String.raw`${REG} = load_acquire\(\(${TYPE} \*\)\(${MEM}\)\)`, (b, [d, type, s, sign, off]) =>
    b.loadAcquire(type as MemorySize, reg(d!).register, reg(s!).register, offset(sign!, off!)),
  ),
  rule(String.raw`store_release\(\(${TYPE} \*\)\(${MEM}\), ${REG}\)`, (b, [type, d, sign, off, s]) =>
    b.storeRelease(type as MemorySize, reg(d!).register, reg(s!).register, offset(sign!, off!)),
  ),
  rule(String.raw`ld_pseudo ${REG}, ${NUM}, ${NUM}`, (b, [d, source, imm]) =>
    b.ldPseudo(reg(d!).register, number(source!), number(imm!)),
  ),
  rule(String.raw`${REG} = ${NUM} ll`, (b, [d, value]) => b.lddw(reg(d!).register, bigNumber(value!))),
  rule(String.raw`${REG} = (\w+)\[(?:${NAME}|${NUM})\](?: \+ ${NUM})? ll`, (b, [d, kind, name, imm, next]) => {
    const source = Object.entries(PSEUDO_LOAD_NAMES).find(([, written]) => written === kind)?.[0];
    if (source === undefined) throw new SyntaxError(`"${kind}" is no kind of 64-bit load`);
    b.ldPseudo(reg(d!).register, Number(source), imm === undefined ? 0 : number(imm), next === undefined ? 0 : number(next), name);
  }),
  rule(String.raw`${REG} = ${NAME}(?: ([+-]) ${NUM})? ll`, (b, [d, name, sign, addend]) => {
    // A symbol's address, relocated by the loader: llvm-mc's syntax for a 64-bit load with a relocation.
    const instruction = new Instruction({ opcode: BPF_LD_IMM64, dst: registerNumber(reg(d!).register), reference: name });
    if (addend !== undefined) instruction.constant64 = sign === "-" ? -bigNumber(addend) : bigNumber(addend);
    b.emit(instruction);
  }),
  rule(String.raw`${REG} = -${REG}`, (b, [d, s]) => {
    sameRegister(d!, s!);
    const dst = reg(d!);
    if (dst.w) b.neg32(dst.register);
    else b.neg(dst.register);
  }),
  rule(String.raw`r(\d+) = (be|le|bswap)(16|32|64) r(\d+)`, (b, [d, kind, bits, s]) => {
    sameRegister(`r${d}`, `r${s}`);
    const dst = reg(`r${d}`).register;
    const width = Number(bits) as 16 | 32 | 64;
    if (kind === "be") b.be(dst, width);
    else if (kind === "le") b.le(dst, width);
    else b.bswap(dst, width);
  }),
  rule(String.raw`${REG} = addr_space_cast\(${REG}, ${NUM}, ${NUM}\)`, (b, [d, s, to, from]) =>
    b.addrSpaceCast(reg(d!).register, reg(s!).register, number(to!), number(from!)),
  ),
  rule(String.raw`${REG} = \((s8|s16|s32)\)${REG}`, (b, [d, type, s]) => {
    const dst = reg(d!);
    const bits = Number(type!.slice(1)) as 8 | 16 | 32;
    if (!is32(dst, s!)) b.movsx(dst.register, reg(s!).register, bits);
    else if (bits === 32) throw new SyntaxError("a 32-bit move cannot sign-extend from 32 bits");
    else b.movsx32(dst.register, reg(s!).register, bits);
  }),
  rule(String.raw`${REG} (\+|-|\*|/|\||&|<<|>>|%|\^|s/|s%|s>>)?= ${OPERAND}`, (b, [d, op, s]) => {
    const dst = reg(d!);
    const operation: AluOperation = byOperator(ALU_OPERATIONS, `${op ?? ""}=`);
    if (is32(dst, s!)) b.alu32(operation, dst.register, operand(s!));
    else b.alu(operation, dst.register, operand(s!));
  }),
];

/** Checks that two spellings name the same register number (`r2` and `w2` do). */
function sameRegister(a: string, b: string): void {
  if (a.slice(1) !== b.slice(1)) throw new SyntaxError(`${a} and ${b} must be the same register`);
}

const CALL_PC = new RegExp(String.raw`^pc([+-](?:0x[0-9a-fA-F]+|\d+))$`);
const CALL_KFUNC = new RegExp(String.raw`^kfunc\[(?:${NAME}|${NUM})\]$`);
const CALL_NAMED_HELPER = new RegExp(String.raw`^${NAME}#(\d+)$`);
const CALL_NUMBER = new RegExp(`^${NUM}$`);
const CALL_NAME = new RegExp(`^${NAME}$`);

/** The callee forms: `0x1`, `bpf_map_lookup_elem#1`, `bpf_map_lookup_elem`, `pc+0x3`, `kfunc[…]`, `label`. */
function call(builder: ProgramBuilder, callee: string): void {
  const pseudo = CALL_PC.exec(callee);
  const kfunc = CALL_KFUNC.exec(callee);
  const named = CALL_NAMED_HELPER.exec(callee);
  if (pseudo !== null) {
    builder.emit(new Instruction({ opcode: BPF_JMP | BPF_CALL, src: BPF_PSEUDO_CALL, imm: number(pseudo[1]!) }));
  } else if (kfunc !== null) {
    builder.callKfunc(kfunc[1] ?? number(kfunc[2]!));
  } else if (named !== null) {
    const id = number(named[2]!);
    const known = helperName(id);
    if (known !== undefined && known !== named[1]) throw new SyntaxError(`helper ${id} is ${known}, not ${named[1]}`);
    builder.call(id);
  } else if (CALL_NUMBER.test(callee)) {
    builder.call(number(callee));
  } else if (!CALL_NAME.test(callee)) {
    throw new SyntaxError(`"${callee}" is no function`);
  } else if (callee.startsWith("bpf_") && helperId(callee) !== undefined) {
    // Helpers go by their full name; any other name is a local function.
    builder.call(callee);
  } else {
    builder.callLocal(callee);
  }
}
