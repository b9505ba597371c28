/**
 * Codecs between C values in bytes and JavaScript values: fixed-width numbers, byte strings, C strings,
 * and anything a BTF type describes; and column decoders, which decode runs of one codec's values.
 */

export { bytesCodec, HOST_LITTLE_ENDIAN, numberCodec, stringCodec, type Codec, type NumberType } from "./codec.js";
export { columnDecoder, type ColumnDecoder } from "./columns.js";
export { btfCodec, type BtfValue } from "./btf-codec.js";
