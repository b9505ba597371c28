/**
 * ElfFile.parse() on real objects: clang and gcc eBPF objects of both byte orders, an x86-64 object,
 * the committed fixtures and the writer's sample, checked against llvm-readelf and against what the
 * C sources are known to contain.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ElfFile,
  EM_BPF,
  EM_X86_64,
  ET_REL,
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_NODYLD32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHN_COMMON,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  STB_GLOBAL,
  STB_WEAK,
  STT_FUNC,
  STT_SECTION,
  STV_HIDDEN,
  writeElf,
  type ElfRelocation,
  type ElfSymbol,
} from "../../src/elf/index.js";
import { compileTestObjects, fixtureObjects, missingTool, READELF, sampleInput, sampleObjects, type TestObject } from "./elf/objects.js";
import { readelf, type ReadelfRelocation } from "./elf/readelf.js";

const compiled = await compileTestObjects();
const fixtures = fixtureObjects();
const objects: TestObject[] = [...sampleObjects(), ...compiled.objects, ...fixtures];
const readelfMissing = missingTool(READELF);

/** A compiled object by name, or the reason the test needing it is skipped. */
function compiledObject(name: string): { object?: TestObject; skip?: string } {
  const object = compiled.objects.find((o) => o.name === name);
  return object ? { object } : { skip: compiled.skipped.get(name) ?? `${name} was not built` };
}

for (const reason of new Set(compiled.skipped.values())) {
  test("the ELF test sources compile", { skip: reason }, () => {});
}
if (fixtures.length === 0) test("ElfFile.parse() reads every committed fixture", { skip: "fixtures/obj holds no objects" }, () => {});

// === Agreement with llvm-readelf ===

for (const object of objects) {
  test(`ElfFile.parse() agrees with llvm-readelf on ${object.name}`, { skip: readelfMissing }, () => {
    const elf = ElfFile.parse(object.bytes, { file: object.name });
    const report = readelf(object.path);

    assert.deepEqual(
      elf.sections.map(({ data: _, ...header }) => header),
      report.sections,
    );
    for (const section of elf.sections) {
      if (section.type === SHT_NOBITS) assert.equal(section.data.length, 0);
      else assert.deepEqual(section.data, object.bytes.subarray(section.offset, section.offset + section.size));
    }

    assert.deepEqual(
      elf.symbols.map((s) => ({
        name: s.name === "" && s.type === STT_SECTION ? elf.sections[s.shndx]!.name : s.name,
        value: s.value,
        size: s.size,
        bind: s.bind,
        type: s.type,
        visibility: s.visibility,
        shndx: s.shndx,
      })),
      report.symbols.map((s) => ({
        name: s.name,
        value: s.value,
        size: s.size,
        bind: s.bind,
        type: s.type,
        visibility: s.other & 3,
        shndx: s.shndx,
      })),
    );

    const relocationSections = [...elf.relocationSections.values()].flat().map((s) => s.index);
    assert.deepEqual(relocationSections.sort((a, b) => a - b), [...report.relocations.keys()].sort((a, b) => a - b));
    for (const [target, sections] of elf.relocationSections) {
      const expected = sections
        .flatMap((s) => report.relocations.get(s.index)!)
        .sort((a, b) => a.offset - b.offset);
      assert.deepEqual(elf.relocationsFor(target).map(asReadelf), expected, `relocations for ${elf.sections[target]!.name}`);
    }
  });
}

/** A relocation as llvm-readelf reports it. */
function asReadelf(r: ElfRelocation): ReadelfRelocation {
  const base = { offset: r.offset, type: r.type, symbol: r.symbol };
  return r.hasAddend ? { ...base, addend: BigInt.asUintN(64, BigInt(r.addend)) } : base;
}

// === What the sources are known to contain ===

