/**
 * Fuzzing the parts of ElfFile that executables and shared objects need: program headers, the dynamic
 * symbol table and the conversions through PT_LOAD segments. Real files (/bin/true, and a shared object
 * and a PIE executable gcc builds here) are mutated with fast-check for a bounded time — byte flips,
 * truncation, splices, chosen integers written into the file header, program headers, section headers
 * and dynamic symbols — and parsing plus walking all of it must either succeed or throw a FormatError.
 */

import { test, type TestContext } from "node:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { isWaggleError } from "../../src/errors.js";
import { addressToFileOffset, ElfFile, fileOffsetToAddress, SHT_DYNSYM } from "../../src/elf/index.js";
import { missingTool, scratchDir } from "./elf/objects.js";

/** How long each property runs. */
const TIME_LIMIT_MS = 2000;
/** Sizes of the records whose fields are mutated. */
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
/** How many dynamic symbols per file get their fields mutated. */
const MUTATED_SYMBOLS = 64;

/** Files gcc builds for the corpus, when it is installed. */
function gccFiles(): Uint8Array[] {
  if (missingTool("gcc") !== undefined) return [];
  const dir = scratchDir();
  const source = join(dir, "fuzz.c");
  writeFileSync(source, "static int n; int bump(int x) { return n += x; }\nint main(void) { return bump(1); }\n");
  const outputs: Uint8Array[] = [];
  for (const [name, args] of [["fuzz.so", ["-shared", "-fPIC"]], ["fuzz.pie", ["-pie", "-fPIE"]]] as const) {
    const path = join(dir, name);
    const result = spawnSync("gcc", ["-O1", ...args, "-o", path, source], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`gcc failed: ${result.stderr}`);
    outputs.push(new Uint8Array(readFileSync(path)));
  }
  return outputs;
}

/** A place in a file that holds an integer, and its width in bytes. */
interface Field {
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
}

/** A valid file to mutate, with the places where it holds integers. */
interface Seed {
  readonly bytes: Uint8Array;
  readonly fields: readonly Field[];
}

/** Every integer field of the file header, program headers, section headers and the first dynamic symbols. */
function integerFields(bytes: Uint8Array): Field[] {
  const elf = ElfFile.parse(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = Number(view.getBigUint64(32, true));
  const shoff = Number(view.getBigUint64(40, true));
  const record = (start: number, layout: readonly (readonly [number, Field["width"]])[]) =>
    layout.map(([offset, width]) => ({ at: start + offset, width }));
  const fields: Field[] = record(0, [[16, 2], [32, 8], [40, 8], [54, 2], [56, 2], [58, 2], [60, 2], [62, 2]]);
  for (const segment of elf.segments) {
    fields.push(...record(phoff + segment.index * PHDR_SIZE, [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 8], [48, 8]]));
  }
  for (const s of elf.sections) {
    fields.push(...record(shoff + s.index * SHDR_SIZE, [[0, 4], [4, 4], [24, 8], [32, 8], [40, 4], [44, 4], [56, 8]]));
    if (s.type !== SHT_DYNSYM) continue;
    for (let at = 0; at < Math.min(s.size, MUTATED_SYMBOLS * SYM_SIZE); at += SYM_SIZE) {
      fields.push(...record(s.offset + at, [[0, 4], [4, 1], [6, 2], [8, 8], [16, 8]]));
    }
  }
  return fields;
}

const corpus: Seed[] = [new Uint8Array(readFileSync("/bin/true")), ...gccFiles()].map((bytes) => ({ bytes, fields: integerFields(bytes) }));

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

const interestingValues = [0n, 1n, 2n, 6n, 11n, 24n, 56n, 64n, 0xffn, 0xff00n, 0xfff1n, 0xffffn, 0x7fff_ffffn, 0xffff_ffffn]
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
        for (let i = 0; i < field.width; i++) bytes[field.at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
        break;
      }
    }
  }
  return bytes;
}

/** Parses and reads everything symbolisation reads: segments, both symbol tables, each symbol's file offset. */
function parseAndWalk(bytes: Uint8Array): void {
  const elf = ElfFile.parse(bytes, { file: "fuzzed" });
  for (const symbol of [...elf.symbols, ...elf.dynamicSymbols]) {
    const offset = addressToFileOffset(elf.segments, symbol.value);
    if (offset !== undefined) fileOffsetToAddress(elf.segments, offset);
  }
}

/** Runs `mutations` against the corpus for TIME_LIMIT_MS; only FormatError may escape. */
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
  t.diagnostic(`${details.numRuns} mutated files over ${corpus.length} executables and shared objects`);
}

test("ElfFile throws only FormatError on executables with flipped, truncated and spliced bytes", (t) => {
  fuzz(t, fc.array(byteMutation, { minLength: 1, maxLength: 6 }));
});

test("ElfFile throws only FormatError on executables with chosen integers in program headers and dynamic symbols", (t) => {
  fuzz(t, fc.array(fieldMutation, { minLength: 1, maxLength: 4 }));
});
