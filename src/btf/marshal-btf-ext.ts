/**
 * Writing a `BtfExt` as a `.BTF.ext` section, laid out as clang lays it out: a 32-byte header, then the
 * func info, line info and CO-RE relocation subsections back to back, each with this format's record
 * size. Strings (section names, file names, source lines, access strings) are turned into offsets with
 * the `.BTF` section's `btf.strings.offsetOf`, so strings it already holds keep their offsets and new
 * ones are appended — marshal the `.BTF` section after this if that may happen.
 */

import type { Btf } from "./btf.js";
import {
  BTF_EXT_HEADER_SIZE,
  COLUMN_MASK,
  CORE_RELO_RECORD_SIZE,
  FUNC_INFO_RECORD_SIZE,
  LINE_INFO_RECORD_SIZE,
  LINE_NUMBER_SHIFT,
  type BtfExt,
} from "./btf-ext.js";
import { BTF_MAGIC, BTF_VERSION } from "./kinds.js";
import { ByteWriter } from "./writer.js";

/** Options for {@link marshalBtfExt}. */
export interface MarshalBtfExtOptions {
  /** The byte order to write; defaults to the `Btf`'s. */
  readonly littleEndian?: boolean;
}

const U32_MAX = 0xffff_ffff;
/** The largest line number `line_col` can hold. */
const MAX_LINE_NUMBER = U32_MAX >>> LINE_NUMBER_SHIFT;

/**
 * The `.BTF.ext` bytes of `ext`, with strings taken from (and added to) `btf.strings`.
 *
 * @throws {RangeError} when a record holds a value its field cannot encode
 * @example
 * const extBytes = marshalBtfExt(ext, btf);
 * const btfBytes = marshalBtf(btf); // after: marshalBtfExt may have added strings
 */
export function marshalBtfExt(ext: BtfExt, btf: Btf, options: MarshalBtfExtOptions = {}): Uint8Array {
  const out = new ByteWriter(options.littleEndian ?? btf.littleEndian);
  out.u16(BTF_MAGIC);
  out.u8(BTF_VERSION);
  out.u8(0); // flags
  out.u32(BTF_EXT_HEADER_SIZE);
  const fields = out.length;
  for (let i = 0; i < 6; i++) out.u32(0); // three (offset, length) pairs, patched below

  const u32 = (value: number, what: string): number => {
    if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
      throw new RangeError(`Cannot marshal .BTF.ext: ${what} ${value} is not a u32`);
    }
    return value;
  };

  const subsection = <T>(
    field: number,
    blocks: ReadonlyMap<string, readonly T[]>,
    recordSize: number,
    write: (record: T) => void,
  ): void => {
    const start = out.length;
    const nonEmpty = [...blocks].filter(([, records]) => records.length > 0);
    if (nonEmpty.length > 0) {
      out.u32(recordSize);
      for (const [section, records] of nonEmpty) {
        out.u32(btf.strings.offsetOf(section));
        out.u32(records.length);
        for (const record of records) write(record);
      }
    }
    out.u32At(field, start - BTF_EXT_HEADER_SIZE);
    out.u32At(field + 4, out.length - start);
  };

  subsection(fields, ext.funcInfo, FUNC_INFO_RECORD_SIZE, (record) => {
    out.u32(u32(record.insnOff, "instruction offset"));
    out.u32(u32(record.typeId, "type id"));
  });
  subsection(fields + 8, ext.lineInfo, LINE_INFO_RECORD_SIZE, (record) => {
    if (!Number.isInteger(record.lineNumber) || record.lineNumber < 0 || record.lineNumber > MAX_LINE_NUMBER) {
      throw new RangeError(`Cannot marshal .BTF.ext: line number ${record.lineNumber} does not fit in 22 bits`);
    }
    if (!Number.isInteger(record.column) || record.column < 0 || record.column > COLUMN_MASK) {
      throw new RangeError(`Cannot marshal .BTF.ext: column ${record.column} does not fit in 10 bits`);
    }
    out.u32(u32(record.insnOff, "instruction offset"));
    out.u32(btf.strings.offsetOf(record.fileName));
    out.u32(btf.strings.offsetOf(record.line));
    out.u32((record.lineNumber << LINE_NUMBER_SHIFT) | record.column);
  });
  subsection(fields + 16, ext.coreRelos, CORE_RELO_RECORD_SIZE, (record) => {
    out.u32(u32(record.insnOff, "instruction offset"));
    out.u32(u32(record.typeId, "type id"));
    out.u32(btf.strings.offsetOf(record.accessStr));
    out.u32(u32(record.kind, "CO-RE relocation kind"));
  });
  return out.finish();
}
