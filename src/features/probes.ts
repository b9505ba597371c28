/**
 * Feature probes: does this kernel support a map type, a program type (with an attach type), a helper
 * in a program type, a BTF kind? Each is answered by asking the kernel to do the smallest such thing —
 * never by comparing version numbers — and cached for the life of the process.
 *
 * A probe answers true or false only when the kernel's answer is conclusive; when the probe itself
 * cannot run (no privilege), it throws, so a missing capability is never mistaken for a missing feature.
 */

import { Btf, marshalBtf, type BtfSupport, type BtfType } from "../btf/index.js";
import { ProgramBuilder, R0, R1, R2, R3, R4, R5, helperId, encodeInstructions } from "../asm/index.js";
import { NotSupportedError, isWaggleError, type SyscallError } from "../errors.js";
import { kernelBtf } from "../kernel/kernel-btf.js";
import { btfLoad, mapCreate, pageSize, progLoad, type FD } from "../sys/index.js";
import { ATTACH_TYPES, MAP_TYPES, MapFlags, PROGRAM_TYPES, ProgramFlags, type AttachTypeName, type MapTypeName, type ProgramTypeName } from "../uapi.js";

/** A probe's verdict: supported, or not with the kernel's reason. */
export interface ProbeResult {
  readonly supported: boolean;
  /** Why not (the errno or verifier message), when unsupported. */
  readonly reason?: string;
}

const cache = new Map<string, ProbeResult>();

function cached(key: string, probe: () => ProbeResult): ProbeResult {
  let result = cache.get(key);
  if (!result) {
    result = probe();
    cache.set(key, result);
  }
  return result;
}

/** Errnos by which the kernel says "I do not know this" rather than "you may not" (errno 95, EOPNOTSUPP, is named ENOTSUP). */
const UNSUPPORTED_CODES = new Set(["EINVAL", "E2BIG", "ENOTSUP", "ENOTSUPP", "ENOENT", "ESRCH"]);

/** Turns a probe's failure into a verdict, rethrowing failures that say nothing about the feature. */
function verdict(error: unknown): ProbeResult {
  if (isWaggleError(error, "PermissionError")) throw error;
  if (isWaggleError(error, "VerifierError")) return { supported: false, reason: error.message };
  if (isWaggleError(error, "SyscallError")) {
    const e = error as SyscallError;
    // EPERM with every capability present is kernel policy (lockdown, an LSM): conclusive.
    if (UNSUPPORTED_CODES.has(e.code) || e.code === "EPERM") return { supported: false, reason: e.message };
  }
  throw error;
}

function closing<T>(fds: (FD | undefined)[], body: () => T): T {
  try {
    return body();
  } finally {
    for (const fd of fds) fd?.close();
  }
}

// ---- BTF kinds -----------------------------------------------------------------------------------

/** BTF kinds that appeared after the first BTF-capable kernels, and so are worth probing. */
export type ProbedBtfKind = "func" | "func_global" | "var" | "datasec" | "qmark_datasec" | "float" | "decl_tag" | "type_tag" | "enum64";

/**
 * Whether the kernel accepts BTF containing `kind` (func_global: a FUNC with global linkage;
 * qmark_datasec: a DATASEC named `?.data`).
 */
export function probeBtfKind(kind: ProbedBtfKind): ProbeResult {
  return cached(`btf:${kind}`, () => {
    const btf = Btf.create();
    const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    const add = (t: BtfType) => btf.add(t);
    switch (kind) {
      case "func":
      case "func_global": {
        const proto = add({ kind: "func_proto", name: "", returnType: int, params: [] });
        add({ kind: "func", name: "f", type: proto, linkage: kind === "func" ? "static" : "global" });
        break;
      }
      case "var":
        add({ kind: "var", name: "v", type: int, linkage: "static" });
        break;
      case "datasec":
      case "qmark_datasec": {
        const v = add({ kind: "var", name: "v", type: int, linkage: "static" });
        add({ kind: "datasec", name: kind === "datasec" ? ".data" : "?.data", size: 4, vars: [{ type: v, offset: 0, size: 4 }] });
        break;
      }
      case "float":
        add({ kind: "float", name: "float", size: 4 });
        break;
      case "decl_tag": {
        const s = add({ kind: "struct", name: "s", size: 4, members: [{ name: "m", type: int, bitOffset: 0, bitfieldSize: 0 }] });
        add({ kind: "decl_tag", name: "tag", type: s, componentIdx: -1 });
        break;
      }
      case "type_tag": {
        const tag = add({ kind: "type_tag", name: "tag", type: int });
        add({ kind: "ptr", name: "", type: tag });
        break;
      }
      case "enum64":
        add({ kind: "enum64", name: "e", size: 8, signed: false, values: [{ name: "E", value: 1n << 40n }] });
        break;
    }
    try {
      return closing([btfLoad(marshalBtf(btf)).fd], () => ({ supported: true }));
    } catch (error) {
      return verdict(error);
    }
  });
}

