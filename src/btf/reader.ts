/**
 * A bounds-checked cursor over the bytes of one section (.BTF or .BTF.ext), with the section's byte
 * order fixed at construction. Every read checks once that the value lies inside the bytes and throws a
 * `FormatError` naming the file, the section and the offset otherwise, so the parsers above it never
 * read past the end, whatever the counts and offsets in the input claim.
 */

import { FormatError } from "../errors.js";

/** What a reader reports in its errors: the format (`BTF`, `BTF.ext`), the file and the section. */
export interface ReaderPlace {
  readonly format: string;
  readonly file: string | undefined;
  readonly section: string;
}

/** A cursor over a `Uint8Array`; `pos` is the offset of the next read. */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  readonly place: ReaderPlace;
  /** The offset of the next read. */
  pos = 0;
  readonly #view: DataView;

  constructor(bytes: Uint8Array, littleEndian: boolean, place: ReaderPlace) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.place = place;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The number of bytes. */
  get length(): number {
    return this.bytes.length;
  }

  /** An error about the bytes at `offset` (default: the cursor). */
  error(what: string, offset = this.pos): FormatError {
    return new FormatError(this.place.format, what, { file: this.place.file, section: this.place.section, offset });
  }

  /** Throws unless `size` bytes are readable at the cursor; `what` names them in the error. */
  need(size: number, what: string): void {
    if (size > this.bytes.length - this.pos) {
      throw this.error(`${what} is truncated: needs ${size} bytes, ${Math.max(0, this.bytes.length - this.pos)} left`);
    }
  }

  /** Reads a u8 and advances. */
  u8(): number {
    this.need(1, "u8");
    return this.bytes[this.pos++]!;
  }

  /** Reads a u16 in the section's byte order and advances. */
  u16(): number {
    this.need(2, "u16");
    const value = this.#view.getUint16(this.pos, this.littleEndian);
    this.pos += 2;
    return value;
  }

  /** Reads a u32 in the section's byte order and advances. */
  u32(): number {
    this.need(4, "u32");
    const value = this.#view.getUint32(this.pos, this.littleEndian);
    this.pos += 4;
    return value;
  }

  /** Reads an s32 in the section's byte order and advances. */
  i32(): number {
    this.need(4, "i32");
    const value = this.#view.getInt32(this.pos, this.littleEndian);
    this.pos += 4;
    return value;
  }

  /** The u32 at `offset`, without moving the cursor; the caller has checked the bounds. */
  u32At(offset: number): number {
    return this.#view.getUint32(offset, this.littleEndian);
  }
}
