/**
 * The blueprint layer: `ObjectSpec` and its programs, maps and variables, parsed from an eBPF ELF object
 * without touching the kernel.
 */

export { ObjectSpec, type ParseOptions } from "./object-spec.js";
export { ProgramSpec, type ProgramSpecInit } from "./program-spec.js";
export { MapSpec, type MapKind, type MapPinning, type MapSlotInit, type MapSpecInit } from "./map-spec.js";
export { VariableSpec } from "./variable-spec.js";
export { sectionType, type SectionFlag, type SectionType } from "./section-types.js";
export type { ExternSpec, KconfigSlot, KconfigType } from "./parse-externs.js";
export { dataMapName } from "./parse-data.js";
