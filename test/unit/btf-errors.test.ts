/** Corrupt .BTF and .BTF.ext bytes: each problem is a FormatError naming the section and the offset. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isWaggleError } from "../../src/errors.js";
import { Btf, marshalBtf, parseBtfExt } from "../../src/btf/index.js";
import { compile, hasClang } from "./btf-helpers.js";

const noClang = hasClang ? false : "needs clang-19";

/**
 * A small blob with a known layout (little-endian, 24-byte header, types from offset 24):
 * [1] int at 24 (16 bytes), [2] ptr at 40, [3] struct "s" at 52 with members at 64 and 76,
 * [4] func_proto at 88 with its parameter at 100, [5] func at 108, [6] var at 120 (linkage at 132);
 * the string section starts at 136.
 */
function sample(): Uint8Array {
  const btf = Btf.create({ littleEndian: true });
  const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
  btf.add({ kind: "ptr", name: "", type: int });
  btf.add({
    kind: "struct",
    name: "s",
    size: 8,
    members: [
      { name: "a", type: int, bitOffset: 0, bitfieldSize: 0 },
      { name: "b", type: 2, bitOffset: 32, bitfieldSize: 0 },
    ],
  });
  btf.add({ kind: "func_proto", name: "", returnType: int, params: [{ name: "x", type: int }] });
  btf.add({ kind: "func", name: "f", type: 4, linkage: "global" });
  btf.add({ kind: "var", name: "v", type: int, linkage: "static" });
  return marshalBtf(btf);
}

const TYPES = 24;
const INT = 24;
const STRUCT = 52;
const MEMBER_B = 76;
const PARAM = 100;
const FUNC = 108;
const VAR = 120;
const STRINGS = 136;

/** A copy of `bytes` with the u32 at `offset` set to `value` (little-endian). */
function patch(bytes: Uint8Array, offset: number, value: number, size: 1 | 2 | 4 = 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (size === 4) view.setUint32(offset, value, true);
  else if (size === 2) view.setUint16(offset, value, true);
  else view.setUint8(offset, value);
  return copy;
}

/** Asserts that `run` throws a FormatError about `section` at `offset` whose message matches `what`. */
function assertFormatError(run: () => unknown, section: string, offset: number, what: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isWaggleError(error, "FormatError"), `expected a FormatError, got ${String(error)}`);
    assert.equal(error.section, section);
    assert.equal(error.offset, offset, error.message);
    assert.match(error.what, what);
    return true;
  });
}

describe("Btf.parse() rejects corrupt headers and sections", () => {
  const bytes = sample();
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["a truncated header", bytes.subarray(0, 20), 0, /header is truncated/],
    ["a bad magic", patch(bytes, 0, 0x1234, 2), 0, /bad magic 0x1234/],
    ["an unknown version", patch(bytes, 2, 2, 1), 2, /unsupported version 2/],
    ["unknown flags", patch(bytes, 3, 1, 1), 3, /unsupported flags/],
    ["a header length past the end", patch(bytes, 4, 4096), 4, /header length 4096 runs past the end/],
    ["a header length below 24", patch(bytes, 4, 16), 4, /smaller than 24/],
    ["a type section out of bounds", patch(bytes, 12, 4096), 8, /type section .* runs past the end/],
    ["a string section out of bounds", patch(bytes, 20, 4096), 16, /string section .* runs past the end/],
    ["a string section overlapping the types", patch(bytes, 16, 0), 16, /type section .* overlaps string section/],
    ["a string section without a leading NUL", patch(bytes, STRINGS, 0x41, 1), STRINGS, /does not start with an empty string/],
    ["a string section without a trailing NUL", patch(bytes, bytes.length - 1, 0x41, 1), bytes.length - 1, /does not end with a NUL/],
    ["a vlen running past the end", patch(bytes, STRUCT + 4, 0x0400_00ff), STRUCT, /type \[3\] \(vlen 255\) runs past the end/],
    ["a record cut by the type section's end", patch(bytes, 12, STRINGS - TYPES - 4), VAR, /runs past the end of the type section/],
    ["a record shorter than struct btf_type", patch(bytes, 12, 4), INT, /type \[1\] is truncated/],
    ["an unknown kind", patch(bytes, INT + 4, 20 << 24), INT + 4, /unknown kind 20/],
    ["kind 0 (BTF_KIND_UNKN)", patch(bytes, FUNC + 4, 0), FUNC + 4, /unknown kind 0/],
  ];
  for (const [name, input, offset, what] of cases) {
    test(`rejects ${name}`, () => assertFormatError(() => Btf.parse(input, { file: "x.o" }), ".BTF", offset, what));
  }

  test("names the file in the message", () => {
    assert.throws(() => Btf.parse(patch(sample(), 0, 0, 2), { file: "prog.o" }), /Cannot parse BTF "prog.o": bad magic/);
  });
});

