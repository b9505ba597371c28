/**
 * Codecs compiled from BTF types, so that `map.get({ pid: 42 })` returns `{ count: 3n, comm: "bash" }`.
 *
 * The mapping from C to JavaScript:
 * - integers of 1–4 bytes → number; 8 bytes → bigint; `bool` → boolean; enums → number (bigint if 8 bytes);
 * - `char x[N]` → string (NUL-terminated UTF-8); other byte arrays → Uint8Array; other arrays → Array;
 * - structs and unions → plain objects keyed by member name (members of anonymous structs/unions are
 *   merged into the parent, as C lets you name them); bitfields → number (bigint above 32 bits);
 * - pointers → bigint addresses; float/double → number; DATASEC → an object of its variables.
 * Padding is skipped on decode and zeroed on encode. Each (BTF, type id) is compiled once and cached.
 */

import { FormatError } from "../errors.js";
import type { Btf, BtfMember, BtfType, TypeId } from "../btf/index.js";
import { bytesCodec, describe, numberCodec, stringCodec, type Codec, type NumberType } from "./codec.js";

/** A JavaScript value decoded from BTF-typed bytes. */
export type BtfValue = number | bigint | boolean | string | Uint8Array | BtfValue[] | { [name: string]: BtfValue };

const compiled = new WeakMap<Btf, Map<TypeId, Codec<BtfValue>>>();

/** The codec for values of BTF type `id`, compiled once and cached per Btf. */
export function btfCodec(btf: Btf, id: TypeId): Codec<BtfValue> {
  let cache = compiled.get(btf);
  if (!cache) compiled.set(btf, (cache = new Map()));
  let codec = cache.get(id);
  if (!codec) {
    codec = compile(btf, id, new Set());
    cache.set(id, codec);
  }
  return codec;
}

function compile(btf: Btf, id: TypeId, seen: Set<TypeId>): Codec<BtfValue> {
  if (seen.has(id)) throw new FormatError("BTF", `type #${id} contains itself`);
  seen.add(id);
  try {
    return compileType(btf, id, btf.type(id), seen);
  } finally {
    seen.delete(id);
  }
}

function compileType(btf: Btf, id: TypeId, t: BtfType, seen: Set<TypeId>): Codec<BtfValue> {
  const le = btf.littleEndian;
  switch (t.kind) {
    case "typedef":
    case "const":
    case "volatile":
    case "restrict":
    case "type_tag":
      return named(compile(btf, t.type, seen), t.kind === "typedef" ? t.name : undefined);
    case "int":
      if (t.bool) return boolCodec(t.size, le);
      return intByteCodec(t.size, t.signed, le, t.name) ?? widen(bytesCodec(t.size, t.name));
    case "enum":
      return intByteCodec(t.size, t.signed, le, `enum ${t.name}`.trim()) ?? widen(bytesCodec(t.size));
    case "enum64":
      return widen(numberCodec(t.signed ? "s64" : "u64", le));
    case "float":
      return t.size === 4 || t.size === 8 ? widen(numberCodec(t.size === 4 ? "f32" : "f64", le)) : widen(bytesCodec(t.size, t.name));
    case "ptr":
      return widen(numberCodec("u64", le));
    case "array":
      return arrayCodec(btf, t.type, t.nelems, seen);
    case "struct":
    case "union":
      return recordCodec(btf, t.kind, t.name, t.size, t.members, seen);
    case "datasec":
      return datasecCodec(btf, t.name, t.size, t.vars, seen);
    case "var":
      return compile(btf, t.type, seen);
    case "void":
    case "fwd":
    case "func":
    case "func_proto":
    case "decl_tag":
      throw new TypeError(`Cannot encode values of BTF type #${id} (${t.kind} ${t.name}): it has no storage`);
  }
}

function named(codec: Codec<BtfValue>, name: string | undefined): Codec<BtfValue> {
  return name ? { ...codec, description: name } : codec;
}

