/**
 * Reads a symbol table into `ElfSymbol`s: the static one (SHT_SYMTAB) or the dynamic one (SHT_DYNSYM),
 * which share a record format. Names come from the string table its sh_link names, type and binding
 * from st_info, visibility from st_other, and section indices that are SHN_XINDEX are resolved through
 * the SHT_SYMTAB_SHNDX section linked to the symbol table.
 */

import { ByteReader } from "./byte-reader.js";
import { SHN_XINDEX, SHT_DYNSYM, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX } from "./constants.js";
import type { ElfSection, ElfSymbol } from "./elf-types.js";
import { SHNDX_ENTRY_SIZE, SYM_SHNDX_FIELD, SYM_SIZE } from "./layout.js";
import { checkTable, linkedSection, sectionError, sectionLabel } from "./section-checks.js";
import { StringTable } from "./string-table.js";

/** st_info's low nibble is the type, its high nibble the binding. */
const INFO_TYPE_MASK = 0xf;
const INFO_BIND_SHIFT = 4;
/** st_other's low two bits are the visibility. */
const OTHER_VISIBILITY_MASK = 0x3;

/** The section types that hold symbol tables, and how errors name them. */
const SYMBOL_TABLE_NAMES = { [SHT_SYMTAB]: "SHT_SYMTAB", [SHT_DYNSYM]: "SHT_DYNSYM" } as const;

/** A section type that holds a symbol table. */
export type SymbolTableType = keyof typeof SYMBOL_TABLE_NAMES;

/** The symbols of the file's section of type `type`, or none when it has no such section. */
export function parseSymbols(
  sections: readonly ElfSection[],
  type: SymbolTableType,
  littleEndian: boolean,
  file: string | undefined,
): ElfSymbol[] {
  const [table, second] = sections.filter((s) => s.type === type);
  if (table === undefined) return [];
  if (second !== undefined) throw sectionError(file, second, `is a second ${SYMBOL_TABLE_NAMES[type]} section`);

  const count = checkTable(file, table, SYM_SIZE);
  const strtab = linkedSection(file, sections, table, [SHT_STRTAB], "a string table");
  const names = new StringTable(strtab.data, { file, section: sectionLabel(strtab.index, strtab.name) });
  const reader = new ByteReader(table.data, littleEndian, { file, section: sectionLabel(table.index, table.name) });
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
      extendedIndices ??= extendedIndexReader(sections, table, littleEndian, file, index);
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

/** A reader over the SHT_SYMTAB_SHNDX section of `symbolTable`, needed since symbol `index` uses SHN_XINDEX. */
function extendedIndexReader(
  sections: readonly ElfSection[],
  symbolTable: ElfSection,
  littleEndian: boolean,
  file: string | undefined,
  index: number,
): ByteReader {
  const table = sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symbolTable.index);
  if (table === undefined) {
    throw sectionError(
      file,
      symbolTable,
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
