/**
 * Native memory for bpf() arguments: the per-process scratch arena and owned `NativeBuffer`s.
 *
 * THE TRANSIENT POINTER PITFALL. koffi can pass a Buffer or TypedArray as a `void *` argument, but that
 * pointer is only valid *during that one call* (koffi may copy the bytes, and V8 may move small typed
 * arrays that live on its heap). `union bpf_attr` embeds pointers — key, value, insns, log_buf, info —
 * that the kernel dereferences later, inside the same syscall but long after koffi converted its
 * arguments. `koffi.address()` of a JS buffer is no better: whether it stays valid depends on V8
 * internals. So every byte the kernel reads or writes through an embedded pointer lives here, in memory
 * from mmap or malloc, which never moves; JS reaches it through `koffi.view` (an ArrayBuffer over the
 * native bytes, no copy) and hands the kernel plain Number addresses.
 *
 * The scratch arena is one mapping per thread (a module instance is per worker): 256 bytes for the attr,
 * then a data region for keys, values, batches, info structs and short strings, grown when a call
 * needs more. A PROT_NONE guard page follows it, so a kernel write past the end (a value buffer shorter
 * than the map's value size, say) fails with EFAULT instead of corrupting the heap. Contents never
 * survive from one command to the next, and views taken from it must not be kept across calls (growth
 * replaces the mapping).
 *
 * `NativeBuffer` is an owned malloc allocation for large or long-lived things (instructions, verifier
 * logs up to hundreds of MiB), freed deterministically by `close()`; a FinalizationRegistry frees one
 * that was dropped without closing, as a safety net only.
 */

import { ClosedError } from "../errors.js";
import { free, malloc, MapFlags, mmap, mprotect, munmap, nativeView, Prot, sysconfPageSize } from "./libc.js";

/** Bytes reserved for `union bpf_attr` at the start of the arena (the 6.18 union is 168 bytes). */
export const ATTR_REGION_SIZE = 256;

/** The arena's first data region size: room for the usual keys, values, info structs and a path. */
const INITIAL_DATA_SIZE = 64 * 1024;

/** Rounds up to a multiple of 8, the alignment the kernel expects for u64 arrays. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** The per-thread scratch arena; see the file header. Fields are re-derived on growth. */
class ScratchArena {
  /** Address of the attr region (the arena's start). */
  address = 0;
  /** Address of the data region. */
  dataAddress = 0;
  /** Capacity of the data region in bytes (the guard page starts right after it). */
  dataSize = 0;
  /** Bytes of the whole arena (attr + data). */
  bytes = new Uint8Array(0);
  /** DataView over the whole arena. */
  view = new DataView(this.bytes.buffer);
  /** u32 words of the whole arena, for the hot paths' attr writes. */
  u32 = new Uint32Array(0);
  private mappedLength = 0;
  private readonly page = sysconfPageSize();

  constructor() {
    this.map(INITIAL_DATA_SIZE);
  }

  /** Ensures the data region holds at least `size` bytes (the old contents are not kept). */
  reserve(size: number): void {
    if (size > this.dataSize) this.map(Math.max(size, this.dataSize * 2));
  }

  /**
   * Copies byte arrays into the data region, each 8-byte aligned, and returns their addresses (0 for a
   * missing or empty part). The previous data contents are lost.
   */
  pack(parts: readonly (Uint8Array | undefined)[]): number[] {
    let size = 0;
    for (const part of parts) size += align8(part?.length ?? 0);
    this.reserve(size);
    const addresses: number[] = [];
    let offset = ATTR_REGION_SIZE;
    for (const part of parts) {
      if (part === undefined || part.length === 0) {
        addresses.push(0);
        continue;
      }
      this.bytes.set(part, offset);
      addresses.push(this.address + offset);
      offset += align8(part.length);
    }
    return addresses;
  }

  /** Zeroes the first `size` bytes of the attr region. */
  zeroAttr(size: number): void {
    this.bytes.fill(0, 0, size);
  }

  private map(dataSize: number): void {
    const usable = Math.ceil((ATTR_REGION_SIZE + dataSize) / this.page) * this.page;
    const address = mmap(0, usable + this.page, Prot.READ | Prot.WRITE, MapFlags.PRIVATE | MapFlags.ANONYMOUS, -1, 0);
    mprotect(address + usable, this.page, Prot.NONE);
    if (this.mappedLength > 0) munmap(this.address, this.mappedLength);
    this.mappedLength = usable + this.page;
    this.address = address;
    this.dataAddress = address + ATTR_REGION_SIZE;
    this.dataSize = usable - ATTR_REGION_SIZE;
    const buffer = nativeView(address, usable);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.u32 = new Uint32Array(buffer);
  }
}

