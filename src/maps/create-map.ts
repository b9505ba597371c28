/**
 * Creating a live map from a `MapSpec`: the kernel's sizing rules (per-CPU perf arrays, page-multiple
 * ring buffers), inner-map templates for map-in-maps, BTF key/value types where the kernel accepts them
 * (retried without when it refuses, as libbpf does), and libbpf's `LIBBPF_PIN_BY_NAME`: reuse a
 * compatible map already pinned under the pin root, refuse an incompatible one, else create and pin.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Btf } from "../btf/index.js";
import { WaggleError, isWaggleError } from "../errors.js";
import { MapSpec, type MapSpecInit } from "../object/index.js";
import {
  CreateBatch,
  ensureBpffs,
  mapCreate,
  mapInfo,
  objGet,
  objPin,
  pageSize,
  parallelCreateAvailable,
  possibleCpus,
  submitMapCreate,
  type FD,
  type MapCreateParams,
} from "../sys/index.js";
import { MAP_TYPES, mapTypeName, type MapTypeName } from "../uapi.js";
import type { BpfMap } from "./bpf-map.js";
import type { CodecOptions } from "./map-codecs.js";
import { wrapMap, type MapClass } from "./wrap-map.js";

/** Map types the kernel refuses BTF key/value ids for (libbpf passes none for them either). */
const NO_BTF_KV: ReadonlySet<MapTypeName> = new Set([
  "perf_event_array", "cgroup_array", "stack_trace", "array_of_maps", "hash_of_maps", "devmap", "devmap_hash",
  "cpumap", "xskmap", "sockmap", "sockhash", "queue", "stack", "arena",
]);

/** Where libbpf pins maps marked `LIBBPF_PIN_BY_NAME` by default. */
export const DEFAULT_PIN_ROOT = "/sys/fs/bpf";

/** What creating a map may use. */
export interface CreateMapOptions {
  /** The loaded object BTF, for key/value types. */
  btfFd?: FD | undefined;
  /** The object's BTF model, for typed codecs. */
  btf?: Btf | undefined;
  /** The folder for `LIBBPF_PIN_BY_NAME` maps (default /sys/fs/bpf). */
  pinRoot?: string | undefined;
  /** Codec choices for this map. */
  codecs?: CodecOptions | undefined;
}

/** A created (or reused pinned) map. */
export interface CreatedMap {
  readonly map: BpfMap<any, any>;
  /** True when an existing pinned map was reused: its contents must not be initialised again. */
  readonly reused: boolean;
}

/** Creates (or reuses) the map a spec describes. */
export function createMapFromSpec(spec: MapSpec, options: CreateMapOptions = {}): CreatedMap {
  if (spec.pinning === "by_name") {
    const path = join(options.pinRoot ?? DEFAULT_PIN_ROOT, spec.name);
    if (existsSync(path)) return { map: reusePinned(spec, path, options), reused: true };
    const created = createFresh(spec, options);
    try {
      ensureBpffs(options.pinRoot ?? DEFAULT_PIN_ROOT);
      objPin(created.fd.value, path);
    } catch (error) {
      created.close();
      throw error;
    }
    return { map: created, reused: false };
  }
  return { map: createFresh(spec, options), reused: false };
}

/**
 * Creates the maps of several specs, in parallel on the syscall pool when `parallel` is set and there
 * is a spare CPU (create-batch.ts): a 4096-entry LRU hash alone takes the kernel ~0.2 ms to allocate.
 * Maps that are pinned by name or hold inner maps are created one at a time, after the others, as is any
 * map whose parallel attempt failed (so the error, and the retry without BTF, are as usual). Returns
 * the maps in the specs' order; on failure closes what it created.
 */
export function createMapsFromSpecs(specs: readonly MapSpec[], options: CreateMapOptions & { parallel?: boolean }): CreatedMap[] {
  const plain = specs.filter((spec) => spec.pinning !== "by_name" && !isMapInMap(spec));
  const fds = new Map<MapSpec, FD | undefined>();
  const created: CreatedMap[] = [];
  try {
    if (options.parallel && plain.length > 1 && parallelCreateAvailable()) {
      const batch = new CreateBatch();
      try {
        for (const spec of plain) submitMapCreate(batch, createParams(spec, options, true));
      } finally {
        batch.finish().forEach((fd, i) => fds.set(plain[i]!, fd));
      }
    }
    for (const spec of specs) {
      const fd = fds.get(spec);
      fds.delete(spec);
      created.push(fd ? { map: wrapCreated(fd, spec, options), reused: false } : createMapFromSpec(spec, options));
    }
    return created;
  } catch (error) {
    for (const fd of fds.values()) fd?.close();
    for (const { map } of created) map.close();
    throw error;
  }
}

function isMapInMap(spec: MapSpec): boolean {
  return spec.type === "array_of_maps" || spec.type === "hash_of_maps";
}

