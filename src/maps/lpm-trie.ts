/**
 * Longest-prefix-match tries (`lpm_trie`): keys are `{ prefixLength, data }`, where `data` is the
 * address bytes (or, for 4- and 16-byte data, an IPv4 or IPv6 address string). A `get` with a full
 * prefix length finds the longest stored prefix that matches, as the kernel's lookup does.
 */

import { isIPv4, isIPv6 } from "node:net";
import type { Codec } from "../codec/index.js";
import { HashMap } from "./hash-map.js";

/** The key of an LPM trie: a prefix length in bits and the address data. */
export interface LpmKey {
  prefixLength: number;
  /** The address bytes, or an IPv4 / IPv6 string when the trie's data is 4 / 16 bytes. */
  data: Uint8Array | string;
}

/** The codec of `struct { u32 prefixlen; u8 data[keySize - 4]; }`; decoded data is a Uint8Array. */
export function lpmKeyCodec(keySize: number): Codec<LpmKey> {
  const dataSize = keySize - 4;
  if (dataSize <= 0) throw new TypeError(`Cannot key an LPM trie with ${keySize}-byte keys: they hold a u32 prefix length and data`);
  const description = `lpm key (u8[${dataSize}])`;
  return {
    size: keySize,
    description,
    decode: (view, offset) => ({
      prefixLength: view.getUint32(offset, true),
      data: new Uint8Array(view.buffer, view.byteOffset + offset + 4, dataSize).slice(),
    }),
    encode(key, view, offset) {
      if (typeof key !== "object" || key === null || !Number.isInteger(key.prefixLength)) {
        throw new TypeError(`Cannot encode ${description}: expected { prefixLength, data }`);
      }
      if (key.prefixLength < 0 || key.prefixLength > dataSize * 8) {
        throw new RangeError(`Cannot encode ${description}: prefix length ${key.prefixLength} is outside 0…${dataSize * 8}`);
      }
      const bytes = typeof key.data === "string" ? addressBytes(key.data, dataSize) : key.data;
      if (!(bytes instanceof Uint8Array) || bytes.length > dataSize) {
        throw new TypeError(`Cannot encode ${description}: data must be at most ${dataSize} bytes`);
      }
      view.setUint32(offset, key.prefixLength, true);
      const target = new Uint8Array(view.buffer, view.byteOffset + offset + 4, dataSize);
      target.set(bytes);
      target.fill(0, bytes.length);
    },
  };
}

/** The bytes of an IPv4 (4 bytes) or IPv6 (16 bytes) address string. */
export function addressBytes(text: string, size: number): Uint8Array {
  if (size === 4 && isIPv4(text)) return Uint8Array.from(text.split("."), Number);
  if (size === 16 && isIPv6(text)) return ipv6Bytes(text);
  throw new TypeError(`Cannot use "${text}" as ${size} bytes of address data: expected an IPv${size === 4 ? 4 : 6} address`);
}

function ipv6Bytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const words = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(":").flatMap((group) => {
      if (group.includes(".")) {
        const [a, b, c, d] = group.split(".").map(Number);
        return [(a! << 8) | b!, (c! << 8) | d!];
      }
      return [parseInt(group, 16)];
    });
  };
  const front = words(head);
  const back = words(tail);
  const all = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  all.forEach((word, i) => {
    out[i * 2] = word >> 8;
    out[i * 2 + 1] = word & 0xff;
  });
  return out;
}

/** An `lpm_trie` map. */
export class LpmTrieMap<V = unknown> extends HashMap<LpmKey, V> {}