describe("Btf.type() rejects corrupt records when it decodes them", () => {
  const bytes = sample();
  const cases: [string, Uint8Array, number, number, RegExp][] = [
    ["a name offset past the strings", patch(bytes, STRUCT, 9999), 3, STRUCT, /string offset 9999 is past the end/],
    ["a member name offset past the strings", patch(bytes, MEMBER_B, 9999), 3, MEMBER_B, /string offset 9999/],
    ["a member type id out of range", patch(bytes, MEMBER_B + 4, 7), 3, MEMBER_B + 4, /refers to type \[7\], past the last type \[6\]/],
    ["a pointer to a type id out of range", patch(bytes, 40 + 8, 1000), 2, 48, /refers to type \[1000\]/],
    ["a parameter type id out of range", patch(bytes, PARAM + 4, 99), 4, PARAM + 4, /refers to type \[99\]/],
    ["reserved info bits", patch(bytes, STRUCT + 4, 0x0401_0002), 3, STRUCT + 4, /reserved info bits/],
    ["kind_flag on a pointer", patch(bytes, 40 + 4, 0x8200_0000), 2, 44, /\(ptr\) sets kind_flag/],
    ["an unknown function linkage", patch(bytes, FUNC + 4, 0x0c00_0003), 5, FUNC + 4, /unknown linkage 3/],
    ["an unknown variable linkage", patch(bytes, VAR + 12, 7), 6, VAR + 12, /unknown linkage 7/],
    ["an int wider than 128 bits", patch(bytes, INT + 12, 0x0100_00ff), 1, INT + 12, /255 bits/],
    ["an int with reserved encoding bits", patch(bytes, INT + 12, 0x0800_0020), 1, INT + 12, /reserved encoding bits/],
  ];
  for (const [name, input, id, offset, what] of cases) {
    test(`rejects ${name}`, () => {
      const btf = Btf.parse(input);
      assertFormatError(() => btf.type(id), ".BTF", offset, what);
    });
  }

  test("keeps the other types usable", () => {
    const btf = Btf.parse(patch(sample(), MEMBER_B + 4, 7));
    assert.equal(btf.type(1).kind, "int");
    assert.equal(btf.type(5).name, "f");
  });
});

describe("parseBtfExt() rejects corrupt sections", { skip: noClang }, () => {
  const object = hasClang ? compile("core") : undefined;
  const btf = object ? Btf.parse(object.btf) : Btf.create();
  const ext = object?.ext ?? new Uint8Array(0);
  const view = new DataView(ext.buffer, ext.byteOffset, ext.byteLength);
  const lineStart = 32 + (ext.length >= 32 ? view.getUint32(16, true) : 0);
  const coreStart = 32 + (ext.length >= 32 ? view.getUint32(24, true) : 0);
  const FUNC_INFO = 32;
  const BLOCK = FUNC_INFO + 4;
  const RECORD = BLOCK + 8;
  const cases: [string, () => Uint8Array, number, RegExp][] = [
    ["a truncated header", () => ext.subarray(0, 16), 0, /header is truncated/],
    ["a bad magic", () => patch(ext, 0, 0xbeef, 2), 0, /bad magic/],
    ["an unknown version", () => patch(ext, 2, 9, 1), 2, /unsupported version 9/],
    ["a header length past the end", () => patch(ext, 4, 1 << 20), 4, /header length .* runs past the end/],
    ["a header length below 24", () => patch(ext, 4, 8), 4, /smaller than 24/],
    ["a subsection out of bounds", () => patch(ext, 12, 1 << 20), 8, /func info subsection .* runs past the end/],
    ["a record size below the minimum", () => patch(ext, FUNC_INFO, 4), FUNC_INFO, /record size 4 is not .* at least 8/],
    ["a record size that is not a multiple of 4", () => patch(ext, FUNC_INFO, 10), FUNC_INFO, /record size 10/],
    ["a line info record size below the minimum", () => patch(ext, lineStart, 12), lineStart, /line info record size 12/],
    ["an unknown section name", () => patch(ext, BLOCK, 1 << 20), BLOCK, /section name offset \d+ is outside the BTF string section/],
    ["a block without records", () => patch(ext, BLOCK + 4, 0), BLOCK + 4, /has no records/],
    ["a block running past its subsection", () => patch(ext, BLOCK + 4, 1000), BLOCK + 8, /\(1000 records\) runs past the end/],
    ["a misaligned instruction offset", () => patch(ext, RECORD, 12), RECORD, /not a multiple of 8/],
    ["a type id out of range", () => patch(ext, RECORD + 4, 1 << 20), RECORD + 4, /type \[1048576\] is past the last BTF type/],
    ["a file name offset out of range", () => patch(ext, lineStart + 12 + 4, 1 << 20), lineStart + 16, /file name offset/],
    ["an unknown CO-RE relocation kind", () => patch(ext, coreStart + 12 + 12, 13), coreStart + 24, /unknown CO-RE relocation kind 13/],
  ];
  for (const [name, input, offset, what] of cases) {
    test(`rejects ${name}`, () => assertFormatError(() => parseBtfExt(input(), btf, { file: "core.o" }), ".BTF.ext", offset, what));
  }

  test("rejects a .BTF.ext whose byte order differs from the .BTF's", () => {
    assertFormatError(() => parseBtfExt(compile("core", true).ext!, btf), ".BTF.ext", 0, /byte order differs/);
  });

  test("rejects a section listed twice", () => {
    // Point the third func info block's name at the first block's name.
    const first = view.getUint32(BLOCK, true);
    const third = BLOCK + 2 * (8 + 8);
    assertFormatError(() => parseBtfExt(patch(ext, third, first), btf), ".BTF.ext", third, /lists section "kprobe\/fields" twice/);
  });
});
