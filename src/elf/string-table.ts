/**
 * ELF string tables (SHT_STRTAB): NUL-terminated names addressed by byte offset. `StringTable` reads
 * them for section and symbol names; `StringTableBuilder` lays them out for the writer. Reading is
 * bounded: each offset is decoded once, and the total decoded from one table is capped at a multiple of
 * its size, so a hostile table cannot make thousands of symbols each decode the same megabyte.
 */

import { FormatError } from "../errors.js";
import type { ReadPlace } from "./byte-reader.js";
import { decodeUtf8 } from "../text.js";

/**
 * How many bytes of names a table may yield per byte it holds. Real tables yield about one (more only
 * where suffixes are shared, as in ".rel.text" and ".text"); the cap stops quadratic blow-ups.
 */
const MAX_EXPANSION = 8;
/** Bytes of names any table may yield regardless of its size, so tiny tables are never a problem. */
const MIN_BUDGET = 4096;

const encoder = new TextEncoder();

/** Reads names from one string table's data. */
export class StringTable {
  private readonly cache = new Map<number, string>();
  private budget: number;

  constructor(
    private readonly data: Uint8Array,
    /** Where the table is, for errors: offsets in them are within the table. */
    private readonly place: ReadPlace,
  ) {
    this.budget = MIN_BUDGET + MAX_EXPANSION * data.length;
  }

  /**
   * The NUL-terminated string at `offset`. `owner` names what the string belongs to, for errors
   * (`["symbol", 3]` reads "the name of symbol 3"; given in parts so that no message is built unless needed).
   */
  get(offset: number, owner: readonly [what: string, index: number]): string {
    const cached = this.cache.get(offset);
    if (cached !== undefined) return cached;
    if (offset >= this.data.length) {
      this.fail(`${ownerText(owner)} starts past the end of the string table (size 0x${this.data.length.toString(16)})`, offset);
    }
    const end = this.data.indexOf(0, offset);
    if (end < 0) this.fail(`${ownerText(owner)} is not NUL-terminated`, offset);
    this.budget -= end - offset;
    if (this.budget < 0) this.fail(`${ownerText(owner)} takes the names read from this string table past ${MAX_EXPANSION} times its size`, offset);
    const text = decodeUtf8(this.data, offset, end);
    this.cache.set(offset, text);
    return text;
  }

  private fail(what: string, offset: number): never {
    throw new FormatError("ELF", what, { ...this.place, offset });
  }
}

function ownerText([what, index]: readonly [string, number]): string {
  return `the name of ${what} ${index}`;
}

/** Collects distinct strings into string-table bytes: offset 0 is the empty string. */
export class StringTableBuilder {
  private readonly offsets = new Map<string, number>([["", 0]]);
  private readonly parts: Uint8Array[] = [new Uint8Array(1)];
  private length = 1;

  /** The offset of `text`, adding it on first use. */
  add(text: string): number {
    const known = this.offsets.get(text);
    if (known !== undefined) return known;
    if (text.includes("\0")) throw new RangeError(`Cannot write ELF string ${JSON.stringify(text)}: it contains NUL`);
    const bytes = encoder.encode(`${text}\0`);
    const offset = this.length;
    this.offsets.set(text, offset);
    this.parts.push(bytes);
    this.length += bytes.length;
    return offset;
  }

  /** The table's bytes. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
