/**
 * Reading a raw BTF blob (a `.BTF` section, `/sys/kernel/btf/vmlinux`, a module's split BTF) in two steps:
 *
 * 1. `scanBtf` checks the header and walks the type section once, recording each record's offset and kind.
 *    Record sizes depend on kind and vlen, so this walk is unavoidable, but it decodes nothing else: it is
 *    what makes parsing vmlinux take milliseconds.
 * 2. `TypeDecoder.decode` turns one record into a `BtfType` when someone asks for it, validating it fully:
 *    reserved bits, type ids, string offsets, linkage values.
 *
 * Both steps throw `FormatError("BTF", …)` with the offset of the bad bytes (relative to the blob).
 * `Btf` (btf.ts) owns the results and caches decoded types.
 */

import { FormatError } from "../errors.js";
import {
  ARRAY_INFO_SIZE,
  BITFIELD_OFFSET_MASK,
  BITFIELD_SIZE_SHIFT,
  BTF_HEADER_SIZE,
  BTF_KIND,
  BTF_MAGIC,
  BTF_MAX_VLEN,
  BTF_TYPE_SIZE,
  BTF_VERSION,
  DECL_TAG_INFO_SIZE,
  ENUM64_VALUE_SIZE,
  ENUM_VALUE_SIZE,
  INFO_KIND_FLAG,
  INFO_KIND_MASK,
  INFO_KIND_SHIFT,
  INFO_RESERVED_MASK,
  INFO_VLEN_MASK,
  INT_BITS_MASK,
  INT_BOOL,
  INT_CHAR,
  INT_ENCODING_SHIFT,
  INT_INFO_SIZE,
  INT_MAX_BITS,
  INT_OFFSET_SHIFT,
  INT_RESERVED_MASK,
  INT_SIGNED,
  KIND_NAMES,
  LINKAGES,
  MEMBER_SIZE,
  PARAM_SIZE,
  SECINFO_SIZE,
  VAR_INFO_SIZE,
  type EncodedKind,
} from "./kinds.js";
import { ByteReader } from "./reader.js";
import type { BtfStrings } from "./strings.js";
import type {
  BtfEnum64Value,
  BtfEnumValue,
  BtfLinkage,
  BtfMember,
  BtfParam,
  BtfType,
  BtfVarSecinfo,
  TypeId,
} from "./types.js";

/** The section name used in errors: raw BTF is the `.BTF` section of an object, or equivalent. */
const SECTION = ".BTF";

/** The result of scanning a blob: where each type record is, and the string section. */
export interface ScannedBtf {
  readonly littleEndian: boolean;
  /** A reader over the whole blob; record offsets are relative to it. */
  readonly reader: ByteReader;
  /** The byte offset of each type record, in id order (index 0 is the first type after void or the base). */
  readonly offsets: Uint32Array;
  /** The byte offset where the type section ends. */
  readonly typesEnd: number;
  /** The kind number of each record. */
  readonly kinds: Uint8Array;
  /** The raw (unchecked) name offset of each record. */
  readonly names: Uint32Array;
  /**
   * The records of each kind, as chains in ascending order: the first record of kind number `k` is
   * `firstOfKind[k]` (-1: none), the one after record `r` is `nextOfKind[r] - 1` (-1: none).
   * `kindCounts[k]` is the chain's length.
   */
  readonly firstOfKind: Int32Array;
  readonly nextOfKind: Int32Array;
  readonly kindCounts: Int32Array;
  /** The string section (a view of the input). */
  readonly strings: Uint8Array;
}

/**
 * Checks the header and finds every type record.
 *
 * @param split whether this is split BTF, whose string section may be empty and need not start with NUL
 * @throws {FormatError} when the header or a record's length is invalid
 */
