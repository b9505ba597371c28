/**
 * Linking within one program: every jump, local call (`call` with src 1) and function address load
 * (`lddw` with src 4) whose `reference` names a `symbol` of the same program gets the displacement to
 * it, in slots from the next instruction. The builder links what it builds; the object layer links a
 * program after appending the subprograms it calls. References of other instructions — maps, kfuncs,
 * global variables — are left to the loader.
 */

import { FormatError } from "../errors.js";
import type { Instruction } from "./instruction.js";
import { INSTRUCTION_SIZE } from "./opcodes.js";
import { slotOffsets } from "./slots.js";

const INT16_MIN = -0x8000;
const INT16_MAX = 0x7fff;
const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;

/** Tells whether an instruction's `reference` names a place in its own program, which {@link link} resolves. */
export function isCodeReference(instruction: Instruction): boolean {
  return instruction.isJump || instruction.isPseudoCall || instruction.isPseudoFunc;
}

/**
 * Resolves code references in place: sets the offset of jumps, and the imm of `gotol`, local calls
 * and function address loads.
 *
 * @throws FormatError when a symbol is defined twice or a code reference names no symbol of the
 *   program (`offset` is the byte offset of the instruction).
 * @throws RangeError when a jump's displacement does not fit its field: 16 bits for jumps (use `gotol`
 *   beyond), 32 bits for the rest.
 * @example
 * insns.push(...subprogram);
 * link(insns);
 */
export function link(instructions: readonly Instruction[]): void {
  const slots = slotOffsets(instructions);
  const symbols = new Map<string, number>();
  instructions.forEach((instruction, i) => {
    const symbol = instruction.symbol;
    if (symbol === undefined) return;
    if (symbols.has(symbol)) {
      throw new FormatError("instructions", `symbol "${symbol}" is defined twice`, { offset: slots[i]! * INSTRUCTION_SIZE });
    }
    symbols.set(symbol, slots[i]!);
  });

  instructions.forEach((instruction, i) => {
    const reference = instruction.reference;
    if (reference === undefined || !isCodeReference(instruction)) return;
    const target = symbols.get(reference);
    if (target === undefined) {
      throw new FormatError("instructions", `instruction ${i} refers to undefined label "${reference}"`, {
        offset: slots[i]! * INSTRUCTION_SIZE,
      });
    }
    const delta = target - (slots[i]! + 1);
    if (instruction.isJump && !instruction.isLongJump) {
      if (delta < INT16_MIN || delta > INT16_MAX) {
        throw new RangeError(
          `Cannot jump to label "${reference}" from instruction ${i}: ${delta} slots does not fit in a 16-bit offset (use gotol)`,
        );
      }
      instruction.offset = delta;
    } else {
      if (delta < INT32_MIN || delta > INT32_MAX) {
        throw new RangeError(`Cannot reach label "${reference}" from instruction ${i}: ${delta} slots does not fit in 32 bits`);
      }
      instruction.imm = delta;
    }
  });
}
