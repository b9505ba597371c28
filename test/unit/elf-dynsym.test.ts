/**
 * ElfFile's dynamic symbols and program headers on real executables and shared objects (libc, /bin/true,
 * the running node, and a shared object gcc builds here), checked against `llvm-readelf-19 --dyn-syms -l`;
 * the offset/address conversions through PT_LOAD segments; and broken program header tables and
 * dynamic symbol tables, which must be FormatErrors naming the place.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FormatError, isWaggleError } from "../../src/errors.js";
import {
  addressToFileOffset,
  ElfFile,
  ET_DYN,
  fileOffsetToAddress,
  PF_R,
  PF_X,
  PT_LOAD,
  SHN_UNDEF,
  SHT_DYNSYM,
  SHT_SYMTAB,
  STT_FUNC,
  type ElfSymbol,
} from "../../src/elf/index.js";
import { fixtureObjects, missingTool, READELF, run, scratchDir } from "./elf/objects.js";

const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const TRUE = "/bin/true";
const readelfMissing = missingTool(READELF);
const gccMissing = missingTool("gcc");

/** A small shared object with a static table, a dynamic table and a static function, built by gcc. */
const library = gccMissing === undefined ? buildLibrary() : undefined;

function buildLibrary(): string {
  const dir = scratchDir();
  const source = join(dir, "dynsym.c");
  writeFileSync(
    source,
    [
      "static int hidden_counter;",
      "__attribute__((noinline)) static int internal_helper(int x) { return x * 7 + hidden_counter++; }",
      "int exported_function(int x) { return internal_helper(x) + 1; }",
      "int exported_data = 42;",
      "",
    ].join("\n"),
  );
  const path = join(dir, "libdynsym.so");
  const result = spawnSync("gcc", ["-shared", "-fPIC", "-O1", "-o", path, source], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`gcc failed: ${result.stderr}`);
  return path;
}

/** The files compared with llvm-readelf, with the reason each is skipped where it is. */
const realFiles: { name: string; path: string; skip?: string }[] = [
  { name: "libc", path: LIBC, ...(existsSync(LIBC) ? {} : { skip: `${LIBC} does not exist` }) },
  { name: "/bin/true", path: TRUE, ...(existsSync(TRUE) ? {} : { skip: `${TRUE} does not exist` }) },
  { name: "node", path: process.execPath },
  { name: "a gcc shared object", path: library ?? "", ...(gccMissing ? { skip: gccMissing } : {}) },
];

interface Named {
  readonly Name: string;
  readonly Value: number;
}

interface RawReport {
  readonly ProgramHeaders?: {
    ProgramHeader: {
      Type: Named;
      Offset: number;
      VirtualAddress: number;
      PhysicalAddress: number;
      FileSize: number;
      MemSize: number;
      Flags: { Value: number };
      Alignment: number;
    };
  }[];
  readonly DynamicSymbols?: {
    Symbol: { Name: Named; Value: number; Size: number; Binding: Named; Type: Named; Other: { Value: number }; Section: Named };
  }[];
}

/** What llvm-readelf says about the program headers and dynamic symbols of `path`. */
function readelfDynamic(path: string): RawReport {
  const { status, stdout, stderr } = run(READELF, ["--elf-output-style=JSON", "--dyn-syms", "-l", path]);
  if (status !== 0) throw new Error(`${READELF} failed on ${path}: ${stderr}`);
  return (JSON.parse(stdout) as [RawReport])[0];
}

/** A symbol as compared with llvm-readelf, which appends `@VERSION` or `@@VERSION` to versioned names. */
function comparable(s: ElfSymbol) {
  return { name: s.name, value: s.value, size: s.size, bind: s.bind, type: s.type, visibility: s.visibility, shndx: s.shndx };
}

// === Agreement with llvm-readelf ===

