/**
 * Misuse of the typed map API on the real kernel: keys and values of the wrong type or size are
 * refused (TypeError / RangeError) before any syscall; a closed map refuses every operation with
 * ClosedError; mapped memory outlives close() without crashing; read-only memory is never handed out
 * as a writable view; and creating and closing maps with mapped variables leaks neither fds nor
 * mappings.
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  ArenaMap,
  ArrayMap,
  BloomFilterMap,
  createMap,
  HashMap,
  isWaggleError,
  load,
  LocalStorageMap,
  MapFlags,
  MappedMemory,
  ObjectSpec,
  openMapById,
  PerCpuArrayMap,
  ProgramArray,
  QueueMap,
  SocketMap,
  type FdSource,
} from "../../src/index.js";
import { pageSize } from "../../src/sys/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

const isClosedError = (e: unknown) => isWaggleError(e, "ClosedError");
const isEperm = (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "EPERM";

/** The number of this process's mappings of BPF map memory. */
function mapMappingCount(): number {
  return readFileSync("/proc/self/maps", "latin1")
    .split("\n")
    .filter((line) => line.endsWith("anon_inode:bpf-map")).length;
}

/** Whether something is mapped at `address` in this process. */
function isMapped(address: number): boolean {
  return readFileSync("/proc/self/maps", "latin1")
    .split("\n")
    .some((line) => {
      const [range] = line.split(" ");
      const [start, end] = (range ?? "").split("-").map((hex) => parseInt(hex, 16));
      return start !== undefined && end !== undefined && address >= start && address < end;
    });
}

