/**
 * The public ELF constants: file types, machines, segment types and flags, section types and flags,
 * symbol types, bindings and visibilities, reserved section indices and the eBPF relocation types.
 * Values come from the System V gABI, LLVM's ELF.h and the Linux kernel's BPF ELF conventions; names
 * follow the specification so that code reads like the documents it implements. The byte layout of
 * headers lives in `layout.ts`.
 */

// === File types (e_type) ===

/** No file type. */
export const ET_NONE = 0;
/** A relocatable object, as `clang -c` produces: what eBPF loaders read. */
export const ET_REL = 1;
/** An executable file. */
export const ET_EXEC = 2;
/** A shared object. */
export const ET_DYN = 3;
/** A core dump. */
export const ET_CORE = 4;

// === Machines (e_machine) ===

/** No machine. */
export const EM_NONE = 0;
/** AMD x86-64. */
export const EM_X86_64 = 62;
/** ARM 64-bit (AArch64). */
export const EM_AARCH64 = 183;
/** Linux eBPF. */
export const EM_BPF = 247;

// === OS ABIs (e_ident[EI_OSABI]) ===

/** System V, the usual value (also called ELFOSABI_SYSV). */
export const ELFOSABI_NONE = 0;
/** GNU/Linux extensions are in use. */
export const ELFOSABI_GNU = 3;

// === Segment types (p_type) ===

/** An unused program header. */
export const PT_NULL = 0;
/** A loadable segment: file bytes [p_offset, p_offset + p_filesz) appear at p_vaddr at run time. */
export const PT_LOAD = 1;
/** Dynamic linking information. */
export const PT_DYNAMIC = 2;
/** The path of the program interpreter (the dynamic loader). */
export const PT_INTERP = 3;
/** Notes. */
export const PT_NOTE = 4;
/** Reserved, unspecified semantics. */
export const PT_SHLIB = 5;
/** The program header table itself. */
export const PT_PHDR = 6;
/** The thread-local storage template. */
export const PT_TLS = 7;
/** The `.eh_frame_hdr` unwind table index. */
export const PT_GNU_EH_FRAME = 0x6474e550;
/** Whether the stack is executable (its flags). */
export const PT_GNU_STACK = 0x6474e551;
/** What becomes read-only after relocation. */
export const PT_GNU_RELRO = 0x6474e552;
/** The `.note.gnu.property` section. */
export const PT_GNU_PROPERTY = 0x6474e553;

// === Segment flags (p_flags) ===

/** Executable. */
export const PF_X = 0x1;
/** Writable. */
export const PF_W = 0x2;
/** Readable. */
export const PF_R = 0x4;

// === Section types (sh_type) ===

/** An unused section header, such as entry 0. */
export const SHT_NULL = 0;
/** Data whose meaning is up to the program: code, initialised data, BTF… */
export const SHT_PROGBITS = 1;
/** The static symbol table (at most one per file). */
export const SHT_SYMTAB = 2;
/** A string table. */
export const SHT_STRTAB = 3;
/** Relocation entries with explicit addends. */
export const SHT_RELA = 4;
/** A symbol hash table. */
export const SHT_HASH = 5;
/** Dynamic linking information. */
export const SHT_DYNAMIC = 6;
/** Notes. */
export const SHT_NOTE = 7;
/** A section that occupies no file space, such as `.bss`. */
export const SHT_NOBITS = 8;
/** Relocation entries without addends (what eBPF compilers emit). */
export const SHT_REL = 9;
/** Reserved, unspecified semantics. */
export const SHT_SHLIB = 10;
/** The dynamic linking symbol table. */
export const SHT_DYNSYM = 11;
/** An array of pointers to initialisation functions. */
export const SHT_INIT_ARRAY = 14;
/** An array of pointers to termination functions. */
export const SHT_FINI_ARRAY = 15;
/** An array of pointers to pre-initialisation functions. */
export const SHT_PREINIT_ARRAY = 16;
/** A section group (COMDAT). */
export const SHT_GROUP = 17;
/** Extended section indices for the symbols of the symbol table it links to. */
export const SHT_SYMTAB_SHNDX = 18;
/** LLVM's address-significance table: ULEB128 symbol indices. */
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

