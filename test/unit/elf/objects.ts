/**
 * The objects the ELF tests run on: sources compiled at test time (when the compiler is installed),
 * the committed fixtures, and a hand-built sample written by `writeElf` (always available). Also thin
 * wrappers for the LLVM tools the tests compare against.
 */

import { after } from "node:test";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  EM_BPF,
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_EXCLUDE,
  SHF_EXECINSTR,
  SHF_MERGE,
  SHF_STRINGS,
  SHF_WRITE,
  SHT_LLVM_ADDRSIG,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_SECTION,
  STV_HIDDEN,
  writeElf,
  type ElfWriteInput,
} from "../../../src/elf/index.js";
import { allFixtures, fixtureBytes, fixturePath } from "../../helpers/fixtures.js";
import { testSources } from "./sources.js";

/** An ELF object on disk and in memory. */
export interface TestObject {
  /** A name for test titles. */
  readonly name: string;
  /** Where it is, for the LLVM tools. */
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** The LLVM tools the tests compare against. */
export const READELF = "llvm-readelf-19";
export const OBJDUMP = "llvm-objdump-19";

const toolCache = new Map<string, boolean>();

/** Why `tool` cannot be used here, or undefined when it is installed. */
export function missingTool(tool: string): string | undefined {
  let found = toolCache.get(tool);
  if (found === undefined) {
    found = spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
    toolCache.set(tool, found);
  }
  return found ? undefined : `${tool} is not installed`;
}

/** Runs a tool and returns its output. */
export function run(tool: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(tool, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let scratch: string | undefined;

/** A temporary folder for this test file, removed when its tests end. */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "waggle-elf-"));
    scratch = dir;
    after(() => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** Writes `bytes` to the scratch folder and returns the path. */
export function writeScratch(name: string, bytes: Uint8Array): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, bytes);
  return path;
}

/** The outcome of compiling the test sources: the objects built and, for those not built, why not. */
export interface Compiled {
  readonly objects: TestObject[];
  /** Object name → why it was not built. */
  readonly skipped: ReadonlyMap<string, string>;
}

/** Compiles every test source with every installed compiler, in parallel. */
export async function compileTestObjects(): Promise<Compiled> {
  const dir = scratchDir();
  const skipped = new Map<string, string>();
  const jobs: Promise<TestObject>[] = [];
  for (const source of testSources) {
    const src = join(dir, `${source.name}.c`);
    writeFileSync(src, source.text);
    for (const variant of source.variants) {
      const name = `${source.name}.${variant.name}.o`;
      const reason = missingTool(variant.tool);
      if (reason !== undefined) {
        skipped.set(name, reason);
        continue;
      }
      const path = join(dir, name);
      jobs.push(
        promisify(execFile)(variant.tool, [...variant.args, "-c", src, "-o", path]).then(() => ({
          name,
          path,
          bytes: new Uint8Array(readFileSync(path)),
        })),
      );
    }
  }
  return { objects: await Promise.all(jobs), skipped };
}

/** Every committed fixture object. */
export function fixtureObjects(): TestObject[] {
  return allFixtures().map((name) => ({ name: `fixture ${name}`, path: fixturePath(name), bytes: fixtureBytes(name) }));
}

/** Encodes one eBPF instruction in the given byte order. */
function insn(littleEndian: boolean, code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, code);
  view.setUint8(1, littleEndian ? (src << 4) | dst : (dst << 4) | src);
  view.setInt16(2, off, littleEndian);
  view.setInt32(4, imm, littleEndian);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

/**
 * A hand-built relocatable eBPF object exercising what the writer supports: a subprogram called from a
 * program, a map reference, NOBITS, mergeable strings, RELA with negative and large addends, a section
 * linked by name, symbols of every binding, visibility and reserved section, given globals first.
 */
