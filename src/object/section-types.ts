/**
 * The table that maps an ELF section name (`SEC("…")` in C) to a program type, an expected attach type
 * and load flags — libbpf's naming convention, so objects written for libbpf load unchanged.
 *
 * A pattern ending in `+` matches the bare name or the name followed by `/extras`
 * (`tp/syscalls/sys_enter_getpid`); one ending in `/` needs extras; any other must match exactly.
 * The first matching row wins, so more specific rows come first. A leading `?` on a section name
 * means "do not load by default" and is stripped before matching.
 */

import type { AttachTypeName, ProgramTypeName } from "../uapi.js";

/** Properties a section name gives its programs. */
export type SectionFlag =
  /** The expected attach type may be dropped on kernels that do not accept one. */
  | "optionalAttachType"
  /** The program attaches to a BTF-described target (a kernel function, tracepoint, LSM hook…). */
  | "attachBtf"
  /** The program may sleep (BPF_F_SLEEPABLE). */
  | "sleepable"
  /** An XDP program that handles multi-buffer frames (BPF_F_XDP_HAS_FRAGS). */
  | "frags"
  /** A USDT probe (attached through uprobes). */
  | "usdt";

/** What a section name says about the programs in it. */
export interface SectionType {
  /** The pattern that matched, such as `tp+` or `xdp`. */
  readonly pattern: string;
  readonly programType: ProgramTypeName;
  readonly expectedAttachType: AttachTypeName | undefined;
  readonly flags: readonly SectionFlag[];
  /** The part of the section name after the matched prefix and its `/`: the attach target, or "". */
  readonly target: string;
}

type Row = readonly [pattern: string, programType: ProgramTypeName, attach: AttachTypeName | undefined, flags: SectionFlag[]];

