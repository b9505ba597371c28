/**
 * sanitizeBtf() over clang's output (test/unit/btf/kinds.bpf.c has every kind, the fixtures add real
 * programs), a built Btf and split BTF: with one feature off at a time, then all off, the kinds the kernel
 * lacks are gone, each type became what libbpf makes of it, ids and sizes keep their meaning, strings are
 * only appended, the result marshals and re-parses, and the input is left as it was. Random feature sets
 * over every object, and over corrupted blobs, throw nothing but FormatError.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";

import { isWaggleError } from "../../src/errors.js";
import { Btf, marshalBtf, sanitizeBtf, type BtfSupport, type BtfType, type TypeId } from "../../src/btf/index.js";
import { compile, hasClang, testObjects } from "./btf-helpers.js";
import { FEATURES, FULL, NONE, VARIANTS } from "../helpers/btf-support.js";

/** What a kernel without the feature must not be shown. */
const UNSUPPORTED: Record<keyof BtfSupport, (type: BtfType) => boolean> = {
  funcs: (t) => t.kind === "func" || t.kind === "func_proto",
  funcLinkage: (t) => t.kind === "func" && t.linkage !== "static",
  datasec: (t) => t.kind === "var" || t.kind === "datasec",
  qmarkDatasec: (t) => t.kind === "datasec" && t.name.startsWith("?"),
  float: (t) => t.kind === "float",
  declTag: (t) => t.kind === "decl_tag",
  typeTag: (t) => t.kind === "type_tag",
  enum64: (t) => t.kind === "enum64" || (t.kind === "enum" && t.signed),
};

/** Kinds that have a size, which sanitising must keep. */
const SIZED = new Set<BtfType["kind"]>(["int", "ptr", "array", "struct", "union", "enum", "enum64", "typedef", "volatile", "const", "restrict", "float", "type_tag"]);

/** Kinds whose name libbpf keeps whatever happens to them. */
const NAME_KEPT = new Set<BtfType["kind"]>(["int", "ptr", "array", "struct", "union", "enum", "enum64", "fwd", "typedef", "volatile", "const", "restrict", "func", "func_proto", "var", "decl_tag"]);

const byteInt = (name: string): BtfType => ({ kind: "int", name, size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 });

/** The rules table of docs/formats.md, type by type: what `id` of `btf` must become. */
function expected(btf: Btf, id: TypeId, s: BtfSupport, placeholder: TypeId): BtfType {
  const t = btf.type(id);
  switch (t.kind) {
    case "var":
      return s.datasec ? t : byteInt(t.name);
    case "decl_tag": {
      const target = btf.type(t.type).kind;
      const kept = s.declTag && (s.funcs || target !== "func") && (s.datasec || target !== "var");
      return kept ? t : byteInt(t.name);
    }
    case "datasec":
      if (!s.datasec) {
        const members = t.vars.map((v) => ({ name: btf.type(v.type).name, type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 }));
        return { kind: "struct", name: t.name.replaceAll(".", "_").replaceAll("?", "_"), size: t.size, members };
      }
      return !s.qmarkDatasec && t.name.startsWith("?") ? { ...t, name: `_${t.name.slice(1)}` } : t;
    case "func_proto":
      if (s.funcs) return t;
      return { kind: "enum", name: "", size: 4, signed: false, values: t.params.map((p, i) => ({ name: p.name || `arg${i}`, value: p.type })) };
    case "func":
      if (!s.funcs) return { kind: "typedef", name: t.name, type: t.type };
      return s.funcLinkage ? t : { ...t, linkage: "static" };
    case "float":
      return s.float ? t : { kind: "struct", name: "", size: t.size, members: [] };
    case "type_tag":
      return s.typeTag ? t : { kind: "const", name: "", type: t.type };
    case "enum":
      return s.enum64 || !t.signed ? t : { ...t, signed: false, values: t.values.map((v) => ({ name: v.name, value: v.value >>> 0 })) };
    case "enum64":
      if (s.enum64) return t;
      return { kind: "union", name: t.name, size: t.size, members: t.values.map((v) => ({ name: v.name, type: placeholder, bitOffset: 0, bitfieldSize: 0 })) };
    default:
      return t;
  }
}

/** A BTF under test, with a note of how it was made. */
interface Subject {
  readonly name: string;
  readonly make: () => Btf;
}

