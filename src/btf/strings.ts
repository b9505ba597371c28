/**
 * The BTF string section: NUL-terminated strings addressed by byte offset. `BtfStrings` keeps the section's
 * original bytes, so every existing string keeps its offset, and appends strings it does not yet hold.
 * That is what makes marshalling an unmodified `Btf` byte-identical and keeps the raw string offsets in
 * .BTF.ext valid. For split BTF (kernel modules) the offsets continue after the base's section: offsets
 * below `start` resolve in the base.
 *
 * Strings are decoded on demand and cached; the string→offset index is only built when something asks
 * for an offset.
 */

import { nameKey, nameKeyAscii } from "./name-index.js";
import { decodeUtf8 } from "../text.js";

const encoder = new TextEncoder();

/** The byte that ends every string. */
const NUL = 0;

/** A BTF string section that can grow. */
export class BtfStrings {
  /** The base BTF's strings, for split BTF. */
  readonly base: BtfStrings | undefined;
  /** The offset of this section's first byte: the base's size, or 0. */
  readonly start: number;
  #bytes: Uint8Array;
  #length: number;
  /** False while `#bytes` is a view of the caller's input, which must not be written. */
  #owned = false;
  readonly #decoded = new Map<number, string>();
  #offsets: Map<string, number> | undefined;

  /**
   * Wraps a string section. The bytes are not copied; they must stay unchanged while this is in use.
   * The caller has checked that a non-empty section ends with a NUL byte.
   */
  constructor(bytes: Uint8Array, base?: BtfStrings) {
    this.base = base;
    this.start = base === undefined ? 0 : base.end;
    this.#bytes = bytes;
    this.#length = bytes.length;
  }

  /** The size of this section in bytes (without the base's). */
  get size(): number {
    return this.#length;
  }

  /** One past the last valid offset, counting the base's strings. */
  get end(): number {
    return this.start + this.#length;
  }

  /** This section's bytes (without the base's), including appended strings. Do not modify them. */
  bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** Whether `offset` points into the strings (this section or the base's). */
  has(offset: number): boolean {
    return Number.isInteger(offset) && offset >= 0 && offset < this.end;
  }

  /**
   * The string at `offset`: the bytes from there to the next NUL, decoded as UTF-8.
   *
   * @throws {RangeError} when `offset` is outside the strings
   */
  get(offset: number): string {
    if (offset < this.start) {
      if (this.base === undefined) throw new RangeError(`Cannot read BTF string at offset ${offset}: out of range`);
      return this.base.get(offset);
    }
    const cached = this.#decoded.get(offset);
    if (cached !== undefined) return cached;
    if (!this.has(offset)) {
      throw new RangeError(`Cannot read BTF string at offset ${offset}: the strings end at ${this.end}`);
    }
    const local = offset - this.start;
    const text = decodeUtf8(this.#bytes, local, this.#terminator(local));
    this.#decoded.set(offset, text);
    return text;
  }

  /** The offset of `text` if the strings (this section or the base's) hold it, without adding it. */
  find(text: string): number | undefined {
    return this.base?.find(text) ?? this.#index().get(text);
  }

  /** The offset of `text`: where it already is, else where it is appended. */
  offsetOf(text: string): number {
    const found = this.find(text);
    if (found !== undefined) return found;
    const encoded = encoder.encode(text);
    if (encoded.includes(NUL)) throw new TypeError(`Cannot add a BTF string containing NUL: ${JSON.stringify(text)}`);
    const offset = this.end;
    this.#append(encoded);
    this.#index().set(text, offset);
    this.#decoded.set(offset, text);
    return offset;
  }

  /**
   * @internal The name key (see name-index.ts) of the string at `offset`, computed on the bytes without
   * decoding them; undefined when `offset` is out of range. Used by `Btf`'s name index.
   */
  keyAt(offset: number): number | undefined {
    if (offset < this.start) return this.base?.keyAt(offset);
    if (!(offset < this.end)) return undefined;
    return nameKeyAscii(this.#bytes, offset - this.start, this.#length) ?? nameKey(this.get(offset));
  }

  /**
   * @internal The 4 bytes at `offset` as a little-endian int32, bytes past the end of the section holding
   * `offset` (this one or the base's) reading as 0, and 0 for an offset out of range. Used by `Btf`'s
   * name prefix tables.
   */
  wordAt(offset: number): number {
    if (offset < this.start) return this.base?.wordAt(offset) ?? 0;
    const local = offset - this.start;
    if (!(local < this.#length)) return 0;
    let word = 0;
    for (let i = 3; i >= 0; i--) word = (word << 8) | (local + i < this.#length ? this.#bytes[local + i]! : 0);
    return word;
  }

  /** The index of the NUL ending the string at local offset `local` (the section ends with one). */
  #terminator(local: number): number {
    const end = this.#bytes.indexOf(NUL, local);
    return end < 0 || end > this.#length ? this.#length : end;
  }

  /** The reverse index over this section's own strings; the first occurrence of a duplicate wins. */
  #index(): Map<string, number> {
    if (this.#offsets !== undefined) return this.#offsets;
    const offsets = new Map<string, number>();
    let local = 0;
    while (local < this.#length) {
      const end = this.#terminator(local);
      const text = decodeUtf8(this.#bytes, local, end);
      if (!offsets.has(text)) offsets.set(text, this.start + local);
      local = end + 1;
    }
    this.#offsets = offsets;
    return offsets;
  }

  #append(encoded: Uint8Array): void {
    const needed = this.#length + encoded.length + 1;
    if (!this.#owned || needed > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.#length * 2));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
      this.#owned = true;
    }
    this.#bytes.set(encoded, this.#length);
    this.#bytes[this.#length + encoded.length] = NUL;
    this.#length = needed;
  }
}
