/**
 * Map commands: BPF_MAP_CREATE, the element commands on raw bytes, their batch forms, and MAP_FREEZE.
 *
 * The element commands are hot paths (a syscall costs ~1 µs here, and the FFI must not add much): the
 * attr word indices come from the layout table once, at load; each call copies the key into the scratch
 * arena, writes the 32-byte attr in place, calls bpf() through an all-`long` signature and copies the
 * value out — no allocation, no closure, no exception for the expected ENOENT.
 *
 * Buffer sizes are the caller's contract: `key` and `value` must be exactly the map's key and value
 * sizes (for per-CPU maps, `round_up(value_size, 8) × possibleCpus()`). The kernel trusts them; Waggle
 * keeps that memory-safe by placing the output buffer flush against the arena's guard page, so a value
 * buffer that is too short fails with EFAULT rather than overwriting memory.
 */

import { writeFields } from "./attr-layout.js";
import { mapBatchAttr, mapCreateAttr, mapElemAttr } from "./attrs.js";
import { beginAttr, bpfCall, bpfCallFd, bpfError, bpfRaw, Errno } from "./bpf-call.js";
import { mapCreateCapabilities } from "./capabilities.js";
import { BpfCmd, BpfMapFlags, BpfMapType } from "./constants.js";
import type { CreateBatch } from "./create-batch.js";
import type { FD } from "./fd.js";
import { align8, ATTR_REGION_SIZE, scratch } from "./native-memory.js";

/** Parameters of BPF_MAP_CREATE; see `union bpf_attr` for each field's meaning. */
export interface MapCreateParams {
  readonly mapType: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** `BpfMapFlags` bits. NUMA_NODE, VTYPE_BTF_OBJ_FD and TOKEN_FD are added when their field is given. */
  readonly flags?: number;
  /** Up to 15 characters of `[A-Za-z0-9_.]`; longer names are truncated. */
  readonly name?: string;
  /** A map fd that serves as the template for a map-in-map's inner maps. */
  readonly innerMapFd?: number;
  readonly numaNode?: number;
  /** Offload the map to this network device. */
  readonly ifindex?: number;
  readonly btfFd?: number;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  /** struct_ops maps: the vmlinux BTF type id of the value. */
  readonly btfVmlinuxValueTypeId?: number;
  /** Type-specific extra (bloom filter hash count, arena address hint). */
  readonly mapExtra?: bigint;
  /** struct_ops maps: the BTF object (module BTF) holding the value type. */
  readonly valueTypeBtfObjFd?: number;
  /** A BPF token granting the right to create this map. */
  readonly mapTokenFd?: number;
}

/** Map type names by number, for messages (`hash map`). */
const MAP_TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(BpfMapType).map(([name, value]) => [value, name.toLowerCase()]),
);

/** Creates a map; returns its fd. */
export function mapCreate(p: MapCreateParams): FD {
  writeMapCreateAttr(beginAttr(mapCreateAttr), p);
  return bpfCallFd(BpfCmd.MAP_CREATE, mapCreateAttr, mapWhat(p), mapCreateCapabilities(p.mapType));
}

/**
 * Submits an attempt to create a map to a batch (create-batch.ts). Where it fails, create the map with
 * {@link mapCreate} for the typed error.
 */
export function submitMapCreate(batch: CreateBatch, p: MapCreateParams): void {
  batch.add(BpfCmd.MAP_CREATE, mapCreateAttr.size, [], mapWhat(p), (attr) => writeMapCreateAttr(attr, p));
}

/** How errors and fds name the map `p` creates. */
function mapWhat(p: MapCreateParams): string {
  return p.name ? `map "${p.name}"` : `${MAP_TYPE_NAMES.get(p.mapType) ?? `type ${p.mapType}`} map`;
}

function writeMapCreateAttr(attr: DataView, p: MapCreateParams): void {
  let flags = p.flags ?? 0;
  if (p.numaNode !== undefined) flags |= BpfMapFlags.NUMA_NODE;
  if (p.valueTypeBtfObjFd !== undefined) flags |= BpfMapFlags.VTYPE_BTF_OBJ_FD;
  if (p.mapTokenFd !== undefined) flags |= BpfMapFlags.TOKEN_FD;
  writeFields(attr, 0, mapCreateAttr, {
    mapType: p.mapType,
    keySize: p.keySize,
    valueSize: p.valueSize,
    maxEntries: p.maxEntries,
    mapFlags: flags >>> 0,
    innerMapFd: p.innerMapFd,
    numaNode: p.numaNode,
    mapName: p.name,
    mapIfindex: p.ifindex,
    btfFd: p.btfFd,
    btfKeyTypeId: p.btfKeyTypeId,
    btfValueTypeId: p.btfValueTypeId,
    btfVmlinuxValueTypeId: p.btfVmlinuxValueTypeId,
    mapExtra: p.mapExtra,
    valueTypeBtfObjFd: p.valueTypeBtfObjFd,
    mapTokenFd: p.mapTokenFd,
  });
}