let support: BtfSupport | undefined;

/**
 * What this kernel's BTF checker accepts, for `sanitizeBtf`: one cached `probeBtfKind` per feature.
 *
 * @throws {PermissionError} when the process may not load BTF
 * @example
 * const loaded = btfLoad(marshalBtf(sanitizeBtf(spec.btf, btfSupport())));
 */
export function btfSupport(): BtfSupport {
  support ??= {
    funcs: probeBtfKind("func").supported,
    funcLinkage: probeBtfKind("func_global").supported,
    datasec: probeBtfKind("datasec").supported,
    qmarkDatasec: probeBtfKind("qmark_datasec").supported,
    float: probeBtfKind("float").supported,
    declTag: probeBtfKind("decl_tag").supported,
    typeTag: probeBtfKind("type_tag").supported,
    enum64: probeBtfKind("enum64").supported,
  };
  return support;
}

// ---- map types -----------------------------------------------------------------------------------

/** Whether the kernel can create maps of `type`. */
export function probeMapType(type: MapTypeName): ProbeResult {
  return cached(`map:${type}`, () => {
    if (type === "unspec") return { supported: false, reason: "not a map type" };
    if (type === "struct_ops") return probeStructOpsMap();
    let inner: FD | undefined;
    let btf: FD | undefined;
    try {
      const params = mapProbeParams(type);
      if (type === "array_of_maps" || type === "hash_of_maps") {
        inner = mapCreate({ mapType: MAP_TYPES.array, keySize: 4, valueSize: 4, maxEntries: 1 });
      }
      if (LOCAL_STORAGE.has(type)) btf = intBtf();
      return closing(
        [
          mapCreate({
            ...params,
            ...(inner && { innerMapFd: inner.value }),
            ...(btf && { btfFd: btf.value, btfKeyTypeId: 1, btfValueTypeId: 1 }),
          }),
        ],
        () => ({ supported: true }),
      );
    } catch (error) {
      return verdict(error);
    } finally {
      inner?.close();
      btf?.close();
    }
  });
}

/** Local-storage maps need BTF for their key and value and must not be preallocated. */
const LOCAL_STORAGE: ReadonlySet<MapTypeName> = new Set(["sk_storage", "inode_storage", "task_storage", "cgrp_storage"]);

function mapProbeParams(type: MapTypeName) {
  const base = { mapType: MAP_TYPES[type], keySize: 4, valueSize: 4, maxEntries: 1, flags: 0 };
  switch (type) {
    case "lpm_trie":
      return { ...base, keySize: 8, flags: MapFlags.NO_PREALLOC };
    case "queue":
    case "stack":
    case "bloom_filter":
      return { ...base, keySize: 0 };
    case "stack_trace":
      return { ...base, valueSize: 8 };
    case "ringbuf":
    case "user_ringbuf":
      return { ...base, keySize: 0, valueSize: 0, maxEntries: pageSize() };
    case "arena":
      return { ...base, keySize: 0, valueSize: 0, flags: MapFlags.MMAPABLE };
    case "cgroup_storage":
    case "percpu_cgroup_storage":
      return { ...base, keySize: 16, maxEntries: 0 };
    case "sk_storage":
    case "inode_storage":
    case "task_storage":
    case "cgrp_storage":
      return { ...base, maxEntries: 0, flags: MapFlags.NO_PREALLOC };
    default:
      return base;
  }
}

/** A loaded BTF whose type 1 is `int`. */
function intBtf(): FD {
  const btf = Btf.create();
  btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
  return btfLoad(marshalBtf(btf)).fd;
}

/** struct_ops maps need a kernel struct_ops type: probe with TCP congestion control's. */
function probeStructOpsMap(): ProbeResult {
  const vmlinux = kernelBtf();
  const id = vmlinux.find("bpf_struct_ops_tcp_congestion_ops", "struct");
  if (id === undefined) return { supported: false, reason: "the kernel's BTF has no bpf_struct_ops_tcp_congestion_ops" };
  // The kernel also wants an object BTF fd alongside the vmlinux value type.
  const btf = intBtf();
  try {
    const fd = mapCreate({
      mapType: MAP_TYPES.struct_ops,
      keySize: 4,
      valueSize: vmlinux.sizeof(id),
      maxEntries: 1,
      btfFd: btf.value,
      btfVmlinuxValueTypeId: id,
    });
    return closing([fd], () => ({ supported: true }));
  } catch (error) {
    return verdict(error);
  } finally {
    btf.close();
  }
}

