/**
 * The records `ElfFile` hands out: sections, segments, symbols and relocations, as plain readonly data.
 * Every value is a `number`; the parser rejects 64-bit fields that do not fit in a safe integer.
 */

/** One section header with its data. */
export interface ElfSection {
  /** Its index in the section header table (0 is the null section). */
  readonly index: number;
  /** Its name from the section name string table ("" when it has none). */
  readonly name: string;
  /** sh_type: an `SHT_*` value. */
  readonly type: number;
  /** sh_flags: `SHF_*` bits. */
  readonly flags: number;
  /** sh_addr: its address at run time (0 in relocatable objects). */
  readonly addr: number;
  /** sh_offset: where its data starts in the file. */
  readonly offset: number;
  /** sh_size: its size in bytes (for section 0 under extended numbering, the section count). */
  readonly size: number;
  /** sh_link: a section index whose meaning depends on the type. */
  readonly link: number;
  /** sh_info: extra information whose meaning depends on the type. */
  readonly info: number;
  /** sh_addralign: the required alignment of its address (0 or 1: none). */
  readonly addralign: number;
  /** sh_entsize: the size of each entry, for tables of fixed-size entries. */
  readonly entsize: number;
  /** Its bytes: a view into the file's bytes, empty for SHT_NOBITS and SHT_NULL. */
  readonly data: Uint8Array;
}

/** One program header: a segment, as the loader sees the file. */
export interface ElfSegment {
  /** Its index in the program header table. */
  readonly index: number;
  /** p_type: a `PT_*` value. */
  readonly type: number;
  /** p_flags: `PF_*` bits. */
  readonly flags: number;
  /** p_offset: where its bytes start in the file. */
  readonly offset: number;
  /** p_vaddr: its address at run time, before the load bias of a PIE or shared object is added. */
  readonly vaddr: number;
  /** p_paddr: its physical address, where that matters (not on Linux user space). */
  readonly paddr: number;
  /** p_filesz: how many of its bytes come from the file. */
  readonly filesz: number;
  /** p_memsz: its size in memory (the part past p_filesz is zero-filled). */
  readonly memsz: number;
  /** p_align: the alignment of its address and file offset. */
  readonly align: number;
}

/** One entry of a symbol table (SHT_SYMTAB or SHT_DYNSYM). */
export interface ElfSymbol {
  /** Its index in its symbol table (0 is the null symbol). */
  readonly index: number;
  /** Its name ("" for section symbols, which take their section's name). */
  readonly name: string;
  /**
   * st_value: its offset within its section in relocatable objects, its virtual address (before any load
   * bias) in executables and shared objects.
   */
  readonly value: number;
  /** st_size: its size in bytes. */
  readonly size: number;
  /** Its type: an `STT_*` value. */
  readonly type: number;
  /** Its binding: an `STB_*` value. */
  readonly bind: number;
  /** Its visibility: an `STV_*` value. */
  readonly visibility: number;
  /** The index of the section it is defined in, or an `SHN_*` value; SHN_XINDEX is already resolved. */
  readonly shndx: number;
}

/** One relocation entry, from SHT_REL or SHT_RELA. */
export interface ElfRelocation {
  /** r_offset: the byte offset within the target section of what is to be relocated. */
  readonly offset: number;
  /** The index of the symbol it refers to in the linked symbol table. */
  readonly symbol: number;
  /** The relocation type (`R_BPF_*` on EM_BPF). */
  readonly type: number;
  /** r_addend (0 for SHT_REL entries). */
  readonly addend: number;
  /** True when the entry came from SHT_RELA. */
  readonly hasAddend: boolean;
}

/** Options for `ElfFile.parse()`. */
export interface ElfParseOptions {
  /** The file name, quoted in errors. */
  readonly file?: string;
}
