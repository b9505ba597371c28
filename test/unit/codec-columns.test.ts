/**
 * Column decoders (the bulk decoding of a batch's keys or values) must decode exactly what their codec
 * decodes one value at a time: every number type at its edge values, in both byte orders, from
 * unaligned offsets, and through the copies of number codecs that BTF typedefs make.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Btf } from "../../src/btf/index.js";
import { btfCodec, columnDecoder, numberCodec, type Codec, type NumberType } from "../../src/codec/index.js";

/** Values at the edges of each type (and, for floats, the special ones). */
const EDGES: Record<NumberType, readonly (number | bigint)[]> = {
  u8: [0, 1, 0x7f, 0x80, 0xff],
  s8: [0, 1, -1, 0x7f, -0x80],
  u16: [0, 1, 0x7fff, 0x8000, 0xffff, 0x1234],
  s16: [0, -1, 0x7fff, -0x8000, -0x1234],
  u32: [0, 1, 0x3fffffff, 0x40000000, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678],
  s32: [0, -1, 0x7fffffff, -0x80000000, -0x12345678],
  u64: [0n, 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 0x0123456789abcdefn],
  s64: [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 1n, -0x0123456789abcdefn],
  f32: [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45, Infinity, -Infinity, NaN],
  f64: [0, -0, 0.1, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN],
};

const NUMBER_TYPES = Object.keys(EDGES) as NumberType[];

/** `values` encoded back to back by `codec`, starting `offset` bytes into a view that itself starts 5 bytes into its buffer. */
function packed<T>(codec: Codec<T>, values: readonly T[], offset: number, stride = codec.size): DataView {
  const view = new DataView(new ArrayBuffer(5 + offset + values.length * stride + 3), 5);
  values.forEach((value, i) => codec.encode(value, view, offset + i * stride));
  return view;
}

/** The values that `codec.decode` reads one by one. */
function oneByOne<T>(codec: Codec<T>, view: DataView, offset: number, count: number, stride = codec.size): T[] {
  return Array.from({ length: count }, (_, i) => codec.decode(view, offset + i * stride));
}

describe("columnDecoder()", () => {
  test("decodes every number type at its edges as the codec does, in both byte orders and from odd offsets", () => {
    for (const type of NUMBER_TYPES) {
      for (const littleEndian of [true, false]) {
        const codec = numberCodec(type, littleEndian) as Codec<number | bigint>;
        for (const offset of [0, 3]) {
          const view = packed(codec, EDGES[type], offset);
          const decoded = columnDecoder(codec).decode(view, offset, EDGES[type].length);
          const expected = oneByOne(codec, view, offset, EDGES[type].length);
          assert.deepEqual(Array.from(decoded), expected, `${type} ${littleEndian ? "le" : "be"} at +${offset}`);
          // deepEqual takes -0 for 0 and NaN for NaN; Object.is tells them apart.
          expected.forEach((value, i) => assert.ok(Object.is(decoded[i], value), `${type} element ${i}`));
        }
      }
    }
  });

  test("reads the host's byte order with a typed array, and decodes the other order value by value", () => {
    const host = numberCodec("u32");
    assert.ok(ArrayBuffer.isView(columnDecoder(host).decode(packed(host, [1], 0), 0, 1)));
    const swapped = numberCodec("u32", false);
    const decoded = columnDecoder(swapped).decode(packed(swapped, [0x01020304], 0), 0, 1);
    assert.ok(Array.isArray(decoded));
    assert.deepEqual(decoded, [0x01020304]);
  });

  test("keeps the typed array for BTF integers, which are renamed copies of number codecs", () => {
    const btf = Btf.create({ littleEndian: true });
    const u32 = btf.add({ kind: "int", name: "unsigned int", size: 4, signed: false, char: false, bool: false, bitOffset: 0, bits: 32 });
    const typedef = btf.add({ kind: "typedef", name: "__u32", type: u32 });
    const codec = btfCodec(btf, typedef) as Codec<number>;
    assert.equal(codec.description, "__u32");
    const view = packed(codec, [7, 0xffffffff], 0);
    const decoded = columnDecoder(codec).decode(view, 0, 2);
    assert.ok(ArrayBuffer.isView(decoded));
    assert.deepEqual(Array.from(decoded), [7, 0xffffffff]);
  });

  test("calls a decode that replaced a number codec's own", () => {
    const codec: Codec<number> = { ...numberCodec("u32"), decode: (view, offset) => view.getUint32(offset, true) * 2 };
    assert.deepEqual(columnDecoder(codec).decode(packed(codec, [1, 2, 3], 0), 0, 3), [2, 4, 6]);
  });

  test("decodes values more than their size apart, and other codecs, value by value", () => {
    const u64 = numberCodec("u64");
    const spaced = packed(u64, [1n, 2n ** 64n - 1n, 3n], 0, 16);
    assert.deepEqual(columnDecoder(u64, 16).decode(spaced, 0, 3), [1n, 2n ** 64n - 1n, 3n]);

    const btf = Btf.create({ littleEndian: true });
    const u32 = btf.add({ kind: "int", name: "unsigned int", size: 4, signed: false, char: false, bool: false, bitOffset: 0, bits: 32 });
    const pair = btf.add({
      kind: "struct", name: "pair", size: 8, members: [
        { name: "a", type: u32, bitOffset: 0, bitfieldSize: 0 },
        { name: "b", type: u32, bitOffset: 32, bitfieldSize: 0 },
      ],
    });
    const codec = btfCodec(btf, pair);
    const values = [{ a: 1, b: 2 }, { a: 0xffffffff, b: 0 }];
    const view = packed(codec, values, 3);
    assert.deepEqual(columnDecoder(codec).decode(view, 3, 2), oneByOne(codec, view, 3, 2));
  });

  test("returns exactly count values that stay put when the source bytes change", () => {
    const codec = numberCodec("s64");
    const decoder = columnDecoder(codec);
    const view = packed(codec, [-1n, 5n, 6n, 7n], 0);
    assert.equal(decoder.decode(view, 0, 0).length, 0);
    const two = decoder.decode(view, 0, 2);
    assert.deepEqual(Array.from(two), [-1n, 5n]);
    codec.encode(9n, view, 0);
    assert.deepEqual(Array.from(two), [-1n, 5n], "the result is a copy, not a view of the source");
    assert.deepEqual(Array.from(decoder.decode(view, 0, 4)), [9n, 5n, 6n, 7n], "a longer run grows the decoder");
  });
});
