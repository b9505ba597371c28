/**
 * Bulk operations on the real kernel: `setMany()`, `deleteMany()`, `clear()`, `entries()`, `forEach()`
 * and `size` on hash maps of thousands of elements (BPF_MAP_*_BATCH, thousands of elements per call)
 * must give exactly what element-at-a-time operations give; so must `ArrayMap.setMany()` and the walks
 * of array and per-CPU maps, whose batches are decoded a column at a time.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { ArrayMap, createMap, HashMap, isWaggleError, PerCpuArrayMap, PerCpuHashMap } from "../../src/index.js";
import { possibleCpus } from "../../src/sys/index.js";
import { kernelTest } from "../helpers/kernel.js";

const COUNT = 5000;

/** Deterministic, scattered u32 keys (a multiplicative hash of from…from+n-1, a bijection), so buckets fill unevenly. */
function keys(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => Math.imul(from + i + 1, 0x9e3779b1) >>> 0);
}

const valueOf = (key: number) => (BigInt(key) << 20n) ^ 0xabcdefn;

function hashMap(maxEntries = 8192, type: "hash" | "lru_hash" = "hash"): HashMap<number, bigint> {
  return createMap(HashMap<number, bigint>, { type, keySize: 4, valueSize: 8, maxEntries }, { key: "u32", value: "u64" });
}

const byKey = <V>(a: [number, V], b: [number, V]) => a[0] - b[0];

