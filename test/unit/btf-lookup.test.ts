/**
 * Lookups by name: `typesByName` (with and without kinds), `find` and `flavorsOf` give exactly what a
 * scan of every decoded type gives — on vmlinux, for every name, and on small hand-built BTF that takes
 * the rare paths (short and non-ASCII names, names at the end of the string section, split BTF whose
 * names live in the base, types added or replaced after parsing).
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import { Btf, marshalBtf, type BtfType, type TypeId } from "../../src/btf/index.js";
import { essentialName, hashName, nameKey, nameKeyAscii } from "../../src/btf/name-index.js";
import { essentialName as coreEssentialName } from "../../src/object/core/names.js";
import { hasVmlinux, vmlinuxPath } from "./btf-helpers.js";

const noVmlinux = hasVmlinux ? false : `needs a readable ${vmlinuxPath}`;

type Kind = BtfType["kind"];

/** What the lookups must answer, from a scan of every type (the base's first). */
class Reference {
  readonly byName = new Map<string, TypeId[]>();
  readonly flavors = new Map<string, TypeId[]>();
  readonly kinds = new Map<TypeId, Kind>();

  constructor(btf: Btf) {
    const chain: Btf[] = [];
    for (let b: Btf | undefined = btf; b !== undefined; b = b.base) chain.unshift(b);
    for (const [id, type] of chain.flatMap((b) => [...b])) {
      this.kinds.set(id, type.kind);
      push(this.byName, type.name, id);
      const essential = essentialName(type.name);
      if (essential !== type.name) push(this.flavors, essential, id);
    }
  }

  named(name: string, kinds?: readonly Kind[]): TypeId[] {
    return (this.byName.get(name) ?? []).filter((id) => kinds === undefined || kinds.includes(this.kinds.get(id)!));
  }

  flavorsOf(name: string, kinds?: readonly Kind[]): TypeId[] {
    return (this.flavors.get(name) ?? []).filter((id) => kinds === undefined || kinds.includes(this.kinds.get(id)!));
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Every lookup for `names` (and their flavors) against the reference, with and without each kind. */
function checkLookups(btf: Btf, reference: Reference, names: Iterable<string>): void {
  for (const name of names) {
    assert.deepEqual(btf.typesByName(name), reference.named(name), `typesByName(${JSON.stringify(name)})`);
    assert.deepEqual(btf.flavorsOf(name), reference.flavorsOf(name), `flavorsOf(${JSON.stringify(name)})`);
    const kinds = new Set((reference.byName.get(name) ?? []).concat(reference.flavors.get(name) ?? []).map((id) => reference.kinds.get(id)!));
    for (const kind of [...kinds, "struct" as const]) {
      assert.deepEqual(btf.typesByName(name, [kind]), reference.named(name, [kind]), `typesByName(${JSON.stringify(name)}, [${kind}])`);
      assert.deepEqual(btf.flavorsOf(name, [kind]), reference.flavorsOf(name, [kind]), `flavorsOf(${JSON.stringify(name)}, [${kind}])`);
      assert.equal(btf.find(name, kind), reference.named(name, [kind])[0], `find(${JSON.stringify(name)}, ${kind})`);
    }
  }
}

/** Struct `name` with one int member. */
function struct(name: string, intId: TypeId): BtfType {
  return { kind: "struct", name, size: 4, members: [{ name: "x", type: intId, bitOffset: 0, bitfieldSize: 0 }] };
}

const INT: BtfType = { kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 };

/** Parsed BTF (so the lookups take the parsed-record paths) with awkward names. */
function awkwardBtf(): Btf {
  const built = Btf.create({ littleEndian: true });
  const int = built.add(INT);
  for (const name of [
    "task_struct", "task_struct___v1", "task_struct___v2___x", "task_struct____four", "task_struct___",
    "a", "ab", "abc", "abcd", "a___b", "a___b___c", "ns___old", "_a___b", "x", "x___y",
    "trace_event_raw_a", "trace_event_raw_b", "trace_event_raw_a___flavor", "ünïcode", "ünïcode___v2",
  ]) {
    built.add(struct(name, int));
  }
  built.add({ kind: "typedef", name: "task_struct", type: int });
  built.add({ kind: "fwd", name: "task_struct", union: false });
  built.add({ kind: "union", name: "abc", size: 4, members: [{ name: "x", type: int, bitOffset: 0, bitfieldSize: 0 }] });
  built.add({ kind: "enum", name: "e", size: 4, signed: false, values: [{ name: "E", value: 1 }] });
  built.add({ kind: "enum64", name: "e___64", size: 8, signed: false, values: [{ name: "E64", value: 1n }] });
  // Last: its name ends the string section, so an 8-byte read from it runs past the end.
  built.add(struct("zzzz", int));
  return Btf.parse(marshalBtf(built));
}

const AWKWARD_QUERIES = [
  "task_struct", "task_struct___v1", "task_struct___v2", "task_struct___v2___x", "task_struct_", "task",
  "a", "ab", "abc", "abcd", "a___b", "a___b___c", "ns", "_a", "x", "zzzz", "zzz", "z", "", "e", "trace_event_raw_a",
  "trace_event_raw_", "ünïcode", "\u{fffd}", "no_such_type", "int",
];

describe("name keys", () => {
  test("essentialName() agrees with CO-RE's", () => {
    for (const name of ["task_struct___v1", "a___b___c", "a____b", "___a", "a___", "a___b_", "_a___b", "a__b", "", "ab___c___"]) {
      assert.equal(essentialName(name), coreEssentialName(name), name);
    }
  });

  test("nameKeyAscii() over bytes equals nameKey() of the decoded text", () => {
    for (const name of ["task_struct", "task_struct___v1", "a___b___c", "a____b", "___a", "a___", "x", "", "_a___b"]) {
      const bytes = new TextEncoder().encode(`${name}\0junk`);
      assert.equal(nameKeyAscii(bytes, 0, bytes.length), nameKey(name), name);
    }
    assert.equal(nameKeyAscii(new TextEncoder().encode("ü"), 0, 2), undefined);
    assert.equal(nameKey("ü___v"), hashName("ü"));
  });

  test("nameKeyAscii() equals nameKey() for every string of vmlinux", { skip: noVmlinux }, () => {
    const btf = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)), { file: vmlinuxPath });
    const bytes = btf.strings.bytes();
    for (let at = 0; at < bytes.length; at = bytes.indexOf(0, at) + 1) {
      const key = nameKeyAscii(bytes, at, bytes.length);
      if (key !== undefined) assert.equal(key, nameKey(btf.strings.get(at)), btf.strings.get(at));
    }
  });
});

