/**
 * ElfFile.parse() on broken files: each case corrupts one field of a valid object and expects a
 * FormatError naming the section (when the problem is inside or about one) and the byte offset
 * (within that section, else within the file).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { FormatError, isWaggleError } from "../../src/errors.js";
import {
  ElfFile,
  EM_BPF,
  SHN_XINDEX,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_GLOBAL,
  writeElf,
} from "../../src/elf/index.js";
import { sampleInput } from "./elf/objects.js";

const FILE = "bad.o";
const base = writeElf(sampleInput(true));
const reference = ElfFile.parse(base);
const shoff = Number(new DataView(base.buffer).getBigUint64(40, true));

/** The section called `name` in the unbroken file. */
function section(name: string) {
  return reference.sectionByName(name)!;
}

/** The file offset of the section header of `name`. */
function header(name: string): number {
  return shoff + section(name).index * 64;
}

/** A copy of the valid file with `change` applied. */
function broken(change: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = base.slice();
  change(new DataView(bytes.buffer), bytes);
  return bytes;
}

/** Parses `bytes` and reads every relocation, so that lazily found problems surface too. */
function parseAndWalk(bytes: Uint8Array): void {
  const elf = ElfFile.parse(bytes, { file: FILE });
  for (const target of elf.relocationSections.keys()) elf.relocationsFor(target);
}

interface BadCase {
  readonly name: string;
  readonly bytes: () => Uint8Array;
  readonly what: RegExp;
  readonly section?: string;
  readonly offset?: number;
}

const symtab = section(".symtab");
const strtab = section(".strtab");
const shstrtab = section(".shstrtab");

