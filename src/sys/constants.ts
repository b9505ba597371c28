/**
 * Numeric constants of the bpf() ABI: commands, map, program, attach and link types, and the flag
 * bits of the commands Waggle issues.
 *
 * The enum values were taken from the BTF of a 6.18 kernel (`bpftool btf dump file
 * /sys/kernel/btf/vmlinux format c`); the `#define` flags, which BTF does not record, from
 * `include/uapi/linux/bpf.h`. Each table is a frozen object whose keys drop the C prefix
 * (`BPF_MAP_TYPE_HASH` → `BpfMapType.HASH`), plus a type of its values.
 */

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

/** Map types (`enum bpf_map_type`, prefix `BPF_MAP_TYPE_`). */
export const BpfMapType = Object.freeze({
  UNSPEC: 0,
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP: 14,
  SOCKMAP: 15,
  CPUMAP: 16,
  XSKMAP: 17,
  SOCKHASH: 18,
  CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  SK_STORAGE: 24,
  DEVMAP_HASH: 25,
  STRUCT_OPS: 26,
  RINGBUF: 27,
  INODE_STORAGE: 28,
  TASK_STORAGE: 29,
  BLOOM_FILTER: 30,
  USER_RINGBUF: 31,
  CGRP_STORAGE: 32,
  ARENA: 33,
} as const);
/** A map type number. */
export type BpfMapType = (typeof BpfMapType)[keyof typeof BpfMapType];

/** Program types (`enum bpf_prog_type`, prefix `BPF_PROG_TYPE_`). */
export const BpfProgType = Object.freeze({
  UNSPEC: 0,
  SOCKET_FILTER: 1,
  KPROBE: 2,
  SCHED_CLS: 3,
  SCHED_ACT: 4,
  TRACEPOINT: 5,
  XDP: 6,
  PERF_EVENT: 7,
  CGROUP_SKB: 8,
  CGROUP_SOCK: 9,
  LWT_IN: 10,
  LWT_OUT: 11,
  LWT_XMIT: 12,
  SOCK_OPS: 13,
  SK_SKB: 14,
  CGROUP_DEVICE: 15,
  SK_MSG: 16,
  RAW_TRACEPOINT: 17,
  CGROUP_SOCK_ADDR: 18,
  LWT_SEG6LOCAL: 19,
  LIRC_MODE2: 20,
  SK_REUSEPORT: 21,
  FLOW_DISSECTOR: 22,
  CGROUP_SYSCTL: 23,
  RAW_TRACEPOINT_WRITABLE: 24,
  CGROUP_SOCKOPT: 25,
  TRACING: 26,
  STRUCT_OPS: 27,
  EXT: 28,
  LSM: 29,
  SK_LOOKUP: 30,
  SYSCALL: 31,
  NETFILTER: 32,
} as const);
/** A program type number. */
export type BpfProgType = (typeof BpfProgType)[keyof typeof BpfProgType];

