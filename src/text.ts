/**
 * Decoding of the short UTF-8 strings binary formats are full of (symbol names, BTF names, source
 * lines). Nearly all are ASCII, which a plain loop turns into a string several times faster than a
 * TextDecoder call; anything else takes the decoder.
 */

const decoder = new TextDecoder();

/** Strings at least this long go straight to TextDecoder, whose per-call cost is then amortised. */
const LOOP_LIMIT = 64;

/** The UTF-8 text of `bytes[start, end)`. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > LOOP_LIMIT) return decoder.decode(bytes.subarray(start, end));
  let text = "";
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x80) return decoder.decode(bytes.subarray(start, end));
    text += String.fromCharCode(byte);
  }
  return text;
}
