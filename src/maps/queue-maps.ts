/**
 * Keyless maps: queues (FIFO), stacks (LIFO) and bloom filters. Their element commands take no key:
 * push is an update with a NULL key, pop a lookup-and-delete, peek a lookup; a bloom filter answers
 * "possibly present" for a value given in the value buffer.
 */

import { BpfCmd, bpfError, elementCommand, Errno, prepareElement, scratch } from "../sys/index.js";
import { UpdateFlags } from "../uapi.js";
import { BpfMap } from "./bpf-map.js";

/** Options of `push`. */
export interface PushOptions {
  /** When full, drop the oldest element instead of failing with E2BIG (BPF_EXIST). */
  overwrite?: boolean;
}

/** Behaviour shared by queues and stacks; they differ only in which end pop and peek use. */
abstract class KeylessMap<V> extends BpfMap<unknown, V> {
  /** Adds a value; fails with E2BIG when full unless `overwrite` is set. */
  push(value: V, options: PushOptions = {}): this {
    this.elementUpdate(null, value, options.overwrite ? UpdateFlags.EXIST : UpdateFlags.ANY);
    return this;
  }

  /** Removes and returns the next value, or undefined when empty. */
  pop(): V | undefined {
    return this.elementLookup(null, BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM);
  }

  /** The next value without removing it, or undefined when empty. */
  peek(): V | undefined {
    return this.elementLookup(null);
  }

  /** Pops every value, in order, until the map is empty. */
  *drain(): IterableIterator<V> {
    for (let value = this.pop(); value !== undefined; value = this.pop()) yield value;
  }
}

/** A `queue` map: first in, first out. */
export class QueueMap<V = unknown> extends KeylessMap<V> {}

/** A `stack` map: last in, first out. */
export class StackMap<V = unknown> extends KeylessMap<V> {}

/** A `bloom_filter` map: a set that can answer "possibly present" or "definitely absent". */
export class BloomFilterMap<V = unknown> extends BpfMap<unknown, V> {
  /** Adds a value. */
  add(value: V): this {
    this.elementUpdate(null, value, UpdateFlags.ANY);
    return this;
  }

  /** False when `value` was certainly never added; true when it possibly was. */
  contains(value: V): boolean {
    const at = prepareElement(this.fd.value, 0, this.valueSize, 0);
    this.valueCodec.encode(value, scratch.view, at);
    const r = elementCommand(BpfCmd.MAP_LOOKUP_ELEM);
    if (r === -Errno.ENOENT) return false;
    if (r < 0) throw bpfError(BpfCmd.MAP_LOOKUP_ELEM, -r, `bloom filter "${this.name}"`);
    return true;
  }
}
