/**
 * Symbolisation from files, without a live process: `elfSymbolAddress()` on libc and on shared objects
 * gcc builds here, and `ProcessSymbols.fromMappings()` with mappings made up here — of libc, the way the
 * loader maps a shared object (the PIE and shared-object path), and of files that are missing, not
 * ELF, truncated, mutated or deleted. Resolving never throws for a bad file: the location says why no
 * symbol is known.
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FormatError, isWaggleError, type SyscallError } from "../../src/errors.js";
import { ElfFile, PF_X, PT_LOAD, SHN_UNDEF, STT_FUNC } from "../../src/elf/index.js";
import { elfSymbolAddress, ProcessSymbols, type ProcessLocation, type ProcMapping } from "../../src/symbols/index.js";
import { missingTool, scratchDir } from "./elf/objects.js";

const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const libcMissing = existsSync(LIBC) ? undefined : `${LIBC} does not exist`;
const gccMissing = missingTool("gcc");
/** Where the made-up mappings start: page-aligned and high, like a shared object's. */
const LOAD_BASE = 0x7f12_3400_0000n;
const PAGE = 0x1000n;
/** This file's scratch folder, removed after its last test (so made before the first). */
const scratch = scratchDir();

/** A shared object gcc builds here from `sources` (file name → C text). */
function sharedObject(name: string, sources: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const files = Object.entries(sources).map(([file, text]) => {
    const path = join(dir, file);
    writeFileSync(path, text);
    return path;
  });
  const output = join(dir, `${name}.so`);
  const result = spawnSync("gcc", ["-O1", "-shared", "-fPIC", "-o", output, ...files], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`gcc failed: ${result.stderr}`);
  return output;
}

/** Writes `bytes` to a fresh scratch file and returns its path. */
function scratchFile(name: string, bytes: Uint8Array | string): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

/** An executable mapping of `path` at `start` from file offset `offset`. */
function mapping(path: string, start: bigint, length: bigint, offset = 0n, deleted = false): ProcMapping {
  return { start, end: start + length, perms: "r-xp", offset, device: "00:00", inode: 0n, path, deleted };
}

/** The mapping the loader makes of `path`'s executable segment when the file is loaded at LOAD_BASE. */
function loadedTextMapping(path: string): ProcMapping {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(path)));
  const text = elf.segments.find((s) => s.type === PT_LOAD && (s.flags & PF_X) !== 0)!;
  const pageStart = BigInt(text.vaddr) & ~(PAGE - 1n);
  const fileStart = BigInt(text.offset) & ~(PAGE - 1n);
  const length = (BigInt(text.vaddr + text.filesz) - pageStart + PAGE - 1n) & ~(PAGE - 1n);
  return mapping(path, LOAD_BASE + pageStart, length, fileStart);
}

// === elfSymbolAddress() ===

test("elfSymbolAddress() finds getpid in libc's dynamic symbols, with its file offset", { skip: libcMissing }, () => {
  const elf = ElfFile.parse(new Uint8Array(readFileSync(LIBC)));
  const expected = elf.dynamicSymbols.find((s) => s.name === "getpid" && s.shndx !== SHN_UNDEF)!;
  const text = elf.segments.find((s) => s.type === PT_LOAD && expected.value >= s.vaddr && expected.value < s.vaddr + s.filesz)!;
  assert.deepEqual(elfSymbolAddress(LIBC, "getpid"), {
    name: "getpid",
    address: BigInt(expected.value),
    size: BigInt(expected.size),
    fileOffset: BigInt(expected.value - text.vaddr + text.offset),
  });
  assert.equal(elfSymbolAddress(LIBC, "waggle_no_such_function"), undefined);
});

test("elfSymbolAddress() finds static functions in .symtab and refuses a name defined at two addresses", { skip: gccMissing }, () => {
  const path = sharedObject("twice", {
    "one.c": "__attribute__((noinline)) static int helper(int x) { return x + 1; }\nint one(int x) { return helper(x); }\n",
    "two.c": "__attribute__((noinline)) static int helper(int x) { return x * 3; }\nint two(int x) { return helper(x); }\n",
  });
  const one = elfSymbolAddress(path, "one")!;
  assert.ok(one.size > 0n);
  const text = ElfFile.parse(new Uint8Array(readFileSync(path))).segments.find((s) => s.type === PT_LOAD && (s.flags & PF_X) !== 0)!;
  assert.equal(one.fileOffset, one.address - BigInt(text.vaddr) + BigInt(text.offset));
  assert.throws(
    () => elfSymbolAddress(path, "helper"),
    (error: unknown) => error instanceof RangeError && /"helper".*2 definitions are at different addresses/.test(error.message),
  );
});

test("elfSymbolAddress() reports unreadable and malformed files", { skip: libcMissing }, () => {
  assert.throws(
    () => elfSymbolAddress("/nonexistent/waggle.so", "f"),
    (error: unknown) => isWaggleError(error, "SyscallError") && error.code === "ENOENT" && error.message.includes("/nonexistent/waggle.so"),
  );
  assert.throws(() => elfSymbolAddress(scratch, "f"), (error: unknown) => isWaggleError(error, "FormatError") && /not a regular file/.test(error.what));
  const truncated = scratchFile("truncated-libc.so", readFileSync(LIBC).subarray(0, 3000));
  assert.throws(() => elfSymbolAddress(truncated, "getpid"), (error: unknown) => isWaggleError(error, "FormatError") && error.file === truncated);
});

// === ProcessSymbols.fromMappings() ===

