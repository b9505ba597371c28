/**
 * XDP redirect maps through the typed API on the real kernel: `devmap`, `devmap_hash` and `cpumap` of
 * maps_btf.o, with entries written as plain objects and read back with the program ids the kernel
 * reports. No fixture has a `SEC("xdp/devmap")` program, so the entry programs are xdp_pass.o loaded
 * with its spec's expected attach type set to `xdp_devmap` / `xdp_cpumap` (what that section gives).
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { CpuMap, DevMap, isWaggleError, load, ObjectSpec, type AttachTypeName, type Collection } from "../../src/index.js";
import { possibleCpus } from "../../src/sys/index.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

const LOOPBACK_IFINDEX = 1;

function syscallError(op: string, code: string) {
  return (e: unknown) => isWaggleError(e, "SyscallError") && e.op === op && e.code === code;
}

/** xdp_pass.o with its program loaded for the given attach type (as `xdp/devmap` or `xdp/cpumap` would). */
function xdpPassFor(attachType: AttachTypeName): Collection {
  const spec = ObjectSpec.parse(fixtureBytes("xdp_pass"), { file: "xdp_pass.o" });
  spec.programs.get("xdp_pass")!.expectedAttachType = attachType;
  return load(spec);
}

describe("DevMap", () => {
  kernelTest("a devmap entry names a device and, optionally, a devmap program reported back by id", () => {
    using coll = load(fixturePath("maps_btf"));
    using devmapProgram = xdpPassFor("xdp_devmap");
    const devices = coll.map("m_devmap", DevMap<number>);
    assert.equal(devices.valueCodec.description, "bpf_devmap_val");
    assert.deepEqual([...devices.keys()], [], "the kernel walks every index; empty ones are skipped");
    devices.set(0, { ifindex: LOOPBACK_IFINDEX });
    devices.set(2, { ifindex: LOOPBACK_IFINDEX, program: devmapProgram.program("xdp_pass") });
    assert.deepEqual(devices.get(0), { ifindex: LOOPBACK_IFINDEX, program: 0 });
    assert.deepEqual(devices.get(2), { ifindex: LOOPBACK_IFINDEX, program: devmapProgram.program("xdp_pass").info().id });
    assert.equal(devices.get(1), undefined);
    assert.deepEqual([...devices.keys()], [0, 2]);
    devices.delete(0);
    assert.equal(devices.get(0), undefined);
    assert.deepEqual([...devices.keys()], [2]);
  });

  kernelTest("a devmap refuses a plain XDP program, an unknown device and an index past its end", () => {
    using coll = load(fixturePath("maps_btf"));
    using plain = load(fixturePath("xdp_pass"));
    const devices = coll.map("m_devmap", DevMap<number>);
    assert.throws(() => devices.set(1, { ifindex: LOOPBACK_IFINDEX, program: plain.program("xdp_pass") }), syscallError("MAP_UPDATE_ELEM", "EINVAL"));
    assert.throws(() => devices.set(1, { ifindex: 0x7fff_fff0 }), syscallError("MAP_UPDATE_ELEM", "EINVAL"));
    assert.throws(() => devices.set(devices.maxEntries, { ifindex: LOOPBACK_IFINDEX }), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    assert.throws(() => devices.set(1, { ifindex: "lo" } as never), TypeError, "not coerced to ifindex 0, which would empty the slot");
    assert.deepEqual([...devices.keys()], []);
  });

  kernelTest("a devmap_hash is keyed by any u32 and lists only its entries", () => {
    using coll = load(fixturePath("maps_btf"));
    using devmapProgram = xdpPassFor("xdp_devmap");
    const devices = coll.map("m_devmap_hash", DevMap<number>);
    devices.set(1_000_000, { ifindex: LOOPBACK_IFINDEX });
    devices.set(7, { ifindex: LOOPBACK_IFINDEX, program: devmapProgram.program("xdp_pass").fd.value });
    assert.deepEqual([...devices.keys()].sort((a, b) => a - b), [7, 1_000_000]);
    assert.deepEqual(devices.get(7), { ifindex: LOOPBACK_IFINDEX, program: devmapProgram.program("xdp_pass").info().id });
    assert.equal(devices.delete(1_000_000), true);
    assert.equal(devices.delete(1_000_000), false);
    assert.deepEqual([...devices.keys()], [7]);
  });
});

describe("CpuMap", () => {
  kernelTest("a cpumap entry sets a CPU's queue size and, optionally, a cpumap program reported back by id", () => {
    using coll = load(fixturePath("maps_btf"));
    using cpumapProgram = xdpPassFor("xdp_cpumap");
    const cpus = coll.map("m_cpumap", CpuMap);
    assert.equal(cpus.valueCodec.description, "bpf_cpumap_val");
    assert.equal(cpus.get(0), undefined);
    const last = Math.min(possibleCpus(), cpus.maxEntries) - 1;
    cpus.set(0, { queueSize: 192 });
    assert.deepEqual(cpus.get(0), { queueSize: 192, program: 0 });
    cpus.set(last, { queueSize: 64, program: cpumapProgram.program("xdp_pass") });
    assert.deepEqual(cpus.get(last), { queueSize: 64, program: cpumapProgram.program("xdp_pass").info().id });
    cpus.set(0, { queueSize: 256 });
    assert.deepEqual(cpus.get(0), { queueSize: 256, program: 0 }, "replacing an entry");
    cpus.delete(0);
    assert.equal(cpus.get(0), undefined);
    assert.throws(() => cpus.set(cpus.maxEntries, { queueSize: 64 }), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    // The kernel reports any failure to set up a CPU entry, a program of the wrong attach type included, as ENOMEM.
    using devmapProgram = xdpPassFor("xdp_devmap");
    assert.throws(() => cpus.set(0, { queueSize: 64, program: devmapProgram.program("xdp_pass") }), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "MAP_UPDATE_ELEM");
    assert.throws(() => cpus.set(0, { queueSize: -1 }), TypeError);
  });
});
