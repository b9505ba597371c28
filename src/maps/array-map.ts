/**
 * Array maps (`array`, `percpu_array`): `maxEntries` values indexed 0…n-1, preallocated and never
 * deleted. Global-data maps (`.data`, `.bss`, `.rodata`) are one-element arrays whose value decodes to an
 * object of the section's variables.
 */

import { BpfMap, updateFlags, type UpdateOptions } from "./bpf-map.js";
import { batchEntries, batchForEach, batchUpdate } from "./batch.js";

/** An `array` map. */
export class ArrayMap<V = unknown> extends BpfMap<number, V> implements Iterable<[number, V]> {
  /** The value at `index` (undefined only when `index` is out of range). */
  get(index: number): V | undefined {
    return this.elementLookup(index);
  }

  /** Stores `value` at `index`. */
  set(index: number, value: V, options?: UpdateOptions): this {
    this.elementUpdate(index, value, updateFlags(options));
    return this;
  }

  /** The number of elements (`maxEntries`: arrays are preallocated). */
  get length(): number {
    return this.maxEntries;
  }

  /** Every (index, value), read in batches where the kernel allows. */
  entries(): IterableIterator<[number, V]> {
    return batchEntries(this) ?? this.#walk().values();
  }

  /** Calls `fn(value, index)` for every element (batched, no tuples). */
  forEach(fn: (value: V, index: number) => void): void {
    if (!batchForEach(this, fn)) for (const [index, value] of this.#walk()) fn(value, index);
  }

  /** Every value, in index order. */
  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  /** Stores many values: an array (from index 0) or (index, value) pairs, batched where possible. */
  setMany(values: readonly V[] | Iterable<readonly [number, V]>, options?: UpdateOptions): this {
    const list: (readonly [number, V])[] = Array.isArray(values)
      ? (values as readonly V[]).map((value, index) => [index, value] as const)
      : [...(values as Iterable<readonly [number, V]>)];
    const flags = updateFlags(options);
    if (!batchUpdate(this, list, flags)) for (const [index, value] of list) this.elementUpdate(index, value, flags);
    return this;
  }

  #walk(): [number, V][] {
    const out: [number, V][] = [];
    for (let index = 0; index < this.maxEntries; index++) out.push([index, this.elementLookup(index)!]);
    return out;
  }
}

/** A `percpu_array` map: each value is an array with one entry per possible CPU. */
export class PerCpuArrayMap<V = unknown> extends ArrayMap<V[]> {
  /** Stores `value` on every CPU, or one value per CPU when given an array of them. */
  override set(index: number, value: V | V[], options?: UpdateOptions): this {
    return super.set(index, value as V[], options);
  }
}
