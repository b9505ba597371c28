/**
 * How a `Btf` finds types by name, per kind and built only for the kinds someone asks about (CO-RE looks
 * up structs, unions and enums, and never pays for vmlinux's 56,000 function names), without decoding
 * names (decoding every name of vmlinux costs far more than reading its bytes):
 *
 * - `NamePrefixTable`, for names of 3 ASCII characters or more and for flavors: the first 8 bytes of each
 *   record's name in two int32 columns. Building it reads two words per record; a lookup is a native
 *   `indexOf`. This is what a first CO-RE lookup in vmlinux costs: its 10,679 structs, not a hash of
 *   every name.
 * - `RecordNameIndex`, for every other lookup (short, empty and non-ASCII names): records filed under a
 *   30-bit FNV-1a hash of their *essential* name's UTF-8 bytes — the name without a CO-RE `___flavor`
 *   suffix (`task_struct___v2` is filed with `task_struct`) — so one index answers both "the types named
 *   X" and "the flavors of X". `Btf` keeps the few types added or replaced later in a plain map by the
 *   same key.
 *
 * Both give candidates: collisions, stale entries and partial matches are harmless, since lookups compare
 * the candidates' actual names.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Hashes are cut to 30 bits so that V8 keeps them as small integers (cheap map keys). */
const HASH_MASK = 0x3fff_ffff;
/** The byte and character `_`. */
const UNDERSCORE = 0x5f;
/** A flavor separator is a run of exactly this many underscores between two other characters. */
const FLAVOR_RUN = 3;

const encoder = new TextEncoder();

/**
 * `name` without its CO-RE flavor: everything from the last `___` that sits between two characters other
 * than `_` is dropped (`task_struct___old` → `task_struct`, `a___b___c` → `a___b`); a name without one is
 * returned whole. The same rule as libbpf's `bpf_core_essential_name_len`.
 */
export function essentialName(name: string): string {
  for (let i = name.length - FLAVOR_RUN - 2; i >= 0; i--) {
    if (name[i] !== "_" && name[i + 1] === "_" && name[i + 2] === "_" && name[i + 3] === "_" && name[i + 4] !== "_") {
      return name.slice(0, i + 1);
    }
  }
  return name;
}

/**
 * The index key of the NUL-terminated ASCII name at `bytes[start]` (or up to `end` if no NUL comes first):
 * the hash of its essential name. Undefined if the name holds a non-ASCII byte: such a name must be keyed
 * as the text it decodes to (with `nameKey`), since invalid UTF-8 decodes to replacement characters that
 * encode differently.
 */
export function nameKeyAscii(bytes: Uint8Array, start: number, end: number): number | undefined {
  let hash = FNV_OFFSET_BASIS;
  // The hash of the essential part once a flavor separator has been seen.
  let essential = 0;
  let flavored = false;
  // The current run of underscores: its length, whether a character precedes it, and that prefix's hash.
  let run = 0;
  let afterCharacter = false;
  let beforeRun = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === 0) break;
    if (byte >= 0x80) return undefined;
    if (byte === UNDERSCORE) {
      if (run === 0) {
        afterCharacter = i > start;
        beforeRun = hash;
      }
      run++;
    } else {
      // A run of exactly three underscores with a character on each side: the last one found wins.
      if (run === FLAVOR_RUN && afterCharacter) {
        essential = beforeRun;
        flavored = true;
      }
      run = 0;
    }
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  }
  return (flavored ? essential : hash) & HASH_MASK;
}

/** The index key of `text`: the hash of its essential name's UTF-8 encoding, equal to `nameKeyAscii`'s. */
export function nameKey(text: string): number {
  return hashName(essentialName(text));
}

/** The hash of `text`'s UTF-8 encoding: the key under which the flavors of `text` are filed. */
export function hashName(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return hashUtf8(text);
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  return hash & HASH_MASK;
}

