/**
 * Bulk map access through the BATCH commands, used by `entries()`, `setMany()`, `deleteMany()` and
 * `clear()`: one bpf() call moves hundreds of elements, which removes most of the per-call cost.
 * Keys and values are decoded in place from the syscall arena. Map types whose kernel lacks a batch
 * command fall back to element-at-a-time access; the fallback is remembered per map type and command.
 */

import { BpfCmd, lookupBatchInPlace, mapDeleteBatch, mapUpdateBatch, scratch } from "../sys/index.js";
import { UpdateFlags, type MapTypeName } from "../uapi.js";
import { isUnsupportedCommand, type BpfMap } from "./bpf-map.js";

/** Elements per lookup batch: large enough to amortise the call, small enough for the arena. */
export const LOOKUP_BATCH = 4096;

/** (map type, command) pairs the kernel refused: use the element-at-a-time path for them. */
const unsupported = new Set<string>();

/** Whether the batch form of `cmd` is worth trying on this map type. */
export function batchSupported(type: MapTypeName, cmd: number): boolean {
  return !unsupported.has(`${type}:${cmd}`);
}

/** Remembers that this map type has no batch form of `cmd`. */
function markUnsupported(type: MapTypeName, cmd: number): void {
  unsupported.add(`${type}:${cmd}`);
}

/**
 * Every element, read in batches and decoded a batch at a time (so a large map never sits in memory
 * as JS values all at once); returns undefined when the kernel has no lookup batch for this map type
 * (then the caller walks keys). `andDelete` reads and deletes.
 */
export function batchEntries<K, V>(map: BpfMap<K, V>, andDelete = false): IterableIterator<[K, V]> | undefined {
  const cmd = andDelete ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
  if (!batchSupported(map.type, cmd)) return undefined;
  const reader = new BatchReader(map, cmd);
  // The first call decides whether the kernel supports the command at all.
  const first = reader.next(null);
  if (first === undefined) return undefined;
  return reader.iterate(first);
}

/**
 * Calls `fn(value, key)` for every element, reading in batches with no per-element iterator or tuple;
 * returns false (having called nothing) when the kernel has no lookup batch for this map type.
 */
export function batchForEach<K, V>(map: BpfMap<K, V>, fn: (value: V, key: K) => void): boolean {
  if (!batchSupported(map.type, BpfCmd.MAP_LOOKUP_BATCH)) return false;
  const reader = new BatchReader(map, BpfCmd.MAP_LOOKUP_BATCH);
  let position = reader.visit(null, fn);
  if (position === null) return false;
  while (position !== undefined) position = reader.visit(position, fn) ?? undefined;
  return true;
}

/** Reads consecutive batches, decoding each one before the next call reuses the arena. */
class BatchReader<K, V> {
  readonly #map: BpfMap<K, V>;
  readonly #cmd: number;
  readonly #valueSize: number;
  readonly #batchSize: number;
  #count = LOOKUP_BATCH;

  constructor(map: BpfMap<K, V>, cmd: number) {
    this.#map = map;
    this.#cmd = cmd;
    this.#valueSize = map.valueBufferSize;
    this.#batchSize = Math.max(map.keySize, 4);
  }

  /** One batch from `position` (null: the start), decoded; undefined when the command is unsupported. */
  next(position: Uint8Array | null): { entries: [K, V][]; position: Uint8Array | undefined } | undefined {
    const entries: [K, V][] = [];
    const next = this.visit(position, (value, key) => {
      entries.push([key, value]);
    });
    return next === null ? undefined : { entries, position: next };
  }