describe("batch operations", () => {
  kernelTest("setMany() of thousands of elements stores what element-by-element set() stores", () => {
    using batched = hashMap();
    using single = hashMap();
    const entries = keys(COUNT).map((k) => [k, valueOf(k)] as const);
    batched.setMany(entries);
    for (const [k, v] of entries) single.set(k, v);
    for (const [k, v] of entries) assert.equal(batched.get(k), v);
    assert.deepEqual([...batched.entries()].sort(byKey), [...single.entries()].sort(byKey));
    assert.equal(batched.size, COUNT);
  });

  kernelTest("entries() reads every element once, matching a get() of each key", () => {
    using map = hashMap();
    const all = keys(COUNT);
    for (const k of all) map.set(k, valueOf(k));
    const seen = new Map<number, bigint>();
    for (const [k, v] of map.entries()) {
      assert.ok(!seen.has(k), `key ${k} appeared twice`);
      seen.set(k, v);
    }
    assert.equal(seen.size, COUNT);
    for (const k of all) assert.equal(seen.get(k), map.get(k));
    assert.deepEqual([...map.keys()].sort((a, b) => a - b), [...all].sort((a, b) => a - b));
    assert.equal([...map.values()].length, COUNT);
  });

  kernelTest("deleteMany() deletes the keys present, skips absent ones and counts exactly", () => {
    using map = hashMap();
    const all = keys(COUNT);
    map.setMany(all.map((k) => [k, valueOf(k)]));
    const doomed = all.filter((_, i) => i % 2 === 0);
    const absent = keys(500, COUNT); // disjoint from keys(COUNT)
    // Absent keys spread through the list, including first and last.
    const mixed = [absent[0]!, ...doomed.flatMap((k, i) => (i % 10 === 0 ? [k, absent[i / 10 + 1]!] : [k])), absent[absent.length - 1]!];
    assert.equal(map.deleteMany(mixed), doomed.length);
    assert.equal(map.size, COUNT - doomed.length);
    for (const [i, k] of all.entries()) assert.equal(map.has(k), i % 2 === 1);
    assert.equal(map.deleteMany(doomed), 0, "deleting again finds nothing");
    assert.equal(map.deleteMany([]), 0);
  });

  kernelTest("clear() empties a large map and returns how many elements it held", () => {
    using map = hashMap();
    map.setMany(keys(COUNT).map((k) => [k, valueOf(k)]));
    assert.equal(map.clear(), COUNT);
    assert.equal(map.size, 0);
    assert.deepEqual([...map.entries()], []);
    assert.equal(map.clear(), 0);
    map.set(1, 1n);
    assert.equal(map.size, 1, "the map still works");
  });

  kernelTest("setMany() honours mode noexist / exist (element by element: the kernel's batch takes no such flags)", () => {
    using map = hashMap(1000);
    const [first, second, third] = keys(3);
    map.set(second!, 1n);
    assert.throws(
      () => map.setMany([[first!, 2n], [second!, 2n], [third!, 2n]], { mode: "noexist" }),
      (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "EEXIST",
    );
    assert.equal(map.get(second!), 1n, "the existing value was kept");
    assert.equal(map.get(first!), 2n, "elements before the failing one were written");
    assert.equal(map.has(third!), false);
    map.setMany([[first!, 3n], [second!, 3n]], { mode: "exist" });
    assert.deepEqual([map.get(first!), map.get(second!)], [3n, 3n]);
    assert.throws(() => map.setMany([[third!, 3n]], { mode: "exist" }), (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "ENOENT");
    // Later plain batches still use the batch command.
    map.setMany(keys(500, 10).map((k) => [k, 4n]));
    assert.equal(map.size, 502);
  });

  kernelTest("a setMany() past a full map's capacity fails with E2BIG", () => {
    using map = hashMap(1000);
    assert.throws(() => map.setMany(keys(1001, 10).map((k) => [k, 0n])), (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "E2BIG");
  });

  kernelTest("per-CPU and LRU hashes batch the same as element-by-element", () => {
    const cpus = possibleCpus();
    using perCpu = createMap(
      PerCpuHashMap<number, bigint>,
      { type: "percpu_hash", keySize: 4, valueSize: 8, maxEntries: 4096 },
      { key: "u32", value: "u64" },
    );
    const all = keys(3000);
    const perCpuValue = (k: number, i: number) =>
      i % 2 ? new Array<bigint>(cpus).fill(valueOf(k)) : Array.from({ length: cpus }, (_, cpu) => BigInt(cpu) + valueOf(k));
    perCpu.setMany(all.map((k, i): [number, bigint[]] => [k, perCpuValue(k, i)]));
    const entries = [...perCpu.entries()];
    assert.equal(entries.length, 3000);
    for (const [k, perCpuValues] of entries) assert.deepEqual(perCpuValues, perCpu.get(k));
    assert.deepEqual(perCpu.get(all[1]!), new Array(cpus).fill(valueOf(all[1]!)));
    assert.equal(perCpu.deleteMany(all.slice(0, 1000)), 1000);
    assert.equal(perCpu.clear(), 2000);

    using lru = hashMap(4096, "lru_hash");
    lru.setMany(all.map((k) => [k, valueOf(k)]));
    const lruEntries = [...lru.entries()];
    assert.ok(lruEntries.length > 0 && lruEntries.length <= 3000);
    for (const [k, v] of lruEntries) assert.equal(v, valueOf(k));
  });

  kernelTest("ArrayMap.setMany() of thousands of values matches element-by-element reads", () => {
    using array = createMap(ArrayMap<bigint>, { type: "array", keySize: 4, valueSize: 8, maxEntries: 8192 }, { value: "u64" });
    const values = Array.from({ length: COUNT }, (_, i) => valueOf(i));
    array.setMany(values);
    for (let i = 0; i < COUNT; i += 97) assert.equal(array.get(i), values[i]);
    const entries = [...array.entries()];
    assert.equal(entries.length, 8192);
    assert.deepEqual(entries.slice(0, COUNT).map(([, v]) => v), values);
    assert.ok(entries.slice(COUNT).every(([, v]) => v === 0n));
    array.setMany(new Map(Array.from({ length: 3000 }, (_, i) => [8191 - i, BigInt(i)] as [number, bigint])));
    assert.equal(array.get(8191), 0n);
    assert.equal(array.get(5192), 2999n);
    assert.equal(array.get(COUNT - 1), values[COUNT - 1]);
  });

  kernelTest("forEach() and entries() read what get() reads at the edges of u32, s32, u64 and s64", () => {
    using unsigned = hashMap(64);
    const edges: [number, bigint][] = [
      [0, 0n], [1, 2n ** 64n - 1n], [0x7fffffff, 2n ** 63n], [0x80000000, 2n ** 63n - 1n], [0xffffffff, 2n ** 53n + 1n],
    ];
    unsigned.setMany(edges);
    using signed = createMap(HashMap<number, bigint>, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 64 }, { key: "s32", value: "s64" });
    const signedEdges: [number, bigint][] = [[-1, -1n], [-0x80000000, -(2n ** 63n)], [0x7fffffff, 2n ** 63n - 1n], [0, -(2n ** 53n) - 1n]];
    signed.setMany(signedEdges);
    for (const [map, expected] of [[unsigned, edges], [signed, signedEdges]] as const) {
      const walked: [number, bigint][] = [];
      map.forEach((v, k) => walked.push([k, v]));
      assert.deepEqual(walked.sort(byKey), [...expected].sort(byKey));
      assert.deepEqual([...map.entries()].sort(byKey), [...expected].sort(byKey));
      for (const [k, v] of walked) assert.equal(map.get(k), v);
    }
  });

  kernelTest("forEach() visits each element of a map larger than one batch once, with its value", () => {
    using map = hashMap();
    const all = keys(COUNT);
    map.setMany(all.map((k) => [k, valueOf(k)]));
    const seen = new Set<number>();
    map.forEach((v, k) => {
      assert.ok(!seen.has(k), `key ${k} appeared twice`);
      assert.equal(v, valueOf(k));
      seen.add(k);
    });
    assert.equal(seen.size, COUNT);
  });

  kernelTest("a walk survives callbacks that use the map, a nested walk of it, and a break", () => {
    using map = hashMap();
    const all = keys(COUNT);
    map.setMany(all.map((k) => [k, valueOf(k)]));
    let outer = 0;
    let inner = 0;
    map.forEach((v, k) => {
      // Each get() and set() reuses the syscall arena the batch was read into.
      assert.equal(map.get(k), v);
      map.set(k, v);
      if (outer++ % 1000 === 0) map.forEach(() => inner++);
    });
    assert.equal(outer, COUNT);
    assert.equal(inner, COUNT * Math.ceil(COUNT / 1000));
    const pairs: [number, bigint][] = [];
    for (const [k, v] of map.entries()) {
      assert.equal(map.get(k), v);
      pairs.push([k, v]);
      if (pairs.length === 10) assert.equal([...map.entries()].length, COUNT);
    }
    assert.equal(pairs.length, COUNT);
    for (const [k, v] of pairs) assert.equal(v, valueOf(k));

    const iterator = map.entries();
    assert.equal(iterator[Symbol.iterator](), iterator);
    assert.equal(typeof (iterator as { map?: unknown }).map, typeof ([].values() as { map?: unknown }).map, "the iterator helpers of built-in iterators");
    for (const _ of iterator) break;
    assert.deepEqual(iterator.next(), { value: undefined, done: true }, "a break ends the iteration");
  });

  kernelTest("forEach() and entries() of per-CPU and array maps give what get() gives", () => {
    const cpus = possibleCpus();
    using perCpu = createMap(
      PerCpuHashMap<number, bigint>,
      { type: "percpu_hash", keySize: 4, valueSize: 8, maxEntries: 8192 },
      { key: "u32", value: "u64" },
    );
    const all = keys(COUNT);
    perCpu.setMany(all.map((k): [number, bigint[]] => [k, Array.from({ length: cpus }, (_, cpu) => valueOf(k) + BigInt(cpu))]));
    let count = 0;
    perCpu.forEach((values, k) => {
      assert.deepEqual(values, perCpu.get(k));
      count++;
    });
    assert.equal(count, COUNT);

    using perCpuArray = createMap(PerCpuArrayMap<number>, { type: "percpu_array", keySize: 4, valueSize: 4, maxEntries: 5000 }, { value: "u32" });
    perCpuArray.set(4999, Array.from({ length: cpus }, (_, cpu) => cpu + 1));
    const rows: [number, number[]][] = [];
    perCpuArray.forEach((values, index) => rows.push([index, values]));
    assert.deepEqual(rows.map(([index]) => index), Array.from({ length: 5000 }, (_, i) => i));
    assert.deepEqual(rows[4999], [4999, Array.from({ length: cpus }, (_, cpu) => cpu + 1)]);
    assert.deepEqual([...perCpuArray.entries()], rows);

    using array = createMap(ArrayMap<bigint>, { type: "array", keySize: 4, valueSize: 8, maxEntries: COUNT }, { value: "u64" });
    array.setMany(Array.from({ length: COUNT }, (_, i) => valueOf(i)));
    const values: bigint[] = [];
    array.forEach((v, index) => {
      assert.equal(index, values.length);
      values.push(v);
    });
    assert.deepEqual(values, Array.from({ length: COUNT }, (_, i) => valueOf(i)));
  });
});