function createFresh(spec: MapSpec, options: CreateMapOptions): BpfMap<any, any> {
  let template: BpfMap<any, any> | undefined;
  if (isMapInMap(spec)) {
    if (!spec.innerMap) throw new WaggleError(`Cannot create map "${spec.name}": a map-in-map needs an inner map definition (__array(values, …))`);
    template = createFresh(spec.innerMap, options);
  }
  try {
    const params = createParams(spec, options, true, template);
    let fd: FD;
    try {
      fd = mapCreate(params);
    } catch (error) {
      if (params.btfFd === undefined || !isWaggleError(error, "SyscallError")) throw error;
      fd = mapCreate(createParams(spec, options, false, template)); // as libbpf: retry without BTF types, which older kernels may not accept
    }
    return wrapCreated(fd, spec, options);
  } finally {
    template?.close();
  }
}

/** MAP_CREATE's parameters for a spec; `withBtf` passes its BTF key/value types where they apply. */
function createParams(spec: MapSpec, options: CreateMapOptions, withBtf: boolean, template?: BpfMap<any, any>): MapCreateParams {
  const btfFd = options.btfFd;
  const params = {
    mapType: MAP_TYPES[spec.type],
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: effectiveMaxEntries(spec),
    flags: spec.flags,
    name: kernelObjectName(spec.kernelName),
    ...(spec.numaNode !== 0 && { numaNode: spec.numaNode }),
    ...(spec.mapExtra !== 0n && { mapExtra: spec.mapExtra }),
    ...(template && { innerMapFd: template.fd.value }),
  };
  if (!withBtf || btfFd === undefined || NO_BTF_KV.has(spec.type) || (spec.keyType === 0 && spec.valueType === 0)) return params;
  return { ...params, btfFd: btfFd.value, btfKeyTypeId: spec.keyType, btfValueTypeId: spec.valueType };
}

/** The typed map object for a created map's fd, which it takes over (closed when wrapping fails). */
function wrapCreated(fd: FD, spec: MapSpec, options: CreateMapOptions): BpfMap<any, any> {
  try {
    return wrapMap(
      fd,
      { name: spec.name, type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: effectiveMaxEntries(spec), flags: spec.flags },
      { ...options.codecs, spec, btf: options.btf, keyType: spec.keyType, valueType: spec.valueType },
    );
  } catch (error) {
    fd.close(); // a codec that does not fit the map: the map must not outlive the error
    throw error;
  }
}

/** Opens a pinned map for a spec, after checking that it is the map the spec describes. */
function reusePinned(spec: MapSpec, path: string, options: CreateMapOptions): BpfMap<any, any> {
  const fd = objGet(path);
  try {
    const info = mapInfo(fd.value);
    const expected = {
      type: MAP_TYPES[spec.type],
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: effectiveMaxEntries(spec),
      mapFlags: spec.flags,
      mapExtra: spec.mapExtra,
    } as const;
    for (const field of Object.keys(expected) as (keyof typeof expected)[]) {
      if (info[field] !== expected[field]) {
        const show = (v: unknown) => (field === "type" ? mapTypeName(Number(v)) ?? String(v) : String(v));
        throw new WaggleError(
          `Cannot reuse the map pinned at ${path} for map "${spec.name}": its ${field} is ${show(info[field])}, the object wants ${show(expected[field])}`,
        );
      }
    }
  } catch (error) {
    fd.close();
    throw error;
  }
  return wrapCreated(fd, spec, options); // its max_entries were just checked to be the spec's
}

/** max_entries the kernel will accept: per-CPU perf arrays default to every CPU; rings are page-sized powers of 2. */
function effectiveMaxEntries(spec: MapSpec): number {
  if (spec.type === "perf_event_array" && spec.maxEntries === 0) return possibleCpus();
  if (spec.type === "ringbuf" || spec.type === "user_ringbuf") {
    let size = pageSize();
    while (size < spec.maxEntries) size *= 2;
    return size;
  }
  return spec.maxEntries;
}

/** A name the kernel accepts for a map or program: 15 characters of `[A-Za-z0-9_.]`, others as `_`. */
export function kernelObjectName(name: string): string {
  return name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, "_");
}

/** A map to create on its own (not from an object): the fields of a `MapSpec`, most optional. */
export type MapDefinition = Partial<Omit<MapSpecInit, "type" | "keySize" | "valueSize" | "maxEntries">> &
  Pick<MapSpecInit, "type" | "keySize" | "valueSize" | "maxEntries">;

/**
 * Creates a map on its own, as an instance of `kind` (the class serving its type), with the codecs
 * given (raw bytes otherwise).
 *
 * @throws TypeError when `kind` does not serve that map type; SyscallError when the kernel refuses.
 * @example
 * using counts = createMap(HashMap<number, bigint>, { type: "hash", keySize: 4, valueSize: 8, maxEntries: 1024 }, { key: "u32", value: "u64" });
 * counts.set(1, 10n);
 */
export function createMap<T extends BpfMap<any, any>>(kind: MapClass<T>, definition: MapDefinition, codecs?: CodecOptions): T {
  const spec = new MapSpec({ name: definition.name ?? definition.type, kind: "declared", section: "", ...definition });
  const { map } = createMapFromSpec(spec, { codecs });
  if (!(map instanceof kind)) {
    map.close();
    throw new TypeError(`Cannot create a ${definition.type} map as a ${kind.name}: that type is served by ${map.constructor.name}`);
  }
  return map;
}
