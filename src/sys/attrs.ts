/**
 * The `union bpf_attr` member of every bpf() command Waggle issues, as layout tables.
 *
 * Offsets are the kernel's (`include/uapi/linux/bpf.h`, checked with offsetof against the 6.18 BTF).
 * Fields are named after the C members in camelCase; members of a C union that share an offset are
 * listed once under their most common name, with the alternatives noted. A command passes its layout's
 * `size` as the attr size: the bytes the kernel does not know are zero, which older kernels accept.
 *
 * To support a new field, add it here with its offset; nothing else needs to know.
 */

import { defineLayout } from "./attr-layout.js";

/** BPF_MAP_CREATE. */
export const mapCreateAttr = defineLayout("map_create", {
  mapType: [0, "u32"],
  keySize: [4, "u32"],
  valueSize: [8, "u32"],
  maxEntries: [12, "u32"],
  mapFlags: [16, "u32"],
  innerMapFd: [20, "u32"],
  numaNode: [24, "u32"],
  mapName: [28, "name16"],
  mapIfindex: [44, "u32"],
  btfFd: [48, "u32"],
  btfKeyTypeId: [52, "u32"],
  btfValueTypeId: [56, "u32"],
  btfVmlinuxValueTypeId: [60, "u32"],
  mapExtra: [64, "u64"],
  valueTypeBtfObjFd: [72, "s32"],
  mapTokenFd: [76, "s32"],
});

/** BPF_MAP_LOOKUP_ELEM, UPDATE_ELEM, DELETE_ELEM, GET_NEXT_KEY, LOOKUP_AND_DELETE_ELEM, FREEZE. */
export const mapElemAttr = defineLayout("map_elem", {
  mapFd: [0, "u32"],
  key: [8, "ptr"],
  /** `value`, or `next_key` for GET_NEXT_KEY. */
  value: [16, "ptr"],
  flags: [24, "u64"],
});

/** BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH. */
export const mapBatchAttr = defineLayout("batch", {
  inBatch: [0, "ptr"],
  outBatch: [8, "ptr"],
  keys: [16, "ptr"],
  values: [24, "ptr"],
  count: [32, "u32"],
  mapFd: [36, "u32"],
  elemFlags: [40, "u64"],
  flags: [48, "u64"],
});

/** BPF_PROG_LOAD. */
export const progLoadAttr = defineLayout("prog_load", {
  progType: [0, "u32"],
  insnCnt: [4, "u32"],
  insns: [8, "ptr"],
  license: [16, "ptr"],
  logLevel: [24, "u32"],
  logSize: [28, "u32"],
  logBuf: [32, "ptr"],
  kernVersion: [40, "u32"],
  progFlags: [44, "u32"],
  progName: [48, "name16"],
  progIfindex: [64, "u32"],
  expectedAttachType: [68, "u32"],
  progBtfFd: [72, "u32"],
  funcInfoRecSize: [76, "u32"],
  funcInfo: [80, "ptr"],
  funcInfoCnt: [88, "u32"],
  lineInfoRecSize: [92, "u32"],
  lineInfo: [96, "ptr"],
  lineInfoCnt: [104, "u32"],
  attachBtfId: [108, "u32"],
  /** `attach_prog_fd`, or `attach_btf_obj_fd` (the same word). */
  attachProgFd: [112, "u32"],
  coreReloCnt: [116, "u32"],
  fdArray: [120, "ptr"],
  coreRelos: [128, "ptr"],
  coreReloRecSize: [136, "u32"],
  /** Written by the kernel (6.4+): the log size the whole log needs. */
  logTrueSize: [140, "u32"],
  progTokenFd: [144, "s32"],
});

/** BPF_OBJ_PIN and BPF_OBJ_GET. */
export const objAttr = defineLayout("obj", {
  pathname: [0, "ptr"],
  bpfFd: [8, "u32"],
  fileFlags: [12, "u32"],
  pathFd: [16, "s32"],
});

/** BPF_PROG_ATTACH and BPF_PROG_DETACH. */
export const progAttachAttr = defineLayout("prog_attach", {
  /** `target_fd`, or `target_ifindex`. */
  targetFd: [0, "u32"],
  attachBpfFd: [4, "u32"],
  attachType: [8, "u32"],
  attachFlags: [12, "u32"],
  replaceBpfFd: [16, "u32"],
  /** `relative_fd`, or `relative_id` with BPF_F_ID. */
  relativeFd: [20, "u32"],
  expectedRevision: [24, "u64"],
});

/** BPF_PROG_TEST_RUN. */
export const testRunAttr = defineLayout("test", {
  progFd: [0, "u32"],
  retval: [4, "u32"],
  dataSizeIn: [8, "u32"],
  dataSizeOut: [12, "u32"],
  dataIn: [16, "ptr"],
  dataOut: [24, "ptr"],
  repeat: [32, "u32"],
  duration: [36, "u32"],
  ctxSizeIn: [40, "u32"],
  ctxSizeOut: [44, "u32"],
  ctxIn: [48, "ptr"],
  ctxOut: [56, "ptr"],
  flags: [64, "u32"],
  cpu: [68, "u32"],
  batchSize: [72, "u32"],
});

