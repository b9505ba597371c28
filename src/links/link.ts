/**
 * `Link`: one attachment of a program to a hook, and the base classes every attach mechanism builds on.
 *
 * A link is what keeps a program attached. Closing it detaches the program (unless the link is pinned:
 * then the pin keeps it attached until it is unpinned). A program owns the links made through its
 * `attach…()` methods and closes them when it is closed; `link.close()` detaches one early.
 *
 * Mechanisms differ in what they hold: a bpf_link fd (`FdLink`), a perf event with a bpf_link or with
 * the program set on it by ioctl (`PerfEventLink`), and later a PROG_ATTACH registration, a netlink
 * filter or a socket option. They share this shape, so callers never need to know which one they got,
 * except through `mechanism` and the operations only bpf_links have (`info()`, `pin()`).
 */

import { unlinkSync } from "node:fs";
import { ClosedError, NotSupportedError, PermissionError, SyscallError, isWaggleError } from "../errors.js";
import { linkInfo, objPin, type FD, type LinkInfo } from "../sys/index.js";

/** What a link attaches its program to, discriminated on `kind`. */
export type AttachPoint =
  /** A tracefs tracepoint (`tp/<category>/<name>`), through a perf event. */
  | { readonly kind: "tracepoint"; readonly category: string; readonly name: string }
  /** A raw tracepoint (`raw_tp/<name>`, `raw_tp.w/<name>`), by the name the kernel registered it under. */
  | { readonly kind: "raw_tracepoint"; readonly name: string; readonly writable: boolean }
  /** A BTF-typed raw tracepoint (`tp_btf/<name>`), whose target was fixed at load; `name` is "" when unknown. */
  | { readonly kind: "tp_btf"; readonly name: string };

/** How a link holds its attachment. */
export type LinkMechanism =
  /** A bpf_link fd (BPF_LINK_CREATE or BPF_RAW_TRACEPOINT_OPEN): can be queried and pinned. */
  | "bpf_link"
  /** A perf event with the program set by PERF_EVENT_IOC_SET_BPF (kernels without perf bpf_links). */
  | "perf_ioctl";

/** Describes an attach point for messages: `tracepoint syscalls/sys_enter_getpid`. */
export function describeAttachPoint(point: AttachPoint): string {
  switch (point.kind) {
    case "tracepoint":
      return `tracepoint ${point.category}/${point.name}`;
    case "raw_tracepoint":
      return `${point.writable ? "writable raw tracepoint" : "raw tracepoint"} ${point.name}`;
    case "tp_btf":
      return point.name === "" ? "BTF tracepoint (target set at load)" : `BTF tracepoint ${point.name}`;
  }
}

/** One attachment of a program. */
export interface Link extends Disposable {
  /** The name of the attached program. */
  readonly program: string;
  /** What the program is attached to. */
  readonly attachPoint: AttachPoint;
  /** How the attachment is held. */
  readonly mechanism: LinkMechanism;
  /** True once close() ran. */
  readonly closed: boolean;
  /** Where the link is pinned, if `pin()` pinned it. */
  readonly pinnedPath: string | undefined;
  /** Detaches the program (a pinned link stays attached until unpinned) and releases the fds. Idempotent. */
  close(): void;
  /**
   * What the kernel reports about the link (BPF_OBJ_GET_INFO_BY_FD): its type, id, program id and the
   * attach point. Only bpf_links have this; other mechanisms throw NotSupportedError.
   */
  info(): LinkInfo;
  /**
   * Pins the link at `path` on a bpffs (BPF_OBJ_PIN), so that it stays attached after this process
   * closes it or exits. Only bpf_links can be pinned; other mechanisms throw NotSupportedError.
   */
  pin(path: string): void;
  /** Removes the pin made by {@link pin}; the link then detaches once nothing else holds it. */
  unpin(): void;
  /** `link of program "x" to tracepoint syscalls/sys_enter_getpid (bpf_link)`. */
  toString(): string;
}

/**
 * The part every mechanism shares: the idempotent close with its listeners, the closed check, and the
 * description used in messages. Subclasses implement `release()`, which detaches and closes their fds.
 */
export abstract class BaseLink implements Link {
  readonly program: string;
  readonly attachPoint: AttachPoint;
  abstract readonly mechanism: LinkMechanism;
  #closed = false;
  #pinnedPath: string | undefined;
  readonly #closeListeners: (() => void)[] = [];

  constructor(program: string, attachPoint: AttachPoint) {
    this.program = program;
    this.attachPoint = attachPoint;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }

  /** Detaches and closes what the link holds. Called once, by close(); must not throw. */
  protected abstract release(): void;

  /** The bpf_link fd, if this mechanism has one. */
  protected linkFd(): FD | undefined {
    return undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.release();
    } finally {
      for (const listener of this.#closeListeners.splice(0)) listener();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  info(): LinkInfo {
    return linkInfo(this.#bpfLink("query").value);
  }

  pin(path: string): void {
    objPin(this.#bpfLink("pin").value, path);
    this.#pinnedPath = path;
  }

  unpin(): void {
    if (this.#pinnedPath === undefined) return;
    unlinkSync(this.#pinnedPath);
    this.#pinnedPath = undefined;
  }

  /**
   * @internal Calls `listener` once, when the link is closed. Owners (programs) use it to forget
   * links closed early.
   */
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closeListeners.push(listener);
  }

  /** Throws ClosedError when the link was closed. */
  protected assertOpen(): void {
    if (this.#closed) throw new ClosedError(this.toString());
  }

  toString(): string {
    return `link of program "${this.program}" to ${describeAttachPoint(this.attachPoint)} (${this.mechanism})`;
  }

  #bpfLink(action: string): FD {
    this.assertOpen();
    const fd = this.linkFd();
    if (fd === undefined) {
      throw new NotSupportedError(
        `${action === "pin" ? "pinning" : "querying"} ${this}`,
        `only bpf_links can be ${action === "pin" ? "pinned" : "queried"}, and this attachment is held by ${this.mechanism}`,
      );
    }
    return fd;
  }
}

/** A link held by a bpf_link fd: closing the fd detaches the program. */
export class FdLink extends BaseLink {
  readonly mechanism = "bpf_link" as const;
  readonly #fd: FD;

  constructor(fd: FD, program: string, attachPoint: AttachPoint) {
    super(program, attachPoint);
    this.#fd = fd;
  }

  /** The owned bpf_link fd (throws ClosedError after close()). */
  get fd(): FD {
    this.assertOpen();
    return this.#fd;
  }

  protected override linkFd(): FD {
    return this.#fd;
  }

  protected release(): void {
    this.#fd.close();
  }
}

/**
 * Rethrows a SyscallError from an attach step so that it names what was being attached
 * (`PERF_EVENT_IOC_SET_BPF: EINVAL (Invalid argument): program "x" on tracepoint a/b`); other errors
 * pass through unchanged.
 */
export function rethrowForAttach(error: unknown, subject: string, op?: string): never {
  if (isWaggleError(error, "PermissionError")) {
    const e = error as PermissionError;
    throw new PermissionError(op ?? e.op, e.errno, e.privilege, subject, { cause: error });
  }
  if (isWaggleError(error, "SyscallError")) {
    throw new SyscallError(op ?? error.op, error.errno, subject, { cause: error });
  }
  throw error;
}