/** Widens a codec of a narrower value type to the BtfValue union (safe: decode/encode keep their checks). */
function widen(codec: Codec<number> | Codec<bigint> | Codec<string> | Codec<Uint8Array>): Codec<BtfValue> {
  return codec as unknown as Codec<BtfValue>;
}

function intByteCodec(size: number, signed: boolean, le: boolean, name: string): Codec<BtfValue> | undefined {
  const type = ({ 1: "8", 2: "16", 4: "32", 8: "64" } as Record<number, string>)[size];
  if (!type) return undefined;
  return named(widen(numberCodec(`${signed ? "s" : "u"}${type}` as NumberType, le)), name);
}

function boolCodec(size: number, le: boolean): Codec<BtfValue> {
  return {
    size,
    description: "bool",
    decode: (view, offset) => new Uint8Array(view.buffer, view.byteOffset + offset, size).some((b) => b !== 0),
    encode(value, view, offset) {
      if (typeof value !== "boolean") throw new TypeError(`Cannot encode ${describe(value)} as bool: expected a boolean`);
      const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, size);
      bytes.fill(0);
      if (value) bytes[le ? 0 : size - 1] = 1;
    },
  };
}

function arrayCodec(btf: Btf, elemId: TypeId, count: number, seen: Set<TypeId>): Codec<BtfValue> {
  const elem = btf.type(btf.resolve(elemId));
  if (elem.kind === "int" && elem.size === 1 && !elem.bool) {
    return elem.char || elem.name === "char" ? widen(stringCodec(count)) : widen(bytesCodec(count));
  }
  const inner = compile(btf, elemId, seen);
  const stride = inner.size;
  const description = `${inner.description}[${count}]`;
  return {
    size: stride * count,
    description,
    decode(view, offset) {
      const out: BtfValue[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = inner.decode(view, offset + i * stride);
      return out;
    },
    encode(value, view, offset) {
      if (!Array.isArray(value)) throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected an array`);
      if (value.length > count) throw new RangeError(`Cannot encode ${value.length} elements as ${description}: too many`);
      new Uint8Array(view.buffer, view.byteOffset + offset, stride * count).fill(0);
      for (let i = 0; i < value.length; i++) inner.encode(value[i]!, view, offset + i * stride);
    },
  };
}

/** One named field of a record: where it is and how to read it. */
interface Field {
  readonly name: string;
  /** Width in bits (for bounds checks). */
  readonly bits: number;
  readonly decode: (view: DataView, base: number) => BtfValue;
  readonly encode: (value: BtfValue, view: DataView, base: number) => void;
}

function recordCodec(
  btf: Btf,
  kind: "struct" | "union",
  name: string,
  size: number,
  members: readonly BtfMember[],
  seen: Set<TypeId>,
): Codec<BtfValue> {
  const description = `${kind} ${name || "(anon)"}`;
  const fields = collectFields(btf, members, 0, size * 8, description, seen);
  return {
    size,
    description,
    decode(view, offset) {
      const out: { [name: string]: BtfValue } = {};
      for (const f of fields) out[f.name] = f.decode(view, offset);
      return out;
    },
    encode(value, view, offset) {
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
        throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected an object`);
      }
      const record = value as { [name: string]: BtfValue };
      for (const key of Object.keys(record)) {
        if (!fields.some((f) => f.name === key)) throw new TypeError(`Cannot encode ${description}: it has no member "${key}"`);
      }
      new Uint8Array(view.buffer, view.byteOffset + offset, size).fill(0);
      for (const f of fields) {
        const v = record[f.name];
        if (v !== undefined) f.encode(v, view, offset);
      }
    },
  };
}