for (const file of realFiles) {
  const skip = file.skip ?? readelfMissing;
  test(`ElfFile reads the program headers and dynamic symbols of ${file.name} as llvm-readelf does`, { skip }, () => {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(file.path)), { file: file.path });
    const report = readelfDynamic(file.path);

    assert.deepEqual(
      elf.segments.map(({ index: _, ...segment }) => segment),
      (report.ProgramHeaders ?? []).map(({ ProgramHeader: p }) => ({
        type: p.Type.Value,
        flags: p.Flags.Value,
        offset: p.Offset,
        vaddr: p.VirtualAddress,
        paddr: p.PhysicalAddress,
        filesz: p.FileSize,
        memsz: p.MemSize,
        align: p.Alignment,
      })),
    );
    assert.deepEqual(elf.segments.map((s) => s.index), elf.segments.map((_, i) => i));

    const expected = (report.DynamicSymbols ?? []).map(({ Symbol: s }) => ({
      name: s.Name.Name.replace(/@.*$/, ""),
      value: s.Value,
      size: s.Size,
      bind: s.Binding.Value,
      type: s.Type.Value,
      visibility: s.Other.Value & 3,
      shndx: s.Section.Value,
    }));
    assert.equal(elf.dynamicSymbols.length, expected.length);
    assert.deepEqual(elf.dynamicSymbols.map(comparable), expected);
    assert.deepEqual(elf.dynamicSymbols.map((s) => s.index), expected.map((_, i) => i));
  });
}

test("ElfFile.dynamicSymbols is read once and shared between uses", { skip: gccMissing }, () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(library!)));
  assert.equal(elf.dynamicSymbols, elf.dynamicSymbols);
});

test("ElfFile keeps .symtab and .dynsym apart: static functions are only in the static table", { skip: gccMissing }, () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(library!)));
  const names = (symbols: readonly ElfSymbol[]) => symbols.map((s) => s.name);
  assert.ok(names(elf.symbols).includes("internal_helper"));
  assert.ok(!names(elf.dynamicSymbols).includes("internal_helper"));
  const exported = elf.dynamicSymbols.find((s) => s.name === "exported_function")!;
  assert.equal(exported.type, STT_FUNC);
  assert.notEqual(exported.shndx, SHN_UNDEF);
  assert.equal(elf.symbols.find((s) => s.name === "exported_function")!.value, exported.value);
  assert.equal(elf.type, ET_DYN);
});

const fixtures = fixtureObjects();
test("ElfFile gives relocatable objects no segments and no dynamic symbols", { skip: fixtures.length === 0 ? "fixtures/obj holds no objects" : undefined }, () => {
  for (const object of fixtures) {
    const elf = ElfFile.parse(object.bytes, { file: object.name });
    assert.deepEqual(elf.segments, [], object.name);
    assert.deepEqual(elf.dynamicSymbols, [], object.name);
  }
});

// === File offsets and addresses ===

test("fileOffsetToAddress() and addressToFileOffset() convert through the PT_LOAD segments of /bin/true", () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(TRUE)));
  const loads = elf.segments.filter((s) => s.type === PT_LOAD);
  assert.ok(loads.length >= 2);
  for (const segment of loads) {
    const inside = segment.offset + Math.floor(segment.filesz / 2);
    const address = fileOffsetToAddress(elf.segments, inside)!;
    assert.equal(address, segment.vaddr + (inside - segment.offset));
    assert.equal(addressToFileOffset(elf.segments, address), inside);
  }
  const text = loads.find((s) => (s.flags & (PF_R | PF_X)) === (PF_R | PF_X))!;
  assert.equal(fileOffsetToAddress(elf.segments, text.offset), text.vaddr);
  assert.equal(fileOffsetToAddress(elf.segments, text.offset + text.filesz - 1), text.vaddr + text.filesz - 1);
});

