/**
 * Raw tracepoints (`SEC("raw_tp/<name>")`, `SEC("raw_tp.w/<name>")` for writable ones) and BTF-typed
 * tracepoints (`SEC("tp_btf/<name>")`), both through BPF_RAW_TRACEPOINT_OPEN, which returns a bpf_link.
 *
 * A raw tracepoint program is attached by the tracepoint's name. A tp_btf program already names its
 * tracepoint by BTF id (`btf_trace_<name>`, given at load), so it is attached with no name at all.
 * Detaching is synchronous and cheap (no perf event, unlike `tp/` links).
 */

import { isWaggleError, NotSupportedError } from "../errors.js";
import { rawTracepointOpen, type FD } from "../sys/index.js";
import { assertOpen, type AttachableProgram, type AttachOptions } from "./attachable.js";
import { describeAttachPoint, FdLink, rethrowForAttach, type AttachPoint } from "./link.js";

/** The longest tracepoint name the kernel copies from RAW_TRACEPOINT_OPEN (its buffer is 128 bytes). */
const MAX_TP_NAME = 127;

/**
 * Attaches a raw tracepoint program to the tracepoint `name`, or a tp_btf program to the tracepoint
 * it was loaded for (`name` then may be omitted, or must be that tracepoint).
 *
 * @throws TypeError when the program is neither, or the name is missing or does not fit.
 * @throws NotSupportedError when the kernel has no tracepoint by that name.
 */
export function attachRawTracepoint(program: AttachableProgram, name?: string, options: AttachOptions = {}): FdLink {
  const point = rawTracepointPoint(program, name);
  assertOpen(program);
  let fd: FD;
  try {
    fd = rawTracepointOpen(program.fd.value, point.kind === "raw_tracepoint" ? point.name : undefined, options.cookie);
  } catch (error) {
    if (isWaggleError(error, "SyscallError") && error.code === "ENOENT" && point.kind === "raw_tracepoint") {
      throw new NotSupportedError(describeAttachPoint(point), `the kernel has no such tracepoint (RAW_TRACEPOINT_OPEN: ENOENT)`, { cause: error });
    }
    rethrowForAttach(error, `program "${program.name}" on ${describeAttachPoint(point)}`);
  }
  return new FdLink(fd, program.name, point);
}

/** What a raw tracepoint attach of `program` would attach to, or a TypeError saying why it cannot. */
function rawTracepointPoint(program: AttachableProgram, name: string | undefined): AttachPoint {
  switch (program.type) {
    case "raw_tracepoint":
    case "raw_tracepoint_writable": {
      const writable = program.type === "raw_tracepoint_writable";
      if (name === undefined || name === "") {
        throw new TypeError(`Cannot attach program "${program.name}": a raw tracepoint program needs the tracepoint's name, such as "sys_enter"`);
      }
      if (name.length > MAX_TP_NAME || name.includes("\0")) {
        throw new TypeError(`Cannot attach program "${program.name}" to raw tracepoint "${name.slice(0, 40)}…": not a tracepoint name (at most ${MAX_TP_NAME} characters, no NUL)`);
      }
      return { kind: "raw_tracepoint", name, writable };
    }
    case "tracing": {
      if (program.expectedAttachType !== "trace_raw_tp") {
        throw new TypeError(
          `Cannot attach program "${program.name}" as a raw tracepoint: it is a tracing program ${
            program.expectedAttachType === undefined ? "whose attach type is unknown" : `of attach type ${program.expectedAttachType}`
          }, and only tp_btf programs (attach type trace_raw_tp) attach this way`,
        );
      }
      const target = program.attachTo;
      if (name !== undefined && target !== "" && name !== target) {
        throw new TypeError(`Cannot attach program "${program.name}" to tracepoint "${name}": a tp_btf program's tracepoint is fixed at load, and it was loaded for "${target}"`);
      }
      return { kind: "tp_btf", name: name ?? target };
    }
    default:
      throw new TypeError(
        `Cannot attach program "${program.name}" to a raw tracepoint: it is a ${program.type} program, and raw tracepoints take raw_tracepoint, raw_tracepoint_writable or tp_btf programs`,
      );
  }
}

/** Attaches a raw tracepoint or tp_btf program where its section says: `raw_tp/sys_enter`, `tp_btf/sched_switch`. */
export function autoAttachRawTracepoint(program: AttachableProgram, options: AttachOptions): FdLink {
  if (program.type === "tracing") return attachRawTracepoint(program, undefined, options);
  if (program.attachTo === "") {
    const section = program.spec?.section;
    throw new TypeError(
      `Cannot attach program "${program.name}" from its section${section !== undefined ? ` "${section}"` : ""}: it names no tracepoint (expected raw_tp/<name>); call attachRawTracepoint(name)`,
    );
  }
  return attachRawTracepoint(program, program.attachTo, options);
}
