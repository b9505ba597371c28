/**
 * Array maps through the typed API on the real kernel: `m_array` of maps_btf.o (u32 → u64), the
 * flag-carrying arrays of map_flags.o (read-only and write-only for programs, mmapable, read-only for
 * user space) and standalone arrays: indexes, bounds, bulk writes, freezing, values programs read
 * and write.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { ArrayMap, createMap, isWaggleError, load, MapFlags } from "../../src/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

function syscallError(op: string, code: string) {
  return (e: unknown) => isWaggleError(e, "SyscallError") && e.op === op && e.code === code;
}

describe("ArrayMap", () => {
  kernelTest("an array holds maxEntries zeroed values, get() past the end is undefined and set() past it fails (E2BIG)", () => {
    using coll = load(fixturePath("maps_btf"));
    const array = coll.map("m_array", ArrayMap<bigint>);
    assert.equal(array.length, 64);
    assert.equal(array.get(0), 0n);
    assert.equal(array.get(63), 0n);
    assert.equal(array.get(64), undefined);
    array.set(63, 0x1234_5678_9abc_def0n);
    assert.equal(array.get(63), 0x1234_5678_9abc_def0n);
    assert.throws(() => array.set(64, 1n), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    assert.throws(() => array.set(3, 1n, { mode: "noexist" }), syscallError("MAP_UPDATE_ELEM", "EEXIST"), "array elements always exist");
    array.set(3, 9n, { mode: "exist" });
    assert.equal(array.get(3), 9n);
    assert.throws(() => array.deleteBytes(new Uint8Array(4)), syscallError("MAP_DELETE_ELEM", "EINVAL"), "array elements cannot be deleted");
  });

  kernelTest("entries(), values() and the iterator list every index in order", () => {
    using coll = load(fixturePath("maps_btf"));
    const array = coll.map("m_array", ArrayMap<bigint>);
    array.set(5, 50n).set(60, 600n);
    const entries = [...array.entries()];
    assert.equal(entries.length, 64);
    assert.deepEqual(entries.map(([i]) => i), [...Array(64).keys()]);
    assert.deepEqual(entries[5], [5, 50n]);
    assert.deepEqual(entries[60], [60, 600n]);
    assert.deepEqual([...array], entries);
    const values = [...array.values()];
    assert.equal(values.filter((v) => v !== 0n).length, 2);
  });

  kernelTest("setMany() takes an array of values from index 0, or (index, value) pairs from any other iterable", () => {
    using coll = load(fixturePath("maps_btf"));
    const array = coll.map("m_array", ArrayMap<bigint>);
    array.setMany([10n, 11n, 12n]);
    array.setMany(new Map([[40, 400n], [41, 410n]]));
    assert.deepEqual([0, 1, 2, 3, 40, 41, 42].map((i) => array.get(i)), [10n, 11n, 12n, 0n, 400n, 410n, 0n]);
    // A JS array is always "values from index 0", so an array of pairs is refused by the value codec.
    assert.throws(() => array.setMany([[40, 1n]] as never), TypeError);
    assert.throws(() => array.setMany(new Map([[64, 1n]])), { name: "SyscallError" }, "an index out of range fails the batch");
  });

  kernelTest("a program reads an RDONLY_PROG array written from JS and writes a WRONLY_PROG and an mmapable one", () => {
    using coll = load(fixturePath("map_flags"));
    const config = coll.map("config_ro", ArrayMap<number>);
    assert.equal(config.flags & MapFlags.RDONLY_PROG, MapFlags.RDONLY_PROG);
    assert.equal(config.info().mapFlags, MapFlags.RDONLY_PROG);
    config.setMany([40, 2]);
    assert.equal(coll.program("apply").run(new Uint8Array(14)).retval, 42);
    assert.equal(coll.map("sink_wo", ArrayMap<number>).get(0), 42, "user space reads what a write-only-for-programs array holds");
    const shared = coll.map("shared_mmap", ArrayMap<bigint>);
    assert.equal(shared.info().mapFlags, MapFlags.MMAPABLE);
    assert.equal(shared.get(0), 42n);
  });

  kernelTest("an array created with BPF_F_RDONLY can be read but not written through its fd (EPERM)", () => {
    using coll = load(fixturePath("map_flags"));
    const readonly = coll.map("user_readonly", ArrayMap<number>);
    assert.equal(readonly.get(0), 0);
    assert.equal(readonly.info().mapFlags, 0, "the kernel keeps RDONLY on the fd, not in the map's flags");
    assert.throws(() => readonly.set(0, 1), syscallError("MAP_UPDATE_ELEM", "EPERM"));
  });

  kernelTest("freeze() makes an array read-only for user space (EPERM) without losing its contents", () => {
    using array = createMap(ArrayMap<number>, { type: "array", keySize: 4, valueSize: 4, maxEntries: 4 }, { value: "u32" });
    array.setMany([1, 2, 3, 4]);
    array.freeze();
    assert.throws(() => array.set(0, 9), syscallError("MAP_UPDATE_ELEM", "EPERM"));
    assert.deepEqual([...array.values()], [1, 2, 3, 4]);
    assert.throws(() => array.freeze(), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "MAP_FREEZE", "freezing twice");
  });
});
