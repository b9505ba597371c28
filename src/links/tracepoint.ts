/**
 * Tracepoints (`SEC("tp/<category>/<name>")`, `SEC("tracepoint/…")`): the event's id comes from tracefs,
 * a perf event is opened on it (PERF_TYPE_TRACEPOINT, every process, CPU 0 — the program then runs on
 * every CPU, since it hangs off the event itself), and the program is attached to that perf event.
 */

import { perfEventOpen, type FD } from "../sys/index.js";
import { assertOpen, type AttachableProgram, type TracepointOptions } from "./attachable.js";
import { describeAttachPoint, rethrowForAttach, type AttachPoint } from "./link.js";
import { attachPerfEvent, type PerfEventLink } from "./perf-event-link.js";
import { tracepointId, type TracefsOptions } from "./tracefs.js";

/** `PERF_TYPE_TRACEPOINT`: `config` is a tracefs event id. */
const PERF_TYPE_TRACEPOINT = 2;
/** `PERF_ATTR_SIZE_VER0`: the first `struct perf_event_attr`, which every kernel accepts and which has all we set. */
const PERF_ATTR_SIZE_VER0 = 64;
/** Offsets in `struct perf_event_attr`. */
const ATTR_TYPE = 0;
const ATTR_SIZE = 4;
const ATTR_CONFIG = 8;
/** Tracepoint perf events are opened for every process (pid -1) on one CPU, which covers all CPUs. */
const ALL_PROCESSES = -1;
const FIRST_CPU = 0;

/** The `struct perf_event_attr` of a tracepoint event, enabled, with no sampling. */
function tracepointAttr(id: number): Uint8Array {
  const attr = new Uint8Array(PERF_ATTR_SIZE_VER0);
  const view = new DataView(attr.buffer);
  view.setUint32(ATTR_TYPE, PERF_TYPE_TRACEPOINT, true);
  view.setUint32(ATTR_SIZE, PERF_ATTR_SIZE_VER0, true);
  view.setBigUint64(ATTR_CONFIG, BigInt(id), true);
  return attr;
}

/**
 * Attaches a tracepoint program to the tracefs event `category/name`.
 *
 * @throws TypeError when the program is not a tracepoint program, or the names are malformed.
 * @throws NotSupportedError naming the tracefs paths tried, when the kernel has no such tracepoint.
 */
export function attachTracepoint(
  program: AttachableProgram,
  category: string,
  name: string,
  options: TracepointOptions & TracefsOptions = {},
): PerfEventLink {
  const point: AttachPoint = { kind: "tracepoint", category, name };
  if (program.type !== "tracepoint") {
    throw new TypeError(
      `Cannot attach program "${program.name}" to ${describeAttachPoint(point)}: it is a ${program.type} program, and tracepoints take tracepoint programs (SEC("tp/…"))`,
    );
  }
  assertOpen(program);
  const id = tracepointId(category, name, options);
  let perfEvent: FD;
  try {
    perfEvent = perfEventOpen(tracepointAttr(id), ALL_PROCESSES, FIRST_CPU);
  } catch (error) {
    rethrowForAttach(error, `${describeAttachPoint(point)} (event id ${id})`);
  }
  return attachPerfEvent(program, perfEvent, point, options);
}

/** Attaches a tracepoint program where its section says: `tp/syscalls/sys_enter_getpid`. */
export function autoAttachTracepoint(program: AttachableProgram, options: TracepointOptions): PerfEventLink {
  const target = program.attachTo;
  const slash = target.indexOf("/");
  if (slash <= 0 || slash === target.length - 1) {
    const section = program.spec?.section;
    throw new TypeError(
      `Cannot attach program "${program.name}" from its section${section !== undefined ? ` "${section}"` : ""}: it names no tracepoint (expected tp/<category>/<name>); call attachTracepoint(category, name)`,
    );
  }
  return attachTracepoint(program, target.slice(0, slash), target.slice(slash + 1), options);
}
