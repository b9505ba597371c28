/**
 * `Btf`: a set of BTF types and their strings, parsed from a blob or built type by type.
 *
 * Parsing is lazy (see parse-btf.ts): `Btf.parse` only checks the header and finds the records, and
 * `type(id)` decodes a record the first time it is asked for and keeps the result. The by-name index is
 * built on the first `typesByName`/`find` from hashes of the raw name bytes. Types added with `add` or
 * replaced with `set` live next to the parsed ones in the same id space; `marshalBtf` writes them all out.
 *
 * Split BTF (a kernel module's) has a `base`: its ids continue after the base's last id and its string
 * offsets after the base's string section; lookups by id and name fall through to the base.
 */

import { FormatError } from "../errors.js";
import { KIND_NAMES } from "./kinds.js";
import { alignOf, resolveType, sizeOf } from "./layout.js";
import { hashName, RecordNameIndex } from "./name-index.js";
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
  /** The parsed records by name hash; built on first use. */
  #parsedNames: RecordNameIndex | undefined;
  /** Name hash → indexes of the types given to `add` and `set` with a name of that hash. */
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
   * The ids of every type named `name`, the base's first, in ascending order.
   *
   * @throws {FormatError} when a candidate's record is corrupt
   */
  typesByName(name: string): readonly TypeId[] {
    const hash = hashName(name);
    const candidates = [...this.#parsedIndex().candidates(hash), ...(this.#builtNames.get(hash) ?? [])];
    const matches = [...new Set(candidates)].filter((index) => this.#nameOf(index) === name).sort((a, b) => a - b);
    const own = matches.map((index) => this.firstId + index);
    const inBase = this.base?.typesByName(name) ?? [];
    return inBase.length === 0 ? own : [...inBase, ...own];
  }

  /** The id of the first type named `name` (and of kind `kind`, if given), or undefined. */
  find(name: string, kind?: BtfType["kind"]): TypeId | undefined {
    return this.typesByName(name).find((id) => kind === undefined || this.#kindOf(id) === kind);
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

  #parsedIndex(): RecordNameIndex {
    if (this.#parsedNames === undefined) {
      const decoder = this.#parsed?.decoder;
      this.#parsedNames = new RecordNameIndex(this.#parsed?.kinds.length ?? 0, (index) =>
        this.strings.hashAt(decoder!.nameOffset(index)),
      );
    }
    return this.#parsedNames;
  }

  /** Records the name of the type added or replaced at `index` (a replaced name stays as a stale candidate). */
  #indexName(index: number, name: string): void {
    const hash = hashName(name);
    const indexes = this.#builtNames.get(hash);
    if (indexes === undefined) this.#builtNames.set(hash, [index]);
    else if (!indexes.includes(index)) indexes.push(index);
  }
}
