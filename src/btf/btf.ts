/**
 * `Btf`: a set of BTF types and their strings, parsed from a blob or built type by type.
 *
 * Parsing is lazy (see parse-btf.ts): `Btf.parse` only checks the header and finds the records, and
 * `type(id)` decodes a record the first time it is asked for and keeps the result. The tables that find
 * types by name (name-index.ts) are built per kind, for the kinds a `typesByName`/`find`/`flavorsOf`
 * asks about, from the raw name bytes: finding a struct in vmlinux reads the names of its 10,679 structs
 * and leaves the other 116,000 records alone. Types added with `add` or
 * replaced with `set` live next to the parsed ones in the same id space; `marshalBtf` writes them all out.
 *
 * Split BTF (a kernel module's) has a `base`: its ids continue after the base's last id and its string
 * offsets after the base's string section; lookups by id and name fall through to the base.
 */

import { FormatError } from "../errors.js";
import { btfKindNumber, KIND_NAMES } from "./kinds.js";
import { alignOf, resolveType, sizeOf } from "./layout.js";
import { essentialName, hashName, nameKey, NamePrefixTable, namePattern, RecordNameIndex } from "./name-index.js";
import { scanBtf, TypeDecoder } from "./parse-btf.js";
import { BtfStrings } from "./strings.js";
import { VOID, type BtfType, type TypeId } from "./types.js";

/** Options for {@link Btf.parse}. */
export interface BtfParseOptions {
  /** The file the bytes came from, for error messages. */
  readonly file?: string;
  /** The base BTF when the bytes are split BTF (such as `/sys/kernel/btf/<module>` over vmlinux). */
  readonly base?: Btf;
}

/** Options for {@link Btf.create}. */
export interface BtfCreateOptions {
  /** Build split BTF over this base. */
  readonly base?: Btf;
  /** The byte order `marshalBtf` writes by default: the base's, else this machine's. */
  readonly littleEndian?: boolean;
}

/** Every kind number on the wire. */
const KIND_NUMBERS: readonly number[] = KIND_NAMES.flatMap((name, number) => (name === undefined ? [] : [number]));

/** This machine's byte order. */
const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The parts of a `Btf` that come from parsing a blob. */
interface Parsed {
  readonly decoder: TypeDecoder;
  readonly kinds: Uint8Array;
  /** The blob the types were parsed from, returned as is by marshalBtf while nothing changed. */
  readonly source: Uint8Array;
  /** The byte offset of each type record in `source`, and where the type section ends. */
  readonly offsets: Uint32Array;
  readonly typesEnd: number;
}

/** What marshalBtf needs to rewrite a parsed blob in place: its bytes and the records that changed. */
export interface PatchableSource {
  readonly source: Uint8Array;
  readonly offsets: Uint32Array;
  readonly typesEnd: number;
  /** Own type indexes (id - firstId) replaced since parsing. */
  readonly replaced: ReadonlySet<number>;
}

/** A set of BTF types: parsed, built, or both. Own types have ids `firstId` to `lastId`. */
export class Btf implements Iterable<[TypeId, BtfType]> {
  /** The byte order of the parsed blob, or the one chosen at creation. */
  readonly littleEndian: boolean;
  /** The base of split BTF. */
  readonly base: Btf | undefined;
  /** The file the BTF was parsed from, for error messages. */
  readonly file: string | undefined;
  /** The id of the first own type: 1, or the base's last id plus one. */
  readonly firstId: TypeId;
  /** The string section, shared by types and .BTF.ext records. */
  readonly strings: BtfStrings;
  readonly #parsed: Parsed | undefined;
  /** Set once a type is added. */
  #added = false;
  /** Own type indexes replaced by set(). */
  readonly #replaced = new Set<number>();
  /** The string section's size when parsed, to notice appended strings. */
  readonly #parsedStringSize: number;
  /** Own types by index (id - firstId); parsed types stay empty until decoded. */
  readonly #types: (BtfType | undefined)[];
  /** Per kind number, that kind's parsed records by name key (see name-index.ts); each built on first use. */
  readonly #parsedNames: (RecordNameIndex | undefined)[] = [];
  /** Per kind number, the first bytes of its parsed records' names (see name-index.ts); each built on first use. */
  readonly #parsedPrefixes: (NamePrefixTable | undefined)[] = [];
  /** Name key → indexes of the types given to `add` and `set` with a name of that key. */
  readonly #builtNames = new Map<number, number[]>();

