/**
 * Fuzzing emitTypeScript(): real .BTF blobs with random corruptions. Whatever the bytes, emitting
 * declarations for every type (one root at a time and all together) either works or throws FormatError.
 */

import { describe, test } from "node:test";
import fc from "fast-check";

import { Btf, type TypeId } from "../../src/btf/index.js";
import { emitTypeScript } from "../../src/codegen/index.js";
import { isWaggleError } from "../../src/errors.js";
import { compile, hasClang, type BtfObject } from "./btf-helpers.js";

/** How long all the properties together run (shared equally between them). */
const TOTAL_TIME_MS = 4000;

/** One corruption: overwrite a byte or an aligned u32, or cut the blob short. */
type Mutation =
  | { readonly op: "byte"; readonly at: number; readonly value: number }
  | { readonly op: "u32"; readonly at: number; readonly value: number }
  | { readonly op: "truncate"; readonly at: number };

/** Values that tend to hit limits: zero, ones, sign bits, small counts and ids, kind numbers in place. */
const interestingU32 = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 8, 12, 16, 24, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff),
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: 0, max: 31 }).map((kind) => kind << 24),
  fc.integer({ min: 0, max: 31 }).map((kind) => ((kind << 24) | 0xffff) >>> 0),
  fc.nat().map((n) => n >>> 0),
);

function mutations(length: number): fc.Arbitrary<Mutation[]> {
  const at = fc.nat({ max: length - 1 });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("u32" as const), at: at.map((n) => n & ~3), value: interestingU32 }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("byte" as const), at, value: fc.nat({ max: 255 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at }) },
  );
  return fc.array(mutation, { minLength: 1, maxLength: 6 });
}

function mutate(bytes: Uint8Array, changes: readonly Mutation[], littleEndian: boolean): Uint8Array {
  let copy = bytes.slice();
  for (const change of changes) {
    if (change.op === "truncate") copy = copy.slice(0, Math.min(change.at, copy.length));
    else if (change.op === "byte" && change.at < copy.length) copy[change.at] = change.value;
    else if (change.op === "u32" && change.at + 4 <= copy.length) {
      new DataView(copy.buffer).setUint32(change.at, change.value, littleEndian);
    }
  }
  return copy;
}

/** Runs `body`; a FormatError is an accepted outcome, anything else fails the property. */
function onlyFormatErrors(body: () => void): void {
  try {
    body();
  } catch (error) {
    if (isWaggleError(error, "FormatError")) return;
    throw error;
  }
}

/** Emits every type of `btf` as a root of its own, then all of them in one module. */
function exercise(btf: Btf): void {
  const ids: TypeId[] = [];
  for (const [id] of btf) {
    ids.push(id);
    onlyFormatErrors(() => emitTypeScript(btf, [id], { codecs: true }));
  }
  onlyFormatErrors(() => emitTypeScript(btf, ids));
}

describe("fuzzing emitTypeScript()", { skip: hasClang ? false : "needs clang-19" }, () => {
  const objects: BtfObject[] = hasClang ? [compile("kinds"), compile("kinds", true), compile("core")] : [];
  const timeLimit = Math.ceil(TOTAL_TIME_MS / Math.max(1, objects.length));
  for (const object of objects) {
    const littleEndian = Btf.parse(object.btf).littleEndian;
    test(`emits declarations for mutated .BTF of ${object.name} or throws FormatError`, () => {
      fc.assert(
        fc.property(mutations(object.btf.length), (changes) => {
          onlyFormatErrors(() => exercise(Btf.parse(mutate(object.btf, changes, littleEndian), { file: object.name })));
        }),
        { numRuns: 1_000_000, interruptAfterTimeLimit: timeLimit },
      );
    });
  }
});