const clangObject = compiledObject("maps_and_calls.bpfel.o");
test("ElfFile.parse() finds the programs, maps and relocations of a clang eBPF object", { skip: clangObject.skip }, () => {
  const elf = ElfFile.parse(clangObject.object!.bytes);
  assert.equal(elf.littleEndian, true);
  assert.equal(elf.machine, EM_BPF);
  assert.equal(elf.type, ET_REL);

  const xdp = elf.sectionByName("xdp")!;
  assert.equal(xdp.type, SHT_PROGBITS);
  assert.equal(xdp.flags, SHF_ALLOC | SHF_EXECINSTR);
  assert.equal(elf.sectionByName(".maps")!.size, 32);
  assert.equal(new TextDecoder().decode(elf.sectionByName("license")!.data), "GPL\0");

  const symbol = (name: string) => elf.symbols.find((s) => s.name === name)!;
  assert.deepEqual(
    { type: symbol("xdp_prog").type, bind: symbol("xdp_prog").bind, shndx: symbol("xdp_prog").shndx },
    { type: STT_FUNC, bind: STB_GLOBAL, shndx: xdp.index },
  );

  const relocations = elf.relocationsFor(xdp);
  const target = (r: ElfRelocation): ElfSymbol => elf.symbols[r.symbol]!;
  const mapLoads = relocations.filter((r) => r.type === R_BPF_64_64).map((r) => target(r).name);
  assert.deepEqual(mapLoads, ["counts", "gvar"]);
  const calls = relocations.filter((r) => r.type === R_BPF_64_32);
  assert.equal(calls.length, 1);
  assert.equal(target(calls[0]!).type, STT_SECTION);
  assert.equal(target(calls[0]!).shndx, elf.sectionByName(".text")!.index);

  const btf = elf.relocationsFor(elf.sectionByName(".BTF")!);
  assert.ok(btf.some((r) => r.type === R_BPF_64_NODYLD32 && target(r).name === "counts"));
  assert.ok(elf.relocationsFor(xdp.index) === relocations, "relocationsFor() caches by section index");
});

const bigEndianObject = compiledObject("maps_and_calls.bpfeb.o");
test("ElfFile.parse() reads a big-endian object like its little-endian twin", { skip: clangObject.skip ?? bigEndianObject.skip }, () => {
  const little = ElfFile.parse(clangObject.object!.bytes);
  const big = ElfFile.parse(bigEndianObject.object!.bytes);
  assert.equal(big.littleEndian, false);
  const shape = (elf: ElfFile) => ({
    sections: elf.sections.map((s) => [s.name, s.type, s.flags, s.size, s.link, s.info, s.entsize]),
    symbols: elf.symbols.map((s) => [s.name, s.value, s.size, s.type, s.bind, s.shndx]),
    relocations: [...elf.relocationSections.keys()].map((t) => elf.relocationsFor(t)),
  });
  assert.deepEqual(shape(big), shape(little));
  // Code is byte-swapped, strings are not.
  assert.notDeepEqual(big.sectionByName("xdp")!.data, little.sectionByName("xdp")!.data);
  assert.deepEqual(big.sectionByName("license")!.data, little.sectionByName("license")!.data);
});

const gccObject = compiledObject("many_sections.gcc.o");
test("ElfFile.parse() reads a bpf-gcc object with .bss, weak and hidden symbols", { skip: gccObject.skip }, () => {
  const elf = ElfFile.parse(gccObject.object!.bytes);
  const bss = elf.sectionByName(".bss")!;
  assert.equal(bss.type, SHT_NOBITS);
  assert.equal(bss.size, 8);
  assert.equal(bss.data.length, 0);
  assert.equal(elf.sectionByName(".shstrtab")!.index, elf.shstrndx);
  const symbol = (name: string) => elf.symbols.find((s) => s.name === name)!;
  assert.equal(symbol("weak_knob").bind, STB_WEAK);
  assert.equal(symbol("hidden_counter").visibility, STV_HIDDEN);
  assert.equal(symbol("hits").shndx, bss.index);
  assert.equal(elf.sectionByName(".relsocket")!.type, SHT_REL);
});

const hostObject = compiledObject("host_code.x86_64.o");
test("ElfFile.parse() reads SHT_RELA addends and common symbols of an x86-64 object", { skip: hostObject.skip }, () => {
  const elf = ElfFile.parse(hostObject.object!.bytes);
  assert.equal(elf.machine, EM_X86_64);
  const text = elf.sectionByName(".text")!;
  assert.equal(elf.relocationSections.get(text.index)![0]!.type, SHT_RELA);
  const relocations = elf.relocationsFor(text);
  assert.ok(relocations.every((r) => r.hasAddend));
  assert.ok(relocations.some((r) => r.addend === -4));
  const symbol = (name: string) => elf.symbols.find((s) => s.name === name)!;
  assert.equal(symbol("common_var").shndx, SHN_COMMON);
  assert.equal(symbol("external").shndx, SHN_UNDEF);
});

// === Properties of the API ===

