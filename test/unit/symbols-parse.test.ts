/**
 * The symbolisation parsers on text given here: `KernelSymbols.parse()` on kallsyms-like text (sorting,
 * aliases, modules, name lookups, restricted addresses, malformed lines) and `parseProcMaps()` on
 * maps-like text (file, anonymous, kernel and deleted mappings, malformed lines), plus the address table
 * user-space symbols are looked up in (nesting and aliases).
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { FormatError, isWaggleError, NotSupportedError } from "../../src/errors.js";
import { STB_GLOBAL, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_OBJECT, SHN_UNDEF, type ElfSymbol } from "../../src/elf/index.js";
import { KernelSymbols, parseProcMaps } from "../../src/symbols/index.js";
import { AddressTable } from "../../src/symbols/address-table.js";

// === KernelSymbols.parse() ===

const KALLSYMS = [
  "0000000000000000 A fixed_percpu_data",
  "ffffffff81000000 T _text",
  "ffffffff81000000 T srso_alias_untrain_ret",
  "ffffffff81000000 T _stext",
  "ffffffff81000100 t local_helper",
  "ffffffff81000200 T __x64_sys_openat",
  "ffffffff81000200 W sys_openat_alias",
  "ffffffff81000300 D some_data",
  "ffffffffc0a01000 t module_init_fn\t[example]",
  "ffffffffc0a00000 t module_first\t[example]",
  "ffffffffc0b00000 t bpf_prog_6deef7357e7b4530_probe\t[bpf]",
  "ffffffff81000100 t local_helper",
  "",
].join("\n");

test("KernelSymbols.parse() sorts symbols by address, whatever order the modules come in", () => {
  const symbols = KernelSymbols.parse(KALLSYMS, { file: "kallsyms" });
  assert.equal(symbols.size, 12);
  assert.deepEqual(symbols.resolve(0xffffffffc0a00010n), {
    address: 0xffffffffc0a00000n,
    name: "module_first",
    type: "t",
    module: "example",
    offset: 0x10n,
  });
  assert.equal(symbols.resolve(0xffffffffc0a01000n)!.name, "module_init_fn");
  assert.equal(symbols.resolve(0xffffffffc0b00040n)!.module, "bpf");
});

test("KernelSymbols.resolve() returns the nearest symbol at or below the address and the offset past it", () => {
  const symbols = KernelSymbols.parse(KALLSYMS);
  assert.deepEqual(symbols.resolve(0xffffffff81000108n), { address: 0xffffffff81000100n, name: "local_helper", type: "t", offset: 8n });
  assert.equal(symbols.resolve(0xffffffff81000100n)!.offset, 0n);
  assert.equal(symbols.resolve(0xffffffff810002ffn)!.offset, 0xffn);
  assert.equal(symbols.resolve(0xffffffff810002ffn)!.module, undefined);
  assert.equal(symbols.resolve(0xffffffffffffffffn)!.name, "bpf_prog_6deef7357e7b4530_probe");
});

test("KernelSymbols.resolve() prefers the alias with the fewest leading underscores, then the global one", () => {
  const symbols = KernelSymbols.parse(KALLSYMS);
  assert.equal(symbols.resolve(0xffffffff81000004n)!.name, "srso_alias_untrain_ret");
  assert.equal(symbols.resolve(0xffffffff81000204n)!.name, "sys_openat_alias");
  const globalFirst = KernelSymbols.parse("ffffffff81000000 t name_local\nffffffff81000000 T name_global\n");
  assert.equal(globalFirst.resolve(0xffffffff81000000n)!.name, "name_global");
});

test("KernelSymbols.resolve() returns undefined below the first symbol and rejects non-u64 addresses", () => {
  const symbols = KernelSymbols.parse("ffffffff81000000 T _stext\n");
  assert.equal(symbols.resolve(0xffffffff80ffffffn), undefined);
  assert.equal(KernelSymbols.parse("").resolve(0xffffffff81000000n), undefined);
  assert.throws(() => symbols.resolve(-1n), RangeError);
  assert.throws(() => symbols.resolve(1n << 64n), RangeError);
});

test("KernelSymbols.lookup() lists every symbol of a name in address order", () => {
  const symbols = KernelSymbols.parse(KALLSYMS);
  assert.deepEqual(symbols.lookup("_stext"), [{ address: 0xffffffff81000000n, name: "_stext", type: "T" }]);
  assert.deepEqual(
    symbols.lookup("local_helper").map((s) => s.address),
    [0xffffffff81000100n, 0xffffffff81000100n],
  );
  assert.deepEqual(symbols.lookup("module_init_fn")[0]!.module, "example");
  assert.deepEqual(symbols.lookup("no_such_symbol"), []);
});

test("KernelSymbols.parse() accepts the file's bytes, a last line without a newline, and short addresses", () => {
  const symbols = KernelSymbols.parse(new TextEncoder().encode("ffffffff81000000 T _stext\n1000 t low"));
  assert.equal(symbols.size, 2);
  assert.equal(symbols.resolve(0x1004n)!.name, "low");
});

test("KernelSymbols.parse() reports addresses hidden by kptr_restrict as a NotSupportedError", () => {
  const hidden = "0000000000000000 T _stext\n0000000000000000 t do_sys_openat2\n";
  assert.throws(
    () => KernelSymbols.parse(hidden, { file: "/proc/kallsyms" }),
    (error: unknown) => {
      assert.ok(isWaggleError(error, "NotSupportedError"));
      assert.equal((error as NotSupportedError).feature, "reading kernel symbol addresses");
      assert.match((error as Error).message, /kptr_restrict/);
      assert.match((error as Error).message, /CAP_SYSLOG/);
      return true;
    },
  );
});

const badKallsyms: { name: string; text: string; line: number; offset: number; what: RegExp }[] = [
  { name: "a line without an address", text: "ffffffff81000000 T a\n T b\n", line: 2, offset: 21, what: /does not start with a hexadecimal address/ },
  { name: "a non-hexadecimal address", text: "ffffffff8100000g T a\n", line: 1, offset: 0, what: /does not start with a hexadecimal address/ },
  { name: "an uppercase hexadecimal address", text: "FFFFFFFF81000000 T a\n", line: 1, offset: 0, what: /does not start with a hexadecimal address/ },
  { name: "an address of 17 digits", text: "1ffffffff81000000 T a\n", line: 1, offset: 0, what: /1 to 16 digits/ },
  { name: "a missing name", text: "ffffffff81000000 T\n", line: 1, offset: 0, what: /one-letter type and a name/ },
  { name: "a two-letter type", text: "ffffffff81000000 TT a\n", line: 1, offset: 0, what: /one-letter type and a name/ },
  { name: "an empty name before a module", text: "ffffffff81000000 T \t[m]\n", line: 1, offset: 0, what: /empty name/ },
  { name: "an unclosed module", text: "ffffffff81000000 T a\t[m\n", line: 1, offset: 0, what: /not a \[module\]/ },
  { name: "an empty module field", text: "ffffffff81000000 T a\t[]\n", line: 1, offset: 0, what: /not a \[module\]/ },
  { name: "an empty line", text: "ffffffff81000000 T a\n\nffffffff81000001 T b\n", line: 2, offset: 21, what: /does not start/ },
  { name: "binary garbage", text: "\u0000\u00ff\u0001garbage\n", line: 1, offset: 0, what: /does not start/ },
];

for (const c of badKallsyms) {
  test(`KernelSymbols.parse() rejects ${c.name} with a FormatError naming the line`, () => {
    assert.throws(
      () => KernelSymbols.parse(c.text, { file: "kallsyms" }),
      (error: unknown) => {
        assert.ok(isWaggleError(error, "FormatError"), String(error));
        const e = error as FormatError;
        assert.equal(e.format, "kallsyms");
        assert.equal(e.file, "kallsyms");
        assert.equal(e.offset, c.offset);
        assert.match(e.what, new RegExp(`^line ${c.line} `));
        assert.match(e.what, c.what);
        return true;
      },
    );
  });
}

// === parseProcMaps() ===

const MAPS = [
  "55d95aabd000-55d95aabf000 r--p 00000000 fe:00 260386                     /usr/bin/head",
  "55d95aabf000-55d95aac5000 r-xp 00002000 fe:00 260386                     /usr/bin/head",
  "7f1ecb115000-7f1ecb118000 rw-p 00000000 00:00 0 ",
  "7f1ecb200000-7f1ecb201000 r-xp 00001000 103:02 18446744073709551615     /tmp/with space/lib.so (deleted)",
  "7ffd4a1f2000-7ffd4a1f4000 r-xp 00000000 00:00 0                          [vdso]",
  "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
  "",
].join("\n");

test("parseProcMaps() reads file, anonymous, kernel and deleted mappings", () => {
  const mappings = parseProcMaps(MAPS, { file: "maps" });
  assert.equal(mappings.length, 6);
  assert.deepEqual(mappings[1], {
    start: 0x55d95aabf000n,
    end: 0x55d95aac5000n,
    perms: "r-xp",
    offset: 0x2000n,
    device: "fe:00",
    inode: 260386n,
    path: "/usr/bin/head",
    deleted: false,
  });
  assert.equal(mappings[2]!.path, "");
  assert.equal(mappings[2]!.deleted, false);
  assert.deepEqual(
    { path: mappings[3]!.path, deleted: mappings[3]!.deleted, inode: mappings[3]!.inode, device: mappings[3]!.device },
    { path: "/tmp/with space/lib.so", deleted: true, inode: (1n << 64n) - 1n, device: "103:02" },
  );
  assert.equal(mappings[4]!.path, "[vdso]");
  assert.equal(mappings[5]!.start, 0xffffffffff600000n);
  assert.deepEqual(parseProcMaps(""), []);
});

const badMaps: { name: string; text: string; line: number; offset: number; what: RegExp }[] = [
  { name: "a line without a range", text: "garbage\n", line: 1, offset: 0, what: /is not "start-end perms/ },
  { name: "bad permissions", text: "1000-2000 rwzp 00000000 00:00 0\n", line: 1, offset: 0, what: /is not "start-end perms/ },
  { name: "a missing inode", text: "1000-2000 r-xp 00000000 00:00\n", line: 1, offset: 0, what: /is not/ },
  { name: "an empty line between mappings", text: "1000-2000 r-xp 00000000 00:00 0\n\n2000-3000 r-xp 00000000 00:00 0\n", line: 2, offset: 32, what: /is not/ },
  { name: "a range that ends before it starts", text: "1000-2000 r-xp 00000000 00:00 0\n3000-2000 r-xp 00000000 00:00 0\n", line: 2, offset: 32, what: /ends at or before it starts/ },
];

for (const c of badMaps) {
  test(`parseProcMaps() rejects ${c.name} with a FormatError naming the line`, () => {
    assert.throws(
      () => parseProcMaps(c.text, { file: "/proc/1/maps" }),
      (error: unknown) => {
        assert.ok(isWaggleError(error, "FormatError"), String(error));
        const e = error as FormatError;
        assert.equal(e.file, "/proc/1/maps");
        assert.equal(e.offset, c.offset);
        assert.match(e.what, new RegExp(`^line ${c.line} `));
        assert.match(e.what, c.what);
        return true;
      },
    );
  });
}

// === The address table of one file ===

/** A defined symbol for the table tests. */
function symbol(name: string, value: number, size: number, type = STT_FUNC, bind = STB_GLOBAL): ElfSymbol {
  return { index: 0, name, value, size, type, bind, visibility: 0, shndx: 1 };
}

