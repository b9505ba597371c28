/**
 * Attachment commands: BPF_LINK_CREATE / LINK_UPDATE / LINK_DETACH, BPF_RAW_TRACEPOINT_OPEN, and the
 * older BPF_PROG_ATTACH / PROG_DETACH / PROG_QUERY.
 *
 * LINK_CREATE's attr ends in a union whose member depends on the attach type; callers pick it with a
 * `target` discriminated on `kind`. Arrays and strings the kernel reads through pointers (iterator info,
 * kprobe symbols, uprobe offsets) are packed into one NativeBuffer for the call.
 */

import { writeFields } from "./attr-layout.js";
import { linkCreateAttr, linkDetachAttr, linkUpdateAttr, progAttachAttr, queryAttr, rawTracepointAttr } from "./attrs.js";
import { beginAttr, bpfCall, bpfCallFd, bpfError, bpfRaw, Errno } from "./bpf-call.js";
import type { CapabilityName } from "./capabilities.js";
import { BpfAttachFlags, BpfCmd, BpfQueryFlags } from "./constants.js";
import type { FD } from "./fd.js";
import { ATTR_REGION_SIZE, cStringBytes, cStringCapacity, NativeBuffer, scratch, writeCString } from "./native-memory.js";

/** What attaching needs beyond the program's own load-time capabilities. */
const ATTACH_NEEDS: readonly CapabilityName[] = ["CAP_BPF"];

/** Where a program goes relative to others on a multi-program hook (tcx, netkit, cgroup). */
export interface RelativePosition {
  /** Attach before/after this program or link fd (with `BpfAttachFlags.BEFORE`/`AFTER`). */
  readonly relativeFd?: number;
  /** …or this program or link id (`BpfAttachFlags.ID` is added for you). */
  readonly relativeId?: number;
  /** Fail with ESTALE unless the hook is at this revision. */
  readonly expectedRevision?: bigint;
}

/** The attach-type-specific part of BPF_LINK_CREATE. */
export type LinkTarget =
  | { readonly kind: "btfId"; readonly targetBtfId: number }
  | { readonly kind: "tracing"; readonly targetBtfId: number; readonly cookie?: bigint }
  | { readonly kind: "iter"; readonly info: Uint8Array }
  | { readonly kind: "perfEvent"; readonly cookie: bigint }
  | {
      readonly kind: "kprobeMulti";
      readonly flags?: number;
      readonly symbols?: readonly string[];
      readonly addresses?: BigUint64Array;
      readonly cookies?: BigUint64Array;
    }
  | {
      readonly kind: "uprobeMulti";
      readonly path: string;
      readonly offsets: BigUint64Array;
      readonly refCtrOffsets?: BigUint64Array;
      readonly cookies?: BigUint64Array;
      readonly flags?: number;
      readonly pid?: number;
    }
  | {
      readonly kind: "netfilter";
      readonly pf: number;
      readonly hooknum: number;
      readonly priority: number;
      readonly flags?: number;
    }
  | ({ readonly kind: "relative" } & RelativePosition);

/** Parameters of BPF_LINK_CREATE. */
export interface LinkCreateParams {
  /** The program (or, for struct_ops, the map) to link. */
  readonly progFd: number;
  /** The target fd (cgroup, netns, perf event, BPF program) or ifindex; 0 when the type has none. */
  readonly targetFd?: number;
  readonly attachType: number;
  /** `BpfAttachFlags` bits. */
  readonly flags?: number;
  readonly target?: LinkTarget;
}

