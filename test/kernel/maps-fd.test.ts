/**
 * Maps whose values are kernel objects given by fd, through the typed API on the real kernel: prog
 * arrays driving tail calls, array- and hash-of-maps read by programs, sockmaps / sockhashes holding
 * real TCP and UDP sockets (one of which a program then selects), reuseport arrays, XSK maps with a
 * bound AF_XDP socket, cgroup arrays and perf event arrays feeding BPF_OUTPUT events.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmdirSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { describe } from "node:test";
import { ArrayMap, createMap, FdArray, HashMap, isWaggleError, load, MapOfMaps, openMapById, ProgramArray, SocketMap } from "../../src/index.js";
import { FD, libc, perfEventOpen, possibleCpus, pageSize } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { u32s, viewOf } from "../helpers/globals.js";
import { kernelTest } from "../helpers/kernel.js";

const XDP_DROP = 1;
const XDP_PASS = 2;
const XDP_TX = 3;

function syscallError(op: string, code: string) {
  return (e: unknown) => isWaggleError(e, "SyscallError") && e.op === op && e.code === code;
}

/** A frame whose first byte selects the prog_array slot `dispatch` tail-calls into. */
function selector(slot: number): Uint8Array {
  const frame = new Uint8Array(20);
  frame[0] = slot;
  return frame;
}

/** Runs `body` with `size` bytes of zeroed native memory (freed afterwards). */
function withNative<T>(size: number, body: (address: number, view: DataView) => T): T {
  const address = libc.malloc(size);
  try {
    const view = new DataView(libc.nativeView(address, size));
    for (let i = 0; i < size; i++) view.setUint8(i, 0);
    return body(address, view);
  } finally {
    libc.free(address);
  }
}

const SOL_SOCKET = 1;
const SO_REUSEPORT = 15;
const SO_COOKIE = 57;
const AF_INET = 2;
const SOCK_DGRAM = 2;

/** The kernel's cookie of socket `fd` (SO_COOKIE): what socket maps report for their sockets. */
function socketCookie(fd: number): bigint {
  return withNative(16, (address, view) => {
    view.setUint32(8, 8, true);
    libc.getsockopt(fd, SOL_SOCKET, SO_COOKIE, address, address + 8);
    return view.getBigUint64(0, true);
  });
}

/** A connected loopback TCP pair and its listener. */
interface TcpPair {
  server: net.Server;
  client: net.Socket;
  peer: net.Socket;
  [Symbol.asyncDispose](): Promise<void>;
}

async function tcpPair(): Promise<TcpPair> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once("connection", resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
  const peer = await accepted;
  return {
    server,
    client,
    peer,
    async [Symbol.asyncDispose]() {
      client.destroy();
      peer.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The fd of a Node socket or server (what FdSource reads too), for SO_COOKIE. */
function nodeFd(socket: net.Socket | net.Server | dgram.Socket): number {
  return (socket as unknown as { _handle: { fd: number } })._handle.fd;
}

/** A UDP socket bound to 127.0.0.1 with SO_REUSEPORT, made with libc (Node 20's dgram cannot set it). */
function reuseportUdpSocket(): FD {
  const fd = new FD(libc.socket(AF_INET, SOCK_DGRAM, 0), "reuseport socket");
  try {
    withNative(16, (address, view) => {
      view.setUint32(0, 1, true);
      libc.setsockopt(fd.value, SOL_SOCKET, SO_REUSEPORT, address, 4);
      view.setUint32(0, 0, true);
      view.setUint16(0, AF_INET, true); // struct sockaddr_in { family, port 0, 127.0.0.1 }
      view.setUint32(4, 0x0100007f, true);
      libc.bind(fd.value, address, 16);
    });
  } catch (error) {
    fd.close();
    throw error;
  }
  return fd;
}

/**
 * An AF_XDP socket bound in copy mode to queue 0 of the loopback device, with a UMEM and fill,
 * completion and RX rings (what an XSK map accepts). The rings are never mmapped: nothing is received.
 */
function boundXdpSocket(): { fd: FD; close(): void } {
  const AF_XDP = 44;
  const SOCK_RAW = 3;
  const SOL_XDP = 283;
  const XDP_RX_RING = 2;
  const XDP_UMEM_REG = 4;
  const XDP_UMEM_FILL_RING = 5;
  const XDP_UMEM_COMPLETION_RING = 6;
  const XDP_COPY = 1 << 1;
  const LOOPBACK_IFINDEX = 1;
  const frames = 16;
  const frameSize = pageSize();
  const umemLength = frames * frameSize;
  const umem = libc.mmap(0, umemLength, libc.Prot.READ | libc.Prot.WRITE, libc.MapFlags.PRIVATE | libc.MapFlags.ANONYMOUS, -1, 0);
  let fd: FD | undefined;
  try {
    fd = new FD(libc.socket(AF_XDP, SOCK_RAW, 0), "AF_XDP socket");
    const socket = fd.value;
    withNative(32, (address, view) => {
      view.setBigUint64(0, BigInt(umem), true); // struct xdp_umem_reg { addr, len, chunk_size, headroom, flags, tx_metadata_len }
      view.setBigUint64(8, BigInt(umemLength), true);
      view.setUint32(16, frameSize, true);
      libc.setsockopt(socket, SOL_XDP, XDP_UMEM_REG, address, 32);
      view.setUint32(0, frames, true);
      for (const ring of [XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING, XDP_RX_RING]) libc.setsockopt(socket, SOL_XDP, ring, address, 4);
      for (let i = 0; i < 32; i++) view.setUint8(i, 0);
      view.setUint16(0, AF_XDP, true); // struct sockaddr_xdp { family, flags, ifindex, queue_id, shared_umem_fd }
      view.setUint16(2, XDP_COPY, true);
      view.setUint32(4, LOOPBACK_IFINDEX, true);
      libc.bind(socket, address, 16);
    });
  } catch (error) {
    fd?.close();
    libc.munmap(umem, umemLength);
    throw error;
  }
  const owned = fd;
  return {
    fd: owned,
    close() {
      owned.close();
      libc.munmap(umem, umemLength);
    },
  };
}

/** The mount point of the cgroup v2 hierarchy, or undefined. */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, mountPoint, type] = line.split(" ");
    if (type === "cgroup2") return mountPoint;
  }
  return undefined;
}

