/**
 * A bounds-checked cursor over a byte range with explicit endianness: the one way the ELF parser reads
 * integers. A reader knows where its bytes come from (file and, for section contents, the section), so a
 * short or corrupt range becomes a `FormatError` naming that place, with offsets relative to the range.
 * 64-bit values are returned as numbers and rejected when they exceed `Number.MAX_SAFE_INTEGER`.
 */

import { FormatError } from "../errors.js";

/** Where a reader's bytes come from, for error messages. */
export interface ReadPlace {
  /** The file name, if known. */
  readonly file?: string | undefined;
  /** The section whose contents are being read; absent when the range is the whole file. */
  readonly section?: string | undefined;
}

/** 2^32, to combine the two halves of a 64-bit value. */
const TWO_POW_32 = 0x1_0000_0000;
/** The largest high half of a u64 that keeps the value within Number.MAX_SAFE_INTEGER. */
const MAX_SAFE_HIGH = 0x1f_ffff;

/** A cursor over `bytes` that checks each value against the end of the range before reading it. */
export class ByteReader {
  /** The offset of the next read, relative to the start of `bytes`. */
  offset = 0;
  private readonly view: DataView;

  constructor(
    /** The bytes read: the whole file or one section's data. */
    readonly bytes: Uint8Array,
    /** The byte order of every multi-byte value. */
    readonly littleEndian: boolean,
    /** Where the bytes come from. */
    readonly place: ReadPlace = {},
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Moves the cursor to `offset`; the next read checks it. */
  seek(offset: number): this {
    this.offset = offset;
    return this;
  }

  /** Throws a `FormatError` at `offset` unless `size` bytes from there lie within the range. */
  expect(offset: number, size: number, what: string): void {
    const length = this.bytes.length;
    if (offset < 0 || offset > length || size > length - offset) {
      this.fail(`${what} is truncated: needs 0x${size.toString(16)} bytes, only 0x${Math.max(0, length - offset).toString(16)} remain`, offset);
    }
  }

  /** Reads an unsigned byte. */
  u8(): number {
    return this.view.getUint8(this.take(1));
  }

  /** Reads an unsigned 16-bit integer. */
  u16(): number {
    return this.view.getUint16(this.take(2), this.littleEndian);
  }

  /** Reads an unsigned 32-bit integer. */
  u32(): number {
    return this.view.getUint32(this.take(4), this.littleEndian);
  }

  /** Reads an unsigned 64-bit integer named `field`; a value above 2^53 - 1 is a `FormatError`. */
  u64(field: string): number {
    const at = this.take(8);
    const [low, high] = this.halves(at);
    if (high > MAX_SAFE_HIGH) {
      this.fail(`${field} 0x${high.toString(16)}${low.toString(16).padStart(8, "0")} is too large`, at);
    }
    return high * TWO_POW_32 + low;
  }

  /** Reads a signed 64-bit integer named `field`; a value outside ±(2^53 - 1) is a `FormatError`. */
  i64(field: string): number {
    const at = this.take(8);
    const [low] = this.halves(at);
    const high = this.view.getInt32(this.littleEndian ? at + 4 : at, this.littleEndian);
    const value = high * TWO_POW_32 + low;
    if (!Number.isSafeInteger(value)) this.fail(`${field} is too large`, at);
    return value;
  }

  /** Throws a `FormatError` saying `what` at `offset` (by default the cursor). */
  fail(what: string, offset: number = this.offset): never {
    throw new FormatError("ELF", what, { ...this.place, offset });
  }

  /** Checks that `size` bytes are left at the cursor, advances past them and returns where they start. */
  private take(size: number): number {
    const at = this.offset;
    this.expect(at, size, "value");
    this.offset = at + size;
    return at;
  }

  /** The unsigned low and high 32-bit halves of the 64-bit value at `at`. */
  private halves(at: number): [low: number, high: number] {
    const first = this.view.getUint32(at, this.littleEndian);
    const second = this.view.getUint32(at + 4, this.littleEndian);
    return this.littleEndian ? [first, second] : [second, first];
  }
}
