/**
 * BPF_OBJ_GET_INFO_BY_FD for programs, maps, BTF and links, decoded into camelCase objects (u64 as
 * bigint, names as strings, the program tag as hex).
 *
 * The variable-length parts need two passes: the first call, with every pointer NULL, reports their
 * sizes (map id count, instruction lengths, name lengths); the second passes buffers of those sizes,
 * and the kernel fills at most what was offered. The info struct and small arrays live in the scratch
 * arena; instruction dumps and raw BTF (megabytes for vmlinux) get their own NativeBuffer.
 */

import { decodeFields, type FieldKind, type FieldValue, type Layout, readField, writeFields } from "./attr-layout.js";
import { infoAttr } from "./attrs.js";
import { beginAttr, bpfError, bpfRaw, Errno } from "./bpf-call.js";
import { BpfCmd, BpfLinkType, BpfPerfEventType } from "./constants.js";
import { btfInfoLayout, linkInfoLayout, mapInfoLayout, progInfoLayout } from "./info-layouts.js";
import { align8, ATTR_REGION_SIZE, NativeBuffer, readCString, scratch } from "./native-memory.js";

/** The info struct sits at the start of the arena's data region. */
const INFO_AT = ATTR_REGION_SIZE;

/** Room offered for BTF and link names in the first pass (module names are at most 56 bytes). */
const NAME_CAPACITY = 64;

/** Zeroes the info struct and the `extra` bytes after it, growing the arena as needed. */
function resetInfo(layout: Layout<Record<string, FieldKind>>, extra: number): void {
  scratch.reserve(align8(layout.size) + extra);
  scratch.bytes.fill(0, INFO_AT, INFO_AT + layout.size);
}

/** Runs OBJ_GET_INFO_BY_FD on the info struct; returns 0 or minus errno. */
function queryInfo(fd: number, layout: Layout<Record<string, FieldKind>>): number {
  writeFields(beginAttr(infoAttr), 0, infoAttr, { bpfFd: fd, infoLen: layout.size, info: scratch.dataAddress });
  return bpfRaw(BpfCmd.OBJ_GET_INFO_BY_FD, infoAttr.size);
}

/** Like queryInfo, but throws on failure. */
function getInfo(fd: number, layout: Layout<Record<string, FieldKind>>, what: string): void {
  const r = queryInfo(fd, layout);
  if (r < 0) throw bpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, `${what} fd ${fd}`);
}

/** The address and arena offset of scratch bytes placed after the info struct. */
function afterInfo(layout: { readonly size: number }): { readonly address: number; readonly at: number } {
  const offset = align8(layout.size);
  return { address: scratch.dataAddress + offset, at: INFO_AT + offset };
}

/** What the kernel reports about a loaded program. */
export interface ProgInfo {
  readonly type: number;
  readonly id: number;
  /** The program's tag (a hash of its instructions), as 16 hex digits. */
  readonly tag: string;
  readonly name: string;
  readonly jitedProgLen: number;
  readonly xlatedProgLen: number;
  /** Load time, in nanoseconds since boot. */
  readonly loadTime: bigint;
  readonly createdByUid: number;
  /** Ids of the maps the program uses. */
  readonly mapIds: readonly number[];
  readonly ifindex: number;
  readonly gplCompatible: boolean;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly nrJitedKsyms: number;
  readonly nrJitedFuncLens: number;
  readonly btfId: number;
  readonly funcInfoRecSize: number;
  readonly nrFuncInfo: number;
  readonly nrLineInfo: number;
  readonly nrJitedLineInfo: number;
  readonly lineInfoRecSize: number;
  readonly jitedLineInfoRecSize: number;
  readonly nrProgTags: number;
  /** Total run time in ns, counted while statistics are enabled (`enableStats`). */
  readonly runTimeNs: bigint;
  /** Run count, counted while statistics are enabled. */
  readonly runCnt: bigint;
  readonly recursionMisses: bigint;
  readonly verifiedInsns: number;
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
  /** The instructions after verifier rewriting, when asked for (and allowed by kptr_restrict). */
  readonly xlatedInsns?: Uint8Array;
  /** The JIT-compiled machine code, when asked for (and allowed). */
  readonly jitedInsns?: Uint8Array;
}

