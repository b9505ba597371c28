/** marshalBtf(), Btf.create()/add()/set() and split BTF: round trips, byte orders, and bpftool reading our bytes. */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";

import { Btf, marshalBtf, type BtfType } from "../../src/btf/index.js";
import {
  bpftool,
  compile,
  hasBpftool,
  hasClang,
  hasVmlinux,
  rawDump,
  testObjects,
  vmlinuxPath,
  writeScratch,
} from "./btf-helpers.js";

const noBpftool = hasBpftool ? false : "needs bpftool";
const noClang = hasClang ? false : "needs clang-19";
const noVmlinux = hasVmlinux ? false : `needs a readable ${vmlinuxPath}`;

/** A copy of `btf`'s types added one by one to a fresh Btf (so every string is appended anew). */
function rebuild(btf: Btf): Btf {
  const copy = Btf.create({ littleEndian: btf.littleEndian });
  for (const [id, type] of btf) assert.equal(copy.add(type), id);
  return copy;
}

describe("marshalBtf()", () => {
  for (const object of testObjects()) {
    test(`reproduces the .BTF of ${object.name} byte for byte`, () => {
      assert.deepEqual(marshalBtf(Btf.parse(object.btf)), object.btf);
    });

    test(`rebuilds ${object.name} type by type into an equal model`, () => {
      const original = Btf.parse(object.btf);
      const reparsed = Btf.parse(marshalBtf(rebuild(original)));
      assert.deepEqual([...reparsed], [...original]);
    });

    test(`writes ${object.name} in the other byte order and back`, () => {
      const original = Btf.parse(object.btf);
      const swapped = marshalBtf(original, { littleEndian: !original.littleEndian });
      const reparsed = Btf.parse(swapped);
      assert.equal(reparsed.littleEndian, !original.littleEndian);
      assert.deepEqual([...reparsed], [...original]);
      assert.deepEqual(marshalBtf(reparsed, { littleEndian: original.littleEndian }), object.btf);
    });
  }

  test("turns clang's little-endian BTF into exactly its big-endian BTF", { skip: noClang }, () => {
    for (const name of ["kinds", "core"]) {
      const little = Btf.parse(compile(name).btf);
      assert.deepEqual(marshalBtf(little, { littleEndian: false }), compile(name, true).btf);
    }
  });

  test("reproduces vmlinux byte for byte and rebuilds it into an equal model", { skip: noVmlinux }, () => {
    const bytes = new Uint8Array(readFileSync(vmlinuxPath));
    const btf = Btf.parse(bytes);
    assert.deepEqual(marshalBtf(btf), bytes);
    const reparsed = Btf.parse(marshalBtf(rebuild(btf)));
    assert.equal(reparsed.lastId, btf.lastId);
    for (const [id, type] of reparsed) {
      if (!isDeepStrictEqual(type, btf.type(id))) assert.deepEqual(type, btf.type(id), `type [${id}]`);
    }
  });
});

