/**
 * `writeElf`: lays out a relocatable ELF64 file from sections, symbols and relocations. The writer builds
 * the bookkeeping sections itself — one SHT_REL / SHT_RELA section per relocation group (named
 * ".rel<target>" / ".rela<target>"), `.symtab` with its locals first and sh_info at the first non-local,
 * `.symtab_shndx` when section indices reach SHN_LORESERVE, `.strtab` and `.shstrtab` — and uses
 * extended numbering when the section count requires it. The output has no program headers.
 *
 * Section order in the output: the null section, the caller's sections in order (so `sections[i]` gets
 * index i + 1), the relocation sections in order, then `.symtab`, `.symtab_shndx`, `.strtab`, `.shstrtab`.
 * Misuse (an unknown name, a value that does not fit its field) throws `RangeError`.
 */

import { ByteWriter } from "./byte-writer.js";
import {
  ET_REL,
  SHF_INFO_LINK,
  SHN_ABS,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_NULL,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_LOCAL,
} from "./constants.js";
import {
  EHDR_SIZE,
  ELF_MAGIC,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  EI_NIDENT,
  EV_CURRENT,
  REL_SIZE,
  RELA_SIZE,
  SHDR_SIZE,
  SHNDX_ENTRY_SIZE,
  SYM_SIZE,
} from "./layout.js";
import { StringTableBuilder } from "./string-table.js";

/** A section to write. */
export interface ElfWriteSection {
  /** Its name. */
  readonly name: string;
  /** sh_type: an `SHT_*` value; SHT_SYMTAB and SHT_SYMTAB_SHNDX are built by the writer and not accepted. */
  readonly type: number;
  /** sh_flags: `SHF_*` bits (default 0). */
  readonly flags?: number;
  /** sh_addralign: 0 or a power of two (default 1). */
  readonly addralign?: number;
  /** sh_entsize (default 0). */
  readonly entsize?: number;
  /** sh_link: a number written as is, or the name of a section (generated ones such as ".symtab" too). */
  readonly link?: number | string;
  /** sh_info: a number written as is, or the name of a section. */
  readonly info?: number | string;
  /** Its contents; empty for SHT_NOBITS. */
  readonly data: Uint8Array;
  /** sh_size of an SHT_NOBITS section; for other types it must equal `data.length` if given. */
  readonly size?: number;
}

/**
 * The section a symbol is defined in: "UND", "ABS" or "COMMON" for the reserved indices, a section
 * index in the output (0 is SHN_UNDEF, `sections[i]` is i + 1) or a section's name.
 */
export type ElfWriteSymbolSection = "UND" | "ABS" | "COMMON" | number | string;

/** A symbol to write. */
export interface ElfWriteSymbol {
  /** Its name ("" for section symbols). */
  readonly name: string;
  /** st_value (default 0). */
  readonly value?: number;
  /** st_size (default 0). */
  readonly size?: number;
  /** An `STT_*` value (default STT_NOTYPE). */
  readonly type?: number;
  /** An `STB_*` value (default STB_LOCAL). */
  readonly bind?: number;
  /** An `STV_*` value (default STV_DEFAULT). */
  readonly visibility?: number;
  /** Where it is defined. */
  readonly section: ElfWriteSymbolSection;
}

/** One relocation entry to write. */
export interface ElfWriteRelocation {
  /** r_offset within the target section. */
  readonly offset: number;
  /** The symbol: its name (the first symbol so called), or 1 + its position in `symbols` (0 is the null symbol). */
  readonly symbol: number | string;
  /** The relocation type, such as `R_BPF_64_64`. */
  readonly type: number;
  /** r_addend; only SHT_RELA entries may have a non-zero one (default 0). */
  readonly addend?: number;
}

/** The relocations of one target section, written as one SHT_REL or SHT_RELA section. */
export interface ElfWriteRelocations {
  /** The target: the name of one of the caller's sections (the first so called) or its output index. */
  readonly section: number | string;
  /** True for SHT_RELA (with addends), false for SHT_REL. */
  readonly rela: boolean;
  /** The entries, written in this order. */
  readonly entries: readonly ElfWriteRelocation[];
}