/** Built by hand: what clang never emits (a `?` section name) and types that were never marshalled. */
function built(): Btf {
  const btf = Btf.create({ littleEndian: true });
  const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
  const opt = btf.add({ kind: "var", name: "opt", type: int, linkage: "global" });
  btf.add({ kind: "datasec", name: "?.data.opt", size: 8, vars: [{ type: opt, offset: 4, size: 4 }] });
  const proto = btf.add({ kind: "func_proto", name: "", returnType: int, params: [{ name: "", type: int }, { name: "b", type: int }] });
  const fn = btf.add({ kind: "func", name: "f", type: proto, linkage: "global" });
  btf.add({ kind: "decl_tag", name: "arg:ctx", type: fn, componentIdx: 1, attribute: false });
  btf.add({ kind: "enum", name: "e", size: 4, signed: true, values: [{ name: "E_NEG", value: -2 }] });
  return btf;
}

/** Split BTF whose own types are over a base's: only they may change, with ids after the base's. */
function split(): Btf {
  const base = built();
  const btf = Btf.create({ base });
  const float = btf.add({ kind: "float", name: "double", size: 8 });
  const tag = btf.add({ kind: "type_tag", name: "user", type: float, attribute: false });
  btf.add({ kind: "ptr", name: "", type: tag });
  btf.add({ kind: "enum64", name: "wide", size: 8, signed: false, values: [{ name: "W", value: 1n << 40n }] });
  return btf;
}

function subjects(): Subject[] {
  return [
    ...testObjects().map((object): Subject => ({ name: object.name, make: () => Btf.parse(object.btf, { file: object.name }) })),
    { name: "a built Btf", make: built },
    { name: "split BTF", make: split },
  ];
}

/** Checks everything sanitizeBtf promises for one input and feature set; returns whether it changed anything. */
function check(input: Btf, support: BtfSupport): boolean {
  const types = [...input];
  const snapshot = structuredClone(types);
  const bytes = marshalBtf(input).slice();
  const out = sanitizeBtf(input, support);

  assert.deepEqual([...input], snapshot, "the input's types are unchanged");
  assert.deepEqual(marshalBtf(input), bytes, "the input's bytes are unchanged");

  const placeholder = input.lastId + 1;
  const addsPlaceholder = !support.enum64 && types.some(([, t]) => t.kind === "enum64");
  const changed = types.some(([id, t]) => !isDeepEqual(expected(input, id, support, placeholder), t));
  assert.equal(out === input, !changed, "the input itself comes back exactly when nothing needs rewriting");
  if (!changed) return false;

  assert.equal(out.firstId, input.firstId);
  assert.equal(out.base, input.base);
  assert.equal(out.littleEndian, input.littleEndian);
  assert.equal(out.lastId, input.lastId + (addsPlaceholder ? 1 : 0));
  if (addsPlaceholder) assert.deepEqual(out.type(placeholder), byteInt("enum64_placeholder"));

  for (const [id, t] of types) {
    const o = out.type(id);
    assert.deepEqual(o, expected(input, id, support, placeholder), `type [${id}] ${t.kind} ${t.name}`);
    if (NAME_KEPT.has(t.kind)) assert.equal(o.name, t.name, `type [${id}] keeps its name`);
    if (SIZED.has(t.kind)) {
      const size = sizeOrUndefined(input, id);
      if (size !== undefined) assert.equal(out.sizeof(id), size, `type [${id}] ${t.kind} ${t.name} keeps its size`);
    }
  }
  for (const [feature, supported] of Object.entries(support) as [keyof BtfSupport, boolean][]) {
    if (supported) continue;
    const left = [...out].filter(([, t]) => UNSUPPORTED[feature](t)).map(([id, t]) => `[${id}] ${t.kind} ${t.name}`);
    assert.deepEqual(left, [], `nothing a kernel without ${feature} rejects is left`);
  }

  const strings = input.strings.bytes();
  assert.deepEqual(out.strings.bytes().subarray(0, strings.length), strings, "strings are only appended (.BTF.ext offsets stay valid)");
  const reparsed = Btf.parse(marshalBtf(out), { ...(out.base && { base: out.base }) });
  assert.deepEqual([...reparsed], [...out], "the result marshals and re-parses to the same types");
  return true;
}

