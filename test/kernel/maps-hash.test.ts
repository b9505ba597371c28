/**
 * Hash maps through the typed API on the real kernel: `hash` and `lru_hash` from maps_btf.o (BTF
 * u32 → u64, so keys decode to numbers and values to bigints) and standalone maps made with
 * `createMap()`: element operations, update modes, iteration, values a program wrote, eviction.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { createMap, HashMap, isWaggleError, load, type Collection } from "../../src/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";
import { ipv4Frame } from "../helpers/packets.js";

function loadMaps(): Collection {
  return load(fixturePath("maps_btf"));
}

/** A SyscallError of `op` with errno name `code`. */
function syscallError(op: string, code: string) {
  return (e: unknown) => isWaggleError(e, "SyscallError") && e.op === op && e.code === code;
}

/** The u32 a program reads from the 4 address bytes a.b.c.d in network order, on this little-endian host. */
function addressKey(a: number, b: number, c: number, d: number): number {
  return new DataView(Uint8Array.of(a, b, c, d).buffer).getUint32(0, true);
}

describe("HashMap", () => {
  kernelTest("get/set/has/delete/take round-trip BTF-typed keys and values through the kernel", () => {
    using coll = loadMaps();
    const map = coll.map("m_hash", HashMap<number, bigint>);
    assert.equal(map.type, "hash");
    assert.equal(map.keyCodec.description, "__u32");
    assert.equal(map.get(7), undefined);
    assert.equal(map.has(7), false);
    assert.equal(map.set(7, 70n).set(8, 0xffff_ffff_ffff_ffffn), map, "set() chains");
    assert.equal(map.get(7), 70n);
    assert.equal(map.get(8), 0xffff_ffff_ffff_ffffn);
    assert.equal(map.has(8), true);
    map.set(7, 71n);
    assert.equal(map.get(7), 71n, "set() replaces");
    assert.equal(map.take(7), 71n);
    assert.equal(map.get(7), undefined, "take() removes");
    assert.equal(map.take(7), undefined);
    assert.equal(map.delete(8), true);
    assert.equal(map.delete(8), false, "a second delete finds nothing");
    assert.equal(map.size, 0);
  });

  kernelTest("set() with mode noexist refuses an existing key (EEXIST) and mode exist a missing one (ENOENT)", () => {
    using coll = loadMaps();
    const map = coll.map("m_hash", HashMap<number, bigint>);
    map.set(1, 10n, { mode: "noexist" });
    assert.throws(() => map.set(1, 11n, { mode: "noexist" }), syscallError("MAP_UPDATE_ELEM", "EEXIST"));
    assert.equal(map.get(1), 10n, "the refused update changed nothing");
    assert.throws(() => map.set(2, 20n, { mode: "exist" }), syscallError("MAP_UPDATE_ELEM", "ENOENT"));
    assert.equal(map.has(2), false);
    map.set(1, 12n, { mode: "exist" });
    assert.equal(map.get(1), 12n);
  });

  kernelTest("a full hash map refuses a new key with E2BIG but still replaces existing ones", () => {
    using coll = loadMaps();
    const map = coll.map("m_hash", HashMap<number, bigint>);
    assert.equal(map.maxEntries, 64);
    for (let i = 0; i < 64; i++) map.set(i, BigInt(i));
    assert.throws(() => map.set(1000, 1n), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    map.set(5, 500n);
    assert.equal(map.get(5), 500n);
    assert.equal(map.size, 64);
  });

  kernelTest("keys(), entries(), values(), the iterator and size describe the same elements", () => {
    using coll = loadMaps();
    const map = coll.map("m_hash", HashMap<number, bigint>);
    const expected = new Map<number, bigint>();
    for (let i = 0; i < 40; i++) expected.set(i * 3 + 1, BigInt(i) << 40n);
    for (const [k, v] of expected) map.set(k, v);
    const byKey = (a: [number, bigint], b: [number, bigint]) => a[0] - b[0];
    const sorted = [...expected].sort(byKey);
    assert.deepEqual([...map.keys()].sort((a, b) => a - b), sorted.map(([k]) => k));
    assert.deepEqual([...map.entries()].sort(byKey), sorted);
    assert.deepEqual([...map].sort(byKey), sorted);
    assert.deepEqual([...map.values()].sort((a, b) => (a < b ? -1 : 1)), sorted.map(([, v]) => v));
    assert.equal(map.size, 40);
  });

  kernelTest("counts a program stored in a hash map are read back by key", () => {
    using coll = loadMaps();
    const xdp = coll.program("xdp_lpm");
    for (let i = 0; i < 3; i++) xdp.run(ipv4Frame({ srcIp: [10, 0, 0, 1] }));
    xdp.run(ipv4Frame({ srcIp: [192, 168, 0, 1] }));
    const counts = coll.map("m_hash", HashMap<number, bigint>);
    assert.equal(counts.get(addressKey(10, 0, 0, 1)), 3n);
    assert.equal(counts.get(addressKey(192, 168, 0, 1)), 1n);
    assert.equal(counts.size, 2);
    // And the program continues from a count written by JS.
    counts.set(addressKey(10, 0, 0, 1), 100n);
    xdp.run(ipv4Frame({ srcIp: [10, 0, 0, 1] }));
    assert.equal(counts.get(addressKey(10, 0, 0, 1)), 101n);
  });

  kernelTest("an lru_hash map never fills up: old keys are evicted and the newest stays", () => {
    using coll = loadMaps();
    const lru = coll.map("m_lru_hash", HashMap<number, bigint>);
    assert.equal(lru.type, "lru_hash");
    for (let i = 0; i < 500; i++) lru.set(i, BigInt(i));
    const size = lru.size;
    assert.ok(size > 0 && size <= lru.maxEntries, `size ${size}`);
    assert.equal(lru.get(499), 499n);
    assert.ok(!lru.has(0), "the oldest key was evicted");
    for (const [key, value] of lru) assert.equal(value, BigInt(key));
  });

  kernelTest("createMap() makes a standalone hash map with the codecs asked for", () => {
    using names = createMap(HashMap<string, number>, { type: "hash", keySize: 16, valueSize: 4, maxEntries: 8, name: "by_name" }, { key: "string", value: "u32" });
    assert.equal(names.name, "by_name");
    assert.equal(names.info().name, "by_name");
    names.set("alpha", 1).set("beta", 2);
    assert.equal(names.get("alpha"), 1);
    assert.deepEqual([...names.keys()].sort(), ["alpha", "beta"]);

    using raw = createMap(HashMap<Uint8Array, Uint8Array>, { type: "hash", keySize: 2, valueSize: 3, maxEntries: 4 });
    raw.set(Uint8Array.of(1, 2), Uint8Array.of(7, 8, 9));
    assert.deepEqual(raw.get(Uint8Array.of(1, 2)), Uint8Array.of(7, 8, 9));
    assert.deepEqual(raw.lookupBytes(Uint8Array.of(1, 2)), Uint8Array.of(7, 8, 9));
    assert.deepEqual([...raw.keyBytes()], [Uint8Array.of(1, 2)]);
  });

  kernelTest("createMap() refuses a class that does not serve the map type, leaving no fd behind", () => {
    const before = openFdCount();
    assert.throws(
      () => createMap(HashMap, { type: "array", keySize: 4, valueSize: 8, maxEntries: 1 }),
      (e: unknown) => e instanceof TypeError && /array map as a HashMap: that type is served by ArrayMap/.test(e.message),
    );
    assert.equal(openFdCount(), before);
  });
});
