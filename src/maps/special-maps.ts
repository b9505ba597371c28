/**
 * Maps with memory or records rather than plain elements: arenas (memory shared with programs), ring
 * buffers (records from programs, or to them for user ring buffers) and stack-trace maps (call stacks
 * captured by `bpf_get_stackid()`).
 */

import { pageSize } from "../sys/index.js";
import { BpfMap } from "./bpf-map.js";
import { MappedMemory } from "./mapped-memory.js";

/**
 * An `arena`: pages of memory shared by programs and this process. `memory` is mapped when the map is
 * created (at `map_extra` when the object asks for a fixed address), before programs are loaded.
 */
export class ArenaMap extends BpfMap<unknown, unknown> {
  #memory: MappedMemory | undefined;

  /** The arena's memory: `maxEntries` pages, read and written with no syscall. */
  get memory(): MappedMemory {
    if (!this.#memory) {
      const extra = this.spec?.mapExtra ?? 0n;
      this.#memory = MappedMemory.map(this.fd.value, this.maxEntries * pageSize(), {
        subject: `arena "${this.name}"`,
        address: Number(extra),
      });
      const memory = this.#memory;
      this.onClose(() => memory.close());
    }
    return this.#memory;
  }
}

/** A `ringbuf` (records from programs) or `user_ringbuf` (records to programs). */
export class RingBufferMap extends BpfMap<unknown, unknown> {
  /** The ring's data size in bytes. */
  get capacity(): number {
    return this.maxEntries;
  }
}

/** A `stack_trace` map: call stacks by id, each an array of instruction pointers. */
export class StackTraceMap extends BpfMap<number, bigint[]> {
  /** The instruction pointers of stack `id`, innermost first, or undefined when there is none. */
  get(id: number): bigint[] | undefined {
    return this.elementLookup(id);
  }

  /** Frees stack `id`; false when it was not there. */
  delete(id: number): boolean {
    return this.elementDelete(id);
  }

  /** The ids of the stacks stored. */
  ids(): IterableIterator<number> {
    return this.elementKeys();
  }
}
