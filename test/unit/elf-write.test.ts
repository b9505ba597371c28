/**
 * writeElf() and elfToWriteInput(): real objects round-trip through parse → input → write → parse,
 * LLVM's tools accept what is written and disassemble it as they did the original, the layout follows
 * the ELF rules, extended numbering kicks in past SHN_LORESERVE sections, and misuse is a RangeError.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ElfFile,
  elfToWriteInput,
  EM_BPF,
  ET_REL,
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_INFO_LINK,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  SHT_SYMTAB_SHNDX,
  STB_GLOBAL,
  STB_LOCAL,
  STT_SECTION,
  writeElf,
  type ElfWriteInput,
} from "../../src/elf/index.js";
import {
  compileTestObjects,
  fixtureObjects,
  missingTool,
  OBJDUMP,
  READELF,
  run,
  sampleInput,
  sampleObjects,
  writeScratch,
  type TestObject,
} from "./elf/objects.js";
import { readelf } from "./elf/readelf.js";

const compiled = await compileTestObjects();
const objects: TestObject[] = [...sampleObjects(), ...compiled.objects, ...fixtureObjects()];
const llvmMissing = missingTool(READELF) ?? missingTool(OBJDUMP);

/** What a round trip must preserve, with section indices replaced by names (the writer renumbers). */
function describe(elf: ElfFile) {
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  const rebuilt = (index: number) => {
    const type = elf.sections[index]!.type;
    return (
      index === 0 ||
      index === elf.shstrndx ||
      index === symtab?.link ||
      [SHT_SYMTAB, SHT_SYMTAB_SHNDX, SHT_REL, SHT_RELA].includes(type)
    );
  };
  const nameOf = (index: number) => (index === SHN_UNDEF || index >= elf.sections.length ? index : elf.sections[index]!.name);
  return {
    header: { littleEndian: elf.littleEndian, type: elf.type, machine: elf.machine, flags: elf.flags, osabi: elf.osabi },
    sections: elf.sections
      .filter((s) => !rebuilt(s.index))
      .map((s) => ({
        name: s.name,
        type: s.type,
        flags: s.flags,
        addralign: s.addralign,
        entsize: s.entsize,
        size: s.size,
        data: s.data,
        link: nameOf(s.link),
        info: s.flags & SHF_INFO_LINK ? nameOf(s.info) : s.info,
      })),
    symbols: elf.symbols.map(({ shndx, ...symbol }) => ({ ...symbol, section: nameOf(shndx) })),
    relocations: [...elf.relocationSections.keys()]
      .sort((a, b) => a - b)
      .map((target) => ({ target: elf.sections[target]!.name, entries: elf.relocationsFor(target) })),
  };
}

/** llvm-objdump's disassembly with relocations, without the line naming the file. */
function disassemble(path: string): string {
  const { status, stdout, stderr } = run(OBJDUMP, ["-dr", path]);
  assert.equal(status, 0, stderr);
  return stdout
    .split("\n")
    .filter((line) => !line.includes(path))
    .join("\n");
}

// === Round trips of real objects ===

for (const object of objects) {
  test(`writeElf(elfToWriteInput()) round-trips ${object.name}`, () => {
    const original = ElfFile.parse(object.bytes, { file: object.name });
    const written = writeElf(elfToWriteInput(original));
    const copy = ElfFile.parse(written, { file: `${object.name} (written)` });
    assert.deepEqual(describe(copy), describe(original));
    assert.deepEqual(writeElf(elfToWriteInput(copy)), written, "writing is deterministic");
  });

  test(`llvm-readelf accepts the rewritten ${object.name} and llvm-objdump disassembles it identically`, { skip: llvmMissing }, () => {
    const written = writeElf(elfToWriteInput(ElfFile.parse(object.bytes)));
    const path = writeScratch(`rewritten-${object.name.replace(/\W/g, "_")}`, written);
    const check = run(READELF, ["-a", path]);
    assert.equal(check.status, 0);
    assert.equal(check.stderr, "", "llvm-readelf prints no warnings");
    assert.equal(disassemble(path), disassemble(object.path));
  });
}

// === Layout rules ===

