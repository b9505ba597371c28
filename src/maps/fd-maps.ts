/**
 * Maps whose values are kernel objects given by fd: prog arrays (tail calls), map-in-maps, socket
 * maps, XSK maps, cgroup arrays and perf event arrays. Userspace writes an fd; reading back gives the
 * object's id (programs, maps) or cookie (sockets), as the kernel reports them.
 */

import type { Socket as UdpSocket } from "node:dgram";
import type { Server, Socket } from "node:net";
import type { FD } from "../sys/index.js";
import { BpfMap } from "./bpf-map.js";

/**
 * Something that stands for an fd: a number, a Waggle object with an `fd`, or a Node socket (TCP, UDP,
 * or a listening server; Node's typings do not declare the `_handle` whose fd is used, so they are named).
 */
export type FdSource = number | { readonly fd: FD } | Socket | Server | UdpSocket | { readonly _handle?: { readonly fd?: number } | null };

/** The fd number behind `source`. */
export function fdOf(source: FdSource): number {
  if (typeof source === "number") {
    if (!Number.isInteger(source) || source < 0 || source > 0x7fffffff) throw new RangeError(`Cannot use ${source} as an fd`);
    return source;
  }
  if (typeof source !== "object" || source === null) {
    throw new TypeError(`Cannot find an fd in ${String(source)}: give a number, a Waggle map or program, or a connected Node socket`);
  }
  if ("fd" in source && typeof source.fd === "object") return source.fd.value;
  const handleFd = (source as { _handle?: { fd?: number } | null })._handle?.fd;
  if (typeof handleFd === "number" && handleFd >= 0) return handleFd;
  throw new TypeError("Cannot find an fd: give a number, a Waggle map or program, or a connected Node socket");
}

/** Maps keyed by index or key whose values are fds: set, delete, keys, read back as ids or cookies. */
abstract class FdValueMap<K, Out> extends BpfMap<K, Out> {
  /** Stores the kernel object behind `value` at `key`. */
  set(key: K, value: FdSource): this {
    this.fdUpdate(key, fdOf(value));
    return this;
  }

  /** Removes `key`; false when it was empty. */
  delete(key: K): boolean {
    return this.elementDelete(key);
  }

  /** The keys that hold an object. */
  keys(): IterableIterator<K> {
    return this.elementKeys();
  }
}

/** A `prog_array`: programs for `bpf_tail_call()`, by index. Reading gives program ids. */
export class ProgramArray extends FdValueMap<number, number> {
  /** The id of the program at `index`, or undefined when empty. */
  get(index: number): number | undefined {
    return this.elementLookup(index);
  }
}

/** `array_of_maps` and `hash_of_maps`: inner maps by key. Reading gives inner map ids. */
export class MapOfMaps<K = number> extends FdValueMap<K, number> {
  /** The id of the inner map at `key`, or undefined when empty (open it with `openMapById`). */
  get(key: K): number | undefined {
    return this.elementLookup(key);
  }

}

/** `sockmap`, `sockhash` and `reuseport_sockarray`: sockets by key. Reading gives socket cookies. */
export class SocketMap<K = number> extends FdValueMap<K, bigint | number> {
  /**
   * The cookie of the socket at `key`, or undefined. The kernel reports cookies only for maps whose
   * values are 8 bytes; with 4-byte values this fails with ENOSPC.
   */
  get(key: K): bigint | number | undefined {
    return this.elementLookup(key);
  }
}

/**
 * `xskmap` (AF_XDP sockets), `cgroup_array` (cgroups by fd) and `perf_event_array` (perf events by CPU).
 * The kernel does not say which of their slots hold an fd, so `keys()` lists every index.
 */
export class FdArray extends FdValueMap<number, number> {}