test("addressToFileOffset() has no file offset for zero-filled memory past p_filesz", () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(TRUE)));
  const bss = elf.segments.find((s) => s.type === PT_LOAD && s.memsz > s.filesz);
  assert.ok(bss, "/bin/true has a segment with .bss");
  assert.equal(addressToFileOffset(elf.segments, bss.vaddr + bss.filesz), undefined);
  assert.equal(addressToFileOffset(elf.segments, bss.vaddr + bss.filesz - 1), bss.offset + bss.filesz - 1);
});

test("fileOffsetToAddress() has no address for offsets no PT_LOAD segment loads", () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(TRUE)));
  assert.equal(fileOffsetToAddress(elf.segments, readFileSync(TRUE).length + 10), undefined);
  assert.equal(fileOffsetToAddress([], 0), undefined);
  assert.equal(addressToFileOffset([], 0), undefined);
});

test("every defined libc function's file offset maps back to its address", { skip: existsSync(LIBC) ? undefined : `${LIBC} does not exist` }, () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(LIBC)));
  const functions = elf.dynamicSymbols.filter((s) => s.type === STT_FUNC && s.shndx !== SHN_UNDEF);
  assert.ok(functions.length > 1000);
  for (const symbol of functions) {
    const offset = addressToFileOffset(elf.segments, symbol.value);
    assert.notEqual(offset, undefined, symbol.name);
    assert.equal(fileOffsetToAddress(elf.segments, offset!), symbol.value, symbol.name);
  }
});

// === Broken program headers and dynamic symbol tables ===

const trueBytes = new Uint8Array(readFileSync(TRUE));
const trueView = new DataView(trueBytes.buffer, trueBytes.byteOffset, trueBytes.byteLength);
const truePhoff = Number(trueView.getBigUint64(32, true));
const truePhnum = trueView.getUint16(56, true);
const trueShoff = Number(trueView.getBigUint64(40, true));

/** A copy of /bin/true with `change` applied. */
function brokenTrue(change: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = trueBytes.slice();
  change(new DataView(bytes.buffer), bytes);
  return bytes;
}

/** The file offset of the section header of the section called `name` in /bin/true. */
function trueSectionHeader(name: string): number {
  return trueShoff + ElfFile.parse(trueBytes).sectionByName(name)!.index * 64;
}

interface BadCase {
  readonly name: string;
  readonly bytes: () => Uint8Array;
  readonly what: RegExp;
  readonly section?: string;
  readonly offset?: number;
  /** True when the problem surfaces on reading `dynamicSymbols`, not on parsing. */
  readonly lazy?: boolean;
}

const badCases: BadCase[] = [
  {
    name: "a program header size other than 56",
    bytes: () => brokenTrue((v) => v.setUint16(54, 32, true)),
    what: /^program header size 32 is not 56$/,
    offset: 54,
  },
  {
    name: "a program header count without a program header table",
    bytes: () => brokenTrue((v) => v.setBigUint64(32, 0n, true)),
    what: new RegExp(`^e_phnum is ${truePhnum} but there is no program header table$`),
    offset: 56,
  },
  {
    name: "a program header table past the end of the file",
    bytes: () => brokenTrue((v, b) => v.setBigUint64(32, BigInt(b.length - 8), true)),
    what: new RegExp(`^program header table of ${truePhnum} entries is truncated`),
    offset: trueBytes.length - 8,
  },
  {
    name: "an e_phoff too large for a safe integer",
    bytes: () => brokenTrue((v) => v.setBigUint64(32, 1n << 60n, true)),
    what: /^e_phoff 0x1000000000000000 is too large$/,
    offset: 32,
  },
  {
    name: "a p_vaddr too large for a safe integer",
    bytes: () => brokenTrue((v) => v.setBigUint64(truePhoff + 16, 1n << 62n, true)),
    what: /^p_vaddr 0x4000000000000000 is too large$/,
    offset: truePhoff + 16,
  },
  {
    name: "an extended program header count without section headers",
    bytes: () =>
      brokenTrue((v) => {
        v.setUint16(56, 0xffff, true);
        v.setBigUint64(40, 0n, true);
        v.setUint16(60, 0, true);
        v.setUint16(62, 0, true);
      }),
    what: /^e_phnum is PN_XNUM but there is no section 0 to hold the count$/,
    offset: 56,
  },
  {
    name: "a dynamic symbol table whose entry size is not 24",
    bytes: () => brokenTrue((v) => v.setBigUint64(trueSectionHeader(".dynsym") + 56, 16n, true)),
    what: /^entry size 16 is not 24$/,
    section: ".dynsym",
    lazy: true,
  },
  {
    name: "a dynamic symbol table linked to a section that is not a string table",
    bytes: () => brokenTrue((v) => v.setUint32(trueSectionHeader(".dynsym") + 40, 1, true)),
    what: /^sh_link 1 does not name a string table$/,
    section: ".dynsym",
    lazy: true,
  },
  {
    name: "a dynamic symbol whose name starts past the end of .dynstr",
    bytes: () => {
      const dynsym = ElfFile.parse(trueBytes).sectionByName(".dynsym")!;
      return brokenTrue((v) => v.setUint32(dynsym.offset + 24, 0x7fff_0000, true));
    },
    what: /^the name of symbol 1 starts past the end of the string table/,
    section: ".dynstr",
    offset: 0x7fff_0000,
    lazy: true,
  },
  {
    name: "a second dynamic symbol table",
    bytes: () => brokenTrue((v) => v.setUint32(trueSectionHeader(".gnu.version") + 4, SHT_DYNSYM, true)),
    what: /^is a second SHT_DYNSYM section$/,
    section: ".gnu.version",
    lazy: true,
  },
];