/** The scratch arena of this thread. @internal Only the command files of src/sys use it. */
export const scratch = new ScratchArena();

/** Encoder for C strings written into native memory. */
const utf8 = new TextEncoder();

/**
 * Writes `text` as a NUL-terminated UTF-8 string into `bytes` at `offset`; returns the bytes used.
 * Throws TypeError if it holds a NUL (the kernel would see a shorter string).
 */
export function writeCString(bytes: Uint8Array, offset: number, text: string): number {
  if (text.includes("\0")) throw new TypeError(`string ${JSON.stringify(text)} contains a NUL character`);
  const { written } = utf8.encodeInto(text, bytes.subarray(offset, bytes.length - 1));
  bytes[offset + written] = 0;
  return written + 1;
}

/** The bytes of `text` as a NUL-terminated UTF-8 string (TypeError if it holds a NUL). */
export function cStringBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(cStringCapacity(text));
  return bytes.subarray(0, writeCString(bytes, 0, text));
}

/** The most bytes a C string of `text` can take (UTF-8 uses at most 3 bytes per UTF-16 unit, plus the NUL). */
export function cStringCapacity(text: string): number {
  return text.length * 3 + 1;
}

/** Decoder for kernel strings. */
const utf8Decoder = new TextDecoder("utf-8");

/** Decodes the NUL-terminated string in `bytes[offset, offset + max)` (copying it out of native memory). */
export function readCString(bytes: Uint8Array, offset: number, max: number): string {
  let end = offset;
  const limit = Math.min(offset + max, bytes.length);
  while (end < limit && bytes[end] !== 0) end++;
  return utf8Decoder.decode(bytes.slice(offset, end));
}

/** Frees the allocations of NativeBuffers that were dropped without close(). */
const leakedBuffers = new FinalizationRegistry<number>((address) => free(address));

/** The bytes {@link packInto} needs for `parts`. */
export function packedSize(parts: readonly (Uint8Array | undefined)[]): number {
  let size = 0;
  for (const part of parts) size += align8(part?.length ?? 0);
  return size;
}

/**
 * Copies `parts` into `target` (native memory at `address`), each at an 8-byte aligned offset, and
 * returns each part's address (0 for an absent or empty part, so that it can go straight into an attr).
 */
export function packInto(target: Uint8Array, address: number, parts: readonly (Uint8Array | undefined)[]): number[] {
  const addresses: number[] = [];
  let offset = 0;
  for (const part of parts) {
    if (part === undefined || part.length === 0) {
      addresses.push(0);
      continue;
    }
    target.set(part, offset);
    addresses.push(address + offset);
    offset += align8(part.length);
  }
  return addresses;
}

/**
 * An owned allocation of native memory with a stable address, for data the kernel reads or writes
 * through an attr pointer. Free it with `close()` (or `using`); views of it must not outlive it.
 */
export class NativeBuffer implements Disposable {
  #address: number;
  #bytes: Uint8Array | undefined;
  /** Size in bytes. */
  readonly size: number;

  private constructor(size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`native buffer size must be positive, got ${size}`);
    this.size = size;
    this.#address = malloc(size);
    leakedBuffers.register(this, this.#address, this);
  }

  /** Allocates `size` bytes; they start out undefined unless `zero` is set. */
  static allocate(size: number, zero = false): NativeBuffer {
    const buffer = new NativeBuffer(size);
    if (zero) buffer.bytes.fill(0);
    return buffer;
  }

  /**
   * Copies `parts` into one new buffer, each at an 8-byte aligned offset, and returns the buffer with
   * each part's address (0 for an absent or empty part, so that it can go straight into an attr).
   */
  static pack(parts: readonly (Uint8Array | undefined)[]): { buffer: NativeBuffer; addresses: number[] } {
    const buffer = new NativeBuffer(packedSize(parts) || 8);
    return { buffer, addresses: packInto(buffer.bytes, buffer.#address, parts) };
  }

  /** The allocation's address. Throws ClosedError after close(). */
  get address(): number {
    if (this.#address === 0) throw new ClosedError("native buffer");
    return this.#address;
  }

  /** A view of the bytes (no copy). Throws ClosedError after close(); never keep it past close(). */
  get bytes(): Uint8Array {
    if (this.#address === 0) throw new ClosedError("native buffer");
    return (this.#bytes ??= new Uint8Array(nativeView(this.#address, this.size)));
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#address === 0;
  }

  /** Frees the memory; later calls do nothing. */
  close(): void {
    if (this.#address === 0) return;
    leakedBuffers.unregister(this);
    const address = this.#address;
    this.#address = 0;
    this.#bytes = undefined;
    free(address);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
