/**
 * `FD`: ownership of one kernel file descriptor.
 *
 * Every fd Waggle obtains — maps, programs, BTF, links, sockets — is wrapped at once, so that exactly
 * one object closes it. `close()` is idempotent and poisons the object (`value` then throws
 * ClosedError, so a stale number is never reused by accident). A FinalizationRegistry closes fds whose
 * owner was dropped without `close()`; that is a safety net, not the plan — set `WAGGLE_DEBUG_FDS=1` to
 * get a warning, with the creation stack, for each one it has to close.
 *
 * bpf() fds are always close-on-exec (the kernel creates them with O_CLOEXEC); `dup()` keeps that.
 * Descriptor 0 is never kept: several attr fields treat fd 0 as "none" (btf_fd, inner_map_fd,
 * attach_btf_obj_fd), so an object that lands on 0 — possible when stdin is closed — is moved up.
 */

import { ClosedError } from "../errors.js";
import { close, F_DUPFD_CLOEXEC, fcntl } from "./libc.js";

/** Reports leaked fds (with their creation stack) when set. */
const debugLeaks = process.env.WAGGLE_DEBUG_FDS === "1";

/** What the finalizer needs to close a leaked fd: it must not reference the FD itself. */
interface LeakRecord {
  readonly fd: number;
  readonly what: string;
  readonly stack: string | undefined;
}

const leakedFds = new FinalizationRegistry<LeakRecord>((leak) => {
  try {
    close(leak.fd);
  } catch {
    // Already gone: nothing to release.
  }
  if (debugLeaks) {
    process.emitWarning(`closed fd ${leak.fd} (${leak.what}) that was never closed; created at:\n${leak.stack}`, {
      code: "WAGGLE_FD_LEAK",
    });
  }
});

/** An owned kernel file descriptor. */
export class FD implements Disposable {
  #fd: number;
  readonly #what: string;

  /**
   * Takes ownership of `fd`.
   * @param fd  A descriptor this process just obtained and nobody else will close.
   * @param what  What it refers to, for error messages: `map "counts"`, `program "xdp_pass"`.
   */
  constructor(fd: number, what: string) {
    if (!Number.isInteger(fd) || fd < 0) throw new RangeError(`invalid file descriptor ${fd} for ${what}`);
    this.#fd = fd === 0 ? moveOffZero(fd) : fd;
    this.#what = what;
    const stack = debugLeaks ? new Error().stack?.split("\n").slice(1).join("\n") : undefined;
    leakedFds.register(this, { fd: this.#fd, what, stack }, this);
  }

  /** The descriptor number. Throws ClosedError after close(). */
  get value(): number {
    if (this.#fd < 0) throw new ClosedError(this.#what);
    return this.#fd;
  }

  /** What the descriptor refers to. */
  get what(): string {
    return this.#what;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** A new owned descriptor for the same open file (close-on-exec). */
  dup(): FD {
    return new FD(fcntl(this.value, F_DUPFD_CLOEXEC, 1), this.#what);
  }

  /** Closes the descriptor; later calls do nothing. Close errors are ignored: Linux frees the fd anyway. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    leakedFds.unregister(this);
    try {
      close(fd);
    } catch {
      // EINTR or EIO from close(): the descriptor is released regardless.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** `FD(12, map "counts")`, or `FD(closed, …)`. */
  toString(): string {
    return `FD(${this.#fd < 0 ? "closed" : this.#fd}, ${this.#what})`;
  }
}

/** Duplicates descriptor 0 to the lowest free number above it and closes 0. */
function moveOffZero(fd: number): number {
  const moved = fcntl(fd, F_DUPFD_CLOEXEC, 1);
  close(fd);
  return moved;
}
