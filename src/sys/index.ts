/**
 * Waggle's kernel boundary (layer 1): every bpf() command with its attr layout, the libc calls the
 * upper layers need, native memory, and fd ownership. The only part of Waggle that imports koffi.
 *
 * Functions here take raw fds (`fd.value`) and raw bytes; typed maps and programs are built on them in
 * src/maps and src/programs. Failures throw `SyscallError` (op = the command, such as
 * `MAP_UPDATE_ELEM`), `PermissionError`, or `VerifierError` with the kernel's log.
 */

export {
  BPF_INSN_SIZE,
  BPF_OBJ_NAME_LEN,
  BPF_TAG_SIZE,
  BpfAttachFlags,
  BpfAttachType,
  BpfCmd,
  BpfLinkType,
  BpfLogLevel,
  BpfMapFlags,
  BpfMapType,
  BpfPerfEventType,
  BpfProgFlags,
  BpfProgType,
  BpfQueryFlags,
  BpfStatsType,
  BpfTestRunFlags,
  BpfUpdateFlags,
} from "./constants.js";
export { FD } from "./fd.js";
export { NativeBuffer } from "./native-memory.js";
export * as libc from "./libc.js";
export { commandName } from "./bpf-call.js";
export { objectName } from "./attr-layout.js";
export { type CapabilityName, hasCapability } from "./capabilities.js";
export { parseCpuList } from "./cpu-list.js";
export { pageSize, possibleCpus } from "./system.js";
export { ensureBpffs, isBpffs, unmount } from "./bpffs.js";
export { PerfFlags, PerfIoctl, perfEventOpen } from "./perf-event.js";
export {
  type MapBatchOptions,
  type MapBatchResult,
  type MapCreateParams,
  type MapLookupBatchParams,
  mapCreate,
  submitMapCreate,
  mapDeleteBatch,
  mapDeleteElem,
  mapFreeze,
  mapGetNextKey,
  mapLookupAndDeleteBatch,
  mapLookupAndDeleteElem,
  mapLookupBatch,
  mapLookupElem,
  mapUpdateBatch,
  mapUpdateElem,
  prepareElement,
  elementCommand,
  lookupBatchInPlace,
  type BatchInPlace,
} from "./map-commands.js";
export { scratch } from "./native-memory.js";
export { CreateBatch, expectCreateBatch, parallelCreateAvailable } from "./create-batch.js";
export { bpfError, Errno } from "./bpf-call.js";
export {
  type LoadedProgram,
  type ProgLoadParams,
  type TestRunParams,
  type TestRunResult,
  progBindMap,
  progLoad,
  submitProgLoad,
  progTestRun,
} from "./prog-commands.js";
export { type BtfLoadOptions, type LoadedBtf, btfLoad } from "./btf-commands.js";
export { INITIAL_LOG_SIZE, type LogOptions } from "./verifier-log.js";
export {
  btfGetFdById,
  btfGetNextId,
  enableStats,
  iterCreate,
  linkGetFdById,
  linkGetNextId,
  mapGetFdById,
  mapGetNextId,
  objGet,
  objPin,
  progGetFdById,
  progGetNextId,
  tokenCreate,
} from "./obj-commands.js";
export {
  type BtfInfo,
  type LinkDetails,
  type LinkInfo,
  type LinkInfoCommon,
  type MapInfo,
  type PerfEventLinkDetails,
  type ProgInfo,
  type ProgInfoOptions,
  btfInfo,
  linkInfo,
  mapInfo,
  progInfo,
} from "./info.js";
export {
  type LinkCreateParams,
  type LinkTarget,
  type ProgAttachParams,
  type ProgQueryParams,
  type ProgQueryResult,
  type RelativePosition,
  linkCreate,
  linkDetach,
  linkUpdate,
  progAttach,
  progDetach,
  progQuery,
  rawTracepointOpen,
} from "./link-commands.js";
