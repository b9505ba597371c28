/**
 * What `llvm-readelf-19 --elf-output-style=JSON -S -s -r` reports about a file, reduced to the fields
 * the ELF tests compare with `ElfFile`.
 */

import { READELF, run } from "./objects.js";

/** One section as llvm-readelf reports it. */
export interface ReadelfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

/** One symbol as llvm-readelf reports it (section symbols carry their section's name). */
export interface ReadelfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly bind: number;
  readonly type: number;
  readonly other: number;
  readonly shndx: number;
}

/** One relocation; `addend` is the unsigned 64-bit value, absent for SHT_REL. */
export interface ReadelfRelocation {
  readonly offset: number;
  readonly type: number;
  readonly symbol: number;
  readonly addend?: bigint;
}

/** The report for one file. */
export interface ReadelfReport {
  readonly sections: ReadelfSection[];
  readonly symbols: ReadelfSymbol[];
  /** Relocation section index → its entries, in file order. */
  readonly relocations: Map<number, ReadelfRelocation[]>;
  /** What llvm-readelf printed on stderr (warnings). */
  readonly stderr: string;
}

interface Named {
  readonly Name: string;
  readonly Value: number;
}

interface RawReport {
  readonly Sections?: { Section: Record<string, number> & { Name: Named; Type: Named; Flags: Named } }[];
  readonly Symbols?: {
    Symbol: { Name: Named; Value: number; Size: number; Binding: Named; Type: Named; Other: Named; Section: Named };
  }[];
  readonly Relocations?: {
    SectionIndex: number;
    Relocs: { Relocation: { Offset: number; Type: Named; Symbol: Named; Addend?: string } }[];
  }[];
}

/** Runs llvm-readelf on `path` (which must be readable by it) and parses its JSON. */
export function readelf(path: string, options: readonly string[] = ["-S", "-s", "-r"]): ReadelfReport {
  const { status, stdout, stderr } = run(READELF, ["--elf-output-style=JSON", ...options, path]);
  if (status !== 0) throw new Error(`${READELF} failed on ${path}: ${stderr}`);
  // Addends are unsigned 64-bit numbers; keep them exact.
  const [raw] = JSON.parse(stdout.replace(/"Addend":\s*(\d+)/g, '"Addend":"$1"')) as [RawReport];
  return {
    sections: (raw.Sections ?? []).map(({ Section: s }) => ({
      index: s.Index!,
      name: s.Name.Name,
      type: s.Type.Value,
      flags: s.Flags.Value,
      addr: s.Address!,
      offset: s.Offset!,
      size: s.Size!,
      link: s.Link!,
      info: s.Info!,
      addralign: s.AddressAlignment!,
      entsize: s.EntrySize!,
    })),
    symbols: (raw.Symbols ?? []).map(({ Symbol: s }) => ({
      name: s.Name.Name,
      value: s.Value,
      size: s.Size,
      bind: s.Binding.Value,
      type: s.Type.Value,
      other: s.Other.Value,
      shndx: s.Section.Value,
    })),
    relocations: new Map(
      (raw.Relocations ?? []).map((group) => [
        group.SectionIndex,
        group.Relocs.map(({ Relocation: r }) => ({
          offset: r.Offset,
          type: r.Type.Value,
          symbol: r.Symbol.Value,
          ...(r.Addend === undefined ? {} : { addend: BigInt(r.Addend) }),
        })),
      ]),
    ),
    stderr,
  };
}
