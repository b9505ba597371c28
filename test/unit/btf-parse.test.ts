/** Btf.parse() and lookups against real objects, vmlinux, and bpftool's reading of the same bytes. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { Btf, BTF_KIND, btfKindNumber, type BtfType } from "../../src/btf/index.js";
import {
  bpftool,
  compile,
  hasBpftool,
  hasClang,
  hasVmlinux,
  rawDump,
  testObjects,
  vmlinuxPath,
} from "./btf-helpers.js";

const noBpftool = hasBpftool ? false : "needs bpftool";
const noClang = hasClang ? false : "needs clang-19";
const noVmlinux = hasVmlinux ? false : `needs a readable ${vmlinuxPath}`;

describe("Btf.parse()", () => {
  for (const object of testObjects()) {
    test(`decodes every type of ${object.name} as bpftool does`, { skip: noBpftool }, () => {
      const btf = Btf.parse(object.btf, { file: object.path });
      const expected = bpftool("btf", "dump", "file", object.path).trimEnd().split("\n");
      assert.deepEqual(rawDump(btf), expected);
    });
  }

  test("decodes every kind clang emits, in both byte orders, to the same model", { skip: noClang }, () => {
    const little = Btf.parse(compile("kinds").btf);
    const big = Btf.parse(compile("kinds", true).btf);
    assert.equal(little.littleEndian, true);
    assert.equal(big.littleEndian, false);
    assert.deepEqual([...big], [...little]);
    const kinds = new Set([...little].map(([, type]) => type.kind));
    const encoded = Object.keys(BTF_KIND).map((name) => name.toLowerCase());
    assert.deepEqual([...kinds].sort(), encoded.sort());
  });

  test("decodes bitfields, signed enums, 64-bit enums, tags and linkage", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const flags = byName(btf, "flags", "struct");
    assert.deepEqual(
      flags.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize]),
      [
        ["a", 0, 1],
        ["b", 1, 3],
        ["c", 4, 5],
        ["wide", 9, 40],
        ["after", 56, 0],
        ["s", 64, 7],
      ],
    );
    assert.deepEqual(byName(btf, "delta", "enum").values, [
      { name: "DOWN", value: -1 },
      { name: "FLAT", value: 0 },
      { name: "UP", value: 1 },
    ]);
    assert.equal(byName(btf, "delta", "enum").signed, true);
    assert.equal(byName(btf, "color", "enum").signed, false);
    assert.equal(byName(btf, "small", "enum").size, 1);
    assert.deepEqual(byName(btf, "big", "enum64").values, [
      { name: "HUGE", value: 0x1_0000_0000n },
      { name: "NEG", value: -2n },
    ]);
    assert.deepEqual(byName(btf, "ubig", "enum64").values, [{ name: "UHUGE", value: 0xffff_ffff_ffff_ffffn }]);
    assert.equal(byName(btf, "helper", "func").linkage, "static");
    assert.equal(byName(btf, "entry", "func").linkage, "global");
    assert.equal(byName(btf, "bpf_some_kfunc", "func").linkage, "extern");
    assert.equal(byName(btf, "some_kernel_var", "var").linkage, "extern");
    assert.equal(byName(btf, "later", "fwd").union, true);
    assert.equal(byName(btf, "opaque", "fwd").union, false);

    const paramTag = byName(btf, "param_tag", "decl_tag");
    assert.equal(btf.type(paramTag.type).name, "helper");
    assert.equal(paramTag.componentIdx, 1);
    assert.equal(byName(btf, "struct_tag", "decl_tag").componentIdx, -1);
    const user = byName(btf, "user", "type_tag");
    assert.equal(btf.type(user.type).name, "int");
    assert.equal(user.attribute, false);

    const variadic = btf.type(btf.resolve(btf.find("variadic")!));
    assert.equal(variadic.kind, "ptr");
    const proto = btf.type((variadic as { type: number }).type);
    assert.equal(proto.kind, "func_proto");
    assert.deepEqual(proto.kind === "func_proto" && proto.params.at(-1), { name: "", type: 0 });

    const bool = byName(btf, "_Bool", "int");
    assert.deepEqual([bool.bool, bool.signed, bool.size, bool.bits], [true, false, 1, 8]);
    assert.equal(byName(btf, "unsigned __int128", "int").bits, 128);
  });

  test("gives void for id 0 and RangeError past the last id", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    assert.deepEqual(btf.type(0), { kind: "void", name: "" });
    assert.throws(() => btf.type(btf.lastId + 1), RangeError);
    assert.throws(() => btf.type(-1), RangeError);
    assert.throws(() => btf.type(1.5), RangeError);
    assert.equal(btf.firstId, 1);
  });

  test("decodes each type once and returns the same object afterwards", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const id = btf.find("node", "struct")!;
    assert.equal(btf.type(id), btf.type(id));
  });
});

describe("Btf lookups", () => {
  test("typesByName() finds every type with a name, in id order", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    for (const [id, type] of btf) {
      if (type.name !== "") assert.ok(btf.typesByName(type.name).includes(id), `${type.kind} ${type.name}`);
    }
    assert.deepEqual(btf.typesByName("no_such_type"), []);
    const ints = btf.typesByName("int");
    assert.deepEqual(ints, [...ints].sort((a, b) => a - b));
  });

  test("find() filters by kind and returns undefined when nothing matches", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    assert.equal(btf.type(btf.find("node", "struct")!).kind, "struct");
    assert.equal(btf.find("node", "union"), undefined);
    assert.equal(btf.find("u32"), btf.find("u32", "typedef"));
  });

  test("resolve() skips typedefs and qualifiers", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const resolved = btf.type(btf.resolve(btf.find("cv_u32")!));
    assert.deepEqual([resolved.kind, resolved.name], ["int", "unsigned int"]);
  });

  test("sizeof() and alignof() follow C layout", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const node = btf.find("node", "struct")!;
    assert.equal(btf.sizeof(node), 224);
    assert.equal(btf.alignof(node), 8);
    const member = (name: string) => byName(btf, "node", "struct").members.find((m) => m.name === name)!.type;
    assert.equal(btf.sizeof(member("matrix")), 48);
    assert.equal(btf.sizeof(member("row")), 8);
    assert.equal(btf.sizeof(member("handlers")), 24);
    assert.equal(btf.sizeof(member("point")), 8);
    assert.equal(btf.alignof(member("point")), 4);
    assert.equal(btf.sizeof(member("tail")), 0);
    assert.equal(btf.sizeof(btf.find("cv_u32")!), 4);
    assert.equal(btf.sizeof(btf.find("number_value", "var")!), 8);
    assert.equal(btf.alignof(btf.find("packed_thing", "struct")!), 1);
    assert.equal(btf.sizeof(btf.find("packed_thing", "struct")!), 5);
    assert.equal(btf.alignof(btf.find("unsigned __int128", "int")!), 8);
    assert.equal(btf.alignof(btf.find("small", "enum")!), 1);
    assert.equal(btf.sizeof(btf.find("empty", "struct")!), 0);
    assert.equal(btf.alignof(btf.find("empty", "struct")!), 1);
  });

  test("sizeof() and alignof() reject types without a size", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    for (const id of [0, btf.find("entry", "func")!, btf.find("opaque", "fwd")!]) {
      assert.throws(() => btf.sizeof(id), { name: "FormatError" });
      assert.throws(() => btf.alignof(id), { name: "FormatError" });
    }
    assert.throws(() => btf.sizeof(btf.lastId + 1), RangeError);
  });
});

describe("Btf.parse() of vmlinux", () => {
  test("decodes every type of vmlinux as bpftool does", { skip: noBpftool || noVmlinux }, () => {
    const btf = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)), { file: vmlinuxPath });
    const expected = bpftool("btf", "dump", "file", vmlinuxPath).trimEnd().split("\n");
    const actual = rawDump(btf);
    assert.equal(actual.length, expected.length);
    for (let i = 0; i < actual.length; i++) {
      if (actual[i] !== expected[i]) assert.equal(actual[i], expected[i], `line ${i + 1}`);
    }
  });

  test("parses vmlinux lazily and finds task_struct (timings printed)", { skip: noVmlinux }, (t) => {
    // Measured in a fresh process, so that nothing is compiled or cached yet: what a program sees.
    const btfModule = new URL("../../src/btf/index.js", import.meta.url).href;
    const script = `
      import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
      const { Btf } = await import(${JSON.stringify(btfModule)});
      const bytes = new Uint8Array(readFileSync(${JSON.stringify(vmlinuxPath)}));
      const time = (f) => { const start = performance.now(); const value = f(); return [value, performance.now() - start]; };
      const [btf, parse] = time(() => Btf.parse(bytes));
      const [id, find] = time(() => btf.find("task_struct", "struct"));
      const [task, decode] = time(() => btf.type(id));
      const [, second] = time(() => btf.find("sk_buff", "struct"));
      console.log(JSON.stringify({ size: bytes.length, types: btf.lastId, parse, find, decode, second, members: task.members.length }));
    `;
    const result = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" }));
    t.diagnostic(
      `vmlinux (${result.size} bytes, ${result.types} types), cold process: parse ${result.parse.toFixed(1)} ms, ` +
        `first lookup (builds the name index) ${result.find.toFixed(1)} ms, decode task_struct ` +
        `${result.decode.toFixed(2)} ms, second lookup ${result.second.toFixed(2)} ms`,
    );
    assert.ok(result.members > 50);
  });

  test("sizes and aligns every struct and union of vmlinux", { skip: noVmlinux }, () => {
    const btf = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)));
    for (const [id, type] of btf) {
      if (type.kind !== "struct" && type.kind !== "union") continue;
      assert.equal(btf.sizeof(id), type.size);
      const align = btf.alignof(id);
      assert.ok(align >= 1 && align <= 8 && type.size % align === 0, `${type.name} [${id}] aligned to ${align}`);
    }
  });
});

describe("btfKindNumber()", () => {
  test("numbers kinds as the kernel does and refuses void", () => {
    const kinds: BtfType["kind"][] = ["int", "struct", "func_proto", "enum64"];
    assert.deepEqual(
      kinds.map((kind) => btfKindNumber(kind)),
      [1, 4, 13, 19],
    );
    assert.throws(() => btfKindNumber("void"), RangeError);
  });
});

/** The type named `name` of kind `kind`, narrowed. */
function byName<K extends BtfType["kind"]>(btf: Btf, name: string, kind: K): Extract<BtfType, { kind: K }> {
  const id = btf.find(name, kind);
  assert.notEqual(id, undefined, `${kind} ${name}`);
  return btf.type(id!) as Extract<BtfType, { kind: K }>;
}
