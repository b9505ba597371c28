/**
 * Reads the static symbol table (SHT_SYMTAB) into `ElfSymbol`s: names from the string table its
 * sh_link names, type and binding from st_info, visibility from st_other, and section indices that are
 * SHN_XINDEX resolved through the SHT_SYMTAB_SHNDX section linked to the symbol table.
 */

import { ByteReader } from "./byte-reader.js";
import { SHN_XINDEX, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX } from "./constants.js";
import type { ElfSection, ElfSymbol } from "./elf-types.js";
import { SHNDX_ENTRY_SIZE, SYM_SHNDX_FIELD, SYM_SIZE } from "./layout.js";
import { checkTable, linkedSection, sectionError, sectionLabel } from "./section-checks.js";
import { StringTable } from "./string-table.js";

/** st_info's low nibble is the type, its high nibble the binding. */
const INFO_TYPE_MASK = 0xf;
const INFO_BIND_SHIFT = 4;
/** st_other's low two bits are the visibility. */
const OTHER_VISIBILITY_MASK = 0x3;

/** The symbols of the file's SHT_SYMTAB section, or none when it has no symbol table. */
export function parseSymbols(
  sections: readonly ElfSection[],
  littleEndian: boolean,
  file: string | undefined,
): ElfSymbol[] {
  const [symtab, second] = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtab === undefined) return [];
  if (second !== undefined) throw sectionError(file, second, "is a second SHT_SYMTAB section");

  const count = checkTable(file, symtab, SYM_SIZE);
  const strtab = linkedSection(file, sections, symtab, [SHT_STRTAB], "a string table");
  const names = new StringTable(strtab.data, { file, section: sectionLabel(strtab.index, strtab.name) });
  const reader = new ByteReader(symtab.data, littleEndian, { file, section: sectionLabel(symtab.index, symtab.name) });
  let extendedIndices: ByteReader | undefined;

  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < count; index++) {
    reader.seek(index * SYM_SIZE);
    const nameOffset = reader.u32();
    const info = reader.u8();
    const other = reader.u8();
    let shndx = reader.u16();
    const value = reader.u64("st_value");
    const size = reader.u64("st_size");
    if (shndx === SHN_XINDEX) {
      extendedIndices ??= extendedIndexReader(sections, symtab, littleEndian, file, index);
      shndx = extendedIndex(extendedIndices, index);
    }
    symbols.push({
      index,
      name: names.get(nameOffset, ["symbol", index]),
      value,
      size,
      type: info & INFO_TYPE_MASK,
      bind: info >> INFO_BIND_SHIFT,
      visibility: other & OTHER_VISIBILITY_MASK,
      shndx,
    });
  }
  return symbols;
}

/** A reader over the SHT_SYMTAB_SHNDX section of `symtab`, needed since symbol `index` uses SHN_XINDEX. */
function extendedIndexReader(
  sections: readonly ElfSection[],
  symtab: ElfSection,
  littleEndian: boolean,
  file: string | undefined,
  index: number,
): ByteReader {
  const table = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index);
  if (table === undefined) {
    throw sectionError(
      file,
      symtab,
      `symbol ${index} uses SHN_XINDEX but no SHT_SYMTAB_SHNDX section belongs to the symbol table`,
      index * SYM_SIZE + SYM_SHNDX_FIELD,
    );
  }
  return new ByteReader(table.data, littleEndian, { file, section: sectionLabel(table.index, table.name) });
}

/** The extended section index of symbol `index`. */
function extendedIndex(table: ByteReader, index: number): number {
  const at = index * SHNDX_ENTRY_SIZE;
  table.expect(at, SHNDX_ENTRY_SIZE, `the extended section index of symbol ${index}`);
  return table.seek(at).u32();
}