/** A fresh child cgroup (v2), its directory fd, and cleanup. */
function childCgroup(name: string): { path: string; fd: number; close(): void } | undefined {
  const root = cgroup2Root();
  if (root === undefined) return undefined;
  const path = join(root, `${name}-${process.pid}`);
  mkdirSync(path);
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  return {
    path,
    fd,
    close() {
      closeSync(fd);
      rmdirSync(path);
    },
  };
}

describe("ProgramArray", () => {
  kernelTest("slots filled in C hold their programs' ids, and keys() lists only the filled slots", () => {
    using coll = load(fixturePath("prog_array_init"));
    const table = coll.map("jump_table", ProgramArray);
    assert.equal(table.get(0), coll.program("tail_tx").info().id);
    assert.equal(table.get(1), undefined);
    assert.equal(table.get(2), coll.program("tail_drop").info().id);
    assert.deepEqual([...table.keys()], [0, 2]);
  });

  kernelTest("a program set from JS is tail-called, and a deleted slot falls through", () => {
    using coll = load(fixturePath("prog_array_init"));
    const table = coll.map("jump_table", ProgramArray);
    const dispatch = coll.program("dispatch");
    assert.equal(dispatch.run(selector(1)).retval, XDP_PASS, "slot 1 starts empty");
    table.set(1, coll.program("tail_tx"));
    assert.equal(dispatch.run(selector(1)).retval, XDP_TX);
    assert.equal(table.get(1), coll.program("tail_tx").info().id);
    table.set(3, coll.program("tail_drop").fd.value);
    assert.equal(dispatch.run(selector(3)).retval, XDP_DROP, "a program given by fd number");
    assert.equal(dispatch.run(selector(0)).retval, XDP_TX);
    assert.equal(table.delete(0), true);
    assert.equal(dispatch.run(selector(0)).retval, XDP_PASS);
    assert.equal(table.delete(0), false, "the slot is already empty");
    assert.deepEqual([...table.keys()], [1, 2, 3]);
    assert.equal(coll.variable("tail_calls").get(), 3n, "three tail calls were taken");
  });

  kernelTest("a prog array refuses a program of another type (EINVAL) and an index past its end (E2BIG)", () => {
    using coll = load(fixturePath("prog_array_init"));
    using other = load(fixturePath("syscall_prog"));
    const table = coll.map("jump_table", ProgramArray);
    assert.throws(() => table.set(1, other.program("syscall_prog")), syscallError("MAP_UPDATE_ELEM", "EINVAL"));
    assert.throws(() => table.set(table.maxEntries, coll.program("tail_tx")), syscallError("MAP_UPDATE_ELEM", "E2BIG"));
    assert.throws(() => table.set(1, 99999), syscallError("MAP_UPDATE_ELEM", "EBADF"));
  });
});

