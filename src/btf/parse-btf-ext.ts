/**
 * Parsing a `.BTF.ext` section. After the header come up to three subsections (func info, line info and,
 * in headers of 32 bytes or more, CO-RE relocations), each a record size followed by one block per ELF
 * section: the section's name offset, a record count and the records. Record sizes larger than the ones
 * we know are honoured (the tail of each record is skipped); smaller ones are an error. Every string
 * offset is resolved through the `.BTF` section's `Btf` and every type id checked against it.
 */

import { FormatError } from "../errors.js";
import type { Btf } from "./btf.js";
import {
  BTF_EXT_HEADER_MIN_SIZE,
  BTF_EXT_HEADER_SIZE,
  COLUMN_MASK,
  CORE_RELO_RECORD_SIZE,
  CoreReloKind,
  FUNC_INFO_RECORD_SIZE,
  INSTRUCTION_SIZE,
  LINE_INFO_RECORD_SIZE,
  LINE_NUMBER_SHIFT,
  type BtfExt,
  type CoreReloRecord,
  type FuncInfoRecord,
  type LineInfoRecord,
} from "./btf-ext.js";
import { BTF_MAGIC, BTF_VERSION } from "./kinds.js";
import { ByteReader } from "./reader.js";
import type { TypeId } from "./types.js";
import type { BtfStrings } from "./strings.js";

/** Options for {@link parseBtfExt}. */
export interface ParseBtfExtOptions {
  /** The file the bytes came from, for error messages. */
  readonly file?: string;
}

const SECTION = ".BTF.ext";

/** The size of a block's head: `sec_name_off` and `num_info`. */
const BLOCK_HEAD_SIZE = 8;

/** The largest CO-RE relocation kind we know. */
const MAX_CORE_RELO_KIND = CoreReloKind.TYPE_MATCHES;

/**
 * Parses a `.BTF.ext` section against the `Btf` of the same object's `.BTF` section.
 *
 * @throws {FormatError} when the bytes are invalid or refer to strings or types `btf` lacks
 * @example
 * const btf = Btf.parse(btfBytes, { file: "prog.o" });
 * const ext = parseBtfExt(extBytes, btf, { file: "prog.o" });
 * for (const line of ext.lineInfo.get("xdp") ?? []) console.log(line.lineNumber, line.line);
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf, options: ParseBtfExtOptions = {}): BtfExt {
  const { file } = options;
  if (bytes.length < BTF_EXT_HEADER_MIN_SIZE) {
    throw new FormatError("BTF.ext", `header is truncated: ${bytes.length} of ${BTF_EXT_HEADER_MIN_SIZE} bytes`, {
      file,
      section: SECTION,
      offset: 0,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const littleEndian = view.getUint16(0, true) === BTF_MAGIC;
  const r = new ByteReader(bytes, littleEndian, { format: "BTF.ext", file, section: SECTION });
  const magic = r.u16();
  if (magic !== BTF_MAGIC) {
    throw r.error(`bad magic 0x${view.getUint16(0, true).toString(16).padStart(4, "0")}`, 0);
  }
  if (littleEndian !== btf.littleEndian) throw r.error("byte order differs from the .BTF section's", 0);
  const version = r.u8();
  if (version !== BTF_VERSION) throw r.error(`unsupported version ${version}`, 2);
  const flags = r.u8();
  if (flags !== 0) throw r.error(`unsupported flags 0x${flags.toString(16)}`, 3);
  const headerLength = r.u32();
  if (headerLength < BTF_EXT_HEADER_MIN_SIZE) {
    throw r.error(`header length ${headerLength} is smaller than ${BTF_EXT_HEADER_MIN_SIZE}`, 4);
  }
  if (headerLength > bytes.length) {
    throw r.error(`header length ${headerLength} runs past the end of the ${bytes.length}-byte section`, 4);
  }

  const parser = new ExtParser(r, btf, headerLength);
  return {
    funcInfo: parser.subsection(8, "func info", FUNC_INFO_RECORD_SIZE, (at) => parser.funcInfo(at)),
    lineInfo: parser.subsection(16, "line info", LINE_INFO_RECORD_SIZE, (at) => parser.lineInfo(at)),
    coreRelos:
      headerLength >= BTF_EXT_HEADER_SIZE
        ? parser.subsection(24, "CO-RE relocation", CORE_RELO_RECORD_SIZE, (at) => parser.coreRelo(at))
        : new Map(),
  };
}

/** Reads subsections and records; `at` is always the offset of the record being read. */
class ExtParser {
  readonly #r: ByteReader;
  readonly #btf: Btf;
  readonly #headerLength: number;

  constructor(reader: ByteReader, btf: Btf, headerLength: number) {
    this.#r = reader;
    this.#btf = btf;
    this.#headerLength = headerLength;
  }

