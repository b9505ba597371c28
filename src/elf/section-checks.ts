/**
 * Checks shared by the symbol and relocation parsers on the section headers they depend on: that a
 * table's entry size and size agree with its records, and that sh_link names a section of the right
 * type. Errors name the section whose header is wrong.
 */

import { FormatError } from "../errors.js";
import type { ElfSection } from "./elf-types.js";

/** How errors name a section: by name, or by index when it has none. */
export function sectionLabel(index: number, name: string): string {
  return name !== "" ? name : `#${index}`;
}

/** A `FormatError` about `section`'s header or contents; `offset` is within the section. */
export function sectionError(file: string | undefined, section: ElfSection, what: string, offset?: number): FormatError {
  return new FormatError("ELF", what, { file, section: sectionLabel(section.index, section.name), offset });
}

/** Checks that `section` is a table of `entrySize`-byte records and returns how many it holds. */
export function checkTable(file: string | undefined, section: ElfSection, entrySize: number): number {
  if (section.entsize !== entrySize) {
    throw sectionError(file, section, `entry size ${section.entsize} is not ${entrySize}`);
  }
  const partial = section.data.length % entrySize;
  if (partial !== 0) {
    throw sectionError(file, section, `size 0x${section.data.length.toString(16)} is not a multiple of the entry size ${entrySize}`, section.data.length - partial);
  }
  return section.data.length / entrySize;
}

/** The section `owner`'s sh_link names, which must have one of `types`; `what` describes it for errors. */
export function linkedSection(
  file: string | undefined,
  sections: readonly ElfSection[],
  owner: ElfSection,
  types: readonly number[],
  what: string,
): ElfSection {
  const linked = sections[owner.link];
  if (linked === undefined || !types.includes(linked.type)) {
    throw sectionError(file, owner, `sh_link ${owner.link} does not name ${what}`);
  }
  return linked;
}
