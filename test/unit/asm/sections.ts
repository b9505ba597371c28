/**
 * Decoding the code sections of test objects into instructions that carry their symbols, the way
 * llvm-objdump names them, and the comparisons the object tests make.
 */

import assert from "node:assert/strict";
import { Instruction, decodeInstructions, instructionAtSlot, slotOffsets } from "../../../src/asm/index.js";
import type { CodeSection } from "./support.js";

/**
 * The instructions of a code section, each function symbol set on the instruction it starts. Where two
 * symbols share an offset the first is kept; a section without symbols is named after itself, as
 * llvm-objdump does.
 */
export function decodeSection(section: CodeSection): Instruction[] {
  const instructions = decodeInstructions(section.bytes, { littleEndian: section.littleEndian, section: section.name });
  const offsets = slotOffsets(instructions);
  const symbols = section.symbols.length > 0 ? section.symbols : [{ name: section.name, offset: 0 }];
  for (const symbol of symbols) {
    const index = instructionAtSlot(offsets, symbol.offset / 8);
    if (index >= 0) instructions[index]!.symbol ??= symbol.name;
  }
  return instructions;
}

/** Asserts that two programs have the same fields and metadata, instruction by instruction. */
export function assertSameInstructions(actual: readonly Instruction[], expected: readonly Instruction[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: instruction count`);
  actual.forEach((instruction, i) => assert.deepEqual(instruction.fields(), expected[i]!.fields(), `${what}: instruction ${i}`));
}
