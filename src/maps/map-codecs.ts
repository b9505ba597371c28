/**
 * Choosing the codecs of a map's keys and values: from the map's BTF when the object describes them
 * (`map.get({ pid: 42 })` → `{ count: 3n, comm: "bash" }`), from what the caller asks for
 * (`{ key: "u32", value: "u64" }` or any `Codec`), else raw bytes. Sizes are checked against the map
 * here, once, so a mismatch is a TypeError at construction rather than a wrong read later.
 */

import type { Btf, TypeId } from "../btf/index.js";
import {
  btfCodec,
  bytesCodec,
  HOST_LITTLE_ENDIAN,
  numberCodec,
  stringCodec,
  type BtfValue,
  type Codec,
  type NumberType,
} from "../codec/index.js";

/** A codec, or the name of a built-in one: a number type, `bytes` (Uint8Array) or `string` (a C string). */
export type CodecChoice<T = unknown> = Codec<T> | NumberType | "bytes" | "string";

/** What a caller may say about a map's codecs. */
export interface CodecOptions {
  key?: CodecChoice;
  value?: CodecChoice;
}

const NUMBER_TYPES = new Set<string>(["u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64"]);

/** Turns a choice into a codec of `size` bytes, checking the size. */
export function resolveCodec(choice: CodecChoice, size: number, littleEndian: boolean, what: string): Codec<unknown> {
  let codec: Codec<unknown>;
  if (typeof choice !== "string") codec = choice;
  else if (choice === "bytes") codec = bytesCodec(size);
  else if (choice === "string") codec = stringCodec(size);
  else if (NUMBER_TYPES.has(choice)) codec = numberCodec(choice, littleEndian) as Codec<unknown>;
  else throw new TypeError(`Cannot use codec "${choice}" for ${what}: unknown codec name`);
  if (codec.size !== size) {
    throw new TypeError(`Cannot use ${codec.description} (${codec.size} bytes) for ${what} of ${size} bytes`);
  }
  return codec;
}

/**
 * The codec of a key or value: the caller's choice, else the BTF type when it has the right size,
 * else raw bytes.
 */
export function defaultCodec(
  choice: CodecChoice | undefined,
  btf: Btf | undefined,
  type: TypeId,
  size: number,
  what: string,
): Codec<unknown> {
  const littleEndian = btf?.littleEndian ?? HOST_LITTLE_ENDIAN;
  if (choice !== undefined) return resolveCodec(choice, size, littleEndian, what);
  if (btf && type !== 0) {
    try {
      const codec = btfCodec(btf, type) as Codec<unknown>;
      if (codec.size === size) return codec;
    } catch {
      // Types without storage (or odd BTF) fall back to bytes: the map still works.
    }
  }
  return bytesCodec(size) as Codec<unknown>;
}

export { HOST_LITTLE_ENDIAN, type BtfValue, type Codec };

/**
 * The codec of a per-CPU value block: one `inner` value per possible CPU, each in an 8-byte-aligned
 * slot. Decodes to an array; encodes an array of `cpus` values, or one value copied to every CPU.
 */
export function perCpuCodec<V>(inner: Codec<V>, cpus: number): Codec<V[]> {
  const stride = Math.ceil(inner.size / 8) * 8;
  // An inner value that is itself a JS array makes "one array for every CPU" and "one value per CPU" look
  // alike; per-CPU input must then be an array of arrays.
  const innerIsArray = Array.isArray(inner.decode(new DataView(new ArrayBuffer(inner.size)), 0));
  const description = `${inner.description} per CPU`;
  return {
    size: stride * cpus,
    description,
    decode(view, offset) {
      const out = new Array<V>(cpus);
      for (let cpu = 0; cpu < cpus; cpu++) out[cpu] = inner.decode(view, offset + cpu * stride);
      return out;
    },
    encode(value, view, offset) {
      const perCpu = Array.isArray(value) && value.length === cpus && (!innerIsArray || Array.isArray(value[0]));
      new Uint8Array(view.buffer, view.byteOffset + offset, stride * cpus).fill(0);
      for (let cpu = 0; cpu < cpus; cpu++) {
        inner.encode(perCpu ? (value as V[])[cpu]! : (value as unknown as V), view, offset + cpu * stride);
      }
    },
  };
}
