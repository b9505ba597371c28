/**
 * Codecs between C values in bytes and JavaScript values: fixed-width numbers, byte strings, C strings,
 * and anything a BTF type describes.
 */

export { bytesCodec, numberCodec, stringCodec, type Codec, type NumberType } from "./codec.js";
export { btfCodec, type BtfValue } from "./btf-codec.js";