/** Everything `writeElf` needs. */
export interface ElfWriteInput {
  /** The byte order: true for ELFDATA2LSB. */
  readonly littleEndian: boolean;
  /** e_machine: an `EM_*` value. */
  readonly machine: number;
  /** e_type (default ET_REL). */
  readonly type?: number;
  /** e_flags (default 0). */
  readonly flags?: number;
  /** e_ident[EI_OSABI] (default ELFOSABI_NONE). */
  readonly osabi?: number;
  /** The sections, without the null section and without what the writer builds. */
  readonly sections: readonly ElfWriteSection[];
  /** The symbols, without the null symbol (default none). */
  readonly symbols?: readonly ElfWriteSymbol[];
  /** The relocations (default none). */
  readonly relocations?: readonly ElfWriteRelocations[];
}

/** A section as it goes into the file, with every reference resolved. */
interface OutSection {
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  readonly data: Uint8Array;
  readonly size: number;
}

/** File offsets are aligned to sh_addralign up to this (a page); larger alignments would only pad the file. */
const MAX_FILE_ALIGNMENT = 4096;
/** The section header table's alignment. */
const SHDR_ALIGNMENT = 8;
/** The writer's tables hold fields of at most 64 bits, so they need at most 8-byte alignment. */
const MAX_TABLE_ALIGNMENT = 8;
const U8_MAX = 0xff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;
/** The largest st_info type and binding (a nibble each). */
const NIBBLE_MAX = 0xf;
/** The largest visibility (two bits of st_other). */
const VISIBILITY_MAX = 0x3;
const INFO_BIND_SHIFT = 4;

/**
 * Writes a relocatable ELF64 file.
 *
 * @param input The sections, symbols and relocations to write.
 * @returns The file's bytes.
 * @throws {RangeError} When a name does not resolve or a value does not fit its field.
 * @example
 * const bytes = writeElf({
 *   littleEndian: true, machine: EM_BPF,
 *   sections: [{ name: "xdp", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 8, data: code }],
 *   symbols: [{ name: "xdp_pass", type: STT_FUNC, bind: STB_GLOBAL, section: "xdp", size: code.length }],
 * });
 */
export function writeElf(input: ElfWriteInput): Uint8Array {
  const symbols = input.symbols ?? [];
  const groups = input.relocations ?? [];
  const user = input.sections;

  // Section indices, fixed before anything refers to them. Without .symtab_shndx the last index would
  // be symtabIndex + 2; once that reaches SHN_LORESERVE a symbol may need SHN_XINDEX, so the table is
  // written (it is all zeros, and harmless, when no symbol does).
  const symtabIndex = 1 + user.length + groups.length;
  const shndxIndex = symtabIndex + 2 >= SHN_LORESERVE ? symtabIndex + 1 : undefined;
  const strtabIndex = (shndxIndex ?? symtabIndex) + 1;
  const shstrtabIndex = strtabIndex + 1;
  const count = shstrtabIndex + 1;

  const targetOf = relocationTargeter(user);
  const targets = groups.map((g) => targetOf(g.section));
  const names = [
    "",
    ...user.map((s) => s.name),
    ...groups.map((g, i) => `${g.rela ? ".rela" : ".rel"}${user[targets[i]! - 1]!.name}`),
    ".symtab",
    ...(shndxIndex === undefined ? [] : [".symtab_shndx"]),
    ".strtab",
    ".shstrtab",
  ];
  const byName = firstIndexByName(names);
  const sectionIndex = (ref: number | string, what: string): number => {
    if (typeof ref === "number") return checkUint(ref, U32_MAX, what);
    const index = byName.get(ref);
    if (index === undefined) throw new RangeError(`Cannot write ELF: ${what} names no section "${ref}"`);
    return index;
  };

  const order = localsFirst(symbols);
  const strtab = new StringTableBuilder();
  const symtab = encodeSymbols(input.littleEndian, symbols, order, strtab, (symbol, i) =>
    symbolSection(symbol.section, count, (name) => sectionIndex(name, `symbol ${i} ("${symbol.name}")`)),
  );
  const symbolIndex = symbolIndexer(symbols, order);

  const sections: OutSection[] = [
    nullSection(),
    ...user.map((s, i) => userSection(s, i, sectionIndex)),
    ...groups.map((g, i) =>
      relocationSection(names[1 + user.length + i]!, g, targets[i]!, symtabIndex, input.littleEndian, symbolIndex),
    ),
    tableSection(".symtab", SHT_SYMTAB, symtab.symbols, SYM_SIZE, strtabIndex, 1 + symtab.locals),
    ...(shndxIndex === undefined
      ? []
      : [tableSection(".symtab_shndx", SHT_SYMTAB_SHNDX, symtab.extendedIndices, SHNDX_ENTRY_SIZE, symtabIndex, 0)]),
    tableSection(".strtab", SHT_STRTAB, strtab.finish(), 0, 0, 0),
  ];
  const shstrtab = new StringTableBuilder();
  const nameOffsets = names.map((name) => shstrtab.add(name));
  sections.push(tableSection(".shstrtab", SHT_STRTAB, shstrtab.finish(), 0, 0, 0));

  return layOut(input, sections, nameOffsets, shstrtabIndex);
}

