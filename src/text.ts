/**
 * Decoding of the UTF-8 strings binary formats are full of (symbol names, BTF names, source lines):
 * mostly short ASCII names, but a large executable has a hundred thousand symbols, most of them C++
 * names longer than fifty characters. The shortest are built by a plain loop, several times faster
 * than a TextDecoder call; everything else, and any non-ASCII text, takes the decoder, whose native
 * ASCII scan makes long strings cheap.
 */

const decoder = new TextDecoder();

/**
 * Strings up to this many bytes are built by the loop. V8 concatenates strings shorter than 13
 * characters into flat copies, but longer ones into a cons-string node per appended character, which
 * costs more than the decoder call and fills the young generation with garbage (most of the time of
 * parsing Node's own symbol table went to collecting it).
 */
const LOOP_LIMIT = 12;

/** The UTF-8 text of `bytes[start, end)`; malformed sequences become U+FFFD, as TextDecoder makes them. */
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