/** What `progInfo` fetches beyond the fixed fields. */
export interface ProgInfoOptions {
  /** Also fetch the translated instructions. */
  readonly xlatedInsns?: boolean;
  /** Also fetch the JIT-compiled code. */
  readonly jitedInsns?: boolean;
}

/** Describes the program `fd` refers to. */
export function progInfo(fd: number, options: ProgInfoOptions = {}): ProgInfo {
  const layout = progInfoLayout;
  resetInfo(layout, 0);
  getInfo(fd, layout, "program");
  let info = decodeFields(scratch.view, INFO_AT, layout);
  const nrMapIds = info.nrMapIds;
  const xlatedLength = options.xlatedInsns ? info.xlatedProgLen : 0;
  const jitedLength = options.jitedInsns ? info.jitedProgLen : 0;
  let mapIds: number[] = [];
  let xlatedInsns: Uint8Array | undefined;
  let jitedInsns: Uint8Array | undefined;
  if (nrMapIds > 0 || xlatedLength > 0 || jitedLength > 0) {
    const code = xlatedLength + jitedLength > 0 ? NativeBuffer.allocate(xlatedLength + jitedLength) : undefined;
    try {
      resetInfo(layout, nrMapIds * 4);
      const ids = afterInfo(layout);
      writeFields(scratch.view, INFO_AT, layout, {
        nrMapIds,
        mapIds: nrMapIds > 0 ? ids.address : 0,
        xlatedProgLen: xlatedLength,
        xlatedProgInsns: xlatedLength > 0 ? code!.address : 0,
        jitedProgLen: jitedLength,
        jitedProgInsns: jitedLength > 0 ? code!.address + xlatedLength : 0,
      });
      getInfo(fd, layout, "program");
      info = decodeFields(scratch.view, INFO_AT, layout);
      const view = scratch.view;
      for (let i = 0; i < Math.min(info.nrMapIds, nrMapIds); i++) mapIds.push(view.getUint32(ids.at + i * 4, true));
      if (xlatedLength > 0) xlatedInsns = code!.bytes.slice(0, Math.min(info.xlatedProgLen, xlatedLength));
      if (jitedLength > 0) {
        jitedInsns = code!.bytes.slice(xlatedLength, xlatedLength + Math.min(info.jitedProgLen, jitedLength));
      }
    } finally {
      code?.close();
    }
  }
  return {
    type: info.type,
    id: info.id,
    tag: info.tag,
    name: info.name,
    jitedProgLen: info.jitedProgLen,
    xlatedProgLen: info.xlatedProgLen,
    loadTime: info.loadTime,
    createdByUid: info.createdByUid,
    mapIds,
    ifindex: info.ifindex,
    gplCompatible: (info.gplCompatible & 1) === 1,
    netnsDev: info.netnsDev,
    netnsIno: info.netnsIno,
    nrJitedKsyms: info.nrJitedKsyms,
    nrJitedFuncLens: info.nrJitedFuncLens,
    btfId: info.btfId,
    funcInfoRecSize: info.funcInfoRecSize,
    nrFuncInfo: info.nrFuncInfo,
    nrLineInfo: info.nrLineInfo,
    nrJitedLineInfo: info.nrJitedLineInfo,
    lineInfoRecSize: info.lineInfoRecSize,
    jitedLineInfoRecSize: info.jitedLineInfoRecSize,
    nrProgTags: info.nrProgTags,
    runTimeNs: info.runTimeNs,
    runCnt: info.runCnt,
    recursionMisses: info.recursionMisses,
    verifiedInsns: info.verifiedInsns,
    attachBtfObjId: info.attachBtfObjId,
    attachBtfId: info.attachBtfId,
    ...(xlatedInsns ? { xlatedInsns } : {}),
    ...(jitedInsns ? { jitedInsns } : {}),
  };
}

