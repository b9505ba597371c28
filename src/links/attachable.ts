/**
 * What the attach functions need from a program, and the options they take. `BpfProgram` satisfies
 * `AttachableProgram`; the attach functions take this interface rather than the class, so that
 * src/links and src/programs do not import each other at run time.
 */

import type { ProgramSpec } from "../object/index.js";
import type { FD } from "../sys/index.js";
import type { AttachTypeName, ProgramTypeName } from "../uapi.js";
import type { LinkMechanism } from "./link.js";

/** A loaded program, as the attach functions see it. */
export interface AttachableProgram {
  readonly name: string;
  readonly type: ProgramTypeName;
  /** The attach type the program was loaded with (`trace_raw_tp` for tp_btf), when known. */
  readonly expectedAttachType: AttachTypeName | undefined;
  /** The target its section names (`syscalls/sys_enter_getpid`), or "" when it names none. */
  readonly attachTo: string;
  /** The blueprint it was loaded from, if any. */
  readonly spec: ProgramSpec | undefined;
  /** The program fd (throws ClosedError after close()). */
  readonly fd: FD;
}

/** Options every attach function accepts. */
export interface AttachOptions {
  /**
   * A value the program reads with `bpf_get_attach_cookie()`, telling apart the points one program is
   * attached to. Needs a bpf_link (perf events) or a kernel whose RAW_TRACEPOINT_OPEN takes one.
   */
  readonly cookie?: bigint;
}

/** Options of tracepoint attachment. */
export interface TracepointOptions extends AttachOptions {
  /**
   * Force a mechanism instead of the best one the kernel offers: `"perf_ioctl"` sets the program on the
   * perf event with PERF_EVENT_IOC_SET_BPF even where a bpf_link is possible (for tests and for tools
   * that must behave as on old kernels). Default: a bpf_link when the kernel supports one.
   */
  readonly mechanism?: LinkMechanism;
}

/** Throws ClosedError when the program was closed (before any work that would then be wasted). */
export function assertOpen(program: AttachableProgram): void {
  void program.fd;
}
