/**
 * CO-RE: relocating a program's field offsets, sizes, existence checks, type ids and enum values to the
 * BTF of the kernel it is loaded into, so one compiled object runs on many kernels.
 */

export { essentialName } from "./names.js";
export { findCandidates, type Candidate, type CoreTarget, type CoreTargets } from "./candidates.js";
export { CoreRelocator, POISON_HELPER, resolveRelocation, type CoreResolution } from "./relocate.js";
export { typesAreCompatible, typesMatch, fieldsAreCompatible } from "./compat.js";
