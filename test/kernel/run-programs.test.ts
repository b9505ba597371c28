/**
 * Programs loaded by load() do what their C says when run with BPF_PROG_TEST_RUN: XDP, TC and socket
 * filters on hand-built frames, syscall programs on a context struct, and the features those programs
 * exercise — maps, global data, bpf-to-bpf calls, callbacks, tail calls, map-in-maps, cpu v4.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { ArrayMap, HashMap, load } from "../../src/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { readGlobal, u32s, viewOf } from "../helpers/globals.js";
import { kernelTest } from "../helpers/kernel.js";
import { etherFrame, IPPROTO, ipv4Frame } from "../helpers/packets.js";

const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;

describe("program.run()", () => {
  kernelTest("an XDP program returns XDP_PASS and leaves the frame unchanged", () => {
    using coll = load(fixturePath("xdp_pass"));
    const frame = ipv4Frame({ payload: 10 });
    const result = coll.program("xdp_pass").run(frame);
    assert.equal(result.retval, XDP_PASS);
    assert.deepEqual(result.data, frame);
    assert.ok(result.duration >= 0);
  });

  kernelTest("an XDP firewall drops UDP to port 7777, passes the rest and counts protocols in a hash map", () => {
    using coll = load(fixturePath("xdp_filter"));
    const xdp = coll.program("xdp_filter");
    assert.equal(xdp.run(ipv4Frame({ dstPort: 7777 })).retval, XDP_DROP);
    assert.equal(xdp.run(ipv4Frame({ dstPort: 53 })).retval, XDP_PASS);
    assert.equal(xdp.run(ipv4Frame({ protocol: IPPROTO.TCP, dstPort: 7777 })).retval, XDP_PASS);
    assert.equal(xdp.run(ipv4Frame({ ihl: 6, dstPort: 7777 })).retval, XDP_DROP);
    assert.equal(xdp.run(etherFrame(0x86dd)).retval, XDP_PASS);
    const counts = coll.map("proto_count", HashMap<number, bigint>);
    const count = (proto: number) => counts.get(proto);
    assert.equal(count(IPPROTO.UDP), 3n);
    assert.equal(count(IPPROTO.TCP), 1n);
    assert.equal(count(0), 1n);
  });

  kernelTest("an XDP program rewrites the frame it returns with XDP_TX", () => {
    using coll = load(fixturePath("xdp_rewrite"));
    const frame = ipv4Frame();
    const { retval, data } = coll.program("xdp_rewrite").run(frame);
    assert.equal(retval, XDP_TX);
    assert.deepEqual(data!.subarray(0, 6), frame.subarray(6, 12));
    assert.deepEqual(data!.subarray(6, 12), frame.subarray(0, 6));
    assert.equal(readGlobal(coll, "rewritten"), 1n);
  });

  kernelTest("a socket filter keeps 64 bytes of TCP and drops UDP", () => {
    using coll = load(fixturePath("socket_filter"));
    const filter = coll.program("socket_filter");
    assert.equal(filter.run(ipv4Frame({ protocol: IPPROTO.TCP, payload: 100 })).retval, 64);
    assert.equal(filter.run(ipv4Frame({ protocol: IPPROTO.TCP })).retval, 40);
    assert.equal(filter.run(ipv4Frame({ protocol: IPPROTO.UDP })).retval, 0);
  });

  kernelTest("a TC classifier sets skb->mark through the context it is run with", () => {
    using coll = load(fixturePath("tc_classifier"));
    const skb = new Uint8Array(192); // struct __sk_buff
    const run = (frame: Uint8Array) => coll.program("tc_mark").run({ data: frame, ctx: skb });
    const tcp = run(ipv4Frame({ protocol: IPPROTO.TCP }));
    assert.equal(tcp.retval, 0);
    assert.equal(viewOf(tcp.ctx!).getUint32(8, true), 0x600d); // __sk_buff.mark
    assert.equal(run(ipv4Frame({ protocol: IPPROTO.ICMP })).retval, 2);
  });

  kernelTest("a syscall program reads and writes the context it is given", () => {
    using coll = load(fixturePath("syscall_prog"));
    const ctx = new Uint8Array(16);
    viewOf(ctx).setInt32(0, 6, true);
    viewOf(ctx).setInt32(4, 7, true);
    const result = coll.program("syscall_prog").run({ ctx });
    assert.equal(result.retval, 13);
    assert.equal(viewOf(result.ctx!).getBigInt64(8, true), 42n);
    assert.equal(readGlobal(coll, "last_product"), 42n);
  });

  kernelTest("global data: .data, .bss, .rodata and custom sections hold what the program computes", () => {
    using coll = load(fixturePath("globals"));
    const compute = coll.program("compute");
    assert.equal(compute.run().retval, 300);
    assert.deepEqual(readGlobal(coll, "results"), [300n, 12n, 0xdeadbeefn ^ 0xcafen, 113n]);
    assert.equal(readGlobal(coll, "run_count"), 1n);
    assert.equal(readGlobal(coll, "counter"), 101);
    assert.equal(compute.run().retval, 303);
  });

  kernelTest("bpf-to-bpf calls: static, global and shared subprograms", () => {
    using coll = load(fixturePath("bpf2bpf"));
    const ctx = new Uint8Array(20);
    viewOf(ctx).setInt32(0, 5, true);
    const { retval, ctx: out } = coll.program("calc").run({ ctx });
    assert.equal(retval, 17);
    assert.deepEqual([4, 8, 12, 16].map((o) => viewOf(out!).getInt32(o, true)), [17, 25, 105, 162]);
    assert.equal(coll.program("xdp_len").run(new Uint8Array(50)).retval, XDP_PASS);
    assert.equal(readGlobal(coll, "xdp_result"), 1557);
  });

  kernelTest("callbacks: bpf_loop and bpf_for_each_map_elem call static functions by address", () => {
    using coll = load(fixturePath("callbacks"));
    const ctx = new Uint8Array(16);
    viewOf(ctx).setUint32(0, 10, true);
    const loop = coll.program("loop_sum").run({ ctx });
    assert.equal(loop.retval, 10);
    assert.equal(viewOf(loop.ctx!).getBigUint64(8, true), 45n);
    coll.map("numbers", ArrayMap<bigint>).setMany([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n]);
    assert.equal(coll.program("map_sum").run({ ctx: new Uint8Array(16) }).retval, 8);
    assert.equal(readGlobal(coll, "map_total"), 36n);
  });

  kernelTest("a prog array initialised in C tail-calls into the programs it names", () => {
    using coll = load(fixturePath("prog_array_init"));
    const dispatch = coll.program("dispatch");
    const frame = (first: number) => {
      const f = new Uint8Array(20);
      f[0] = first;
      return f;
    };
    assert.equal(dispatch.run(frame(0)).retval, XDP_TX);
    assert.equal(dispatch.run(frame(2)).retval, XDP_DROP);
    assert.equal(dispatch.run(frame(1)).retval, XDP_PASS); // empty slot: the tail call falls through
  });

  kernelTest("map-in-maps initialised in C hold their inner maps", () => {
    using coll = load(fixturePath("map_in_map"));
    coll.map("inner_a", ArrayMap<bigint>).set(1, 100n);
    const args = (outer: number, inner: number) => ({ ctx: u32s(outer, inner, 0, 0) });
    const hit = coll.program("lookup_array").run(args(0, 1));
    assert.equal(hit.retval, 0);
    assert.equal(viewOf(hit.ctx!).getBigUint64(8, true), 100n);
    assert.equal(coll.program("lookup_array").run(args(3, 2)).retval, 0);
    assert.equal(coll.program("lookup_array").run(args(1, 0)).retval, 1);
    assert.equal(coll.program("lookup_hash").run(args(4, 0)).retval, 1);
    assert.equal(coll.program("lookup_hash").run(args(5, 7)).retval, 2);
  });

  kernelTest("legacy `maps` section definitions create working maps", () => {
    using coll = load(fixturePath("legacy_maps"));
    assert.equal(coll.program("count").run(new Uint8Array(14)).retval, XDP_PASS);
    assert.deepEqual(coll.map("legacy_counts").lookupBytes(u32s(0)), Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
  });

  kernelTest("cpu v4 instructions (sdiv, smod, movsx, ldsx, bswap, gotol) compute what C asks", () => {
    using coll = load(fixturePath("cpu_v4"));
    const ctx = new Uint8Array(80);
    const v = viewOf(ctx);
    v.setBigInt64(0, -7n, true);
    v.setBigInt64(8, 2n, true);
    v.setInt8(16, -5);
    v.setBigUint64(24, 0x0102030405068001n, true);
    const { retval, ctx: out } = coll.program("v4_ops").run({ ctx });
    assert.equal(retval, 1);
    const o = viewOf(out!);
    assert.equal(o.getBigInt64(32, true), -3n);
    assert.equal(o.getBigInt64(40, true), -1n);
    assert.equal(o.getBigInt64(48, true), -5n);
    assert.equal(o.getBigInt64(56, true), -32767n);
    assert.equal(o.getBigUint64(64, true), 0x0180060504030201n);
  });

  kernelTest("atomic operations on globals and map values", () => {
    using coll = load(fixturePath("atomics"));
    assert.equal(coll.program("atomic_ops").run().retval, 200);
    assert.deepEqual(readGlobal(coll, "old"), [10n, 15n, 0x10fn, 0x0fn, 0x0cn, 100n, 200n]);
  });

  kernelTest("run({ repeat }) reports the mean duration over many runs", () => {
    using coll = load(fixturePath("xdp_pass"));
    const { retval, duration } = coll.program("xdp_pass").run(ipv4Frame(), { repeat: 10000 });
    assert.equal(retval, XDP_PASS);
    assert.ok(duration > 0 && duration < 1_000_000, `duration ${duration} ns`);
  });
});
