/**
 * Reads the ELF64 file header: the identification bytes (magic, class, byte order, version), then the
 * fields the rest of the parser needs. Errors carry file offsets. Next steps: `parse-sections.ts`, then
 * `parse-segments.ts` (which needs section 0 when the program header count is extended).
 */

import { FormatError } from "../errors.js";
import { ByteReader } from "./byte-reader.js";
import {
  EHDR,
  EHDR_SIZE,
  EI_CLASS,
  EI_DATA,
  EI_NIDENT,
  EI_OSABI,
  EI_VERSION,
  ELF_MAGIC,
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  EV_CURRENT,
} from "./layout.js";

/** The file header fields Waggle uses, raw (before extended numbering is applied). */
export interface ElfHeader {
  readonly littleEndian: boolean;
  readonly osabi: number;
  readonly type: number;
  readonly machine: number;
  readonly flags: number;
  /** e_phentsize: the size of one program header. */
  readonly phentsize: number;
  /**
   * e_phnum: the program header count, or PN_XNUM when it is in section 0's sh_info. e_phoff is read
   * only when this is not 0, so that files without program headers never fail on it.
   */
  readonly phnum: number;
  /** e_shoff: where the section header table starts, 0 when there is none. */
  readonly shoff: number;
  /** e_shentsize: the size of one section header. */
  readonly shentsize: number;
  /** e_shnum: the section count, or 0 when it is in section 0's sh_size. */
  readonly shnum: number;
  /** e_shstrndx: the section name table's index, or SHN_XINDEX when it is in section 0's sh_link. */
  readonly shstrndx: number;
}

/** Reads and checks the file header of `bytes`. */
export function parseHeader(bytes: Uint8Array, file: string | undefined): ElfHeader {
  function fail(what: string, offset: number): never {
    throw new FormatError("ELF", what, { file, offset });
  }
  if (bytes.length === 0) fail("file is empty", 0);
  for (let i = 0; i < ELF_MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== ELF_MAGIC[i]) fail("not an ELF file: bad magic", i);
  }
  if (bytes.length < EI_NIDENT) fail(`ELF identification is truncated: file holds 0x${bytes.length.toString(16)} bytes`, 0);

  const elfClass = bytes[EI_CLASS]!;
  if (elfClass === ELFCLASS32) fail("32-bit ELF is not supported", EI_CLASS);
  if (elfClass !== ELFCLASS64) fail(`unknown ELF class ${elfClass}`, EI_CLASS);
  const byteOrder = bytes[EI_DATA]!;
  if (byteOrder !== ELFDATA2LSB && byteOrder !== ELFDATA2MSB) fail(`unknown byte order ${byteOrder}`, EI_DATA);
  const version = bytes[EI_VERSION]!;
  if (version !== EV_CURRENT) fail(`unknown ELF version ${version}`, EI_VERSION);
  if (bytes.length < EHDR_SIZE) fail(`ELF header is truncated: file holds 0x${bytes.length.toString(16)} bytes`, 0);

  const reader = new ByteReader(bytes, byteOrder === ELFDATA2LSB, { file });
  return {
    littleEndian: reader.littleEndian,
    osabi: bytes[EI_OSABI]!,
    type: reader.seek(EHDR.type).u16(),
    machine: reader.seek(EHDR.machine).u16(),
    shoff: reader.seek(EHDR.shoff).u64("e_shoff"),
    flags: reader.seek(EHDR.flags).u32(),
    phentsize: reader.seek(EHDR.phentsize).u16(),
    phnum: reader.seek(EHDR.phnum).u16(),
    shentsize: reader.seek(EHDR.shentsize).u16(),
    shnum: reader.seek(EHDR.shnum).u16(),
    shstrndx: reader.seek(EHDR.shstrndx).u16(),
  };
}
