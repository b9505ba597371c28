/**
 * Attach-path probes: which mechanism this kernel offers, asked once per process by trying the smallest
 * harmless thing — never by comparing kernel versions.
 */

import { encodeInstructions, ProgramBuilder, R0 } from "../asm/index.js";
import { isWaggleError } from "../errors.js";
import { linkCreate, progLoad } from "../sys/index.js";
import { ATTACH_TYPES, PROGRAM_TYPES } from "../uapi.js";

/** A target fd no process has: LINK_CREATE fails with EBADF exactly when it got as far as looking it up. */
const NO_FD = 0xffff_ffff;

let perfLink: boolean | undefined;

/**
 * Whether BPF_LINK_CREATE can attach programs to perf events (BPF_PERF_EVENT), making a bpf_link that
 * can be pinned and carries a cookie. Older kernels need PERF_EVENT_IOC_SET_BPF instead.
 *
 * Probed as libbpf does: a trivial tracepoint program is linked to an fd that does not exist. A kernel
 * that knows perf links looks the fd up and says EBADF; one that does not rejects the attach type first.
 * Cached for the life of the process.
 */
export function probePerfLink(): boolean {
  if (perfLink === undefined) {
    const { fd } = progLoad({
      progType: PROGRAM_TYPES.tracepoint,
      insns: encodeInstructions(new ProgramBuilder().mov(R0, 0).exit().build()),
      license: "GPL",
      name: "waggle_probe",
    });
    try {
      linkCreate({ progFd: fd.value, targetFd: NO_FD, attachType: ATTACH_TYPES.perf_event }).close();
      perfLink = true; // cannot happen, but a link means the kernel supports them
    } catch (error) {
      if (isWaggleError(error, "PermissionError") || !isWaggleError(error, "SyscallError")) throw error;
      perfLink = error.code === "EBADF";
    } finally {
      fd.close();
    }
  }
  return perfLink;
}