/** `hashName` of a text that is not all ASCII: the hash of its UTF-8 encoding. */
function hashUtf8(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(text)) hash = Math.imul(hash ^ byte, FNV_PRIME);
  return hash & HASH_MASK;
}

/** What the indexes need from a string section (`BtfStrings`). */
export interface NameSource {
  /** The offset of the section's first byte (non-zero in split BTF, whose lower offsets are the base's). */
  readonly start: number;
  /** The section's own bytes. */
  bytes(): Uint8Array;
  /** The key of the string at `offset` (anywhere, the base included), or undefined when out of range. */
  keyAt(offset: number): number | undefined;
  /**
   * The 4 bytes at `offset` (anywhere, the base included) as a little-endian int32; bytes past the end of
   * the section holding `offset`, or of all sections, read as 0.
   */
  wordAt(offset: number): number;
}

/** The records to index: a chain through the record indexes (see `ScannedBtf.firstOfKind`): `first`, then `next[r] - 1` after `r`. */
export interface RecordChain {
  readonly first: number;
  readonly next: Int32Array;
  readonly count: number;
  /** Every record's name offset, by record index. */
  readonly names: Uint32Array;
}

/** The bytes of a name pattern that a `NamePrefixTable` compares: 4 to 8 of them. */
const PATTERN_MIN = 4;
const PATTERN_WORDS = 2;

/**
 * The bytes a `NamePrefixTable` lookup matches for `text` followed by `suffix` (`"\0"` for "named
 * exactly", `"___"` for "a flavor of"), or undefined when that lookup cannot be done by bytes: the text
 * is not ASCII (non-ASCII names compare as decoded text) or holds a NUL, or the pattern is shorter than
 * 4 bytes.
 */
export function namePattern(text: string, suffix: string): Uint8Array | undefined {
  const pattern = text + suffix;
  if (pattern.length < PATTERN_MIN) return undefined;
  const bytes = new Uint8Array(pattern.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0 || code >= 0x80) return undefined;
    bytes[i] = code;
  }
  for (let i = 0; i < suffix.length; i++) bytes[text.length + i] = suffix.charCodeAt(i);
  return bytes;
}

/** The little-endian int32 of `bytes[at, at + 4)`, bytes past the end reading as 0. */
function wordOf(bytes: Uint8Array, at: number): number {
  return (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16) | ((bytes[at + 3] ?? 0) << 24);
}

/**
 * The first 8 bytes of the names of one kind's records, as two int32 columns: a lookup is a native
 * `indexOf` over the first column and a compare of the second, with no hashing at all. Building it reads
 * two words per record, which a process that has not compiled this code yet does in a fraction of the time
 * it takes to hash every name — the difference between a first CO-RE lookup in vmlinux costing
 * milliseconds and a fraction of one. Lookups must give a pattern of 4 bytes or more (`namePattern`);
 * what matches on 8 bytes is a candidate, to be checked against the whole name.
 */
export class NamePrefixTable {
  readonly #records: Int32Array;
  readonly #first: Int32Array;
  readonly #second: Int32Array;
  /** Past answers of `collect`, by the pattern's first 8 bytes. */
  readonly #answers = new Map<string, number[]>();

