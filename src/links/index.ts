/**
 * Attaching programs: the `Link` shape every attachment has, and the attach functions by hook.
 *
 * Programs use these through `BpfProgram.attach()` / `attachTracepoint()` / `attachRawTracepoint()`,
 * which also make the program own the link. The free functions here return links nobody owns: the
 * caller closes them.
 */

export {
  BaseLink,
  FdLink,
  describeAttachPoint,
  type AttachPoint,
  type Link,
  type LinkMechanism,
} from "./link.js";
export { PerfEventLink, attachPerfEvent } from "./perf-event-link.js";
export { attachTracepoint } from "./tracepoint.js";
export { attachRawTracepoint } from "./raw-tracepoint.js";
export { TRACEFS_ROOTS, tracefsRoots, tracepointId, type TracefsOptions } from "./tracefs.js";
export { attachKind, type AttachKind } from "./attach-kind.js";
export { autoAttach, autoAttachKinds, type AutoAttach, type AutoAttachOptions } from "./registry.js";
export { probePerfLink } from "./probes.js";
export type { AttachOptions, AttachableProgram, TracepointOptions } from "./attachable.js";
