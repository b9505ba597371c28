/**
 * Support for the instruction tests: compiling C with clang-19, reading code sections and symbols out
 * of an ELF object (a minimal reader of our own, independent of src/elf), running llvm-objdump-19 and
 * llvm-mc-19, and the list of objects to check (C compiled here plus the committed fixtures).
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allFixtures, fixturePath, repoRoot } from "../../helpers/fixtures.js";

export const CLANG = "clang-19";
export const OBJDUMP = "llvm-objdump-19";
export const LLVM_MC = "llvm-mc-19";

/** Why the llvm tools cannot be used here, or undefined when they can. */
export const llvmSkipReason: string | undefined = (() => {
  for (const tool of [CLANG, OBJDUMP, LLVM_MC]) {
    const result = spawnSync(tool, ["--version"], { encoding: "utf8" });
    if (result.error !== undefined || result.status !== 0) return `needs ${tool}, which is not installed`;
  }
  return undefined;
})();

/** Runs a tool and returns its stdout; throws with its stderr when it fails. */
export function run(tool: string, args: readonly string[]): string {
  const result = spawnSync(tool, args, { encoding: "utf8", maxBuffer: 1 << 30 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${tool} ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

let scratch: string | undefined;
/** A temporary folder for this test process, removed when it exits. */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "waggle-asm-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return scratch;
}

/** The folder of the C sources compiled by the tests. */
export const cSourceDir = join(repoRoot, "test", "unit", "asm", "c");

/** The C sources compiled by the tests, without `.c`. */
export function cSources(): string[] {
  return readdirSync(cSourceDir)
    .filter((name) => name.endsWith(".c"))
    .map((name) => name.slice(0, -2))
    .sort();
}

export type Cpu = "v1" | "v2" | "v3" | "v4";
export const CPUS: readonly Cpu[] = ["v1", "v2", "v3", "v4"];

/** An object to check: where it is and how it was made. */
export interface TestObject {
  readonly name: string;
  readonly path: string;
  /** The cpu it was compiled for, when known: llvm-objdump names w registers only for alu32 (v3+). */
  readonly cpu?: Cpu;
}

/** Compiles a C source of {@link cSourceDir} with clang-19 and returns the object's path. */
export function compile(source: string, cpu: Cpu, bigEndian = false): TestObject {
  const name = `${source}-${cpu}${bigEndian ? "-eb" : ""}`;
  const path = join(scratchDir(), `${name}.o`);
  run(CLANG, [
    "-target",
    bigEndian ? "bpfeb" : "bpfel",
    "-g",
    "-O2",
    "-idirafter",
    "/usr/include/x86_64-linux-gnu",
    `-mcpu=${cpu}`,
    "-c",
    join(cSourceDir, `${source}.c`),
    "-o",
    path,
  ]);
  return { name, path, cpu };
}

/** Every C source compiled for every cpu and both byte orders. */
export function compiledObjects(): TestObject[] {
  return cSources().flatMap((source) =>
    CPUS.flatMap((cpu) => [compile(source, cpu), compile(source, cpu, true)]),
  );
}

/** The committed fixture objects (none while fixtures/obj is empty). */
export function fixtureObjects(): TestObject[] {
  return allFixtures().map((name) => ({ name: `fixture ${name}`, path: fixturePath(name) }));
}

/** A symbol of a code section. */
export interface CodeSymbol {
  readonly name: string;
  /** Byte offset within the section. */
  readonly offset: number;
}

/** An executable section of an ELF object. */
export interface CodeSection {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  /** Function and label symbols defined in the section, by offset. */
  readonly symbols: readonly CodeSymbol[];
}

const SHF_EXECINSTR = 0x4n;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const STT_NOTYPE = 0;
const STT_FUNC = 2;
const ELFDATA2LSB = 1;

/** The executable sections of an ELF64 object, with their symbols. Trusts its input: test objects only. */
export function codeSections(file: Uint8Array): CodeSection[] {
  const littleEndian = file[5] === ELFDATA2LSB;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const u16 = (at: number) => view.getUint16(at, littleEndian);
  const u32 = (at: number) => view.getUint32(at, littleEndian);
  const u64 = (at: number) => view.getBigUint64(at, littleEndian);
  const sectionTable = Number(u64(0x28));
  const sectionCount = u16(0x3c);
  const names = u16(0x3e);
  const headers = Array.from({ length: sectionCount }, (_, i) => {
    const at = sectionTable + i * 0x40;
    return {
      nameOffset: u32(at),
      type: u32(at + 4),
      flags: u64(at + 8),
      offset: Number(u64(at + 0x18)),
      size: Number(u64(at + 0x20)),
      link: u32(at + 0x28),
    };
  });
  const string = (table: number, offset: number): string => {
    const start = headers[table]!.offset + offset;
    const end = file.indexOf(0, start);
    return new TextDecoder().decode(file.subarray(start, end));
  };
  const symbolsBySection = new Map<number, CodeSymbol[]>();
  for (const symtab of headers.filter((h) => h.type === SHT_SYMTAB)) {
    for (let at = symtab.offset; at < symtab.offset + symtab.size; at += 24) {
      const type = file[at + 4]! & 0xf;
      const section = u16(at + 6);
      const name = string(symtab.link, u32(at));
      if ((type !== STT_FUNC && type !== STT_NOTYPE) || name === "") continue;
      const list = symbolsBySection.get(section) ?? [];
      list.push({ name, offset: Number(u64(at + 8)) });
      symbolsBySection.set(section, list);
    }
  }
  return headers.flatMap((header, index) => {
    if ((header.flags & SHF_EXECINSTR) === 0n || header.type === SHT_NOBITS || header.size === 0) return [];
    return [
      {
        name: string(names, header.nameOffset),
        bytes: file.subarray(header.offset, header.offset + header.size),
        littleEndian,
        symbols: (symbolsBySection.get(index) ?? []).sort((a, b) => a.offset - b.offset),
      },
    ];
  });
}

/** The code sections of an object file. */
export function readCodeSections(path: string): CodeSection[] {
  return codeSections(new Uint8Array(readFileSync(path)));
}

/**
 * llvm-objdump's disassembly of each section, without the header: the lines between
 * `Disassembly of section <name>:` (and the blank line after it) and the next section.
 */
export function objdump(path: string, options: { alu32?: boolean } = {}): Map<string, string[]> {
  const output = run(OBJDUMP, ["-d", "--no-show-raw-insn", ...(options.alu32 ? ["--mattr=+alu32"] : []), path]);
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split("\n")) {
    const header = /^Disassembly of section (.*):$/.exec(line);
    if (header !== null) {
      current = [];
      sections.set(header[1]!, current);
    } else if (current !== undefined) {
      current.push(line);
    }
  }
  for (const lines of sections.values()) {
    while (lines[0] === "") lines.shift();
    while (lines.at(-1) === "") lines.pop();
  }
  return sections;
}

/** Wraps raw instruction bytes in an object file (section `.text`, symbol `prog`) with llvm-mc-19. */
export function objectOfBytes(bytes: Uint8Array, name: string, bigEndian = false): string {
  const lines = [".text", ".globl prog", "prog:"];
  for (let at = 0; at < bytes.length; at += 8) lines.push(`.byte ${Array.from(bytes.subarray(at, at + 8)).join(", ")}`);
  const source = join(scratchDir(), `${name}.s`);
  const object = join(scratchDir(), `${name}.o`);
  writeFileSync(source, lines.join("\n") + "\n");
  run(LLVM_MC, ["-triple", bigEndian ? "bpfeb" : "bpfel", "-mcpu=v4", "-filetype=obj", source, "-o", object]);
  return object;
}

/** Assembles llvm syntax with llvm-mc-19 and returns the bytes of its `.text` section. */
export function llvmAssemble(text: string, name: string): Uint8Array {
  const source = join(scratchDir(), `${name}.s`);
  const object = join(scratchDir(), `${name}.o`);
  writeFileSync(source, `.text\n${text}\n`);
  run(LLVM_MC, ["-triple", "bpfel", "-mcpu=v4", "-filetype=obj", source, "-o", object]);
  return readCodeSections(object).find((section) => section.name === ".text")?.bytes ?? new Uint8Array();
}

/** Collapses runs of whitespace, the only normalisation allowed when comparing with llvm-objdump. */
export function normalizeSpace(line: string): string {
  return line.replace(/\s+/g, " ").trim();
}