/** Makes a map read-only for user space (programs may still write it). */
export function mapFreeze(fd: number): void {
  writeFields(beginAttr(mapElemAttr), 0, mapElemAttr, { mapFd: fd });
  bpfCall(BpfCmd.MAP_FREEZE, mapElemAttr, `map fd ${fd}`);
}

// ---------------------------------------------------------------------------------------------------
// Element commands (hot paths).

const ELEM = mapElemAttr.fields;
const ELEM_SIZE = mapElemAttr.size;
const W_MAP_FD = ELEM.mapFd.offset >>> 2;
const W_KEY = ELEM.key.offset >>> 2;
const W_VALUE = ELEM.value.offset >>> 2;
const W_FLAGS = ELEM.flags.offset >>> 2;

/** 2^32, to split addresses into u32 halves. */
const TWO_32 = 0x1_0000_0000;

/** Copies up to this many bytes with a loop: cheaper than a `set()` with its view for short keys. */
const SHORT_COPY = 32;

/** Writes a 64-bit address as two u32 words. */
function writeAddress(u32: Uint32Array, word: number, address: number): void {
  const lo = address >>> 0;
  u32[word] = lo;
  u32[word + 1] = (address - lo) / TWO_32;
}

/** Copies `src` into the arena at byte `at`. */
function copyIn(arena: Uint8Array, at: number, src: Uint8Array): void {
  const n = src.length;
  if (n <= SHORT_COPY) {
    for (let i = 0; i < n; i++) arena[at + i] = src[i]!;
  } else {
    arena.set(src, at);
  }
}

/** Copies `dst.length` bytes out of the arena from byte `at`. */
function copyOut(dst: Uint8Array, arena: Uint8Array, at: number): void {
  const n = dst.length;
  if (n <= SHORT_COPY) {
    for (let i = 0; i < n; i++) dst[i] = arena[at + i]!;
  } else {
    dst.set(arena.subarray(at, at + n));
  }
}

/**
 * Writes the element attr with the key placed right before a trailing buffer of `valueLength` bytes that
 * ends flush against the guard page, and returns the trailing buffer's arena offset. `key` null is a
 * NULL key pointer; `valueLength` 0 means the command takes no value (its pointer stays NULL).
 */
function prepareElem(fd: number, key: Uint8Array | null, valueLength: number, flags: number): number {
  const keyLength = key === null ? 0 : key.length;
  if (valueLength + keyLength > scratch.dataSize) scratch.reserve(valueLength + keyLength);
  const s = scratch;
  const valueAt = s.dataSize - valueLength;
  const keyAt = valueAt - keyLength;
  const u32 = s.u32;
  // Every word of the 32-byte attr is written, so no zeroing pass is needed.
  u32[W_MAP_FD] = fd;
  u32[W_MAP_FD + 1] = 0; // padding before the u64 key pointer
  if (key === null) {
    u32[W_KEY] = 0;
    u32[W_KEY + 1] = 0;
  } else {
    copyIn(s.bytes, ATTR_REGION_SIZE + keyAt, key);
    writeAddress(u32, W_KEY, s.dataAddress + keyAt);
  }
  if (valueLength === 0) {
    u32[W_VALUE] = 0;
    u32[W_VALUE + 1] = 0;
  } else {
    writeAddress(u32, W_VALUE, s.dataAddress + valueAt);
  }
  u32[W_FLAGS] = flags;
  u32[W_FLAGS + 1] = 0;
  return ATTR_REGION_SIZE + valueAt;
}

/**
 * @internal The zero-copy element path for typed maps, step 1: writes the attr of an element command
 * on map `fd` with a `keySize`-byte key (0: a NULL key) placed right before a `valueSize`-byte value
 * buffer (0: a NULL value) that ends flush against the guard page, and returns the value's offset in
 * `scratch.bytes`; the key starts `keySize` bytes before it. The caller encodes the key (and, for an
 * update, the value) straight into `scratch.view` there, then calls `elementCommand()`.
 */