describe("MapOfMaps", () => {
  kernelTest("an array of maps holds the inner maps' ids, which openMapById() opens typed", () => {
    using coll = load(fixturePath("map_in_map"));
    const outer = coll.map("outer_arr", MapOfMaps<number>);
    assert.equal(outer.get(0), coll.map("inner_a").id);
    assert.equal(outer.get(3), coll.map("inner_b").id);
    assert.equal(outer.get(1), undefined);
    assert.deepEqual([...outer.keys()], [0, 3]);
    coll.map("inner_b", ArrayMap<bigint>).set(2, 77n);
    using inner = openMapById(outer.get(3)!) as ArrayMap<bigint>;
    assert.ok(inner instanceof ArrayMap);
    assert.equal(inner.name, "inner_b");
    assert.equal(inner.get(2), 77n, "typed through the BTF the kernel keeps for the map");
  });

  kernelTest("inner maps set and deleted from JS change what the program finds", () => {
    using coll = load(fixturePath("map_in_map"));
    const outer = coll.map("outer_arr", MapOfMaps<number>);
    const lookup = (o: number, i: number) => {
      const { retval, ctx } = coll.program("lookup_array").run({ ctx: u32s(o, i, 0, 0) });
      return [retval, viewOf(ctx!).getBigUint64(8, true)] as const;
    };
    assert.deepEqual(lookup(1, 0), [1, 0n], "slot 1 starts empty");
    outer.set(1, coll.map("inner_a"));
    coll.map("inner_a", ArrayMap<bigint>).set(2, 123n);
    assert.deepEqual(lookup(1, 2), [0, 123n]);
    // A map created on its own with the same shape as the inner template fits too.
    using fresh = createMap(ArrayMap<bigint>, { type: "array", keySize: 4, valueSize: 8, maxEntries: 4 }, { value: "u64" });
    fresh.set(3, 9000n);
    outer.set(6, fresh);
    assert.deepEqual(lookup(6, 3), [0, 9000n]);
    assert.deepEqual(lookup(6, 4), [2, 0n], "past the inner map's end");
    assert.equal(outer.delete(0), true);
    assert.deepEqual(lookup(0, 1), [1, 0n]);
    assert.deepEqual([...outer.keys()], [1, 3, 6]);
    // An inner map of another shape is refused.
    using wrong = createMap(HashMap, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 4 });
    assert.throws(() => outer.set(2, wrong), syscallError("MAP_UPDATE_ELEM", "EINVAL"));
  });

  kernelTest("a hash of maps is keyed like a hash and holds inner maps the program looks into", () => {
    using coll = load(fixturePath("map_in_map"));
    const outer = coll.map("outer_hash", MapOfMaps<number>);
    const inner = coll.map("inner_h", HashMap<number, bigint>);
    assert.deepEqual([...outer.keys()], [5]);
    assert.equal(outer.get(5), inner.id);
    inner.set(7, 700n);
    const lookup = (o: number, i: number) => {
      const { retval, ctx } = coll.program("lookup_hash").run({ ctx: u32s(o, i, 0, 0) });
      return [retval, viewOf(ctx!).getBigUint64(8, true)] as const;
    };
    assert.deepEqual(lookup(5, 7), [0, 700n]);
    outer.set(1_000_000, inner);
    assert.deepEqual(lookup(1_000_000, 7), [0, 700n]);
    assert.deepEqual([...outer.keys()].sort((a, b) => a - b), [5, 1_000_000]);
    assert.equal(outer.delete(5), true);
    assert.equal(outer.delete(5), false);
    assert.deepEqual(lookup(5, 7), [1, 0n]);
  });
});

