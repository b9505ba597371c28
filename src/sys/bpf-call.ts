/**
 * Issuing a bpf() command and turning its errno into the right error.
 *
 * Every command builds its attr at the start of the scratch arena (native-memory.ts) and calls
 * `bpf(cmd, &attr, size)` through libc's `syscall()` with the architecture's syscall number. Failures
 * become `SyscallError(commandName, errno, subject)` — `MAP_UPDATE_ELEM: EEXIST (File exists)` — except
 * EPERM from a privileged command, which is explained: a `PermissionError` naming the capabilities the
 * process lacks, or, when it holds them all, a `SyscallError` saying the kernel's policy (lockdown, an
 * LSM) refused, so nobody goes hunting for a capability they already have.
 */

import { archFacts } from "../arch.js";
import { errnoNumber } from "../errno.js";
import { PermissionError, SyscallError } from "../errors.js";
import { type CapabilityName, missingCapabilities } from "./capabilities.js";
import { BpfCmd } from "./constants.js";
import { FD } from "./fd.js";
import { syscall } from "./libc.js";
import { scratch } from "./native-memory.js";

/** The errno number of a name the errno table is known to hold. */
function errno(name: string): number {
  const n = errnoNumber(name);
  if (n === undefined) throw new Error(`errno table lacks ${name}`);
  return n;
}

/** Errno values the bpf() commands give a meaning to. */
export const Errno = Object.freeze({
  EPERM: errno("EPERM"),
  ENOENT: errno("ENOENT"),
  EAGAIN: errno("EAGAIN"),
  EACCES: errno("EACCES"),
  EFAULT: errno("EFAULT"),
  EINVAL: errno("EINVAL"),
  ENOSPC: errno("ENOSPC"),
});

/** The bpf() syscall number of this architecture. */
export const BPF_SYSCALL = archFacts().syscalls.bpf;

/** Command names by number, for error messages (`MAP_CREATE`). */
const COMMAND_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(BpfCmd).map(([name, cmd]) => [cmd, name]));

/** The name of a bpf() command, such as `MAP_UPDATE_ELEM`. */
export function commandName(cmd: number): string {
  return COMMAND_NAMES.get(cmd) ?? `BPF_CMD_${cmd}`;
}

/**
 * Calls bpf(cmd) on the attr at the start of the scratch arena, passing `size` as the attr size.
 * Returns the result, or minus errno.
 */
export function bpfRaw(cmd: number, size: number): number {
  return syscall(BPF_SYSCALL, cmd, scratch.address, size);
}

/** Zeroes the attr region for a command with this layout and returns the arena's DataView (attr at 0). */
export function beginAttr(layout: { readonly size: number }): DataView {
  scratch.zeroAttr(layout.size);
  return scratch.view;
}

/**
 * The error for a failed command. With `needs` (the capabilities a privileged command checks), an EPERM
 * becomes a PermissionError when one is missing, or a SyscallError blaming kernel policy when none is.
 */
export function bpfError(
  cmd: number,
  errnoValue: number,
  subject?: string,
  needs?: readonly CapabilityName[],
): SyscallError {
  const op = commandName(cmd);
  if (errnoValue === Errno.EPERM && needs !== undefined && needs.length > 0) {
    const missing = missingCapabilities(needs);
    if (missing.length > 0) return new PermissionError(op, errnoValue, missing.join(" and "), subject);
    return new SyscallError(op, errnoValue, policyDenial(needs, subject));
  }
  return new SyscallError(op, errnoValue, subject);
}

/** The subject of an EPERM that no missing capability explains. */
export function policyDenial(held: readonly CapabilityName[], subject?: string): string {
  const reason = `denied by kernel policy (lockdown or an LSM) although the process has ${held.join(" and ")}`;
  return subject ? `${subject}: ${reason}` : reason;
}

/** Calls a command whose attr is already written; returns its non-negative result or throws. */
export function bpfCall(
  cmd: number,
  layout: { readonly size: number },
  subject?: string,
  needs?: readonly CapabilityName[],
): number {
  const r = bpfRaw(cmd, layout.size);
  if (r < 0) throw bpfError(cmd, -r, subject, needs);
  return r;
}

/** Calls a command that returns a new fd; wraps it as an owned `FD` described by `what`. */
export function bpfCallFd(
  cmd: number,
  layout: { readonly size: number },
  what: string,
  needs?: readonly CapabilityName[],
): FD {
  return new FD(bpfCall(cmd, layout, what, needs), what);
}
