/**
 * Encoding: {@link Instruction}s into bytes, the exact inverse of `decodeInstructions()`. A 64-bit
 * immediate load writes two slots, the second holding only `imm2`.
 */

import type { Instruction } from "./instruction.js";
import { INSTRUCTION_SIZE } from "./opcodes.js";

/** Options of {@link encodeInstructions}. */
export interface EncodeOptions {
  /** Byte order to write: true (the default) for little-endian, false for big-endian (`bpfeb`). */
  readonly littleEndian?: boolean;
}

const NIBBLE_BITS = 4;

/**
 * Encodes instructions into a new byte array of 8 bytes per slot.
 *
 * @example
 * const bytes = encodeInstructions(new ProgramBuilder().mov(R0, 0).exit().build());
 */
export function encodeInstructions(instructions: readonly Instruction[], options: EncodeOptions = {}): Uint8Array {
  const littleEndian = options.littleEndian ?? true;
  let slots = 0;
  for (const instruction of instructions) slots += instruction.slots;
  const bytes = new Uint8Array(slots * INSTRUCTION_SIZE);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const instruction of instructions) {
    const registers = littleEndian
      ? (instruction.src << NIBBLE_BITS) | instruction.dst
      : (instruction.dst << NIBBLE_BITS) | instruction.src;
    view.setUint8(at, instruction.opcode);
    view.setUint8(at + 1, registers);
    view.setInt16(at + 2, instruction.offset, littleEndian);
    view.setInt32(at + 4, instruction.imm, littleEndian);
    at += INSTRUCTION_SIZE;
    if (instruction.slots === 2) {
      view.setInt32(at + 4, instruction.imm2, littleEndian);
      at += INSTRUCTION_SIZE;
    }
  }
  return bytes;
}