describe("SocketMap", () => {
  kernelTest("a sockmap holds established TCP sockets and a UDP socket, reported by their cookies", async () => {
    await using pair = await tcpPair();
    const udp = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    try {
      using coll = load(fixturePath("maps_btf"));
      const sockmap = coll.map("m_sockmap", SocketMap<number>);
      assert.deepEqual([...sockmap.keys()], []);
      sockmap.set(0, pair.client).set(2, pair.peer).set(3, udp);
      assert.equal(sockmap.get(0), socketCookie(nodeFd(pair.client)));
      assert.equal(sockmap.get(2), socketCookie(nodeFd(pair.peer)));
      assert.equal(sockmap.get(3), socketCookie(nodeFd(udp)));
      assert.notEqual(sockmap.get(0), sockmap.get(2));
      assert.equal(sockmap.get(1), undefined);
      assert.deepEqual([...sockmap.keys()], [0, 2, 3]);
      assert.equal(sockmap.delete(2), true);
      assert.equal(sockmap.get(2), undefined);
      assert.deepEqual([...sockmap.keys()], [0, 3]);
      // Closing a socket removes it from the map.
      pair.client.destroy();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(sockmap.get(0), undefined);
    } finally {
      udp.close();
    }
  });

  kernelTest("a sockhash keys sockets by any key, including a BTF struct", async () => {
    await using pair = await tcpPair();
    using coll = load(fixturePath("maps_btf"));
    const byNumber = coll.map("m_sockhash", SocketMap<number>);
    byNumber.set(4242, pair.peer);
    assert.deepEqual([...byNumber.keys()], [4242]);
    assert.equal(byNumber.get(4242), socketCookie(nodeFd(pair.peer)));
    assert.equal(byNumber.get(1), undefined);
    assert.equal(byNumber.delete(4242), true);
    assert.equal(byNumber.delete(4242), false);

    using sockmapObj = load(fixturePath("sockmap"));
    type SockKey = { local_ip4: number; remote_ip4: number; local_port: number; remote_port: number };
    const byTuple = sockmapObj.map("sock_hash", SocketMap<SockKey>);
    const key: SockKey = { local_ip4: 0x0100007f, remote_ip4: 0x0100007f, local_port: pair.client.localPort!, remote_port: pair.client.remotePort! };
    byTuple.set(key, pair.client);
    assert.deepEqual([...byTuple.keys()], [key]);
    assert.equal(byTuple.get(key), socketCookie(nodeFd(pair.client)));
  });

  kernelTest("a listening socket put in a sockmap from JS is the one an sk_lookup program assigns", async () => {
    await using pair = await tcpPair();
    using coll = load(fixturePath("sk_lookup"));
    const STEERED_PORT = 7007;
    const SK_DROP = 0;
    const SK_PASS = 1;
    const ctx = new Uint8Array(72); // struct bpf_sk_lookup
    const view = viewOf(ctx);
    view.setUint32(8, AF_INET, true); // family
    view.setUint32(12, 6, true); // protocol: TCP
    view.setUint32(60, STEERED_PORT, true); // local_port
    const steer = coll.program("steer");
    assert.equal(steer.run({ ctx }).retval, SK_DROP, "no socket in target[0]");
    coll.map("target", SocketMap<number>).set(0, pair.server);
    const { retval, ctx: out } = steer.run({ ctx });
    assert.equal(retval, SK_PASS);
    assert.equal(viewOf(out!).getBigUint64(0, true), socketCookie(nodeFd(pair.server)), "the cookie of the selected socket");
    assert.equal(coll.variable("steered").get(), 1n);
  });

  kernelTest("a reuseport_sockarray holds UDP sockets bound with SO_REUSEPORT and refuses others", () => {
    using coll = load(fixturePath("maps_btf"));
    const group = coll.map("m_reuseport", SocketMap<number>);
    using first = reuseportUdpSocket();
    using second = reuseportUdpSocket();
    group.set(0, first.value).set(3, second.value);
    assert.equal(group.get(0), socketCookie(first.value));
    assert.equal(group.get(3), socketCookie(second.value));
    assert.deepEqual([...group.keys()], [0, 3]);
    assert.equal(group.delete(0), true);
    assert.deepEqual([...group.keys()], [3]);
    using plain = new FD(libc.socket(AF_INET, SOCK_DGRAM, 0), "unbound socket");
    assert.throws(() => group.set(1, plain.value), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "MAP_UPDATE_ELEM");
  });

  kernelTest("a sockmap with 4-byte values stores sockets but cannot report them (ENOSPC), so keys() lists every index", async () => {
    await using pair = await tcpPair();
    using narrow = createMap(SocketMap<number>, { type: "sockmap", keySize: 4, valueSize: 4, maxEntries: 2 });
    narrow.set(1, pair.client);
    assert.throws(() => narrow.get(1), syscallError("MAP_LOOKUP_ELEM", "ENOSPC"));
    assert.throws(() => narrow.get(0), syscallError("MAP_LOOKUP_ELEM", "ENOSPC"), "empty or not: the kernel does not say");
    assert.deepEqual([...narrow.keys()], [0, 1]);
    assert.equal(narrow.delete(1), true);
  });
});

