/**
 * Shared helpers for the BTF tests: a minimal ELF64 section reader (so these tests do not depend on
 * src/elf), compiling the C sources in test/unit/btf/ with clang at test time, running bpftool, and
 * printing a `Btf` in bpftool's raw dump format so the two can be compared line by line.
 */

import { execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import fc from "fast-check";
import type { Btf, BtfType } from "../../src/btf/index.js";
import { isWaggleError } from "../../src/errors.js";
import { allFixtures, fixtureBytes, repoRoot } from "../helpers/fixtures.js";

/** An ELF section's name and contents. */
export interface Section {
  readonly name: string;
  readonly type: number;
  readonly bytes: Uint8Array;
}

const SHT_NOBITS = 8;

/** The sections of an ELF64 object (either byte order), by name. Only what the BTF tests need. */
export function elfSections(file: Uint8Array): Map<string, Section> {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, false) !== 0x7f454c46 || file[4] !== 2) throw new Error("not an ELF64 file");
  const le = file[5] === 1;
  const shoff = Number(view.getBigUint64(0x28, le));
  const shentsize = view.getUint16(0x3a, le);
  const shnum = view.getUint16(0x3c, le);
  const shstrndx = view.getUint16(0x3e, le);
  const header = (index: number) => {
    const at = shoff + index * shentsize;
    return {
      name: view.getUint32(at, le),
      type: view.getUint32(at + 4, le),
      offset: Number(view.getBigUint64(at + 24, le)),
      size: Number(view.getBigUint64(at + 32, le)),
    };
  };
  const names = header(shstrndx);
  const sections = new Map<string, Section>();
  for (let i = 1; i < shnum; i++) {
    const h = header(i);
    const start = names.offset + h.name;
    const name = new TextDecoder().decode(file.subarray(start, file.indexOf(0, start)));
    const bytes = h.type === SHT_NOBITS ? new Uint8Array(0) : file.subarray(h.offset, h.offset + h.size);
    sections.set(name, { name, type: h.type, bytes });
  }
  return sections;
}

/** A compiled or committed object with its BTF sections. */
export interface BtfObject {
  readonly name: string;
  readonly path: string;
  readonly elf: Map<string, Section>;
  readonly btf: Uint8Array;
  readonly ext: Uint8Array | undefined;
}

/** Whether clang-19 is installed (tests that compile C skip without it). */
export const hasClang = commandExists("clang-19");
/** Whether bpftool is installed. */
export const hasBpftool = existsSync("/usr/sbin/bpftool") || commandExists("bpftool");
/** The kernel's BTF, when readable. */
export const vmlinuxPath = "/sys/kernel/btf/vmlinux";
export const hasVmlinux = readable(vmlinuxPath);

