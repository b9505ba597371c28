/**
 * decodeUtf8(): the loop for short ASCII strings and the TextDecoder path must agree with TextDecoder on
 * every input — ASCII and non-ASCII, on either side of the loop's length limit, within a larger buffer,
 * and malformed sequences (which become U+FFFD).
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { decodeUtf8 } from "../../src/text.js";

const reference = new TextDecoder();
const encoder = new TextEncoder();

/** `text` encoded between unrelated bytes, and where it starts and ends. */
function embedded(text: string): { bytes: Uint8Array; start: number; end: number } {
  const encoded = encoder.encode(text);
  const bytes = new Uint8Array(encoded.length + 6).fill(0xff);
  bytes.set(encoded, 3);
  return { bytes, start: 3, end: 3 + encoded.length };
}

describe("decodeUtf8()", () => {
  test("decodes ASCII and non-ASCII text of every length around the loop's limit, within a larger buffer", () => {
    for (let length = 0; length <= 40; length++) {
      for (const text of ["a".repeat(length), "é".repeat(length), "x".repeat(length) + "€", "🐝" + "y".repeat(length)]) {
        const { bytes, start, end } = embedded(text);
        assert.equal(decodeUtf8(bytes, start, end), text, JSON.stringify(text));
      }
    }
  });

  test("decodes a megabyte of ASCII, with and without one non-ASCII character", () => {
    const ascii = "abcdefghijklmnopqrstuvwxyz_0123456789".repeat(30_000);
    for (const text of [ascii, ascii + "ß"]) {
      const { bytes, start, end } = embedded(text);
      assert.equal(decodeUtf8(bytes, start, end), text);
    }
  });

  test("turns malformed sequences into U+FFFD as TextDecoder does", () => {
    for (const bytes of [[0x80], [0x61, 0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x90], [0xff, 0x61, 0xfe], [0xed, 0xa0, 0x80]]) {
      const input = Uint8Array.from(bytes);
      assert.equal(decodeUtf8(input, 0, input.length), reference.decode(input), bytes.join(" "));
    }
  });

  test("agrees with TextDecoder on any bytes and any range", () => {
    // Mostly printable ASCII, so that whole short ASCII strings come up as often as stray high bytes.
    const byte = fc.oneof(
      { arbitrary: fc.integer({ min: 0x20, max: 0x7e }), weight: 4 },
      { arbitrary: fc.integer({ min: 0, max: 0xff }), weight: 1 },
    );
    const cases = fc
      .array(byte, { maxLength: 64 })
      .map((values) => Uint8Array.from(values))
      .chain((bytes) => fc.tuple(fc.constant(bytes), fc.nat(bytes.length), fc.nat(bytes.length)));
    fc.assert(
      fc.property(cases, ([bytes, a, b]) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        assert.equal(decodeUtf8(bytes, start, end), reference.decode(bytes.subarray(start, end)));
      }),
      { numRuns: 2000 },
    );
  });
});
