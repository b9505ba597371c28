/**
 * perf_event_open(2): the kernel's performance counters and trace events, which programs attach to
 * (kprobes, uprobes and tracepoints through PERF_EVENT_IOC_SET_BPF or a perf_event link, sampling
 * programs). The `struct perf_event_attr` bytes are the caller's; this file only makes the call, with
 * `PERF_FLAG_FD_CLOEXEC` always set, and owns the fd.
 */

import { archFacts } from "../arch.js";
import { SyscallError } from "../errors.js";
import { FD } from "./fd.js";
import { syscall6 } from "./libc.js";
import { NativeBuffer } from "./native-memory.js";

/** `flags` bits of perf_event_open. */
export const PerfFlags = Object.freeze({
  FD_NO_GROUP: 1 << 0,
  FD_OUTPUT: 1 << 1,
  PID_CGROUP: 1 << 2,
  /** Close-on-exec; always added. */
  FD_CLOEXEC: 1 << 3,
} as const);

/** The perf ioctls programs and readers use (`_IO('$', n)` / `_IOW('$', n, u32)`). */
export const PerfIoctl = Object.freeze({
  ENABLE: 0x2400,
  DISABLE: 0x2401,
  /** Attaches the BPF program whose fd is the argument. */
  SET_BPF: 0x40042408,
} as const);

/** The perf_event_open syscall number of this architecture. */
const PERF_EVENT_OPEN = archFacts().syscalls.perf_event_open;

/**
 * Opens a perf event described by the `struct perf_event_attr` in `attr` (its `size` field set by the
 * caller) for `pid` (-1: all) on `cpu` (-1: any); returns the owned fd.
 */
export function perfEventOpen(attr: Uint8Array, pid: number, cpu: number, groupFd = -1, flags = 0): FD {
  const native = NativeBuffer.allocate(attr.length);
  try {
    native.bytes.set(attr);
    const r = syscall6(PERF_EVENT_OPEN, native.address, pid, cpu, groupFd, flags | PerfFlags.FD_CLOEXEC, 0);
    if (r < 0) throw new SyscallError("perf_event_open", -r, `pid ${pid}, cpu ${cpu}`);
    return new FD(r, `perf event (pid ${pid}, cpu ${cpu})`);
  } finally {
    native.close();
  }
}
