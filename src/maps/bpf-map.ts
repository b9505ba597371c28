/**
 * `BpfMap`: a live map the process holds an fd to — the base of the typed map classes (HashMap,
 * ArrayMap, QueueMap…; see map-types.ts for which class serves which map type).
 *
 * Element operations run on a zero-copy path: keys and values are encoded by their codecs straight into
 * the syscall arena, and values decoded straight out of it, so a typed `get()` costs one bpf() call and
 * no allocation beyond its result. The protected `element*` helpers are that path; subclasses expose the
 * operations their map type supports. Every map also offers byte-level access (`lookupBytes` …) for
 * debugging and for types Waggle does not model.
 */

import { ClosedError, isWaggleError } from "../errors.js";
import type { MapSpec } from "../object/index.js";
import {
  BpfCmd,
  bpfError,
  elementCommand,
  Errno,
  mapFreeze,
  mapInfo,
  objPin,
  possibleCpus,
  prepareElement,
  scratch,
  type FD,
  type MapInfo,
} from "../sys/index.js";
import { UpdateFlags, type MapTypeName } from "../uapi.js";
import type { Codec } from "./map-codecs.js";

/** How an update treats an existing element: create or replace (`any`), only create, only replace. */
export type UpdateMode = "any" | "noexist" | "exist";

/** Options of element updates. */
export interface UpdateOptions {
  /** `any` (default), `noexist` (fail with EEXIST if present), `exist` (fail with ENOENT if absent). */
  mode?: UpdateMode;
  /** Take the value's `struct bpf_spin_lock` while copying (BPF_F_LOCK). */
  lock?: boolean;
}

/** The flags word of an update. */
export function updateFlags(options: UpdateOptions | undefined): number {
  if (!options) return UpdateFlags.ANY;
  const mode = options.mode ?? "any";
  const base = mode === "any" ? UpdateFlags.ANY : mode === "noexist" ? UpdateFlags.NOEXIST : UpdateFlags.EXIST;
  return base | (options.lock ? UpdateFlags.LOCK : 0);
}

/** Map types whose values hold one slot per possible CPU. */
export const PER_CPU_TYPES: ReadonlySet<MapTypeName> = new Set(["percpu_hash", "percpu_array", "lru_percpu_hash", "percpu_cgroup_storage"]);

/**
 * Map types whose BPF_MAP_GET_NEXT_KEY yields every index below max_entries, whether the slot holds
 * an element or not.
 */
const EVERY_INDEX_TYPES: ReadonlySet<MapTypeName> = new Set([
  "prog_array", "array_of_maps", "perf_event_array", "cgroup_array", "xskmap", "sockmap", "reuseport_sockarray", "devmap",
]);

/** What a BpfMap knows about itself. */
export interface MapProperties {
  readonly name: string;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

/** What the typed classes are built from. */
export interface MapInit<K, V> {
  readonly fd: FD;
  readonly properties: MapProperties;
  /** Encodes and decodes one key. */
  readonly key: Codec<K>;
  /** Encodes and decodes what the element commands read and write (for per-CPU maps, every CPU's value). */
  readonly value: Codec<V>;
  readonly spec?: MapSpec | undefined;
}

/** A live eBPF map. */
export class BpfMap<K = Uint8Array, V = Uint8Array> implements Disposable, MapProperties {
  readonly name: string;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** The blueprint it was created from, when it came from an object. */
  readonly spec: MapSpec | undefined;
  /** The codec of keys. */
  readonly keyCodec: Codec<K>;
  /** The codec of values as the element commands see them (per-CPU maps: the whole per-CPU block). */
  readonly valueCodec: Codec<V>;
  /** Bytes of one value as the syscalls see it: per-CPU maps hold one 8-byte-aligned slot per possible CPU. */
  readonly valueBufferSize: number;
  readonly #fd: FD;
  readonly #onClose: (() => void)[] = [];

  constructor(init: MapInit<K, V>) {
    const p = init.properties;
    this.#fd = init.fd;
    this.name = p.name;
    this.type = p.type;
    this.keySize = p.keySize;
    this.valueSize = p.valueSize;
    this.maxEntries = p.maxEntries;
    this.flags = p.flags;
    this.spec = init.spec;
    this.keyCodec = init.key;
    this.valueCodec = init.value;
    this.valueBufferSize = PER_CPU_TYPES.has(p.type) ? Math.ceil(p.valueSize / 8) * 8 * possibleCpus() : p.valueSize;
  }

