/**
 * `ElfFile`: a parsed ELF64 file of either byte order. Parsing reads the header, the section header
 * table, the program header table, the static symbol table and the headers of the relocation sections
 * up front, checking each offset, count and size against the bytes; the dynamic symbol table is read on
 * first use (executables often need only one of the two tables, and relocatable objects have none), as
 * are relocation entries, per target section. Every problem is a `FormatError` naming the file, the
 * section and the offset. Section data are views into the caller's bytes, which must therefore not
 * change while the `ElfFile` is in use.
 */

import { SHT_DYNSYM, SHT_SYMTAB } from "./constants.js";
import type { ElfParseOptions, ElfRelocation, ElfSection, ElfSegment, ElfSymbol } from "./elf-types.js";
import { parseHeader } from "./parse-header.js";
import { groupRelocationSections, parseRelocations } from "./parse-relocations.js";
import { parseSections } from "./parse-sections.js";
import { parseSegments } from "./parse-segments.js";
import { parseSymbols } from "./parse-symbols.js";

/** A parsed ELF64 file: its header fields, sections, segments, symbols and relocations. */
export class ElfFile {
  /** The file name given to `parse()`, quoted in errors. */
  readonly file: string | undefined;
  /** The bytes parsed; section data are views into them. */
  readonly bytes: Uint8Array;
  /** True for ELFDATA2LSB, false for ELFDATA2MSB. */
  readonly littleEndian: boolean;
  /** e_type: an `ET_*` value. */
  readonly type: number;
  /** e_machine: an `EM_*` value. */
  readonly machine: number;
  /** e_flags: machine-specific flags. */
  readonly flags: number;
  /** e_ident[EI_OSABI]: an `ELFOSABI_*` value. */
  readonly osabi: number;
  /** Every section in header-table order; entry 0 is the null section. Empty when there is no table. */
  readonly sections: readonly ElfSection[];
  /** The index of the section name string table (e_shstrndx, resolved when SHN_XINDEX); 0 when none. */
  readonly shstrndx: number;
  /** Every program header in table order; empty when there is no table (as in relocatable objects). */
  readonly segments: readonly ElfSegment[];
  /** The SHT_SYMTAB entries in order, entry 0 being the null symbol; empty when there is no symbol table. */
  readonly symbols: readonly ElfSymbol[];
  /** Each target section's index mapped to the SHT_REL / SHT_RELA sections whose sh_info names it. */
  readonly relocationSections: ReadonlyMap<number, readonly ElfSection[]>;

  readonly #byName = new Map<string, ElfSection>();
  readonly #relocations = new Map<number, readonly ElfRelocation[]>();
  #dynamicSymbols: readonly ElfSymbol[] | undefined;

  private constructor(bytes: Uint8Array, file: string | undefined) {
    const header = parseHeader(bytes, file);
    const { sections, shstrndx } = parseSections(bytes, header, file);
    this.file = file;
    this.bytes = bytes;
    this.littleEndian = header.littleEndian;
    this.type = header.type;
    this.machine = header.machine;
    this.flags = header.flags;
    this.osabi = header.osabi;
    this.sections = sections;
    this.shstrndx = shstrndx;
    this.segments = parseSegments(bytes, header, sections, file);
    this.symbols = parseSymbols(sections, SHT_SYMTAB, header.littleEndian, file);
    this.relocationSections = groupRelocationSections(sections, file);
    for (const section of sections) {
      if (!this.#byName.has(section.name)) this.#byName.set(section.name, section);
    }
  }

  /**
   * Parses an ELF64 file.
   *
   * @param bytes The whole file; it is not copied.
   * @param options `file` names the bytes in errors.
   * @returns The parsed file.
   * @throws {FormatError} When the bytes are not a well-formed ELF64 file.
   * @example
   * const elf = ElfFile.parse(readFileSync("xdp.o"), { file: "xdp.o" });
   * const text = elf.sectionByName(".text");
   */
  static parse(bytes: Uint8Array, options: ElfParseOptions = {}): ElfFile {
    return new ElfFile(bytes, options.file);
  }

  /**
   * The SHT_DYNSYM entries in order, entry 0 being the null symbol; empty when there is no dynamic
   * symbol table. Read on first use: what stripped executables and shared objects still have.
   *
   * @throws {FormatError} When the table, its string table or a symbol is malformed (on the first use).
   */
  get dynamicSymbols(): readonly ElfSymbol[] {
    return (this.#dynamicSymbols ??= parseSymbols(this.sections, SHT_DYNSYM, this.littleEndian, this.file));
  }

  /** The first section called `name`, if any. */
  sectionByName(name: string): ElfSection | undefined {
    return this.#byName.get(name);
  }

  /**
   * The relocations that apply to a section, merged from all its SHT_REL and SHT_RELA sections and
   * sorted by offset (entries at the same offset keep their file order). Empty when there are none.
   *
   * @param section The target section, or its index.
   * @throws {FormatError} When a relocation entry is malformed (read on the first call for a section).
   */
  relocationsFor(section: ElfSection | number): readonly ElfRelocation[] {
    const index = typeof section === "number" ? section : section.index;
    let relocations = this.#relocations.get(index);
    if (relocations === undefined) {
      relocations = (this.relocationSections.get(index) ?? [])
        .flatMap((s) => parseRelocations(this.sections, s, this.littleEndian, this.file))
        .sort((a, b) => a.offset - b.offset);
      this.#relocations.set(index, relocations);
    }
    return relocations;
  }
}
