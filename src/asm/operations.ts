/**
 * The named operations of the instruction set, each with its encoding and its operator in llvm's
 * assembly syntax. The builder looks up encodings by name, the disassembler operators by encoding and
 * the assembler names by operator, so the three cannot disagree.
 */

import {
  BPF_ADD,
  BPF_AND,
  BPF_ARSH,
  BPF_B,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_H,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_LSH,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_OR,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_RSH,
  BPF_SUB,
  BPF_W,
  BPF_XCHG,
  BPF_XOR,
  SIGNED_DIVISION_OFFSET,
  type SizeModifier,
} from "./opcodes.js";

/** An arithmetic operation that takes a register or an immediate as its second operand. */
export type AluOperation =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "sdiv"
  | "mod"
  | "smod"
  | "or"
  | "and"
  | "xor"
  | "lsh"
  | "rsh"
  | "arsh"
  | "mov";

/** How an arithmetic operation is encoded and written. */
export interface AluOperationInfo {
  /** The operation code (BPF_ADD …). */
  readonly code: number;
  /** The offset field that goes with it (1 for the signed divisions). */
  readonly offset: number;
  /** The llvm assignment operator, such as `+=`. */
  readonly operator: string;
}

/** Every arithmetic operation with a second operand. */
export const ALU_OPERATIONS: Readonly<Record<AluOperation, AluOperationInfo>> = {
  add: { code: BPF_ADD, offset: 0, operator: "+=" },
  sub: { code: BPF_SUB, offset: 0, operator: "-=" },
  mul: { code: BPF_MUL, offset: 0, operator: "*=" },
  div: { code: BPF_DIV, offset: 0, operator: "/=" },
  sdiv: { code: BPF_DIV, offset: SIGNED_DIVISION_OFFSET, operator: "s/=" },
  mod: { code: BPF_MOD, offset: 0, operator: "%=" },
  smod: { code: BPF_MOD, offset: SIGNED_DIVISION_OFFSET, operator: "s%=" },
  or: { code: BPF_OR, offset: 0, operator: "|=" },
  and: { code: BPF_AND, offset: 0, operator: "&=" },
  xor: { code: BPF_XOR, offset: 0, operator: "^=" },
  lsh: { code: BPF_LSH, offset: 0, operator: "<<=" },
  rsh: { code: BPF_RSH, offset: 0, operator: ">>=" },
  arsh: { code: BPF_ARSH, offset: 0, operator: "s>>=" },
  mov: { code: BPF_MOV, offset: 0, operator: "=" },
};

/** A conditional jump. */
export type JumpCondition =
  | "jeq"
  | "jne"
  | "jgt"
  | "jge"
  | "jlt"
  | "jle"
  | "jsgt"
  | "jsge"
  | "jslt"
  | "jsle"
  | "jset";

/** How a conditional jump is encoded and written. */
export interface JumpConditionInfo {
  /** The operation code (BPF_JEQ …). */
  readonly code: number;
  /** The llvm comparison operator, such as `s<=`. */
  readonly operator: string;
}

/** Every conditional jump. */
export const JUMP_CONDITIONS: Readonly<Record<JumpCondition, JumpConditionInfo>> = {
  jeq: { code: BPF_JEQ, operator: "==" },
  jne: { code: BPF_JNE, operator: "!=" },
  jgt: { code: BPF_JGT, operator: ">" },
  jge: { code: BPF_JGE, operator: ">=" },
  jlt: { code: BPF_JLT, operator: "<" },
  jle: { code: BPF_JLE, operator: "<=" },
  jsgt: { code: BPF_JSGT, operator: "s>" },
  jsge: { code: BPF_JSGE, operator: "s>=" },
  jslt: { code: BPF_JSLT, operator: "s<" },
  jsle: { code: BPF_JSLE, operator: "s<=" },
  jset: { code: BPF_JSET, operator: "&" },
};

/** A read-modify-write atomic operation (load-acquire and store-release have their own builder methods). */
export type AtomicOperation = "add" | "or" | "and" | "xor" | "xchg" | "cmpxchg";

/** Every read-modify-write atomic operation and its imm without BPF_FETCH (xchg and cmpxchg always fetch). */
export const ATOMIC_OPERATIONS: Readonly<Record<AtomicOperation, number>> = {
  add: BPF_ADD,
  or: BPF_OR,
  and: BPF_AND,
  xor: BPF_XOR,
  xchg: BPF_XCHG,
  cmpxchg: BPF_CMPXCHG,
};

/** The llvm operators of the atomic operations written `lock *(u64 *)(r1 + 0x0) += r2`. */
export const ATOMIC_OPERATORS: Readonly<Record<"add" | "or" | "and" | "xor", { readonly operator: string }>> = {
  add: { operator: "+=" },
  or: { operator: "|=" },
  and: { operator: "&=" },
  xor: { operator: "^=" },
};

/** The size of a memory access, named like the C type llvm prints: `*(u32 *)`. */
export type MemorySize = "u8" | "u16" | "u32" | "u64";
/** The size of a sign-extending load. */
export type SignedSize = "s8" | "s16" | "s32";

/** The size bits of each memory size. */
export const MEMORY_SIZES: Readonly<Record<MemorySize, SizeModifier>> = { u8: BPF_B, u16: BPF_H, u32: BPF_W, u64: BPF_DW };
/** The size bits of each sign-extending size. */
export const SIGNED_SIZES: Readonly<Record<SignedSize, SizeModifier>> = { s8: BPF_B, s16: BPF_H, s32: BPF_W };

/** The unsigned C type of each size modifier, as llvm prints it. */
export function memorySizeName(size: SizeModifier): MemorySize {
  return (Object.keys(MEMORY_SIZES) as MemorySize[]).find((name) => MEMORY_SIZES[name] === size)!;
}

/** How Waggle's pretty syntax writes each 64-bit load pseudo source: `r1 = map[counts] ll`. */
export const PSEUDO_LOAD_NAMES: Readonly<Record<number, string>> = {
  [BPF_PSEUDO_MAP_FD]: "map",
  [BPF_PSEUDO_MAP_VALUE]: "map_value",
  [BPF_PSEUDO_BTF_ID]: "btf_id",
  [BPF_PSEUDO_FUNC]: "func",
  [BPF_PSEUDO_MAP_IDX]: "map_idx",
  [BPF_PSEUDO_MAP_IDX_VALUE]: "map_idx_value",
};

/** The pseudo sources whose second immediate is an offset into the map's value. */
export const PSEUDO_LOADS_WITH_OFFSET: ReadonlySet<number> = new Set([BPF_PSEUDO_MAP_VALUE, BPF_PSEUDO_MAP_IDX_VALUE]);