test("AddressTable finds the symbol that covers an address, and none in gaps or past the end", () => {
  const table = AddressTable.fromSymbols([symbol("b", 0x2000, 0x10), symbol("a", 0x1000, 0x100)]);
  const at = (address: number) => {
    const index = table.find(address);
    return index < 0 ? undefined : { name: table.name(index), start: table.start(index) };
  };
  assert.deepEqual(at(0x1000), { name: "a", start: 0x1000 });
  assert.deepEqual(at(0x10ff), { name: "a", start: 0x1000 });
  assert.equal(at(0x1100), undefined);
  assert.equal(at(0xfff), undefined);
  assert.deepEqual(at(0x200f), { name: "b", start: 0x2000 });
  assert.equal(at(0x2010), undefined);
});

test("AddressTable returns the innermost of nested symbols, and the outer one past the inner one's end", () => {
  const table = AddressTable.fromSymbols([symbol("outer", 0x1000, 0x1000), symbol("inner", 0x1100, 0x10), symbol("next", 0x3000, 8)]);
  const name = (address: number) => table.name(table.find(address));
  assert.equal(name(0x1050), "outer");
  assert.equal(name(0x1108), "inner");
  assert.equal(name(0x1110), "outer");
  assert.equal(name(0x1fff), "outer");
  assert.equal(table.find(0x2000), -1);
});

