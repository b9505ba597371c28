/**
 * `BpfMap`: a live map the process holds an fd to, with byte-level element operations.
 *
 * This is the untyped base of every map; typed per-type classes build on it. Keys and values are
 * `Uint8Array`s of exactly the map's key and value sizes (per-CPU values: value size rounded up to 8,
 * times the number of possible CPUs), checked before each call so a wrong size is a RangeError and never
 * a kernel out-of-bounds read.
 */

import { ClosedError } from "../errors.js";
import type { MapSpec } from "../object/index.js";
import { FD, mapDeleteElem, mapFreeze, mapGetNextKey, mapInfo, mapLookupElem, mapUpdateElem, possibleCpus, type MapInfo } from "../sys/index.js";
import { mapTypeName, UpdateFlags, type MapTypeName } from "../uapi.js";

/** Flags for {@link BpfMap.update}: create or replace (`any`), only create (`noexist`), only replace (`exist`). */
export type UpdateMode = "any" | "noexist" | "exist";

const UPDATE_MODES: Readonly<Record<UpdateMode, number>> = {
  any: UpdateFlags.ANY,
  noexist: UpdateFlags.NOEXIST,
  exist: UpdateFlags.EXIST,
};

/** Map types whose values are one slot per possible CPU. */
const PER_CPU_TYPES: ReadonlySet<MapTypeName> = new Set(["percpu_hash", "percpu_array", "lru_percpu_hash", "percpu_cgroup_storage"]);

/** What a BpfMap knows about itself. */
export interface MapProperties {
  readonly name: string;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
}

/** A live eBPF map. */
export class BpfMap implements Disposable, MapProperties {
  readonly name: string;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** The blueprint it was created from, when it came from an object. */
  readonly spec: MapSpec | undefined;
  readonly #fd: FD;

  constructor(fd: FD, properties: MapProperties, spec?: MapSpec) {
    this.#fd = fd;
    this.name = properties.name;
    this.type = properties.type;
    this.keySize = properties.keySize;
    this.valueSize = properties.valueSize;
    this.maxEntries = properties.maxEntries;
    this.flags = properties.flags;
    this.spec = spec;
  }

  /** Wraps an fd the caller owns (it is taken over), reading the map's properties from the kernel. */
  static fromFD(fd: FD): BpfMap {
    const info = mapInfo(fd.value);
    const type = mapTypeName(info.type);
    if (type === undefined) {
      fd.close();
      throw new TypeError(`Cannot wrap map fd: unknown map type ${info.type}`);
    }
    return new BpfMap(fd, { name: info.name, type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.mapFlags });
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

  /** Bytes of one value as the syscalls see it: per-CPU maps hold one 8-byte-aligned slot per possible CPU. */
  get valueBufferSize(): number {
    return PER_CPU_TYPES.has(this.type) ? Math.ceil(this.valueSize / 8) * 8 * possibleCpus() : this.valueSize;
  }

  /** The value stored under `key`, or undefined when there is none. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.#checkKey(key);
    const value = new Uint8Array(this.valueBufferSize);
    return mapLookupElem(this.fd.value, key, value) ? value : undefined;
  }

  /** Stores `value` under `key`. */
  update(key: Uint8Array, value: Uint8Array, mode: UpdateMode = "any"): void {
    this.#checkKey(key);
    if (value.length !== this.valueBufferSize) {
      throw new RangeError(`Cannot update map "${this.name}": value is ${value.length} bytes, the map's values are ${this.valueBufferSize}`);
    }
    mapUpdateElem(this.fd.value, key, value, UPDATE_MODES[mode]);
  }

  /** Deletes `key`; false when it was not there. */
  delete(key: Uint8Array): boolean {
    this.#checkKey(key);
    return mapDeleteElem(this.fd.value, key);
  }

  /** Iterates over the keys (a snapshot walk with BPF_MAP_GET_NEXT_KEY; concurrent changes may show). */
  *keys(): IterableIterator<Uint8Array> {
    let key: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      if (!mapGetNextKey(this.fd.value, key, next)) return;
      yield next;
      key = next;
    }
  }

  /** Makes the map read-only for userspace (BPF_MAP_FREEZE). */
  freeze(): void {
    mapFreeze(this.fd.value);
  }

  /** What the kernel reports about the map (id, name, flags, BTF ids…). */
  info(): MapInfo {
    return mapInfo(this.fd.value);
  }

  /** Closes the fd; the kernel frees the map once nothing else (programs, pins) holds it. Idempotent. */
  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #checkKey(key: Uint8Array): void {
    if (key.length !== this.keySize) {
      throw new RangeError(`Cannot use a ${key.length}-byte key with map "${this.name}": its keys are ${this.keySize} bytes`);
    }
  }
}