/** Attach types (`enum bpf_attach_type`, prefix `BPF_`). */
export const BpfAttachType = Object.freeze({
  CGROUP_INET_INGRESS: 0,
  CGROUP_INET_EGRESS: 1,
  CGROUP_INET_SOCK_CREATE: 2,
  CGROUP_SOCK_OPS: 3,
  SK_SKB_STREAM_PARSER: 4,
  SK_SKB_STREAM_VERDICT: 5,
  CGROUP_DEVICE: 6,
  SK_MSG_VERDICT: 7,
  CGROUP_INET4_BIND: 8,
  CGROUP_INET6_BIND: 9,
  CGROUP_INET4_CONNECT: 10,
  CGROUP_INET6_CONNECT: 11,
  CGROUP_INET4_POST_BIND: 12,
  CGROUP_INET6_POST_BIND: 13,
  CGROUP_UDP4_SENDMSG: 14,
  CGROUP_UDP6_SENDMSG: 15,
  LIRC_MODE2: 16,
  FLOW_DISSECTOR: 17,
  CGROUP_SYSCTL: 18,
  CGROUP_UDP4_RECVMSG: 19,
  CGROUP_UDP6_RECVMSG: 20,
  CGROUP_GETSOCKOPT: 21,
  CGROUP_SETSOCKOPT: 22,
  TRACE_RAW_TP: 23,
  TRACE_FENTRY: 24,
  TRACE_FEXIT: 25,
  MODIFY_RETURN: 26,
  LSM_MAC: 27,
  TRACE_ITER: 28,
  CGROUP_INET4_GETPEERNAME: 29,
  CGROUP_INET6_GETPEERNAME: 30,
  CGROUP_INET4_GETSOCKNAME: 31,
  CGROUP_INET6_GETSOCKNAME: 32,
  XDP_DEVMAP: 33,
  CGROUP_INET_SOCK_RELEASE: 34,
  XDP_CPUMAP: 35,
  SK_LOOKUP: 36,
  XDP: 37,
  SK_SKB_VERDICT: 38,
  SK_REUSEPORT_SELECT: 39,
  SK_REUSEPORT_SELECT_OR_MIGRATE: 40,
  PERF_EVENT: 41,
  TRACE_KPROBE_MULTI: 42,
  LSM_CGROUP: 43,
  STRUCT_OPS: 44,
  NETFILTER: 45,
  TCX_INGRESS: 46,
  TCX_EGRESS: 47,
  TRACE_UPROBE_MULTI: 48,
  CGROUP_UNIX_CONNECT: 49,
  CGROUP_UNIX_SENDMSG: 50,
  CGROUP_UNIX_RECVMSG: 51,
  CGROUP_UNIX_GETPEERNAME: 52,
  CGROUP_UNIX_GETSOCKNAME: 53,
  NETKIT_PRIMARY: 54,
  NETKIT_PEER: 55,
  TRACE_KPROBE_SESSION: 56,
  TRACE_UPROBE_SESSION: 57,
} as const);
/** An attach type number. */
export type BpfAttachType = (typeof BpfAttachType)[keyof typeof BpfAttachType];

/** Link types (`enum bpf_link_type`, prefix `BPF_LINK_TYPE_`), as reported by link info. */
export const BpfLinkType = Object.freeze({
  UNSPEC: 0,
  RAW_TRACEPOINT: 1,
  TRACING: 2,
  CGROUP: 3,
  ITER: 4,
  NETNS: 5,
  XDP: 6,
  PERF_EVENT: 7,
  KPROBE_MULTI: 8,
  STRUCT_OPS: 9,
  NETFILTER: 10,
  TCX: 11,
  UPROBE_MULTI: 12,
  NETKIT: 13,
  SOCKMAP: 14,
} as const);
/** A link type number. */
export type BpfLinkType = (typeof BpfLinkType)[keyof typeof BpfLinkType];

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

/** `flags` of the element commands and `elem_flags` of the batch commands. */
export const BpfUpdateFlags = Object.freeze({
  /** Create a new element or update an existing one. */
  ANY: 0,
  /** Create a new element only; EEXIST if it exists. */
  NOEXIST: 1,
  /** Update an existing element only; ENOENT if it does not exist. */
  EXIST: 2,
  /** Take the value's `struct bpf_spin_lock` while copying. */
  F_LOCK: 4,
} as const);

/** `map_flags` of BPF_MAP_CREATE, and the access-mode flags shared with OBJ_GET and *_GET_FD_BY_ID. */
export const BpfMapFlags = Object.freeze({
  NO_PREALLOC: 1 << 0,
  NO_COMMON_LRU: 1 << 1,
  NUMA_NODE: 1 << 2,
  RDONLY: 1 << 3,
  WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5,
  ZERO_SEED: 1 << 6,
  RDONLY_PROG: 1 << 7,
  WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9,
  MMAPABLE: 1 << 10,
  PRESERVE_ELEMS: 1 << 11,
  INNER_MAP: 1 << 12,
  LINK: 1 << 13,
  PATH_FD: 1 << 14,
  VTYPE_BTF_OBJ_FD: 1 << 15,
  TOKEN_FD: 1 << 16,
  SEGV_ON_FAULT: 1 << 17,
  NO_USER_CONV: 1 << 18,
} as const);

/** `prog_flags` of BPF_PROG_LOAD. */
export const BpfProgFlags = Object.freeze({
  STRICT_ALIGNMENT: 1 << 0,
  ANY_ALIGNMENT: 1 << 1,
  TEST_RND_HI32: 1 << 2,
  TEST_STATE_FREQ: 1 << 3,
  SLEEPABLE: 1 << 4,
  XDP_HAS_FRAGS: 1 << 5,
  XDP_DEV_BOUND_ONLY: 1 << 6,
  TEST_REG_INVARIANTS: 1 << 7,
  /** `prog_token_fd` holds a BPF token (set for you when `tokenFd` is given). */
  TOKEN_FD: 1 << 16,
} as const);

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
