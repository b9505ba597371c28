/**
 * Fuzzing ElfFile.parse() with fast-check: real objects are mutated (byte flips, truncation, splices,
 * chosen integers written into header, section header, symbol and relocation fields) for a bounded
 * time, and parsing plus walking every section, symbol and relocation, then converting to writer
 * input, must either succeed or throw a FormatError — nothing else.
 */

import { test, type TestContext } from "node:test";
import fc from "fast-check";
import { isWaggleError } from "../../src/errors.js";
import { ElfFile, elfToWriteInput } from "../../src/elf/index.js";
import { compileTestObjects, fixtureObjects, sampleObjects } from "./elf/objects.js";

/** How long each property runs. */
const TIME_LIMIT_MS = 2000;

const compiled = await compileTestObjects();
const corpus: Seed[] = [...sampleObjects(), ...compiled.objects, ...fixtureObjects()].map((o) => {
  const elf = ElfFile.parse(o.bytes);
  return { bytes: o.bytes, littleEndian: elf.littleEndian, fields: integerFields(elf) };
});

/** A valid object to mutate, with the places where it holds integers. */
interface Seed {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly fields: readonly Field[];
}

/** A place in a file that holds an integer, and its width in bytes. */
interface Field {
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
}

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

/** One change to a file. */
type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly length: number }
  | { readonly kind: "splice"; readonly from: number; readonly to: number; readonly length: number }
  | { readonly kind: "field"; readonly field: number; readonly value: bigint };

const byteMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), length: fc.nat() }),
  fc.record({ kind: fc.constant("splice" as const), from: fc.nat(), to: fc.nat(), length: fc.integer({ min: 1, max: 256 }) }),
);

const interestingValues = [0n, 1n, 2n, 3n, 8n, 16n, 24n, 64n, 0x7fn, 0xffn, 0xff00n, 0xfff1n, 0xffffn, 0x7fff_ffffn, 0xffff_ffffn]
  .concat([1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n]);

const fieldMutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constant("field" as const),
  field: fc.nat(),
  value: fc.oneof(fc.constantFrom(...interestingValues), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 0x10000n })),
});

/** A copy of `source` with the mutations applied. */
function mutate(source: Seed, mutations: readonly Mutation[]): Uint8Array {
  let bytes = source.bytes.slice();
  for (const m of mutations) {
    if (bytes.length === 0) break;
    switch (m.kind) {
      case "flip":
        bytes[m.at % bytes.length] = m.value;
        break;
      case "truncate":
        bytes = bytes.subarray(0, m.length % (bytes.length + 1));
        break;
      case "splice":
        bytes.copyWithin(m.to % bytes.length, m.from % bytes.length, (m.from % bytes.length) + m.length);
        break;
      case "field": {
        const field = source.fields[m.field % source.fields.length]!;
        if (field.at + field.width > bytes.length) break;
        const value = BigInt.asUintN(field.width * 8, m.value);
        for (let i = 0; i < field.width; i++) {
          const shift = BigInt(8 * (source.littleEndian ? i : field.width - 1 - i));
          bytes[field.at + i] = Number((value >> shift) & 0xffn);
        }
        break;
      }
    }
  }
  return bytes;
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

/** Runs `mutations` against the corpus for TIME_LIMIT_MS; only FormatError may escape the parser. */
function fuzz(t: TestContext, mutations: fc.Arbitrary<Mutation[]>): void {
  const property = fc.property(fc.nat({ max: corpus.length - 1 }), mutations, (index, changes) => {
    try {
      parseAndWalk(mutate(corpus[index]!, changes));
    } catch (e) {
      if (!isWaggleError(e, "FormatError")) throw e;
    }
  });
  const details = fc.check(property, { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: TIME_LIMIT_MS });
  if (details.failed) throw new Error(fc.defaultReportMessage(details));
  t.diagnostic(`${details.numRuns} mutated files over ${corpus.length} objects`);
}

test("ElfFile.parse() throws only FormatError on objects with flipped, truncated and spliced bytes", (t) => {
  fuzz(t, fc.array(byteMutation, { minLength: 1, maxLength: 6 }));
});

test("ElfFile.parse() throws only FormatError on objects with chosen integers in their header fields", (t) => {
  fuzz(t, fc.array(fieldMutation, { minLength: 1, maxLength: 4 }));
});
