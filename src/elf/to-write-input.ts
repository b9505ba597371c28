/**
 * `elfToWriteInput`: turns a parsed relocatable object back into `writeElf` input, so that an object can
 * be read, edited and written again. The sections the writer rebuilds (the symbol table, its string
 * table, the section name table, SHT_SYMTAB_SHNDX and the relocation sections) are dropped; sh_link,
 * sh_info (when SHF_INFO_LINK says it is a section index) and symbol section indices are renumbered for
 * the sections that remain. Section contents are copied as they are, so indices inside them (as in
 * SHT_GROUP) are not renumbered.
 */

import {
  SHF_INFO_LINK,
  SHN_ABS,
  SHN_COMMON,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_RELA,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
} from "./constants.js";
import type { ElfFile } from "./elf-file.js";
import type { ElfSection, ElfSymbol } from "./elf-types.js";
import { SYM_SHNDX_FIELD, SYM_SIZE } from "./layout.js";
import { isRelocationSection } from "./parse-relocations.js";
import { sectionError } from "./section-checks.js";
import type { ElfWriteInput, ElfWriteRelocations, ElfWriteSection, ElfWriteSymbol, ElfWriteSymbolSection } from "./write-elf.js";

/**
 * The `writeElf` input that reproduces `elf`: the same sections (names, types, flags, alignment, entry
 * sizes, data), symbols and relocations, with the bookkeeping sections left for the writer to rebuild.
 *
 * @param elf A parsed relocatable object.
 * @returns Input for `writeElf`.
 * @throws {FormatError} When a reference cannot be expressed: a link to a missing section, a relocation
 *   section not tied to the symbol table, or a symbol in a reserved section other than ABS and COMMON.
 * @example
 * const copy = writeElf(elfToWriteInput(ElfFile.parse(bytes)));
 */
export function elfToWriteInput(elf: ElfFile): ElfWriteInput {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  const rebuilt = rebuiltSectionNames(elf, symtab);
  const kept = elf.sections.filter((s) => s.index !== 0 && !rebuilt.has(s.index));
  const outputIndex = new Map(kept.map((s, position) => [s.index, position + 1]));

  /** What `writeElf` should use for a reference to section `index` made by `owner`. */
  const sectionRef = (index: number, owner: ElfSection, what: string): number | string => {
    if (index === SHN_UNDEF) return SHN_UNDEF;
    const ref = outputIndex.get(index) ?? rebuilt.get(index);
    if (ref === undefined) throw sectionError(elf.file, owner, `${what} ${index} does not name a section`);
    return ref;
  };

  const sections = kept.map(
    (s): ElfWriteSection => ({
      name: s.name,
      type: s.type,
      flags: s.flags,
      addralign: s.addralign,
      entsize: s.entsize,
      link: sectionRef(s.link, s, "sh_link"),
      info: s.flags & SHF_INFO_LINK ? sectionRef(s.info, s, "sh_info") : s.info,
      data: s.data,
      ...(s.type === SHT_NOBITS ? { size: s.size } : {}),
    }),
  );

  const symbols = elf.symbols.slice(1).map(
    (symbol): ElfWriteSymbol => ({
      name: symbol.name,
      value: symbol.value,
      size: symbol.size,
      type: symbol.type,
      bind: symbol.bind,
      visibility: symbol.visibility,
      section: symbolSection(elf, symbol, symtab!, (index) => sectionRef(index, symtab!, `symbol ${symbol.index} section`)),
    }),
  );

  return {
    littleEndian: elf.littleEndian,
    machine: elf.machine,
    type: elf.type,
    flags: elf.flags,
    osabi: elf.osabi,
    sections,
    symbols,
    relocations: relocationGroups(elf, symtab, outputIndex),
  };
}

/** The sections `writeElf` rebuilds, mapped to the names it gives them. */
function rebuiltSectionNames(elf: ElfFile, symtab: ElfSection | undefined): Map<number, string> {
  const names = new Map<number, string>();
  if (symtab !== undefined) names.set(symtab.index, ".symtab").set(symtab.link, ".strtab");
  if (elf.shstrndx !== SHN_UNDEF && !names.has(elf.shstrndx)) names.set(elf.shstrndx, ".shstrtab");
  for (const s of elf.sections) {
    if (s.type === SHT_SYMTAB_SHNDX) names.set(s.index, ".symtab_shndx");
    if (isRelocationSection(s)) {
      const target = elf.sections[s.info]!;
      names.set(s.index, `${s.type === SHT_RELA ? ".rela" : ".rel"}${target.name}`);
    }
  }
  return names;
}

/** Where a parsed symbol is defined, as `writeElf` input. */
function symbolSection(
  elf: ElfFile,
  symbol: ElfSymbol,
  symtab: ElfSection,
  sectionRef: (index: number) => number | string,
): ElfWriteSymbolSection {
  switch (symbol.shndx) {
    case SHN_UNDEF:
      return "UND";
    case SHN_ABS:
      return "ABS";
    case SHN_COMMON:
      return "COMMON";
  }
  if (symbol.shndx >= elf.sections.length) {
    throw sectionError(
      elf.file,
      symtab,
      `symbol ${symbol.index} has section index 0x${symbol.shndx.toString(16)}, which cannot be written`,
      symbol.index * SYM_SIZE + SYM_SHNDX_FIELD,
    );
  }
  return sectionRef(symbol.shndx);
}

/** The relocations of `elf`, one group per target section and kind (SHT_REL or SHT_RELA). */
function relocationGroups(
  elf: ElfFile,
  symtab: ElfSection | undefined,
  outputIndex: ReadonlyMap<number, number>,
): ElfWriteRelocations[] {
  const groups: ElfWriteRelocations[] = [];
  for (const [target, relocationSections] of elf.relocationSections) {
    const first = relocationSections[0]!;
    const section = outputIndex.get(target);
    if (section === undefined) throw sectionError(elf.file, first, `relocations apply to section ${target}, which is not written as is`);
    const foreign = relocationSections.find((s) => s.link !== symtab?.index);
    if (foreign !== undefined) throw sectionError(elf.file, foreign, "relocations refer to a symbol table other than SHT_SYMTAB");
    const entries = elf.relocationsFor(target);
    for (const rela of [false, true]) {
      if (!relocationSections.some((s) => (s.type === SHT_RELA) === rela)) continue;
      groups.push({
        section,
        rela,
        entries: entries
          .filter((r) => r.hasAddend === rela)
          .map((r) => ({ offset: r.offset, symbol: r.symbol, type: r.type, addend: r.addend })),
      });
    }
  }
  return groups;
}