for (const littleEndian of [true, false]) {
  const order = littleEndian ? "little-endian" : "big-endian";

  test(`writeElf() lays out a ${order} object by the ELF rules`, () => {
    const input = sampleInput(littleEndian);
    const elf = ElfFile.parse(writeElf(input));
    assert.deepEqual([elf.littleEndian, elf.type, elf.machine], [littleEndian, ET_REL, EM_BPF]);
    assert.deepEqual(
      elf.sections.map((s) => s.name),
      ["", ...input.sections.map((s) => s.name), ".rel" + "xdp", ".rela" + "pointers", ".symtab", ".strtab", ".shstrtab"],
    );
    for (const s of elf.sections.slice(1)) {
      if (s.type !== SHT_NOBITS) assert.equal(s.offset % Math.max(1, s.addralign), 0, `${s.name} is aligned`);
    }
    const symtab = elf.sectionByName(".symtab")!;
    const strtab = elf.sectionByName(".strtab")!;
    assert.deepEqual([symtab.type, symtab.entsize, symtab.link], [SHT_SYMTAB, 24, strtab.index]);
    assert.equal(strtab.type, SHT_STRTAB);
    assert.equal(elf.sectionByName(".shstrtab")!.index, elf.shstrndx);
    assert.equal(elf.sectionByName(".llvm_addrsig")!.link, symtab.index, "a link given by name resolves");
    assert.equal(elf.sectionByName(".bss")!.size, 24);

    // Locals first, in input order, then the rest; sh_info is the first non-local.
    const binds = elf.symbols.map((s) => s.bind);
    assert.equal(symtab.info, binds.findIndex((b, i) => i > 0 && b !== STB_LOCAL));
    assert.ok(binds.slice(1, symtab.info).every((b) => b === STB_LOCAL));
    assert.ok(binds.slice(symtab.info).every((b) => b !== STB_LOCAL));
    assert.deepEqual(
      elf.symbols.map((s) => s.name),
      ["", "sample.c", "", "sub", "xdp_prog", "counts", "buffer", "weak_knob", "hidden_ptr", "LICENSE", "external_fn", "absolute", "common_blk"],
    );

    const rel = elf.sectionByName(".relxdp")!;
    assert.deepEqual(
      [rel.type, rel.flags, rel.link, rel.info, rel.entsize],
      [SHT_REL, SHF_INFO_LINK, symtab.index, elf.sectionByName("xdp")!.index, 16],
    );
    const rela = elf.sectionByName(".relapointers")!;
    assert.deepEqual([rela.type, rela.entsize], [SHT_RELA, 24]);

    const symbolOf = (index: number) => elf.symbols[index]!;
    const xdp = elf.relocationsFor(elf.sectionByName("xdp")!);
    assert.deepEqual(xdp.map((r) => [r.offset, r.type, r.hasAddend]), [[0, R_BPF_64_64, false], [16, R_BPF_64_32, false]]);
    assert.equal(symbolOf(xdp[0]!.symbol).name, "counts");
    assert.equal(symbolOf(xdp[1]!.symbol).type, STT_SECTION, "a symbol given by number is renumbered");
    assert.equal(symbolOf(xdp[1]!.symbol).shndx, elf.sectionByName(".text")!.index);
    const pointers = elf.relocationsFor(elf.sectionByName("pointers")!);
    assert.deepEqual(
      pointers.map((r) => [r.offset, symbolOf(r.symbol).name, r.addend, r.hasAddend]),
      [[0, "buffer", -4, true], [8, "hidden_ptr", 2 ** 40, true], [16, "", 0, true]],
    );
  });
}

test("writeElf() uses extended numbering and SHT_SYMTAB_SHNDX past SHN_LORESERVE sections", () => {
  const count = SHN_LORESERVE + 40;
  const input: ElfWriteInput = {
    littleEndian: true,
    machine: EM_BPF,
    sections: Array.from({ length: count }, (_, i) => ({
      name: `s${i}`,
      type: SHT_PROGBITS,
      flags: SHF_ALLOC,
      data: new Uint8Array([i & 0xff]),
    })),
    symbols: [
      { name: "low", bind: STB_GLOBAL, section: 1 },
      { name: "high", bind: STB_GLOBAL, section: count },
      { name: "named", bind: STB_GLOBAL, section: `s${SHN_LORESERVE + 5}` },
    ],
    relocations: [{ section: count, rela: true, entries: [{ offset: 0, symbol: "high", type: R_BPF_64_64, addend: 3 }] }],
  };
  const bytes = writeElf(input);
  const header = new DataView(bytes.buffer, bytes.byteOffset);
  assert.deepEqual([header.getUint16(60, true), header.getUint16(62, true)], [0, SHN_XINDEX], "e_shnum and e_shstrndx");

  const elf = ElfFile.parse(bytes);
  assert.equal(elf.sections.length, count + 6); // null, relocations, .symtab, .symtab_shndx, .strtab, .shstrtab
  assert.equal(elf.sections[0]!.size, elf.sections.length);
  assert.equal(elf.sections[elf.shstrndx]!.name, ".shstrtab");
  assert.equal(elf.sections[count]!.name, `s${count - 1}`);
  const shndx = elf.sectionByName(".symtab_shndx")!;
  assert.deepEqual([shndx.type, shndx.link], [SHT_SYMTAB_SHNDX, elf.sectionByName(".symtab")!.index]);
  assert.deepEqual(
    elf.symbols.slice(1).map((s) => [s.name, s.shndx]),
    [["low", 1], ["high", count], ["named", SHN_LORESERVE + 6]],
  );
  assert.deepEqual(elf.relocationsFor(count).map((r) => [elf.symbols[r.symbol]!.name, r.addend]), [["high", 3]]);

  if (missingTool(READELF) === undefined) {
    const report = readelf(writeScratch("extended.o", bytes), ["-s", "-r"]);
    assert.equal(report.stderr, "");
    assert.deepEqual(
      report.symbols.slice(1).map((s) => [s.name, s.shndx]),
      [["low", 1], ["high", count], ["named", SHN_LORESERVE + 6]],
    );
  }
});

