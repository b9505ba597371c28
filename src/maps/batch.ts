/**
 * Bulk map access through the BATCH commands, used by `entries()`, `forEach()`, `setMany()`,
 * `deleteMany()` and `clear()`: one bpf() call moves thousands of elements, which removes most of the
 * per-call cost. A lookup batch is decoded out of the syscall arena a column at a time (all its keys,
 * then all its values; see codec/columns.ts) and its elements are then handed out by a plain loop.
 * Map types whose kernel lacks a batch command fall back to element-at-a-time access; the fallback is
 * remembered per map type and command.
 */

import { columnDecoder, type ColumnDecoder } from "../codec/index.js";
import { BpfCmd, lookupBatchInPlace, mapDeleteBatch, mapUpdateBatch, scratch } from "../sys/index.js";
import { UpdateFlags, type MapTypeName } from "../uapi.js";
import { isUnsupportedCommand, type BpfMap } from "./bpf-map.js";

/**
 * Elements per lookup batch: large enough to amortise the call, small enough for the arena. Larger
 * batches were no faster per element (1024–262144 measured alike on a full 2^20-bucket hash: the
 * kernel's walk of the buckets dominates), and they hold more values at once where a codec decodes
 * them one by one.
 */
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
 * (then the caller walks keys).
 */
export function batchEntries<K, V>(map: BpfMap<K, V>): IterableIterator<[K, V]> | undefined {
  const reader = BatchReader.open(map, false);
  return reader === undefined ? undefined : new BatchIterator(reader);
}

/**
 * Calls `fn(value, key)` for every element, reading in batches with no per-element iterator or tuple
 * (`andDelete`: and deletes them); returns false, having called nothing, when the kernel has no lookup
 * batch for this map type.
 */
export function batchForEach<K, V>(map: BpfMap<K, V>, fn: (value: V, key: K) => void, andDelete = false): boolean {
  const reader = BatchReader.open(map, andDelete);
  if (reader === undefined) return false;
  do {
    const { keys, values, count } = reader;
    for (let i = 0; i < count; i++) fn(values[i]!, keys[i]!);
  } while (reader.next());
  return true;
}

/** %IteratorPrototype%, which generators and the built-in iterators inherit (iterator helpers live there). */
const IteratorPrototype: object = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

/**
 * The iterator of `entries()`: hands out the reader's batches one element at a time. A class rather
 * than a generator, so that a `for…of` loop can inline `next()` (resuming a generator costs more than
 * the rest of the element's work).
 */
class BatchIterator<K, V> implements IterableIterator<[K, V]> {
  #reader: BatchReader<K, V> | undefined;
  #index = 0;

  constructor(reader: BatchReader<K, V>) {
    this.#reader = reader;
  }

  next(): IteratorResult<[K, V], undefined> {
    const reader = this.#reader;
    if (reader === undefined) return { value: undefined, done: true };
    while (this.#index === reader.count) {
      if (!reader.next()) return this.return();
      this.#index = 0;
    }
    const i = this.#index++;
    return { value: [reader.keys[i]!, reader.values[i]!], done: false };
  }

  /** Ends the iteration (a `break` out of `for…of` calls it), as a generator's `return()` does. */
  return(): IteratorResult<[K, V], undefined> {
    this.#reader = undefined;
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }
}
Object.setPrototypeOf(BatchIterator.prototype, IteratorPrototype);

/**
 * Reads consecutive batches, each decoded (out of the arena, which the next command reuses) into
 * `keys` and `values` before its elements are handed out; these stay valid until the next `next()`.
 */
class BatchReader<K, V> {
  readonly #map: BpfMap<K, V>;
  readonly #cmd: number;
  readonly #valueSize: number;
  readonly #keyColumn: ColumnDecoder<K>;
  readonly #valueColumn: ColumnDecoder<V>;
  /** Where the next batch starts: the last call's out_batch (a hash bucket index; a key for arrays). */
  readonly #position: Uint8Array;
  #started = false;
  #done = false;
  #count = LOOKUP_BATCH;
  keys: ArrayLike<K> = [];
  values: ArrayLike<V> = [];
  count = 0;

  private constructor(map: BpfMap<K, V>, cmd: number) {
    this.#map = map;
    this.#cmd = cmd;
    this.#valueSize = map.valueBufferSize;
    this.#keyColumn = columnDecoder(map.keyCodec, map.keySize);
    this.#valueColumn = columnDecoder(map.valueCodec, map.valueBufferSize);
    this.#position = new Uint8Array(Math.max(map.keySize, 4));
  }

  /**
   * A reader holding the first batch, or undefined when the kernel has no lookup batch (with
   * `andDelete`: lookup-and-delete batch) for this map type.
   */
  static open<K, V>(map: BpfMap<K, V>, andDelete: boolean): BatchReader<K, V> | undefined {
    const cmd = andDelete ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
    if (!batchSupported(map.type, cmd)) return undefined;
    const reader = new BatchReader(map, cmd);
    try {
      reader.next();
    } catch (error) {
      // The first call decides whether the kernel supports the command at all.
      if (!isUnsupportedCommand(error)) throw error;
      markUnsupported(map.type, cmd);
      return undefined;
    }
    return reader;
  }

  /** Reads and decodes the next batch; false (holding nothing) once the last one was read. */
  next(): boolean {
    this.keys = this.values = [];
    this.count = 0;
    if (this.#done) return false;
    const map = this.#map;
    const keySize = map.keySize;
    const position = this.#started ? this.#position : null;
    let result;
    for (;;) {
      try {
        result = lookupBatchInPlace(this.#cmd, map.fd.value, position, this.#position.length, keySize, this.#valueSize, this.#count);
        break;
      } catch (error) {
        // A hash bucket with more elements than the batch holds (ENOSPC): retry the same position, larger.
        if ((error as { code?: string }).code !== "ENOSPC" || this.#count >= 1 << 20) throw error;
        this.#count *= 4;
      }
    }
    const { count, keysAt, valuesAt, outBatchAt } = result;
    const view = scratch.view;
    this.#started = true;
    this.#done = result.done || count === 0;
    if (!this.#done) this.#position.set(scratch.bytes.subarray(outBatchAt, outBatchAt + this.#position.length));
    this.keys = this.#keyColumn.decode(view, keysAt, count);
    this.values = this.#valueColumn.decode(view, valuesAt, count);
    this.count = count;
    return true;
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
