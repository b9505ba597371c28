/**
 * The state shared by the steps that turn an ELF file into an `ObjectSpec`, and the one way they report
 * a malformed object: a `FormatError` naming the file, section and offset.
 */

import type { Btf, BtfExt } from "../btf/index.js";
import { type ElfFile, type ElfSection, type ElfSymbol } from "../elf/index.js";
import { FormatError } from "../errors.js";

/** What every parsing step can see. */
export interface ParseContext {
  readonly elf: ElfFile;
  readonly file: string | undefined;
  /** The object's name: the file name up to its first `.`, used to name global-data maps like libbpf. */
  readonly objectName: string;
  readonly btf: Btf | undefined;
  readonly btfExt: BtfExt | undefined;
  /**
   * The compiler that produced the object, from `.comment`. GCC 12 writes a data symbol's value into the
   * instruction as well as into the symbol, so its relocations must count the offset once.
   */
  readonly producer: "gcc" | "other";
}

/** Who compiled the object: GCC leaves `GCC: (…) version` in `.comment`. */
export function objectProducer(elf: ElfFile): "gcc" | "other" {
  const comment = elf.sectionByName(".comment");
  if (!comment) return "other";
  return new TextDecoder().decode(comment.data).includes("GCC:") ? "gcc" : "other";
}

/** Throws a FormatError about the object, naming where the problem is. */
export function objectError(ctx: ParseContext, what: string, section?: ElfSection | string, offset?: number): never {
  const sectionName = typeof section === "string" ? section : section?.name;
  throw new FormatError("BPF object", what, {
    ...(ctx.file !== undefined && { file: ctx.file }),
    ...(sectionName !== undefined && { section: sectionName }),
    ...(offset !== undefined && { offset }),
  });
}

/** The symbols of each section, grouped once per ELF file. */
const symbolsBySection = new WeakMap<ElfFile, Map<number, ElfSymbol[]>>();

/** The symbols defined in a section, in symbol-table order. */
export function symbolsIn(ctx: ParseContext, section: ElfSection): readonly ElfSymbol[] {
  let groups = symbolsBySection.get(ctx.elf);
  if (!groups) {
    groups = new Map();
    for (const sym of ctx.elf.symbols) {
      if (sym.index === 0) continue;
      let list = groups.get(sym.shndx);
      if (!list) groups.set(sym.shndx, (list = []));
      list.push(sym);
    }
    symbolsBySection.set(ctx.elf, groups);
  }
  return groups.get(section.index) ?? [];
}

/** The symbol a relocation refers to, checked against the symbol table. */
export function relocationSymbol(ctx: ParseContext, index: number, section: ElfSection, offset: number): ElfSymbol {
  const sym = ctx.elf.symbols[index];
  if (index === 0 || sym === undefined) objectError(ctx, `relocation refers to symbol #${index}, which does not exist`, section, offset);
  return sym;
}

/** DATASEC type ids by section name, found once per Btf without indexing every type name. */
const datasecsByBtf = new WeakMap<Btf, Map<string, number>>();

/** The id of the DATASEC describing section `name`, if the object's BTF has one. */
export function datasecOf(ctx: ParseContext, name: string): number | undefined {
  const btf = ctx.btf;
  if (!btf) return undefined;
  let byName = datasecsByBtf.get(btf);
  if (!byName) {
    byName = new Map();
    for (const id of btf.idsOfKind("datasec")) {
      const sectionName = btf.type(id).name;
      if (!byName.has(sectionName)) byName.set(sectionName, id);
    }
    datasecsByBtf.set(btf, byName);
  }
  return byName.get(name);
}

/** Global-data section kinds by name, as libbpf recognises them. */
export function dataSectionKind(name: string): "data" | "rodata" | "bss" | undefined {
  if (name === ".data" || name.startsWith(".data.")) return "data";
  if (name === ".rodata" || name.startsWith(".rodata.")) return "rodata";
  if (name === ".bss" || name.startsWith(".bss.")) return "bss";
  return undefined;
}