const cases: BadCase[] = [
  { name: "empty input", bytes: () => new Uint8Array(0), what: /^file is empty$/, offset: 0 },
  { name: "a wrong magic number", bytes: () => broken((_, b) => (b[1] = 0x46)), what: /bad magic/, offset: 1 },
  { name: "a 32-bit ELF file", bytes: () => broken((_, b) => (b[4] = 1)), what: /^32-bit ELF is not supported$/, offset: 4 },
  { name: "an unknown ELF class", bytes: () => broken((_, b) => (b[4] = 3)), what: /unknown ELF class 3/, offset: 4 },
  { name: "an unknown byte order", bytes: () => broken((_, b) => (b[5] = 0)), what: /unknown byte order 0/, offset: 5 },
  { name: "an unknown ELF version", bytes: () => broken((_, b) => (b[6] = 2)), what: /unknown ELF version 2/, offset: 6 },
  { name: "a truncated identification", bytes: () => base.subarray(0, 10), what: /identification is truncated/, offset: 0 },
  { name: "a truncated file header", bytes: () => base.subarray(0, 40), what: /ELF header is truncated/, offset: 0 },
  {
    name: "a section header size other than 64",
    bytes: () => broken((v) => v.setUint16(58, 40, true)),
    what: /section header size 40 is not 64/,
    offset: 58,
  },
  {
    name: "a section count without a section header table",
    bytes: () => broken((v) => v.setBigUint64(40, 0n, true)),
    what: /e_shnum is \d+ but there is no section header table/,
    offset: 60,
  },
  {
    name: "a truncated section header table",
    bytes: () => base.subarray(0, shoff + 100),
    what: /section header table of \d+ entries is truncated/,
    offset: shoff,
  },
  {
    name: "a section header table past the end of the file",
    bytes: () => broken((v) => v.setBigUint64(40, BigInt(base.length + 8), true)),
    what: /section header table is truncated/,
    offset: base.length + 8,
  },
  {
    name: "an e_shoff beyond 2^53",
    bytes: () => broken((v) => v.setBigUint64(40, 1n << 60n, true)),
    what: /e_shoff 0x1000000000000000 is too large/,
    offset: 40,
  },
  {
    name: "an extended section count larger than the file",
    bytes: () =>
      broken((v) => {
        v.setUint16(60, 0, true);
        v.setBigUint64(shoff + 32, 1_000_000_000n, true);
      }),
    what: /section header table of 1000000000 entries is truncated/,
    offset: shoff,
  },
  {
    name: "a section name table index out of range",
    bytes: () => broken((v) => v.setUint16(62, reference.sections.length + 3, true)),
    what: /section name table index \d+ is out of range/,
    offset: 62,
  },
  {
    name: "an extended section name table index out of range",
    bytes: () =>
      broken((v) => {
        v.setUint16(62, SHN_XINDEX, true);
        v.setUint32(shoff + 40, 500, true);
      }),
    what: /section name table index 500 is out of range/,
    offset: shoff + 40,
  },
  {
    name: "section data past the end of the file",
    bytes: () => broken((v) => v.setBigUint64(header(".text") + 24, BigInt(base.length - 4), true)),
    what: /section data \(0x10 bytes at file offset 0x[0-9a-f]+\) runs past the end of the file/,
    section: ".text",
    offset: 4,
  },
  {
    name: "a section size larger than the file",
    bytes: () => broken((v) => v.setBigUint64(header(".maps") + 32, 1n << 40n, true)),
    what: /runs past the end of the file/,
    section: ".maps",
    offset: base.length - section(".maps").offset,
  },
  {
    name: "a section size beyond 2^53",
    bytes: () => broken((v) => v.setBigUint64(header(".maps") + 32, 1n << 62n, true)),
    what: /sh_size 0x4000000000000000 is too large/,
    offset: header(".maps") + 32,
  },
  {
    name: "a section name offset past the section name table",
    bytes: () => broken((v) => v.setUint32(header(".text"), shstrtab.size + 10, true)),
    what: /the name of section 1 starts past the end of the string table/,
    section: ".shstrtab",
    offset: shstrtab.size + 10,
  },
  {
    name: "a section name table whose own name is past its end",
    bytes: () => broken((v) => v.setUint32(header(".shstrtab"), 9999, true)),
    what: /the name of section \d+ starts past the end/,
    section: `#${shstrtab.index}`,
    offset: 9999,
  },
  {
    name: "a symbol name offset past the string table",
    bytes: () => broken((v) => v.setUint32(symtab.offset + 4 * 24, strtab.size + 1, true)),
    what: /the name of symbol 4 starts past the end of the string table/,
    section: ".strtab",
    offset: strtab.size + 1,
  },
  {
    name: "a symbol name that is not NUL-terminated",
    bytes: () => broken((_, b) => (b[strtab.offset + strtab.size - 1] = 0x41)),
    what: /the name of symbol 12 is not NUL-terminated/,
    section: ".strtab",
    offset: strtab.size - "common_blk\0".length,
  },
  {
    name: "a symbol table entry size other than 24",
    bytes: () => broken((v) => v.setBigUint64(header(".symtab") + 56, 16n, true)),
    what: /entry size 16 is not 24/,
    section: ".symtab",
  },
  {
    name: "a symbol table size that is not a multiple of 24",
    bytes: () => broken((v) => v.setBigUint64(header(".symtab") + 32, BigInt(symtab.size - 5), true)),
    what: /is not a multiple of the entry size 24/,
    section: ".symtab",
    offset: symtab.size - 24,
  },
  {
    name: "a symbol table linked to a section that is not a string table",
    bytes: () => broken((v) => v.setUint32(header(".symtab") + 40, 1, true)),
    what: /sh_link 1 does not name a string table/,
    section: ".symtab",
  },
  {
    name: "a symbol table linked to a section that does not exist",
    bytes: () => broken((v) => v.setUint32(header(".symtab") + 40, 999, true)),
    what: /sh_link 999 does not name a string table/,
    section: ".symtab",
  },
  {
    name: "a second SHT_SYMTAB section",
    bytes: () => broken((v) => v.setUint32(header(".llvm_addrsig") + 4, SHT_SYMTAB, true)),
    what: /is a second SHT_SYMTAB section/,
    section: ".symtab",
  },
  {
    name: "SHN_XINDEX without an SHT_SYMTAB_SHNDX section",
    bytes: () => broken((v) => v.setUint16(symtab.offset + 5 * 24 + 6, SHN_XINDEX, true)),
    what: /symbol 5 uses SHN_XINDEX but no SHT_SYMTAB_SHNDX section/,
    section: ".symtab",
    offset: 5 * 24 + 6,
  },
  {
    name: "an SHT_SYMTAB_SHNDX section too short for the symbol table",
    bytes: () =>
      broken((v) => {
        v.setUint32(header("license") + 4, SHT_SYMTAB_SHNDX, true);
        v.setUint32(header("license") + 40, symtab.index, true);
        v.setUint16(symtab.offset + 5 * 24 + 6, SHN_XINDEX, true);
      }),
    what: /the extended section index of symbol 5 is truncated/,
    section: "license",
    offset: 20,
  },
  {
    name: "a symbol value beyond 2^53",
    bytes: () => broken((v) => v.setUint32(symtab.offset + 6 * 24 + 12, 0x0040_0000, true)),
    what: /st_value 0x40000000000008 is too large/,
    section: ".symtab",
    offset: 6 * 24 + 8,
  },
  {
    name: "a relocation section linked to a section that does not exist",
    bytes: () => broken((v) => v.setUint32(header(".relxdp") + 40, 99, true)),
    what: /sh_link 99 does not name a symbol table/,
    section: ".relxdp",
  },
  {
    name: "a relocation section linked to a string table",
    bytes: () => broken((v) => v.setUint32(header(".relxdp") + 40, strtab.index, true)),
    what: /does not name a symbol table/,
    section: ".relxdp",
  },
  {
    name: "a relocation section whose target does not exist",
    bytes: () => broken((v) => v.setUint32(header(".relxdp") + 44, 99, true)),
    what: /sh_info 99 does not name a section/,
    section: ".relxdp",
  },
  {
    name: "an SHT_REL section with the entry size of SHT_RELA",
    bytes: () => broken((v) => v.setBigUint64(header(".relxdp") + 56, 24n, true)),
    what: /entry size 24 is not 16/,
    section: ".relxdp",
  },
  {
    name: "a relocation against a symbol past the end of the symbol table",
    bytes: () => broken((v) => v.setUint32(section(".relxdp").offset + 12, 200, true)),
    what: /symbol index 200 is out of range/,
    section: ".relxdp",
    offset: 8,
  },
  {
    name: "a relocation offset beyond 2^53",
    bytes: () => broken((v) => v.setUint32(section(".relxdp").offset + 16 + 4, 0xffff_ffff, true)),
    what: /r_offset 0xffffffff00000000 is too large/,
    section: ".relxdp",
    offset: 16,
  },
  {
    name: "an addend beyond 2^53",
    bytes: () => broken((v) => v.setInt32(section(".relapointers").offset + 20, 0x4000_0000, true)),
    what: /r_addend is too large/,
    section: ".relapointers",
    offset: 16,
  },
];

