/**
 * Mutations for fuzzing ELF readers with fast-check: byte flips, truncation, splices, and chosen
 * integers written into the integer fields a seed names.
 */

import type { TestContext } from "node:test";
import fc from "fast-check";
import { isWaggleError } from "../../../src/errors.js";

/** A valid file to mutate, with the places where it holds integers. */
export interface Seed {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly fields: readonly Field[];
}

/** A place in a file that holds an integer, and its width in bytes. */
export interface Field {
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
}

/** One change to a file. */
export type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly value: number }
  | { readonly kind: "truncate"; readonly length: number }
  | { readonly kind: "splice"; readonly from: number; readonly to: number; readonly length: number }
  | { readonly kind: "field"; readonly field: number; readonly value: bigint };

export const byteMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), length: fc.nat() }),
  fc.record({ kind: fc.constant("splice" as const), from: fc.nat(), to: fc.nat(), length: fc.integer({ min: 1, max: 256 }) }),
);

const interestingValues = [0n, 1n, 2n, 3n, 6n, 8n, 11n, 16n, 24n, 56n, 64n, 0x7fn, 0xffn, 0xff00n, 0xfff1n, 0xffffn, 0x7fff_ffffn, 0xffff_ffffn]
  .concat([1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n]);

export const fieldMutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constant("field" as const),
  field: fc.nat(),
  value: fc.oneof(fc.constantFrom(...interestingValues), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 0x10000n })),
});

/** A copy of `source` with the mutations applied. */
export function mutate(source: Seed, mutations: readonly Mutation[]): Uint8Array {
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
 * Runs `mutations` against `corpus` for `timeLimitMs`: `walk` over each mutated file may succeed or
 * throw FormatError, nothing else.
 */
export function fuzz(
  t: TestContext,
  corpus: readonly Seed[],
  mutations: fc.Arbitrary<Mutation[]>,
  walk: (bytes: Uint8Array) => void,
  timeLimitMs: number,
): void {
  const property = fc.property(fc.nat({ max: corpus.length - 1 }), mutations, (index, changes) => {
    try {
      walk(mutate(corpus[index]!, changes));
    } catch (e) {
      if (!isWaggleError(e, "FormatError")) throw e;
    }
  });
  const details = fc.check(property, { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: timeLimitMs });
  if (details.failed) throw new Error(fc.defaultReportMessage(details));
  t.diagnostic(`${details.numRuns} mutated files over ${corpus.length} files`);
}
