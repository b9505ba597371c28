/**
 * Storage maps through the typed API on the real kernel. Local storages (`sk_storage`,
 * `inode_storage`, `task_storage`, `cgrp_storage` of maps_btf.o) are keyed from user space by an fd
 * of their owner — a socket, a file, a pidfd, a cgroup directory — and the value follows the owner,
 * not the fd. Cgroup storage elements exist only while a program is attached to a cgroup, which
 * Waggle cannot do yet: for them the key codec and an empty map are tested.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "node:test";
import { CgroupStorageMap, createMap, isWaggleError, load, LocalStorageMap, MapFlags, type CgroupStorageKey } from "../../src/index.js";
import { libc } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

function syscallError(op: string, code: string) {
  return (e: unknown) => isWaggleError(e, "SyscallError") && e.op === op && e.code === code;
}

/** `pidfd_open(pid, 0)` (x86-64 and arm64 share the generic number 434); returns the fd. */
function pidfdOpen(pid: number): number {
  const SYS_PIDFD_OPEN = 434;
  const fd = libc.syscall6(SYS_PIDFD_OPEN, pid, 0, 0, 0, 0, 0);
  if (fd < 0) throw new Error(`pidfd_open(${pid}) failed: errno ${-fd}`);
  return fd;
}

/** The mount point of the cgroup v2 hierarchy, or undefined. */
function cgroup2Root(): string | undefined {
  for (const line of readFileSync("/proc/self/mounts", "utf8").split("\n")) {
    const [, mountPoint, type] = line.split(" ");
    if (type === "cgroup2") return mountPoint;
  }
  return undefined;
}

const openDirectory = (path: string) => openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);

