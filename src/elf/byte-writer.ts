/**
 * A growable byte buffer with explicit endianness, the writer's counterpart of `ByteReader`. It starts
 * empty, doubles its capacity when a value does not fit, reserves space once per value and hands back
 * a view of what was written. Callers pass values already checked to fit their width. Each method
 * reserves before touching `view`, since reserving may replace it.
 */

/** 2^32, to split 64-bit values into halves. */
const TWO_POW_32 = 0x1_0000_0000;
/** The smallest capacity a writer grows to. */
const MIN_CAPACITY = 256;

const EMPTY = new Uint8Array(0);

/** Appends integers and bytes to a buffer. */
export class ByteWriter {
  /** How many bytes have been written. */
  length = 0;
  private buffer = EMPTY;
  private view = new DataView(EMPTY.buffer);

  constructor(
    /** The byte order of every multi-byte value. */
    readonly littleEndian: boolean,
  ) {}

  /** Appends a byte. */
  u8(value: number): this {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
    return this;
  }

  /** Appends an unsigned 16-bit integer. */
  u16(value: number): this {
    const at = this.reserve(2);
    this.view.setUint16(at, value, this.littleEndian);
    return this;
  }

  /** Appends an unsigned 32-bit integer. */
  u32(value: number): this {
    const at = this.reserve(4);
    this.view.setUint32(at, value, this.littleEndian);
    return this;
  }

  /** Appends a 64-bit integer given as a safe integer; negative values are written in two's complement. */
  u64(value: number): this {
    const high = Math.floor(value / TWO_POW_32);
    const low = value - high * TWO_POW_32;
    const at = this.reserve(8);
    this.view.setUint32(at, this.littleEndian ? low : high >>> 0, this.littleEndian);
    this.view.setUint32(at + 4, this.littleEndian ? high >>> 0 : low, this.littleEndian);
    return this;
  }

  /** Appends `data`. */
  bytes(data: Uint8Array): this {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
    return this;
  }

  /** Appends zero bytes up to `offset` (nothing when already there). */
  padTo(offset: number): this {
    if (offset > this.length) this.reserve(offset - this.length);
    return this;
  }

  /** What has been written, as a view. */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** Makes room for `size` more bytes (new bytes are zero) and returns where they start. */
  private reserve(size: number): number {
    const at = this.length;
    const needed = at + size;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2, MIN_CAPACITY));
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return at;
  }
}
