/**
 * Writing a `Btf` as a raw blob: the header, one record per own type, then the string section. Names are
 * turned into offsets with `btf.strings.offsetOf`, which returns the original offset of every string the
 * blob already had, so marshalling an unmodified parsed `Btf` reproduces its bytes exactly. The model is
 * checked as it is written (type ids that exist, values that fit their fields): a bad model is the
 * caller's mistake, so it throws `RangeError`, not `FormatError`.
 */

import {
  BITFIELD_MAX_SIZE,
  BITFIELD_OFFSET_MASK,
  BITFIELD_SIZE_SHIFT,
  BTF_HEADER_SIZE,
  BTF_MAGIC,
  BTF_MAX_VLEN,
  BTF_VERSION,
  btfKindNumber,
  INFO_KIND_FLAG,
  INFO_KIND_SHIFT,
  INT_BITS_MASK,
  INT_BOOL,
  INT_CHAR,
  INT_ENCODING_SHIFT,
  INT_OFFSET_SHIFT,
  INT_SIGNED,
  LINKAGES,
} from "./kinds.js";
import type { Btf } from "./btf.js";
import type { BtfLinkage, BtfType, TypeId } from "./types.js";
import { ByteWriter } from "./writer.js";

/** Options for {@link marshalBtf}. */
export interface MarshalBtfOptions {
  /** The byte order to write; defaults to the `Btf`'s. */
  readonly littleEndian?: boolean;
}

/** Offsets of the header fields patched once the sections are written. */
const TYPE_LEN_FIELD = 12;
const STR_OFF_FIELD = 16;
const STR_LEN_FIELD = 20;

const U32_MAX = 0xffff_ffff;
const I32_MIN = -0x8000_0000;

/**
 * The raw BTF blob of `btf`'s own types and strings (for split BTF, without the base's).
 *
 * @throws {RangeError} when a type refers to a missing id or holds a value its field cannot encode
 * @example
 * const btf = Btf.create();
 * const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
 * btf.add({ kind: "ptr", name: "", type: int });
 * const blob = marshalBtf(btf);
 */
export function marshalBtf(btf: Btf, options: MarshalBtfOptions = {}): Uint8Array {
  if ((options.littleEndian ?? btf.littleEndian) === btf.littleEndian) {
    const patched = patchSource(btf);
    if (patched) return patched;
  }
  const out = new ByteWriter(options.littleEndian ?? btf.littleEndian);
  out.u16(BTF_MAGIC);
  out.u8(BTF_VERSION);
  out.u8(0); // flags
  out.u32(BTF_HEADER_SIZE);
  out.u32(0); // type_off: the types come first
  out.u32(0); // type_len, patched below
  out.u32(0); // str_off, patched below
  out.u32(0); // str_len, patched below

  const encoder = new TypeEncoder(out, btf);
  for (const [id, type] of btf) encoder.encode(id, type);
  const typeLength = out.length - BTF_HEADER_SIZE;

  // The strings go last: encoding the types may have appended names.
  const strings = btf.strings.bytes();
  out.bytes(strings);
  out.u32At(TYPE_LEN_FIELD, typeLength);
  out.u32At(STR_OFF_FIELD, typeLength);
  out.u32At(STR_LEN_FIELD, strings.length);
  return out.finish();
}

/**
 * The parsed blob with only its replaced records re-encoded in place — much cheaper than encoding every
 * type, and byte-identical to it. Undefined when that is not possible: types were added, strings
 * appended, or a replacement's record changed size.
 */
function patchSource(btf: Btf): Uint8Array | undefined {
  const patchable = btf.patchableSource();
  if (!patchable) return undefined;
  const { source, offsets, typesEnd, replaced } = patchable;
  if (replaced.size === 0) return source;
  const stringsBefore = btf.strings.size;
  const out = source.slice();
  for (const index of replaced) {
    const record = new ByteWriter(btf.littleEndian);
    const id = btf.firstId + index;
    const start = offsets[index]!;
    const encoder = new TypeEncoder(record, btf);
    encoder.nameHint = new DataView(source.buffer, source.byteOffset + start, 4).getUint32(0, btf.littleEndian);
    encoder.encode(id, btf.type(id));
    const bytes = record.finish();
    const end = index + 1 < offsets.length ? offsets[index + 1]! : typesEnd;
    if (bytes.length !== end - start) return undefined;
    out.set(bytes, start);
  }
  // A replacement's new name lands in the string section, which the source blob does not have.
  return btf.strings.size === stringsBefore ? out : undefined;
}

/** Writes type records, checking each field against what the wire format can hold. */
class TypeEncoder {
  readonly #out: ByteWriter;
  readonly #btf: Btf;
  /** The type being written, for error messages. */
  #id: TypeId = 0;
  /**
   * Where the type's name was in the parsed blob: reused when the name is unchanged, which spares
   * building the reverse index of every string just to rewrite a record in place.
   */
  nameHint: number | undefined;

  constructor(out: ByteWriter, btf: Btf) {
    this.#out = out;
    this.#btf = btf;
  }

