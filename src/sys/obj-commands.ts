/**
 * Commands on kernel objects as a whole: pinning to and opening from bpffs (OBJ_PIN, OBJ_GET),
 * walking the global id spaces (*_GET_NEXT_ID, *_GET_FD_BY_ID), ENABLE_STATS, ITER_CREATE and
 * TOKEN_CREATE.
 *
 * The id commands need CAP_SYS_ADMIN; an EPERM from them is reported as such. Pin and get are
 * ordinary file system operations: their EACCES/EPERM/ENOENT name the path.
 */

import { writeFields } from "./attr-layout.js";
import { enableStatsAttr, getIdAttr, iterCreateAttr, objAttr, tokenCreateAttr } from "./attrs.js";
import { beginAttr, bpfCall, bpfCallFd, bpfError, bpfRaw, Errno } from "./bpf-call.js";
import type { CapabilityName } from "./capabilities.js";
import { BpfCmd } from "./constants.js";
import type { FD } from "./fd.js";
import { ATTR_REGION_SIZE, cStringCapacity, scratch, writeCString } from "./native-memory.js";

/** What the id commands need. */
const ID_NEEDS: readonly CapabilityName[] = ["CAP_SYS_ADMIN"];

/** Writes `path` as a C string at the start of the arena's data region; returns its address. */
function pathAddress(path: string): number {
  scratch.reserve(cStringCapacity(path));
  writeCString(scratch.bytes, ATTR_REGION_SIZE, path);
  return scratch.dataAddress;
}

/** Pins the object `fd` refers to at `path` on a bpffs mount. */
export function objPin(fd: number, path: string): void {
  const pathname = pathAddress(path);
  writeFields(beginAttr(objAttr), 0, objAttr, { pathname, bpfFd: fd });
  bpfCall(BpfCmd.OBJ_PIN, objAttr, `"${path}"`);
}

/**
 * Opens the object pinned at `path`.
 * @param flags  `BpfMapFlags.RDONLY` or `WRONLY` to open a map read- or write-only.
 */
export function objGet(path: string, flags = 0): FD {
  const pathname = pathAddress(path);
  writeFields(beginAttr(objAttr), 0, objAttr, { pathname, fileFlags: flags });
  return bpfCallFd(BpfCmd.OBJ_GET, objAttr, `pinned object "${path}"`);
}

/** The id after `startId` in an id space, or undefined at its end. */
function nextId(cmd: number, startId: number): number | undefined {
  const view = beginAttr(getIdAttr);
  writeFields(view, 0, getIdAttr, { startId });
  const r = bpfRaw(cmd, getIdAttr.size);
  if (r === -Errno.ENOENT) return undefined;
  if (r < 0) throw bpfError(cmd, -r, `after id ${startId}`, ID_NEEDS);
  return view.getUint32(getIdAttr.fields.nextId.offset, true);
}

/** The next loaded program's id after `startId` (0 for the first), or undefined after the last. */
export function progGetNextId(startId: number): number | undefined {
  return nextId(BpfCmd.PROG_GET_NEXT_ID, startId);
}

/** The next map's id after `startId` (0 for the first), or undefined after the last. */
export function mapGetNextId(startId: number): number | undefined {
  return nextId(BpfCmd.MAP_GET_NEXT_ID, startId);
}

/** The next BTF object's id after `startId` (0 for the first), or undefined after the last. */
export function btfGetNextId(startId: number): number | undefined {
  return nextId(BpfCmd.BTF_GET_NEXT_ID, startId);
}

/** The next link's id after `startId` (0 for the first), or undefined after the last. */
export function linkGetNextId(startId: number): number | undefined {
  return nextId(BpfCmd.LINK_GET_NEXT_ID, startId);
}

/** Opens the object with this id. */
function fdById(cmd: number, id: number, what: string, openFlags?: number): FD {
  writeFields(beginAttr(getIdAttr), 0, getIdAttr, { startId: id, openFlags });
  return bpfCallFd(cmd, getIdAttr, `${what} id ${id}`, ID_NEEDS);
}

/** Opens the program with this id. */
export function progGetFdById(id: number): FD {
  return fdById(BpfCmd.PROG_GET_FD_BY_ID, id, "program");
}

/** Opens the map with this id; `openFlags`: `BpfMapFlags.RDONLY` or `WRONLY`. */
export function mapGetFdById(id: number, openFlags = 0): FD {
  return fdById(BpfCmd.MAP_GET_FD_BY_ID, id, "map", openFlags);
}

/** Opens the BTF object with this id. */
export function btfGetFdById(id: number): FD {
  return fdById(BpfCmd.BTF_GET_FD_BY_ID, id, "BTF");
}

/** Opens the link with this id. */
export function linkGetFdById(id: number): FD {
  return fdById(BpfCmd.LINK_GET_FD_BY_ID, id, "link");
}

/**
 * Turns on a kernel-wide statistic (`BpfStatsType.RUN_TIME`: run_time_ns and run_cnt in program info)
 * for as long as the returned fd stays open.
 */
export function enableStats(type: number): FD {
  writeFields(beginAttr(enableStatsAttr), 0, enableStatsAttr, { type });
  return bpfCallFd(BpfCmd.ENABLE_STATS, enableStatsAttr, `statistics type ${type}`, ID_NEEDS);
}

/** Creates an iterator from an iter link; each read() of the returned fd runs the program. */
export function iterCreate(linkFd: number, flags = 0): FD {
  writeFields(beginAttr(iterCreateAttr), 0, iterCreateAttr, { linkFd, flags });
  return bpfCallFd(BpfCmd.ITER_CREATE, iterCreateAttr, `iterator of link fd ${linkFd}`);
}

/** Creates a BPF token from a bpffs mount that delegates permissions (opened as a directory fd). */
export function tokenCreate(bpffsFd: number, flags = 0): FD {
  writeFields(beginAttr(tokenCreateAttr), 0, tokenCreateAttr, { flags, bpffsFd });
  return bpfCallFd(BpfCmd.TOKEN_CREATE, tokenCreateAttr, `token from bpffs fd ${bpffsFd}`);
}