/** Resolves the target of a relocation group, which must be one of the caller's sections, to its output index. */
function relocationTargeter(user: readonly ElfWriteSection[]): (ref: number | string) => number {
  const positions = firstIndexByName(user.map((s) => s.name));
  return (ref) => {
    const index = typeof ref === "number" ? ref : (positions.get(ref) ?? -1) + 1;
    if (!Number.isInteger(index) || index < 1 || index > user.length) {
      throw new RangeError(`Cannot write ELF: relocation target ${JSON.stringify(ref)} is not one of the ${user.length} sections given`);
    }
    return index;
  };
}

/** Each name mapped to the position of its first occurrence. */
function firstIndexByName(names: readonly string[]): Map<string, number> {
  const byName = new Map<string, number>();
  names.forEach((name, index) => {
    if (!byName.has(name)) byName.set(name, index);
  });
  return byName;
}

/** Positions in `symbols` in output order: locals first, each group in input order. */
function localsFirst(symbols: readonly ElfWriteSymbol[]): number[] {
  const positions = [...symbols.keys()];
  const isLocal = (i: number) => (symbols[i]!.bind ?? STB_LOCAL) === STB_LOCAL;
  return [...positions.filter(isLocal), ...positions.filter((i) => !isLocal(i))];
}

/** Resolves a symbol reference (a name or 1 + position in `symbols`) to its output symbol index. */
function symbolIndexer(symbols: readonly ElfWriteSymbol[], order: readonly number[]): (ref: number | string) => number {
  const outputIndex = new Array<number>(symbols.length + 1);
  outputIndex[0] = 0;
  order.forEach((position, k) => (outputIndex[position + 1] = k + 1));
  const byName = new Map<string, number>();
  symbols.forEach((s, position) => {
    if (!byName.has(s.name)) byName.set(s.name, position + 1);
  });
  return (ref) => {
    const input = typeof ref === "number" ? ref : byName.get(ref);
    if (input === undefined || !Number.isInteger(input) || input < 0 || input > symbols.length) {
      throw new RangeError(`Cannot write ELF: relocation symbol ${JSON.stringify(ref)} does not exist`);
    }
    return outputIndex[input]!;
  };
}

/** A symbol's st_shndx and, when that is SHN_XINDEX, its SHT_SYMTAB_SHNDX entry (else 0). */
interface SymbolSection {
  readonly shndx: number;
  readonly extended: number;
}

/** Resolves where a symbol is defined; real indices from SHN_LORESERVE up go through SHN_XINDEX. */
function symbolSection(section: ElfWriteSymbolSection, count: number, byName: (name: string) => number): SymbolSection {
  switch (section) {
    case "UND":
      return { shndx: SHN_UNDEF, extended: 0 };
    case "ABS":
      return { shndx: SHN_ABS, extended: 0 };
    case "COMMON":
      return { shndx: SHN_COMMON, extended: 0 };
  }
  const index = typeof section === "string" ? byName(section) : section;
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`Cannot write ELF: symbol section ${index} is not a section index (${count} sections)`);
  }
  return index >= SHN_LORESERVE ? { shndx: SHN_XINDEX, extended: index } : { shndx: index, extended: 0 };
}

/** The encoded symbol table (with its null entry), its SHT_SYMTAB_SHNDX contents and its count of locals. */
interface EncodedSymbols {
  readonly symbols: Uint8Array;
  readonly extendedIndices: Uint8Array;
  readonly locals: number;
}

