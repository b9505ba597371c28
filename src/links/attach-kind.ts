/**
 * Attach kinds: which hook family a program attaches to, from its program type, its expected attach
 * type, and — where one type serves several hooks (a `kprobe` program may be a kprobe, uprobe, USDT
 * probe or ksyscall) — its section name. The registry (registry.ts) maps each kind to an attach function.
 */

import { sectionType } from "../object/index.js";
import type { AttachableProgram } from "./attachable.js";

/** A hook family, named after libbpf's section prefixes. */
export type AttachKind =
  | "tracepoint"
  | "raw_tracepoint"
  | "tp_btf"
  | "kprobe"
  | "kretprobe"
  | "ksyscall"
  | "kretsyscall"
  | "kprobe_multi"
  | "kretprobe_multi"
  | "kprobe_session"
  | "uprobe"
  | "uretprobe"
  | "uprobe_multi"
  | "uretprobe_multi"
  | "uprobe_session"
  | "usdt"
  | "fentry"
  | "fexit"
  | "fmod_ret"
  | "iter"
  | "freplace"
  | "lsm"
  | "lsm_cgroup"
  | "perf_event"
  | "xdp"
  | "xdp_map_entry"
  | "tc"
  | "tcx"
  | "netkit"
  | "tc_action"
  | "cgroup"
  | "sockmap"
  | "socket_filter"
  | "sk_reuseport"
  | "sk_lookup"
  | "flow_dissector"
  | "netfilter"
  | "lirc_mode2"
  | "lwt"
  | "struct_ops"
  | "syscall";

/** Kinds of `kprobe`-type programs by section prefix (the pattern without its `+`). */
const KPROBE_SECTIONS: Readonly<Record<string, AttachKind>> = {
  kprobe: "kprobe",
  kretprobe: "kretprobe",
  ksyscall: "ksyscall",
  kretsyscall: "kretsyscall",
  "kprobe.multi": "kprobe_multi",
  "kretprobe.multi": "kretprobe_multi",
  "kprobe.session": "kprobe_session",
  uprobe: "uprobe",
  "uprobe.s": "uprobe",
  uretprobe: "uretprobe",
  "uretprobe.s": "uretprobe",
  "uprobe.multi": "uprobe_multi",
  "uprobe.multi.s": "uprobe_multi",
  "uretprobe.multi": "uretprobe_multi",
  "uretprobe.multi.s": "uretprobe_multi",
  "uprobe.session": "uprobe_session",
  "uprobe.session.s": "uprobe_session",
  usdt: "usdt",
  "usdt.s": "usdt",
};

/**
 * The attach kind of `program`, or undefined when nothing says which hook it is for (a `tracing`
 * program without a known attach type, an `unspec` program).
 */
export function attachKind(program: AttachableProgram): AttachKind | undefined {
  switch (program.type) {
    case "tracepoint":
      return "tracepoint";
    case "raw_tracepoint":
    case "raw_tracepoint_writable":
      return "raw_tracepoint";
    case "tracing":
      switch (program.expectedAttachType) {
        case "trace_raw_tp":
          return "tp_btf";
        case "trace_fentry":
          return "fentry";
        case "trace_fexit":
          return "fexit";
        case "modify_return":
          return "fmod_ret";
        case "trace_iter":
          return "iter";
        default:
          return undefined;
      }
    case "kprobe": {
      const section = program.spec && sectionType(program.spec.section);
      const bySection = section && KPROBE_SECTIONS[section.pattern.replace(/\+$/, "")];
      if (bySection) return bySection;
      if (program.expectedAttachType === "trace_kprobe_multi") return "kprobe_multi";
      if (program.expectedAttachType === "trace_kprobe_session") return "kprobe_session";
      if (program.expectedAttachType === "trace_uprobe_multi") return "uprobe_multi";
      if (program.expectedAttachType === "trace_uprobe_session") return "uprobe_session";
      return "kprobe";
    }
    case "ext":
      return "freplace";
    case "lsm":
      return program.expectedAttachType === "lsm_cgroup" ? "lsm_cgroup" : "lsm";
    case "perf_event":
      return "perf_event";
    case "xdp":
      return program.expectedAttachType === "xdp_devmap" || program.expectedAttachType === "xdp_cpumap" ? "xdp_map_entry" : "xdp";
    case "sched_cls":
      switch (program.expectedAttachType) {
        case "tcx_ingress":
        case "tcx_egress":
          return "tcx";
        case "netkit_primary":
        case "netkit_peer":
          return "netkit";
        default:
          return "tc";
      }
    case "sched_act":
      return "tc_action";
    case "cgroup_skb":
    case "cgroup_sock":
    case "cgroup_device":
    case "cgroup_sock_addr":
    case "cgroup_sysctl":
    case "cgroup_sockopt":
    case "sock_ops":
      return "cgroup";
    case "sk_skb":
    case "sk_msg":
      return "sockmap";
    case "socket_filter":
      return "socket_filter";
    case "sk_reuseport":
      return "sk_reuseport";
    case "sk_lookup":
      return "sk_lookup";
    case "flow_dissector":
      return "flow_dissector";
    case "netfilter":
      return "netfilter";
    case "lirc_mode2":
      return "lirc_mode2";
    case "lwt_in":
    case "lwt_out":
    case "lwt_xmit":
    case "lwt_seg6local":
      return "lwt";
    case "struct_ops":
      return "struct_ops";
    case "syscall":
      return "syscall";
    case "unspec":
      return undefined;
    default: {
      const unknown: never = program.type;
      return unknown;
    }
  }
}
