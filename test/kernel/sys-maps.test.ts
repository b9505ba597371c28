/** Map commands of src/sys against the real kernel: create, element and batch commands, freeze, errors. */

import assert from "node:assert/strict";
import { isWaggleError, SyscallError } from "../../src/errors.js";
import {
  BpfMapFlags,
  BpfMapType,
  BpfUpdateFlags,
  mapCreate,
  mapDeleteBatch,
  mapDeleteElem,
  mapFreeze,
  mapGetNextKey,
  mapInfo,
  mapLookupAndDeleteBatch,
  mapLookupAndDeleteElem,
  mapLookupBatch,
  mapLookupElem,
  mapUpdateBatch,
  mapUpdateElem,
  possibleCpus,
} from "../../src/sys/index.js";
import { kernelTest } from "../helpers/kernel.js";
import { concat, readU32, readU64, u32, u64 } from "./sys-helpers.js";

/** Asserts that `fn` throws a SyscallError (not a subclass) with this op and errno name. */
function assertSyscallError(fn: () => unknown, op: string, code: string): SyscallError {
  try {
    fn();
  } catch (error) {
    assert.ok(isWaggleError(error, "SyscallError"), `expected a SyscallError, got ${String(error)}`);
    assert.equal(error.name, "SyscallError");
    assert.equal(error.op, op);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${op} to fail with ${code}`);
}

function hashMap(maxEntries = 64, name = "sys_test") {
  return mapCreate({ mapType: BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries, name });
}

kernelTest("mapCreate() makes a map whose mapInfo() matches its parameters", () => {
  using map = mapCreate({
    mapType: BpfMapType.HASH,
    keySize: 4,
    valueSize: 16,
    maxEntries: 100,
    flags: BpfMapFlags.NO_PREALLOC,
    name: "info.map_1",
  });
  const info = mapInfo(map.value);
  assert.equal(info.type, BpfMapType.HASH);
  assert.equal(info.keySize, 4);
  assert.equal(info.valueSize, 16);
  assert.equal(info.maxEntries, 100);
  assert.equal(info.mapFlags, BpfMapFlags.NO_PREALLOC);
  assert.equal(info.name, "info.map_1");
  assert.ok(info.id > 0);
  assert.equal(map.what, 'map "info.map_1"');
});

kernelTest("mapCreate() truncates names to 15 characters and rejects characters the kernel refuses", () => {
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "a_very_long_map_name" });
  assert.equal(mapInfo(map.value).name, "a_very_long_map");
  assert.throws(
    () => mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "bad-name" }),
    TypeError,
  );
});

kernelTest("mapCreate() failures name MAP_CREATE and the errno", () => {
  const error = assertSyscallError(
    () => mapCreate({ mapType: BpfMapType.HASH, keySize: 0, valueSize: 8, maxEntries: 1, name: "zero_key" }),
    "MAP_CREATE",
    "EINVAL",
  );
  assert.match(error.message, /^MAP_CREATE: EINVAL \(Invalid argument\): map "zero_key"$/);
});

kernelTest("element commands create, read, update and delete hash elements", () => {
  using map = hashMap();
  const fd = map.value;
  const value = new Uint8Array(8);
  assert.equal(mapLookupElem(fd, u32(1), value), false);
  mapUpdateElem(fd, u32(1), u64(100n));
  assert.equal(mapLookupElem(fd, u32(1), value), true);
  assert.equal(readU64(value), 100n);
  mapUpdateElem(fd, u32(1), u64(200n), BpfUpdateFlags.EXIST);
  mapLookupElem(fd, u32(1), value);
  assert.equal(readU64(value), 200n);
  const exists = assertSyscallError(
    () => mapUpdateElem(fd, u32(1), u64(1n), BpfUpdateFlags.NOEXIST),
    "MAP_UPDATE_ELEM",
    "EEXIST",
  );
  assert.equal(exists.message, "MAP_UPDATE_ELEM: EEXIST (File exists)");
  assertSyscallError(() => mapUpdateElem(fd, u32(2), u64(1n), BpfUpdateFlags.EXIST), "MAP_UPDATE_ELEM", "ENOENT");
  assert.equal(mapDeleteElem(fd, u32(1)), true);
  assert.equal(mapDeleteElem(fd, u32(1)), false);
  assert.equal(mapLookupElem(fd, u32(1), value), false);
});

kernelTest("mapGetNextKey() walks every key and reports the end", () => {
  using map = hashMap();
  const fd = map.value;
  for (let k = 10; k < 20; k++) mapUpdateElem(fd, u32(k), u64(BigInt(k)));
  const seen: number[] = [];
  const next = new Uint8Array(4);
  let key: Uint8Array | null = null;
  while (mapGetNextKey(fd, key, next)) {
    seen.push(readU32(next));
    key = next.slice();
  }
  assert.deepEqual(seen.sort((a, b) => a - b), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  using empty = hashMap();
  assert.equal(mapGetNextKey(empty.value, null, next), false);
});

kernelTest("mapLookupAndDeleteElem() pops hash elements and queue/stack heads", () => {
  using hash = hashMap();
  const value = new Uint8Array(8);
  mapUpdateElem(hash.value, u32(5), u64(55n));
  assert.equal(mapLookupAndDeleteElem(hash.value, u32(5), value), true);
  assert.equal(readU64(value), 55n);
  assert.equal(mapLookupAndDeleteElem(hash.value, u32(5), value), false);

  for (const [mapType, order] of [
    [BpfMapType.QUEUE, [1n, 2n, 3n]],
    [BpfMapType.STACK, [3n, 2n, 1n]],
  ] as const) {
    using q = mapCreate({ mapType, keySize: 0, valueSize: 8, maxEntries: 8 });
    for (const v of [1n, 2n, 3n]) mapUpdateElem(q.value, null, u64(v));
    assert.equal(mapLookupElem(q.value, null, value), true, "peek");
    assert.equal(readU64(value), order[0]);
    const popped: bigint[] = [];
    while (mapLookupAndDeleteElem(q.value, null, value)) popped.push(readU64(value));
    assert.deepEqual(popped, order);
  }
});

kernelTest("array maps answer ENOENT past the end and refuse deletion with EINVAL", () => {
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
  const value = new Uint8Array(4);
  assert.equal(mapLookupElem(map.value, u32(3), value), true);
  assert.equal(mapLookupElem(map.value, u32(4), value), false);
  assertSyscallError(() => mapDeleteElem(map.value, u32(0)), "MAP_DELETE_ELEM", "EINVAL");
});

kernelTest("per-CPU maps take one 8-byte-aligned slot per possible CPU", () => {
  const cpus = possibleCpus();
  assert.ok(cpus >= 1);
  using map = mapCreate({ mapType: BpfMapType.PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
  const values = concat(Array.from({ length: cpus }, (_, cpu) => u64(BigInt(cpu + 1) * 1000n)));
  mapUpdateElem(map.value, u32(1), values);
  const out = new Uint8Array(cpus * 8);
  assert.equal(mapLookupElem(map.value, u32(1), out), true);
  for (let cpu = 0; cpu < cpus; cpu++) assert.equal(readU32(out, cpu * 8), (cpu + 1) * 1000);
  using hash = mapCreate({ mapType: BpfMapType.PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 2 });
  mapUpdateElem(hash.value, u32(9), values);
  assert.equal(mapLookupElem(hash.value, u32(9), out), true);
  assert.deepEqual(out, values);
});

kernelTest("LPM trie lookups return the longest matching prefix", () => {
  using map = mapCreate({
    mapType: BpfMapType.LPM_TRIE,
    keySize: 8,
    valueSize: 4,
    maxEntries: 16,
    flags: BpfMapFlags.NO_PREALLOC,
  });
  const prefix = (bits: number, ip: readonly number[]) => concat([u32(bits), Uint8Array.from(ip)]);
  mapUpdateElem(map.value, prefix(8, [10, 0, 0, 0]), u32(8));
  mapUpdateElem(map.value, prefix(24, [10, 1, 2, 0]), u32(24));
  const value = new Uint8Array(4);
  assert.equal(mapLookupElem(map.value, prefix(32, [10, 1, 2, 3]), value), true);
  assert.equal(readU32(value), 24);
  assert.equal(mapLookupElem(map.value, prefix(32, [10, 9, 9, 9]), value), true);
  assert.equal(readU32(value), 8);
  assert.equal(mapLookupElem(map.value, prefix(32, [192, 168, 0, 1]), value), false);
});

kernelTest("a value buffer shorter than the map's value fails with EFAULT instead of corrupting memory", () => {
  using map = hashMap();
  mapUpdateElem(map.value, u32(1), u64(1n));
  assertSyscallError(() => mapLookupElem(map.value, u32(1), new Uint8Array(4)), "MAP_LOOKUP_ELEM", "EFAULT");
  assertSyscallError(() => mapUpdateElem(map.value, u32(1), new Uint8Array(2)), "MAP_UPDATE_ELEM", "EFAULT");
});

kernelTest("values larger than the scratch arena grow it", () => {
  const valueSize = 256 * 1024;
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize, maxEntries: 2 });
  const value = Uint8Array.from({ length: valueSize }, (_, i) => i % 251);
  mapUpdateElem(map.value, u32(1), value);
  const out = new Uint8Array(valueSize);
  assert.equal(mapLookupElem(map.value, u32(1), out), true);
  assert.deepEqual(out, value);
});

kernelTest("batch commands update, read in chunks until done, and delete hash elements", () => {
  const total = 1000;
  using map = hashMap(2048, "batch");
  const fd = map.value;
  const keys = concat(Array.from({ length: total }, (_, i) => u32(i)));
  const values = concat(Array.from({ length: total }, (_, i) => u64(BigInt(i) * 3n)));
  assert.equal(mapUpdateBatch(fd, keys, values, total), total);

  const chunk = 64;
  const outKeys = new Uint8Array(chunk * 4);
  const outValues = new Uint8Array(chunk * 8);
  const inBatch = new Uint8Array(4);
  const outBatch = new Uint8Array(4);
  const seen = new Map<number, bigint>();
  let calls = 0;
  for (let first = true; ; first = false) {
    const r = mapLookupBatch(fd, { inBatch: first ? null : inBatch, outBatch, keys: outKeys, values: outValues, count: chunk });
    calls++;
    assert.ok(r.count <= chunk);
    for (let i = 0; i < r.count; i++) seen.set(readU32(outKeys, i * 4), readU64(outValues, i * 8));
    if (r.done) break;
    assert.ok(r.count > 0, "a batch that is not the last returns elements");
    inBatch.set(outBatch);
  }
  assert.ok(calls >= Math.ceil(total / chunk));
  assert.equal(seen.size, total);
  for (const [k, v] of seen) assert.equal(v, BigInt(k) * 3n);

  const error = assertSyscallError(
    () => mapDeleteBatch(fd, concat([u32(1), u32(2), u32(5000), u32(3)]), 4),
    "MAP_DELETE_BATCH",
    "ENOENT",
  );
  assert.match(error.message, /after 2 of 4 elements/);
  const value = new Uint8Array(8);
  assert.equal(mapLookupElem(fd, u32(1), value), false);
  assert.equal(mapLookupElem(fd, u32(3), value), true);

  let drained = 0;
  for (let first = true; ; first = false) {
    const r = mapLookupAndDeleteBatch(fd, {
      inBatch: first ? null : inBatch,
      outBatch,
      keys: outKeys,
      values: outValues,
      count: chunk,
    });
    drained += r.count;
    if (r.done) break;
    inBatch.set(outBatch);
  }
  assert.equal(drained, total - 2);
  assert.equal(mapGetNextKey(fd, null, new Uint8Array(4)), false);
});

kernelTest("the last lookup batch can carry elements together with the end of the iteration", () => {
  using map = hashMap(16, "batch_end");
  for (let k = 0; k < 5; k++) mapUpdateElem(map.value, u32(k), u64(BigInt(k)));
  const r = mapLookupBatch(map.value, {
    inBatch: null,
    outBatch: new Uint8Array(4),
    keys: new Uint8Array(32 * 4),
    values: new Uint8Array(32 * 8),
    count: 32,
  });
  assert.deepEqual(r, { count: 5, done: true });
});

kernelTest("array maps iterate in batches with a key-sized position", () => {
  const n = 10;
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: n });
  for (let k = 0; k < n; k++) mapUpdateElem(map.value, u32(k), u64(BigInt(k + 1)));
  const keys = new Uint8Array(4 * 4);
  const values = new Uint8Array(4 * 8);
  const outBatch = new Uint8Array(4);
  const inBatch = new Uint8Array(4);
  const got: bigint[] = [];
  for (let first = true; ; first = false) {
    const r = mapLookupBatch(map.value, { inBatch: first ? null : inBatch, outBatch, keys, values, count: 4 });
    for (let i = 0; i < r.count; i++) got.push(readU64(values, i * 8));
    if (r.done) break;
    inBatch.set(outBatch);
  }
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => BigInt(i + 1)));
});

kernelTest("batch buffers must hold exactly `count` elements", () => {
  using map = hashMap();
  assert.throws(() => mapUpdateBatch(map.value, new Uint8Array(9), new Uint8Array(16), 2), RangeError);
  assert.throws(() => mapUpdateBatch(map.value, new Uint8Array(8), new Uint8Array(16), 0), RangeError);
});

kernelTest("a frozen map refuses user-space updates with EPERM from MAP_UPDATE_ELEM", () => {
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
  mapUpdateElem(map.value, u32(0), u64(7n));
  mapFreeze(map.value);
  const error = assertSyscallError(() => mapUpdateElem(map.value, u32(0), u64(8n)), "MAP_UPDATE_ELEM", "EPERM");
  assert.equal(error.message, "MAP_UPDATE_ELEM: EPERM (Operation not permitted)");
  const value = new Uint8Array(8);
  assert.equal(mapLookupElem(map.value, u32(0), value), true);
  assert.equal(readU64(value), 7n);
  assertSyscallError(() => mapFreeze(map.value), "MAP_FREEZE", "EPERM");
});

kernelTest("element commands on a descriptor that is not a map fail with EBADF or EINVAL", () => {
  const map = hashMap();
  const fd = map.value;
  map.close();
  assertSyscallError(() => mapLookupElem(fd, u32(0), new Uint8Array(8)), "MAP_LOOKUP_ELEM", "EBADF");
  assertSyscallError(() => mapUpdateElem(1, u32(0), u64(0n)), "MAP_UPDATE_ELEM", "EINVAL");
  assertSyscallError(() => mapDeleteElem(fd, u32(0)), "MAP_DELETE_ELEM", "EBADF");
  assertSyscallError(() => mapGetNextKey(fd, null, new Uint8Array(4)), "MAP_GET_NEXT_KEY", "EBADF");
  assertSyscallError(
    () => mapLookupBatch(fd, { inBatch: null, outBatch: new Uint8Array(4), keys: new Uint8Array(4), values: new Uint8Array(8), count: 1 }),
    "MAP_LOOKUP_BATCH",
    "EBADF",
  );
});