function sizeOrUndefined(btf: Btf, id: TypeId): number | undefined {
  try {
    return btf.sizeof(id);
  } catch (error) {
    if (isWaggleError(error, "FormatError")) return undefined; // a function type, or void behind a typedef
    throw error;
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

describe("sanitizeBtf()", () => {
  const all = subjects();

  test("returns its input when the kernel supports everything", () => {
    for (const subject of all) {
      const btf = subject.make();
      assert.equal(sanitizeBtf(btf, FULL), btf, subject.name);
    }
  });

  for (const [name, support] of VARIANTS) {
    test(`${name}: rewrites each unsupported type as libbpf does, keeping ids, sizes and names`, () => {
      const changed = all.filter((subject) => check(subject.make(), support)).map((subject) => subject.name);
      // The rule must have had something to do: the built and split BTF have every kind it rewrites.
      assert.notEqual(changed.length, 0, "no object exercised the rule");
    });
  }

  test("names the enumerators of unnamed parameters, which kernels with FUNC check", () => {
    const out = sanitizeBtf(built(), { ...FULL, funcs: false });
    const proto = out.type(4);
    assert.equal(proto.kind, "enum");
    assert.deepEqual(proto.kind === "enum" && proto.values, [{ name: "arg0", value: 1 }, { name: "b", value: 1 }]);
  });

  test("turns a DECL_TAG into an INT along with the FUNC it tags, even when tags are supported", () => {
    const out = sanitizeBtf(built(), { ...FULL, funcs: false });
    assert.deepEqual(out.type(6), byteInt("arg:ctx"));
  });

  test("fixes up '?' and '.' in DATASEC names only as far as the kernel needs", () => {
    assert.equal(sanitizeBtf(built(), { ...FULL, qmarkDatasec: false }).type(3).name, "_.data.opt");
    assert.equal(sanitizeBtf(built(), { ...FULL, datasec: false }).type(3).name, "__data_opt");
  });

  test("rewrites only the own types of split BTF", () => {
    const input = split();
    const out = sanitizeBtf(input, NONE);
    assert.equal(out.base, input.base);
    assert.deepEqual(out.type(3), input.base!.type(3), "the base keeps its DATASEC");
    assert.deepEqual(out.type(input.firstId), { kind: "struct", name: "", size: 8, members: [] });
  });

  test("a DATASEC variable beyond a struct member's 32-bit bit offset is a FormatError", () => {
    const btf = Btf.create();
    const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    const v = btf.add({ kind: "var", name: "far", type: int, linkage: "global" });
    btf.add({ kind: "datasec", name: ".bss", size: 0xffff_fff0, vars: [{ type: v, offset: 0x2000_0000, size: 4 }] });
    assert.throws(() => sanitizeBtf(btf, { ...FULL, datasec: false }), (error) => isWaggleError(error, "FormatError") && /DATASEC \.bss \[3\]/.test(error.message));
  });
});

describe("sanitizeBtf() fuzzing", () => {
  const all = subjects();
  const support = fc.record(Object.fromEntries(FEATURES.map((feature) => [feature, fc.boolean()])) as Record<keyof BtfSupport, fc.Arbitrary<boolean>>);

  test("random feature sets over every object keep every promise", () => {
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), support, (index, features) => {
        check(all[index]!.make(), features);
      }),
      { numRuns: 1_000_000, interruptAfterTimeLimit: 2000 },
    );
  });

  const corpus = hasClang ? [compile("kinds"), compile("kinds", true)] : testObjects().slice(0, 2);
  test("corrupted blobs with random feature sets throw nothing but FormatError", () => {
    const mutation = fc.record({ object: fc.nat({ max: corpus.length - 1 }), at: fc.nat(), value: fc.nat().map((n) => n >>> 0) });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), support, (changes, features) => {
        const object = corpus[changes[0]!.object]!;
        const bytes = object.btf.slice();
        const view = new DataView(bytes.buffer);
        const littleEndian = Btf.parse(object.btf).littleEndian;
        for (const change of changes) view.setUint32((change.at % (bytes.length >> 2)) << 2, change.value, littleEndian);
        try {
          const out = sanitizeBtf(Btf.parse(bytes, { file: object.name }), features);
          assert.deepEqual([...Btf.parse(marshalBtf(out))], [...out]);
        } catch (error) {
          if (!isWaggleError(error, "FormatError")) throw error;
        }
      }),
      { numRuns: 1_000_000, interruptAfterTimeLimit: 2000 },
    );
  });
});
