/**
 * Global variables of loaded objects on the real kernel: `coll.variables` (properties) and
 * `coll.variable(name)` over globals.o's `.data`, `.bss`, `.rodata` and custom sections. Mmapable
 * sections are read and written through mapped memory; a section without BPF_F_MMAPABLE — the static
 * `.rodata` of globals.gcc.o, or `.data` with the flag removed from its spec — goes through lookups
 * and updates. Either way a program sees what JS wrote and JS sees what the program wrote.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { load, MapFlags, ObjectSpec, type Collection } from "../../src/index.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";
import { u32s } from "../helpers/globals.js";

/** globals.o, optionally with MMAPABLE removed from some sections' specs. */
function loadGlobals(unmapped: string[] = []): Collection {
  const spec = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
  for (const section of unmapped) spec.maps.get(section)!.flags &= ~MapFlags.MMAPABLE;
  return load(spec);
}

describe("global variables", () => {
  kernelTest(".bss and .data hold what the program computed, read as typed values", () => {
    using coll = load(fixturePath("globals"));
    const v = coll.variables;
    assert.equal(v.run_count, 0n);
    assert.deepEqual(v.results, [0n, 0n, 0n, 0n]);
    assert.equal(coll.program("compute").run().retval, 300);
    assert.equal(v.run_count, 1n);
    assert.deepEqual(v.results, [300n, 12n, 0xdeadbeefn ^ 0xcafen, 113n]);
    assert.equal(v.counter, 101);
    assert.deepEqual(v.origin, { x: 5, y: 7 });
    assert.deepEqual(coll.variable("results").get(), v.results);
  });

  kernelTest(".data written from JS is what the program computes with", () => {
    using coll = load(fixturePath("globals"));
    const v = coll.variables;
    v.counter = 1000;
    v.origin = { x: 30, y: 12 };
    v.custom_data = 0;
    v.hidden_step = 1; // a static variable in a section that also has global ones
    assert.equal(coll.program("compute").run().retval, 3000);
    assert.deepEqual(v.results, [3000n, 42n, 0xcafen, 105n]);
    assert.equal(v.counter, 1001, "the program's increment of JS's value");
    coll.variable("counter").set(-5);
    assert.equal(coll.program("compute").run().retval, Number(BigInt.asUintN(32, -15n)), "retval is a u32; results[0] = 3 * -5");
    assert.deepEqual(coll.variable("results").get(), [BigInt.asUintN(64, -15n), 42n, 0xcafen, 105n]);
  });

  kernelTest(".rodata is readable, and set() on it throws TypeError naming the section", () => {
    using coll = load(fixturePath("globals"));
    const v = coll.variables;
    assert.equal(v.mode, 0);
    assert.equal(v.multiplier, 3);
    assert.equal(v.greeting, "hi");
    assert.equal(v.custom_ro, 0xcafe);
    const mode = coll.variable("mode");
    assert.equal(mode.constant, true);
    assert.equal(coll.variable("counter").constant, false);
    assert.throws(() => mode.set(1), (e: unknown) => e instanceof TypeError && /"mode": it is in \.rodata, frozen at load/.test(e.message));
    assert.throws(() => (v.multiplier = 10), TypeError);
    assert.throws(() => coll.variable("custom_ro").set(1), (e: unknown) => e instanceof TypeError && /\.rodata\.custom/.test(e.message));
    assert.equal(v.multiplier, 3);
    assert.equal(coll.program("compute").run().retval, 300);
  });

  kernelTest("knobs set on the spec before load are what .rodata holds after", () => {
    const spec = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
    spec.variables.get("multiplier")!.set(10);
    using coll = load(spec);
    assert.equal(coll.variables.multiplier, 10);
    assert.equal(coll.program("compute").run().retval, 1000);
  });

  kernelTest("variables of mmapable sections are mapped; the same object with .data unmapped goes through syscalls and behaves the same", () => {
    using mapped = loadGlobals();
    using unmapped = loadGlobals([".data"]);
    for (const name of ["counter", "origin", "hidden_step", "run_count", "results", "mode", "custom_data"]) {
      assert.equal(mapped.variable(name).mapped, true, name);
    }
    assert.equal(unmapped.variable("counter").mapped, false);
    assert.equal(unmapped.variable("origin").mapped, false);
    assert.equal(unmapped.variable("run_count").mapped, true, "other sections keep their mapping");
    for (const coll of [mapped, unmapped]) {
      coll.variables.counter = 7;
      coll.variables.origin = { x: -1, y: 1 };
      assert.equal(coll.program("compute").run().retval, 21);
      assert.deepEqual(coll.variables.results, [21n, 0n, 0xdeadbeefn ^ 0xcafen, 113n]);
      assert.equal(coll.variables.counter, 8);
    }
  });

  kernelTest("mapped variables and the data map's syscalls see the same bytes", () => {
    using coll = load(fixturePath("globals"));
    const data = coll.map(".data");
    const counter = coll.variable("counter");
    counter.set(0x01020304);
    const bytes = data.lookupBytes(new Uint8Array(4))!;
    assert.deepEqual([...bytes.subarray(0, 4)], [4, 3, 2, 1]);
    bytes.set([9, 0, 0, 0], 0);
    data.updateBytes(new Uint8Array(4), bytes);
    assert.equal(counter.get(), 9);
  });

  kernelTest("a static-only .rodata without BPF_F_MMAPABLE (bpf-gcc) is read through a lookup", () => {
    using coll = load(fixturePath("globals.gcc"));
    const weights = coll.variable("weights");
    assert.equal(weights.mapped, false);
    assert.equal(weights.constant, true);
    assert.deepEqual(weights.get(), [11, 22, 33, 44]);
    assert.throws(() => weights.set([1, 2, 3, 4]), TypeError);
    assert.equal(coll.variable("seen").mapped, true);
    assert.equal(coll.program("gcc_xdp").run(new Uint8Array(61)).retval, 2);
    assert.equal(coll.variables.seen, 6);
    assert.equal(coll.variables.last_len, 61);
    assert.equal(coll.variables.last_weight, 22);
  });

  kernelTest("a 1 MiB .bss is mapped whole: the program's writes at its end and JS's .data writes meet", () => {
    using coll = load(fixturePath("big_globals"));
    const poke = (index: number, value: number) => coll.program("poke").run({ ctx: u32s(index, value) }).retval;
    coll.variables.big_marker = 0x1000;
    assert.equal(poke(0, 5), 0x1000);
    assert.equal(poke(1_048_575, 0xab), 0x1005, "the program wraps round to byte 0");
    const buffer = coll.variable("big_buffer");
    assert.equal(buffer.mapped, true);
    const bytes = buffer.get() as Uint8Array;
    assert.equal(bytes.length, 1 << 20);
    assert.equal(bytes[0], 5);
    assert.equal(bytes[bytes.length - 1], 0xab);
  });

  kernelTest("unknown variables are named errors, and the variables object takes no new properties", () => {
    using coll = load(fixturePath("globals"));
    assert.throws(() => coll.variable("nope"), { name: "WaggleError", message: /Cannot find variable "nope": the object has "mode", "multiplier"/ });
    assert.throws(() => {
      (coll.variables as Record<string, unknown>).nope = 1;
    }, TypeError);
    assert.throws(() => (coll.variables.counter = "ten" as never), TypeError);
    assert.equal(coll.variables.counter, 100);
  });
});
