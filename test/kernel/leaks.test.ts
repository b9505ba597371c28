/** Loading and closing never leaks a file descriptor, whether the load succeeds or fails. */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { load, ObjectSpec } from "../../src/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixtureBytes } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

describe("fd hygiene", () => {
  kernelTest("after loading and closing 1000 collections /proc/self/fd is back where it started", () => {
    const spec = ObjectSpec.parse(fixtureBytes("bench_multi"), { file: "bench_multi.o" });
    load(spec).close(); // warm caches (probes, scratch memory) outside the measurement
    const before = openFdCount();
    for (let i = 0; i < 1000; i++) {
      using coll = load(spec);
      assert.equal(coll.programs.size, 5);
    }
    assert.equal(openFdCount(), before);
  });

  kernelTest("closing twice is harmless and a closed map or program refuses to be used", () => {
    const coll = load(fixtureBytes("xdp_filter"));
    const map = coll.map("proto_count");
    const program = coll.program("xdp_filter");
    coll.close();
    coll.close();
    assert.throws(() => map.lookupBytes(new Uint8Array(4)), { name: "ClosedError", message: 'Cannot use map "proto_count": it is closed' });
    assert.throws(() => program.run(new Uint8Array(14)), { name: "ClosedError" });
  });

  kernelTest("a load that fails part-way (a program the kernel refuses) leaves no fd behind", () => {
    const before = openFdCount();
    for (let i = 0; i < 50; i++) assert.throws(() => load(fixtureBytes("fallback")), { name: "SyscallError" });
    assert.equal(openFdCount(), before);
  });
});