for (const c of cases) {
  test(`ElfFile.parse() rejects ${c.name}`, () => {
    assert.throws(
      () => parseAndWalk(c.bytes()),
      (e: unknown) => {
        assert.ok(e instanceof FormatError, `expected a FormatError, got ${String(e)}`);
        assert.ok(isWaggleError(e, "FormatError"));
        assert.match(e.what, c.what);
        assert.deepEqual(
          { format: e.format, file: e.file, section: e.section, offset: e.offset },
          { format: "ELF", file: FILE, section: c.section, offset: c.offset },
        );
        assert.ok(e.message.startsWith(`Cannot parse ELF "${FILE}": `), e.message);
        return true;
      },
    );
  });
}

test("ElfFile.parse() bounds the bytes of names it decodes from one string table", () => {
  const longName = "n".repeat(20_000);
  const count = 3000;
  const input = {
    littleEndian: true,
    machine: EM_BPF,
    sections: [],
    symbols: Array.from({ length: count }, () => ({ name: longName, bind: STB_GLOBAL, section: "UND" })),
  };
  const bytes = writeElf(input);
  const elf = ElfFile.parse(bytes);
  const table = elf.sectionByName(".symtab")!;
  // Point every symbol at a different suffix of the one long name: each is valid, together they are huge.
  const view = new DataView(bytes.buffer);
  for (let i = 1; i <= count; i++) view.setUint32(table.offset + i * 24, 1 + i, true);
  assert.throws(
    () => ElfFile.parse(bytes, { file: FILE }),
    (e: unknown) => e instanceof FormatError && e.section === ".strtab" && /past 8 times its size/.test(e.what),
  );
});
