/**
 * Maps with memory or records rather than plain elements: arenas (memory shared with programs), ring
 * buffers (records from programs, or to them for user ring buffers) and stack-trace maps (call stacks
 * captured by `bpf_get_stackid()`, named by the symbolisation layer).
 */

import { NotSupportedError } from "../errors.js";
import { symbolizeStack, type StackFrame, type SymbolizeOptions } from "../symbols/index.js";
import { pageSize } from "../sys/index.js";
import { MapFlags } from "../uapi.js";
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

/**
 * A `stack_trace` map: call stacks by id, each an array of instruction pointers. Maps created with
 * BPF_F_STACK_BUILD_ID hold build ids and file offsets instead, which Waggle does not decode: reading
 * their stacks throws `NotSupportedError`.
 */
export class StackTraceMap extends BpfMap<number, bigint[]> {
  /**
   * The instruction pointers of stack `id`, innermost first, or undefined when there is none.
   *
   * @throws {NotSupportedError} When the map was created with BPF_F_STACK_BUILD_ID.
   */
  get(id: number): bigint[] | undefined {
    if ((this.flags & MapFlags.STACK_BUILD_ID) !== 0) {
      throw new NotSupportedError(
        `reading stack trace map "${this.name}"`,
        "it was created with BPF_F_STACK_BUILD_ID, whose frames (build ids and file offsets) Waggle does not decode; " +
          "create it without the flag",
      );
    }
    return this.elementLookup(id);
  }

  /**
   * The frames of stack `id`, innermost first, named by `symbolizeStack()`: kernel addresses from
   * /proc/kallsyms, user addresses (of a stack captured with BPF_F_USER_STACK) from the symbols of the
   * process given as `pid` or `processSymbols`. Undefined when there is no stack `id`.
   *
   * @throws {NotSupportedError} When the map was created with BPF_F_STACK_BUILD_ID, or the kernel hides
   *   its symbols' addresses.
   * @throws {TypeError} When the stack holds user addresses and no process is given.
   * @throws {SyscallError} With code `ESRCH` when process `pid` has exited.
   * @example
   * console.log(stacks.symbolize(userStackId, { pid })!.map(formatFrame).join("\n"));
   */
  symbolize(id: number, options?: SymbolizeOptions): StackFrame[] | undefined {
    const ips = this.get(id);
    return ips === undefined ? undefined : symbolizeStack(ips, options);
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