  /** The owned fd (throws ClosedError after close()). */
  get fd(): FD {
    if (this.#fd.closed) throw new ClosedError(`map "${this.name}"`);
    return this.#fd;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#fd.closed;
  }


  /** What the kernel reports about the map (id, name, flags, BTF ids…). */
  info(): MapInfo {
    return mapInfo(this.fd.value);
  }

  /** The map's id in the kernel (stable while the map exists; see `BpfMap.fromId`). */
  get id(): number {
    return this.info().id;
  }

  /** Pins the map in a BPF filesystem, so it outlives this process (see `openPinnedMap`). */
  pin(path: string): void {
    objPin(this.fd.value, path);
  }

  /** Makes the map read-only for userspace (BPF_MAP_FREEZE); programs can still write it. */
  freeze(): void {
    mapFreeze(this.fd.value);
  }

  /** Closes the fd; the kernel frees the map once nothing else (programs, pins) holds it. Idempotent. */
  close(): void {
    if (this.#fd.closed) return;
    for (const release of this.#onClose.splice(0)) release();
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal Runs `release` when the map closes (mappings of the map's memory, for instance). */
  onClose(release: () => void): void {
    this.#onClose.push(release);
  }

  // ---- bytes -------------------------------------------------------------------------------------

  /** The value bytes stored under the key bytes `key`, or undefined. */
  lookupBytes(key: Uint8Array): Uint8Array | undefined {
    this.#checkKeyBytes(key);
    const size = this.valueBufferSize;
    const at = prepareElement(this.fd.value, key.length, size, 0);
    scratch.bytes.set(key, at - key.length);
    const r = elementCommand(BpfCmd.MAP_LOOKUP_ELEM);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) throw bpfError(BpfCmd.MAP_LOOKUP_ELEM, -r, this.#subject());
    return scratch.bytes.slice(at, at + size);
  }

  /** Stores the value bytes `value` under the key bytes `key`. */
  updateBytes(key: Uint8Array, value: Uint8Array, options?: UpdateOptions): void {
    this.#checkKeyBytes(key);
    if (value.length !== this.valueBufferSize) {
      throw new RangeError(`Cannot update map "${this.name}": value is ${value.length} bytes, its values are ${this.valueBufferSize}`);
    }
    const at = prepareElement(this.fd.value, key.length, value.length, updateFlags(options));
    scratch.bytes.set(key, at - key.length);
    scratch.bytes.set(value, at);
    const r = elementCommand(BpfCmd.MAP_UPDATE_ELEM);
    if (r < 0) throw bpfError(BpfCmd.MAP_UPDATE_ELEM, -r, this.#subject());
  }

  /** Deletes the key bytes `key`; false when it was not there. */
  deleteBytes(key: Uint8Array): boolean {
    this.#checkKeyBytes(key);
    const at = prepareElement(this.fd.value, key.length, 0, 0);
    scratch.bytes.set(key, at - key.length);
    return this.#deleted(elementCommand(BpfCmd.MAP_DELETE_ELEM));
  }

  /** Every key, as bytes (a BPF_MAP_GET_NEXT_KEY walk). */
  *keyBytes(): IterableIterator<Uint8Array> {
    for (let key = this.nextKeyBytes(null); key !== undefined; key = this.nextKeyBytes(key)) yield key;
  }

  /** @internal The key after `key` (the first when null), as fresh bytes, or undefined at the end. */
  protected nextKeyBytes(key: Uint8Array | null): Uint8Array | undefined {
    const size = this.keySize;
    const at = prepareElement(this.fd.value, key === null ? 0 : size, size, 0);
    if (key !== null) scratch.bytes.set(key, at - size);
    const r = elementCommand(BpfCmd.MAP_GET_NEXT_KEY);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) throw bpfError(BpfCmd.MAP_GET_NEXT_KEY, -r, this.#subject());
    return scratch.bytes.slice(at, at + size);
  }

  // ---- typed element path (for subclasses) ---------------------------------------------------------

  /** The decoded value under `key` (null: no key, for queues and stacks), or undefined. */
  protected elementLookup(key: K | null, cmd: number = BpfCmd.MAP_LOOKUP_ELEM, flags = 0): V | undefined {
    const keySize = key === null ? 0 : this.keySize;
    const at = prepareElement(this.fd.value, keySize, this.valueBufferSize, flags);
    const view = scratch.view;
    if (key !== null) this.keyCodec.encode(key, view, at - keySize);
    const r = elementCommand(cmd);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) throw bpfError(cmd, -r, this.#subject());
    return this.valueCodec.decode(view, at);
  }

  /** The decoded value under raw key bytes (used while walking keys), or undefined. */
  protected elementLookupByBytes(key: Uint8Array): V | undefined {
    const at = prepareElement(this.fd.value, key.length, this.valueBufferSize, 0);
    scratch.bytes.set(key, at - key.length);
    const r = elementCommand(BpfCmd.MAP_LOOKUP_ELEM);
    if (r === -Errno.ENOENT) return undefined;
    if (r < 0) throw bpfError(BpfCmd.MAP_LOOKUP_ELEM, -r, this.#subject());
    return this.valueCodec.decode(scratch.view, at);
  }

  /** Stores `value` under `key` (null: push onto a queue or stack). */
  protected elementUpdate(key: K | null, value: V, flags: number): void {
    const keySize = key === null ? 0 : this.keySize;
    const at = prepareElement(this.fd.value, keySize, this.valueBufferSize, flags);
    const view = scratch.view;
    if (key !== null) this.keyCodec.encode(key, view, at - keySize);
    this.valueCodec.encode(value, view, at);
    const r = elementCommand(BpfCmd.MAP_UPDATE_ELEM);
    if (r < 0) throw bpfError(BpfCmd.MAP_UPDATE_ELEM, -r, this.#subject());
  }

  /** Deletes `key`; false when it was not there. */
  protected elementDelete(key: K): boolean {
    const at = prepareElement(this.fd.value, this.keySize, 0, 0);
    this.keyCodec.encode(key, scratch.view, at - this.keySize);
    return this.#deleted(elementCommand(BpfCmd.MAP_DELETE_ELEM));
  }

  /** Stores a value given as an fd (prog arrays, sockmaps, map-in-maps…) under `key`. */
  protected fdUpdate(key: K, fd: number, flags = 0): void {
    // The kernel copies the whole value: a u32 fd, or a u64 one for socket maps with 8-byte values.
    const size = this.valueSize;
    const at = prepareElement(this.fd.value, this.keySize, size, flags);
    const view = scratch.view;
    this.keyCodec.encode(key, view, at - this.keySize);
    if (size === 8) view.setBigUint64(at, BigInt(fd), true);
    else view.setUint32(at, fd, true);
    const r = elementCommand(BpfCmd.MAP_UPDATE_ELEM);
    if (r < 0) throw bpfError(BpfCmd.MAP_UPDATE_ELEM, -r, this.#subject());
  }

  /**
   * Every key, decoded (a BPF_MAP_GET_NEXT_KEY walk that continues from the raw bytes). The kernel walks
   * every index of fd arrays and devmaps, empty or not: their empty slots (ENOENT on lookup) are skipped.
   */
  protected *elementKeys(): IterableIterator<K> {
    const everyIndex = EVERY_INDEX_TYPES.has(this.type);
    for (let key = this.nextKeyBytes(null); key !== undefined; key = this.nextKeyBytes(key)) {
      if (everyIndex && !this.#holds(key)) continue;
      yield this.keyCodec.decode(new DataView(key.buffer, key.byteOffset, key.byteLength), 0);
    }
  }

  /** Whether slot `key` holds an element: true unless the lookup says ENOENT (some types cannot tell). */
  #holds(key: Uint8Array): boolean {
    const at = prepareElement(this.fd.value, key.length, this.valueBufferSize, 0);
    scratch.bytes.set(key, at - key.length);
    return elementCommand(BpfCmd.MAP_LOOKUP_ELEM) !== -Errno.ENOENT;
  }

  #deleted(r: number): boolean {
    if (r === -Errno.ENOENT) return false;
    if (r < 0) throw bpfError(BpfCmd.MAP_DELETE_ELEM, -r, this.#subject());
    return true;
  }

  #checkKeyBytes(key: Uint8Array): void {
    if (key.length !== this.keySize) {
      throw new RangeError(`Cannot use a ${key.length}-byte key with map "${this.name}": its keys are ${this.keySize} bytes`);
    }
  }

  #subject(): string {
    return `${this.type} map "${this.name}"`;
  }
}

/** Whether an error is the kernel saying a command does not apply to this map type (errno 95, EOPNOTSUPP, is named ENOTSUP). */
export function isUnsupportedCommand(error: unknown): boolean {
  return (
    isWaggleError(error, "SyscallError") && (error.code === "EINVAL" || error.code === "ENOTSUPP" || error.code === "ENOTSUP")
  );
}
