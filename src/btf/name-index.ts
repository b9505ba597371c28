/**
 * The by-name index of a `Btf`: 30-bit FNV-1a hashes of names' UTF-8 bytes, so that parsed names can be
 * indexed straight from the string section without decoding them (decoding every name of vmlinux costs
 * several times more than hashing it). `RecordNameIndex` chains the parsed records in typed arrays —
 * no per-name allocation — and `Btf` keeps the few types added or replaced later in a plain map.
 * Collisions and stale entries are harmless: lookups compare the candidates' actual names.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Hashes are cut to 30 bits so that V8 keeps them as small integers (cheap map keys). */
const HASH_MASK = 0x3fff_ffff;

const encoder = new TextEncoder();

/**
 * The hash of the NUL-terminated ASCII string at `bytes[start]` (or up to `end` if no NUL comes first),
 * or undefined if it holds a non-ASCII byte: such a name must be hashed as the text it decodes to (with
 * `hashName`), since invalid UTF-8 decodes to replacement characters that encode differently.
 */
export function hashAscii(bytes: Uint8Array, start: number, end: number): number | undefined {
  let hash = FNV_OFFSET_BASIS;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === 0) break;
    if (byte >= 0x80) return undefined;
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  }
  return hash & HASH_MASK;
}

/** The hash of `text`'s UTF-8 encoding: equal to `hashAscii` over the same ASCII name. */
export function hashName(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(text)) hash = Math.imul(hash ^ byte, FNV_PRIME);
  return hash & HASH_MASK;
}

/** A chained hash table from name hash to record indexes, built once over `count` records. */
export class RecordNameIndex {
  /** Bucket → 1 + the last record index in it (0 = empty). */
  readonly #heads: Int32Array;
  /** Record index → 1 + the previous record index in the same bucket (0 = end). */
  readonly #next: Int32Array;
  /** Record index → its name hash, to skip the other names sharing a bucket. */
  readonly #hashes: Int32Array;
  readonly #mask: number;

  /** Indexes records 0 to `count - 1`; `hashOf` gives a record's name hash, or undefined to leave it out. */
  constructor(count: number, hashOf: (index: number) => number | undefined) {
    let size = 1;
    while (size < count * 2) size *= 2;
    this.#heads = new Int32Array(size);
    this.#next = new Int32Array(count);
    this.#hashes = new Int32Array(count);
    this.#mask = size - 1;
    for (let index = 0; index < count; index++) {
      const hash = hashOf(index);
      if (hash === undefined) continue;
      const bucket = hash & this.#mask;
      this.#hashes[index] = hash;
      this.#next[index] = this.#heads[bucket]!;
      this.#heads[bucket] = index + 1;
    }
  }

  /** The indexes of the records whose name hashes to `hash`, in descending order. */
  candidates(hash: number): number[] {
    const found: number[] = [];
    for (let entry = this.#heads[hash & this.#mask]!; entry !== 0; entry = this.#next[entry - 1]!) {
      if (this.#hashes[entry - 1] === hash) found.push(entry - 1);
    }
    return found;
  }
}