describe("Btf.create() and add()", () => {
  /** One type of every kind, referring to each other by id. */
  function everyKind(btf: Btf): void {
    const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    const uchar = btf.add({ kind: "int", name: "unsigned char", size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 });
    const ptr = btf.add({ kind: "ptr", name: "", type: int + 3 });
    const pair = btf.add({
      kind: "struct",
      name: "pair",
      size: 16,
      members: [
        { name: "next", type: ptr, bitOffset: 0, bitfieldSize: 0 },
        { name: "low", type: int, bitOffset: 64, bitfieldSize: 3 },
        { name: "high", type: int, bitOffset: 67, bitfieldSize: 29 },
        { name: "bytes", type: int + 4, bitOffset: 96, bitfieldSize: 0 },
      ],
    });
    assert.equal(pair, int + 3);
    btf.add({ kind: "array", name: "", type: uchar, indexType: int, nelems: 4 });
    btf.add({ kind: "union", name: "either", size: 4, members: [{ name: "i", type: int, bitOffset: 0, bitfieldSize: 0 }] });
    btf.add({ kind: "enum", name: "e", size: 4, signed: true, values: [{ name: "MINUS", value: -5 }, { name: "PLUS", value: 5 }] });
    btf.add({ kind: "enum64", name: "e64", size: 8, signed: false, values: [{ name: "MAX", value: 0xffff_ffff_ffff_ffffn }] });
    btf.add({ kind: "fwd", name: "later", union: true });
    const typedef = btf.add({ kind: "typedef", name: "pair_t", type: pair });
    btf.add({ kind: "volatile", name: "", type: int });
    const constant = btf.add({ kind: "const", name: "", type: int });
    btf.add({ kind: "restrict", name: "", type: ptr });
    const proto = btf.add({
      kind: "func_proto",
      name: "",
      returnType: int,
      params: [
        { name: "p", type: typedef },
        { name: "", type: 0 },
      ],
    });
    const func = btf.add({ kind: "func", name: "main", type: proto, linkage: "global" });
    const variable = btf.add({ kind: "var", name: "counter", type: constant, linkage: "static" });
    btf.add({ kind: "datasec", name: ".data", size: 4, vars: [{ type: variable, offset: 0, size: 4 }] });
    btf.add({ kind: "float", name: "double", size: 8 });
    btf.add({ kind: "decl_tag", name: "tag", type: func, componentIdx: 0, attribute: false });
    btf.add({ kind: "type_tag", name: "user", type: int, attribute: false });
    btf.add({ kind: "type_tag", name: "address_space(1)", type: int, attribute: true });
  }

  test("builds BTF that parses back to the same types", () => {
    const btf = Btf.create({ littleEndian: true });
    everyKind(btf);
    const reparsed = Btf.parse(marshalBtf(btf));
    assert.deepEqual([...reparsed], [...btf]);
  });

  test("builds BTF that bpftool reads as we do", { skip: noBpftool }, () => {
    for (const littleEndian of [true, false]) {
      const btf = Btf.create({ littleEndian });
      everyKind(btf);
      const path = writeScratch(`built-${littleEndian ? "le" : "be"}.btf`, marshalBtf(btf));
      assert.deepEqual(rawDump(Btf.parse(marshalBtf(btf))), bpftool("btf", "dump", "file", path).trimEnd().split("\n"));
    }
  });

  test("finds added types by name, including after set() renames one", () => {
    const btf = Btf.create();
    everyKind(btf);
    const pair = btf.find("pair", "struct")!;
    assert.deepEqual(btf.typesByName("pair"), [pair]);
    btf.set(pair, { kind: "struct", name: "renamed", size: 16, members: [] });
    assert.deepEqual(btf.typesByName("pair"), []);
    assert.deepEqual(btf.typesByName("renamed"), [pair]);
    const added = btf.add({ kind: "typedef", name: "renamed", type: pair });
    assert.deepEqual(btf.typesByName("renamed"), [pair, added]);
    assert.equal(btf.find("renamed", "typedef"), added);
  });

  test("set() replaces a parsed type, for sanitising BTF", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const tags = [...btf].filter(([, type]) => type.kind === "decl_tag" || type.kind === "type_tag");
    assert.ok(tags.length > 0);
    for (const [id, type] of tags) {
      // As libbpf does for kernels without tags: a decl_tag becomes an int, a type_tag a typedef.
      const replacement: BtfType =
        type.kind === "decl_tag"
          ? { kind: "int", name: type.name, size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 }
          : { kind: "typedef", name: type.name, type: type.kind === "type_tag" ? type.type : 0 };
      btf.set(id, replacement);
    }
    const reparsed = Btf.parse(marshalBtf(btf));
    assert.equal([...reparsed].filter(([, type]) => type.kind === "decl_tag" || type.kind === "type_tag").length, 0);
    assert.equal(reparsed.find("user", "typedef"), tags.find(([, type]) => type.name === "user")![0]);
    assert.throws(() => btf.set(0, { kind: "float", name: "x", size: 4 }), RangeError);
    assert.throws(() => btf.set(btf.lastId + 1, { kind: "float", name: "x", size: 4 }), RangeError);
  });

  test("marshalBtf() rejects references to missing types and values that do not fit", () => {
    const cases: BtfType[] = [
      { kind: "ptr", name: "", type: 99 },
      { kind: "struct", name: "s", size: 4, members: [{ name: "m", type: 1, bitOffset: 1 << 24, bitfieldSize: 1 }] },
      { kind: "enum", name: "e", size: 4, signed: false, values: [{ name: "A", value: 2 ** 32 }] },
      { kind: "enum64", name: "e", size: 8, signed: true, values: [{ name: "A", value: 2n ** 63n }] },
      { kind: "int", name: "i", size: -1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 },
      { kind: "func", name: "f", type: 1, linkage: "weak" as "static" },
      { kind: "func_proto", name: "", returnType: 0, params: Array.from({ length: 0x10000 }, () => ({ name: "", type: 1 })) },
    ];
    for (const type of cases) {
      const btf = Btf.create();
      btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
      btf.add(type);
      assert.throws(() => marshalBtf(btf), RangeError, type.kind);
    }
    assert.throws(() => Btf.create().add({ kind: "void", name: "" }), TypeError);
    const withNul = Btf.create();
    withNul.add({ kind: "typedef", name: "a\0b", type: 0 });
    assert.throws(() => marshalBtf(withNul), TypeError);
  });
});