  /** Reads the subsection whose (offset, length) pair is at header offset `field`. */
  subsection<T>(field: number, what: string, minRecordSize: number, read: (at: number) => T): Map<string, T[]> {
    const r = this.#r;
    r.pos = field;
    const offset = r.u32();
    const length = r.u32();
    const start = this.#headerLength + offset;
    const end = start + length;
    if (end > r.length) {
      throw r.error(`${what} subsection [${start}, ${end}) runs past the end of the ${r.length}-byte section`, field);
    }
    const blocks = new Map<string, T[]>();
    if (length === 0) return blocks;
    r.pos = start;
    this.#need(end, 4, `${what} record size`);
    const recordSize = r.u32();
    if (recordSize < minRecordSize || recordSize % 4 !== 0) {
      throw r.error(`${what} record size ${recordSize} is not a multiple of 4 of at least ${minRecordSize}`, start);
    }
    while (r.pos < end) {
      const blockAt = r.pos;
      this.#need(end, BLOCK_HEAD_SIZE, `${what} block header`);
      const sectionName = this.#string(r.u32(), blockAt, "section name");
      const count = r.u32();
      if (count === 0) throw r.error(`${what} block for section "${sectionName}" has no records`, blockAt + 4);
      this.#need(end, count * recordSize, `${what} block for section "${sectionName}" (${count} records)`);
      if (blocks.has(sectionName)) throw r.error(`${what} lists section "${sectionName}" twice`, blockAt);
      const records: T[] = [];
      for (let i = 0; i < count; i++) {
        const at = blockAt + BLOCK_HEAD_SIZE + i * recordSize;
        r.pos = at;
        records.push(read(at));
      }
      blocks.set(sectionName, records);
      r.pos = blockAt + BLOCK_HEAD_SIZE + count * recordSize;
    }
    return blocks;
  }

  funcInfo(at: number): FuncInfoRecord {
    const insnOff = this.#insnOff(at);
    return { insnOff, typeId: this.#typeId(at + 4) };
  }

  lineInfo(at: number): LineInfoRecord {
    const r = this.#r;
    const insnOff = this.#insnOff(at);
    const fileNameOff = r.u32();
    const lineOff = r.u32();
    const lineCol = r.u32();
    this.#checkString(fileNameOff, at + 4, "file name");
    this.#checkString(lineOff, at + 8, "line");
    return new LazyLineInfo(this.#btf.strings, insnOff, fileNameOff, lineOff, lineCol >>> LINE_NUMBER_SHIFT, lineCol & COLUMN_MASK);
  }

  coreRelo(at: number): CoreReloRecord {
    const r = this.#r;
    const insnOff = this.#insnOff(at);
    const typeId = this.#typeId(at + 4);
    const accessStrOff = r.u32();
    const kind = r.u32();
    if (kind > MAX_CORE_RELO_KIND) throw r.error(`unknown CO-RE relocation kind ${kind}`, at + 12);
    return { insnOff, typeId, accessStrOff, accessStr: this.#string(accessStrOff, at + 8, "access string"), kind };
  }

  /** Throws unless `size` bytes lie between the cursor and `end` (the subsection's end). */
  #need(end: number, size: number, what: string): void {
    if (size > end - this.#r.pos) {
      throw this.#r.error(`${what} runs past the end of its subsection`);
    }
  }

  #insnOff(at: number): number {
    const insnOff = this.#r.u32();
    if (insnOff % INSTRUCTION_SIZE !== 0) {
      throw this.#r.error(`instruction offset ${insnOff} is not a multiple of ${INSTRUCTION_SIZE}`, at);
    }
    return insnOff;
  }

  #typeId(at: number): TypeId {
    const id = this.#r.u32();
    if (id > this.#btf.lastId) throw this.#r.error(`type [${id}] is past the last BTF type [${this.#btf.lastId}]`, at);
    return id;
  }

  #string(offset: number, at: number, what: string): string {
    this.#checkString(offset, at, what);
    return this.#btf.strings.get(offset);
  }

  #checkString(offset: number, at: number, what: string): void {
    const strings = this.#btf.strings;
    if (!strings.has(offset)) {
      throw this.#r.error(`${what} offset ${offset} is outside the BTF string section (${strings.end} bytes)`, at);
    }
  }
}

/**
 * A line info record whose file name and source text are decoded on first use: objects carry one
 * record per source line, and most are never read (only a verifier error looks one up).
 */
class LazyLineInfo implements LineInfoRecord {
  constructor(
    readonly strings: BtfStrings,
    readonly insnOff: number,
    readonly fileNameOff: number,
    readonly lineOff: number,
    readonly lineNumber: number,
    readonly column: number,
  ) {}

  get fileName(): string {
    return this.strings.get(this.fileNameOff);
  }

  get line(): string {
    return this.strings.get(this.lineOff);
  }
}