  private constructor(
    littleEndian: boolean,
    base: Btf | undefined,
    file: string | undefined,
    strings: BtfStrings,
    parsed: Parsed | undefined,
  ) {
    this.littleEndian = littleEndian;
    this.base = base;
    this.file = file;
    this.firstId = base === undefined ? 1 : base.lastId + 1;
    this.strings = strings;
    this.#parsed = parsed;
    this.#types = new Array<BtfType | undefined>(parsed?.kinds.length ?? 0);
    this.#parsedStringSize = strings.size;
  }

  /**
   * Parses a raw BTF blob (the contents of a `.BTF` section or of `/sys/kernel/btf/*`). Only the header and
   * the record boundaries are checked here; each type is decoded and validated when first used.
   *
   * @throws {FormatError} when the header or the record boundaries are invalid
   * @example
   * const vmlinux = Btf.parse(readFileSync("/sys/kernel/btf/vmlinux"), { file: "vmlinux" });
   * const task = vmlinux.type(vmlinux.find("task_struct", "struct")!);
   */
  static parse(bytes: Uint8Array, options: BtfParseOptions = {}): Btf {
    const { file, base } = options;
    const scanned = scanBtf(bytes, file, base !== undefined);
    if (base !== undefined && base.littleEndian !== scanned.littleEndian) {
      throw new FormatError("BTF", "byte order differs from the base BTF's", { file, section: ".BTF", offset: 0 });
    }
    const strings = new BtfStrings(scanned.strings, base?.strings);
    const firstId = base === undefined ? 1 : base.lastId + 1;
    const decoder = new TypeDecoder(scanned, strings, firstId);
    return new Btf(scanned.littleEndian, base, file, strings, {
      decoder,
      kinds: scanned.kinds,
      source: bytes,
      offsets: scanned.offsets,
      typesEnd: scanned.typesEnd,
    });
  }

  /**
   * An empty `Btf` to add types to.
   *
   * @throws {TypeError} when `littleEndian` contradicts the base's byte order
   */
  static create(options: BtfCreateOptions = {}): Btf {
    const { base } = options;
    const littleEndian = options.littleEndian ?? base?.littleEndian ?? HOST_LITTLE_ENDIAN;
    if (base !== undefined && base.littleEndian !== littleEndian) {
      throw new TypeError("Cannot create split BTF in a byte order different from its base's");
    }
    // Base BTF starts with the empty string; split BTF finds it in the base.
    const strings = new BtfStrings(base === undefined ? Uint8Array.of(0) : new Uint8Array(0), base?.strings);
    return new Btf(littleEndian, base, undefined, strings, undefined);
  }

  /** The id of the last own type (`firstId - 1` when there are none). */
  get lastId(): TypeId {
    return this.firstId + this.#types.length - 1;
  }

  /**
   * The type with id `id`: 0 is `void`, ids below `firstId` come from the base.
   *
   * @throws {RangeError} when there is no such id
   * @throws {FormatError} when the type's record is corrupt
   */
  type(id: TypeId): BtfType {
    const index = id - this.firstId;
    if (Number.isInteger(index) && index >= 0 && index < this.#types.length) {
      return this.#types[index] ?? this.#decode(index);
    }
    if (id === 0) return VOID;
    if (this.base !== undefined && Number.isInteger(id) && id > 0 && id < this.firstId) return this.base.type(id);
    throw new RangeError(`Cannot find BTF type [${id}]: ids run from 0 to ${this.lastId}`);
  }

