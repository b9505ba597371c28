/**
 * Turns the errors Node's `fs` functions throw into Waggle's: a failed system call becomes a
 * `SyscallError` with the same operation and errno, or a `PermissionError` naming what access is
 * missing. Shared by the readers of /proc/kallsyms, /proc/PID/maps and the files a process maps.
 */

import { PermissionError, SyscallError } from "../errors.js";

/** Operation not permitted. */
const EPERM = 1;
/** Permission denied. */
const EACCES = 13;

/**
 * The Waggle error for `cause`, an error an `fs` call threw about `subject`, or `cause` itself when it
 * is not a failed system call.
 *
 * @param privilege What EACCES or EPERM means is missing, such as `CAP_SYS_PTRACE`.
 */
export function fileError(cause: unknown, subject: string, privilege: string): unknown {
  if (!(cause instanceof Error)) return cause;
  const { errno, syscall } = cause as NodeJS.ErrnoException;
  if (typeof errno !== "number") return cause;
  // Node reports errno negated on POSIX systems.
  const positive = Math.abs(errno);
  const op = syscall ?? "open";
  if (positive === EACCES || positive === EPERM) return new PermissionError(op, positive, privilege, subject, { cause });
  return new SyscallError(op, positive, subject, { cause });
}

/** Tells whether `cause` is Node's error for a path that does not exist. */
export function isMissingFile(cause: unknown): boolean {
  return cause instanceof Error && (cause as NodeJS.ErrnoException).code === "ENOENT";
}