function commandExists(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

const workDir = mkdtempSync(join(tmpdir(), "waggle-btf-"));

/** A scratch file path for this test run. */
export function scratchPath(name: string): string {
  return join(workDir, name);
}

/** The C sources compiled by the BTF tests. */
export const SOURCES = ["kinds", "core"] as const;

/** The path of a test C source in test/unit/btf/. */
export function sourcePath(name: string): string {
  return join(repoRoot, "test", "unit", "btf", `${name}.bpf.c`);
}

/** Compiles a test source with clang (`bpf`, or `bpfeb` for big-endian) and returns the object. */
export function compile(name: string, bigEndian = false): BtfObject {
  const path = scratchPath(`${name}${bigEndian ? ".eb" : ""}.o`);
  if (!existsSync(path)) {
    execFileSync("clang-19", [
      "-target",
      bigEndian ? "bpfeb" : "bpf",
      "-g",
      "-O2",
      "-idirafter",
      "/usr/include/x86_64-linux-gnu",
      "-c",
      sourcePath(name),
      "-o",
      path,
    ]);
  }
  return object(`${name}${bigEndian ? " (bpfeb)" : ""}`, path, new Uint8Array(readFileSync(path)));
}

function object(name: string, path: string, bytes: Uint8Array): BtfObject {
  const elf = elfSections(bytes);
  const btf = elf.get(".BTF");
  if (btf === undefined) throw new Error(`${name} has no .BTF section`);
  return { name, path, elf, btf: btf.bytes, ext: elf.get(".BTF.ext")?.bytes };
}

/** Every object to test against: the test sources in both byte orders, then the committed fixtures with BTF. */
export function testObjects(): BtfObject[] {
  const objects: BtfObject[] = [];
  if (hasClang) for (const name of SOURCES) objects.push(compile(name), compile(name, true));
  for (const name of allFixtures()) {
    const bytes = fixtureBytes(name);
    if (elfSections(bytes).has(".BTF")) objects.push(object(name, join(repoRoot, "fixtures", "obj", `${name}.o`), bytes));
  }
  return objects;
}

/** Runs bpftool and returns its standard output. */
export function bpftool(...args: string[]): string {
  return execFileSync("bpftool", args, { encoding: "utf8", maxBuffer: 1 << 30 });
}

/** Writes bytes to a scratch file and returns its path. */
export function writeScratch(name: string, bytes: Uint8Array): string {
  const path = scratchPath(name);
  writeFileSync(path, bytes);
  return path;
}

/** The lines `bpftool btf dump file X` (raw format) prints for the own types of `btf`. */
export function rawDump(btf: Btf): string[] {
  const lines: string[] = [];
  const name = (text: string) => `'${text === "" ? "(anon)" : text}'`;
  for (const [id, type] of btf) {
    const head = `[${id}] ${type.kind.toUpperCase()} ${name(type.name)}`;
    lines.push(`${head} ${details(type)}`.trimEnd());
    switch (type.kind) {
      case "struct":
      case "union":
        for (const m of type.members) {
          const bitfield = m.bitfieldSize !== 0 ? ` bitfield_size=${m.bitfieldSize}` : "";
          lines.push(`\t${name(m.name)} type_id=${m.type} bits_offset=${m.bitOffset}${bitfield}`);
        }
        break;
      case "enum":
        for (const v of type.values) lines.push(`\t${name(v.name)} val=${v.value}`);
        break;
      case "enum64":
        for (const v of type.values) lines.push(`\t${name(v.name)} val=${v.value}${type.signed ? "LL" : "ULL"}`);
        break;
      case "func_proto":
        for (const p of type.params) lines.push(`\t${name(p.name)} type_id=${p.type}`);
        break;
      case "datasec":
        for (const v of type.vars) {
          const target = btf.type(v.type);
          lines.push(
            `\ttype_id=${v.type} offset=${v.offset} size=${v.size} (${target.kind.toUpperCase()} ${name(target.name)})`,
          );
        }
        break;
      default:
        break;
    }
  }
  return lines;
}

function details(type: BtfType): string {
  switch (type.kind) {
    case "int": {
      const bits = (type.signed ? 1 : 0) | (type.char ? 2 : 0) | (type.bool ? 4 : 0);
      const encoding = ({ 0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL" } as Record<number, string>)[bits] ?? "UNKN";
      return `size=${type.size} bits_offset=${type.bitOffset} nr_bits=${type.bits} encoding=${encoding}`;
    }
    case "ptr":
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
    case "type_tag":
      return `type_id=${type.type}`;
    case "array":
      return `type_id=${type.type} index_type_id=${type.indexType} nr_elems=${type.nelems}`;
    case "struct":
    case "union":
      return `size=${type.size} vlen=${type.members.length}`;
    case "enum":
    case "enum64":
      return `encoding=${type.signed ? "SIGNED" : "UNSIGNED"} size=${type.size} vlen=${type.values.length}`;
    case "fwd":
      return `fwd_kind=${type.union ? "union" : "struct"}`;
    case "func":
      return `type_id=${type.type} linkage=${type.linkage}`;
    case "func_proto":
      return `ret_type_id=${type.returnType} vlen=${type.params.length}`;
    case "var":
      return `type_id=${type.type}, linkage=${type.linkage}`;
    case "datasec":
      return `size=${type.size} vlen=${type.vars.length}`;
    case "float":
      return `size=${type.size}`;
    case "decl_tag":
      return `type_id=${type.type} component_idx=${type.componentIdx}`;
    case "void":
      return "";
  }
}

// ---- mutations for fuzzing BTF blobs

/** One corruption: overwrite a byte or an aligned u32, or cut the blob short. */
export type Mutation =
  | { readonly op: "byte"; readonly at: number; readonly value: number }
  | { readonly op: "u32"; readonly at: number; readonly value: number }
  | { readonly op: "truncate"; readonly at: number };

/** Values that tend to hit limits: zero, ones, sign bits, small counts and ids, kind numbers in place. */
const interestingU32 = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 8, 12, 16, 24, 0xff, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff),
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: 0, max: 31 }).map((kind) => kind << 24),
  fc.integer({ min: 0, max: 31 }).map((kind) => ((kind << 24) | 0xffff) >>> 0),
  fc.nat().map((n) => n >>> 0),
);

export function mutations(length: number): fc.Arbitrary<Mutation[]> {
  const at = fc.nat({ max: length - 1 });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant("u32" as const), at: at.map((n) => n & ~3), value: interestingU32 }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("byte" as const), at, value: fc.nat({ max: 255 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("truncate" as const), at }) },
  );
  return fc.array(mutation, { minLength: 1, maxLength: 6 });
}

export function mutate(bytes: Uint8Array, changes: readonly Mutation[], littleEndian: boolean): Uint8Array {
  let copy = bytes.slice();
  for (const change of changes) {
    if (change.op === "truncate") copy = copy.slice(0, Math.min(change.at, copy.length));
    else if (change.op === "byte" && change.at < copy.length) copy[change.at] = change.value;
    else if (change.op === "u32" && change.at + 4 <= copy.length) {
      new DataView(copy.buffer).setUint32(change.at, change.value, littleEndian);
    }
  }
  return copy;
}

/** Runs `body`; a FormatError is an accepted outcome, anything else fails the property. */
export function onlyFormatErrors(body: () => void): void {
  try {
    body();
  } catch (error) {
    if (isWaggleError(error, "FormatError")) return;
    throw error;
  }
}