// === Misuse ===

const misuse: { name: string; change: (input: ElfWriteInput) => ElfWriteInput; message: RegExp }[] = [
  {
    name: "a link naming no section",
    change: (i) => ({ ...i, sections: [...i.sections, { name: "x", type: SHT_PROGBITS, link: ".nowhere", data: new Uint8Array(0) }] }),
    message: /link names no section "\.nowhere"/,
  },
  {
    name: "a relocation target naming no section",
    change: (i) => ({ ...i, relocations: [{ section: ".nowhere", rela: false, entries: [] }] }),
    message: /relocation target "\.nowhere" is not one of the/,
  },
  {
    name: "a relocation against an unknown symbol",
    change: (i) => ({ ...i, relocations: [{ section: "xdp", rela: false, entries: [{ offset: 0, symbol: "nobody", type: 1 }] }] }),
    message: /relocation symbol "nobody" does not exist/,
  },
  {
    name: "a relocation against a symbol number past the end",
    change: (i) => ({ ...i, relocations: [{ section: "xdp", rela: false, entries: [{ offset: 0, symbol: 99, type: 1 }] }] }),
    message: /relocation symbol 99 does not exist/,
  },
  {
    name: "an addend in an SHT_REL section",
    change: (i) => ({ ...i, relocations: [{ section: "xdp", rela: false, entries: [{ offset: 0, symbol: 0, type: 1, addend: 4 }] }] }),
    message: /has an addend but the section is SHT_REL/,
  },
  {
    name: "an alignment that is not a power of two",
    change: (i) => ({ ...i, sections: [...i.sections, { name: "odd", type: SHT_PROGBITS, addralign: 12, data: new Uint8Array(0) }] }),
    message: /alignment 12 is not a power of two/,
  },
  {
    name: "an SHT_NOBITS section with data",
    change: (i) => ({ ...i, sections: [...i.sections, { name: ".bss2", type: SHT_NOBITS, data: new Uint8Array(4) }] }),
    message: /is SHT_NOBITS but has data/,
  },
  {
    name: "a section size that differs from its data",
    change: (i) => ({ ...i, sections: [...i.sections, { name: ".data", type: SHT_PROGBITS, size: 8, data: new Uint8Array(4) }] }),
    message: /size 8 differs from its data's length 4/,
  },
  {
    name: "an SHT_SYMTAB section",
    change: (i) => ({ ...i, sections: [...i.sections, { name: ".symtab", type: SHT_SYMTAB, data: new Uint8Array(0) }] }),
    message: /has a type the writer builds itself/,
  },
  {
    name: "a symbol in a section that does not exist",
    change: (i) => ({ ...i, symbols: [{ name: "lost", section: ".nowhere" }], relocations: [] }),
    message: /symbol 0 \("lost"\) names no section/,
  },
  {
    name: "a binding that does not fit in four bits",
    change: (i) => ({ ...i, symbols: [{ name: "big", bind: 16, section: "UND" }], relocations: [] }),
    message: /binding 16 does not fit/,
  },
  {
    name: "a name containing NUL",
    change: (i) => ({ ...i, symbols: [{ name: "a\0b", section: "UND" }], relocations: [] }),
    message: /contains NUL/,
  },
  {
    name: "a machine that does not fit in 16 bits",
    change: (i) => ({ ...i, machine: 0x10000 }),
    message: /machine 65536 does not fit/,
  },
];

for (const { name, change, message } of misuse) {
  test(`writeElf() rejects ${name} with a RangeError`, () => {
    assert.throws(() => writeElf(change(sampleInput(true))), (e: unknown) => e instanceof RangeError && message.test(e.message));
  });
}