  encode(id: TypeId, type: BtfType): void {
    this.#id = id;
    const out = this.#out;
    switch (type.kind) {
      case "void":
        throw new RangeError(`Cannot marshal BTF type [${id}]: void is only type id 0`);
      case "int": {
        this.#header(type, 0, false, this.#u32(type.size, "size"));
        const encoding = (type.signed ? INT_SIGNED : 0) | (type.char ? INT_CHAR : 0) | (type.bool ? INT_BOOL : 0);
        const bitOffset = this.#bounded(type.bitOffset, INT_BITS_MASK, "bitOffset");
        const bits = this.#bounded(type.bits, INT_BITS_MASK, "bits");
        out.u32((encoding << INT_ENCODING_SHIFT) | (bitOffset << INT_OFFSET_SHIFT) | bits);
        return;
      }
      case "ptr":
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
        this.#header(type, 0, false, this.#ref(type.type));
        return;
      case "type_tag":
        this.#header(type, 0, type.attribute === true, this.#ref(type.type));
        return;
      case "array":
        this.#header(type, 0, false, 0);
        out.u32(this.#ref(type.type));
        out.u32(this.#ref(type.indexType));
        out.u32(this.#u32(type.nelems, "nelems"));
        return;
      case "struct":
      case "union": {
        const bitfields = type.members.some((member) => member.bitfieldSize !== 0);
        this.#header(type, this.#vlen(type.members.length), bitfields, this.#u32(type.size, "size"));
        for (const member of type.members) {
          out.u32(this.#name(member.name));
          out.u32(this.#ref(member.type));
          if (bitfields) {
            const size = this.#bounded(member.bitfieldSize, BITFIELD_MAX_SIZE, "bitfieldSize");
            const offset = this.#bounded(member.bitOffset, BITFIELD_OFFSET_MASK, "bitOffset of a bitfield struct");
            out.u32((size << BITFIELD_SIZE_SHIFT) | offset);
          } else {
            out.u32(this.#u32(member.bitOffset, "bitOffset"));
          }
        }
        return;
      }
      case "enum":
        this.#header(type, this.#vlen(type.values.length), type.signed, this.#u32(type.size, "size"));
        for (const value of type.values) {
          out.u32(this.#name(value.name));
          if (!Number.isInteger(value.value) || value.value < I32_MIN || value.value > U32_MAX) {
            throw this.#error(`enum value ${value.name} = ${value.value} does not fit in 32 bits`);
          }
          out.u32(value.value);
        }
        return;
      case "enum64":
        this.#header(type, this.#vlen(type.values.length), type.signed, this.#u32(type.size, "size"));
        for (const value of type.values) {
          const bits = BigInt.asUintN(64, value.value);
          if ((type.signed ? BigInt.asIntN(64, bits) : bits) !== value.value) {
            throw this.#error(`enum64 value ${value.name} = ${value.value} does not fit in 64 bits`);
          }
          out.u32(this.#name(value.name));
          out.u32(Number(bits & 0xffff_ffffn));
          out.u32(Number(bits >> 32n));
        }
        return;
      case "fwd":
        this.#header(type, 0, type.union, 0);
        return;
      case "func":
        this.#header(type, this.#linkage(type.linkage), false, this.#ref(type.type));
        return;
      case "func_proto":
        this.#header(type, this.#vlen(type.params.length), false, this.#ref(type.returnType));
        for (const param of type.params) {
          out.u32(this.#name(param.name));
          out.u32(this.#ref(param.type));
        }
        return;
      case "var":
        this.#header(type, 0, false, this.#ref(type.type));
        out.u32(this.#linkage(type.linkage));
        return;
      case "datasec":
        this.#header(type, this.#vlen(type.vars.length), false, this.#u32(type.size, "size"));
        for (const variable of type.vars) {
          out.u32(this.#ref(variable.type));
          out.u32(this.#u32(variable.offset, "variable offset"));
          out.u32(this.#u32(variable.size, "variable size"));
        }
        return;
      case "float":
        this.#header(type, 0, false, this.#u32(type.size, "size"));
        return;
      case "decl_tag":
        this.#header(type, 0, type.attribute === true, this.#ref(type.type));
        if (!Number.isInteger(type.componentIdx) || type.componentIdx < -1 || type.componentIdx > BTF_MAX_VLEN) {
          throw this.#error(`componentIdx ${type.componentIdx} is not -1 or a member index`);
        }
        out.u32(type.componentIdx);
        return;
    }
  }

  /** Writes `struct btf_type`. */
  #header(type: BtfType, vlen: number, kindFlag: boolean, sizeOrType: number): void {
    const hint = this.nameHint;
    this.#out.u32(hint !== undefined && this.#btf.strings.get(hint) === type.name ? hint : this.#name(type.name));
    this.#out.u32((kindFlag ? INFO_KIND_FLAG : 0) | (btfKindNumber(type.kind) << INFO_KIND_SHIFT) | vlen);
    this.#out.u32(sizeOrType);
  }

  #name(name: string): number {
    return this.#btf.strings.offsetOf(name);
  }

  #ref(id: TypeId): TypeId {
    if (!Number.isInteger(id) || id < 0 || id > this.#btf.lastId) {
      throw this.#error(`it refers to type [${id}], which does not exist`);
    }
    return id;
  }

  #vlen(count: number): number {
    if (count > BTF_MAX_VLEN) throw this.#error(`${count} entries exceed the maximum of ${BTF_MAX_VLEN}`);
    return count;
  }

  #linkage(linkage: BtfLinkage): number {
    const value = LINKAGES.indexOf(linkage);
    if (value < 0) throw this.#error(`unknown linkage ${JSON.stringify(linkage)}`);
    return value;
  }

  #u32(value: number, field: string): number {
    return this.#bounded(value, U32_MAX, field);
  }

  #bounded(value: number, max: number, field: string): number {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw this.#error(`${field} ${value} is not an integer from 0 to ${max}`);
    }
    return value;
  }

  #error(what: string): RangeError {
    return new RangeError(`Cannot marshal BTF type [${this.#id}]: ${what}`);
  }
}