for (const c of badCases) {
  test(`ElfFile rejects ${c.name}`, () => {
    const bytes = c.bytes();
    let elf: ElfFile | undefined;
    const read = () => {
      elf = ElfFile.parse(bytes, { file: "broken" });
      return elf.dynamicSymbols;
    };
    assert.throws(read, (error: unknown) => {
      assert.ok(isWaggleError(error, "FormatError"), String(error));
      const e = error as FormatError;
      assert.match(e.what, c.what);
      assert.equal(e.file, "broken");
      if (c.section !== undefined) assert.equal(e.section, c.section);
      if (c.offset !== undefined) assert.equal(e.offset, c.offset);
      return true;
    });
    assert.equal(elf !== undefined, c.lazy === true, c.lazy ? "the problem is found on first use" : "the problem is found by parse()");
  });
}

test("ElfFile reads an extended program header count from section 0's sh_info", () => {
  const bytes = brokenTrue((v) => {
    v.setUint16(56, 0xffff, true);
    v.setUint32(trueShoff + 44, truePhnum, true);
  });
  assert.deepEqual(ElfFile.parse(bytes).segments, ElfFile.parse(trueBytes).segments);
});

test("ElfFile.parse() does not read e_phoff when there are no program headers", () => {
  const bytes = brokenTrue((v) => {
    v.setUint16(56, 0, true);
    v.setBigUint64(32, 1n << 63n, true);
  });
  assert.deepEqual(ElfFile.parse(bytes).segments, []);
});

test("ElfFile keeps segment data ranges that run past the end of the file, as separate debug files have", () => {
  const bytes = brokenTrue((v) => v.setBigUint64(truePhoff + 32, BigInt(trueBytes.length * 4), true));
  assert.equal(ElfFile.parse(bytes).segments[0]!.filesz, trueBytes.length * 4);
});

test("ElfFile finds no symbol table of the other kind when one is retyped", () => {
  // /bin/true has no .symtab: retyping .dynsym as SHT_SYMTAB moves its entries to `symbols`.
  const bytes = brokenTrue((v) => v.setUint32(trueSectionHeader(".dynsym") + 4, SHT_SYMTAB, true));
  const elf = ElfFile.parse(bytes);
  assert.deepEqual(elf.dynamicSymbols, []);
  assert.deepEqual(elf.symbols, ElfFile.parse(trueBytes).dynamicSymbols);
});
