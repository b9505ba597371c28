/**
 * Reads the section header table into `ElfSection`s: applies extended numbering (a section count in
 * section 0's sh_size, a name table index in its sh_link), resolves names through the section name
 * string table and checks that each section's data lies within the file before taking a view of it.
 * Errors about the table itself carry file offsets; errors about one section name it.
 */

import { FormatError } from "../errors.js";
import { ByteReader } from "./byte-reader.js";
import { SHN_UNDEF, SHN_XINDEX, SHT_NOBITS, SHT_NULL } from "./constants.js";
import type { ElfSection } from "./elf-types.js";
import { EHDR, SHDR_LINK_FIELD, SHDR_SIZE } from "./layout.js";
import type { ElfHeader } from "./parse-header.js";
import { sectionLabel } from "./section-checks.js";
import { StringTable } from "./string-table.js";

/** The sections of a file and the index of the one holding their names. */
export interface ParsedSections {
  readonly sections: ElfSection[];
  /** The section name string table's index, resolved through section 0 when e_shstrndx is SHN_XINDEX. */
  readonly shstrndx: number;
}

/** A section header as stored: the name is still an offset and the data is not yet checked. */
interface RawSectionHeader {
  readonly nameOffset: number;
  readonly fields: Omit<ElfSection, "index" | "name" | "data">;
}

const EMPTY = new Uint8Array(0);

/** Reads every section header of the file described by `header`. */
export function parseSections(bytes: Uint8Array, header: ElfHeader, file: string | undefined): ParsedSections {
  const reader = new ByteReader(bytes, header.littleEndian, { file });
  if (header.shoff === 0) {
    if (header.shnum !== 0) reader.fail(`e_shnum is ${header.shnum} but there is no section header table`, EHDR.shnum);
    return { sections: [], shstrndx: SHN_UNDEF };
  }
  if (header.shentsize !== SHDR_SIZE) {
    reader.fail(`section header size ${header.shentsize} is not ${SHDR_SIZE}`, EHDR.shentsize);
  }
  reader.expect(header.shoff, SHDR_SIZE, "section header table");
  const first = readSectionHeader(reader, header.shoff);
  const count = header.shnum === 0 ? first.fields.size : header.shnum;
  reader.expect(header.shoff, count * SHDR_SIZE, `section header table of ${count} entries`);
  const raw: RawSectionHeader[] = [];
  for (let i = 0; i < count; i++) raw.push(i === 0 ? first : readSectionHeader(reader, header.shoff + i * SHDR_SIZE));

  const extended = header.shstrndx === SHN_XINDEX;
  const shstrndx = extended ? first.fields.link : header.shstrndx;
  if (shstrndx !== SHN_UNDEF && shstrndx >= count) {
    reader.fail(
      `section name table index ${shstrndx} is out of range (${count} sections)`,
      extended ? header.shoff + SHDR_LINK_FIELD : EHDR.shstrndx,
    );
  }
  const names = shstrndx === SHN_UNDEF ? undefined : nameTable(bytes, raw[shstrndx]!, shstrndx, file);

  const sections = raw.map((h, index): ElfSection => {
    const name = names?.get(h.nameOffset, ["section", index]) ?? "";
    const f = h.fields;
    return {
      index,
      name,
      type: f.type,
      flags: f.flags,
      addr: f.addr,
      offset: f.offset,
      size: f.size,
      link: f.link,
      info: f.info,
      addralign: f.addralign,
      entsize: f.entsize,
      data: sectionData(bytes, h, file, index, name),
    };
  });
  return { sections, shstrndx };
}

/** Reads the section header at file offset `at` (already known to lie within the file). */
function readSectionHeader(reader: ByteReader, at: number): RawSectionHeader {
  const nameOffset = reader.seek(at).u32();
  const fields = {
    type: reader.u32(),
    flags: reader.u64("sh_flags"),
    addr: reader.u64("sh_addr"),
    offset: reader.u64("sh_offset"),
    size: reader.u64("sh_size"),
    link: reader.u32(),
    info: reader.u32(),
    addralign: reader.u64("sh_addralign"),
    entsize: reader.u64("sh_entsize"),
  };
  return { nameOffset, fields };
}

/** The section name string table, labelled by its own name once that is known. */
function nameTable(bytes: Uint8Array, header: RawSectionHeader, index: number, file: string | undefined): StringTable {
  const unnamed = { file, section: sectionLabel(index, "") };
  const data = sectionData(bytes, header, file, index, "");
  const name = new StringTable(data, unnamed).get(header.nameOffset, ["section", index]);
  return new StringTable(data, { file, section: sectionLabel(index, name) });
}

/** A view of a section's bytes, after checking that they lie within the file. */
function sectionData(bytes: Uint8Array, header: RawSectionHeader, file: string | undefined, index: number, name: string): Uint8Array {
  const { type, offset, size } = header.fields;
  if (type === SHT_NULL || type === SHT_NOBITS) return EMPTY;
  if (offset > bytes.length || size > bytes.length - offset) {
    throw new FormatError(
      "ELF",
      `section data (0x${size.toString(16)} bytes at file offset 0x${offset.toString(16)}) runs past the end of the file (0x${bytes.length.toString(16)} bytes)`,
      { file, section: sectionLabel(index, name), offset: Math.max(0, bytes.length - offset) },
    );
  }
  return bytes.subarray(offset, offset + size);
}
