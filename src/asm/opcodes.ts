/**
 * The numbers of the eBPF instruction set (RFC 9669, plus the kernel's later additions): instruction
 * classes, operation codes, sizes, modes, atomic operations and the pseudo sources of calls and 64-bit
 * immediates. They are facts of the ISA, named as in the kernel's `linux/bpf.h`.
 *
 * An opcode byte is `operation | source | class` for arithmetic and jumps, `mode | size | class` for
 * loads and stores. The getters of {@link Instruction} split it; `instruction.ts` is the only reader of
 * the masks below outside this file.
 */

/** Bytes in one instruction slot; a 64-bit immediate load takes two. */
export const INSTRUCTION_SIZE = 8;

// ─── Instruction classes: the low three bits ─────────────────────────────────────────────────────

/** Mask of the class bits of an opcode. */
export const CLASS_MASK = 0x07;
/** Class: non-standard loads (64-bit immediates, legacy packet access). */
export const BPF_LD = 0x00;
/** Class: loads into a register. */
export const BPF_LDX = 0x01;
/** Class: stores of an immediate. */
export const BPF_ST = 0x02;
/** Class: stores of a register, and atomic operations. */
export const BPF_STX = 0x03;
/** Class: 32-bit arithmetic. */
export const BPF_ALU = 0x04;
/** Class: 64-bit jumps, calls and exit. */
export const BPF_JMP = 0x05;
/** Class: 32-bit jumps, and the long jump `gotol`. */
export const BPF_JMP32 = 0x06;
/** Class: 64-bit arithmetic. */
export const BPF_ALU64 = 0x07;

/** One of the eight instruction classes. */
export type InstructionClass =
  | typeof BPF_LD
  | typeof BPF_LDX
  | typeof BPF_ST
  | typeof BPF_STX
  | typeof BPF_ALU
  | typeof BPF_JMP
  | typeof BPF_JMP32
  | typeof BPF_ALU64;

// ─── Arithmetic and jumps: source bit and operation code ─────────────────────────────────────────

/** Mask of the source bit of an arithmetic or jump opcode. */
export const SOURCE_MASK = 0x08;
/** Source: the 32-bit immediate. */
export const BPF_K = 0x00;
/** Source: the source register. */
export const BPF_X = 0x08;
/** Where an arithmetic or jump instruction takes its second operand from. */
export type Source = typeof BPF_K | typeof BPF_X;

/** Byte-swap source bit (class ALU): convert to little endian. */
export const BPF_TO_LE = 0x00;
/** Byte-swap source bit (class ALU): convert to big endian. */
export const BPF_TO_BE = 0x08;

/** Mask of the operation code of an arithmetic or jump opcode. */
export const OPERATION_MASK = 0xf0;
/** ALU: dst += src. */
export const BPF_ADD = 0x00;
/** ALU: dst -= src. */
export const BPF_SUB = 0x10;
/** ALU: dst *= src. */
export const BPF_MUL = 0x20;
/** ALU: dst /= src (signed when offset is 1). */
export const BPF_DIV = 0x30;
/** ALU: dst |= src. */
export const BPF_OR = 0x40;
/** ALU: dst &= src. */
export const BPF_AND = 0x50;
/** ALU: dst <<= src. */
export const BPF_LSH = 0x60;
/** ALU: dst >>= src, logical. */
export const BPF_RSH = 0x70;
/** ALU: dst = -dst. */
export const BPF_NEG = 0x80;
/** ALU: dst %= src (signed when offset is 1). */
export const BPF_MOD = 0x90;
/** ALU: dst ^= src. */
export const BPF_XOR = 0xa0;
/** ALU: dst = src (sign-extending when offset is 8, 16 or 32). */
export const BPF_MOV = 0xb0;
/** ALU: dst >>= src, arithmetic. */
export const BPF_ARSH = 0xc0;
/** ALU: byte swap; imm is the width. */
export const BPF_END = 0xd0;

/** Offset of BPF_DIV and BPF_MOD that makes them signed (`s/=`, `s%=`). */
export const SIGNED_DIVISION_OFFSET = 1;
/** Offsets of BPF_MOV that make it a sign-extending move from 8, 16 or 32 bits. */
export const MOVSX_OFFSETS = [8, 16, 32] as const;
/**
 * Offset of a 64-bit BPF_MOV | BPF_X that makes it `addr_space_cast` (arena pointers, kernel 6.9):
 * imm holds the destination address space in its high 16 bits and the source one in its low 16.
 */
export const BPF_ADDR_SPACE_CAST = 1;
/** Bits of each address space in the imm of `addr_space_cast`. */
export const ADDRESS_SPACE_BITS = 16;
/** Mask of one address space in the imm of `addr_space_cast`. */
export const ADDRESS_SPACE_MASK = 0xffff;
/** Widths of the byte-swap instructions, in bits. */
export const SWAP_WIDTHS = [16, 32, 64] as const;

