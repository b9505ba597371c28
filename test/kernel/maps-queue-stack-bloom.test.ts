/**
 * Keyless maps through the typed API on the real kernel: `queue`, `stack` and `bloom_filter` of
 * maps_btf.o, which the `exercise` program pushes to and pops from, plus standalone ones; and the
 * record maps `ringbuf` / `user_ringbuf`, which have no elements at all.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { BloomFilterMap, createMap, isWaggleError, load, MapFlags, QueueMap, RingBufferMap, StackMap } from "../../src/index.js";
import { pageSize } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

const FRAME = new Uint8Array(14);

function syscallError(op: string, code: string) {
  return (e: unknown) => isWaggleError(e, "SyscallError") && e.op === op && e.code === code;
}

describe("QueueMap and StackMap", () => {
  kernelTest("values a program pushed pop in FIFO order from the queue and LIFO order from the stack", () => {
    using coll = load(fixturePath("maps_btf"));
    assert.equal(coll.program("exercise").run(FRAME).retval, 31);
    const queue = coll.map("m_queue", QueueMap<bigint>);
    const stack = coll.map("m_stack", StackMap<bigint>);
    assert.equal(queue.peek(), 2n);
    assert.equal(stack.peek(), 2n);
    assert.deepEqual([...queue.drain()], [2n, 3n]);
    assert.deepEqual([...stack.drain()], [2n, 1n]);
    assert.equal(queue.pop(), undefined);
    assert.equal(stack.peek(), undefined);
  });

  kernelTest("values pushed from JS are what the program pops first", () => {
    using coll = load(fixturePath("maps_btf"));
    const queue = coll.map("m_queue", QueueMap<bigint>);
    const stack = coll.map("m_stack", StackMap<bigint>);
    queue.push(7n);
    stack.push(9n);
    // The program pushes 1, 2, 3 onto each and pops once: the queue yields JS's 7, the stack its own 3.
    assert.equal(coll.program("exercise").run(FRAME).retval, 3 * 10 + 7);
    assert.deepEqual([...queue.drain()], [1n, 2n, 3n]);
    assert.deepEqual([...stack.drain()], [2n, 1n, 9n]);
  });

  kernelTest("a full queue refuses a push (E2BIG) unless overwrite drops the oldest value", () => {
    using queue = createMap(QueueMap<number>, { type: "queue", keySize: 0, valueSize: 4, maxEntries: 3 }, { value: "u32" });
    queue.push(1).push(2).push(3);
    assert.throws(() => queue.push(4), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    queue.push(4, { overwrite: true });
    assert.deepEqual([...queue.drain()], [2, 3, 4]);

    using stack = createMap(StackMap<number>, { type: "stack", keySize: 0, valueSize: 4, maxEntries: 2 }, { value: "u32" });
    stack.push(1).push(2);
    assert.throws(() => stack.push(3), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    stack.push(3, { overwrite: true });
    assert.deepEqual([...stack.drain()], [3, 2]);
  });
});

describe("BloomFilterMap", () => {
  kernelTest("a value a program added is possibly present; contains() sees JS additions too", () => {
    using coll = load(fixturePath("maps_btf"));
    const bloom = coll.map("m_bloom", BloomFilterMap<number>);
    assert.equal(bloom.info().mapExtra, 3n, "three hash functions");
    assert.equal(bloom.contains(42), false, "nothing added yet");
    assert.equal(coll.program("exercise").run(FRAME).retval, 31, "the program's own peek found 42");
    assert.equal(bloom.contains(42), true);
    bloom.add(1234);
    assert.equal(bloom.contains(1234), true);
  });

  kernelTest("a zero-seeded bloom filter answers 'definitely absent' for values never added", () => {
    using bloom = createMap(
      BloomFilterMap<number>,
      { type: "bloom_filter", keySize: 0, valueSize: 4, maxEntries: 1000, flags: MapFlags.ZERO_SEED, mapExtra: 5n },
      { value: "u32" },
    );
    for (let v = 0; v < 100; v += 2) bloom.add(v);
    for (let v = 0; v < 100; v += 2) assert.equal(bloom.contains(v), true, `added ${v}`);
    const falsePositives = [...Array(50).keys()].map((i) => i * 2 + 1).filter((v) => bloom.contains(v));
    assert.ok(falsePositives.length <= 2, `false positives ${falsePositives}`);
    assert.throws(() => bloom.deleteBytes(new Uint8Array(0)), { name: "SyscallError" }, "bloom filters have no delete");
  });
});

describe("RingBufferMap", () => {
  kernelTest("ring buffers are created with a page-multiple power-of-two size that capacity reports", () => {
    using coll = load(fixturePath("maps_btf"));
    for (const [name, type] of [["m_ringbuf", "ringbuf"], ["m_user_ringbuf", "user_ringbuf"]] as const) {
      const ring = coll.map(name, RingBufferMap);
      assert.equal(ring.type, type);
      assert.equal(ring.capacity, 64 * 1024);
      assert.equal(ring.info().maxEntries, 64 * 1024);
      assert.equal(ring.keySize, 0);
    }
    using odd = createMap(RingBufferMap, { type: "ringbuf", keySize: 0, valueSize: 0, maxEntries: pageSize() + 1 });
    assert.equal(odd.capacity, pageSize() * 2);
    assert.equal(odd.info().maxEntries, pageSize() * 2);
  });
});
