/**
 * Fuzzing: real .BTF and .BTF.ext blobs with random corruptions. Whatever the bytes, parsing, decoding
 * every type, laying out and printing them (one by one and as a whole header) either works or throws FormatError — and whatever parses
 * marshals back to an equal model.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";

import {
  Btf,
  dumpC,
  formatCDecl,
  marshalBtf,
  marshalBtfExt,
  parseBtfExt,
  type BtfExt,
  type TypeId,
} from "../../src/btf/index.js";
import { compile, hasClang, mutate, mutations, onlyFormatErrors, testObjects, type BtfObject } from "./btf-helpers.js";

/** How long all the properties together run (shared equally between them). */
const TOTAL_TIME_MS = 5000;

const DECLARED = new Set(["struct", "union", "enum", "enum64", "typedef", "fwd", "func", "var"]);

/** Uses every part of a parsed Btf: decoding, lookups, layout, C printing, marshalling. */
function exercise(btf: Btf): void {
  const ids: TypeId[] = [];
  for (const [id, type] of btf) {
    ids.push(id);
    if (type.name !== "") assert.ok(btf.typesByName(type.name).includes(id));
  }
  for (const id of ids) {
    const type = btf.type(id);
    onlyFormatErrors(() => btf.sizeof(id));
    onlyFormatErrors(() => btf.alignof(id));
    onlyFormatErrors(() => btf.resolve(id));
    if (DECLARED.has(type.kind) && type.name !== "") onlyFormatErrors(() => formatCDecl(btf, id));
  }
  onlyFormatErrors(() => dumpC(btf));
  // Every type decoded: the blob is valid as far as we check, so it must survive a round trip.
  const reparsed = Btf.parse(marshalBtf(btf));
  assert.deepEqual([...reparsed], [...btf]);
}

/** Clang's output for every kind in both byte orders, CO-RE relocations, and bpf-gcc's fixtures (if any). */
function fuzzObjects(): BtfObject[] {
  const compiled = hasClang ? [compile("kinds"), compile("kinds", true), compile("core")] : [];
  const fromGcc = testObjects().filter((object) => object.name.endsWith(".gcc"));
  return [...compiled, ...fromGcc];
}

describe("fuzzing", () => {
  const objects = fuzzObjects();
  const properties = objects.reduce((count, object) => count + (object.ext === undefined ? 1 : 2), 0);
  const timeLimit = Math.ceil(TOTAL_TIME_MS / Math.max(1, properties));
  for (const object of objects) {
    const littleEndian = Btf.parse(object.btf).littleEndian;

    test(`mutated .BTF of ${object.name} parses, decodes and prints or throws FormatError`, () => {
      fc.assert(
        fc.property(mutations(object.btf.length), (changes) => {
          onlyFormatErrors(() => exercise(Btf.parse(mutate(object.btf, changes, littleEndian), { file: object.name })));
        }),
        { numRuns: 1_000_000, interruptAfterTimeLimit: timeLimit },
      );
    });

    const ext = object.ext;
    if (ext === undefined) continue;
    test(`mutated .BTF.ext of ${object.name} parses or throws FormatError`, () => {
      fc.assert(
        fc.property(mutations(ext.length), (changes) => {
          // A fresh Btf per run: marshalling may append strings (a name read from the middle of one).
          const btf = Btf.parse(object.btf);
          onlyFormatErrors(() => {
            const parsed = parseBtfExt(mutate(ext, changes, littleEndian), btf, { file: object.name });
            // Strings are written by text: one read from the middle of another comes back at a new offset.
            assert.deepEqual(withoutOffsets(parseBtfExt(marshalBtfExt(parsed, btf), btf)), withoutOffsets(parsed));
          });
        }),
        { numRuns: 1_000_000, interruptAfterTimeLimit: timeLimit },
      );
    });
  }
});

/** The records of `ext` without their raw string offsets. */
function withoutOffsets(ext: BtfExt): unknown {
  const strip = (record: object) =>
    Object.fromEntries(Object.entries(record).filter(([key]) => !["fileNameOff", "lineOff", "accessStrOff"].includes(key)));
  return Object.entries(ext).map(([kind, blocks]) => [
    kind,
    [...(blocks as ReadonlyMap<string, readonly object[]>)].map(([section, records]) => [section, records.map(strip)]),
  ]);
}