/** JMP: goto +offset (JMP class) or gotol +imm (JMP32 class). */
export const BPF_JA = 0x00;
/** JMP: if dst == src. */
export const BPF_JEQ = 0x10;
/** JMP: if dst > src, unsigned. */
export const BPF_JGT = 0x20;
/** JMP: if dst >= src, unsigned. */
export const BPF_JGE = 0x30;
/** JMP: if dst & src. */
export const BPF_JSET = 0x40;
/** JMP: if dst != src. */
export const BPF_JNE = 0x50;
/** JMP: if dst > src, signed. */
export const BPF_JSGT = 0x60;
/** JMP: if dst >= src, signed. */
export const BPF_JSGE = 0x70;
/** JMP: call a helper, a local function or a kfunc, chosen by src. */
export const BPF_CALL = 0x80;
/** JMP: return r0 to the caller. */
export const BPF_EXIT = 0x90;
/** JMP: if dst < src, unsigned. */
export const BPF_JLT = 0xa0;
/** JMP: if dst <= src, unsigned. */
export const BPF_JLE = 0xb0;
/** JMP: if dst < src, signed. */
export const BPF_JSLT = 0xc0;
/** JMP: if dst <= src, signed. */
export const BPF_JSLE = 0xd0;
/** JMP: a condition the kernel evaluates; src selects which (only `may_goto` so far). */
export const BPF_JCOND = 0xe0;
/** BPF_JCOND source: `may_goto`, a jump taken once a loop's budget is spent. */
export const BPF_MAY_GOTO = 0;

// ─── Loads and stores: size and mode ─────────────────────────────────────────────────────────────

/** Mask of the size bits of a load or store opcode. */
export const SIZE_MASK = 0x18;
/** Size: 4 bytes. */
export const BPF_W = 0x00;
/** Size: 2 bytes. */
export const BPF_H = 0x08;
/** Size: 1 byte. */
export const BPF_B = 0x10;
/** Size: 8 bytes. */
export const BPF_DW = 0x18;
/** The size of a memory access. */
export type SizeModifier = typeof BPF_W | typeof BPF_H | typeof BPF_B | typeof BPF_DW;

/** Mask of the mode bits of a load or store opcode. */
export const MODE_MASK = 0xe0;
/** Mode: 64-bit immediate (only with BPF_LD | BPF_DW). */
export const BPF_IMM = 0x00;
/** Mode: legacy packet access at an absolute offset. */
export const BPF_ABS = 0x20;
/** Mode: legacy packet access at a register plus offset. */
export const BPF_IND = 0x40;
/** Mode: regular memory access. */
export const BPF_MEM = 0x60;
/** Mode: sign-extending memory load. */
export const BPF_MEMSX = 0x80;
/** Mode: atomic operation; imm selects which. */
export const BPF_ATOMIC = 0xc0;

/** The opcode of the two-slot 64-bit immediate load `lddw` (BPF_LD | BPF_IMM | BPF_DW). */
export const BPF_LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW;

// ─── Atomic operations: the imm of BPF_STX | BPF_ATOMIC ──────────────────────────────────────────

/** Atomic modifier: also return the old value in src. */
export const BPF_FETCH = 0x01;
/** Atomic: exchange src with memory (always fetches). */
export const BPF_XCHG = 0xe0 | BPF_FETCH;
/** Atomic: compare memory with r0 and replace it by src if equal; r0 gets the old value. */
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
/** Atomic: load with acquire semantics (kernel 6.15). */
export const BPF_LOAD_ACQ = 0x100;
/** Atomic: store with release semantics (kernel 6.15). */
export const BPF_STORE_REL = 0x110;

// ─── Pseudo sources ──────────────────────────────────────────────────────────────────────────────

/** lddw src: imm is a map fd; dst = the map. */
export const BPF_PSEUDO_MAP_FD = 1;
/** lddw src: imm is a map fd, next imm an offset; dst = address of the map's value + offset. */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** lddw src: imm is a kernel BTF id of a variable (ksym); dst = its address. */
export const BPF_PSEUDO_BTF_ID = 3;
/** lddw src: imm is a function's offset in slots from the next instruction; dst = its address. */
export const BPF_PSEUDO_FUNC = 4;
/** lddw src: imm is an index into the program's fd array; dst = the map. */
export const BPF_PSEUDO_MAP_IDX = 5;
/** lddw src: like BPF_PSEUDO_MAP_VALUE, with a map index instead of an fd. */
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

/** call src: imm is the offset in slots of a local function from the next instruction. */
export const BPF_PSEUDO_CALL = 1;
/** call src: imm is the kernel BTF id of a kfunc. */
export const BPF_PSEUDO_KFUNC_CALL = 2;