export function scanBtf(bytes: Uint8Array, file: string | undefined, split: boolean): ScannedBtf {
  const place = { format: "BTF", file, section: SECTION };
  if (bytes.length < BTF_HEADER_SIZE) {
    throw new FormatError("BTF", `header is truncated: ${bytes.length} of ${BTF_HEADER_SIZE} bytes`, {
      file,
      section: SECTION,
      offset: 0,
    });
  }
  const littleEndian = byteOrder(bytes, place.file);
  const reader = new ByteReader(bytes, littleEndian, place);
  reader.pos = 2;
  const version = reader.u8();
  if (version !== BTF_VERSION) throw reader.error(`unsupported version ${version}`, 2);
  const flags = reader.u8();
  if (flags !== 0) throw reader.error(`unsupported flags 0x${flags.toString(16)}`, 3);
  const headerLength = reader.u32();
  if (headerLength < BTF_HEADER_SIZE) {
    throw reader.error(`header length ${headerLength} is smaller than ${BTF_HEADER_SIZE}`, 4);
  }
  if (headerLength > bytes.length) {
    throw reader.error(`header length ${headerLength} runs past the end of the ${bytes.length}-byte blob`, 4);
  }
  const types = sectionRange(reader, headerLength, "type", 8);
  const strings = sectionRange(reader, headerLength, "string", 16);
  // The kernel refuses overlapping sections too; and a record rewritten in place must not change a name.
  if (types.start < strings.end && strings.start < types.end && types.end > types.start && strings.end > strings.start) {
    throw reader.error(`type section [${types.start}, ${types.end}) overlaps string section [${strings.start}, ${strings.end})`, 16);
  }

  const stringBytes = bytes.subarray(strings.start, strings.end);
  if (!split && (stringBytes.length === 0 || stringBytes[0] !== 0)) {
    throw reader.error("string section does not start with an empty string", strings.start);
  }
  if (stringBytes.length > 0 && stringBytes[stringBytes.length - 1] !== 0) {
    throw reader.error("string section does not end with a NUL byte", strings.end - 1);
  }

  return { littleEndian, reader, ...scanTypes(reader, types.start, types.end), strings: stringBytes, typesEnd: types.end };
}

/** The byte order announced by the magic. */
function byteOrder(bytes: Uint8Array, file: string | undefined): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 2);
  if (view.getUint16(0, true) === BTF_MAGIC) return true;
  if (view.getUint16(0, false) === BTF_MAGIC) return false;
  const magic = view.getUint16(0, true).toString(16).padStart(4, "0");
  throw new FormatError("BTF", `bad magic 0x${magic} (expected 0x${BTF_MAGIC.toString(16)})`, {
    file,
    section: SECTION,
    offset: 0,
  });
}

/** Reads a header's (offset, length) pair at `field` and checks it against the blob. */
function sectionRange(
  reader: ByteReader,
  headerLength: number,
  name: string,
  field: number,
): { start: number; end: number } {
  reader.pos = field;
  const offset = reader.u32();
  const length = reader.u32();
  const start = headerLength + offset;
  const end = start + length;
  if (end > reader.length) {
    throw reader.error(
      `${name} section [${start}, ${end}) runs past the end of the ${reader.length}-byte blob`,
      field,
    );
  }
  return { start, end };
}

/** This machine's byte order: a blob in it can be read through a `Uint32Array`. */
const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Type records are made of 4-byte words. */
const WORD = 4;

