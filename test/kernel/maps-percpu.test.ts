/**
 * Per-CPU maps through the typed API on the real kernel: `percpu_array`, `percpu_hash` and
 * `lru_percpu_hash` of maps_btf.o. Values are arrays with one entry per possible CPU; a single value
 * written is copied to every CPU; what programs count on the CPU they ran on adds up across the array.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { createMap, load, PerCpuArrayMap, PerCpuHashMap } from "../../src/index.js";
import { possibleCpus } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";
import { ipv4Frame } from "../helpers/packets.js";

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);

describe("per-CPU maps", () => {
  kernelTest("a percpu_array value has one 8-byte-aligned slot per possible CPU", () => {
    using coll = load(fixturePath("maps_btf"));
    const array = coll.map("m_percpu_array", PerCpuArrayMap<bigint>);
    const cpus = possibleCpus();
    assert.equal(array.valueBufferSize, 8 * cpus);
    assert.deepEqual(array.get(0), new Array(cpus).fill(0n));
    assert.equal(array.get(array.maxEntries), undefined);
  });

  kernelTest("the program's per-CPU counts add up to the number of runs", () => {
    using coll = load(fixturePath("maps_btf"));
    const xdp = coll.program("xdp_lpm");
    for (let i = 0; i < 25; i++) xdp.run(ipv4Frame());
    const counts = coll.map("m_percpu_array", PerCpuArrayMap<bigint>).get(0)!;
    assert.equal(counts.length, possibleCpus());
    assert.equal(sum(counts), 25n);
  });

  kernelTest("set() copies one value to every CPU or stores one value per CPU", () => {
    using coll = load(fixturePath("maps_btf"));
    const array = coll.map("m_percpu_array", PerCpuArrayMap<bigint>);
    const cpus = possibleCpus();
    array.set(1, 7n);
    assert.deepEqual(array.get(1), new Array(cpus).fill(7n));
    const distinct = Array.from({ length: cpus }, (_, cpu) => BigInt(100 + cpu));
    array.set(2, distinct);
    assert.deepEqual(array.get(2), distinct);
    const entries = [...array.entries()];
    assert.equal(entries.length, 4);
    assert.deepEqual(entries[2], [2, distinct]);
    // and a program adds to the CPU it runs on, keeping the others
    array.set(0, 1000n);
    coll.program("xdp_lpm").run(ipv4Frame());
    const after = array.get(0)!;
    assert.equal(sum(after), 1000n * BigInt(cpus) + 1n);
    assert.equal(after.filter((v) => v === 1001n).length, 1);
  });

  kernelTest("percpu_hash and lru_percpu_hash store, iterate and delete per-CPU values", () => {
    using coll = load(fixturePath("maps_btf"));
    const cpus = possibleCpus();
    for (const name of ["m_percpu_hash", "m_lru_percpu_hash"]) {
      const map = coll.map(name, PerCpuHashMap<number, bigint>);
      map.set(1, 5n);
      map.set(2, Array.from({ length: cpus }, (_, cpu) => BigInt(cpu)));
      assert.deepEqual(map.get(1), new Array(cpus).fill(5n), name);
      assert.deepEqual(map.get(2), Array.from({ length: cpus }, (_, cpu) => BigInt(cpu)), name);
      assert.deepEqual(
        [...map.entries()].sort(([a], [b]) => a - b),
        [
          [1, new Array(cpus).fill(5n)],
          [2, Array.from({ length: cpus }, (_, cpu) => BigInt(cpu))],
        ],
        name,
      );
      assert.deepEqual(map.take(1), new Array(cpus).fill(5n), name);
      assert.equal(map.size, 1, name);
      assert.equal(map.clear(), 1, name);
      assert.equal(map.get(2), undefined, name);
    }
  });

  kernelTest("with array-valued elements, one array is copied to every CPU and an array of arrays is one per CPU", () => {
    // With a u32[2] inner value, per-CPU input is an array of arrays, so a plain pair is the value for
    // every CPU even when there happen to be two CPUs.
    using map = createMap(PerCpuArrayMap<number[]>, { type: "percpu_array", keySize: 4, valueSize: 8, maxEntries: 1 }, {
      value: {
        size: 8,
        description: "u32[2]",
        decode: (view, offset) => [view.getUint32(offset, true), view.getUint32(offset + 4, true)],
        encode: (value: number[], view: DataView, offset: number) => {
          view.setUint32(offset, value[0]!, true);
          view.setUint32(offset + 4, value[1]!, true);
        },
      },
    });
    const cpus = possibleCpus();
    map.set(0, [3, 4]);
    assert.deepEqual(map.get(0), new Array(cpus).fill([3, 4]));
    const perCpu = Array.from({ length: cpus }, (_, cpu) => [cpu, cpu * 2]);
    map.set(0, perCpu);
    assert.deepEqual(map.get(0), perCpu);
  });
});
