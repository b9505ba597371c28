/**
 * Hash maps (`hash`, `lru_hash`) and their per-CPU forms: a keyed store with get / set / delete / has,
 * lookup-and-delete, iteration, and bulk operations that use the BATCH commands when the kernel has them.
 */

import { BpfCmd } from "../sys/index.js";
import { BpfMap, updateFlags, type UpdateOptions } from "./bpf-map.js";
import { batchDelete, batchEntries, batchForEach, batchUpdate } from "./batch.js";

/** A `hash` or `lru_hash` map. */
export class HashMap<K = unknown, V = unknown> extends BpfMap<K, V> implements Iterable<[K, V]> {
  /** The value stored under `key`, or undefined. */
  get(key: K): V | undefined {
    return this.elementLookup(key);
  }

  /** Stores `value` under `key` (`mode: "noexist"` fails with EEXIST if present, `"exist"` with ENOENT if absent). */
  set(key: K, value: V, options?: UpdateOptions): this {
    this.elementUpdate(key, value, updateFlags(options));
    return this;
  }

  /** Deletes `key`; false when it was not there. */
  delete(key: K): boolean {
    return this.elementDelete(key);
  }

  /** Whether `key` is present. */
  has(key: K): boolean {
    return this.elementLookup(key) !== undefined;
  }

  /** Removes `key` and returns its value (BPF_MAP_LOOKUP_AND_DELETE_ELEM), or undefined. */
  take(key: K): V | undefined {
    return this.elementLookup(key, BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM);
  }

  /** The keys (a BPF_MAP_GET_NEXT_KEY walk; elements changed meanwhile may or may not show). */
  keys(): IterableIterator<K> {
    return this.elementKeys();
  }

  /** A snapshot of every element, read in batches (hundreds per syscall) where the kernel allows. */
  entries(): IterableIterator<[K, V]> {
    return batchEntries(this) ?? this.#walk().values();
  }

  /** Calls `fn(value, key)` for every element — the fastest way through a large map (batched, no tuples). */
  forEach(fn: (value: V, key: K) => void): void {
    if (!batchForEach(this, fn)) for (const [key, value] of this.#walk()) fn(value, key);
  }

  /** A snapshot of every value. */
  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** The number of elements (counted: the kernel keeps no count). */
  get size(): number {
    let count = 0;
    this.forEach(() => count++);
    return count;
  }

  /** Stores many elements, with BPF_MAP_UPDATE_BATCH where the kernel has it. */
  setMany(entries: Iterable<readonly [K, V]>, options?: UpdateOptions): this {
    const list = [...entries];
    const flags = updateFlags(options);
    if (!batchUpdate(this, list, flags)) for (const [key, value] of list) this.elementUpdate(key, value, flags);
    return this;
  }

  /** Deletes many keys (absent ones are skipped); returns how many were deleted. */
  deleteMany(keys: Iterable<K>): number {
    const list = [...keys];
    const deleted = batchDelete(this, list);
    if (deleted !== undefined) return deleted;
    return list.filter((key) => this.elementDelete(key)).length;
  }

  /** Removes every element; returns how many there were. */
  clear(): number {
    let count = 0;
    if (batchForEach(this, () => count++, true)) return count;
    return this.deleteMany([...this.keys()]);
  }

  /** Every element, found by walking the keys (for kernels without lookup batches). */
  #walk(): [K, V][] {
    const out: [K, V][] = [];
    for (let raw = this.nextKeyBytes(null); raw !== undefined; raw = this.nextKeyBytes(raw)) {
      const value = this.elementLookupByBytes(raw);
      if (value !== undefined) out.push([this.keyCodec.decode(new DataView(raw.buffer), 0), value]);
    }
    return out;
  }
}

/** A `percpu_hash` or `lru_percpu_hash` map: each value is an array with one entry per possible CPU. */
export class PerCpuHashMap<K = unknown, V = unknown> extends HashMap<K, V[]> {
  /** Stores `value` on every CPU, or one value per CPU when given an array of them. */
  override set(key: K, value: V | V[], options?: UpdateOptions): this {
    return super.set(key, value as V[], options);
  }
}