  /**
   * The ids of every type named `name` (and of one of `kinds`, if given), the base's first, in ascending
   * order. Naming the kinds makes the first lookup in a large BTF cheaper: only their names are read.
   *
   * @throws {FormatError} when a candidate's record is corrupt
   */
  typesByName(name: string, kinds?: readonly BtfType["kind"][]): readonly TypeId[] {
    return this.#lookup(nameKey(name), namePattern(name, "\0"), kinds, (found) => found === name);
  }

  /**
   * The ids of the CO-RE *flavors* of `name` (and of one of `kinds`, if given): the types named
   * `name___suffix`, whose name without its last `___suffix` (see `essentialName` in name-index.ts) is
   * `name`. The base's come first, in ascending order; types named `name` itself are not included.
   *
   * @throws {FormatError} when a candidate's record is corrupt
   */
  flavorsOf(name: string, kinds?: readonly BtfType["kind"][]): readonly TypeId[] {
    return this.#lookup(hashName(name), namePattern(name, "___"), kinds, (found) => found !== name && essentialName(found) === name);
  }

  /** The id of the first type named `name` (and of kind `kind`, if given), or undefined. */
  find(name: string, kind?: BtfType["kind"]): TypeId | undefined {
    return this.typesByName(name, kind === undefined ? undefined : [kind])[0];
  }

  /**
   * @internal The blob this Btf was parsed from and the types replaced since, while no type was added
   * and no string appended: marshalBtf then copies the blob and rewrites only those records.
   */
  patchableSource(): PatchableSource | undefined {
    const parsed = this.#parsed;
    if (!parsed || this.#added || this.strings.size !== this.#parsedStringSize) return undefined;
    return { source: parsed.source, offsets: parsed.offsets, typesEnd: parsed.typesEnd, replaced: this.#replaced };
  }

  /** The own type ids of one kind, in id order, found without decoding the other types. */
  idsOfKind(kind: BtfType["kind"]): TypeId[] {
    const ids: TypeId[] = [];
    for (let index = 0; index < this.#types.length; index++) {
      if (this.#kindOf(this.firstId + index) === kind) ids.push(this.firstId + index);
    }
    return ids;
  }

  /**
   * Appends a type and returns its id. References to other types are checked when marshalling, so types
   * may refer to ids added later.
   *
   * @throws {TypeError} when adding `void`
   */
  add(type: BtfType): TypeId {
    if (type.kind === "void") throw new TypeError("Cannot add void to BTF: it is type id 0");
    const id = this.firstId + this.#types.length;
    this.#added = true;
    this.#types.push(type);
    this.#indexName(id - this.firstId, type.name);
    return id;
  }

  /**
   * Replaces the own type `id` (used to rewrite BTF for older kernels).
   *
   * @throws {RangeError} when `id` is not an own type
   * @throws {TypeError} when the replacement is `void`
   */
  set(id: TypeId, type: BtfType): void {
    const index = id - this.firstId;
    if (!Number.isInteger(index) || index < 0 || index >= this.#types.length) {
      throw new RangeError(`Cannot replace BTF type [${id}]: own ids run from ${this.firstId} to ${this.lastId}`);
    }
    if (type.kind === "void") throw new TypeError("Cannot replace a BTF type with void");
    this.#replaced.add(index);
    this.#types[index] = type;
    this.#indexName(index, type.name);
  }

  /** The id reached from `id` by skipping typedef, volatile, const, restrict and type_tag. */
  resolve(id: TypeId): TypeId {
    return resolveType(this, id);
  }

  /**
   * `sizeof` the type `id`, in bytes.
   *
   * @throws {FormatError} for types without a size (void, functions, forward declarations) and cycles
   */
  sizeof(id: TypeId): number {
    return sizeOf(this, id);
  }

  /**
   * `_Alignof` the type `id`, in bytes.
   *
   * @throws {FormatError} for types without an alignment and cycles
   */
  alignof(id: TypeId): number {
    return alignOf(this, id);
  }

  /** Own types in id order, decoding each as it goes. */
  *[Symbol.iterator](): IterableIterator<[TypeId, BtfType]> {
    for (let index = 0; index < this.#types.length; index++) {
      yield [this.firstId + index, this.type(this.firstId + index)];
    }
  }

  #decode(index: number): BtfType {
    // Only parsed types can be missing from #types: added ones are stored when added.
    const type = this.#parsed!.decoder.decode(index);
    this.#types[index] = type;
    return type;
  }

  #kindOf(id: TypeId): BtfType["kind"] {
    const index = id - this.firstId;
    if (index < 0) return this.base === undefined ? "void" : this.base.#kindOf(id);
    return this.#types[index]?.kind ?? KIND_NAMES[this.#parsed!.kinds[index]!]!;
  }

  #nameOf(index: number): string {
    return this.#types[index]?.name ?? this.#parsed!.decoder.name(index);
  }

