/**
 * Decoding runs of values packed back to back — the keys or the values that a map's batch command
 * returns — with one call per run instead of one codec call per value.
 *
 * Values of a `numberCodec()` in the host's byte order are copied into a typed array that the caller
 * indexes directly: each element is converted only when it is read (a u64 becomes a bigint then, not
 * before), and every consumer's loop indexes one of a few typed array kinds instead of calling into
 * many different codecs. Other codecs decode every value into a new array.
 */

import { HOST_LITTLE_ENDIAN, numberLayout, type Codec, type NumberType } from "./codec.js";

/** Decodes runs of one codec's values. */
export interface ColumnDecoder<T> {
  /**
   * The `count` values packed at `offset` of `view`, one every `stride` bytes. The result does not
   * refer to `view` (the caller may reuse those bytes at once), but it may be a buffer this decoder
   * overwrites on its next call.
   */
  decode(view: DataView, offset: number, count: number): ArrayLike<T>;
}

type NumberArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | BigUint64Array | BigInt64Array | Float32Array | Float64Array;

interface NumberArrayConstructor {
  new (length: number): NumberArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** The typed array that reads each number type in the host's byte order. */
const NUMBER_ARRAYS: Readonly<Record<NumberType, NumberArrayConstructor>> = {
  u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array, s32: Int32Array,
  u64: BigUint64Array, s64: BigInt64Array, f32: Float32Array, f64: Float64Array,
};

/** A decoder for runs of `codec`'s values, `stride` bytes apart (default: packed, `codec.size`). */
export function columnDecoder<T>(codec: Codec<T>, stride: number = codec.size): ColumnDecoder<T> {
  const layout = numberLayout(codec as Codec<unknown>);
  if (layout !== undefined && layout.littleEndian === HOST_LITTLE_ENDIAN && stride === codec.size) {
    return new TypedColumn(NUMBER_ARRAYS[layout.type]) as unknown as ColumnDecoder<T>;
  }
  return new CodecColumn(codec, stride);
}

/** Numbers copied into a typed array that grows to the largest run and is reused. */
class TypedColumn implements ColumnDecoder<number | bigint> {
  readonly #Array: NumberArrayConstructor;
  #array: NumberArray;
  #bytes: Uint8Array;

  constructor(arrayType: NumberArrayConstructor) {
    this.#Array = arrayType;
    this.#array = new arrayType(0);
    this.#bytes = new Uint8Array(0);
  }

  decode(view: DataView, offset: number, count: number): ArrayLike<number | bigint> {
    if (this.#array.length < count) {
      this.#array = new this.#Array(count);
      this.#bytes = new Uint8Array(this.#array.buffer);
    }
    const length = count * this.#Array.BYTES_PER_ELEMENT;
    this.#bytes.set(new Uint8Array(view.buffer, view.byteOffset + offset, length));
    return this.#array.subarray(0, count);
  }
}

/** Values decoded one by one through their codec. */
class CodecColumn<T> implements ColumnDecoder<T> {
  readonly #codec: Codec<T>;
  readonly #stride: number;

  constructor(codec: Codec<T>, stride: number) {
    this.#codec = codec;
    this.#stride = stride;
  }

  decode(view: DataView, offset: number, count: number): ArrayLike<T> {
    const codec = this.#codec;
    const out = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = codec.decode(view, offset + i * this.#stride);
    return out;
  }
}