// ---- program types and helpers ---------------------------------------------------------------------

/** What `probeProgramType` can be asked about: a type and, optionally, an expected attach type. */
export interface ProgramProbe {
  readonly type: ProgramTypeName;
  readonly attachType?: AttachTypeName;
}

/**
 * Whether the kernel loads programs of this type (and attach type). Tracing and LSM programs are
 * probed against a real target (`bpf_fentry_test1`, `bpf_lsm_file_open`, the `task` iterator…), so the
 * answer reflects what loading a real program of that kind would meet — including kernel policy
 * such as lockdown refusing BPF trampolines.
 */
export function probeProgramType(probe: ProgramProbe): ProbeResult {
  return cached(`prog:${probe.type}:${probe.attachType ?? ""}`, () => {
    try {
      const insns = new ProgramBuilder().mov(R0, 0).exit().build();
      return closing([loadProbe(probe, encodeInstructions(insns))], () => ({ supported: true }));
    } catch (error) {
      return verdict(error);
    }
  });
}

/** Whether programs of this type may call `helper` (a name like `bpf_loop` or an id). */
export function probeHelper(probe: ProgramProbe, helper: string | number): ProbeResult {
  const id = typeof helper === "number" ? helper : helperId(helper);
  if (id === undefined) return { supported: false, reason: `no helper is called "${helper}"` };
  return cached(`helper:${probe.type}:${probe.attachType ?? ""}:${id}`, () => {
    const typeSupport = probeProgramType(probe);
    if (!typeSupport.supported) return typeSupport;
    const insns = new ProgramBuilder()
      .mov(R1, 0).mov(R2, 0).mov(R3, 0).mov(R4, 0).mov(R5, 0)
      .call(id)
      .mov(R0, 0)
      .exit()
      .build();
    try {
      return closing([loadProbe(probe, encodeInstructions(insns))], () => ({ supported: true }));
    } catch (error) {
      if (!isWaggleError(error, "VerifierError")) return verdict(error);
      // The helper exists and is allowed unless the verifier says otherwise; bad arguments are fine.
      const refused = /invalid func|unknown func|cannot use helper|not supported|helper call might sleep|only read from bpf_array is supported/.test(error.log);
      return refused ? { supported: false, reason: error.message } : { supported: true };
    }
  });
}

/** Loads a probe program with whatever its type needs (GPL license, an attach target). */
function loadProbe(probe: ProgramProbe, insns: Uint8Array): FD {
  const attachBtfId = probeAttachTarget(probe);
  const attachType = probe.attachType ?? REQUIRED_ATTACH_TYPE[probe.type];
  return progLoad({
    progType: PROGRAM_TYPES[probe.type],
    insns,
    license: "GPL",
    ...(attachType !== undefined && { expectedAttachType: ATTACH_TYPES[attachType] }),
    ...(probe.type === "syscall" && { flags: ProgramFlags.SLEEPABLE }), // syscall programs must sleep
    ...(attachBtfId !== undefined && { attachBtfId }),
  }).fd;
}

/** Program types the kernel loads only with an expected attach type: probed with a typical one. */
const REQUIRED_ATTACH_TYPE: Partial<Record<ProgramTypeName, AttachTypeName>> = {
  cgroup_sock_addr: "cgroup_inet4_connect",
  cgroup_sockopt: "cgroup_getsockopt",
  sk_lookup: "sk_lookup",
  netfilter: "netfilter",
};

/** Kernel functions that exist in every BTF-enabled kernel, for probing BTF-attached program kinds. */
function probeAttachTarget(probe: ProgramProbe): number | undefined {
  const lookup = (name: string, kind: "func" | "typedef"): number => {
    const id = kernelBtf().find(name, kind);
    if (id === undefined) throw new NotSupportedError(`probe target ${name}`, "not in the kernel's BTF");
    return id;
  };
  switch (probe.attachType) {
    case "trace_fentry":
    case "trace_fexit":
    case "modify_return":
      return lookup("bpf_fentry_test1", "func");
    case "trace_raw_tp":
      return lookup("btf_trace_sys_enter", "typedef");
    case "trace_iter":
      return lookup("bpf_iter_task", "func");
    case "lsm_mac":
    case "lsm_cgroup":
      return lookup("bpf_lsm_file_open", "func");
    default:
      if (probe.type === "tracing" || probe.type === "lsm") {
        throw new TypeError(`Cannot probe ${probe.type} programs without an attach type`);
      }
      if (probe.type === "ext" || probe.type === "struct_ops") {
        throw new TypeError(`Cannot probe ${probe.type} programs: they need a target program or struct`);
      }
      return undefined;
  }
}

/** Forgets every cached probe result (for tests). @internal */
export function clearProbeCache(): void {
  cache.clear();
  support = undefined;
}
