/**
 * Relocation sections (SHT_REL, SHT_RELA): `groupRelocationSections` checks their headers (entry size,
 * the symbol table sh_link names, the target section sh_info names) and groups them by target;
 * `parseRelocations` reads one section's entries, checking each symbol index against the linked table.
 */

import { ByteReader } from "./byte-reader.js";
import { SHT_DYNSYM, SHT_REL, SHT_RELA, SHT_SYMTAB } from "./constants.js";
import type { ElfRelocation, ElfSection } from "./elf-types.js";
import { REL_INFO_FIELD, REL_SIZE, RELA_SIZE, SYM_SIZE } from "./layout.js";
import { checkTable, linkedSection, sectionError, sectionLabel } from "./section-checks.js";

/** The symbol tables a relocation section may link to. */
const SYMBOL_TABLE_TYPES = [SHT_SYMTAB, SHT_DYNSYM];

/** Tells whether `section` holds relocations. */
export function isRelocationSection(section: ElfSection): boolean {
  return section.type === SHT_REL || section.type === SHT_RELA;
}

/** Checks every relocation section's header and maps each target section index to its relocation sections. */
export function groupRelocationSections(
  sections: readonly ElfSection[],
  file: string | undefined,
): Map<number, ElfSection[]> {
  const byTarget = new Map<number, ElfSection[]>();
  for (const section of sections.filter(isRelocationSection)) {
    checkTable(file, section, entrySize(section));
    linkedSection(file, sections, section, SYMBOL_TABLE_TYPES, "a symbol table");
    if (section.info >= sections.length) {
      throw sectionError(file, section, `sh_info ${section.info} does not name a section (${sections.length} sections)`);
    }
    const group = byTarget.get(section.info);
    if (group === undefined) byTarget.set(section.info, [section]);
    else group.push(section);
  }
  return byTarget;
}

/** The entries of relocation section `section`, whose header `groupRelocationSections` has checked. */
export function parseRelocations(
  sections: readonly ElfSection[],
  section: ElfSection,
  littleEndian: boolean,
  file: string | undefined,
): ElfRelocation[] {
  const hasAddend = section.type === SHT_RELA;
  const size = entrySize(section);
  const symbolCount = Math.floor(sections[section.link]!.data.length / SYM_SIZE);
  const reader = new ByteReader(section.data, littleEndian, { file, section: sectionLabel(section.index, section.name) });
  const relocations: ElfRelocation[] = [];
  for (let at = 0; at < section.data.length; at += size) {
    const offset = reader.seek(at).u64("r_offset");
    // r_info: ELF64_R_SYM in the high 32 bits, ELF64_R_TYPE in the low 32.
    const first = reader.u32();
    const second = reader.u32();
    const [symbol, type] = littleEndian ? [second, first] : [first, second];
    if (symbol >= symbolCount) {
      reader.fail(`symbol index ${symbol} is out of range (the symbol table holds ${symbolCount})`, at + REL_INFO_FIELD);
    }
    const addend = hasAddend ? reader.i64("r_addend") : 0;
    relocations.push({ offset, symbol, type, addend, hasAddend });
  }
  return relocations;
}

/** The entry size of a relocation section of this type. */
function entrySize(section: ElfSection): number {
  return section.type === SHT_RELA ? RELA_SIZE : REL_SIZE;
}
