/**
 * Fuzzing the parts of ElfFile that executables and shared objects need: program headers, the dynamic
 * symbol table and the conversions through PT_LOAD segments. Real files (/bin/true, and a shared object
 * and a PIE executable gcc builds here) are mutated with fast-check for a bounded time — byte flips,
 * truncation, splices, chosen integers written into the file header, program headers, section headers
 * and dynamic symbols — and parsing plus walking all of it must either succeed or throw a FormatError.
 */

import { test } from "node:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { addressToFileOffset, ElfFile, fileOffsetToAddress, SHT_DYNSYM } from "../../src/elf/index.js";
import { missingTool, scratchDir } from "./elf/objects.js";
import { byteMutation, fieldMutation, fuzz, type Field, type Seed } from "./elf/mutations.js";

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

const corpus: Seed[] = [new Uint8Array(readFileSync("/bin/true")), ...gccFiles()].map((bytes) => ({ bytes, littleEndian: true, fields: integerFields(bytes) }));

/** Parses and reads everything symbolisation reads: segments, both symbol tables, each symbol's file offset. */
function parseAndWalk(bytes: Uint8Array): void {
  const elf = ElfFile.parse(bytes, { file: "fuzzed" });
  for (const symbol of [...elf.symbols, ...elf.dynamicSymbols]) {
    const offset = addressToFileOffset(elf.segments, symbol.value);
    if (offset !== undefined) fileOffsetToAddress(elf.segments, offset);
  }
}

test("ElfFile throws only FormatError on executables with flipped, truncated and spliced bytes", (t) => {
  fuzz(t, corpus, fc.array(byteMutation, { minLength: 1, maxLength: 6 }), parseAndWalk, TIME_LIMIT_MS);
});

test("ElfFile throws only FormatError on executables with chosen integers in program headers and dynamic symbols", (t) => {
  fuzz(t, corpus, fc.array(fieldMutation, { minLength: 1, maxLength: 4 }), parseAndWalk, TIME_LIMIT_MS);
});