describe("FdArray", () => {
  kernelTest("an xskmap takes a bound AF_XDP socket and refuses any other socket", () => {
    using coll = load(fixturePath("maps_btf"));
    const xsks = coll.map("m_xskmap", FdArray);
    const xsk = boundXdpSocket();
    try {
      xsks.set(1, xsk.fd.value);
      const notSupported = (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "ENOTSUP";
      assert.throws(() => xsks.lookupBytes(u32s(1)), notSupported, "user space cannot read XSK maps");
      assert.deepEqual([...xsks.keys()], [0, 1, 2, 3], "so keys() lists every index");
      assert.equal(xsks.delete(1), true);
      using udp = new FD(libc.socket(AF_INET, SOCK_DGRAM, 0), "udp socket");
      assert.throws(() => xsks.set(2, udp.value), syscallError("MAP_UPDATE_ELEM", "ENOTSUP"));
    } finally {
      xsk.close();
    }
  });

  kernelTest("a cgroup array takes cgroup v2 directory fds and refuses other files", (t) => {
    const cgroup = childCgroup("waggle-maps-fd");
    if (!cgroup) return t.skip("no cgroup v2 hierarchy is mounted");
    try {
      using coll = load(fixturePath("maps_btf"));
      const cgroups = coll.map("m_cgroup_array", FdArray);
      cgroups.set(2, cgroup.fd);
      assert.equal(cgroups.delete(2), true);
      assert.equal(cgroups.delete(2), false);
      const file = openSync("/proc/self/stat", "r");
      try {
        assert.throws(() => cgroups.set(0, file), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "MAP_UPDATE_ELEM");
      } finally {
        closeSync(file);
      }
    } finally {
      cgroup.close();
    }
  });

  kernelTest("a perf event array routes a program's bpf_perf_event_output to the BPF_OUTPUT event of its CPU", () => {
    using coll = load(fixturePath("perf_output"));
    const samples = coll.map("samples", FdArray);
    assert.equal(samples.maxEntries, possibleCpus(), "max_entries 0 becomes the CPU count");
    const frame = Uint8Array.from({ length: 42 }, (_, i) => i + 1);
    assert.equal(coll.program("emit").run(frame).retval, XDP_PASS);
    assert.equal(coll.variable("failed").get(), 1n, "no event installed: the output fails");

    const PERF_TYPE_SOFTWARE = 1;
    const PERF_COUNT_SW_BPF_OUTPUT = 10;
    const PERF_SAMPLE_RAW = 1n << 10n;
    const PERF_RECORD_SAMPLE = 9;
    const attr = new Uint8Array(64); // struct perf_event_attr, first version
    const a = viewOf(attr);
    a.setUint32(0, PERF_TYPE_SOFTWARE, true);
    a.setUint32(4, attr.length, true);
    a.setBigUint64(8, BigInt(PERF_COUNT_SW_BPF_OUTPUT), true);
    a.setBigUint64(16, 1n, true); // sample_period
    a.setBigUint64(24, PERF_SAMPLE_RAW, true);
    a.setUint32(48, 1, true); // wakeup_events
    const ringLength = 2 * pageSize(); // the metadata page and one data page
    const events: { fd: FD; ring: number }[] = [];
    try {
      for (let cpu = 0; cpu < possibleCpus(); cpu++) {
        const fd = perfEventOpen(attr, -1, cpu);
        events.push({ fd, ring: libc.mmap(0, ringLength, libc.Prot.READ | libc.Prot.WRITE, libc.MapFlags.SHARED, fd.value, 0) });
        samples.set(cpu, fd.value);
      }
      assert.equal(coll.program("emit").run(frame).retval, XDP_PASS);
      assert.equal(coll.variable("sent").get(), 1n);
      assert.equal(coll.variable("failed").get(), 1n);
      // Exactly one CPU's ring holds the sample: `WAGG`, the frame length, then 16 frame bytes.
      const DATA_HEAD = 1024; // struct perf_event_mmap_page.data_head
      const filled = events.filter(({ ring }) => new DataView(libc.nativeView(ring, ringLength)).getBigUint64(DATA_HEAD, true) > 0n);
      assert.equal(filled.length, 1);
      const record = new DataView(libc.nativeView(filled[0]!.ring + pageSize(), pageSize()));
      assert.equal(record.getUint32(0, true), PERF_RECORD_SAMPLE);
      assert.equal(record.getUint32(8, true), 28, "raw size");
      const raw = new Uint8Array(record.buffer, 12, 24);
      assert.deepEqual([...raw.subarray(0, 8)], [0x47, 0x47, 0x41, 0x57, 42, 0, 0, 0]);
      assert.deepEqual([...raw.subarray(8, 24)], [...frame.subarray(0, 16)]);
      assert.equal(samples.delete(0), true);
      assert.equal(samples.delete(0), false);
    } finally {
      for (const { fd, ring } of events) {
        libc.munmap(ring, ringLength);
        fd.close();
      }
    }
  });
});
