/**
 * Numeric constants of the bpf() ABI: commands, map, program, attach and link types (upper-cased views
 * of the shared tables in ../uapi.ts), and the flag
 * bits of the commands Waggle issues.
 *
 * The enum values were taken from the BTF of a 6.18 kernel (`bpftool btf dump file
 * /sys/kernel/btf/vmlinux format c`); the `#define` flags, which BTF does not record, from
 * `include/uapi/linux/bpf.h`. Each table is a frozen object whose keys drop the C prefix
 * (`BPF_MAP_TYPE_HASH` → `BpfMapType.HASH`), plus a type of its values.
 */

import { ATTACH_TYPES, LINK_TYPES, MAP_TYPES, MapFlags, PROGRAM_TYPES, ProgramFlags, UpdateFlags } from "../uapi.js";

/** A table with its keys upper-cased, as the kernel spells them (`lru_hash` → `LRU_HASH`). */
type UpperKeys<T> = { readonly [K in keyof T as Uppercase<K & string>]: T[K] };

function upperKeys<T extends Readonly<Record<string, number>>>(table: T): UpperKeys<T> {
  return Object.freeze(Object.fromEntries(Object.entries(table).map(([k, v]) => [k.toUpperCase(), v]))) as UpperKeys<T>;
}

/** Map types (`enum bpf_map_type`), from the shared UAPI table. */
export const BpfMapType = upperKeys(MAP_TYPES);
/** A map type number. */
export type BpfMapType = (typeof BpfMapType)[keyof typeof BpfMapType];

/** Program types (`enum bpf_prog_type`). */
export const BpfProgType = upperKeys(PROGRAM_TYPES);
/** A program type number. */
export type BpfProgType = (typeof BpfProgType)[keyof typeof BpfProgType];

/** Attach types (`enum bpf_attach_type`). */
export const BpfAttachType = upperKeys(ATTACH_TYPES);
/** An attach type number. */
export type BpfAttachType = (typeof BpfAttachType)[keyof typeof BpfAttachType];

/** Link types (`enum bpf_link_type`). */
export const BpfLinkType = upperKeys(LINK_TYPES);
/** A link type number. */
export type BpfLinkType = (typeof BpfLinkType)[keyof typeof BpfLinkType];

/** `flags` of the element commands and `elem_flags` of the batch commands. */
export const BpfUpdateFlags = Object.freeze({ ...UpdateFlags, F_LOCK: UpdateFlags.LOCK } as const);
/** `map_flags` of BPF_MAP_CREATE, and the access-mode flags shared with OBJ_GET and *_GET_FD_BY_ID. */
export const BpfMapFlags = MapFlags;
/** `prog_flags` of BPF_PROG_LOAD. */
export const BpfProgFlags = ProgramFlags;

/** The `cmd` argument of bpf(2) (`enum bpf_cmd`). */
export const BpfCmd = Object.freeze({
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_TEST_RUN: 10,
  PROG_GET_NEXT_ID: 11,
  MAP_GET_NEXT_ID: 12,
  PROG_GET_FD_BY_ID: 13,
  MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15,
  PROG_QUERY: 16,
  RAW_TRACEPOINT_OPEN: 17,
  BTF_LOAD: 18,
  BTF_GET_FD_BY_ID: 19,
  TASK_FD_QUERY: 20,
  MAP_LOOKUP_AND_DELETE_ELEM: 21,
  MAP_FREEZE: 22,
  BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24,
  MAP_LOOKUP_AND_DELETE_BATCH: 25,
  MAP_UPDATE_BATCH: 26,
  MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28,
  LINK_UPDATE: 29,
  LINK_GET_FD_BY_ID: 30,
  LINK_GET_NEXT_ID: 31,
  ENABLE_STATS: 32,
  ITER_CREATE: 33,
  LINK_DETACH: 34,
  PROG_BIND_MAP: 35,
  TOKEN_CREATE: 36,
  PROG_STREAM_READ_BY_FD: 37,
} as const);
/** A bpf(2) command number. */
export type BpfCmd = (typeof BpfCmd)[keyof typeof BpfCmd];





/** What a perf_event link is attached to (`enum bpf_perf_event_type`, prefix `BPF_PERF_EVENT_`). */
export const BpfPerfEventType = Object.freeze({
  UNSPEC: 0,
  UPROBE: 1,
  URETPROBE: 2,
  KPROBE: 3,
  KRETPROBE: 4,
  TRACEPOINT: 5,
  EVENT: 6,
} as const);
/** A perf_event link kind number. */
export type BpfPerfEventType = (typeof BpfPerfEventType)[keyof typeof BpfPerfEventType];

/** Statistics that BPF_ENABLE_STATS can switch on (`enum bpf_stats_type`). */
export const BpfStatsType = Object.freeze({
  RUN_TIME: 0,
} as const);
/** A statistics type number. */
export type BpfStatsType = (typeof BpfStatsType)[keyof typeof BpfStatsType];




/** `attach_flags` of BPF_PROG_ATTACH and `flags` of BPF_LINK_CREATE for cgroup, tcx and netkit hooks. */
export const BpfAttachFlags = Object.freeze({
  ALLOW_OVERRIDE: 1 << 0,
  ALLOW_MULTI: 1 << 1,
  REPLACE: 1 << 2,
  BEFORE: 1 << 3,
  AFTER: 1 << 4,
  ID: 1 << 5,
  PREORDER: 1 << 6,
  LINK: 1 << 13,
} as const);

/** `query_flags` of BPF_PROG_QUERY. */
export const BpfQueryFlags = Object.freeze({
  EFFECTIVE: 1 << 0,
} as const);

/** `flags` of BPF_PROG_TEST_RUN. */
export const BpfTestRunFlags = Object.freeze({
  RUN_ON_CPU: 1 << 0,
  XDP_LIVE_FRAMES: 1 << 1,
  SKB_CHECKSUM_COMPLETE: 1 << 2,
} as const);

/** `log_level` bits of BPF_PROG_LOAD and BPF_BTF_LOAD. */
export const BpfLogLevel = Object.freeze({
  /** The verifier's outcome and the state at the failing instruction. */
  LEVEL1: 1,
  /** Every instruction and register state (very large). */
  LEVEL2: 2,
  /** Statistics only. */
  STATS: 4,
  /** Keep the head of the log instead of the tail when it does not fit (6.4+). */
  FIXED: 8,
} as const);

/** Longest object name the kernel keeps, including the terminating NUL (`BPF_OBJ_NAME_LEN`). */
export const BPF_OBJ_NAME_LEN = 16;

/** Size of a program tag in bytes (`BPF_TAG_SIZE`). */
export const BPF_TAG_SIZE = 8;

/** Size of one eBPF instruction in bytes (`sizeof(struct bpf_insn)`). */
export const BPF_INSN_SIZE = 8;