  constructor(chain: RecordChain, strings: NameSource) {
    this.#records = new Int32Array(chain.count);
    this.#first = new Int32Array(chain.count);
    this.#second = new Int32Array(chain.count);
    fillPrefixes(chain, strings, this.#records, this.#first, this.#second);
  }

  /**
   * Appends to `out` the indexes of the records whose name starts with the first 8 bytes of `pattern`
   * (all of it, if shorter), in ascending order. Answers are remembered: a table's records never change.
   */
  collect(pattern: Uint8Array, out: number[]): void {
    const key = String.fromCharCode(...pattern.subarray(0, PATTERN_WORDS * 4));
    let found = this.#answers.get(key);
    if (found === undefined) {
      found = [];
      const first = wordOf(pattern, 0);
      const tail = Math.min(pattern.length - 4, 4);
      const mask = tail === 4 ? -1 : (1 << (8 * tail)) - 1;
      const second = wordOf(pattern, 4) & mask;
      const firstWords = this.#first;
      const secondWords = this.#second;
      for (let entry = firstWords.indexOf(first); entry !== -1; entry = firstWords.indexOf(first, entry + 1)) {
        if ((secondWords[entry]! & mask) === second) found.push(this.#records[entry]!);
      }
      this.#answers.set(key, found);
    }
    for (const record of found) out.push(record);
  }
}

/**
 * Fills a `NamePrefixTable`'s columns. The loop is alone in its function: V8 compiles it while it runs,
 * and code after it that had not run yet would throw that compiled code away on the way out.
 */
function fillPrefixes(chain: RecordChain, strings: NameSource, records: Int32Array, firstWords: Int32Array, secondWords: Int32Array): void {
  const { first, next, count, names } = chain;
  const bytes = strings.bytes();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = strings.start;
  const end = bytes.length - PATTERN_WORDS * 4;
  for (let entry = 0, record = first; entry < count && record >= 0; entry++, record = next[record]! - 1) {
    records[entry] = record;
    const offset = names[record]!;
    const local = offset - start;
    if (local >= 0 && local <= end) {
      firstWords[entry] = view.getInt32(local, true);
      secondWords[entry] = view.getInt32(local + 4, true);
    } else {
      firstWords[entry] = strings.wordAt(offset);
      secondWords[entry] = strings.wordAt(offset + 4);
    }
  }
}

/** Fills a `RecordNameIndex`'s tables (alone in its function, like `fillPrefixes`). */
function fillIndex(chain: RecordChain, strings: NameSource, heads: Int32Array, next: Int32Array, keys: Int32Array, records: Int32Array): void {
  const { first, next: nextRecord, count, names } = chain;
  const mask = heads.length - 1;
  const bytes = strings.bytes();
  const start = strings.start;
  const length = bytes.length;
  for (let entry = 0, record = first; entry < count && record >= 0; entry++, record = nextRecord[record]! - 1) {
    records[entry] = record;
    const offset = names[record]!;
    const local = offset - start;
    const key = (local >= 0 && local < length ? nameKeyAscii(bytes, local, length) : undefined) ?? strings.keyAt(offset);
    if (key === undefined) continue;
    const bucket = key & mask;
    keys[entry] = key;
    next[entry] = heads[bucket]!;
    heads[bucket] = entry + 1;
  }
}

/** A chained hash table from name key to record indexes, built once over a list of records. */
export class RecordNameIndex {
  /** Bucket → 1 + the last entry in it (0 = empty). */
  readonly #heads: Int32Array;
  /** Entry → 1 + the previous entry in the same bucket (0 = end). */
  readonly #next: Int32Array;
  /** Entry → its name key, to skip the other names sharing a bucket. */
  readonly #keys: Int32Array;
  /** Entry → its record index. */
  readonly #records: Int32Array;
  readonly #mask: number;

  /**
   * Indexes a chain of records (see `RecordChain`) whose names are in `strings`. Names out of range are
   * left out.
   */
  constructor(chain: RecordChain, strings: NameSource) {
    let size = 1;
    while (size < chain.count * 2) size *= 2;
    this.#heads = new Int32Array(size);
    this.#next = new Int32Array(chain.count);
    this.#keys = new Int32Array(chain.count);
    this.#records = new Int32Array(chain.count);
    this.#mask = size - 1;
    fillIndex(chain, strings, this.#heads, this.#next, this.#keys, this.#records);
  }

  /** Appends the indexes of the records whose name key is `key` to `out`, in descending order. */
  collect(key: number, out: number[]): void {
    for (let entry = this.#heads[key & this.#mask]!; entry !== 0; entry = this.#next[entry - 1]!) {
      if (this.#keys[entry - 1] === key) out.push(this.#records[entry - 1]!);
    }
  }
}