describe("LocalStorageMap", () => {
  kernelTest("local storages are created with max_entries 0 and BPF_F_NO_PREALLOC", () => {
    using coll = load(fixturePath("maps_btf"));
    for (const name of ["m_sk_storage", "m_inode_storage", "m_task_storage", "m_cgrp_storage"]) {
      const map = coll.map(name, LocalStorageMap);
      const info = map.info();
      assert.equal(info.maxEntries, 0, name);
      assert.equal(info.mapFlags, MapFlags.NO_PREALLOC, name);
      assert.equal(map.keyCodec.description, "owner fd", name);
    }
  });

  kernelTest("sk_storage attaches a value to each socket, given as a Node socket or an fd", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    await new Promise<void>((resolve) => client.once("connect", resolve));
    const udp = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    try {
      using coll = load(fixturePath("maps_btf"));
      const storage = coll.map("m_sk_storage", LocalStorageMap<bigint>);
      assert.equal(storage.get(client), undefined);
      storage.set(client, 11n).set(udp, 22n).set(server, 33n);
      assert.equal(storage.get(client), 11n);
      assert.equal(storage.get(udp), 22n);
      assert.equal(storage.get(server), 33n);
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      assert.equal(storage.get(fd), 11n, "the same socket by fd number");
      storage.set(fd, 12n, { mode: "exist" });
      assert.equal(storage.get(client), 12n);
      assert.throws(() => storage.set(client, 13n, { mode: "noexist" }), syscallError("MAP_UPDATE_ELEM", "EEXIST"));
      assert.equal(storage.delete(client), true);
      assert.equal(storage.delete(client), false);
      assert.equal(storage.get(client), undefined);
      assert.equal(storage.get(udp), 22n, "other sockets keep theirs");
      const file = openSync("/proc/self/stat", "r");
      try {
        assert.throws(() => storage.set(file, 1n), syscallError("MAP_UPDATE_ELEM", "ENOTSOCK"));
      } finally {
        closeSync(file);
      }
    } finally {
      client.destroy();
      udp.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  kernelTest("inode_storage belongs to the file: any fd of the same inode sees the value", () => {
    const dir = mkdtempSync(join(tmpdir(), "waggle-inode-"));
    const a = join(dir, "a");
    const b = join(dir, "b");
    writeFileSync(a, "a");
    writeFileSync(b, "b");
    const first = openSync(a, "r");
    const second = openSync(a, "r");
    const other = openSync(b, "r");
    try {
      using coll = load(fixturePath("maps_btf"));
      const storage = coll.map("m_inode_storage", LocalStorageMap<bigint>);
      storage.set(first, 0xabcdn);
      assert.equal(storage.get(second), 0xabcdn);
      assert.equal(storage.get(other), undefined);
      storage.set(other, 1n);
      assert.equal(storage.delete(second), true);
      assert.equal(storage.get(first), undefined);
      assert.equal(storage.get(other), 1n);
    } finally {
      for (const fd of [first, second, other]) closeSync(fd);
      rmSync(dir, { recursive: true });
    }
  });

  kernelTest("task_storage is keyed by pidfd: every pidfd of a process sees its value", () => {
    const self = pidfdOpen(process.pid);
    const selfAgain = pidfdOpen(process.pid);
    const parent = pidfdOpen(process.ppid);
    try {
      using coll = load(fixturePath("maps_btf"));
      const storage = coll.map("m_task_storage", LocalStorageMap<bigint>);
      storage.set(self, BigInt(process.pid));
      storage.set(parent, BigInt(process.ppid));
      assert.equal(storage.get(selfAgain), BigInt(process.pid));
      assert.equal(storage.get(parent), BigInt(process.ppid));
      assert.equal(storage.delete(selfAgain), true);
      assert.equal(storage.get(self), undefined);
      const file = openSync("/proc/self/stat", "r");
      try {
        assert.throws(() => storage.set(file, 1n), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "MAP_UPDATE_ELEM", "not a pidfd");
      } finally {
        closeSync(file);
      }
    } finally {
      for (const fd of [self, selfAgain, parent]) libc.close(fd);
    }
  });

  kernelTest("cgrp_storage is keyed by cgroup v2 directory fds", (t) => {
    const root = cgroup2Root();
    if (root === undefined) return t.skip("no cgroup v2 hierarchy is mounted");
    const child = join(root, `waggle-maps-storage-${process.pid}`);
    mkdirSync(child);
    const rootFd = openDirectory(root);
    const childFd = openDirectory(child);
    const childAgain = openDirectory(child);
    try {
      using coll = load(fixturePath("maps_btf"));
      const storage = coll.map("m_cgrp_storage", LocalStorageMap<bigint>);
      storage.set(rootFd, 1n).set(childFd, 2n);
      assert.equal(storage.get(rootFd), 1n);
      assert.equal(storage.get(childAgain), 2n);
      assert.equal(storage.delete(childAgain), true);
      assert.equal(storage.get(childFd), undefined);
      assert.equal(storage.get(rootFd), 1n);
      assert.equal(storage.delete(rootFd), true);
    } finally {
      for (const fd of [rootFd, childFd, childAgain]) closeSync(fd);
      rmdirSync(child);
    }
  });
});

describe("CgroupStorageMap", () => {
  kernelTest("the key codec writes struct bpf_cgroup_storage_key and reads it back", () => {
    using coll = load(fixturePath("maps_btf"));
    const storage = coll.map("m_cgroup_storage", CgroupStorageMap<bigint>);
    const codec = storage.keyCodec;
    assert.equal(codec.size, 16);
    const bytes = new Uint8Array(16).fill(0xff);
    const view = new DataView(bytes.buffer);
    codec.encode({ cgroupInodeId: 0x1122334455667788n, attachType: "cgroup_inet_egress" }, view, 0);
    assert.deepEqual([...bytes], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 1, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(codec.decode(view, 0), { cgroupInodeId: 0x1122334455667788n, attachType: "cgroup_inet_egress" });
    assert.throws(() => codec.encode({ cgroupInodeId: 1, attachType: "cgroup_inet_egress" } as unknown as CgroupStorageKey, view, 0), TypeError);
    assert.throws(() => codec.encode({ cgroupInodeId: 1n, attachType: "no_such_hook" } as unknown as CgroupStorageKey, view, 0), TypeError);
    view.setUint32(8, 0xffff, true);
    assert.throws(() => codec.decode(view, 0), TypeError, "an unknown attach type number");
  });

  kernelTest("with no program attached a cgroup storage has no keys, and get() and set() find nothing", () => {
    using coll = load(fixturePath("maps_btf"));
    const storage = coll.map("m_cgroup_storage", CgroupStorageMap<bigint>);
    assert.deepEqual([...storage.keys()], []);
    const key: CgroupStorageKey = { cgroupInodeId: 1n, attachType: "cgroup_inet_ingress" };
    assert.equal(storage.get(key), undefined);
    assert.throws(() => storage.set(key, 1n), syscallError("MAP_UPDATE_ELEM", "ENOENT"));

    using perCpu = createMap(CgroupStorageMap<bigint[]>, { type: "percpu_cgroup_storage", keySize: 16, valueSize: 8, maxEntries: 0 }, { value: "u64" });
    assert.deepEqual([...perCpu.keys()], []);
    assert.equal(perCpu.get(key), undefined);
  });
});
