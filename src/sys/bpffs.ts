/**
 * The BPF file system: telling whether a path is on one, and mounting one (objects are pinned there).
 *
 * Nothing mounts bpffs at boot on a bare machine, and pinning outside it fails with EPERM, so tools and
 * tests mount their own. Mounting needs CAP_SYS_ADMIN in the mount namespace.
 */

import { mkdirSync } from "node:fs";
import { mount, statfs, umount2 } from "./libc.js";
import { ATTR_REGION_SIZE, scratch } from "./native-memory.js";

/** `f_type` of a bpffs mount (`BPF_FS_MAGIC`). */
const BPF_FS_MAGIC = 0xcafe4a11;

/** Bytes of `struct statfs` on 64-bit Linux (x86-64 and arm64 alike); `f_type` comes first. */
const STATFS_SIZE = 120;

/** Tells whether `path` lies on a bpffs mount. Throws SyscallError("statfs") when it does not exist. */
export function isBpffs(path: string): boolean {
  scratch.reserve(STATFS_SIZE);
  statfs(path, scratch.dataAddress);
  return scratch.view.getUint32(ATTR_REGION_SIZE, true) === BPF_FS_MAGIC;
}

/**
 * Mounts a bpffs at `path` (creating the directory) unless one is already there.
 * Returns true when it mounted one.
 */
export function ensureBpffs(path: string): boolean {
  mkdirSync(path, { recursive: true });
  if (isBpffs(path)) return false;
  mount("bpf", path, "bpf", 0, 0);
  return true;
}

/** Unmounts the file system mounted at `path`. */
export function unmount(path: string): void {
  umount2(path, 0);
}