test("ProcessSymbols resolves libc's functions where the loader would map them, through the segment's offsets", { skip: libcMissing }, () => {
  const text = loadedTextMapping(LIBC);
  const symbols = ProcessSymbols.fromMappings([text]);
  const elf = ElfFile.parse(new Uint8Array(readFileSync(LIBC)));
  const functions = elf.dynamicSymbols.filter((s) => s.type === STT_FUNC && s.shndx !== SHN_UNDEF && s.size > 0);
  const getpid = functions.find((s) => s.name === "getpid")!;
  assert.deepEqual(symbols.resolve(LOAD_BASE + BigInt(getpid.value) + 5n), {
    kind: "symbol",
    address: LOAD_BASE + BigInt(getpid.value),
    name: "getpid",
    offset: 5n,
    file: LIBC,
  });
  // Every function resolves to itself or to an alias at its address.
  const namesAt = new Map<number, Set<string>>();
  for (const f of functions) namesAt.set(f.value, (namesAt.get(f.value) ?? new Set()).add(f.name));
  for (const f of functions) {
    const where = symbols.resolve(LOAD_BASE + BigInt(f.value));
    assert.equal(where?.kind, "symbol", f.name);
    if (where?.kind === "symbol") {
      assert.equal(where.address, LOAD_BASE + BigInt(f.value), f.name);
      assert.ok(namesAt.get(f.value)!.has(where.name), `${where.name} for ${f.name}`);
    }
  }
});

/** Resolves an address in a made-up mapping of `path` and returns the location. */
function resolveIn(path: string, options: { deleted?: boolean; pid?: number } = {}): ProcessLocation | undefined {
  const symbols = ProcessSymbols.fromMappings([mapping(path, LOAD_BASE, PAGE, 0n, options.deleted)], { pid: options.pid });
  return symbols.resolve(LOAD_BASE + 0x10n);
}

/** Asserts that `location` is the mapping of `file` at offset 0x10, with an `unavailable` error that passes `check`. */
function assertUnavailable(location: ProcessLocation | undefined, file: string, check: (error: unknown) => boolean): void {
  assert.equal(location?.kind, "mapping");
  if (location?.kind !== "mapping") return;
  assert.equal(location.file, file);
  assert.equal(location.offset, 0x10n);
  assert.ok(check(location.unavailable), String(location.unavailable));
}

test("ProcessSymbols reports a mapped file that does not exist as an ENOENT SyscallError, without throwing", () => {
  const path = "/nonexistent/libwaggle.so";
  assertUnavailable(resolveIn(path), path, (e) => isWaggleError(e, "SyscallError") && (e as SyscallError).code === "ENOENT");
});

test("ProcessSymbols reports a mapped file that is not ELF, or is a folder, as a FormatError", () => {
  const text = scratchFile("not-elf.so", "#!/bin/sh\necho hello\n");
  assertUnavailable(resolveIn(text), text, (e) => isWaggleError(e, "FormatError") && /bad magic/.test((e as FormatError).what));
  const folder = scratch;
  assertUnavailable(resolveIn(folder), folder, (e) => isWaggleError(e, "FormatError") && /not a regular file/.test((e as FormatError).what));
});

test("ProcessSymbols reports truncated ELF files as FormatErrors naming the file", { skip: libcMissing }, () => {
  const libc = readFileSync(LIBC);
  for (const length of [10, 63, 64, 1000, 0x10000, libc.length - 1]) {
    const path = scratchFile(`libc-cut-${length}.so`, libc.subarray(0, length));
    assertUnavailable(resolveIn(path), path, (e) => isWaggleError(e, "FormatError") && (e as FormatError).file === path);
  }
});

test("ProcessSymbols reports a deleted file of an unknown process as not readable, rather than reading what the path now names", { skip: libcMissing }, () => {
  assertUnavailable(resolveIn(LIBC, { deleted: true }), LIBC, (e) => isWaggleError(e, "NotSupportedError") && /deleted/.test(String(e)));
});

test("ProcessSymbols never throws for mutated ELF files: a location or an unavailable FormatError", () => {
  const original = readFileSync("/bin/true");
  let random = 0x2545f491;
  const next = () => (random = (Math.imul(random, 1103515245) + 12345) >>> 0);
  let failures = 0;
  for (let i = 0; i < 200; i++) {
    const bytes = Uint8Array.from(original);
    for (let flips = 1 + (next() % 8); flips > 0; flips--) bytes[next() % Math.min(bytes.length, 0x1000)] = next() & 0xff;
    const path = scratchFile(`mutated-${i}`, bytes);
    const symbols = ProcessSymbols.fromMappings([mapping(path, LOAD_BASE, 0x10000n)]);
    for (let offset = 0n; offset < 0x10000n; offset += 0x400n) {
      const where = symbols.resolve(LOAD_BASE + offset);
      assert.ok(where !== undefined);
      if (where.kind === "mapping" && where.unavailable !== undefined) {
        assert.ok(isWaggleError(where.unavailable, "FormatError"), String(where.unavailable));
        failures++;
        break;
      }
    }
  }
  assert.ok(failures > 0, "some mutations make the file unreadable");
});

test("ProcessSymbols.fromMappings() ignores mappings that are not executable", { skip: libcMissing }, () => {
  const text = loadedTextMapping(LIBC);
  const symbols = ProcessSymbols.fromMappings([{ ...text, perms: "r--p" }]);
  assert.equal(symbols.resolve(text.start + 0x10n), undefined);
  assert.equal(symbols.mappings.length, 1);
});
