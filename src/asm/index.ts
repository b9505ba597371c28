/**
 * `waggle/asm`: eBPF instructions — decode, encode, build, link, disassemble and assemble.
 *
 * @example
 * import { ProgramBuilder, R0, R1, encodeInstructions, disassemble } from "waggle/asm";
 * const insns = new ProgramBuilder().mov(R0, 0).jeq(R1, 0, "out").mov(R0, 1).label("out").exit().build();
 * encodeInstructions(insns);                         // 32 bytes
 * disassemble(insns, { syntax: "pretty" }).join("\n");
 */

export * from "./opcodes.js";
export { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, FP, REGISTERS, registerNumber, isRegister } from "./registers.js";
export type { Register } from "./registers.js";
export { Instruction } from "./instruction.js";
export type { InstructionFields, SourceLine, CoreRelocation } from "./instruction.js";
export { decodeInstructions } from "./decode.js";
export type { DecodeOptions } from "./decode.js";
export { encodeInstructions } from "./encode.js";
export type { EncodeOptions } from "./encode.js";
export { slotOffsets, instructionAtSlot } from "./slots.js";
export { helperName, helperId } from "./helpers.js";
export { link, isCodeReference } from "./link.js";
export { ProgramBuilder } from "./builder.js";
export type { Operand, JumpTarget, AtomicOptions } from "./builder.js";
export { ALU_OPERATIONS, JUMP_CONDITIONS, ATOMIC_OPERATIONS, MEMORY_SIZES, SIGNED_SIZES } from "./operations.js";
export type { AluOperation, JumpCondition, AtomicOperation, MemorySize, SignedSize } from "./operations.js";
export { formatInstruction, disassemble } from "./disassemble.js";
export type { FormatOptions, DisassembleOptions } from "./disassemble.js";
export { assemble } from "./assemble.js";