/** The bytes of a u64 array. */
function u64Bytes(array: BigUint64Array | undefined): Uint8Array | undefined {
  return array && new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Creates a link attaching a program; closing the link's fd detaches it. */
export function linkCreate(p: LinkCreateParams): FD {
  const t = p.target;
  let flags = p.flags ?? 0;
  let parts: (Uint8Array | undefined)[] = [];
  switch (t?.kind) {
    case "iter":
      parts = [t.info];
      break;
    case "kprobeMulti":
      // Part 0 is the symbol pointer table, filled in below once the strings (parts 3…) have addresses.
      parts = [
        t.symbols && new Uint8Array(t.symbols.length * 8),
        u64Bytes(t.addresses),
        u64Bytes(t.cookies),
        ...(t.symbols ?? []).map(cStringBytes),
      ];
      break;
    case "uprobeMulti":
      parts = [cStringBytes(t.path), u64Bytes(t.offsets), u64Bytes(t.refCtrOffsets), u64Bytes(t.cookies)];
      break;
    case "relative":
      if (t.relativeId !== undefined) flags |= BpfAttachFlags.ID;
      break;
    case "btfId":
    case "tracing":
    case "perfEvent":
    case "netfilter":
    case undefined:
      break;
  }
  const { buffer, addresses } = NativeBuffer.pack(parts);
  try {
    if (t?.kind === "kprobeMulti" && t.symbols !== undefined) {
      const view = new DataView(buffer.bytes.buffer);
      const table = addresses[0]! - buffer.address;
      t.symbols.forEach((_, i) => view.setBigUint64(table + i * 8, BigInt(addresses[3 + i]!), true));
    }
    writeFields(beginAttr(linkCreateAttr), 0, linkCreateAttr, {
      progFd: p.progFd,
      targetFd: p.targetFd,
      attachType: p.attachType,
      flags: flags >>> 0,
      ...linkTargetFields(t, addresses),
    });
    return bpfCallFd(BpfCmd.LINK_CREATE, linkCreateAttr, `link of program fd ${p.progFd}`, ATTACH_NEEDS);
  } finally {
    buffer.close();
  }
}

/** The union fields for a link target, given the addresses of its packed parts. */
function linkTargetFields(t: LinkTarget | undefined, addresses: readonly number[]) {
  switch (t?.kind) {
    case undefined:
      return {};
    case "btfId":
      return { targetBtfId: t.targetBtfId };
    case "tracing":
      return { tracingTargetBtfId: t.targetBtfId, tracingCookie: t.cookie };
    case "iter":
      return { iterInfo: addresses[0], iterInfoLen: t.info.length };
    case "perfEvent":
      return { perfEventBpfCookie: t.cookie };
    case "kprobeMulti":
      return {
        kprobeMultiFlags: t.flags,
        kprobeMultiCnt: t.symbols?.length ?? t.addresses?.length ?? 0,
        kprobeMultiSyms: addresses[0],
        kprobeMultiAddrs: addresses[1],
        kprobeMultiCookies: addresses[2],
      };
    case "uprobeMulti":
      return {
        uprobeMultiPath: addresses[0],
        uprobeMultiOffsets: addresses[1],
        uprobeMultiRefCtrOffsets: addresses[2],
        uprobeMultiCookies: addresses[3],
        uprobeMultiCnt: t.offsets.length,
        uprobeMultiFlags: t.flags,
        uprobeMultiPid: t.pid,
      };
    case "netfilter":
      return {
        netfilterPf: t.pf,
        netfilterHooknum: t.hooknum,
        netfilterPriority: t.priority,
        netfilterFlags: t.flags,
      };
    case "relative":
      return { relativeFd: t.relativeId ?? t.relativeFd, expectedRevision: t.expectedRevision };
  }
}

/**
 * Replaces a link's program (or struct_ops map) with `newProgFd`. With `oldProgFd`, only if the link
 * still holds that one (`BpfAttachFlags.REPLACE` is added for you).
 */
export function linkUpdate(linkFd: number, newProgFd: number, options: { oldProgFd?: number; flags?: number } = {}): void {
  const flags = (options.flags ?? 0) | (options.oldProgFd !== undefined ? BpfAttachFlags.REPLACE : 0);
  writeFields(beginAttr(linkUpdateAttr), 0, linkUpdateAttr, {
    linkFd,
    newProgFd,
    flags,
    oldProgFd: options.oldProgFd,
  });
  bpfCall(BpfCmd.LINK_UPDATE, linkUpdateAttr, `link fd ${linkFd}`, ATTACH_NEEDS);
}

/** Detaches a link's program while the link fd stays open (it becomes defunct). */
export function linkDetach(linkFd: number): void {
  writeFields(beginAttr(linkDetachAttr), 0, linkDetachAttr, { linkFd });
  bpfCall(BpfCmd.LINK_DETACH, linkDetachAttr, `link fd ${linkFd}`, ATTACH_NEEDS);
}

/**
 * Attaches a raw tracepoint program to the tracepoint `name` (omit it for tp_btf / BTF-typed programs,
 * whose target was given at load); returns the link fd.
 */
export function rawTracepointOpen(progFd: number, name?: string, cookie?: bigint): FD {
  let nameAddress = 0;
  if (name !== undefined) {
    scratch.reserve(cStringCapacity(name));
    writeCString(scratch.bytes, ATTR_REGION_SIZE, name);
    nameAddress = scratch.dataAddress;
  }
  writeFields(beginAttr(rawTracepointAttr), 0, rawTracepointAttr, { name: nameAddress, progFd, cookie });
  return bpfCallFd(
    BpfCmd.RAW_TRACEPOINT_OPEN,
    rawTracepointAttr,
    name === undefined ? `raw tracepoint of program fd ${progFd}` : `raw tracepoint "${name}"`,
    ATTACH_NEEDS,
  );
}

/** Parameters of BPF_PROG_ATTACH and BPF_PROG_DETACH. */
export interface ProgAttachParams extends RelativePosition {
  /** The cgroup, netns, socket map or other target fd (or ifindex for tcx). */
  readonly targetFd: number;
  /** The program; may be omitted when detaching the only program of a hook. */
  readonly attachBpfFd?: number;
  readonly attachType: number;
  /** `BpfAttachFlags` bits. */
  readonly attachFlags?: number;
  /** The program to replace, with `BpfAttachFlags.REPLACE`. */
  readonly replaceBpfFd?: number;
}

function writeProgAttach(p: ProgAttachParams): void {
  const flags = (p.attachFlags ?? 0) | (p.relativeId !== undefined ? BpfAttachFlags.ID : 0);
  writeFields(beginAttr(progAttachAttr), 0, progAttachAttr, {
    targetFd: p.targetFd,
    attachBpfFd: p.attachBpfFd,
    attachType: p.attachType,
    attachFlags: flags >>> 0,
    replaceBpfFd: p.replaceBpfFd,
    relativeFd: p.relativeId ?? p.relativeFd,
    expectedRevision: p.expectedRevision,
  });
}

/** Attaches a program to a hook the old way (without a link: it stays until detached). */
export function progAttach(p: ProgAttachParams): void {
  writeProgAttach(p);
  bpfCall(BpfCmd.PROG_ATTACH, progAttachAttr, `program fd ${p.attachBpfFd ?? 0} to target fd ${p.targetFd}`, ATTACH_NEEDS);
}

/** Detaches a program attached with {@link progAttach}. */
export function progDetach(p: ProgAttachParams): void {
  writeProgAttach(p);
  bpfCall(BpfCmd.PROG_DETACH, progAttachAttr, `program fd ${p.attachBpfFd ?? 0} from target fd ${p.targetFd}`, ATTACH_NEEDS);
}

/** Parameters of BPF_PROG_QUERY. */
export interface ProgQueryParams {
  /** The cgroup, netns or other target fd (or ifindex for tcx/netkit). */
  readonly targetFd: number;
  readonly attachType: number;
  /** `BpfQueryFlags` bits (EFFECTIVE: include programs inherited from ancestor cgroups). */
  readonly queryFlags?: number;
}

/** What BPF_PROG_QUERY reported. */
export interface ProgQueryResult {
  /** The hook's attach flags (cgroups). */
  readonly attachFlags: number;
  /** Ids of the attached programs, in run order. */
  readonly progIds: readonly number[];
  /** Per-program attach flags (empty for effective queries, which do not report them). */
  readonly progAttachFlags: readonly number[];
  /** Ids of the links holding the programs (0 for programs attached without a link), where reported. */
  readonly linkIds: readonly number[];
  /** The hook's revision (tcx, netkit), which changes on every attach and detach. */
  readonly revision: bigint;
}

/** How often a query is retried when programs are attached between its two passes. */
const QUERY_ATTEMPTS = 4;

/** Lists the programs attached to a hook. */
export function progQuery(p: ProgQueryParams): ProgQueryResult {
  const effective = ((p.queryFlags ?? 0) & BpfQueryFlags.EFFECTIVE) !== 0;
  const f = queryAttr.fields;
  let capacity = 0;
  for (let attempt = 1; ; attempt++) {
    // Arrays after the attr, `capacity` u32 each: program ids, program attach flags, link ids.
    scratch.reserve(capacity * 12);
    const array = (i: number): number => (capacity > 0 ? scratch.dataAddress + i * capacity * 4 : 0);
    const view = beginAttr(queryAttr);
    writeFields(view, 0, queryAttr, {
      targetFd: p.targetFd,
      attachType: p.attachType,
      queryFlags: p.queryFlags,
      progIds: array(0),
      progCnt: capacity,
      progAttachFlags: effective ? 0 : array(1),
      linkIds: array(2),
    });
    const r = bpfRaw(BpfCmd.PROG_QUERY, queryAttr.size);
    const count = view.getUint32(f.progCnt.offset, true);
    if ((r === -Errno.ENOSPC || (r === 0 && count > capacity)) && attempt < QUERY_ATTEMPTS) {
      capacity = count;
      continue;
    }
    if (r < 0) throw bpfError(BpfCmd.PROG_QUERY, -r, `target fd ${p.targetFd}`, ["CAP_NET_ADMIN"]);
    const n = Math.min(count, capacity);
    const words = (i: number): number[] =>
      Array.from({ length: n }, (_, k) => view.getUint32(ATTR_REGION_SIZE + (i * capacity + k) * 4, true));
    return {
      attachFlags: view.getUint32(f.attachFlags.offset, true),
      progIds: words(0),
      progAttachFlags: effective ? [] : words(1),
      linkIds: words(2),
      revision: view.getBigUint64(f.revision.offset, true),
    };
  }
}