  /**
   * Reads one batch from `position` and calls `fn` for each element, decoding in place. Returns where
   * to continue (undefined at the end), or null when the kernel does not support the command.
   */
  visit(position: Uint8Array | null, fn: (value: V, key: K) => void): Uint8Array | undefined | null {
    const map = this.#map;
    const keySize = map.keySize;
    for (;;) {
      let result;
      try {
        result = lookupBatchInPlace(this.#cmd, map.fd.value, position, this.#batchSize, keySize, this.#valueSize, this.#count);
      } catch (error) {
        if (position === null && isUnsupportedCommand(error)) {
          markUnsupported(map.type, this.#cmd);
          return null;
        }
        // A hash bucket with more elements than the batch holds (ENOSPC): retry the same position, larger.
        if ((error as { code?: string }).code === "ENOSPC" && this.#count < 1 << 20) {
          this.#count *= 4;
          continue;
        }
        throw error;
      }
      const view = scratch.view;
      const { keyCodec, valueCodec } = map;
      const { count, keysAt, valuesAt } = result;
      const valueSize = this.#valueSize;
      // Where to continue is saved before `fn` runs: a callback may issue commands that reuse the arena.
      const more = !result.done && count > 0;
      const next = more ? scratch.bytes.slice(result.outBatchAt, result.outBatchAt + this.#batchSize) : undefined;
      const keys = new Array<K>(count);
      const values = new Array<V>(count);
      for (let i = 0; i < count; i++) {
        keys[i] = keyCodec.decode(view, keysAt + i * keySize);
        values[i] = valueCodec.decode(view, valuesAt + i * valueSize);
      }
      for (let i = 0; i < count; i++) fn(values[i]!, keys[i]!);
      return next;
    }
  }

  *iterate(first: { entries: [K, V][]; position: Uint8Array | undefined }): IterableIterator<[K, V]> {
    for (let batch: typeof first | undefined = first; batch !== undefined; ) {
      yield* batch.entries;
      batch = batch.position === undefined ? undefined : this.next(batch.position);
    }
  }
}

/**
 * Writes many elements with BPF_MAP_UPDATE_BATCH; returns false (having written nothing) when the
 * kernel has no update batch for this map type.
 */
export function batchUpdate<K, V>(map: BpfMap<K, V>, entries: readonly (readonly [K, V])[], flags: number): boolean {
  const valueBufferSize = map.valueBufferSize;
  if (entries.length === 0) return true;
  // The kernel's update batch takes only BPF_F_LOCK as element flags (NOEXIST / EXIST: EINVAL, up front).
  if ((flags & ~UpdateFlags.LOCK) !== 0) return false;
  if (!batchSupported(map.type, BpfCmd.MAP_UPDATE_BATCH)) return false;
  const keys = new Uint8Array(entries.length * map.keySize);
  const values = new Uint8Array(entries.length * valueBufferSize);
  const keyView = new DataView(keys.buffer);
  const valueView = new DataView(values.buffer);
  entries.forEach(([key, value], i) => {
    map.keyCodec.encode(key, keyView, i * map.keySize);
    map.valueCodec.encode(value, valueView, i * valueBufferSize);
  });
  try {
    mapUpdateBatch(map.fd.value, keys, values, entries.length, { elemFlags: flags });
    return true;
  } catch (error) {
    if (!isUnsupportedCommand(error) || !isFirstElementFailure(error)) throw error;
    markUnsupported(map.type, BpfCmd.MAP_UPDATE_BATCH);
    return false;
  }
}

/**
 * Deletes many keys with BPF_MAP_DELETE_BATCH; returns how many were deleted, or undefined when the
 * kernel has no delete batch for this map type. Keys that are absent are skipped, not an error.
 */
export function batchDelete<K, V>(map: BpfMap<K, V>, keys: readonly K[]): number | undefined {
  if (keys.length === 0) return 0;
  if (!batchSupported(map.type, BpfCmd.MAP_DELETE_BATCH)) return undefined;
  const bytes = new Uint8Array(keys.length * map.keySize);
  const view = new DataView(bytes.buffer);
  keys.forEach((key, i) => map.keyCodec.encode(key, view, i * map.keySize));
  let deleted = 0;
  let offset = 0;
  // The kernel stops at the first missing key (ENOENT) and reports how many it deleted before it.
  while (offset < keys.length) {
    const rest = bytes.subarray(offset * map.keySize);
    const count = keys.length - offset;
    try {
      deleted += mapDeleteBatch(map.fd.value, rest, count);
      return deleted;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const done = doneBefore(error);
      if (code === "ENOENT" && done !== undefined) {
        deleted += done;
        offset += done + 1;
        continue;
      }
      if (offset === 0 && isUnsupportedCommand(error) && done === 0) {
        markUnsupported(map.type, BpfCmd.MAP_DELETE_BATCH);
        return undefined;
      }
      throw error;
    }
  }
  return deleted;
}

/** How many elements a failed batch command had processed, from its error's subject. */
function doneBefore(error: unknown): number | undefined {
  const match = /after (\d+) of \d+ elements/.exec((error as { subject?: string }).subject ?? "");
  return match ? Number(match[1]) : undefined;
}

function isFirstElementFailure(error: unknown): boolean {
  return doneBefore(error) === 0;
}
