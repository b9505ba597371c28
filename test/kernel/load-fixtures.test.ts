/**
 * Every fixture that this kernel can load goes through load(): its programs and maps come out live,
 * with the names and types the object declares, and close() releases them.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { load, ObjectSpec } from "../../src/index.js";
import { fixturePath, fixtureBytes } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

/** Fixtures that load in full on this kernel, with the programs each must yield. */
const LOADABLE: Record<string, string[]> = {
  xdp_pass: ["xdp_pass"],
  xdp_filter: ["xdp_filter"],
  xdp_rewrite: ["xdp_rewrite"],
  socket_filter: ["socket_filter"],
  tc_classifier: ["tc_mark", "tc_priority"],
  flow_dissector: ["dissect"],
  syscall_prog: ["syscall_prog"],
  cgroup_skb: ["count_ingress", "drop_discard_egress"],
  cgroup_sock_addr: ["connect4", "connect6", "bind4", "sendmsg4", "recvmsg4", "getpeername4"],
  cgroup_sock: ["sock_create", "sock_release", "post_bind4"],
  cgroup_sysctl: ["sysctl_guard"],
  cgroup_dev: ["dev_guard"],
  cgroup_sockopt: ["set_opt", "get_opt"],
  sockops: ["sockops_count"],
  sockmap: ["add_established", "msg_verdict", "stream_parser", "stream_verdict"],
  sk_lookup: ["steer"],
  sk_reuseport: ["select_by_hash", "migrate_pass"],
  tracepoint: ["getpid_enter", "getpid_exit"],
  raw_tp: ["raw_sys_enter", "raw_sys_exit"],
  raw_tp_writable: ["inject", "peek"],
  perf_event: ["on_sample"],
  kprobe_multi: ["multi_entry", "multi_return"],
  uprobe_multi: ["multi_entry", "multi_return"],
  maps_btf: ["xdp_lpm", "exercise"],
  map_in_map: ["lookup_array", "lookup_hash"],
  prog_array_init: ["tail_tx", "tail_drop", "dispatch"],
  legacy_maps: ["count"],
  map_flags: ["apply"],
  ringbuf_output: ["produce"],
  perf_output: ["emit"],
  globals: ["compute"],
  big_globals: ["poke"],
  bpf2bpf: ["calc", "xdp_len"],
  callbacks: ["loop_sum", "map_sum", "arm_timer"],
  multi_prog_section: ["xdp_first", "xdp_second", "tc_first", "tc_second"],
  gpl_helpers: ["read_task"],
  cpu_v4: ["v4_ops"],
  atomics: ["atomic_ops"],
  bench_multi: ["enter_openat", "exit_openat", "on_switch", "xdp_count", "sock_len"],
  "globals.gcc": ["gcc_xdp"],
  arena: ["arena_alloc"],
  core_relocs: ["probe"],
  externs: ["resolve"],
  iter_task: ["dump_task"],
  license_version: ["version_kprobe", "version_xdp"],
  probes: ["kprobe_openat2", "kretprobe_openat2", "ksyscall_getpid", "kretsyscall_getpid", "uprobe_manual", "uretprobe_manual", "uprobe_libc_getpid", "uretprobe_libc_getpid", "uprobe_sleepable"],
  tp_btf: ["on_switch", "on_sys_enter"],
  usdt: ["usdt_manual", "usdt_cxx_throw"],
};

describe("load() on the fixture corpus", () => {
  for (const [fixture, programs] of Object.entries(LOADABLE)) {
    kernelTest(`load() loads ${fixture} with programs ${programs.join(", ")}`, () => {
      const spec = ObjectSpec.parse(fixtureBytes(fixture), { file: `${fixture}.o` });
      const coll = load(fixturePath(fixture));
      try {
        assert.deepEqual([...coll.programs.keys()].sort(), [...programs].sort());
        for (const program of coll.programs.values()) {
          assert.equal(program.type, spec.programs.get(program.name)!.type);
          const info = program.info();
          assert.equal(info.name, program.name.slice(0, 15));
          assert.ok(info.id > 0);
        }
        assert.deepEqual([...coll.maps.keys()], [...spec.maps.keys()]);
        for (const map of coll.maps.values()) {
          const info = map.info();
          assert.equal(info.keySize, map.keySize, `${map.name} key size`);
          assert.equal(info.valueSize, map.valueSize, `${map.name} value size`);
          assert.equal(info.maxEntries, map.maxEntries, `${map.name} max entries`);
        }
      } finally {
        coll.close();
      }
      assert.ok(coll.closed);
      for (const program of coll.programs.values()) assert.ok(program.closed);
      for (const map of coll.maps.values()) assert.ok(map.closed);
    });
  }

  kernelTest("load() names global-data maps the way libbpf does", () => {
    using coll = load(fixturePath("globals"));
    const names = [...coll.maps.values()].map((m) => m.info().name).sort();
    assert.deepEqual(names, [".data.custom", ".rodata.custom", ".rodata.str1.1", "globals.bss", "globals.data", "globals.rodata"]);
  });

  kernelTest("load() freezes .rodata so the verifier can treat it as constant", () => {
    using coll = load(fixturePath("globals"));
    assert.throws(() => coll.map(".rodata").updateBytes(new Uint8Array(4), new Uint8Array(coll.map(".rodata").valueSize)), {
      name: "SyscallError",
      code: "EPERM",
    });
    coll.map(".data").updateBytes(new Uint8Array(4), coll.map(".data").lookupBytes(new Uint8Array(4))!);
  });

  kernelTest("load() passes the object's BTF so maps carry key and value types", () => {
    using coll = load(fixturePath("xdp_filter"));
    const info = coll.map("proto_count").info();
    assert.ok(info.btfId > 0);
    assert.ok(info.btfKeyTypeId > 0 && info.btfValueTypeId > 0);
  });

  kernelTest("load() passes func and line info so the kernel knows the program's source", () => {
    using coll = load(fixturePath("bpf2bpf"));
    const info = coll.program("calc").info();
    assert.ok(info.nrFuncInfo >= 2, `func info records: ${info.nrFuncInfo}`);
    assert.ok(info.nrLineInfo > 5, `line info records: ${info.nrLineInfo}`);
  });
});