test("AddressTable prefers functions, then fewer leading underscores, then stronger bindings among aliases", () => {
  const pick = (...symbols: ElfSymbol[]) => {
    const table = AddressTable.fromSymbols(symbols);
    return table.name(table.find(symbols[0]!.value));
  };
  assert.equal(pick(symbol("__getpid", 0x10, 8), symbol("getpid", 0x10, 8, STT_FUNC, STB_WEAK)), "getpid");
  assert.equal(pick(symbol("getpid", 0x10, 8, STT_FUNC, STB_WEAK), symbol("__getpid", 0x10, 8)), "getpid");
  assert.equal(pick(symbol("object", 0x10, 8, STT_OBJECT), symbol("__function", 0x10, 8)), "__function");
  assert.equal(pick(symbol("f", 0x10, 8, STT_FUNC, STB_LOCAL), symbol("g", 0x10, 8, STT_FUNC, STB_GLOBAL)), "g");
  // An alias that does not reach the address gives way to one that does.
  assert.equal(pick(symbol("short", 0x10, 1), symbol("__long", 0x10, 4)), "short");
  const table = AddressTable.fromSymbols([symbol("short", 0x10, 1), symbol("__long", 0x10, 4)]);
  assert.equal(table.name(table.find(0x12)), "__long");
});

test("AddressTable leaves out undefined, sizeless, untyped and absolute symbols", () => {
  const table = AddressTable.fromSymbols([
    { ...symbol("undefined", 0x10, 8), shndx: SHN_UNDEF },
    symbol("sizeless", 0x20, 0),
    symbol("untyped", 0x30, 8, STT_NOTYPE),
    { ...symbol("absolute", 0x40, 8), shndx: 0xfff1 },
    symbol("kept", 0x50, 8),
  ]);
  assert.equal(table.size, 1);
  assert.equal(table.name(table.find(0x50)), "kept");
});