/** Encodes the symbols in `order` after the null symbol, adding their names to `strtab`. */
function encodeSymbols(
  littleEndian: boolean,
  symbols: readonly ElfWriteSymbol[],
  order: readonly number[],
  strtab: StringTableBuilder,
  sectionOf: (symbol: ElfWriteSymbol, position: number) => SymbolSection,
): EncodedSymbols {
  const out = new ByteWriter(littleEndian).padTo(SYM_SIZE);
  const extended = new ByteWriter(littleEndian).u32(0);
  let locals = 0;
  for (const position of order) {
    const s = symbols[position]!;
    const what = `symbol ${position} ("${s.name}")`;
    const bind = checkUint(s.bind ?? STB_LOCAL, NIBBLE_MAX, `${what} binding`);
    if (bind === STB_LOCAL) locals++;
    const type = checkUint(s.type ?? 0, NIBBLE_MAX, `${what} type`);
    const { shndx, extended: extendedIndex } = sectionOf(s, position);
    out
      .u32(strtab.add(s.name))
      .u8((bind << INFO_BIND_SHIFT) | type)
      .u8(checkUint(s.visibility ?? 0, VISIBILITY_MAX, `${what} visibility`))
      .u16(shndx)
      .u64(checkUint(s.value ?? 0, Number.MAX_SAFE_INTEGER, `${what} value`))
      .u64(checkUint(s.size ?? 0, Number.MAX_SAFE_INTEGER, `${what} size`));
    extended.u32(extendedIndex);
  }
  return { symbols: out.finish(), extendedIndices: extended.finish(), locals };
}

/** Section header 0, which the layout fills with the extended count and name index when needed. */
function nullSection(): OutSection {
  return { name: "", type: SHT_NULL, flags: 0, link: 0, info: 0, addralign: 0, entsize: 0, data: new Uint8Array(0), size: 0 };
}

/** One of the caller's sections, checked, with its link and info resolved. */
function userSection(
  s: ElfWriteSection,
  position: number,
  sectionIndex: (ref: number | string, what: string) => number,
): OutSection {
  const what = `section ${position} ("${s.name}")`;
  if (s.type === SHT_SYMTAB || s.type === SHT_SYMTAB_SHNDX) {
    throw new RangeError(`Cannot write ELF: ${what} has a type the writer builds itself`);
  }
  const addralign = checkUint(s.addralign ?? 1, Number.MAX_SAFE_INTEGER, `${what} alignment`);
  if (addralign !== 0 && 2 ** Math.round(Math.log2(addralign)) !== addralign) {
    throw new RangeError(`Cannot write ELF: ${what} alignment ${addralign} is not a power of two`);
  }
  const nobits = s.type === SHT_NOBITS;
  if (nobits && s.data.length !== 0) throw new RangeError(`Cannot write ELF: ${what} is SHT_NOBITS but has data`);
  if (!nobits && s.size !== undefined && s.size !== s.data.length) {
    throw new RangeError(`Cannot write ELF: ${what} size ${s.size} differs from its data's length ${s.data.length}`);
  }
  return {
    name: s.name,
    type: checkUint(s.type, U32_MAX, `${what} type`),
    flags: checkUint(s.flags ?? 0, Number.MAX_SAFE_INTEGER, `${what} flags`),
    link: sectionIndex(s.link ?? 0, `${what} link`),
    info: sectionIndex(s.info ?? 0, `${what} info`),
    addralign,
    entsize: checkUint(s.entsize ?? 0, Number.MAX_SAFE_INTEGER, `${what} entry size`),
    data: s.data,
    size: nobits ? checkUint(s.size ?? 0, Number.MAX_SAFE_INTEGER, `${what} size`) : s.data.length,
  };
}