/** What the kernel reports about a map. */
export interface MapInfo {
  readonly type: number;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly mapFlags: number;
  readonly name: string;
  readonly ifindex: number;
  readonly btfVmlinuxValueTypeId: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  readonly btfId: number;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly btfVmlinuxId: number;
  readonly mapExtra: bigint;
}

/** Describes the map `fd` refers to. */
export function mapInfo(fd: number): MapInfo {
  resetInfo(mapInfoLayout, 0);
  getInfo(fd, mapInfoLayout, "map");
  return decodeFields(scratch.view, INFO_AT, mapInfoLayout);
}

/** What the kernel reports about a BTF object. */
export interface BtfInfo {
  readonly id: number;
  /** Size of the raw BTF in bytes. */
  readonly btfSize: number;
  /** `vmlinux`, a module's name, or empty for BTF loaded from user space. */
  readonly name: string;
  /** True for the kernel's and modules' own BTF. */
  readonly kernelBtf: boolean;
  /** The raw BTF, when asked for. */
  readonly bytes?: Uint8Array;
}

/** Describes the BTF object `fd` refers to; `{ bytes: true }` also fetches the raw BTF. */
export function btfInfo(fd: number, options: { readonly bytes?: boolean } = {}): BtfInfo {
  const layout = btfInfoLayout;
  const fetchName = (capacity: number): number => {
    resetInfo(layout, capacity);
    const name = afterInfo(layout);
    writeFields(scratch.view, INFO_AT, layout, { name: name.address, nameLen: capacity });
    return queryInfo(fd, layout);
  };
  let r = fetchName(NAME_CAPACITY);
  if (r === -Errno.ENOSPC) r = fetchName(scratch.view.getUint32(INFO_AT + layout.fields.nameLen.offset, true) + 1);
  if (r < 0) throw bpfError(BpfCmd.OBJ_GET_INFO_BY_FD, -r, `BTF fd ${fd}`);
  const view = scratch.view;
  const nameLen = readField(view, INFO_AT, layout.fields.nameLen);
  const info = {
    id: readField(view, INFO_AT, layout.fields.id),
    btfSize: readField(view, INFO_AT, layout.fields.btfSize),
    name: readCString(scratch.bytes, afterInfo(layout).at, nameLen + 1),
    kernelBtf: readField(view, INFO_AT, layout.fields.kernelBtf) !== 0,
  };
  if (!options.bytes || info.btfSize === 0) return info;
  const raw = NativeBuffer.allocate(info.btfSize);
  try {
    resetInfo(layout, 0);
    writeFields(scratch.view, INFO_AT, layout, { btf: raw.address, btfSize: info.btfSize });
    getInfo(fd, layout, "BTF");
    const size = Math.min(info.btfSize, readField(scratch.view, INFO_AT, layout.fields.btfSize));
    return { ...info, bytes: raw.bytes.slice(0, size) };
  } finally {
    raw.close();
  }
}

/** The fields every link reports. */
export interface LinkInfoCommon {
  /** `BpfLinkType`. */
  readonly type: number;
  readonly id: number;
  readonly progId: number;
}

/** The type-specific part of link info, discriminated on `kind`. */
export type LinkDetails =
  | { readonly kind: "raw_tracepoint"; readonly tpName: string; readonly cookie: bigint }
  | {
      readonly kind: "tracing";
      readonly attachType: number;
      readonly targetObjId: number;
      readonly targetBtfId: number;
      readonly cookie: bigint;
    }
  | { readonly kind: "cgroup"; readonly cgroupId: bigint; readonly attachType: number }
  | { readonly kind: "iter"; readonly targetName: string; readonly mapId: number }
  | { readonly kind: "netns"; readonly netnsIno: number; readonly attachType: number }
  | { readonly kind: "xdp"; readonly ifindex: number }
  | { readonly kind: "struct_ops"; readonly mapId: number }
  | {
      readonly kind: "netfilter";
      readonly pf: number;
      readonly hooknum: number;
      readonly priority: number;
      readonly flags: number;
    }
  | { readonly kind: "kprobe_multi"; readonly count: number; readonly flags: number; readonly missed: bigint }
  | {
      readonly kind: "uprobe_multi";
      readonly path: string;
      readonly count: number;
      readonly flags: number;
      readonly pid: number;
    }
  | PerfEventLinkDetails
  | { readonly kind: "tcx" | "netkit" | "sockmap"; readonly target: number; readonly attachType: number }
  | { readonly kind: "other" };