// === Section flags (sh_flags) ===

/** Writable at run time. */
export const SHF_WRITE = 0x1;
/** Occupies memory at run time. */
export const SHF_ALLOC = 0x2;
/** Holds executable instructions. */
export const SHF_EXECINSTR = 0x4;
/** Its data may be merged to remove duplicates. */
export const SHF_MERGE = 0x10;
/** Holds NUL-terminated strings. */
export const SHF_STRINGS = 0x20;
/** `sh_info` holds a section index. */
export const SHF_INFO_LINK = 0x40;
/** Must keep its order relative to the section `sh_link` names. */
export const SHF_LINK_ORDER = 0x80;
/** Needs OS-specific processing. */
export const SHF_OS_NONCONFORMING = 0x100;
/** Member of a section group. */
export const SHF_GROUP = 0x200;
/** Holds thread-local storage. */
export const SHF_TLS = 0x400;
/** Holds compressed data. */
export const SHF_COMPRESSED = 0x800;
/** Excluded from linked output (LLVM sets it on `.llvm_addrsig`). */
export const SHF_EXCLUDE = 0x80000000;

// === Symbol types (low nibble of st_info) ===

/** Unspecified type. */
export const STT_NOTYPE = 0;
/** A data object. */
export const STT_OBJECT = 1;
/** A function. */
export const STT_FUNC = 2;
/** A section: relocations against it are relative to the section's start. */
export const STT_SECTION = 3;
/** The source file name. */
export const STT_FILE = 4;
/** An uninitialised common block. */
export const STT_COMMON = 5;
/** A thread-local storage entity. */
export const STT_TLS = 6;
/** A GNU indirect function. */
export const STT_GNU_IFUNC = 10;

// === Symbol bindings (high nibble of st_info) ===

/** Not visible outside the object. */
export const STB_LOCAL = 0;
/** Visible to every object being combined. */
export const STB_GLOBAL = 1;
/** Global, but with lower precedence. */
export const STB_WEAK = 2;
/** A GNU unique global symbol. */
export const STB_GNU_UNIQUE = 10;

// === Symbol visibilities (low two bits of st_other) ===

/** Visibility given by the binding. */
export const STV_DEFAULT = 0;
/** Processor-specific hidden. */
export const STV_INTERNAL = 1;
/** Not visible to other components. */
export const STV_HIDDEN = 2;
/** Visible but not preemptible. */
export const STV_PROTECTED = 3;

// === Reserved section indices (st_shndx, e_shstrndx) ===

/** An undefined symbol (or "no section"). */
export const SHN_UNDEF = 0;
/** The first reserved index: real indices at or above it need extended numbering. */
export const SHN_LORESERVE = 0xff00;
/** An absolute symbol, not relative to any section. */
export const SHN_ABS = 0xfff1;
/** A common symbol, allocated by the linker. */
export const SHN_COMMON = 0xfff2;
/** The real index is elsewhere: in SHT_SYMTAB_SHNDX for symbols, section 0's sh_link for e_shstrndx. */
export const SHN_XINDEX = 0xffff;

// === eBPF relocation types (ELF64_R_TYPE on EM_BPF) ===

/** No relocation. */
export const R_BPF_NONE = 0;
/** A 64-bit immediate in an `ld_imm64` instruction (map and global-variable references). */
export const R_BPF_64_64 = 1;
/** A 64-bit absolute address in data (DWARF). */
export const R_BPF_64_ABS64 = 2;
/** A 32-bit absolute address in data (DWARF, BTF). */
export const R_BPF_64_ABS32 = 3;
/** A 32-bit value the dynamic loader must not touch (.BTF and .BTF.ext offsets). */
export const R_BPF_64_NODYLD32 = 4;
/** A 32-bit call or jump target in instructions (BPF-to-BPF calls). */
export const R_BPF_64_32 = 10;
