/**
 * Feature probes ask the kernel, not a version table: every map type this kernel has, program types
 * with their attach types (including the trampolines this machine's lockdown refuses), helpers per
 * program type, BTF kinds. Answers are cached.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { MAP_TYPES, probeBtfKind, probeHelper, probeMapType, probeProgramType, type MapTypeName } from "../../src/index.js";
import { kernelTest } from "../helpers/kernel.js";

describe("feature probes", () => {
  kernelTest("every map type of this 6.18 kernel is reported supported", () => {
    const missing = (Object.keys(MAP_TYPES) as MapTypeName[])
      .filter((type) => type !== "unspec")
      .filter((type) => !probeMapType(type).supported)
      .map((type) => `${type}: ${probeMapType(type).reason}`);
    assert.deepEqual(missing, []);
    assert.equal(probeMapType("unspec").supported, false);
  });

  kernelTest("program types load or are refused with the kernel's reason", () => {
    for (const type of ["socket_filter", "kprobe", "sched_cls", "tracepoint", "xdp", "perf_event", "cgroup_skb", "raw_tracepoint", "sk_lookup", "cgroup_sock_addr", "syscall", "netfilter"] as const) {
      const result = probeProgramType({ type });
      assert.ok(result.supported, `${type}: ${result.reason}`);
    }
    assert.ok(probeProgramType({ type: "tracing", attachType: "trace_raw_tp" }).supported, "tp_btf");
    assert.ok(probeProgramType({ type: "tracing", attachType: "trace_iter" }).supported, "iterators");
    const fentry = probeProgramType({ type: "tracing", attachType: "trace_fentry" });
    assert.equal(fentry.supported, false, "lockdown refuses BPF trampolines on this machine");
    assert.match(fentry.reason!, /EPERM.*kernel policy/);
    assert.equal(probeProgramType({ type: "lsm", attachType: "lsm_mac" }).supported, false);
    assert.throws(() => probeProgramType({ type: "tracing" }), /without an attach type/);
  });

  kernelTest("helpers are probed per program type", () => {
    assert.ok(probeHelper({ type: "xdp" }, "bpf_map_lookup_elem").supported);
    assert.ok(probeHelper({ type: "xdp" }, "loop").supported, "names without bpf_ work");
    const skbHelper = probeHelper({ type: "xdp" }, "bpf_skb_store_bytes");
    assert.equal(skbHelper.supported, false);
    assert.match(skbHelper.reason!, /unknown func|cannot use helper|invalid func/);
    assert.ok(probeHelper({ type: "sched_cls" }, "bpf_skb_store_bytes").supported);
    const writeUser = probeHelper({ type: "kprobe" }, "bpf_probe_write_user");
    assert.equal(writeUser.supported, false, "integrity lockdown removes bpf_probe_write_user");
    assert.equal(probeHelper({ type: "xdp" }, "no_such_helper").supported, false);
  });

  kernelTest("every BTF kind Waggle can sanitise is accepted by this kernel", () => {
    for (const kind of ["func", "func_global", "var", "datasec", "float", "decl_tag", "type_tag", "enum64"] as const) {
      const result = probeBtfKind(kind);
      assert.ok(result.supported, `${kind}: ${result.reason}`);
    }
  });

  kernelTest("answers are cached", () => {
    assert.equal(probeMapType("hash"), probeMapType("hash"));
    assert.equal(probeHelper({ type: "xdp" }, 1), probeHelper({ type: "xdp" }, "bpf_map_lookup_elem"));
  });
});