describe("Btf lookups by name", () => {
  test("parsed BTF: typesByName(), find() and flavorsOf() equal a scan of every type", () => {
    const btf = awkwardBtf();
    checkLookups(btf, new Reference(btf), AWKWARD_QUERIES);
  });

  test("a fresh Btf answers each kind-filtered lookup the same as after every kind was indexed", () => {
    const names = AWKWARD_QUERIES;
    const kinds: Kind[] = ["struct", "union", "typedef", "fwd", "enum", "enum64", "int"];
    const fresh = () => awkwardBtf();
    const warm = awkwardBtf();
    for (const name of names) warm.typesByName(name);
    for (const name of names) {
      for (const kind of kinds) {
        assert.deepEqual(fresh().typesByName(name, [kind]), warm.typesByName(name, [kind]), `${name} ${kind}`);
        assert.deepEqual(fresh().flavorsOf(name, [kind]), warm.flavorsOf(name, [kind]), `${name} ${kind}`);
      }
    }
  });

  test("types added and replaced after parsing are found under their current name and kind", () => {
    const btf = awkwardBtf();
    const int = btf.find("int", "int")!;
    const added = btf.add(struct("added___v9", int));
    const replaced = btf.find("abcd", "struct")!;
    btf.set(replaced, { kind: "typedef", name: "renamed", type: int });
    const reference = new Reference(btf);
    checkLookups(btf, reference, [...AWKWARD_QUERIES, "added", "added___v9", "renamed"]);
    assert.deepEqual(btf.flavorsOf("added", ["struct"]), [added]);
    assert.deepEqual(btf.typesByName("abcd"), []);
    assert.deepEqual(btf.typesByName("renamed", ["typedef"]), [replaced]);
  });

  test("split BTF finds its own types, named in its strings or in the base's, after the base's", () => {
    const base = awkwardBtf();
    const built = Btf.create({ base });
    const int = base.find("int", "int")!;
    // "task_struct___v1" and "abc" are in the base's string section; "module_only___m" is not.
    const own = [built.add(struct("task_struct___v1", int)), built.add(struct("abc", int)), built.add(struct("module_only___m", int))];
    const split = Btf.parse(marshalBtf(built), { base });
    assert.deepEqual(split.typesByName("abc", ["struct"]), [base.find("abc", "struct")!, own[1]!]);
    assert.deepEqual(split.flavorsOf("task_struct", ["struct"]), [...base.flavorsOf("task_struct", ["struct"]), own[0]!]);
    assert.deepEqual(split.flavorsOf("module_only", ["struct"]), [own[2]!]);
    checkLookups(split, new Reference(split), [...AWKWARD_QUERIES, "module_only", "module_only___m"]);
  });

  test("vmlinux: every name, with and without its kinds, and every flavor", { skip: noVmlinux }, () => {
    const btf = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)), { file: vmlinuxPath });
    const reference = new Reference(btf);
    // Kind-filtered lookups first, on a fresh Btf: each builds only its kinds' tables.
    const kindsOf = new Map<string, Set<Kind>>();
    for (const [name, ids] of reference.byName) kindsOf.set(name, new Set(ids.map((id) => reference.kinds.get(id)!)));
    for (const [name, kinds] of kindsOf) {
      for (const kind of kinds) {
        assert.deepEqual(btf.typesByName(name, [kind]), reference.named(name, [kind]), `${name} ${kind}`);
      }
    }
    for (const [name, ids] of reference.byName) assert.deepEqual(btf.typesByName(name), ids, name);
    for (const [name, ids] of reference.flavors) {
      assert.deepEqual(btf.flavorsOf(name), ids, name);
      assert.deepEqual(btf.typesByName(name, ["struct"]).concat(btf.flavorsOf(name, ["struct"])).sort((a, b) => a - b),
        reference.named(name, ["struct"]).concat(reference.flavorsOf(name, ["struct"])).sort((a, b) => a - b), name);
    }
    for (const name of ["no_such_type", "task_struct___nope", "ab", "\u{fffd}"]) {
      assert.deepEqual(btf.typesByName(name), reference.named(name), name);
      assert.deepEqual(btf.flavorsOf(name), reference.flavorsOf(name), name);
    }
  });
});