export function sampleInput(littleEndian: boolean): ElfWriteInput {
  const i = (code: number, dst: number, src: number, off: number, imm: number) => insn(littleEndian, code, dst, src, off, imm);
  const subprogram = concat(i(0xb7, 0, 0, 0, 2), i(0x95, 0, 0, 0, 0)); // r0 = 2; exit
  const program = concat(
    i(0x18, 1, 1, 0, 0), // r1 = map[counts] (ld_imm64, first half)
    i(0x00, 0, 0, 0, 0), // (ld_imm64, second half)
    i(0x85, 0, 1, 0, -1), // call a subprogram (pc-relative, relocated)
    i(0x95, 0, 0, 0, 0), // exit
  );
  return {
    littleEndian,
    machine: EM_BPF,
    sections: [
      { name: ".text", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 8, data: subprogram },
      { name: "xdp", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR, addralign: 8, data: program },
      { name: ".maps", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addralign: 8, data: new Uint8Array(32) },
      { name: ".bss", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, addralign: 8, data: new Uint8Array(0), size: 24 },
      {
        name: ".rodata.str1.1",
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_MERGE | SHF_STRINGS,
        entsize: 1,
        data: new TextEncoder().encode("hi\0there\0"),
      },
      { name: "pointers", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, addralign: 8, data: new Uint8Array(24) },
      { name: "license", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, data: new TextEncoder().encode("GPL\0") },
      { name: ".llvm_addrsig", type: SHT_LLVM_ADDRSIG, flags: SHF_EXCLUDE, link: ".symtab", data: new Uint8Array([4]) },
    ],
    symbols: [
      { name: "xdp_prog", type: STT_FUNC, bind: STB_GLOBAL, section: "xdp", size: program.length },
      { name: "sample.c", type: STT_FILE, bind: STB_LOCAL, section: "ABS" },
      { name: "", type: STT_SECTION, bind: STB_LOCAL, section: 1 },
      { name: "sub", type: STT_FUNC, bind: STB_LOCAL, section: ".text", size: subprogram.length },
      { name: "counts", type: STT_OBJECT, bind: STB_GLOBAL, section: ".maps", size: 32 },
      { name: "buffer", type: STT_OBJECT, bind: STB_GLOBAL, section: ".bss", value: 8, size: 16 },
      { name: "weak_knob", type: STT_OBJECT, bind: STB_WEAK, section: ".bss", size: 8 },
      { name: "hidden_ptr", type: STT_OBJECT, bind: STB_GLOBAL, visibility: STV_HIDDEN, section: "pointers", size: 8 },
      { name: "LICENSE", type: STT_OBJECT, bind: STB_GLOBAL, section: "license", size: 4 },
      { name: "external_fn", type: STT_NOTYPE, bind: STB_GLOBAL, section: "UND" },
      { name: "absolute", type: STT_NOTYPE, bind: STB_GLOBAL, section: "ABS", value: 0x1234 },
      { name: "common_blk", type: STT_OBJECT, bind: STB_GLOBAL, section: "COMMON", value: 8, size: 64 },
    ],
    relocations: [
      {
        section: "xdp",
        rela: false,
        entries: [
          { offset: 16, symbol: 3, type: R_BPF_64_32 }, // the section symbol of .text
          { offset: 0, symbol: "counts", type: R_BPF_64_64 },
        ],
      },
      {
        section: "pointers",
        rela: true,
        entries: [
          { offset: 0, symbol: "buffer", type: R_BPF_64_64, addend: -4 },
          { offset: 8, symbol: "hidden_ptr", type: R_BPF_64_64, addend: 2 ** 40 },
          { offset: 16, symbol: 0, type: R_BPF_64_64, addend: 0 },
        ],
      },
    ],
  };
}

/** The sample object in both byte orders, written to the scratch folder. */
export function sampleObjects(): TestObject[] {
  return [true, false].map((littleEndian) => {
    const name = `sample.${littleEndian ? "bpfel" : "bpfeb"}.o`;
    const bytes = writeElf(sampleInput(littleEndian));
    return { name, path: writeScratch(name, bytes), bytes };
  });
}
