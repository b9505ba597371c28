/**
 * Fuzzing ElfFile.parse() with fast-check: real objects are mutated (byte flips, truncation, splices,
 * chosen integers written into header, section header, symbol and relocation fields) for a bounded
 * time, and parsing plus walking every section, symbol and relocation, then converting to writer
 * input, must either succeed or throw a FormatError — nothing else.
 */

import { test } from "node:test";
import fc from "fast-check";
import { ElfFile, elfToWriteInput } from "../../src/elf/index.js";
import { compileTestObjects, fixtureObjects, sampleObjects } from "./elf/objects.js";
import { byteMutation, fieldMutation, fuzz, type Field, type Seed } from "./elf/mutations.js";

/** How long each property runs. */
const TIME_LIMIT_MS = 2000;

const compiled = await compileTestObjects();
const corpus: Seed[] = [...sampleObjects(), ...compiled.objects, ...fixtureObjects()].map((o) => {
  const elf = ElfFile.parse(o.bytes);
  return { bytes: o.bytes, littleEndian: elf.littleEndian, fields: integerFields(elf) };
});

/** Every integer field of the file header, the section headers, the symbols and the relocations. */
function integerFields(elf: ElfFile): Field[] {
  const view = new DataView(elf.bytes.buffer, elf.bytes.byteOffset);
  const shoff = Number(view.getBigUint64(40, elf.littleEndian));
  const record = (start: number, layout: readonly (readonly [number, Field["width"]])[]) =>
    layout.map(([offset, width]) => ({ at: start + offset, width }));
  const fields: Field[] = record(0, [[4, 1], [5, 1], [16, 2], [18, 2], [40, 8], [58, 2], [60, 2], [62, 2]]);
  for (const s of elf.sections) {
    fields.push(...record(shoff + s.index * 64, [[0, 4], [4, 4], [8, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]]));
    const entry = s.entsize > 0 && s.entsize <= s.size ? s.entsize : 0;
    for (let at = 0; entry > 0 && at < Math.min(s.size, 64 * entry); at += entry) {
      fields.push(...record(s.offset + at, [[0, 4], [4, 1], [6, 2], [8, 8], [12, 4], [16, 8]]));
    }
  }
  return fields;
}

/**
 * Parses (which reads every section header, section name and symbol) and then reads what is read
 * lazily: every relocation, and everything `elfToWriteInput` resolves.
 */
function parseAndWalk(bytes: Uint8Array): void {
  const elf = ElfFile.parse(bytes, { file: "fuzzed.o" });
  for (const target of elf.relocationSections.keys()) elf.relocationsFor(target);
  elfToWriteInput(elf);
}

test("ElfFile.parse() throws only FormatError on objects with flipped, truncated and spliced bytes", (t) => {
  fuzz(t, corpus, fc.array(byteMutation, { minLength: 1, maxLength: 6 }), parseAndWalk, TIME_LIMIT_MS);
});

test("ElfFile.parse() throws only FormatError on objects with chosen integers in their header fields", (t) => {
  fuzz(t, corpus, fc.array(fieldMutation, { minLength: 1, maxLength: 4 }), parseAndWalk, TIME_LIMIT_MS);
});
