/**
 * Fuzzing emitTypeScript(): real .BTF blobs with random corruptions. Whatever the bytes, emitting
 * declarations for every type (one root at a time and all together) either works or throws FormatError.
 */

import { describe, test } from "node:test";
import fc from "fast-check";

import { Btf, type TypeId } from "../../src/btf/index.js";
import { emitTypeScript } from "../../src/codegen/index.js";
import { compile, hasClang, mutate, mutations, onlyFormatErrors, type BtfObject } from "./btf-helpers.js";

/** How long all the properties together run (shared equally between them). */
const TOTAL_TIME_MS = 4000;

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