/** Per kind number: the 4-byte words of a record besides its vlen entries, or -1 for a number that is no kind. */
const RECORD_WORDS = new Int32Array(INFO_KIND_MASK + 1).fill(-1);
/** Per kind number: the words of each of the record's vlen entries (0: vlen counts none). */
const VLEN_ENTRY_WORDS = new Int32Array(INFO_KIND_MASK + 1);
for (const [kind, trailer, entry] of [
  [BTF_KIND.INT, INT_INFO_SIZE, 0],
  [BTF_KIND.PTR, 0, 0],
  [BTF_KIND.ARRAY, ARRAY_INFO_SIZE, 0],
  [BTF_KIND.STRUCT, 0, MEMBER_SIZE],
  [BTF_KIND.UNION, 0, MEMBER_SIZE],
  [BTF_KIND.ENUM, 0, ENUM_VALUE_SIZE],
  [BTF_KIND.FWD, 0, 0],
  [BTF_KIND.TYPEDEF, 0, 0],
  [BTF_KIND.VOLATILE, 0, 0],
  [BTF_KIND.CONST, 0, 0],
  [BTF_KIND.RESTRICT, 0, 0],
  [BTF_KIND.FUNC, 0, 0],
  [BTF_KIND.FUNC_PROTO, 0, PARAM_SIZE],
  [BTF_KIND.VAR, VAR_INFO_SIZE, 0],
  [BTF_KIND.DATASEC, 0, SECINFO_SIZE],
  [BTF_KIND.FLOAT, 0, 0],
  [BTF_KIND.DECL_TAG, DECL_TAG_INFO_SIZE, 0],
  [BTF_KIND.TYPE_TAG, 0, 0],
  [BTF_KIND.ENUM64, 0, ENUM64_VALUE_SIZE],
] as const) {
  RECORD_WORDS[kind] = (BTF_TYPE_SIZE + trailer) / WORD;
  VLEN_ENTRY_WORDS[kind] = entry / WORD;
}

/**
 * The whole words of `bytes[start, end)` as this machine's u32s: a view when the bytes allow it (in this
 * machine's byte order, 4-byte aligned in memory), else a converted copy.
 */
function wordsOf(bytes: Uint8Array, littleEndian: boolean, start: number, end: number): Uint32Array {
  const count = Math.floor((end - start) / WORD);
  if (littleEndian === HOST_LITTLE_ENDIAN && (bytes.byteOffset + start) % WORD === 0) {
    return new Uint32Array(bytes.buffer, bytes.byteOffset + start, count);
  }
  const words = new Uint32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) words[i] = view.getUint32(start + i * WORD, littleEndian);
  return words;
}

/** The arrays `walkRecords` fills, one entry per record (see `scanTypes`). */
interface RecordColumns {
  readonly offsets: Uint32Array;
  readonly kinds: Uint8Array;
  readonly names: Uint32Array;
  readonly links: Int32Array;
  readonly lastOfKind: Int32Array;
  readonly kindCounts: Int32Array;
}

/**
 * The loop of `scanTypes`, alone in its function: V8 compiles it while it runs (on-stack replacement),
 * and code after the loop that had not run yet would throw that compiled code away on the way out.
 * Returns the number of records.
 */
function walkRecords(reader: ByteReader, words: Uint32Array, start: number, end: number, columns: RecordColumns): number {
  const { offsets, kinds, names, links, lastOfKind, kindCounts } = columns;
  const typeWords = BTF_TYPE_SIZE / WORD;
  // In words from `start`; a section whose length is not a multiple of 4 ends in a partial word.
  const last = (end - start) / WORD;
  let count = 0;
  let at = 0;
  while (at < last) {
    if (last - at < typeWords) {
      const left = end - (start + at * WORD);
      throw reader.error(`type [${count + 1}] is truncated: ${left} bytes left in the type section`, start + at * WORD);
    }
    const info = words[at + 1]!;
    const kind = (info >>> INFO_KIND_SHIFT) & INFO_KIND_MASK;
    const fixed = RECORD_WORDS[kind]!;
    if (fixed < 0) throw reader.error(`type [${count + 1}] has unknown kind ${kind}`, start + at * WORD + 4);
    const size = fixed + (info & INFO_VLEN_MASK) * VLEN_ENTRY_WORDS[kind]!;
    if (size > last - at) {
      const vlen = info & INFO_VLEN_MASK;
      throw reader.error(`type [${count + 1}] (vlen ${vlen}) runs past the end of the type section`, start + at * WORD);
    }
    offsets[count] = start + at * WORD;
    kinds[count] = kind;
    names[count] = words[at]!;
    links[lastOfKind[kind]!] = count + 1;
    lastOfKind[kind] = count;
    kindCounts[kind]++;
    count++;
    at += size;
  }
  return count;
}

