/**
 * Codecs turn the bytes of a map key/value or a global variable into JavaScript values and back.
 *
 * A codec has a fixed byte size and reads/writes at an offset in a DataView, so that callers can point it
 * at a reusable buffer (or an mmap of kernel memory) without copying. Codecs for BTF types are compiled
 * once per type (see `btf-codec.ts`); codecs for plain numbers and bytes are here.
 */

/** Reads and writes values of one C type. */
export interface Codec<T> {
  /** Size in bytes of an encoded value. */
  readonly size: number;
  /** Reads a value at `offset`. */
  decode(view: DataView, offset: number): T;
  /** Writes `value` at `offset`; throws TypeError/RangeError for a value that does not fit the type. */
  encode(value: T, view: DataView, offset: number): void;
  /** A short description of the C type, for error messages (`u32`, `struct key`). */
  readonly description: string;
}

/** Names of the built-in numeric codecs. */
export type NumberType = "u8" | "s8" | "u16" | "s16" | "u32" | "s32" | "u64" | "s64" | "f32" | "f64";

/** The byte order of this machine, which is the kernel's. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** What a number codec reads: its type and byte order. */
export interface NumberLayout {
  readonly type: NumberType;
  readonly littleEndian: boolean;
}

/**
 * The layouts of the number codecs, keyed by their decode function: copies of a codec (a BTF typedef
 * renames one with `{ ...codec, description }`) keep it, and a codec whose decode was replaced does not.
 */
const layouts = new WeakMap<Codec<unknown>["decode"], NumberLayout>();

/**
 * @internal The number type and byte order that `codec` decodes, when its decode is that of a
 * `numberCodec()`; bulk decoders read such values with typed arrays instead of calling the codec.
 */
export function numberLayout(codec: Codec<unknown>): NumberLayout | undefined {
  return layouts.get(codec.decode);
}

/** A codec for a fixed-width number; 64-bit integers are bigint. */
export function numberCodec(type: "u64" | "s64", littleEndian?: boolean): Codec<bigint>;
export function numberCodec(type: Exclude<NumberType, "u64" | "s64">, littleEndian?: boolean): Codec<number>;
export function numberCodec(type: NumberType, littleEndian?: boolean): Codec<number> | Codec<bigint>;
export function numberCodec(type: NumberType, littleEndian = true): Codec<number> | Codec<bigint> {
  const codec = buildNumberCodec(type, littleEndian);
  layouts.set(codec.decode as Codec<unknown>["decode"], { type, littleEndian });
  return codec;
}

function buildNumberCodec(type: NumberType, le: boolean): Codec<number> | Codec<bigint> {
  switch (type) {
    case "u8":
      return intCodec(type, 1, (v, o) => v.getUint8(o), (x, v, o) => v.setUint8(o, x), 0, 0xff);
    case "s8":
      return intCodec(type, 1, (v, o) => v.getInt8(o), (x, v, o) => v.setInt8(o, x), -0x80, 0x7f);
    case "u16":
      return intCodec(type, 2, (v, o) => v.getUint16(o, le), (x, v, o) => v.setUint16(o, x, le), 0, 0xffff);
    case "s16":
      return intCodec(type, 2, (v, o) => v.getInt16(o, le), (x, v, o) => v.setInt16(o, x, le), -0x8000, 0x7fff);
    case "u32":
      return intCodec(type, 4, (v, o) => v.getUint32(o, le), (x, v, o) => v.setUint32(o, x, le), 0, 0xffffffff);
    case "s32":
      return intCodec(type, 4, (v, o) => v.getInt32(o, le), (x, v, o) => v.setInt32(o, x, le), -0x80000000, 0x7fffffff);
    case "u64":
      return bigintCodec(type, (v, o) => v.getBigUint64(o, le), (x, v, o) => v.setBigUint64(o, x, le), 0n, (1n << 64n) - 1n);
    case "s64":
      return bigintCodec(type, (v, o) => v.getBigInt64(o, le), (x, v, o) => v.setBigInt64(o, x, le), -(1n << 63n), (1n << 63n) - 1n);
    case "f32":
      return floatCodec(type, 4, (v, o) => v.getFloat32(o, le), (x, v, o) => v.setFloat32(o, x, le));
    case "f64":
      return floatCodec(type, 8, (v, o) => v.getFloat64(o, le), (x, v, o) => v.setFloat64(o, x, le));
  }
}

function intCodec(
  description: string,
  size: number,
  get: (v: DataView, o: number) => number,
  set: (x: number, v: DataView, o: number) => void,
  min: number,
  max: number,
): Codec<number> {
  return {
    size,
    description,
    decode: get,
    encode(value, view, offset) {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected an integer`);
      }
      if (value < min || value > max) throw new RangeError(`Cannot encode ${value} as ${description}: out of range`);
      set(value, view, offset);
    },
  };
}

function bigintCodec(
  description: string,
  get: (v: DataView, o: number) => bigint,
  set: (x: bigint, v: DataView, o: number) => void,
  min: bigint,
  max: bigint,
): Codec<bigint> {
  return {
    size: 8,
    description,
    decode: get,
    encode(value, view, offset) {
      // Numbers are accepted for convenience (`map.set(1, 5)` on a u64 map) when they are exact integers.
      const big = typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : value;
      if (typeof big !== "bigint") throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected a bigint`);
      if (big < min || big > max) throw new RangeError(`Cannot encode ${big} as ${description}: out of range`);
      set(big, view, offset);
    },
  };
}

function floatCodec(
  description: string,
  size: number,
  get: (v: DataView, o: number) => number,
  set: (x: number, v: DataView, o: number) => void,
): Codec<number> {
  return {
    size,
    description,
    decode: get,
    encode(value, view, offset) {
      if (typeof value !== "number") throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected a number`);
      set(value, view, offset);
    },
  };
}

/** A codec for `size` raw bytes, decoded as a copy. */
export function bytesCodec(size: number, description = `u8[${size}]`): Codec<Uint8Array> {
  return {
    size,
    description,
    decode: (view, offset) => new Uint8Array(view.buffer, view.byteOffset + offset, size).slice(),
    encode(value, view, offset) {
      if (!(value instanceof Uint8Array)) throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected a Uint8Array`);
      if (value.length > size) throw new RangeError(`Cannot encode ${value.length} bytes as ${description}: too long`);
      const target = new Uint8Array(view.buffer, view.byteOffset + offset, size);
      target.set(value);
      target.fill(0, value.length);
    },
  };
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** A codec for a NUL-padded C string of `size` bytes (`char comm[16]`). */
export function stringCodec(size: number): Codec<string> {
  const description = `char[${size}]`;
  return {
    size,
    description,
    decode(view, offset) {
      const bytes = new Uint8Array(view.buffer, view.byteOffset + offset, size);
      const end = bytes.indexOf(0);
      return utf8Decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
    },
    encode(value, view, offset) {
      if (typeof value !== "string") throw new TypeError(`Cannot encode ${describe(value)} as ${description}: expected a string`);
      const target = new Uint8Array(view.buffer, view.byteOffset + offset, size);
      const { written, read } = utf8Encoder.encodeInto(value, target);
      if (read < value.length) throw new RangeError(`Cannot encode "${value}" as ${description}: too long`);
      target.fill(0, written);
    },
  };
}

/** A short description of a JavaScript value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `"${value.length > 20 ? value.slice(0, 20) + "…" : value}"`;
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : value.constructor?.name ?? "an object";
}
