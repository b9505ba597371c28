/**
 * What load() lets a user choose: variables set before load (rodata knobs the verifier sees as
 * constants), which programs to load (fallback variants picked by a feature probe), and how BTF the
 * kernel rejects is handled (GCC 12's: reported at debug level, then loaded without).
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe } from "node:test";
import { load, ObjectSpec, probeProgramType } from "../../src/index.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { readGlobal } from "../helpers/globals.js";
import { kernelTest } from "../helpers/kernel.js";

describe("load() options", () => {
  kernelTest("rodata knobs set on the spec before load change what the program computes", () => {
    const spec = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
    assert.equal(spec.variables.get("multiplier")!.get(), 3);
    spec.variables.get("multiplier")!.set(10);
    using coll = load(spec);
    assert.equal(coll.program("compute").run().retval, 1000);

    const other = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
    other.variables.get("mode")!.set(1);
    using second = load(other);
    assert.equal(second.program("compute").run().retval, 12);
  });

  kernelTest("an edited copy of a spec leaves the original untouched", () => {
    const spec = ObjectSpec.parse(fixtureBytes("globals"), { file: "globals.o" });
    const copy = spec.copy();
    copy.variables.get("multiplier")!.set(7);
    assert.equal(spec.variables.get("multiplier")!.get(), 3);
    using coll = load(copy);
    assert.equal(coll.program("compute").run().retval, 700);
  });

  kernelTest("programs: [names] loads only those programs, and maps are still created", () => {
    using coll = load(fixturePath("multi_prog_section"), { programs: ["xdp_second", "tc_first"] });
    assert.deepEqual([...coll.programs.keys()], ["xdp_second", "tc_first"]);
    assert.throws(() => coll.program("xdp_first"), /Cannot find program "xdp_first": it was not selected for loading/);
    assert.equal(coll.program("xdp_second").run(new Uint8Array(14)).retval, 1);
  });

  kernelTest("programs: a predicate picks the fallback variant the kernel supports", () => {
    const fentry = probeProgramType({ type: "tracing", attachType: "trace_fentry" });
    // This machine's kernel refuses BPF trampolines (lockdown), so the probe must say so.
    assert.equal(fentry.supported, false);
    assert.match(fentry.reason!, /EPERM/);
    assert.throws(() => load(fixturePath("fallback")), { name: "SyscallError", code: "EPERM" });
    using coll = load(fixturePath("fallback"), {
      programs: (p) => (fentry.supported ? p.type === "tracing" : p.type !== "tracing"),
    });
    assert.deepEqual([...coll.programs.keys()].sort(), ["count_kprobe", "count_tp"]);
  });

  kernelTest("unknown program names are refused with the names that exist", () => {
    assert.throws(() => load(fixturePath("xdp_pass"), { programs: ["nope"] }), /Cannot load program "nope": the object has "xdp_pass"/);
  });

  kernelTest("GCC 12 objects: rejected BTF is reported at debug level and the object loads without it", () => {
    const messages: string[] = [];
    using coll = load(fixturePath("globals.gcc"), { log: (level, message) => messages.push(`${level}: ${message}`) });
    assert.equal(messages.length, 1);
    assert.match(messages[0]!, /^debug: object "globals": the kernel rejected its BTF, loading without it: .*Unsupported encoding/);
    const frame = new Uint8Array(60);
    assert.equal(coll.program("gcc_xdp").run(frame).retval, 2);
    assert.equal(readGlobal(coll, "seen"), 6);
    assert.equal(readGlobal(coll, "last_len"), 60);
    assert.equal(readGlobal(coll, "last_weight"), 11);
    assert.equal(coll.map(".data").info().btfId, 0);
  });

  kernelTest("load() accepts bytes as well as a path", () => {
    using coll = load(new Uint8Array(readFileSync(fixturePath("xdp_pass"))), { name: "from_bytes" });
    assert.equal(coll.spec.name, "from_bytes");
    assert.equal(coll.program("xdp_pass").run(new Uint8Array(14)).retval, 2);
  });
});