/** A perf_event link: what it probes (`BpfPerfEventType`) and the fields of that kind. */
export type PerfEventLinkDetails =
  | {
      readonly kind: "perf_event";
      readonly perfEventType: typeof BpfPerfEventType.UPROBE | typeof BpfPerfEventType.URETPROBE;
      readonly fileName: string;
      readonly offset: number;
      readonly cookie: bigint;
      readonly refCtrOffset: bigint;
    }
  | {
      readonly kind: "perf_event";
      readonly perfEventType: typeof BpfPerfEventType.KPROBE | typeof BpfPerfEventType.KRETPROBE;
      readonly funcName: string;
      readonly offset: number;
      readonly addr: bigint;
      readonly missed: bigint;
      readonly cookie: bigint;
    }
  | { readonly kind: "perf_event"; readonly perfEventType: typeof BpfPerfEventType.TRACEPOINT; readonly tpName: string; readonly cookie: bigint }
  | {
      readonly kind: "perf_event";
      readonly perfEventType: typeof BpfPerfEventType.EVENT;
      readonly config: bigint;
      readonly eventType: number;
      readonly cookie: bigint;
    }
  | { readonly kind: "perf_event"; readonly perfEventType: typeof BpfPerfEventType.UNSPEC };

/** What the kernel reports about a link. */
export type LinkInfo = LinkInfoCommon & LinkDetails;

type LinkField = keyof typeof linkInfoLayout.fields;

/** Reads one field of the link info struct. */
type LinkReader = <K extends LinkField>(field: K) => FieldValue<(typeof linkInfoLayout.fields)[K]["kind"]>;

/** The name field (pointer, length) of link kinds that report a name, for the second pass. */
function linkNameFields(type: number, perfEventType: number): readonly [LinkField, LinkField] | undefined {
  switch (type) {
    case BpfLinkType.RAW_TRACEPOINT:
      return ["rawTracepointTpName", "rawTracepointTpNameLen"];
    case BpfLinkType.ITER:
      return ["iterTargetName", "iterTargetNameLen"];
    case BpfLinkType.UPROBE_MULTI:
      return ["uprobeMultiPath", "uprobeMultiPathSize"];
    case BpfLinkType.PERF_EVENT:
      return perfEventType !== BpfPerfEventType.UNSPEC && perfEventType !== BpfPerfEventType.EVENT
        ? ["perfEventName", "perfEventNameLen"]
        : undefined;
    default:
      return undefined;
  }
}

/** Describes the link `fd` refers to. */
export function linkInfo(fd: number): LinkInfo {
  const layout = linkInfoLayout;
  const f = layout.fields;
  resetInfo(layout, 0);
  getInfo(fd, layout, "link");
  const view = scratch.view;
  const type = readField(view, INFO_AT, f.type);
  let name = "";
  const nameFields = linkNameFields(type, readField(view, INFO_AT, f.perfEventType));
  if (nameFields !== undefined) {
    const [pointer, length] = nameFields;
    const capacity = readField(scratch.view, INFO_AT, f[length]) as number;
    if (capacity > 0) {
      resetInfo(layout, capacity);
      const buffer = afterInfo(layout);
      writeFields(scratch.view, INFO_AT, layout, { [pointer]: buffer.address, [length]: capacity });
      getInfo(fd, layout, "link");
      name = readCString(scratch.bytes, buffer.at, capacity);
    }
  }
  const read: LinkReader = (field) => readField(scratch.view, INFO_AT, f[field]);
  const common: LinkInfoCommon = { type, id: read("id"), progId: read("progId") };
  return { ...common, ...linkDetails(type, name, read) };
}