/** What `scanTypes` finds. */
type ScannedTypes = Pick<ScannedBtf, "offsets" | "kinds" | "names" | "firstOfKind" | "nextOfKind" | "kindCounts">;

/**
 * Walks the type records in [start, end), returning each one's offset, kind and name offset, and the
 * chains of records of each kind. The walk (`walkRecords`) runs once per type of vmlinux (over 100,000),
 * usually before V8 has compiled it, so it does as little as it can, in one loop (a second loop over the
 * records would start cold again): record sizes come from two small tables, every record size is a multiple of 4
 * so it steps through the section in words (a view of vmlinux, read or mapped; a copy for an unaligned or
 * foreign-endian section), and the chains are linked without a branch, from one head slot per kind past
 * the last record.
 */
function scanTypes(reader: ByteReader, start: number, end: number): ScannedTypes {
  // Every record is at least BTF_TYPE_SIZE bytes, which bounds the count by the input size.
  const capacity = Math.floor((end - start) / BTF_TYPE_SIZE);
  const kindSlots = INFO_KIND_MASK + 1;
  const allOffsets = new Uint32Array(capacity);
  const allKinds = new Uint8Array(capacity);
  const allNames = new Uint32Array(capacity);
  // 1 + the next record of the same kind (0: none); slot capacity + k heads the chain of kind k.
  const links = new Int32Array(capacity + kindSlots);
  const lastOfKind = new Int32Array(kindSlots);
  for (let kind = 0; kind < kindSlots; kind++) lastOfKind[kind] = capacity + kind;
  const kindCounts = new Int32Array(kindSlots);
  const words = wordsOf(reader.bytes, reader.littleEndian, start, end);
  const columns = { offsets: allOffsets, kinds: allKinds, names: allNames, links, lastOfKind, kindCounts };
  const count = walkRecords(reader, words, start, end, columns);
  // Copies, so that the capacity-sized buffers are not kept alive.
  const offsets = allOffsets.slice(0, count);
  const kinds = allKinds.slice(0, count);
  const names = allNames.slice(0, count);
  const firstOfKind = new Int32Array(kindSlots);
  for (let kind = 0; kind < kindSlots; kind++) firstOfKind[kind] = links[capacity + kind]! - 1;
  const nextOfKind = links.slice(0, count);
  return { offsets, kinds, names, firstOfKind, nextOfKind, kindCounts };
}

/** The kinds whose kind_flag means something; on any other kind it must be clear. */
const KIND_FLAG_KINDS: ReadonlySet<EncodedKind> = new Set([
  "struct",
  "union",
  "enum",
  "enum64",
  "fwd",
  "decl_tag",
  "type_tag",
] as const);

/** The kinds whose vlen counts trailing entries (FUNC keeps its linkage there). */
const VLEN_KINDS: ReadonlySet<EncodedKind> = new Set([
  "struct",
  "union",
  "enum",
  "enum64",
  "func_proto",
  "datasec",
  "func",
] as const);

/** Decodes and validates the records found by `scanBtf`. */
export class TypeDecoder {
  readonly #scanned: ScannedBtf;
  readonly #reader: ByteReader;
  readonly #strings: BtfStrings;
  readonly #firstId: TypeId;
  /** The largest id a record may refer to: the last type of this blob. */
  readonly #lastId: TypeId;

  constructor(scanned: ScannedBtf, strings: BtfStrings, firstId: TypeId) {
    this.#scanned = scanned;
    this.#reader = scanned.reader;
    this.#strings = strings;
    this.#firstId = firstId;
    this.#lastId = firstId + scanned.offsets.length - 1;
  }

  /** The records of kind number `kind` (see `ScannedBtf.firstOfKind`), and every record's raw name offset. */
  recordsOfKind(kind: number): { first: number; next: Int32Array; count: number; names: Uint32Array } {
    const { firstOfKind, nextOfKind, kindCounts, names } = this.#scanned;
    return { first: firstOfKind[kind]!, next: nextOfKind, count: kindCounts[kind]!, names };
  }