/** V8's full garbage collection (exposed at run time, since test files cannot pass --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

describe("argument checks", () => {
  kernelTest("keys and values of the wrong type or range are refused before any syscall", () => {
    using coll = load(fixturePath("maps_btf"));
    const hash = coll.map("m_hash", HashMap<number, bigint>);
    hash.set(1, 10n);
    hash.freeze(); // from now on every write that reaches the kernel fails with EPERM
    assert.throws(() => hash.set(2, 20n), isEperm, "a well-formed write reaches the kernel");
    assert.throws(() => hash.delete(1), isEperm);
    assert.throws(() => hash.set("2" as never, 20n), TypeError);
    assert.throws(() => hash.set(2, "20" as never), TypeError);
    assert.throws(() => hash.set(2, 1.5 as never), TypeError);
    assert.throws(() => hash.set(-1, 20n), RangeError);
    assert.throws(() => hash.set(2 ** 32, 20n), RangeError);
    assert.throws(() => hash.set(2, -1n), RangeError);
    assert.throws(() => hash.set(2, 1n << 64n), RangeError);
    assert.throws(() => hash.delete(null as never), TypeError);
    assert.throws(() => hash.get({} as never), TypeError);
    assert.throws(() => hash.setMany([[1, 1n], [2, "x" as never]]), TypeError, "a bulk write is checked whole before the batch call");
    assert.equal(hash.get(1), 10n, "and nothing was written");
    assert.deepEqual([...hash.keys()], [1]);
  });

  kernelTest("raw bytes of the wrong size are RangeErrors naming the map and the sizes", () => {
    using coll = load(fixturePath("maps_btf"));
    const hash = coll.map("m_hash");
    assert.throws(() => hash.lookupBytes(new Uint8Array(3)), { name: "RangeError", message: 'Cannot use a 3-byte key with map "m_hash": its keys are 4 bytes' });
    assert.throws(() => hash.deleteBytes(new Uint8Array(8)), RangeError);
    assert.throws(() => hash.updateBytes(new Uint8Array(4), new Uint8Array(4)), {
      name: "RangeError",
      message: 'Cannot update map "m_hash": value is 4 bytes, its values are 8',
    });
    const perCpu = coll.map("m_percpu_array");
    assert.throws(() => perCpu.updateBytes(new Uint8Array(4), new Uint8Array(8)), RangeError, "per-CPU values hold one slot per CPU");
  });

  kernelTest("each map class checks its own keys and values", async () => {
    using coll = load(fixturePath("maps_btf"));
    const array = coll.map("m_array", ArrayMap<bigint>);
    assert.throws(() => array.get("0" as never), TypeError);
    assert.throws(() => array.set(-1, 1n), RangeError);
    const perCpu = coll.map("m_percpu_array", PerCpuArrayMap<bigint>);
    assert.throws(() => perCpu.set(0, ["1"] as never), TypeError);
    const queue = coll.map("m_queue", QueueMap<bigint>);
    assert.throws(() => queue.push("1" as never), TypeError);
    assert.equal(queue.pop(), undefined);
    const bloom = coll.map("m_bloom", BloomFilterMap<number>);
    assert.throws(() => bloom.contains(-1), RangeError);
    assert.throws(() => bloom.add("x" as never), TypeError);
    const progs = coll.map("m_prog_array", ProgramArray);
    assert.throws(() => progs.set(0, "3" as never), TypeError);
    assert.throws(() => progs.set(0, 1.5), RangeError);
    assert.throws(() => progs.set(0, -1), RangeError);
    assert.throws(() => progs.set(0, {} as FdSource), TypeError);
    const sockets = coll.map("m_sockmap", SocketMap<number>);
    assert.throws(() => sockets.set(0, { _handle: null }), TypeError, "a socket that is not open");
    const storage = coll.map("m_task_storage", LocalStorageMap<bigint>);
    assert.throws(() => storage.get(undefined as never), TypeError);
    assert.throws(() => storage.get(2 ** 40), RangeError);
  });

  kernelTest("a map keeps working after a refused argument", () => {
    using map = createMap(HashMap<number, bigint>, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 4 }, { key: "u32", value: "u64" });
    for (let i = 0; i < 3; i++) {
      assert.throws(() => map.set(i, "bad" as never), TypeError);
      map.set(i, BigInt(i));
    }
    assert.deepEqual([...map.entries()].sort(([a], [b]) => a - b), [
      [0, 0n],
      [1, 1n],
      [2, 2n],
    ]);
  });

  kernelTest("codecs of the wrong size are refused when a map is created or opened", () => {
    const before = openFdCount();
    assert.throws(() => createMap(HashMap, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 1 }, { key: "u64" }), {
      name: "TypeError",
      message: 'Cannot use u64 (8 bytes) for the keys of map "hash" of 4 bytes',
    });
    assert.throws(() => createMap(HashMap, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 1 }, { value: "nope" as never }), TypeError);
    assert.equal(openFdCount(), before, "the map created before the check was closed");
  });
});

describe("use after close", () => {
  kernelTest("every operation on a closed map throws ClosedError; close() is idempotent", () => {
    const coll = load(fixturePath("maps_btf"));
    const hash = coll.map("m_hash", HashMap<number, bigint>);
    const array = coll.map("m_array", ArrayMap<bigint>);
    const queue = coll.map("m_queue", QueueMap<bigint>);
    hash.set(1, 1n);
    coll.close();
    coll.close();
    for (const map of [hash, array, queue]) assert.equal(map.closed, true);
    const operations: [string, () => unknown][] = [
      ["get", () => hash.get(1)],
      ["set", () => hash.set(1, 2n)],
      ["delete", () => hash.delete(1)],
      ["has", () => hash.has(1)],
      ["take", () => hash.take(1)],
      ["keys", () => [...hash.keys()]],
      ["entries", () => [...hash.entries()]],
      ["size", () => hash.size],
      ["setMany", () => hash.setMany([[1, 1n]])],
      ["deleteMany", () => hash.deleteMany([1])],
      ["clear", () => hash.clear()],
      ["fd", () => hash.fd],
      ["id", () => hash.id],
      ["info", () => hash.info()],
      ["pin", () => hash.pin("/sys/fs/bpf/never")],
      ["freeze", () => hash.freeze()],
      ["lookupBytes", () => hash.lookupBytes(new Uint8Array(4))],
      ["array get", () => array.get(0)],
      ["array values", () => [...array.values()]],
      ["queue pop", () => queue.pop()],
      ["queue push", () => queue.push(1n)],
    ];
    for (const [what, operation] of operations) assert.throws(operation, isClosedError, what);
    assert.throws(() => hash.get(1), { message: 'Cannot use map "m_hash": it is closed' });
    hash.close();
  });

  kernelTest("a standalone map and its variables' maps refuse use after close", () => {
    const map = createMap(ArrayMap<number>, { type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }, { value: "u32" });
    map.close();
    assert.throws(() => map.get(0), isClosedError);
    const coll = load(fixturePath("globals"));
    const counter = coll.variable("counter");
    const unmappedSpec = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
    unmappedSpec.maps.get(".data")!.flags &= ~MapFlags.MMAPABLE;
    const unmapped = load(unmappedSpec);
    const viaSyscalls = unmapped.variable("counter");
    assert.equal(counter.get(), 100);
    assert.equal(viaSyscalls.get(), 100);
    coll.close();
    unmapped.close();
    for (const variable of [counter, viaSyscalls]) {
      assert.throws(() => variable.get(), isClosedError);
      assert.throws(() => variable.set(1), isClosedError);
    }
    assert.throws(() => coll.variables.counter, isClosedError);
  });
});

describe("mapped memory", () => {
  kernelTest("memory of a closed map: accessors throw ClosedError, a view taken before close() still reads without crashing", () => {
    const arena = createMap(ArenaMap, { type: "arena", keySize: 0, valueSize: 0, maxEntries: 2, flags: MapFlags.MMAPABLE });
    const memory = arena.memory;
    const view = memory.view;
    const bytes = new Uint8Array(memory.buffer);
    view.setUint32(8, 0xc0ffee, true);
    arena.close();
    assert.equal(memory.closed, true);
    assert.throws(() => memory.view, isClosedError);
    assert.throws(() => memory.buffer, isClosedError);
    assert.throws(() => memory.read(0, 4), isClosedError);
    assert.throws(() => memory.internalView, isClosedError);
    assert.equal(view.getUint32(8, true), 0xc0ffee);
    bytes[100] = 1; // writing through an old view is harmless too
    assert.equal(bytes[100], 1);
    assert.ok(isMapped(memory.address), "the mapping stays while views of it are reachable");
    memory.close();
  });

  kernelTest("once no view of closed memory is reachable, the garbage collector unmaps it and the kernel frees the map", async () => {
    const arena = createMap(ArenaMap, { type: "arena", keySize: 0, valueSize: 0, maxEntries: 1, flags: MapFlags.MMAPABLE });
    const id = arena.id;
    const address = arena.memory.address;
    new DataView(arena.memory.buffer).setUint8(0, 1);
    arena.close();
    assert.ok(isMapped(address));
    for (let i = 0; i < 50 && isMapped(address); i++) {
      collectGarbage();
      await tick();
    }
    assert.equal(isMapped(address), false, "unmapped after garbage collection");
    for (let i = 0; i < 100; i++) {
      try {
        openMapById(id).close();
      } catch (error) {
        if (isWaggleError(error, "SyscallError") && error.code === "ENOENT") return;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 10)); // the kernel frees maps after an RCU grace period
    }
    assert.fail(`map ${id} still exists`);
  });

  kernelTest("read-only memory (frozen .rodata) is never handed out as a view or buffer, but read() works", () => {
    using coll = load(fixturePath("globals"));
    const rodata = coll.map(".rodata");
    assert.throws(() => MappedMemory.map(rodata.fd.value, pageSize(), { subject: "rodata" }), isEperm, "a frozen map cannot be mapped writable");
    const memory = MappedMemory.map(rodata.fd.value, pageSize(), { writable: false, subject: 'map ".rodata"' });
    try {
      assert.equal(memory.writable, false);
      assert.throws(() => memory.view, { name: "TypeError", message: /Cannot hand out map "\.rodata"'s memory as a view: it is read-only/ });
      assert.throws(() => memory.buffer, TypeError);
      const multiplier = coll.spec.variables.get("multiplier")!;
      assert.deepEqual([...memory.read(multiplier.offset, 4)], [3, 0, 0, 0]);
    } finally {
      memory.close();
    }
    assert.equal(coll.variable("multiplier").mapped, true);
    assert.equal(coll.variable("multiplier").get(), 3);
  });
});

describe("resource hygiene", () => {
  kernelTest("1000 create/close cycles of typed maps and objects with mapped variables leave fds and mappings at baseline", () => {
    const spec = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
    const cycle = (i: number) => {
      using coll = load(spec);
      coll.variables.counter = i; // maps .data, .bss, .rodata…
      assert.equal(coll.variables.counter, i);
      assert.equal(coll.variable("run_count").mapped, true);
      using map = createMap(HashMap<number, bigint>, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 8 }, { key: "u32", value: "u64" });
      map.set(i, BigInt(i));
      using arena = createMap(ArenaMap, { type: "arena", keySize: 0, valueSize: 0, maxEntries: 1, flags: MapFlags.MMAPABLE });
      assert.equal(arena.memory.read(0, 1)[0], 0);
    };
    cycle(0); // warm caches (probes, scratch memory) outside the measurement
    const fds = openFdCount();
    const mappings = mapMappingCount();
    for (let i = 1; i <= 1000; i++) cycle(i);
    assert.equal(openFdCount(), fds);
    assert.equal(mapMappingCount(), mappings, "memory never handed out is unmapped at close, not left to the garbage collector");
  });
});
