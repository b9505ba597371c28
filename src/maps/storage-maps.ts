/**
 * Storage maps, whose elements belong to a kernel object: cgroup storage (keyed by cgroup and attach
 * type, created when a program is attached to a cgroup) and the local storages (`sk_storage`,
 * `inode_storage`, `task_storage`, `cgrp_storage`), keyed from userspace by an fd of the socket, file,
 * pidfd or cgroup that owns the value.
 */

import type { Codec } from "../codec/index.js";
import { ATTACH_TYPES, attachTypeName, type AttachTypeName } from "../uapi.js";
import { BpfMap, updateFlags, type UpdateOptions } from "./bpf-map.js";
import { fdOf, type FdSource } from "./fd-maps.js";

/** `struct bpf_cgroup_storage_key`: the cgroup (its inode number) and the attach type. */
export interface CgroupStorageKey {
  cgroupInodeId: bigint;
  attachType: AttachTypeName;
}

/** The 16-byte `struct bpf_cgroup_storage_key { u64 cgroup_inode_id; u32 attach_type; }`. */
export const cgroupStorageKeyCodec: Codec<CgroupStorageKey> = {
  size: 16,
  description: "struct bpf_cgroup_storage_key",
  decode(view, offset) {
    const type = view.getUint32(offset + 8, true);
    const attachType = attachTypeName(type);
    if (attachType === undefined) throw new TypeError(`Cannot decode cgroup storage key: unknown attach type ${type}`);
    return { cgroupInodeId: view.getBigUint64(offset, true), attachType };
  },
  encode(key, view, offset) {
    if (typeof key !== "object" || key === null || typeof key.cgroupInodeId !== "bigint") {
      throw new TypeError("Cannot encode a cgroup storage key: expected { cgroupInodeId: bigint, attachType }");
    }
    const type = ATTACH_TYPES[key.attachType];
    if (type === undefined) throw new TypeError(`Cannot encode a cgroup storage key: unknown attach type "${key.attachType}"`);
    view.setBigUint64(offset, key.cgroupInodeId, true);
    view.setUint32(offset + 8, type, true);
    view.setUint32(offset + 12, 0, true);
  },
};

/** `cgroup_storage` and `percpu_cgroup_storage`: one value per (cgroup, attach type) a program is attached to. */
export class CgroupStorageMap<V = unknown> extends BpfMap<CgroupStorageKey, V> {
  get(key: CgroupStorageKey): V | undefined {
    return this.elementLookup(key);
  }

  /** Updates an existing element (elements are created by attaching programs, not by userspace). */
  set(key: CgroupStorageKey, value: V, options?: UpdateOptions): this {
    this.elementUpdate(key, value, updateFlags(options));
    return this;
  }

  keys(): IterableIterator<CgroupStorageKey> {
    return this.elementKeys();
  }
}

/** The 4-byte key of local storages: the owner's fd. */
export const ownerFdCodec: Codec<FdSource> = {
  size: 4,
  description: "owner fd",
  decode: (view, offset) => view.getInt32(offset, true),
  encode: (owner, view, offset) => view.setInt32(offset, fdOf(owner), true),
};

/** `sk_storage`, `inode_storage`, `task_storage`, `cgrp_storage`: a value attached to a socket, file, task or cgroup. */
export class LocalStorageMap<V = unknown> extends BpfMap<FdSource, V> {
  /** The value attached to the owner of `owner` (a socket, file, pidfd or cgroup fd), or undefined. */
  get(owner: FdSource): V | undefined {
    return this.elementLookup(owner);
  }

  /** Attaches `value` to the owner of `owner`. */
  set(owner: FdSource, value: V, options?: UpdateOptions): this {
    this.elementUpdate(owner, value, updateFlags(options));
    return this;
  }

  /** Removes the value attached to the owner of `owner`; false when there was none. */
  delete(owner: FdSource): boolean {
    return this.elementDelete(owner);
  }
}
