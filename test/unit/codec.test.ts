/** Codecs: numbers with range checks, C strings, and values described by BTF (structs, bitfields, arrays). */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Btf } from "../../src/btf/index.js";
import { btfCodec, bytesCodec, numberCodec, stringCodec } from "../../src/codec/index.js";

const view = (size: number) => new DataView(new ArrayBuffer(size));

describe("number codecs", () => {
  test("round-trip every width at its limits in both byte orders", () => {
    for (const le of [true, false]) {
      const cases = [
        ["u8", 255], ["s8", -128], ["u16", 65535], ["s16", -32768], ["u32", 0xffffffff], ["s32", -0x80000000], ["f64", 1.5],
      ] as const;
      for (const [type, value] of cases) {
        const codec = numberCodec(type, le);
        const v = view(8);
        codec.encode(value, v, 0);
        assert.equal(codec.decode(v, 0), value, `${type} ${le}`);
      }
      const u64 = numberCodec("u64", le);
      const v = view(8);
      u64.encode(2n ** 64n - 1n, v, 0);
      assert.equal(u64.decode(v, 0), 2n ** 64n - 1n);
      u64.encode(5 as unknown as bigint, v, 0);
      assert.equal(u64.decode(v, 0), 5n, "safe integers are accepted for u64");
    }
  });

  test("reject values that do not fit, with messages naming the type", () => {
    assert.throws(() => numberCodec("u8").encode(256, view(1), 0), { name: "RangeError", message: "Cannot encode 256 as u8: out of range" });
    assert.throws(() => numberCodec("s32").encode(1.5, view(4), 0), { name: "TypeError", message: /expected an integer/ });
    assert.throws(() => numberCodec("u64").encode(-1n, view(8), 0), RangeError);
    assert.throws(() => numberCodec("u64").encode("1" as unknown as bigint, view(8), 0), TypeError);
  });

  test("C strings stop at the first NUL and are NUL-padded", () => {
    const codec = stringCodec(8);
    const v = view(8);
    codec.encode("bash", v, 0);
    assert.deepEqual([...new Uint8Array(v.buffer)], [98, 97, 115, 104, 0, 0, 0, 0]);
    assert.equal(codec.decode(v, 0), "bash");
    assert.throws(() => codec.encode("123456789", v, 0), RangeError);
    assert.equal(bytesCodec(3).decode(new DataView(Uint8Array.of(1, 2, 3).buffer), 0).length, 3);
  });
});

describe("BTF codecs", () => {
  const btf = Btf.create({ littleEndian: true });
  const u32 = btf.add({ kind: "int", name: "unsigned int", size: 4, signed: false, char: false, bool: false, bitOffset: 0, bits: 32 });
  const s64 = btf.add({ kind: "int", name: "long", size: 8, signed: true, char: false, bool: false, bitOffset: 0, bits: 64 });
  const char = btf.add({ kind: "int", name: "char", size: 1, signed: true, char: true, bool: false, bitOffset: 0, bits: 8 });
  const bool = btf.add({ kind: "int", name: "_Bool", size: 1, signed: false, char: false, bool: true, bitOffset: 0, bits: 8 });
  const u8 = btf.add({ kind: "int", name: "unsigned char", size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 });
  const comm = btf.add({ kind: "array", name: "", type: char, indexType: u32, nelems: 16 });
  const mac = btf.add({ kind: "array", name: "", type: u8, indexType: u32, nelems: 6 });
  const counts = btf.add({ kind: "array", name: "", type: u32, indexType: u32, nelems: 3 });
  const inner = btf.add({
    kind: "struct", name: "", size: 4, members: [
      { name: "lo", type: u32, bitOffset: 0, bitfieldSize: 4 },
      { name: "mid", type: s64, bitOffset: 4, bitfieldSize: 7 },
    ],
  });
  const record = btf.add({
    kind: "struct", name: "rec", size: 56, members: [
      { name: "pid", type: u32, bitOffset: 0, bitfieldSize: 0 },
      { name: "count", type: s64, bitOffset: 64, bitfieldSize: 0 },
      { name: "comm", type: comm, bitOffset: 128, bitfieldSize: 0 },
      { name: "mac", type: mac, bitOffset: 256, bitfieldSize: 0 },
      { name: "on", type: bool, bitOffset: 304, bitfieldSize: 0 },
      { name: "", type: inner, bitOffset: 320, bitfieldSize: 0 },
      { name: "counts", type: counts, bitOffset: 352, bitfieldSize: 0 },
    ],
  });

  test("a struct decodes to an object and encodes back, padding zeroed", () => {
    const codec = btfCodec(btf, record);
    assert.equal(codec.size, 56);
    const v = view(56);
    new Uint8Array(v.buffer).fill(0xee);
    const value = { pid: 42, count: -3n, comm: "bash", mac: Uint8Array.of(1, 2, 3, 4, 5, 6), on: true, lo: 9, mid: -5, counts: [1, 2, 3] };
    codec.encode(value, v, 0);
    assert.deepEqual(codec.decode(v, 0), value);
    assert.equal(v.getUint32(4, true), 0, "padding after pid is zeroed");
    assert.equal(v.getUint32(40, true) & 0xf, 9);
  });

  test("a partial object leaves the other members zero", () => {
    const codec = btfCodec(btf, record);
    const v = view(56);
    codec.encode({ pid: 7 }, v, 0);
    const decoded = codec.decode(v, 0) as Record<string, unknown>;
    assert.equal(decoded.pid, 7);
    assert.equal(decoded.count, 0n);
    assert.equal(decoded.comm, "");
  });

  test("bad values name the member or type", () => {
    const codec = btfCodec(btf, record);
    assert.throws(() => codec.encode({ nope: 1 }, view(56), 0), /struct rec: it has no member "nope"/);
    assert.throws(() => codec.encode({ lo: 16 }, view(56), 0), /4-bit field "lo": out of range/);
    assert.throws(() => codec.encode(5, view(56), 0), /expected an object/);
  });

  test("codecs are compiled once per type", () => {
    assert.equal(btfCodec(btf, record), btfCodec(btf, record));
  });

  test("a member lying outside its struct is a FormatError, not an out-of-bounds read", () => {
    const broken = btf.add({ kind: "struct", name: "broken", size: 4, members: [{ name: "x", type: s64, bitOffset: 0, bitfieldSize: 0 }] });
    assert.throws(() => btfCodec(btf, broken), { name: "FormatError", message: /member "x" of struct broken lies outside it/ });
  });

  test("types without storage cannot be encoded", () => {
    const proto = btf.add({ kind: "func_proto", name: "", returnType: 0, params: [] });
    assert.throws(() => btfCodec(btf, proto), TypeError);
  });
});
