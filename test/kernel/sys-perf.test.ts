/** perf_event_open through src/sys: a software counter on this process, enabled and read. */

import assert from "node:assert/strict";
import { readFileSync, readSync } from "node:fs";
import { isWaggleError } from "../../src/errors.js";
import { libc, PerfIoctl, perfEventOpen } from "../../src/sys/index.js";
import { kernelTest } from "../helpers/kernel.js";
import { readU64 } from "./sys-helpers.js";

/** `struct perf_event_attr` (first version, 64 bytes) for a software counter, created disabled. */
function softwareCounter(config: number): Uint8Array {
  const PERF_TYPE_SOFTWARE = 1;
  const PERF_ATTR_SIZE_VER0 = 64;
  const DISABLED = 1n;
  const attr = new Uint8Array(PERF_ATTR_SIZE_VER0);
  const view = new DataView(attr.buffer);
  view.setUint32(0, PERF_TYPE_SOFTWARE, true);
  view.setUint32(4, PERF_ATTR_SIZE_VER0, true);
  view.setBigUint64(8, BigInt(config), true);
  view.setBigUint64(40, DISABLED, true);
  return attr;
}

kernelTest("perfEventOpen() counts this process's task clock between ENABLE and DISABLE", () => {
  const PERF_COUNT_SW_TASK_CLOCK = 1;
  using counter = perfEventOpen(softwareCounter(PERF_COUNT_SW_TASK_CLOCK), 0, -1);
  const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${counter.value}`, "latin1"));
  assert.ok(flags && (parseInt(flags[1]!, 8) & 0o2000000) !== 0, "close-on-exec");
  libc.ioctl(counter.value, PerfIoctl.ENABLE, 0);
  let spin = 0;
  for (let i = 0; i < 2_000_000; i++) spin += i % 7;
  libc.ioctl(counter.value, PerfIoctl.DISABLE, 0);
  const value = new Uint8Array(8);
  assert.equal(readSync(counter.value, value), 8);
  assert.ok(readU64(value) > 0n, `task clock ${readU64(value)} ns after ${spin}`);
});

kernelTest("perfEventOpen() and libc wrappers report failures as SyscallError named after the call", () => {
  const bad = softwareCounter(1);
  new DataView(bad.buffer).setUint32(0, 0xffff, true);
  assert.throws(() => perfEventOpen(bad, 0, -1), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "perf_event_open");
  assert.throws(
    () => libc.ioctl(987654, PerfIoctl.ENABLE, 0),
    (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "ioctl" && e.code === "EBADF",
  );
  assert.throws(() => libc.close(987654), (e: unknown) => isWaggleError(e, "SyscallError") && e.message === "close: EBADF (Bad file descriptor): fd 987654");
  assert.throws(() => libc.munmap(1, 4096), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "munmap" && e.code === "EINVAL");
});