test("ElfFile.parse() honours the byteOffset of a view into a larger buffer", () => {
  const bytes = writeElf(sampleInput(true));
  const backing = new Uint8Array(bytes.length + 7);
  backing.set(bytes, 3);
  const view = backing.subarray(3, 3 + bytes.length);
  const elf = ElfFile.parse(view, { file: "view.o" });
  const reference = ElfFile.parse(bytes);
  assert.deepEqual(elf.symbols, reference.symbols);
  assert.deepEqual(elf.relocationsFor(2), reference.relocationsFor(2));
  assert.equal(elf.file, "view.o");
  const text = elf.sectionByName(".text")!;
  assert.equal(text.data.buffer, backing.buffer, "section data is a view, not a copy");
  assert.equal(text.data.byteOffset, 3 + text.offset);
});

test("ElfFile.relocationsFor() merges SHT_REL and SHT_RELA sections of one target, sorted by offset", () => {
  const base = sampleInput(true);
  const elf = ElfFile.parse(
    writeElf({
      ...base,
      relocations: [
        { section: "pointers", rela: true, entries: [{ offset: 16, symbol: "buffer", type: R_BPF_64_64, addend: 8 }] },
        { section: "pointers", rela: false, entries: [{ offset: 8, symbol: "counts", type: R_BPF_64_64 }, { offset: 0, symbol: "counts", type: 2 }] },
        { section: "pointers", rela: true, entries: [{ offset: 8, symbol: "buffer", type: 3, addend: -1 }] },
      ],
    }),
  );
  const pointers = elf.sectionByName("pointers")!;
  assert.equal(elf.relocationSections.get(pointers.index)!.length, 3);
  assert.deepEqual(
    elf.relocationsFor(pointers).map((r) => [r.offset, r.type, r.addend, r.hasAddend]),
    [
      [0, 2, 0, false],
      [8, R_BPF_64_64, 0, false],
      [8, 3, -1, true],
      [16, R_BPF_64_64, 8, true],
    ],
  );
  assert.deepEqual(elf.relocationsFor(elf.sectionByName(".text")!), []);
  assert.deepEqual(elf.relocationsFor(12345), []);
});

test("ElfFile.sectionByName() returns the first section of that name", () => {
  const base = sampleInput(true);
  const elf = ElfFile.parse(
    writeElf({ ...base, sections: [...base.sections, { name: ".text", type: SHT_PROGBITS, data: new Uint8Array(8) }] }),
  );
  assert.equal(elf.sectionByName(".text")!.index, 1);
  assert.equal(elf.sections.filter((s) => s.name === ".text").length, 2);
  assert.equal(elf.sectionByName(".nothing"), undefined);
});

/** Patches the file header and section 0 of a written file to use extended numbering. */
function useExtendedNumbering(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  const shoff = Number(view.getBigUint64(40, true));
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  view.setUint16(60, 0, true);
  view.setUint16(62, SHN_XINDEX, true);
  view.setBigUint64(shoff + 32, BigInt(shnum), true);
  view.setUint32(shoff + 40, shstrndx, true);
  return copy;
}

test("ElfFile.parse() reads the section count and name table index from section 0 (extended numbering)", () => {
  const bytes = writeElf(sampleInput(true));
  const plain = ElfFile.parse(bytes);
  const extended = ElfFile.parse(useExtendedNumbering(bytes));
  assert.deepEqual(
    extended.sections.slice(1).map((s) => s.name),
    plain.sections.slice(1).map((s) => s.name),
  );
  assert.equal(extended.shstrndx, plain.shstrndx);
  assert.equal(extended.sections[0]!.size, plain.sections.length);
  assert.deepEqual(extended.symbols, plain.symbols);
});

test("ElfFile.parse() accepts a file without a section header table or without a symbol table", () => {
  const bytes = writeElf({ ...sampleInput(true), relocations: [] });
  const view = new DataView(bytes.buffer);
  const headerOnly = bytes.slice(0, 64);
  new DataView(headerOnly.buffer).setBigUint64(40, 0n, true);
  new DataView(headerOnly.buffer).setUint32(60, 0, true); // e_shnum and e_shstrndx
  const bare = ElfFile.parse(headerOnly);
  assert.deepEqual([bare.sections, bare.symbols, bare.relocationSections.size], [[], [], 0]);

  const shoff = Number(view.getBigUint64(40, true));
  const noCount = bytes.slice();
  new DataView(noCount.buffer).setUint32(60, 0, true); // e_shnum 0 and section 0's sh_size 0: no sections
  assert.deepEqual(ElfFile.parse(noCount).sections, []);

  const elf = ElfFile.parse(bytes);
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB)!;
  const noSymbols = bytes.slice();
  new DataView(noSymbols.buffer).setUint32(shoff + symtab.index * 64 + 4, SHT_PROGBITS, true);
  assert.deepEqual(ElfFile.parse(noSymbols).symbols, []);
});