  /**
   * The types whose kind is one of `kinds` (any, if undefined) and whose name `accept`s, among the candidates
   * filed under name `key` — or, for the parsed records when there is a `pattern`, those whose name starts
   * with its bytes: a prefix table is far cheaper to build than the hash index.
   */
  #lookup(
    key: number,
    pattern: Uint8Array | undefined,
    kinds: readonly BtfType["kind"][] | undefined,
    accept: (name: string) => boolean,
  ): TypeId[] {
    const candidates: number[] = [];
    const numbers = kinds === undefined ? KIND_NUMBERS : kinds.flatMap((kind) => (kind === "void" ? [] : [btfKindNumber(kind)]));
    for (const number of numbers) {
      if (pattern !== undefined) this.#prefixTable(number)?.collect(pattern, candidates);
      else this.#parsedIndex(number)?.collect(key, candidates);
    }
    for (const index of this.#builtNames.get(key) ?? []) candidates.push(index);
    // A type replaced with set() is a candidate twice, or under its old kind and name: check what it is now.
    const matches = [...new Set(candidates)]
      .filter((index) => (kinds === undefined || kinds.includes(this.#kindOf(this.firstId + index))) && accept(this.#nameOf(index)))
      .sort((a, b) => a - b);
    const own = matches.map((index) => this.firstId + index);
    const inBase = this.base === undefined ? [] : this.base.#lookup(key, pattern, kinds, accept);
    return inBase.length === 0 ? own : [...inBase, ...own];
  }

  /** The name prefix table of the parsed records of kind number `number`, or undefined when nothing was parsed. */
  #prefixTable(number: number): NamePrefixTable | undefined {
    const parsed = this.#parsed;
    if (parsed === undefined) return undefined;
    let table = this.#parsedPrefixes[number];
    if (table === undefined) {
      table = new NamePrefixTable(parsed.decoder.recordsOfKind(number), this.strings);
      this.#parsedPrefixes[number] = table;
    }
    return table;
  }

  /** The by-name index of the parsed records of kind number `number`, or undefined when nothing was parsed. */
  #parsedIndex(number: number): RecordNameIndex | undefined {
    const parsed = this.#parsed;
    if (parsed === undefined) return undefined;
    let index = this.#parsedNames[number];
    if (index === undefined) {
      index = new RecordNameIndex(parsed.decoder.recordsOfKind(number), this.strings);
      this.#parsedNames[number] = index;
    }
    return index;
  }

  /** Records the name of the type added or replaced at `index` (a replaced name stays as a stale candidate). */
  #indexName(index: number, name: string): void {
    const key = nameKey(name);
    const indexes = this.#builtNames.get(key);
    if (indexes === undefined) this.#builtNames.set(key, [index]);
    else if (!indexes.includes(index)) indexes.push(index);
  }
}
