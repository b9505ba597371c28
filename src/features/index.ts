/**
 * Cached feature probes: what this kernel supports, found by trying it rather than by version numbers.
 *
 * @example
 * import { probeProgramType } from "waggle";
 * const fentry = probeProgramType({ type: "tracing", attachType: "trace_fentry" }).supported;
 * using coll = load("probe.o", { programs: (p) => (fentry ? p.type === "tracing" : p.type === "kprobe") });
 */

export { btfSupport, probeBtfKind, probeHelper, probeMapType, probeProgramType, type ProbeResult, type ProbedBtfKind, type ProgramProbe } from "./probes.js";