const SECTION_TABLE: readonly Row[] = [
  ["socket", "socket_filter", undefined, []],
  ["sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate", []],
  ["sk_reuseport", "sk_reuseport", "sk_reuseport_select", []],
  ["kprobe+", "kprobe", undefined, []],
  ["uprobe+", "kprobe", undefined, []],
  ["uprobe.s+", "kprobe", undefined, ["sleepable"]],
  ["kretprobe+", "kprobe", undefined, []],
  ["uretprobe+", "kprobe", undefined, []],
  ["uretprobe.s+", "kprobe", undefined, ["sleepable"]],
  ["kprobe.multi+", "kprobe", "trace_kprobe_multi", []],
  ["kretprobe.multi+", "kprobe", "trace_kprobe_multi", []],
  ["kprobe.session+", "kprobe", "trace_kprobe_session", []],
  ["uprobe.multi+", "kprobe", "trace_uprobe_multi", []],
  ["uretprobe.multi+", "kprobe", "trace_uprobe_multi", []],
  ["uprobe.session+", "kprobe", "trace_uprobe_session", []],
  ["uprobe.multi.s+", "kprobe", "trace_uprobe_multi", ["sleepable"]],
  ["uretprobe.multi.s+", "kprobe", "trace_uprobe_multi", ["sleepable"]],
  ["uprobe.session.s+", "kprobe", "trace_uprobe_session", ["sleepable"]],
  ["ksyscall+", "kprobe", undefined, []],
  ["kretsyscall+", "kprobe", undefined, []],
  ["usdt+", "kprobe", undefined, ["usdt"]],
  ["usdt.s+", "kprobe", undefined, ["usdt", "sleepable"]],
  ["tc/ingress", "sched_cls", "tcx_ingress", []],
  ["tc/egress", "sched_cls", "tcx_egress", []],
  ["tcx/ingress", "sched_cls", "tcx_ingress", []],
  ["tcx/egress", "sched_cls", "tcx_egress", []],
  ["tc", "sched_cls", undefined, []],
  ["classifier", "sched_cls", undefined, []],
  ["action", "sched_act", undefined, []],
  ["netkit/primary", "sched_cls", "netkit_primary", []],
  ["netkit/peer", "sched_cls", "netkit_peer", []],
  ["tracepoint+", "tracepoint", undefined, []],
  ["tp+", "tracepoint", undefined, []],
  ["tracepoint.s+", "tracepoint", undefined, ["sleepable"]],
  ["tp.s+", "tracepoint", undefined, ["sleepable"]],
  ["raw_tracepoint+", "raw_tracepoint", undefined, []],
  ["raw_tp+", "raw_tracepoint", undefined, []],
  ["raw_tracepoint.s+", "raw_tracepoint", undefined, ["sleepable"]],
  ["raw_tp.s+", "raw_tracepoint", undefined, ["sleepable"]],
  ["raw_tracepoint.w+", "raw_tracepoint_writable", undefined, []],
  ["raw_tp.w+", "raw_tracepoint_writable", undefined, []],
  ["tp_btf+", "tracing", "trace_raw_tp", ["attachBtf"]],
  ["tp_btf.s+", "tracing", "trace_raw_tp", ["attachBtf", "sleepable"]],
  ["fentry+", "tracing", "trace_fentry", ["attachBtf"]],
  ["fmod_ret+", "tracing", "modify_return", ["attachBtf"]],
  ["fexit+", "tracing", "trace_fexit", ["attachBtf"]],
  ["fentry.s+", "tracing", "trace_fentry", ["attachBtf", "sleepable"]],
  ["fmod_ret.s+", "tracing", "modify_return", ["attachBtf", "sleepable"]],
  ["fexit.s+", "tracing", "trace_fexit", ["attachBtf", "sleepable"]],
  ["freplace+", "ext", undefined, ["attachBtf"]],
  ["lsm+", "lsm", "lsm_mac", ["attachBtf"]],
  ["lsm.s+", "lsm", "lsm_mac", ["attachBtf", "sleepable"]],
  ["lsm_cgroup+", "lsm", "lsm_cgroup", ["attachBtf"]],
  ["iter+", "tracing", "trace_iter", ["attachBtf"]],
  ["iter.s+", "tracing", "trace_iter", ["attachBtf", "sleepable"]],
  ["syscall", "syscall", undefined, ["sleepable"]],
  ["xdp.frags/devmap", "xdp", "xdp_devmap", ["frags"]],
  ["xdp/devmap", "xdp", "xdp_devmap", []],
  ["xdp.frags/cpumap", "xdp", "xdp_cpumap", ["frags"]],
  ["xdp/cpumap", "xdp", "xdp_cpumap", []],
  ["xdp.frags", "xdp", "xdp", ["frags"]],
  ["xdp", "xdp", "xdp", ["optionalAttachType"]],
  ["perf_event", "perf_event", undefined, []],
  ["lwt_in", "lwt_in", undefined, []],
  ["lwt_out", "lwt_out", undefined, []],
  ["lwt_xmit", "lwt_xmit", undefined, []],
  ["lwt_seg6local", "lwt_seg6local", undefined, []],
  ["sockops", "sock_ops", "cgroup_sock_ops", ["optionalAttachType"]],
  ["sk_skb/stream_parser", "sk_skb", "sk_skb_stream_parser", ["optionalAttachType"]],
  ["sk_skb/stream_verdict", "sk_skb", "sk_skb_stream_verdict", ["optionalAttachType"]],
  ["sk_skb/verdict", "sk_skb", "sk_skb_verdict", ["optionalAttachType"]],
  ["sk_skb", "sk_skb", undefined, []],
  ["sk_msg", "sk_msg", "sk_msg_verdict", ["optionalAttachType"]],
  ["lirc_mode2", "lirc_mode2", "lirc_mode2", ["optionalAttachType"]],
  ["flow_dissector", "flow_dissector", "flow_dissector", ["optionalAttachType"]],
  ["cgroup_skb/ingress", "cgroup_skb", "cgroup_inet_ingress", ["optionalAttachType"]],
  ["cgroup_skb/egress", "cgroup_skb", "cgroup_inet_egress", ["optionalAttachType"]],
  ["cgroup/skb", "cgroup_skb", undefined, []],
  ["cgroup/sock_create", "cgroup_sock", "cgroup_inet_sock_create", []],
  ["cgroup/sock_release", "cgroup_sock", "cgroup_inet_sock_release", []],
  ["cgroup/sock", "cgroup_sock", "cgroup_inet_sock_create", ["optionalAttachType"]],
  ["cgroup/post_bind4", "cgroup_sock", "cgroup_inet4_post_bind", []],
  ["cgroup/post_bind6", "cgroup_sock", "cgroup_inet6_post_bind", []],
  ["cgroup/bind4", "cgroup_sock_addr", "cgroup_inet4_bind", []],
  ["cgroup/bind6", "cgroup_sock_addr", "cgroup_inet6_bind", []],
  ["cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect", []],
  ["cgroup/connect6", "cgroup_sock_addr", "cgroup_inet6_connect", []],
  ["cgroup/connect_unix", "cgroup_sock_addr", "cgroup_unix_connect", []],
  ["cgroup/sendmsg4", "cgroup_sock_addr", "cgroup_udp4_sendmsg", []],
  ["cgroup/sendmsg6", "cgroup_sock_addr", "cgroup_udp6_sendmsg", []],
  ["cgroup/sendmsg_unix", "cgroup_sock_addr", "cgroup_unix_sendmsg", []],
  ["cgroup/recvmsg4", "cgroup_sock_addr", "cgroup_udp4_recvmsg", []],
  ["cgroup/recvmsg6", "cgroup_sock_addr", "cgroup_udp6_recvmsg", []],
  ["cgroup/recvmsg_unix", "cgroup_sock_addr", "cgroup_unix_recvmsg", []],
  ["cgroup/getpeername4", "cgroup_sock_addr", "cgroup_inet4_getpeername", []],
  ["cgroup/getpeername6", "cgroup_sock_addr", "cgroup_inet6_getpeername", []],
  ["cgroup/getpeername_unix", "cgroup_sock_addr", "cgroup_unix_getpeername", []],
  ["cgroup/getsockname4", "cgroup_sock_addr", "cgroup_inet4_getsockname", []],
  ["cgroup/getsockname6", "cgroup_sock_addr", "cgroup_inet6_getsockname", []],
  ["cgroup/getsockname_unix", "cgroup_sock_addr", "cgroup_unix_getsockname", []],
  ["cgroup/sysctl", "cgroup_sysctl", "cgroup_sysctl", []],
  ["cgroup/getsockopt", "cgroup_sockopt", "cgroup_getsockopt", []],
  ["cgroup/setsockopt", "cgroup_sockopt", "cgroup_setsockopt", []],
  ["cgroup/dev", "cgroup_device", "cgroup_device", ["optionalAttachType"]],
  ["struct_ops+", "struct_ops", undefined, []],
  ["struct_ops.s+", "struct_ops", undefined, ["sleepable"]],
  ["sk_lookup", "sk_lookup", "sk_lookup", []],
  ["netfilter", "netfilter", "netfilter", []],
];

