/**
 * `MappedMemory`: a map's memory mmapped into the process (BPF_F_MMAPABLE arrays, arenas), read and
 * written with no syscall at all.
 *
 * Lifetime is the hard part: JS code may still hold a view of the memory when the map is closed, and
 * touching unmapped memory kills the process. So `close()` only cuts Waggle's own access (its accessors
 * then throw ClosedError); once `view` or `buffer` has handed the memory out, the mapping itself is
 * removed when the ArrayBuffer over it is garbage collected, so a view handed out earlier stays
 * harmless instead of segfaulting. Memory never handed out (variables, `read()`) is unmapped at
 * `close()`, which also releases the kernel map (a mapping holds a reference to it) and its address.
 * Memory the kernel maps read-only (frozen `.rodata`) is never handed out as an ArrayBuffer — a write
 * through it would crash — only read through accessors that refuse writes before they reach it.
 */

import { ClosedError, isWaggleError, SyscallError } from "../errors.js";
import { libc } from "../sys/index.js";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 0x01;
/** Map at exactly the hint, failing rather than replacing an existing mapping (Linux 4.17+). */
const MAP_FIXED_NOREPLACE = 0x100000;

/** Unmaps a mapping once the ArrayBuffer over it can no longer be reached. */
const unmapWhenUnreachable = new FinalizationRegistry<{ address: number; length: number }>(({ address, length }) => {
  libc.munmap(address, length);
});

/** Options of {@link MappedMemory.map}. */
export interface MapMemoryOptions {
  /** Map read-write (the default) or read-only. */
  writable?: boolean;
  /** Map at exactly this address (an arena's `map_extra`), 0 for anywhere. */
  address?: number;
  /** What the memory belongs to, for messages: `map "counts"`. */
  subject: string;
}

/** The memory of a map, mmapped. */
export class MappedMemory {
  /** Bytes mapped. */
  readonly length: number;
  /** Whether writes are allowed. */
  readonly writable: boolean;
  /** The address the memory starts at in this process. */
  readonly address: number;
  readonly #subject: string;
  #view: DataView | undefined;
  /** Whether `view` or `buffer` gave the memory to the caller (then only the GC may unmap it). */
  #handedOut = false;
  /** The unregister token of the finalizer. */
  readonly #token = {};

  private constructor(address: number, length: number, writable: boolean, subject: string) {
    this.address = address;
    this.length = length;
    this.writable = writable;
    this.#subject = subject;
    const buffer = libc.nativeView(address, length);
    this.#view = new DataView(buffer);
    unmapWhenUnreachable.register(buffer, { address, length }, this.#token);
  }

  /** mmaps `length` bytes of the map behind `fd` (offset 0, shared). */
  static map(fd: number, length: number, options: MapMemoryOptions): MappedMemory {
    const writable = options.writable ?? true;
    const hint = options.address ?? 0;
    let address: number;
    try {
      address = libc.mmap(
        hint,
        length,
        writable ? PROT_READ | PROT_WRITE : PROT_READ,
        MAP_SHARED | (hint !== 0 ? MAP_FIXED_NOREPLACE : 0),
        fd,
        0,
      );
    } catch (error) {
      if (hint === 0 || !isWaggleError(error, "SyscallError") || error.code !== "EEXIST") throw error;
      throw new SyscallError(
        "mmap",
        error.errno,
        `${options.subject} at 0x${hint.toString(16)}: the address is in use (an earlier map's memory there stays mapped while a view of it is reachable)`,
      );
    }
    return new MappedMemory(address, length, writable, options.subject);
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#view === undefined;
  }

  /**
   * A DataView over the memory for reads and writes with no syscall. Throws ClosedError after close(),
   * and TypeError for read-only memory (use `read()`).
   */
  get view(): DataView {
    const view = this.#checked();
    if (!this.writable) throw new TypeError(`Cannot hand out ${this.#subject}'s memory as a view: it is read-only (use read())`);
    this.#handedOut = true;
    return view;
  }

  /** The memory as an ArrayBuffer (writable memory only; see `view`). */
  get buffer(): ArrayBuffer {
    return this.view.buffer as ArrayBuffer;
  }

  /** @internal The view, read-only or not, for accessors that check writes themselves. */
  get internalView(): DataView {
    return this.#checked();
  }

  /** A copy of `length` bytes at `offset`. */
  read(offset: number, length: number): Uint8Array {
    const view = this.#checked();
    if (offset < 0 || length < 0 || offset + length > this.length) {
      throw new RangeError(`Cannot read ${length} bytes at ${offset} of ${this.#subject}'s ${this.length}-byte memory`);
    }
    return new Uint8Array(view.buffer, view.byteOffset + offset, length).slice();
  }

  /**
   * Ends Waggle's access to the memory. Memory never handed out is unmapped now; otherwise the mapping
   * goes when no view of it remains. Idempotent.
   */
  close(): void {
    if (this.#view === undefined) return;
    this.#view = undefined;
    if (!this.#handedOut) {
      unmapWhenUnreachable.unregister(this.#token);
      libc.munmap(this.address, this.length);
    }
  }

  #checked(): DataView {
    if (this.#view === undefined) throw new ClosedError(`the memory of ${this.#subject}`);
    return this.#view;
  }
}
