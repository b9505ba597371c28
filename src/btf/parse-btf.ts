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

  const stringBytes = bytes.subarray(strings.start, strings.end);
  if (!split && (stringBytes.length === 0 || stringBytes[0] !== 0)) {
    throw reader.error("string section does not start with an empty string", strings.start);
  }
  if (stringBytes.length > 0 && stringBytes[stringBytes.length - 1] !== 0) {
    throw reader.error("string section does not end with a NUL byte", strings.end - 1);
  }

  const { offsets, kinds } = scanTypes(reader, types.start, types.end);
  return { littleEndian, reader, offsets, kinds, strings: stringBytes, typesEnd: types.end };
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

/**
 * Walks the type records in [start, end), returning each one's offset and kind. This loop runs once per
 * type of vmlinux (over 100,000), so it reads through one DataView and computes record sizes inline.
 */
function scanTypes(reader: ByteReader, start: number, end: number): { offsets: Uint32Array; kinds: Uint8Array } {
  const bytes = reader.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const littleEndian = reader.littleEndian;
  // Every record is at least BTF_TYPE_SIZE bytes, which bounds the count by the input size.
  const capacity = Math.floor((end - start) / BTF_TYPE_SIZE);
  const offsets = new Uint32Array(capacity);
  const kinds = new Uint8Array(capacity);
  let count = 0;
  let pos = start;
  while (pos < end) {
    if (end - pos < BTF_TYPE_SIZE) {
      throw reader.error(`type [${count + 1}] is truncated: ${end - pos} bytes left in the type section`, pos);
    }
    const info = view.getUint32(pos + 4, littleEndian);
    const kind = (info >>> INFO_KIND_SHIFT) & INFO_KIND_MASK;
    const vlen = info & INFO_VLEN_MASK;
    let size = BTF_TYPE_SIZE;
    switch (kind) {
      case BTF_KIND.INT:
        size += INT_INFO_SIZE;
        break;
      case BTF_KIND.ARRAY:
        size += ARRAY_INFO_SIZE;
        break;
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION:
        size += vlen * MEMBER_SIZE;
        break;
      case BTF_KIND.ENUM:
        size += vlen * ENUM_VALUE_SIZE;
        break;
      case BTF_KIND.FUNC_PROTO:
        size += vlen * PARAM_SIZE;
        break;
      case BTF_KIND.VAR:
        size += VAR_INFO_SIZE;
        break;
      case BTF_KIND.DATASEC:
        size += vlen * SECINFO_SIZE;
        break;
      case BTF_KIND.DECL_TAG:
        size += DECL_TAG_INFO_SIZE;
        break;
      case BTF_KIND.ENUM64:
        size += vlen * ENUM64_VALUE_SIZE;
        break;
      case BTF_KIND.PTR:
      case BTF_KIND.FWD:
      case BTF_KIND.TYPEDEF:
      case BTF_KIND.VOLATILE:
      case BTF_KIND.CONST:
      case BTF_KIND.RESTRICT:
      case BTF_KIND.FUNC:
      case BTF_KIND.FLOAT:
      case BTF_KIND.TYPE_TAG:
        break;
      default:
        throw reader.error(`type [${count + 1}] has unknown kind ${kind}`, pos + 4);
    }
    if (size > end - pos) {
      throw reader.error(`type [${count + 1}] (vlen ${vlen}) runs past the end of the type section`, pos);
    }
    offsets[count] = pos;
    kinds[count] = kind;
    count++;
    pos += size;
  }
  return { offsets: offsets.subarray(0, count), kinds: kinds.subarray(0, count) };
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

  /** The raw name offset of the record at `index`, unchecked (for the name index). */
  nameOffset(index: number): number {
    return this.#reader.u32At(this.#scanned.offsets[index]!);
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