export function prepareElement(fd: number, keySize: number, valueSize: number, flags: number): number {
  if (valueSize + keySize > scratch.dataSize) scratch.reserve(valueSize + keySize);
  const s = scratch;
  const valueAt = s.dataSize - valueSize;
  const keyAt = valueAt - keySize;
  const u32 = s.u32;
  u32[W_MAP_FD] = fd;
  u32[W_MAP_FD + 1] = 0;
  if (keySize === 0) {
    u32[W_KEY] = 0;
    u32[W_KEY + 1] = 0;
  } else {
    writeAddress(u32, W_KEY, s.dataAddress + keyAt);
  }
  if (valueSize === 0) {
    u32[W_VALUE] = 0;
    u32[W_VALUE + 1] = 0;
  } else {
    writeAddress(u32, W_VALUE, s.dataAddress + valueAt);
  }
  u32[W_FLAGS] = flags;
  u32[W_FLAGS + 1] = 0;
  return ATTR_REGION_SIZE + valueAt;
}

/** @internal Step 2 of the zero-copy path: runs element command `cmd`; returns its result or minus errno. */
export function elementCommand(cmd: number): number {
  return bpfRaw(cmd, ELEM_SIZE);
}

/**
 * Looks up `key` and copies its value into `value`. Returns false when there is no such element.
 * `key` null peeks at a queue or stack. `flags`: `BpfUpdateFlags.F_LOCK`.
 */
export function mapLookupElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): boolean {
  const at = prepareElem(fd, key, value.length, flags);
  const r = bpfRaw(BpfCmd.MAP_LOOKUP_ELEM, ELEM_SIZE);
  if (r < 0) {
    if (r === -Errno.ENOENT) return false;
    throw bpfError(BpfCmd.MAP_LOOKUP_ELEM, -r);
  }
  copyOut(value, scratch.bytes, at);
  return true;
}

/**
 * Creates or updates the element `key` (null pushes onto a queue or stack).
 * `flags`: `BpfUpdateFlags` ANY, NOEXIST, EXIST, possibly with F_LOCK.
 */
export function mapUpdateElem(fd: number, key: Uint8Array | null, value: Uint8Array, flags = 0): void {
  const at = prepareElem(fd, key, value.length, flags);
  copyIn(scratch.bytes, at, value);
  const r = bpfRaw(BpfCmd.MAP_UPDATE_ELEM, ELEM_SIZE);
  if (r < 0) throw bpfError(BpfCmd.MAP_UPDATE_ELEM, -r);
}

/** Deletes the element `key`. Returns false when there was no such element. */
export function mapDeleteElem(fd: number, key: Uint8Array): boolean {
  prepareElem(fd, key, 0, 0);
  const r = bpfRaw(BpfCmd.MAP_DELETE_ELEM, ELEM_SIZE);
  if (r < 0) {
    if (r === -Errno.ENOENT) return false;
    throw bpfError(BpfCmd.MAP_DELETE_ELEM, -r);
  }
  return true;
}

/**
 * Writes the key after `key` (the first key when `key` is null or absent) into `nextOut`.
 * Returns false when `key` was the last one.
 */
export function mapGetNextKey(fd: number, key: Uint8Array | null, nextOut: Uint8Array): boolean {
  const at = prepareElem(fd, key, nextOut.length, 0);
  const r = bpfRaw(BpfCmd.MAP_GET_NEXT_KEY, ELEM_SIZE);
  if (r < 0) {
    if (r === -Errno.ENOENT) return false;
    throw bpfError(BpfCmd.MAP_GET_NEXT_KEY, -r);
  }
  copyOut(nextOut, scratch.bytes, at);
  return true;
}

/**
 * Looks up `key`, copies its value into `valueOut` and deletes it (hash maps); `key` null pops from a
 * queue or stack. Returns false when there was no such element (or the queue was empty).
 */