describe("split BTF", () => {
  test("continues the base's ids and string offsets, and bpftool reads it with the base", { skip: noClang }, () => {
    const baseObject = compile("kinds");
    const base = Btf.parse(baseObject.btf);
    const split = Btf.create({ base });
    assert.equal(split.firstId, base.lastId + 1);
    const node = base.find("node", "struct")!;
    const ptr = split.add({ kind: "ptr", name: "", type: node });
    const wrapper = split.add({
      kind: "struct",
      name: "module_thing",
      size: 16,
      members: [
        { name: "node", type: ptr, bitOffset: 0, bitfieldSize: 0 },
        { name: "counter", type: base.find("int", "int")!, bitOffset: 64, bitfieldSize: 0 },
      ],
    });
    const bytes = marshalBtf(split);
    // "counter" and "node" are base strings: the split blob only adds "module_thing".
    assert.equal(split.strings.size, "module_thing".length + 1);
    assert.equal(split.strings.find("counter"), base.strings.find("counter"));

    const reparsed = Btf.parse(bytes, { base });
    assert.equal(reparsed.firstId, split.firstId);
    assert.deepEqual([...reparsed], [...split]);
    assert.deepEqual(reparsed.type(node), base.type(node));
    assert.deepEqual(reparsed.typesByName("node"), [...base.typesByName("node")]);
    assert.deepEqual(reparsed.typesByName("module_thing"), [wrapper]);
    assert.equal(reparsed.find("int", "int"), base.find("int", "int"));
    assert.equal(reparsed.sizeof(wrapper), 16);
    assert.deepEqual(marshalBtf(reparsed), bytes);

    if (hasBpftool) {
      const basePath = writeScratch("split-base.btf", baseObject.btf);
      const splitPath = writeScratch("split.btf", bytes);
      const dumped = bpftool("btf", "dump", "file", splitPath, "--base-btf", basePath).trimEnd().split("\n");
      assert.deepEqual(dumped, rawDump(reparsed));
    }
  });

  test("splits vmlinux: a module-like blob over the kernel's BTF", { skip: noVmlinux }, () => {
    const vmlinux = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)));
    const split = Btf.create({ base: vmlinux });
    const task = vmlinux.find("task_struct", "struct")!;
    split.add({ kind: "ptr", name: "", type: task });
    split.add({ kind: "var", name: "waggle_current_task", type: split.lastId, linkage: "global" });
    const reparsed = Btf.parse(marshalBtf(split), { base: vmlinux });
    assert.equal(reparsed.find("waggle_current_task", "var"), vmlinux.lastId + 2);
    assert.equal(reparsed.type(reparsed.lastId - 1).kind, "ptr");
    assert.equal(reparsed.strings.size, "waggle_current_task".length + 1);
  });

  test("rejects a split blob in the other byte order than its base", { skip: noClang }, () => {
    const base = Btf.parse(compile("kinds").btf);
    const split = Btf.create({ base });
    split.add({ kind: "ptr", name: "", type: 1 });
    const swapped = marshalBtf(split, { littleEndian: !base.littleEndian });
    assert.throws(() => Btf.parse(swapped, { base }), { name: "FormatError" });
    assert.throws(() => Btf.create({ base, littleEndian: !base.littleEndian }), TypeError);
  });
});