  /** The name of the record at `index`. */
  name(index: number): string {
    const at = this.#scanned.offsets[index]!;
    return this.#string(this.#reader.u32At(at), at);
  }

  /** Decodes the record at `index` (type id `firstId + index`). */
  decode(index: number): BtfType {
    const r = this.#reader;
    const at = this.#scanned.offsets[index]!;
    const id = this.#firstId + index;
    r.pos = at;
    const name = this.#string(r.u32(), at);
    const info = r.u32();
    const sizeOrType = r.u32();
    const kind = KIND_NAMES[this.#scanned.kinds[index]!]!;
    const vlen = info & INFO_VLEN_MASK;
    const kindFlag = (info & INFO_KIND_FLAG) !== 0;
    if ((info & INFO_RESERVED_MASK) !== 0) {
      throw r.error(`type [${id}] sets reserved info bits 0x${(info & INFO_RESERVED_MASK).toString(16)}`, at + 4);
    }
    if (kindFlag && !KIND_FLAG_KINDS.has(kind)) throw r.error(`type [${id}] (${kind}) sets kind_flag`, at + 4);
    if (vlen !== 0 && !VLEN_KINDS.has(kind)) throw r.error(`type [${id}] (${kind}) has vlen ${vlen}`, at + 4);

    switch (kind) {
      case "int":
        return this.#int(id, name, sizeOrType);
      case "ptr":
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
        return { kind, name, type: this.#typeId(sizeOrType, id, at + 8) };
      case "type_tag":
        return { kind, name, type: this.#typeId(sizeOrType, id, at + 8), attribute: kindFlag };
      case "array": {
        if (sizeOrType !== 0) throw r.error(`array [${id}] has a non-zero size field`, at + 8);
        const type = this.#typeId(r.u32(), id, at + 12);
        const indexType = this.#typeId(r.u32(), id, at + 16);
        return { kind, name, type, indexType, nelems: r.u32() };
      }
      case "struct":
      case "union":
        return { kind, name, size: sizeOrType, members: this.#members(id, vlen, kindFlag) };
      case "enum":
        return { kind, name, size: sizeOrType, signed: kindFlag, values: this.#enumValues(vlen, kindFlag) };
      case "enum64":
        return { kind, name, size: sizeOrType, signed: kindFlag, values: this.#enum64Values(vlen, kindFlag) };
      case "fwd":
        if (sizeOrType !== 0) throw r.error(`fwd [${id}] has a non-zero type field`, at + 8);
        return { kind, name, union: kindFlag };
      case "func":
        return { kind, name, type: this.#typeId(sizeOrType, id, at + 8), linkage: this.#linkage(vlen, id, at + 4) };
      case "func_proto":
        return { kind, name, returnType: this.#typeId(sizeOrType, id, at + 8), params: this.#params(id, vlen) };
      case "var": {
        const type = this.#typeId(sizeOrType, id, at + 8);
        return { kind, name, type, linkage: this.#linkage(r.u32(), id, at + 12) };
      }
      case "datasec":
        return { kind, name, size: sizeOrType, vars: this.#secinfos(id, vlen) };
      case "float":
        return { kind, name, size: sizeOrType };
      case "decl_tag": {
        const type = this.#typeId(sizeOrType, id, at + 8);
        const componentIdx = r.i32();
        if (componentIdx < -1 || componentIdx > BTF_MAX_VLEN) {
          throw r.error(`decl_tag [${id}] has component index ${componentIdx}`, at + 12);
        }
        return { kind, name, type, componentIdx, attribute: kindFlag };
      }
    }
  }

  #int(id: TypeId, name: string, size: number): BtfType {
    const r = this.#reader;
    const at = r.pos;
    const data = r.u32();
    if ((data & INT_RESERVED_MASK) !== 0) throw r.error(`int [${id}] sets reserved encoding bits`, at);
    const encoding = data >>> INT_ENCODING_SHIFT;
    const bitOffset = (data >>> INT_OFFSET_SHIFT) & 0xff;
    const bits = data & INT_BITS_MASK;
    if (bits > INT_MAX_BITS || bitOffset + bits > size * 8) {
      throw r.error(`int [${id}] has ${bits} bits at bit ${bitOffset} in ${size} bytes`, at);
    }
    return {
      kind: "int",
      name,
      size,
      signed: (encoding & INT_SIGNED) !== 0,
      char: (encoding & INT_CHAR) !== 0,
      bool: (encoding & INT_BOOL) !== 0,
      bitOffset,
      bits,
    };
  }

  #members(id: TypeId, vlen: number, kindFlag: boolean): BtfMember[] {
    const r = this.#reader;
    const members: BtfMember[] = [];
    for (let i = 0; i < vlen; i++) {
      const at = r.pos;
      const name = this.#string(r.u32(), at);
      const type = this.#typeId(r.u32(), id, at + 4);
      const offset = r.u32();
      members.push(
        kindFlag
          ? { name, type, bitOffset: offset & BITFIELD_OFFSET_MASK, bitfieldSize: offset >>> BITFIELD_SIZE_SHIFT }
          : { name, type, bitOffset: offset, bitfieldSize: 0 },
      );
    }
    return members;
  }

  #enumValues(vlen: number, signed: boolean): BtfEnumValue[] {
    const r = this.#reader;
    const values: BtfEnumValue[] = [];
    for (let i = 0; i < vlen; i++) {
      const name = this.#string(r.u32(), r.pos - 4);
      const raw = r.i32();
      values.push({ name, value: signed ? raw : raw >>> 0 });
    }
    return values;
  }

  #enum64Values(vlen: number, signed: boolean): BtfEnum64Value[] {
    const r = this.#reader;
    const values: BtfEnum64Value[] = [];
    for (let i = 0; i < vlen; i++) {
      const name = this.#string(r.u32(), r.pos - 4);
      const lo = r.u32();
      const hi = r.u32();
      const bits = (BigInt(hi) << 32n) | BigInt(lo);
      values.push({ name, value: signed ? BigInt.asIntN(64, bits) : bits });
    }
    return values;
  }

  #params(id: TypeId, vlen: number): BtfParam[] {
    const r = this.#reader;
    const params: BtfParam[] = [];
    for (let i = 0; i < vlen; i++) {
      const at = r.pos;
      const name = this.#string(r.u32(), at);
      params.push({ name, type: this.#typeId(r.u32(), id, at + 4) });
    }
    return params;
  }

  #secinfos(id: TypeId, vlen: number): BtfVarSecinfo[] {
    const r = this.#reader;
    const vars: BtfVarSecinfo[] = [];
    for (let i = 0; i < vlen; i++) {
      const type = this.#typeId(r.u32(), id, r.pos - 4);
      const offset = r.u32();
      vars.push({ type, offset, size: r.u32() });
    }
    return vars;
  }

  #linkage(value: number, id: TypeId, at: number): BtfLinkage {
    const linkage = LINKAGES[value];
    if (linkage === undefined) throw this.#reader.error(`type [${id}] has unknown linkage ${value}`, at);
    return linkage;
  }

  /** Checks a type id read from the record of type `id`. */
  #typeId(value: number, id: TypeId, at: number): TypeId {
    if (value > this.#lastId) {
      throw this.#reader.error(`type [${id}] refers to type [${value}], past the last type [${this.#lastId}]`, at);
    }
    return value;
  }

  /** The string at `offset`, read for the field at `at`. */
  #string(offset: number, at: number): string {
    if (!this.#strings.has(offset)) {
      throw this.#reader.error(
        `string offset ${offset} is past the end of the string section (${this.#strings.end} bytes)`,
        at,
      );
    }
    return this.#strings.get(offset);
  }
}