/** The SHT_REL / SHT_RELA section for one relocation group. */
function relocationSection(
  name: string,
  group: ElfWriteRelocations,
  target: number,
  symtabIndex: number,
  littleEndian: boolean,
  symbolIndex: (ref: number | string) => number,
): OutSection {
  const out = new ByteWriter(littleEndian);
  group.entries.forEach((entry, i) => {
    const what = `relocation ${i} for section "${name}"`;
    const symbol = symbolIndex(entry.symbol);
    const type = checkUint(entry.type, U32_MAX, `${what} type`);
    out.u64(checkUint(entry.offset, Number.MAX_SAFE_INTEGER, `${what} offset`));
    // r_info: ELF64_R_SYM in the high 32 bits, ELF64_R_TYPE in the low 32.
    if (littleEndian) out.u32(type).u32(symbol);
    else out.u32(symbol).u32(type);
    const addend = entry.addend ?? 0;
    if (!Number.isSafeInteger(addend)) throw new RangeError(`Cannot write ELF: ${what} addend ${addend} is not a safe integer`);
    if (group.rela) out.u64(addend);
    else if (addend !== 0) throw new RangeError(`Cannot write ELF: ${what} has an addend but the section is SHT_REL`);
  });
  return {
    ...tableSection(name, group.rela ? SHT_RELA : SHT_REL, out.finish(), group.rela ? RELA_SIZE : REL_SIZE, symtabIndex, target),
    flags: SHF_INFO_LINK,
  };
}

/** A section the writer builds: a table of `entsize`-byte entries, or of strings when `entsize` is 0. */
function tableSection(name: string, type: number, data: Uint8Array, entsize: number, link: number, info: number): OutSection {
  const addralign = entsize === 0 ? 1 : Math.min(entsize, MAX_TABLE_ALIGNMENT);
  return { name, type, flags: 0, link, info, addralign, entsize, data, size: data.length };
}

/** Places the sections after the file header, the section header table last, and writes it all. */
function layOut(input: ElfWriteInput, sections: readonly OutSection[], nameOffsets: readonly number[], shstrndx: number): Uint8Array {
  let end = EHDR_SIZE;
  const offsets = sections.map((s) => {
    if (s.type === SHT_NULL) return 0;
    if (s.type === SHT_NOBITS) return end;
    const at = alignUp(end, Math.min(Math.max(s.addralign, 1), MAX_FILE_ALIGNMENT));
    end = at + s.data.length;
    return at;
  });
  const shoff = alignUp(end, SHDR_ALIGNMENT);
  const count = sections.length;
  const extendedCount = count >= SHN_LORESERVE;
  const extendedNames = shstrndx >= SHN_LORESERVE;

  const out = new ByteWriter(input.littleEndian);
  out.bytes(new Uint8Array(ELF_MAGIC));
  out.u8(ELFCLASS64).u8(input.littleEndian ? ELFDATA2LSB : ELFDATA2MSB).u8(EV_CURRENT);
  out.u8(checkUint(input.osabi ?? 0, U8_MAX, "OS ABI")).padTo(EI_NIDENT);
  out.u16(checkUint(input.type ?? ET_REL, U16_MAX, "file type"));
  out.u16(checkUint(input.machine, U16_MAX, "machine"));
  out.u32(EV_CURRENT).u64(0).u64(0).u64(shoff); // e_version, e_entry, e_phoff, e_shoff
  out.u32(checkUint(input.flags ?? 0, U32_MAX, "flags"));
  out.u16(EHDR_SIZE).u16(0).u16(0).u16(SHDR_SIZE); // e_ehsize, e_phentsize, e_phnum, e_shentsize
  out.u16(extendedCount ? 0 : count).u16(extendedNames ? SHN_XINDEX : shstrndx);

  sections.forEach((s, i) => {
    if (s.type !== SHT_NULL && s.type !== SHT_NOBITS) out.padTo(offsets[i]!).bytes(s.data);
  });
  out.padTo(shoff);
  sections.forEach((s, i) => {
    const isFirst = i === 0;
    out.u32(nameOffsets[i]!).u32(s.type).u64(s.flags).u64(0).u64(offsets[i]!);
    out.u64(isFirst && extendedCount ? count : s.size);
    out.u32(isFirst && extendedNames ? shstrndx : s.link).u32(s.info);
    out.u64(s.addralign).u64(s.entsize);
  });
  return out.finish();
}

/** `offset` rounded up to a multiple of `alignment`. */
function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}

/** Returns `value` when it is an integer in [0, max], else throws a `RangeError` naming `what`. */
function checkUint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot write ELF: ${what} ${value} does not fit (0 to ${max})`);
  }
  return value;
}
