/**
 * A growable little- or big-endian byte buffer for the BTF and .BTF.ext marshallers. It reserves space
 * once per value, doubles its capacity when full, and hands out the written bytes as one `Uint8Array`.
 */

/** The first allocation: enough for a small object's BTF without growing. */
const INITIAL_CAPACITY = 4096;

/** An append-only byte buffer. */
export class ByteWriter {
  readonly littleEndian: boolean;
  #bytes = new Uint8Array(INITIAL_CAPACITY);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  constructor(littleEndian: boolean) {
    this.littleEndian = littleEndian;
  }

  /** The number of bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Appends a u8. */
  u8(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  /** Appends a u16 in the writer's byte order. */
  u16(value: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.#length, value, this.littleEndian);
    this.#length += 2;
  }

  /** Appends a u32 (or an s32, as its two's complement) in the writer's byte order. */
  u32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value >>> 0, this.littleEndian);
    this.#length += 4;
  }

  /** Overwrites the u32 at `offset`, which must already be written (used to patch lengths). */
  u32At(offset: number, value: number): void {
    this.#view.setUint32(offset, value >>> 0, this.littleEndian);
  }

  /** Appends bytes as they are. */
  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#bytes.set(data, this.#length);
    this.#length += data.length;
  }

  /** The bytes written, trimmed to length. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  #reserve(size: number): void {
    if (this.#length + size <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < this.#length + size) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer);
  }
}
