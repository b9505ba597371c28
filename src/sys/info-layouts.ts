/**
 * The structs BPF_OBJ_GET_INFO_BY_FD fills: `bpf_prog_info`, `bpf_map_info`, `bpf_btf_info` and
 * `bpf_link_info`, as layout tables (offsets from `include/uapi/linux/bpf.h`, checked with offsetof
 * against the 6.18 BTF). Field names are the C members in camelCase; the link info union is flattened
 * with a prefix per variant. A kernel older than these structs fills a prefix and leaves the rest zero.
 */

import { defineLayout } from "./attr-layout.js";

/** `struct bpf_prog_info`. */
export const progInfoLayout = defineLayout("bpf_prog_info", {
  type: [0, "u32"],
  id: [4, "u32"],
  tag: [8, "tag8"],
  jitedProgLen: [16, "u32"],
  xlatedProgLen: [20, "u32"],
  jitedProgInsns: [24, "ptr"],
  xlatedProgInsns: [32, "ptr"],
  loadTime: [40, "u64"],
  createdByUid: [48, "u32"],
  nrMapIds: [52, "u32"],
  mapIds: [56, "ptr"],
  name: [64, "name16"],
  ifindex: [80, "u32"],
  /** Bit 0: `gpl_compatible`. */
  gplCompatible: [84, "u32"],
  netnsDev: [88, "u64"],
  netnsIno: [96, "u64"],
  nrJitedKsyms: [104, "u32"],
  nrJitedFuncLens: [108, "u32"],
  jitedKsyms: [112, "ptr"],
  jitedFuncLens: [120, "ptr"],
  btfId: [128, "u32"],
  funcInfoRecSize: [132, "u32"],
  funcInfo: [136, "ptr"],
  nrFuncInfo: [144, "u32"],
  nrLineInfo: [148, "u32"],
  lineInfo: [152, "ptr"],
  jitedLineInfo: [160, "ptr"],
  nrJitedLineInfo: [168, "u32"],
  lineInfoRecSize: [172, "u32"],
  jitedLineInfoRecSize: [176, "u32"],
  nrProgTags: [180, "u32"],
  progTags: [184, "ptr"],
  runTimeNs: [192, "u64"],
  runCnt: [200, "u64"],
  recursionMisses: [208, "u64"],
  verifiedInsns: [216, "u32"],
  attachBtfObjId: [220, "u32"],
  attachBtfId: [224, "u32"],
});

/** `struct bpf_map_info` (up to `map_extra`). */
export const mapInfoLayout = defineLayout("bpf_map_info", {
  type: [0, "u32"],
  id: [4, "u32"],
  keySize: [8, "u32"],
  valueSize: [12, "u32"],
  maxEntries: [16, "u32"],
  mapFlags: [20, "u32"],
  name: [24, "name16"],
  ifindex: [40, "u32"],
  btfVmlinuxValueTypeId: [44, "u32"],
  netnsDev: [48, "u64"],
  netnsIno: [56, "u64"],
  btfId: [64, "u32"],
  btfKeyTypeId: [68, "u32"],
  btfValueTypeId: [72, "u32"],
  btfVmlinuxId: [76, "u32"],
  mapExtra: [80, "u64"],
});

/** `struct bpf_btf_info`. */
export const btfInfoLayout = defineLayout("bpf_btf_info", {
  btf: [0, "ptr"],
  btfSize: [8, "u32"],
  id: [12, "u32"],
  name: [16, "ptr"],
  nameLen: [24, "u32"],
  kernelBtf: [28, "u32"],
});

/** `struct bpf_link_info`, its union flattened by variant. */
export const linkInfoLayout = defineLayout("bpf_link_info", {
  type: [0, "u32"],
  id: [4, "u32"],
  progId: [8, "u32"],
  rawTracepointTpName: [16, "ptr"],
  rawTracepointTpNameLen: [24, "u32"],
  rawTracepointCookie: [32, "u64"],
  tracingAttachType: [16, "u32"],
  tracingTargetObjId: [20, "u32"],
  tracingTargetBtfId: [24, "u32"],
  tracingCookie: [32, "u64"],
  cgroupCgroupId: [16, "u64"],
  cgroupAttachType: [24, "u32"],
  iterTargetName: [16, "ptr"],
  iterTargetNameLen: [24, "u32"],
  iterMapId: [28, "u32"],
  netnsNetnsIno: [16, "u32"],
  netnsAttachType: [20, "u32"],
  xdpIfindex: [16, "u32"],
  structOpsMapId: [16, "u32"],
  netfilterPf: [16, "u32"],
  netfilterHooknum: [20, "u32"],
  netfilterPriority: [24, "s32"],
  netfilterFlags: [28, "u32"],
  kprobeMultiCount: [24, "u32"],
  kprobeMultiFlags: [28, "u32"],
  kprobeMultiMissed: [32, "u64"],
  uprobeMultiPath: [16, "ptr"],
  uprobeMultiPathSize: [48, "u32"],
  uprobeMultiCount: [52, "u32"],
  uprobeMultiFlags: [56, "u32"],
  uprobeMultiPid: [60, "u32"],
  /** `enum bpf_perf_event_type` of a perf_event link. */
  perfEventType: [16, "u32"],
  /** uprobe `file_name`, kprobe `func_name` or tracepoint `tp_name`. */
  perfEventName: [24, "ptr"],
  perfEventNameLen: [32, "u32"],
  /** uprobe and kprobe `offset`. */
  perfEventOffset: [36, "u32"],
  /** uprobe `cookie`, kprobe `addr`, tracepoint and event `cookie`. */
  perfEventWord40: [40, "u64"],
  /** uprobe `ref_ctr_offset`, kprobe `missed`. */
  perfEventWord48: [48, "u64"],
  /** kprobe `cookie`. */
  perfEventKprobeCookie: [56, "u64"],
  /** event `config` (shares its bytes with the name pointer of the other kinds). */
  perfEventConfig: [24, "u64"],
  /** event `type` (shares its bytes with the name length). */
  perfEventEventType: [32, "u32"],
  tcxIfindex: [16, "u32"],
  tcxAttachType: [20, "u32"],
  netkitIfindex: [16, "u32"],
  netkitAttachType: [20, "u32"],
  sockmapMapId: [16, "u32"],
  sockmapAttachType: [20, "u32"],
});
