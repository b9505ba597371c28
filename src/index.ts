/**
 * Waggle: eBPF for TypeScript. Load eBPF objects into the kernel and talk to their maps and programs,
 * calling the kernel directly — no libbpf, no native addon of our own.
 *
 * @example
 * import { load } from "waggle";
 * using coll = load("xdp_filter.o");
 * const { retval } = coll.program("xdp_filter").run(packet);
 */

export { load, type LoadOptions, type Logger } from "./load.js";
export { Collection } from "./collection.js";
export * from "./maps/index.js";
export { bytesCodec, numberCodec, stringCodec, btfCodec, type BtfValue, type Codec, type NumberType } from "./codec/index.js";
export { BpfProgram, type RunInput, type RunOptions, type RunResult } from "./programs/bpf-program.js";
export {
  MapSpec,
  ObjectSpec,
  ProgramSpec,
  VariableSpec,
  sectionType,
  type ExternSpec,
  type KconfigSlot,
  type KconfigType,
  type MapKind,
  type MapPinning,
  type MapSlotInit,
  type ParseOptions,
  type SectionFlag,
  type SectionType,
} from "./object/index.js";
export {
  ClosedError,
  CoreRelocationError,
  FormatError,
  NotSupportedError,
  PermissionError,
  SyscallError,
  VerifierError,
  WaggleError,
  isWaggleError,
  type SourceLocation,
  type WaggleErrorName,
} from "./errors.js";
export { kernelBtf, kernelModuleBtfs, readBtfFile } from "./kernel/kernel-btf.js";
export { kernelConfig } from "./kernel/kconfig.js";
export { type KconfigValue } from "./load-externs.js";
export {
  ATTACH_TYPES,
  LINK_TYPES,
  MAP_TYPES,
  MapFlags,
  PROGRAM_TYPES,
  ProgramFlags,
  UpdateFlags,
  type AttachTypeName,
  type LinkTypeName,
  type MapTypeName,
  type ProgramTypeName,
} from "./uapi.js";
export {
  btfSupport,
  probeBtfKind,
  probeHelper,
  probeMapType,
  probeProgramType,
  type ProbeResult,
  type ProbedBtfKind,
  type ProgramProbe,
} from "./features/index.js";
export { type AttachPoint, type Link, type LinkMechanism, type AttachOptions, type TracepointOptions } from "./links/index.js";
export { KernelSymbols, ProcessSymbols, formatFrame, kernelSymbol, symbolizeStack, type StackFrame } from "./symbols/index.js";
export { emitTypeScript, type EmitTypeScriptOptions } from "./codegen/index.js";
