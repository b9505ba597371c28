/** fd and native memory ownership in src/sys: no leaks, idempotent close, poisoning, dup, the safety net. */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isWaggleError } from "../../src/errors.js";
import { BpfMapType, BpfProgType, btfLoad, FD, mapCreate, mapInfo, NativeBuffer, progLoad } from "../../src/sys/index.js";
import { kernelTest } from "../helpers/kernel.js";
import { concat, exit, movImm, openFdCount, u32 } from "./sys-helpers.js";

/** `O_CLOEXEC` in the octal `flags:` line of /proc/self/fdinfo. */
const O_CLOEXEC = 0o2000000;

function isCloexec(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "latin1"));
  assert.ok(flags, `fdinfo of ${fd} has flags`);
  return (parseInt(flags[1]!, 8) & O_CLOEXEC) !== 0;
}

kernelTest("thousands of create/close cycles leave the process's fd count unchanged", () => {
  const before = openFdCount();
  const insns = concat([movImm(0, 0), exit()]);
  const btf = concat([
    Uint8Array.from([0x9f, 0xeb, 1, 0]),
    u32(24),
    u32(0),
    u32(16),
    u32(16),
    u32(5),
    u32(1),
    u32(1 << 24),
    u32(4),
    u32((1 << 24) | 32),
    new TextEncoder().encode("\0int\0"),
  ]);
  for (let i = 0; i < 3000; i++) {
    mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4 + (i % 64), maxEntries: 1 }).close();
    if (i % 10 === 0) progLoad({ progType: BpfProgType.SOCKET_FILTER, insns, license: "GPL" }).fd.close();
    if (i % 10 === 5) btfLoad(btf).fd.close();
  }
  assert.equal(openFdCount(), before);
});

kernelTest("close() is idempotent and a closed FD throws ClosedError naming it", () => {
  const fd = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "closing" });
  const number = fd.value;
  assert.equal(fd.closed, false);
  assert.equal(String(fd), `FD(${number}, map "closing")`);
  fd.close();
  fd.close();
  assert.equal(fd.closed, true);
  assert.equal(String(fd), 'FD(closed, map "closing")');
  assert.throws(
    () => fd.value,
    (error: unknown) =>
      isWaggleError(error, "ClosedError") && error.subject === 'map "closing"' && /it is closed/.test(error.message),
  );
  assert.throws(() => fd.dup(), (error: unknown) => isWaggleError(error, "ClosedError"));
});

kernelTest("`using` closes the FD at the end of the block", () => {
  const before = openFdCount();
  let kept: FD;
  {
    using fd = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    kept = fd;
    assert.equal(openFdCount(), before + 1);
  }
  assert.equal(kept.closed, true);
  assert.equal(openFdCount(), before);
});

kernelTest("bpf() descriptors and their dup() are close-on-exec and refer to the same object", () => {
  using fd = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  assert.equal(isCloexec(fd.value), true);
  const copy = fd.dup();
  assert.notEqual(copy.value, fd.value);
  assert.equal(isCloexec(copy.value), true);
  assert.equal(mapInfo(copy.value).id, mapInfo(fd.value).id);
  assert.equal(copy.what, fd.what);
  fd.close();
  assert.equal(mapInfo(copy.value).type, BpfMapType.ARRAY);
  copy.close();
});

kernelTest("FD rejects numbers that are not descriptors", () => {
  assert.throws(() => new FD(-1, "nothing"), RangeError);
  assert.throws(() => new FD(1.5, "nothing"), RangeError);
});

kernelTest("NativeBuffer frees its memory once and refuses use afterwards", () => {
  const { buffer, addresses } = NativeBuffer.pack([Uint8Array.of(1, 2, 3), undefined, Uint8Array.of(4)]);
  assert.equal(addresses[0], buffer.address);
  assert.equal(addresses[1], 0);
  assert.equal(addresses[2], buffer.address + 8);
  assert.deepEqual(buffer.bytes.subarray(0, 3), Uint8Array.of(1, 2, 3));
  assert.equal(buffer.bytes[8], 4);
  buffer.close();
  buffer.close();
  assert.equal(buffer.closed, true);
  assert.throws(() => buffer.bytes, (error: unknown) => isWaggleError(error, "ClosedError"));
  assert.throws(() => NativeBuffer.allocate(0), RangeError);
});

kernelTest("leaked FDs are closed by the safety net, reported with WAGGLE_DEBUG_FDS=1, and never land on fd 0", () => {
  const sys = fileURLToPath(new URL("../../src/sys/index.js", import.meta.url));
  const script = `
    import { readdirSync, readlinkSync } from "node:fs";
    const sys = await import(${JSON.stringify(sys)});
    const warnings = [];
    process.on("warning", (w) => warnings.push(w.code));
    // Only map fds: Node itself may open descriptors while it prints the warnings.
    const link = (fd) => { try { return readlinkSync("/proc/self/fd/" + fd); } catch { return ""; } };
    const count = () => readdirSync("/proc/self/fd").filter((fd) => link(fd) === "anon_inode:bpf-map").length;
    const before = count();
    // Created in a function of their own: a suspended top-level await would keep its last temporary alive.
    const leak = () => {
      for (let i = 0; i < 20; i++) sys.mapCreate({ mapType: sys.BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    };
    leak();
    const leaked = count() - before;
    for (let i = 0; i < 10 && count() !== before; i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const afterGc = count() - before;
    sys.libc.close(0);
    const fd = sys.mapCreate({ mapType: sys.BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    console.log(JSON.stringify({ leaked, afterGc, warnings: warnings.filter((c) => c === "WAGGLE_FD_LEAK").length, fd: fd.value }));`;
  const child = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { ...process.env, WAGGLE_DEBUG_FDS: "1" },
  });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout);
  assert.equal(result.leaked, 20);
  assert.equal(result.afterGc, 0);
  assert.equal(result.warnings, 20);
  assert.notEqual(result.fd, 0);
});