/** BPF_*_GET_NEXT_ID and BPF_*_GET_FD_BY_ID. */
export const getIdAttr = defineLayout("get_id", {
  /** `start_id`, or `prog_id` / `map_id` / `btf_id` / `link_id`. */
  startId: [0, "u32"],
  nextId: [4, "u32"],
  openFlags: [8, "u32"],
  fdByIdTokenFd: [12, "s32"],
});

/** BPF_OBJ_GET_INFO_BY_FD. */
export const infoAttr = defineLayout("info", {
  bpfFd: [0, "u32"],
  infoLen: [4, "u32"],
  info: [8, "ptr"],
});

/** BPF_PROG_QUERY. */
export const queryAttr = defineLayout("query", {
  /** `target_fd`, or `target_ifindex`. */
  targetFd: [0, "u32"],
  attachType: [4, "u32"],
  queryFlags: [8, "u32"],
  attachFlags: [12, "u32"],
  progIds: [16, "ptr"],
  /** `prog_cnt`, or `count`. */
  progCnt: [24, "u32"],
  progAttachFlags: [32, "ptr"],
  linkIds: [40, "ptr"],
  linkAttachFlags: [48, "ptr"],
  revision: [56, "u64"],
});

/** BPF_RAW_TRACEPOINT_OPEN. */
export const rawTracepointAttr = defineLayout("raw_tracepoint", {
  name: [0, "ptr"],
  progFd: [8, "u32"],
  cookie: [16, "u64"],
});

/** BPF_BTF_LOAD. */
export const btfLoadAttr = defineLayout("btf_load", {
  btf: [0, "ptr"],
  btfLogBuf: [8, "ptr"],
  btfSize: [16, "u32"],
  btfLogSize: [20, "u32"],
  btfLogLevel: [24, "u32"],
  /** Written by the kernel (6.4+): the log size the whole log needs. */
  btfLogTrueSize: [28, "u32"],
  btfFlags: [32, "u32"],
  btfTokenFd: [36, "s32"],
});

/**
 * BPF_LINK_CREATE. The union after `flags` is flattened: each member is prefixed by its variant
 * (`tracing`, `iter`, `perfEvent`, `kprobeMulti`, `uprobeMulti`, `netfilter`, `relative` for the
 * identical tcx / netkit / cgroup members).
 */
export const linkCreateAttr = defineLayout("link_create", {
  /** `prog_fd`, or `map_fd` for struct_ops. */
  progFd: [0, "u32"],
  /** `target_fd`, or `target_ifindex`. */
  targetFd: [4, "u32"],
  attachType: [8, "u32"],
  flags: [12, "u32"],
  targetBtfId: [16, "u32"],
  iterInfo: [16, "ptr"],
  iterInfoLen: [24, "u32"],
  perfEventBpfCookie: [16, "u64"],
  kprobeMultiFlags: [16, "u32"],
  kprobeMultiCnt: [20, "u32"],
  kprobeMultiSyms: [24, "ptr"],
  kprobeMultiAddrs: [32, "ptr"],
  kprobeMultiCookies: [40, "ptr"],
  tracingTargetBtfId: [16, "u32"],
  tracingCookie: [24, "u64"],
  netfilterPf: [16, "u32"],
  netfilterHooknum: [20, "u32"],
  netfilterPriority: [24, "s32"],
  netfilterFlags: [28, "u32"],
  /** tcx / netkit / cgroup: `relative_fd`, or `relative_id` with BPF_F_ID. */
  relativeFd: [16, "u32"],
  expectedRevision: [24, "u64"],
  uprobeMultiPath: [16, "ptr"],
  uprobeMultiOffsets: [24, "ptr"],
  uprobeMultiRefCtrOffsets: [32, "ptr"],
  uprobeMultiCookies: [40, "ptr"],
  uprobeMultiCnt: [48, "u32"],
  uprobeMultiFlags: [52, "u32"],
  uprobeMultiPid: [56, "u32"],
});

/** BPF_LINK_UPDATE. */
export const linkUpdateAttr = defineLayout("link_update", {
  linkFd: [0, "u32"],
  /** `new_prog_fd`, or `new_map_fd`. */
  newProgFd: [4, "u32"],
  flags: [8, "u32"],
  /** `old_prog_fd`, or `old_map_fd` (with BPF_F_REPLACE). */
  oldProgFd: [12, "u32"],
});

/** BPF_LINK_DETACH. */
export const linkDetachAttr = defineLayout("link_detach", { linkFd: [0, "u32"] });

/** BPF_ENABLE_STATS. */
export const enableStatsAttr = defineLayout("enable_stats", { type: [0, "u32"] });

/** BPF_ITER_CREATE. */
export const iterCreateAttr = defineLayout("iter_create", { linkFd: [0, "u32"], flags: [4, "u32"] });

/** BPF_PROG_BIND_MAP. */
export const progBindMapAttr = defineLayout("prog_bind_map", {
  progFd: [0, "u32"],
  mapFd: [4, "u32"],
  flags: [8, "u32"],
});

/** BPF_TOKEN_CREATE. */
export const tokenCreateAttr = defineLayout("token_create", { flags: [0, "u32"], bpffsFd: [4, "u32"] });
