/**
 * The process's effective capabilities, read once from `/proc/self/status` (`CapEff`), and the
 * capabilities each privileged bpf() operation needs.
 *
 * They decide how an EPERM is reported: when a needed capability is missing the error is a
 * `PermissionError` naming it; when all are present, the refusal came from kernel policy (lockdown, an
 * LSM, a sysctl) and saying "needs CAP_BPF" would send the user the wrong way.
 */

import { readFileSync } from "node:fs";
import { BpfMapType, BpfProgType } from "./constants.js";

/** The capability numbers bpf() checks (`include/uapi/linux/capability.h`). */
export const Capability = Object.freeze({
  CAP_NET_ADMIN: 12,
  CAP_SYS_ADMIN: 21,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
} as const);

/** The name of a capability bpf() checks. */
export type CapabilityName = keyof typeof Capability;

let effective: bigint | undefined;

/** The effective capability mask (0 when /proc is unreadable). */
function effectiveMask(): bigint {
  if (effective === undefined) {
    let mask = 0n;
    try {
      const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "latin1"));
      if (match) mask = BigInt(`0x${match[1]}`);
    } catch {
      // Without /proc, assume no capabilities: errors then name what bpf() needs.
    }
    effective = mask;
  }
  return effective;
}

/**
 * Tells whether the process holds `cap`. CAP_SYS_ADMIN counts for every capability bpf() checks,
 * as it does in the kernel's `bpf_token_capable()`.
 */
export function hasCapability(cap: CapabilityName): boolean {
  const mask = effectiveMask();
  const held = (bit: number): boolean => ((mask >> BigInt(bit)) & 1n) === 1n;
  return held(Capability[cap]) || held(Capability.CAP_SYS_ADMIN);
}

/** The capabilities in `needed` the process lacks. */
export function missingCapabilities(needed: readonly CapabilityName[]): CapabilityName[] {
  return needed.filter((cap) => !hasCapability(cap));
}

/** Map types that also need CAP_NET_ADMIN to create (they reference sockets or net devices). */
const NET_ADMIN_MAP_TYPES: ReadonlySet<number> = new Set([
  BpfMapType.SOCKMAP,
  BpfMapType.SOCKHASH,
  BpfMapType.DEVMAP,
  BpfMapType.DEVMAP_HASH,
  BpfMapType.XSKMAP,
]);

/** What BPF_MAP_CREATE needs for a map type. */
export function mapCreateCapabilities(mapType: number): CapabilityName[] {
  return NET_ADMIN_MAP_TYPES.has(mapType) ? ["CAP_BPF", "CAP_NET_ADMIN"] : ["CAP_BPF"];
}

/** Program types that also need CAP_NET_ADMIN to load (the kernel's `is_net_admin_prog_type()`). */
const NET_ADMIN_PROG_TYPES: ReadonlySet<number> = new Set([
  BpfProgType.SCHED_CLS,
  BpfProgType.SCHED_ACT,
  BpfProgType.XDP,
  BpfProgType.LWT_IN,
  BpfProgType.LWT_OUT,
  BpfProgType.LWT_XMIT,
  BpfProgType.LWT_SEG6LOCAL,
  BpfProgType.SK_SKB,
  BpfProgType.SK_MSG,
  BpfProgType.FLOW_DISSECTOR,
  BpfProgType.CGROUP_DEVICE,
  BpfProgType.CGROUP_SOCK,
  BpfProgType.CGROUP_SOCK_ADDR,
  BpfProgType.CGROUP_SOCKOPT,
  BpfProgType.CGROUP_SYSCTL,
  BpfProgType.SOCK_OPS,
  BpfProgType.EXT,
  BpfProgType.NETFILTER,
]);

/** Program types that also need CAP_PERFMON to load (the kernel's `is_perfmon_prog_type()`). */
const PERFMON_PROG_TYPES: ReadonlySet<number> = new Set([
  BpfProgType.KPROBE,
  BpfProgType.TRACEPOINT,
  BpfProgType.PERF_EVENT,
  BpfProgType.RAW_TRACEPOINT,
  BpfProgType.RAW_TRACEPOINT_WRITABLE,
  BpfProgType.TRACING,
  BpfProgType.LSM,
  BpfProgType.STRUCT_OPS,
  BpfProgType.EXT,
]);

/** What BPF_PROG_LOAD needs for a program type (unprivileged BPF is assumed off, as on most systems). */
export function progLoadCapabilities(progType: number): CapabilityName[] {
  const needed: CapabilityName[] = ["CAP_BPF"];
  if (NET_ADMIN_PROG_TYPES.has(progType)) needed.push("CAP_NET_ADMIN");
  if (PERFMON_PROG_TYPES.has(progType)) needed.push("CAP_PERFMON");
  return needed;
}
