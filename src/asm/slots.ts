/**
 * Instruction indices and slot indices. Jump offsets, relocation offsets and verifier messages count
 * 8-byte slots, in which a 64-bit immediate load counts twice; arrays of {@link Instruction} count it
 * once. These two functions translate between them.
 */

import type { Instruction } from "./instruction.js";

/**
 * The slot index at which each instruction starts: `result[i]` is the slot of `instructions[i]`.
 *
 * @example
 * slotOffsets(new ProgramBuilder().lddw(R0, 1n).exit().build()); // [0, 2]
 */
export function slotOffsets(instructions: readonly Instruction[]): number[] {
  const offsets = new Array<number>(instructions.length);
  let slot = 0;
  for (let i = 0; i < instructions.length; i++) {
    offsets[i] = slot;
    slot += instructions[i]!.slots;
  }
  return offsets;
}

/**
 * The index of the instruction that starts at `slot`, given the result of {@link slotOffsets}; -1 when
 * no instruction starts there (the slot is out of range or the second half of a 64-bit load).
 * A binary search, so translating every relocation of a section costs O(n log n).
 *
 * @example
 * const offsets = slotOffsets(insns);
 * const index = instructionAtSlot(offsets, relocation.offset / INSTRUCTION_SIZE);
 */
export function instructionAtSlot(offsets: readonly number[], slot: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const start = offsets[middle]!;
    if (start === slot) return middle;
    if (start < slot) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
