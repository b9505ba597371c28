/**
 * The byte layout of ELF64 structures: identification bytes, record sizes and the offsets of the
 * fields the reader and writer touch. Internal to `src/elf/`; the public constants are in `constants.ts`.
 */

/** The four magic bytes every ELF file starts with: 0x7f 'E' 'L' 'F'. */
export const ELF_MAGIC: readonly number[] = [0x7f, 0x45, 0x4c, 0x46];

/** Offset of the file class byte in e_ident. */
export const EI_CLASS = 4;
/** Offset of the byte-order byte in e_ident. */
export const EI_DATA = 5;
/** Offset of the identification version byte in e_ident. */
export const EI_VERSION = 6;
/** Offset of the OS ABI byte in e_ident. */
export const EI_OSABI = 7;
/** Size of e_ident. */
export const EI_NIDENT = 16;

/** e_ident[EI_CLASS] of a 32-bit file. */
export const ELFCLASS32 = 1;
/** e_ident[EI_CLASS] of a 64-bit file. */
export const ELFCLASS64 = 2;
/** e_ident[EI_DATA] of a little-endian file. */
export const ELFDATA2LSB = 1;
/** e_ident[EI_DATA] of a big-endian file. */
export const ELFDATA2MSB = 2;
/** The only ELF version there is, in e_ident[EI_VERSION] and e_version. */
export const EV_CURRENT = 1;

/** Size of the ELF64 file header (Elf64_Ehdr). */
export const EHDR_SIZE = 64;
/** Offsets of the Elf64_Ehdr fields after e_ident. */
export const EHDR = {
  type: 16,
  machine: 18,
  version: 20,
  entry: 24,
  phoff: 32,
  shoff: 40,
  flags: 48,
  ehsize: 52,
  phentsize: 54,
  phnum: 56,
  shentsize: 58,
  shnum: 60,
  shstrndx: 62,
} as const;

/** Size of an ELF64 section header (Elf64_Shdr). */
export const SHDR_SIZE = 64;
/** Offset of sh_size within a section header: section 0 holds the extended section count there. */
export const SHDR_SIZE_FIELD = 32;
/** Offset of sh_link within a section header: section 0 holds the extended e_shstrndx there. */
export const SHDR_LINK_FIELD = 40;
/** Offset of sh_info within a section header: section 0 holds the extended program header count there. */
export const SHDR_INFO_FIELD = 44;

/** Size of an ELF64 program header (Elf64_Phdr). */
export const PHDR_SIZE = 56;
/** e_phnum when the program header count does not fit in 16 bits: the count is in section 0's sh_info. */
export const PN_XNUM = 0xffff;

/** Size of an ELF64 symbol (Elf64_Sym). */
export const SYM_SIZE = 24;
/** Offset of st_shndx within a symbol. */
export const SYM_SHNDX_FIELD = 6;
/** Size of an extended section index in SHT_SYMTAB_SHNDX. */
export const SHNDX_ENTRY_SIZE = 4;

/** Size of an ELF64 relocation without addend (Elf64_Rel). */
export const REL_SIZE = 16;
/** Size of an ELF64 relocation with addend (Elf64_Rela). */
export const RELA_SIZE = 24;
/** Offset of r_info within a relocation. */
export const REL_INFO_FIELD = 8;