export function mapLookupAndDeleteElem(fd: number, key: Uint8Array | null, valueOut: Uint8Array, flags = 0): boolean {
  const at = prepareElem(fd, key, valueOut.length, flags);
  const r = bpfRaw(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, ELEM_SIZE);
  if (r < 0) {
    if (r === -Errno.ENOENT) return false;
    throw bpfError(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, -r);
  }
  copyOut(valueOut, scratch.bytes, at);
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Batch commands.

/** Parameters of BPF_MAP_LOOKUP_BATCH and BPF_MAP_LOOKUP_AND_DELETE_BATCH. */
export interface MapLookupBatchParams {
  /** The previous call's `outBatch`, or null to start from the beginning. */
  readonly inBatch: Uint8Array | null;
  /**
   * Receives the position to continue from. Hash maps use 4 bytes (a bucket index); the generic
   * implementation (arrays) uses a key, so make it `max(keySize, 4)` bytes.
   */
  readonly outBatch: Uint8Array;
  /** Receives up to `count` keys: exactly `count × keySize` bytes. */
  readonly keys: Uint8Array;
  /** Receives up to `count` values: exactly `count × valueSize` bytes (per-CPU: × possible CPUs, 8-aligned). */
  readonly values: Uint8Array;
  /** The most elements to return. */
  readonly count: number;
  /** `BpfUpdateFlags.F_LOCK`. */
  readonly elemFlags?: number;
  readonly flags?: number;
}

/** What a lookup batch returned. */
export interface MapBatchResult {
  /** Elements written to the start of `keys` and `values`. */
  readonly count: number;
  /**
   * True when the iteration reached the end (the kernel's ENOENT): the `count` elements returned with
   * it are the last ones. When false, call again with `inBatch` = this call's `outBatch`.
   */
  readonly done: boolean;
}

/** Options of the update and delete batch commands. */
export interface MapBatchOptions {
  /** `BpfUpdateFlags` for each element (update), or F_LOCK. */
  readonly elemFlags?: number;
  readonly flags?: number;
}

/** The size of one element in a buffer that holds exactly `count` of them. */
function elementSize(buffer: Uint8Array, count: number, what: string): number {
  if (!Number.isInteger(count) || count <= 0 || count >= 2 ** 32) {
    throw new RangeError(`batch count must be a positive u32, got ${count}`);
  }
  if (buffer.length === 0 || buffer.length % count !== 0) {
    throw new RangeError(`${what} must hold exactly ${count} elements, got ${buffer.length} bytes`);
  }
  return buffer.length / count;
}

/** Lays out keys (and values, flush against the guard page) for a batch; returns their arena offsets. */
function placeBatch(
  headerBytes: number,
  keysLength: number,
  valuesLength: number,
): { readonly keysAt: number; readonly valuesAt: number } {
  scratch.reserve(headerBytes + align8(keysLength) + valuesLength + 8);
  const valuesAt = scratch.dataSize - valuesLength;
  const keysAt = (valuesAt - keysLength) & ~7;
  return { keysAt, valuesAt };
}

function lookupBatch(cmd: number, fd: number, p: MapLookupBatchParams): MapBatchResult {
  const keySize = elementSize(p.keys, p.count, "keys");
  const valueSize = elementSize(p.values, p.count, "values");
  const inLength = p.inBatch?.length ?? 0;
  const outAt = align8(inLength);
  const { keysAt, valuesAt } = placeBatch(outAt + align8(p.outBatch.length), p.keys.length, p.values.length);
  const s = scratch;
  const view = beginAttr(mapBatchAttr);
  if (p.inBatch !== null) s.bytes.set(p.inBatch, ATTR_REGION_SIZE);
  writeFields(view, 0, mapBatchAttr, {
    inBatch: p.inBatch === null ? 0 : s.dataAddress,
    outBatch: s.dataAddress + outAt,
    keys: s.dataAddress + keysAt,
    values: s.dataAddress + valuesAt,
    count: p.count,
    mapFd: fd,
    elemFlags: p.elemFlags,
    flags: p.flags,
  });
  const r = bpfRaw(cmd, mapBatchAttr.size);
  if (r < 0 && r !== -Errno.ENOENT) {
    const hint = r === -Errno.ENOSPC ? `a hash bucket holds more than ${p.count} elements; use a larger batch` : undefined;
    throw bpfError(cmd, -r, hint);
  }
  const count = view.getUint32(mapBatchAttr.fields.count.offset, true);
  const bytes = s.bytes;
  // The generic implementation (arrays) writes no position when it returns nothing.
  if (count > 0) p.outBatch.set(bytes.subarray(ATTR_REGION_SIZE + outAt, ATTR_REGION_SIZE + outAt + p.outBatch.length));
  p.keys.set(bytes.subarray(ATTR_REGION_SIZE + keysAt, ATTR_REGION_SIZE + keysAt + count * keySize));
  p.values.set(bytes.subarray(ATTR_REGION_SIZE + valuesAt, ATTR_REGION_SIZE + valuesAt + count * valueSize));
  return { count, done: r < 0 };
}

/** Where a zero-copy lookup batch left its results in `scratch.bytes`. */
export interface BatchInPlace {
  readonly count: number;
  readonly done: boolean;
  readonly keysAt: number;
  readonly valuesAt: number;
  /** Where the position to continue from is (`outBatchSize` bytes), valid when `count` > 0. */
  readonly outBatchAt: number;
}

/**
 * @internal A lookup (or lookup-and-delete) batch that leaves keys and values in the scratch arena for
 * the caller to decode in place, instead of copying them out. `inBatch` is the previous call's position
 * (null to start); `keySize`/`valueSize` are per element (per-CPU values: the whole per-CPU block).
 * The results are valid until the next command.
 */
export function lookupBatchInPlace(
  cmd: number,
  fd: number,
  inBatch: Uint8Array | null,
  batchSize: number,
  keySize: number,
  valueSize: number,
  count: number,
  flags = 0,
): BatchInPlace {
  const outAt = align8(batchSize);
  const { keysAt, valuesAt } = placeBatch(2 * outAt, keySize * count, valueSize * count);
  const s = scratch;
  const view = beginAttr(mapBatchAttr);
  if (inBatch !== null) s.bytes.set(inBatch, ATTR_REGION_SIZE);
  writeFields(view, 0, mapBatchAttr, {
    inBatch: inBatch === null ? 0 : s.dataAddress,
    outBatch: s.dataAddress + outAt,
    keys: s.dataAddress + keysAt,
    values: s.dataAddress + valuesAt,
    count,
    mapFd: fd,
    elemFlags: flags,
  });
  const r = bpfRaw(cmd, mapBatchAttr.size);
  if (r < 0 && r !== -Errno.ENOENT) {
    const hint = r === -Errno.ENOSPC ? `a hash bucket holds more than ${count} elements; use a larger batch` : undefined;
    throw bpfError(cmd, -r, hint);
  }
  return {
    count: view.getUint32(mapBatchAttr.fields.count.offset, true),
    done: r < 0,
    keysAt: ATTR_REGION_SIZE + keysAt,
    valuesAt: ATTR_REGION_SIZE + valuesAt,
    outBatchAt: ATTR_REGION_SIZE + outAt,
  };
}

/** Reads up to `count` elements, continuing from `inBatch`. */
export function mapLookupBatch(fd: number, p: MapLookupBatchParams): MapBatchResult {
  return lookupBatch(BpfCmd.MAP_LOOKUP_BATCH, fd, p);
}

/** Reads and deletes up to `count` elements, continuing from `inBatch`. */
export function mapLookupAndDeleteBatch(fd: number, p: MapLookupBatchParams): MapBatchResult {
  return lookupBatch(BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH, fd, p);
}

/**
 * Creates or updates `count` elements (`keys` and `values` hold exactly `count` each); returns `count`.
 * On failure the error's subject tells how many elements were written before it.
 */
export function mapUpdateBatch(
  fd: number,
  keys: Uint8Array,
  values: Uint8Array,
  count: number,
  opts: MapBatchOptions = {},
): number {
  elementSize(keys, count, "keys");
  elementSize(values, count, "values");
  const { keysAt, valuesAt } = placeBatch(0, keys.length, values.length);
  const s = scratch;
  s.bytes.set(keys, ATTR_REGION_SIZE + keysAt);
  s.bytes.set(values, ATTR_REGION_SIZE + valuesAt);
  return writeBatch(BpfCmd.MAP_UPDATE_BATCH, fd, s.dataAddress + keysAt, s.dataAddress + valuesAt, count, opts);
}

/**
 * Deletes `count` elements (`keys` holds exactly `count`); returns `count`.
 * On failure (ENOENT for a missing key) the error's subject tells how many were deleted before it.
 */
export function mapDeleteBatch(fd: number, keys: Uint8Array, count: number, opts: MapBatchOptions = {}): number {
  elementSize(keys, count, "keys");
  const { valuesAt: keysAt } = placeBatch(0, 0, keys.length);
  scratch.bytes.set(keys, ATTR_REGION_SIZE + keysAt);
  return writeBatch(BpfCmd.MAP_DELETE_BATCH, fd, scratch.dataAddress + keysAt, 0, count, opts);
}

function writeBatch(cmd: number, fd: number, keys: number, values: number, count: number, opts: MapBatchOptions): number {
  const view = beginAttr(mapBatchAttr);
  writeFields(view, 0, mapBatchAttr, {
    keys,
    values,
    count,
    mapFd: fd,
    elemFlags: opts.elemFlags,
    flags: opts.flags,
  });
  const r = bpfRaw(cmd, mapBatchAttr.size);
  const written = view.getUint32(mapBatchAttr.fields.count.offset, true);
  // The kernel writes the count back only once it has worked on the elements: a failure that leaves
  // it unchanged (bad flags, an unsupported map type) came before the first one.
  const done = r < 0 && written === count ? 0 : written;
  if (r < 0) throw bpfError(cmd, -r, `after ${done} of ${count} elements`);
  return done;
}
