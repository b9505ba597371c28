/**
 * Attaching a program to an open perf event — the last step for tracepoints, and later for kprobes,
 * uprobes and sampling events — down a fallback chain, as Aya and libbpf do:
 *
 * 1. BPF_LINK_CREATE with attach type BPF_PERF_EVENT: a bpf_link, which can be pinned, queried, and
 *    carries a cookie;
 * 2. where the kernel has no perf links (probed once): PERF_EVENT_IOC_SET_BPF, then
 *    PERF_EVENT_IOC_ENABLE. Detaching is closing the perf event.
 */

import { isWaggleError, NotSupportedError } from "../errors.js";
import { libc, linkCreate, PerfIoctl, type FD } from "../sys/index.js";
import { ATTACH_TYPES } from "../uapi.js";
import type { AttachableProgram, TracepointOptions } from "./attachable.js";
import { BaseLink, describeAttachPoint, rethrowForAttach, type AttachPoint, type LinkMechanism } from "./link.js";
import { probePerfLink } from "./probes.js";

/** The kernel refuses to put one program twice on the same trace event (EEXIST). */
function alreadyAttached(error: unknown): boolean {
  return isWaggleError(error, "SyscallError") && error.code === "EEXIST";
}

/** A program attached to a perf event, by a bpf_link or by ioctl. Closing it closes both fds. */
export class PerfEventLink extends BaseLink {
  readonly mechanism: LinkMechanism;
  readonly #perfEvent: FD;
  readonly #link: FD | undefined;

  constructor(perfEvent: FD, link: FD | undefined, program: string, attachPoint: AttachPoint) {
    super(program, attachPoint);
    this.#perfEvent = perfEvent;
    this.#link = link;
    this.mechanism = link === undefined ? "perf_ioctl" : "bpf_link";
  }

  /** The owned perf event fd (throws ClosedError after close()). */
  get perfEvent(): FD {
    this.assertOpen();
    return this.#perfEvent;
  }

  protected override linkFd(): FD | undefined {
    return this.#link;
  }

  protected release(): void {
    if (this.#link === undefined) {
      try {
        libc.ioctl(this.#perfEvent.value, PerfIoctl.DISABLE, 0);
      } catch {
        // The event goes away with its fd regardless.
      }
    }
    this.#link?.close();
    this.#perfEvent.close();
  }
}

/**
 * Attaches `program` to the open perf event `perfEvent`, taking ownership of it (it is closed if
 * attaching fails).
 */
export function attachPerfEvent(
  program: AttachableProgram,
  perfEvent: FD,
  attachPoint: AttachPoint,
  options: TracepointOptions = {},
): PerfEventLink {
  const subject = `program "${program.name}" on ${describeAttachPoint(attachPoint)}`;
  try {
    const progFd = program.fd.value;
    const mechanism = options.mechanism ?? (probePerfLink() ? "bpf_link" : "perf_ioctl");
    if (mechanism === "bpf_link") {
      if (options.mechanism === "bpf_link" && !probePerfLink()) {
        throw new NotSupportedError("bpf_links on perf events", "BPF_LINK_CREATE does not know BPF_PERF_EVENT on this kernel");
      }
      let link: FD;
      try {
        link = linkCreate({
          progFd,
          targetFd: perfEvent.value,
          attachType: ATTACH_TYPES.perf_event,
          target: { kind: "perfEvent", cookie: options.cookie ?? 0n },
        });
      } catch (error) {
        rethrowForAttach(error, alreadyAttached(error) ? `${subject} (it is already attached there; a perf event runs a program once)` : subject);
      }
      return new PerfEventLink(perfEvent, link, program.name, attachPoint);
    }
    if (options.cookie !== undefined) {
      throw new NotSupportedError(
        `a cookie on ${describeAttachPoint(attachPoint)}`,
        options.mechanism === "perf_ioctl"
          ? "cookies need a bpf_link, and perf_ioctl was asked for"
          : "cookies need a bpf_link, which this kernel cannot make for perf events",
      );
    }
    try {
      libc.ioctl(perfEvent.value, PerfIoctl.SET_BPF, progFd);
    } catch (error) {
      rethrowForAttach(error, alreadyAttached(error) ? `${subject} (it is already attached there; a perf event runs a program once)` : subject, "PERF_EVENT_IOC_SET_BPF");
    }
    try {
      libc.ioctl(perfEvent.value, PerfIoctl.ENABLE, 0);
    } catch (error) {
      rethrowForAttach(error, subject, "PERF_EVENT_IOC_ENABLE");
    }
    return new PerfEventLink(perfEvent, undefined, program.name, attachPoint);
  } catch (error) {
    perfEvent.close();
    throw error;
  }
}
