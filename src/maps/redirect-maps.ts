/**
 * XDP redirect targets: `devmap` / `devmap_hash` (network devices, optionally with a program run on
 * the device) and `cpumap` (CPUs with a queue size, optionally with a program). Their values are small
 * kernel structs; Waggle encodes them from plain objects.
 */

import type { Codec } from "../codec/index.js";
import { BpfMap, updateFlags, type UpdateOptions } from "./bpf-map.js";
import { fdOf, type FdSource } from "./fd-maps.js";

/** A device map entry: the interface, and the program run on frames redirected to it. */
export interface DevMapEntry {
  ifindex: number;
  /** When writing: the program (or its fd). When reading: the program's id (0 for none). */
  program?: FdSource;
}

/** A CPU map entry: the per-CPU queue's size and an optional program. */
export interface CpuMapEntry {
  queueSize: number;
  /** When writing: the program (or its fd). When reading: the program's id (0 for none). */
  program?: FdSource;
}

/** `struct bpf_devmap_val { u32 ifindex; union { int fd; u32 id; } bpf_prog; }` (4 bytes without a program). */
export function devmapValueCodec(size: number): Codec<DevMapEntry> {
  return twoWordCodec(size, "bpf_devmap_val", (e) => e.ifindex, (ifindex, program) => ({ ifindex, ...(program !== undefined && { program }) }));
}

/** `struct bpf_cpumap_val { u32 qsize; union { int fd; u32 id; } bpf_prog; }`. */
export function cpumapValueCodec(size: number): Codec<CpuMapEntry> {
  return twoWordCodec(size, "bpf_cpumap_val", (e) => e.queueSize, (queueSize, program) => ({ queueSize, ...(program !== undefined && { program }) }));
}

function twoWordCodec<T extends { program?: FdSource }>(
  size: number,
  description: string,
  first: (entry: T) => number,
  make: (first: number, program: number | undefined) => T,
): Codec<T> {
  if (size !== 4 && size !== 8) throw new TypeError(`Cannot use ${description} for values of ${size} bytes`);
  return {
    size,
    description,
    decode: (view, offset) => make(view.getUint32(offset, true), size === 8 ? view.getUint32(offset + 4, true) : undefined),
    encode(entry, view, offset) {
      if (typeof entry !== "object" || entry === null) throw new TypeError(`Cannot encode ${String(entry)} as ${description}`);
      const word = first(entry);
      // Checked, not coerced: ifindex 0 would silently empty a devmap slot.
      if (!Number.isInteger(word) || word < 0 || word > 0xffffffff) {
        throw new TypeError(`Cannot encode ${description}: ${String(word)} is not a u32`);
      }
      view.setUint32(offset, word, true);
      if (size === 8) view.setInt32(offset + 4, entry.program === undefined ? -1 : fdOf(entry.program), true);
      else if (entry.program !== undefined) throw new TypeError(`Cannot attach a program: this map's ${description} values are 4 bytes`);
    },
  };
}

/** `devmap` (by index) and `devmap_hash` (by key). */
export class DevMap<K = number> extends BpfMap<K, DevMapEntry> {
  get(key: K): DevMapEntry | undefined {
    return this.elementLookup(key);
  }

  set(key: K, entry: DevMapEntry, options?: UpdateOptions): this {
    this.elementUpdate(key, entry, updateFlags(options));
    return this;
  }

  delete(key: K): boolean {
    return this.elementDelete(key);
  }

  keys(): IterableIterator<K> {
    return this.elementKeys();
  }
}

/** `cpumap`: redirect targets by CPU number. */
export class CpuMap extends BpfMap<number, CpuMapEntry> {
  get(cpu: number): CpuMapEntry | undefined {
    return this.elementLookup(cpu);
  }

  set(cpu: number, entry: CpuMapEntry, options?: UpdateOptions): this {
    this.elementUpdate(cpu, entry, updateFlags(options));
    return this;
  }

  delete(cpu: number): boolean {
    return this.elementDelete(cpu);
  }
}