function linkDetails(
  type: number,
  name: string,
  read: LinkReader,
): LinkDetails {
  switch (type) {
    case BpfLinkType.RAW_TRACEPOINT:
      return { kind: "raw_tracepoint", tpName: name, cookie: read("rawTracepointCookie") };
    case BpfLinkType.TRACING:
      return {
        kind: "tracing",
        attachType: read("tracingAttachType"),
        targetObjId: read("tracingTargetObjId"),
        targetBtfId: read("tracingTargetBtfId"),
        cookie: read("tracingCookie"),
      };
    case BpfLinkType.CGROUP:
      return { kind: "cgroup", cgroupId: read("cgroupCgroupId"), attachType: read("cgroupAttachType") };
    case BpfLinkType.ITER:
      return { kind: "iter", targetName: name, mapId: read("iterMapId") };
    case BpfLinkType.NETNS:
      return { kind: "netns", netnsIno: read("netnsNetnsIno"), attachType: read("netnsAttachType") };
    case BpfLinkType.XDP:
      return { kind: "xdp", ifindex: read("xdpIfindex") };
    case BpfLinkType.STRUCT_OPS:
      return { kind: "struct_ops", mapId: read("structOpsMapId") };
    case BpfLinkType.NETFILTER:
      return {
        kind: "netfilter",
        pf: read("netfilterPf"),
        hooknum: read("netfilterHooknum"),
        priority: read("netfilterPriority"),
        flags: read("netfilterFlags"),
      };
    case BpfLinkType.KPROBE_MULTI:
      return {
        kind: "kprobe_multi",
        count: read("kprobeMultiCount"),
        flags: read("kprobeMultiFlags"),
        missed: read("kprobeMultiMissed"),
      };
    case BpfLinkType.UPROBE_MULTI:
      return {
        kind: "uprobe_multi",
        path: name,
        count: read("uprobeMultiCount"),
        flags: read("uprobeMultiFlags"),
        pid: read("uprobeMultiPid"),
      };
    case BpfLinkType.PERF_EVENT:
      return perfEventDetails(name, read);
    case BpfLinkType.TCX:
      return { kind: "tcx", target: read("tcxIfindex"), attachType: read("tcxAttachType") };
    case BpfLinkType.NETKIT:
      return { kind: "netkit", target: read("netkitIfindex"), attachType: read("netkitAttachType") };
    case BpfLinkType.SOCKMAP:
      return { kind: "sockmap", target: read("sockmapMapId"), attachType: read("sockmapAttachType") };
    default:
      return { kind: "other" };
  }
}

function perfEventDetails(
  name: string,
  read: LinkReader,
): PerfEventLinkDetails {
  const perfEventType = read("perfEventType");
  switch (perfEventType) {
    case BpfPerfEventType.UPROBE:
    case BpfPerfEventType.URETPROBE:
      return {
        kind: "perf_event",
        perfEventType,
        fileName: name,
        offset: read("perfEventOffset"),
        cookie: read("perfEventWord40"),
        refCtrOffset: read("perfEventWord48"),
      };
    case BpfPerfEventType.KPROBE:
    case BpfPerfEventType.KRETPROBE:
      return {
        kind: "perf_event",
        perfEventType,
        funcName: name,
        offset: read("perfEventOffset"),
        addr: read("perfEventWord40"),
        missed: read("perfEventWord48"),
        cookie: read("perfEventKprobeCookie"),
      };
    case BpfPerfEventType.TRACEPOINT:
      return { kind: "perf_event", perfEventType, tpName: name, cookie: read("perfEventWord40") };
    case BpfPerfEventType.EVENT:
      return {
        kind: "perf_event",
        perfEventType,
        config: read("perfEventConfig"),
        eventType: read("perfEventEventType"),
        cookie: read("perfEventWord40"),
      };
    default:
      return { kind: "perf_event", perfEventType: BpfPerfEventType.UNSPEC };
  }
}
