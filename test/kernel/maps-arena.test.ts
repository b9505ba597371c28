/**
 * Arena maps through the typed API on the real kernel: arena.o's `arena` (4 pages at the fixed user
 * address 0x40000000) is mapped at load, `arena_alloc` writes into a page it allocates, and JS reads
 * and writes the same memory through `ArenaMap.memory` with no syscall. A second program, assembled
 * here, reads arena memory so that bytes written from JS can be seen from the BPF side.
 *
 * Memory handed out with `view` / `buffer` stays mapped until garbage collected (so a fixed-address
 * arena cannot be mapped again before then); the test that writes from JS is therefore the last one
 * here to load arena.o.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { encodeInstructions, ProgramBuilder, R0, R1, BPF_PSEUDO_MAP_FD } from "../../src/asm/index.js";
import { ArenaMap, BpfProgram, createMap, isWaggleError, load, MapFlags, PROGRAM_TYPES, ProgramFlags } from "../../src/index.js";
import { pageSize, progLoad } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

const ARENA_ADDRESS = 0x4000_0000;
const ARENA_PAGES = 4;

/** A sleepable syscall program returning the u32 at user address `address` of `arena`'s memory. */
function arenaReader(arena: ArenaMap, address: number): BpfProgram {
  const insns = new ProgramBuilder()
    .ldPseudo(R1, BPF_PSEUDO_MAP_FD, arena.fd.value) // makes the arena the program's
    .lddw(R1, address)
    .addrSpaceCast(R1, R1, 0, 1) // a 32-bit arena offset the JIT rebases onto the kernel's view
    .ldx("u32", R0, R1, 0)
    .exit()
    .build();
  const { fd } = progLoad({
    progType: PROGRAM_TYPES.syscall,
    insns: encodeInstructions(insns),
    license: "GPL",
    name: "arena_reader",
    flags: ProgramFlags.SLEEPABLE,
  });
  return new BpfProgram(fd, "arena_reader", "syscall");
}

describe("ArenaMap", () => {
  kernelTest("the arena is mapped at its map_extra address, and a page a program allocates shows its writes", () => {
    using coll = load(fixturePath("arena"));
    const arena = coll.map("arena", ArenaMap);
    assert.equal(arena.spec?.mapExtra, BigInt(ARENA_ADDRESS));
    const memory = arena.memory;
    assert.equal(memory.address, ARENA_ADDRESS);
    assert.equal(memory.length, ARENA_PAGES * pageSize());
    assert.equal(memory.writable, true);
    assert.equal(arena.memory, memory, "mapped once");
    assert.equal(coll.program("arena_alloc").run().retval, 0);
    assert.equal(coll.variable("page_addr").get(), BigInt(ARENA_ADDRESS), "the first free page");
    assert.deepEqual([...memory.read(0, 8)], [42, 0, 0, 0, 43, 0, 0, 0]);
    // A second run allocates the next page.
    assert.equal(coll.program("arena_alloc").run().retval, 0);
    assert.equal(coll.variable("page_addr").get(), BigInt(ARENA_ADDRESS + pageSize()));
    assert.deepEqual([...memory.read(pageSize(), 8)], [42, 0, 0, 0, 43, 0, 0, 0]);
    assert.throws(() => memory.read(memory.length - 4, 8), RangeError);
  });

  kernelTest("closing an arena whose memory was only read unmaps it at once, so the object loads again at the same address", () => {
    for (let i = 0; i < 3; i++) {
      using coll = load(fixturePath("arena"));
      const memory = coll.map("arena", ArenaMap).memory;
      assert.equal(memory.address, ARENA_ADDRESS);
      assert.equal(coll.program("arena_alloc").run().retval, 0);
      assert.equal(memory.read(0, 1)[0], 42);
    }
  });

  kernelTest("an arena without map_extra is mapped wherever mmap puts it, and JS reads back what it wrote", () => {
    using coll = load(fixturePath("maps_btf"));
    const arena = coll.map("m_arena", ArenaMap);
    const memory = arena.memory;
    assert.equal(memory.length, 2 * pageSize());
    assert.notEqual(memory.address, 0);
    memory.view.setUint32(pageSize() + 8, 0xfeedf00d, true); // faults the page in
    assert.deepEqual([...memory.read(pageSize() + 8, 4)], [0x0d, 0xf0, 0xed, 0xfe]);

    using alone = createMap(ArenaMap, { type: "arena", keySize: 0, valueSize: 0, maxEntries: 1, flags: MapFlags.MMAPABLE });
    alone.memory.view.setUint8(0, 7);
    assert.equal(alone.memory.read(0, 1)[0], 7);
  });

  kernelTest("bytes JS writes into arena memory are what a program reads, and views outlive close() harmlessly", () => {
    const coll = load(fixturePath("arena"));
    const arena = coll.map("arena", ArenaMap);
    assert.equal(coll.program("arena_alloc").run().retval, 0);
    const view = arena.memory.view;
    assert.equal(view.getUint32(0, true), 42, "the program's write, seen from JS");
    using readPage0 = arenaReader(arena, ARENA_ADDRESS);
    using readPage2 = arenaReader(arena, ARENA_ADDRESS + 2 * pageSize() + 12);
    assert.equal(readPage0.run().retval, 42);
    view.setUint32(0, 0x5157, true);
    assert.equal(readPage0.run().retval, 0x5157, "JS's write, seen from the program");
    // A page only JS touched (the fault allocates it) is shared the same way.
    view.setUint32(2 * pageSize() + 12, 0x7e57, true);
    assert.equal(readPage2.run().retval, 0x7e57);
    // ... and the program's allocations skip it: the two pages left are 1 and 3.
    const allocated: bigint[] = [];
    for (let i = 0; i < 2; i++) {
      assert.equal(coll.program("arena_alloc").run().retval, 0);
      allocated.push(coll.variable("page_addr").get() as bigint);
    }
    assert.deepEqual(allocated.sort(), [BigInt(ARENA_ADDRESS + pageSize()), BigInt(ARENA_ADDRESS + 3 * pageSize())]);
    assert.equal(coll.program("arena_alloc").run().retval, 1, "the arena is full");

    const memory = arena.memory;
    coll.close();
    assert.equal(memory.closed, true);
    assert.throws(() => memory.view, { name: "ClosedError" });
    assert.throws(() => memory.read(0, 4), { name: "ClosedError" });
    assert.equal(arena.memory.closed, true);
    assert.equal(view.getUint32(0, true), 0x5157, "a view taken before close() still reads the memory");
    // While that view is reachable the address stays taken: loading the object again says so.
    assert.throws(
      () => load(fixturePath("arena")),
      (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "EEXIST" && /arena "arena" at 0x40000000: the address is in use/.test(e.message),
    );
    assert.equal(view.getUint32(0, true), 0x5157);
  });
});