/**
 * The program type and attach details for a section name, or undefined when the name is not a known
 * program section (the caller decides whether that is an error).
 */
export function sectionType(sectionName: string): SectionType | undefined {
  if (known.has(sectionName)) return known.get(sectionName);
  const name = sectionName.startsWith("?") ? sectionName.slice(1) : sectionName;
  let found: SectionType | undefined;
  for (const [pattern, programType, expectedAttachType, flags] of SECTION_TABLE) {
    const target = matchPattern(pattern, name);
    if (target !== undefined) {
      found = Object.freeze({ pattern, programType, expectedAttachType, flags, target });
      break;
    }
  }
  if (known.size < CACHE_LIMIT) known.set(sectionName, found);
  return found;
}

/** Answers already computed: objects repeat a handful of section names. */
const known = new Map<string, SectionType | undefined>();
/** Section names are chosen by object authors; bound the cache against odd inputs (fuzzing). */
const CACHE_LIMIT = 1024;

/** The attach target part of `name` if `pattern` matches it, else undefined. */
function matchPattern(pattern: string, name: string): string | undefined {
  if (pattern.endsWith("/")) return name.startsWith(pattern) ? name.slice(pattern.length) : undefined;
  if (pattern.endsWith("+")) {
    const stem = pattern.slice(0, -1);
    if (name === stem) return "";
    return name.startsWith(stem + "/") ? name.slice(stem.length + 1) : undefined;
  }
  return name === pattern ? "" : undefined;
}