/** The named fields of a struct/union, flattening anonymous members; offsets are relative to the record. */
function collectFields(
  btf: Btf,
  members: readonly BtfMember[],
  baseBits: number,
  limitBits: number,
  description: string,
  seen: Set<TypeId>,
): Field[] {
  const fields: Field[] = [];
  const outside = (m: BtfMember): never => {
    throw new FormatError("BTF", `member "${m.name}" of ${description} lies outside it`);
  };
  for (const m of members) {
    const bitOffset = baseBits + m.bitOffset;
    if (m.name === "") {
      const t = btf.type(btf.resolve(m.type));
      if (t.kind === "struct" || t.kind === "union") {
        if (bitOffset + t.size * 8 > limitBits) outside(m);
        fields.push(...collectFields(btf, t.members, bitOffset, limitBits, description, seen));
        continue;
      }
    }
    if (m.bitfieldSize > 0 || bitOffset % 8 !== 0) {
      const field = bitfield(btf, m, bitOffset);
      if (bitOffset + field.bits > limitBits) outside(m);
      fields.push(field);
      continue;
    }
    const codec = compile(btf, m.type, seen);
    if (bitOffset + codec.size * 8 > limitBits) outside(m);
    const at = bitOffset / 8;
    fields.push({
      name: m.name,
      bits: codec.size * 8,
      decode: (view, base) => codec.decode(view, base + at),
      encode: (value, view, base) => codec.encode(value, view, base + at),
    });
  }
  return fields;
}

/** A bitfield member: read through a 64-bit window holding its bits. */
function bitfield(btf: Btf, m: BtfMember, bitOffset: number): Field {
  const t = btf.type(btf.resolve(m.type));
  const signed = (t.kind === "int" || t.kind === "enum") && t.signed;
  const bits = m.bitfieldSize > 0 ? m.bitfieldSize : t.kind === "int" ? t.bits : btf.sizeof(m.type) * 8;
  const le = btf.littleEndian;
  const byteStart = Math.floor(bitOffset / 8);
  const byteEnd = Math.ceil((bitOffset + bits) / 8);
  const width = byteEnd - byteStart;
  const mask = (1n << BigInt(bits)) - 1n;
  // Shift of the field's lowest bit inside the little- or big-endian integer made of its bytes.
  const shift = BigInt(le ? bitOffset - byteStart * 8 : byteEnd * 8 - (bitOffset + bits));
  const read = (view: DataView, base: number): bigint => {
    let acc = 0n;
    for (let i = 0; i < width; i++) {
      const b = BigInt(view.getUint8(base + byteStart + i));
      acc |= le ? b << BigInt(8 * i) : b << BigInt(8 * (width - 1 - i));
    }
    return acc;
  };
  const write = (view: DataView, base: number, acc: bigint) => {
    for (let i = 0; i < width; i++) {
      const b = le ? acc >> BigInt(8 * i) : acc >> BigInt(8 * (width - 1 - i));
      view.setUint8(base + byteStart + i, Number(b & 0xffn));
    }
  };
  return {
    name: m.name,
    bits,
    decode(view, base) {
      let v = (read(view, base) >> shift) & mask;
      if (signed && v >> BigInt(bits - 1) === 1n) v -= 1n << BigInt(bits);
      return bits > 32 ? v : Number(v);
    },
    encode(value, view, base) {
      const v = typeof value === "number" && Number.isInteger(value) ? BigInt(value) : value;
      if (typeof v !== "bigint") throw new TypeError(`Cannot encode ${describe(value)} as bitfield "${m.name}": expected an integer`);
      const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
      const max = signed ? (1n << BigInt(bits - 1)) - 1n : mask;
      if (v < min || v > max) throw new RangeError(`Cannot encode ${v} in the ${bits}-bit field "${m.name}": out of range`);
      const acc = (read(view, base) & ~(mask << shift)) | ((v & mask) << shift);
      write(view, base, acc);
    },
  };
}

function datasecCodec(
  btf: Btf,
  name: string,
  size: number,
  vars: readonly { type: TypeId; offset: number; size: number }[],
  seen: Set<TypeId>,
): Codec<BtfValue> {
  const members: BtfMember[] = [];
  for (const info of vars) {
    const v = btf.type(info.type);
    if (v.kind === "var") members.push({ name: v.name, type: v.type, bitOffset: info.offset * 8, bitfieldSize: 0 });
  }
  return recordCodec(btf, "struct", name, size, members, seen);
}
