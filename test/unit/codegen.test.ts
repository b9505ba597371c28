/**
 * emitTypeScript(): TypeScript declarations for BTF types. Checked three ways: the emitted module passes the
 * TypeScript compiler (a real program, strict, not just a transpile); values btfCodec decodes are assignable
 * to the emitted types, and values of another shape are not; and the text names each C type, offset and
 * size. Run on C compiled here by clang-19, on built BTF with shapes clang does not emit, and on vmlinux.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import fc from "fast-check";
import ts from "typescript";

import { Btf, type BtfType, type TypeId } from "../../src/btf/index.js";
import { btfCodec, type BtfValue } from "../../src/codec/index.js";
import { emitTypeScript } from "../../src/codegen/index.js";
import { isWaggleError } from "../../src/errors.js";
import { compile, elfSections, hasClang, hasVmlinux, scratchPath, vmlinuxPath } from "./btf-helpers.js";

const noClang = hasClang ? false : "needs clang-19";
const noVmlinux = hasVmlinux ? false : `needs a readable ${vmlinuxPath}`;

/** Every shape btfCodec maps differently, compiled at test time. */
const C_SOURCE = String.raw`
typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef __u8 u8;
typedef __u32 u32;                       /* a typedef chain: u32 -> __u32 -> unsigned int */
typedef __u64 u64;
typedef u32 pid_type;
typedef _Bool bool;
typedef char name_t[16];                 /* a typedef of a char array */
typedef int (*binop)(int, int);          /* a typedef of a function pointer */
typedef int handler_fn(int);             /* a typedef of a function prototype */

enum color { RED, GREEN = 5, BLUE };                      /* unsigned 4-byte enum */
enum delta { DOWN = -1, FLAT = 0, UP = 1 };               /* signed enum */
enum small : unsigned char { TINY = 1, MAX_TINY = 255 };  /* 1-byte enum */
enum big : long long { HUGE = 0x100000000LL, NEG = -2 };  /* ENUM64, signed */
enum ubig : unsigned long long { UHUGE = 0xffffffffffffffffULL };

struct inner { u32 a; u64 b; };

struct flags {
	unsigned int a: 1;
	unsigned int b: 3;
	int c: 5;
	unsigned long long wide: 40;
	char after;
	bool on: 1;                          /* a bool bitfield decodes as a number */
	enum color tint: 4;
	short s: 7;
};

union number {
	int i;
	float f;
	double d;
	u64 raw;
	struct inner in;
};

struct opaque;                           /* only ever a forward declaration */

typedef struct same { int x; } same;     /* a typedef of a struct of the same name */
typedef struct { int counter; } atomic_type;
typedef union { u32 word; u8 bytes[4]; } word_t;
typedef enum { MODE_A = 1, MODE_B = 2 } mode_t;

struct dup { int d; };                   /* struct dup and typedef dup are different C types */
typedef long dup;

/* Names TypeScript reserves. */
struct class { int new; int delete; int function; };
typedef int string;
struct Uint8Array { char yield; };
enum number_kind { any = 1, never = 2 };
typedef struct class object;

struct record {
	u32 pid;
	pid_type tgid;
	name_t comm;
	char name[8];
	unsigned char raw[4];
	signed char sbytes[3];
	u8 mac[6];
	bool flag;
	bool flags4[4];
	int matrix[3][4];
	char names[2][8];
	struct inner inners[2];
	struct { int x; int y; } point;      /* anonymous struct member, inlined */
	struct { short lo, hi; } pairs[2];   /* array of an anonymous struct */
	union {                              /* anonymous union: its members merge into record */
		u64 as_u64;
		struct {                         /* anonymous struct in the anonymous union */
			u32 lo32;
			u32 hi32;
		};
	};
	union { int ival; float fval; } either;
	struct flags bits;
	union number num;
	enum color color;
	enum delta delta;
	enum small small;
	enum big big;
	enum ubig ubig;
	enum { ANON_A, ANON_B } anon_enum;
	mode_t mode;
	const volatile u32 cv;
	struct record *next;
	const char *text;
	void *any_ptr;
	binop op;
	void (*callbacks[2])(int);
	struct opaque *opaque;
	float ratio;
	double precise;
	__int128 huge;
	unsigned __int128 uhuge;
	same s;
	atomic_type refs;
	word_t w;
	struct dup dd;
	dup dl;
	struct class cls;
	object obj;
	string str;
	struct Uint8Array u8a;
	enum number_kind nk;
	struct {} nothing;
	char tail[];
};

struct record record_value;
int counter = 0;
const volatile u64 config = 7;
u32 initialized = 42;
handler_fn *handler_ptr;

#define SEC(name) __attribute__((section(name), used))
SEC("xdp") int entry(void *ctx)
{
	return counter + (int)config + initialized + record_value.pid;
}
char _license[] SEC("license") = "GPL";
`;

const compiled = new Map<boolean, Btf>();

/** The test source compiled by clang-19 for `bpf` (or `bpfeb`), as parsed BTF. */
function compileSource(bigEndian = false): Btf {
  let btf = compiled.get(bigEndian);
  if (btf === undefined) {
    const source = scratchPath("codegen.bpf.c");
    const object = scratchPath(`codegen${bigEndian ? ".eb" : ""}.o`);
    writeFileSync(source, C_SOURCE);
    const target = bigEndian ? "bpfeb" : "bpf";
    execFileSync("clang-19", ["-target", target, "-g", "-O2", "-idirafter", "/usr/include/x86_64-linux-gnu", "-c", source, "-o", object]);
    const section = elfSections(new Uint8Array(readFileSync(object))).get(".BTF");
    assert.ok(section, "clang emitted no .BTF");
    btf = Btf.parse(section.bytes, { file: object });
    compiled.set(bigEndian, btf);
  }
  return btf;
}

// === Type-checking in memory ===

/** Where the in-memory modules live; nothing is written there. */
const VIRTUAL_DIR = "/waggle-codegen-test";

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  exactOptionalPropertyTypes: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ["lib.es2022.d.ts"],
  types: [],
  noEmit: true,
};

/** The default library files, parsed once for every program. */
const libraryFiles = new Map<string, ts.SourceFile | undefined>();

/**
 * Type-checks in-memory modules (`name` → source, imported as `./name.js`) as one program and returns its
 * diagnostics as `file:line: message`.
 */
function typeCheck(modules: Readonly<Record<string, string>>): string[] {
  const files = new Map(Object.entries(modules).map(([name, text]) => [`${VIRTUAL_DIR}/${name}.ts`, text]));
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  host.getSourceFile = (fileName, languageVersion, onError) => {
    const text = files.get(fileName);
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
    if (!libraryFiles.has(fileName)) libraryFiles.set(fileName, getSourceFile.call(host, fileName, languageVersion, onError));
    return libraryFiles.get(fileName);
  };
  host.fileExists = (fileName) => files.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => files.get(fileName) ?? readFile.call(host, fileName);
  host.directoryExists = (dir) => dir === VIRTUAL_DIR || (directoryExists?.call(host, dir) ?? false);
  const program = ts.createProgram([...files.keys()], COMPILER_OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (d.file === undefined || d.start === undefined) return message;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName.slice(VIRTUAL_DIR.length + 1, -".ts".length)}:${line + 1}: ${message}`;
  });
}

// === Decoded values as TypeScript literals ===

/** A TypeScript expression for a decoded value: `123n` for a bigint, `new Uint8Array([…])` for bytes. */
function literal(value: BtfValue): string {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (value === Infinity || value === -Infinity) return value > 0 ? "Infinity" : "-Infinity";
    return Object.is(value, -0) ? "-0" : String(value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Uint8Array) return `new Uint8Array([${value.join(", ")}])`;
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  return `{ ${Object.entries(value).map(([key, v]) => `${JSON.stringify(key)}: ${literal(v)}`).join(", ")} }`;
}

/** Bytes from a fixed seed (xorshift32), so every run decodes the same values. */
function pseudoRandomBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** What btfCodec decodes from pseudo-random bytes for the type `id`. */
function decodeSample(btf: Btf, id: TypeId, seed: number): BtfValue {
  const codec = btfCodec(btf, id);
  const bytes = pseudoRandomBytes(codec.size, seed);
  return codec.decode(new DataView(bytes.buffer), 0);
}

/** The name of the root a single-root module declares: it is declared last. */
function rootName(source: string): string {
  const names = [...source.matchAll(/^export (?:interface|type) ([A-Za-z0-9_$]+)/gm)].map((m) => m[1]!);
  assert.ok(names.length > 0, "no declaration emitted");
  return names.at(-1)!;
}

const NO_STORAGE = new Set<BtfType["kind"]>(["void", "fwd", "func", "func_proto", "decl_tag"]);

/**
 * Checks that what btfCodec decodes for each root is assignable to the emitted type: one module per root
 * (`emitTypeScript(btf, [id])`) and one module assigning a literal of a decoded value to each. Returns how
 * many values were checked.
 */
function assertDecodedValuesTypeCheck(btf: Btf, roots: readonly TypeId[]): number {
  const modules: Record<string, string> = {};
  const values: string[] = [];
  roots.forEach((id, index) => {
    const source = emitTypeScript(btf, [id]);
    modules[`types${index}`] = source;
    if (NO_STORAGE.has(btf.type(btf.resolve(id)).kind)) return;
    values.push(`import type * as t${index} from "./types${index}.js";`);
    values.push(`export const v${index}: t${index}.${rootName(source)} = ${literal(decodeSample(btf, id, id * 7919))};`);
  });
  modules["values"] = values.join("\n");
  assert.deepEqual(typeCheck(modules), []);
  return values.length / 2;
}

/** The ids of every named type of the kinds emitTypeScript declares. */
function namedDeclarations(btf: Btf): TypeId[] {
  const kinds = new Set<BtfType["kind"]>(["struct", "union", "enum", "enum64", "typedef", "fwd", "datasec", "var", "func"]);
  const ids: TypeId[] = [];
  for (const [id, type] of btf) if (kinds.has(type.kind) && type.name !== "") ids.push(id);
  return ids;
}

/** A copy of `btf` whose DATASECs have their sizes filled in, as a loader does, so that btfCodec accepts them. */
function withDatasecSizes(btf: Btf): Btf {
  const copy = Btf.parse(btfBytes(btf), { file: btf.file });
  for (const [id, type] of copy) {
    if (type.kind !== "datasec") continue;
    const size = Math.max(0, ...type.vars.map((v) => v.offset + v.size));
    copy.set(id, { ...type, size });
  }
  return copy;
}

/** The raw BTF a compiled test object was parsed from. */
function btfBytes(btf: Btf): Uint8Array {
  const section = elfSections(new Uint8Array(readFileSync(btf.file!))).get(".BTF")!;
  return section.bytes;
}

/** Asserts that `text` contains each of `parts`, naming the first one missing. */
function assertIncludes(text: string, parts: readonly string[]): void {
  for (const part of parts) assert.ok(text.includes(part), `missing from the output:\n${part}\n--- output ---\n${text}`);
}

// === Tests ===

describe("emitTypeScript() on C compiled by clang-19", { skip: noClang }, () => {
  test("declares every named type of an object in a module that type-checks", (t) => {
    const btf = compileSource();
    const roots = namedDeclarations(btf);
    const source = emitTypeScript(btf, roots, { codecs: true, header: "codegen.bpf.c" });
    assert.deepEqual(typeCheck({ types: source }), []);
    t.diagnostic(`${roots.length} roots, ${source.length} characters`);
  });

  test("maps each C shape to the type btfCodec decodes it to", () => {
    const source = emitTypeScript(compileSource(), ["record"]);
    assertIncludes(source, [
      "/** @generated from btf: struct record (size 432) */\nexport interface record {",
      "  /** u32 at offset 0 */\n  pid: u32;",
      "  /** pid_type at offset 4 */\n  tgid: pid_type;",
      "/** @generated from btf: typedef char name_t[16] (size 16) */\nexport type name_t = string;",
      "  /** name_t at offset 8 */\n  comm: name_t;",
      "  /** char[8] at offset 24 */\n  name: string;",
      "  /** unsigned char[4] at offset 32 */\n  raw: Uint8Array;",
      "  /** signed char[3] at offset 36 */\n  sbytes: Uint8Array;",
      "  /** u8[6] at offset 39 */\n  mac: Uint8Array;",
      "export type bool = boolean;",
      "  flag: bool;",
      "  /** bool[4] at offset 46 */\n  flags4: bool[];",
      "  /** int[3][4] at offset 52 */\n  matrix: number[][];",
      "  /** char[2][8] at offset 100 */\n  names: string[];",
      "  /** struct inner[2] at offset 120 */\n  inners: inner[];",
      "  /** struct {…} at offset 152 */\n  point: {\n    /** int at offset 0 */\n    x: number;\n    /** int at offset 4 */\n    y: number;\n  };",
      "  pairs: {\n    /** short at offset 0 */\n    lo: number;\n    /** short at offset 2 */\n    hi: number;\n  }[];",
      "  /** u64 at offset 168, in an anonymous union at offset 168 */\n  as_u64: u64;",
      "  /** u32 at offset 168, in an anonymous struct at offset 168 */\n  lo32: u32;",
      "  /** u32 at offset 172, in an anonymous struct at offset 168 */\n  hi32: u32;",
      "  /** union {…} at offset 176: every member is decoded; encode one */\n  either: {\n    /** int at offset 0 */\n    ival: number;\n    /** float at offset 0 */\n    fval: number;\n  };",
      "  /** struct flags at offset 184 */\n  bits: flags;",
      "  /** union number at offset 200: every member is decoded; encode one */\n  num: number_;",
      "  color: color;",
      "  delta: delta;",
      "  small: small;",
      "  big: big;",
      "  ubig: ubig;",
      "  /** enum {…} at offset 248 */\n  anon_enum: number;",
      "  mode: mode_t;",
      "  /** volatile const u32 at offset 256 */\n  cv: u32;",
      "  /** struct record * at offset 264 (the address of struct record) */\n  next: bigint;",
      "  /** const char * at offset 272 (the address of const char) */\n  text: bigint;",
      "  /** void * at offset 280 (an address) */\n  any_ptr: bigint;",
      "  /** binop at offset 288 (the address of a function) */\n  op: binop;",
      "export type binop = bigint;",
      "  /** void (*[2])(int) at offset 296 */\n  callbacks: bigint[];",
      "  /** struct opaque * at offset 312 (the address of struct opaque) */\n  opaque: bigint;",
      "  /** float at offset 320 */\n  ratio: number;",
      "  /** double at offset 328 */\n  precise: number;",
      "  /** __int128 at offset 336 */\n  huge: Uint8Array;",
      "  /** unsigned __int128 at offset 352 */\n  uhuge: Uint8Array;",
      "  /** same at offset 368 */\n  s: same;",
      "  refs: atomic_type;",
      "  w: word_t;",
      "  /** struct {…} at offset 428 */\n  nothing: {};",
      "  /** char[0] at offset 428 */\n  tail: string;",
    ]);
    // Pointees are named in comments, not declared.
    assert.doesNotMatch(source, /export \w+ opaque\b/);
  });

  test("maps bitfields, unions and enums as btfCodec does", () => {
    const source = emitTypeScript(compileSource(), ["flags", "number", "color", "delta", "small", "big", "ubig", "mode_t"]);
    assertIncludes(source, [
      "  /** unsigned int, 1 bit at bit offset 0 */\n  a: number;",
      "  /** int, 5 bits at bit offset 4 */\n  c: number;",
      "  /** unsigned long long, 40 bits at bit offset 9 */\n  wide: bigint;",
      "  /** char at offset 7 */\n  after: number;",
      "  /** bool, 1 bit at bit offset 64 */\n  on: number;",
      "  /** enum color, 4 bits at bit offset 65 */\n  tint: number;",
      "/**\n * @generated from btf: union number (size 16)\n *\n * A union: btfCodec decodes every member",
      "export interface number_ {\n  /** int at offset 0 */\n  i: number;\n  /** float at offset 0 */\n  f: number;",
      "  /** struct inner at offset 0 */\n  in: inner;",
      "/** @generated from btf: enum color (size 4, unsigned) */\nexport type color = number;\n" +
        "/** The enumerators of enum color. */\nexport const color = {\n  RED: 0,\n  GREEN: 5,\n  BLUE: 6,\n} as const;",
      "export const delta = {\n  DOWN: -1,\n  FLAT: 0,\n  UP: 1,\n} as const;",
      "/** @generated from btf: enum small (size 1, unsigned) */\nexport type small = number;",
      "/** @generated from btf: enum big (size 8, signed) */\nexport type big = bigint;",
      "export const big = {\n  HUGE: 4294967296n,\n  NEG: -2n,\n} as const;",
      "export const ubig = {\n  UHUGE: 18446744073709551615n,\n} as const;",
      "/** @generated from btf: typedef enum {…} mode_t (size 4) */\nexport type mode_t = number;",
      "export const mode_t = {\n  MODE_A: 1,\n  MODE_B: 2,\n} as const;",
    ]);
  });

  test("emits each named type once, after the types it holds by value", () => {
    const source = emitTypeScript(compileSource(), ["record", "flags", "u32"]);
    const names = [...source.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]!);
    assert.equal(new Set(names).size, names.length, `declared twice: ${names.join(", ")}`);
    const position = (name: string) => names.indexOf(name);
    for (const [before, after] of [
      ["__u32", "u32"],
      ["u32", "pid_type"],
      ["pid_type", "record"],
      ["name_t", "record"],
      ["inner", "record"],
      ["flags", "record"],
      ["color", "record"],
      ["class_", "object_"],
    ] as const) {
      assert.ok(position(before) >= 0 && position(before) < position(after), `${before} is not before ${after}`);
    }
    assert.equal(names.at(-1), "record", "the first root's dependencies, then the root; later roots are already out");
  });

  test("keeps C names TypeScript accepts and renames the others", () => {
    const source = emitTypeScript(compileSource(), ["record"]);
    assertIncludes(source, [
      "export interface class_ {\n  /** int at offset 0 */\n  new: number;\n  /** int at offset 4 */\n  delete: number;",
      "/** @generated from btf: typedef struct class object (size 12) */\nexport type object_ = class_;",
      "/** @generated from btf: typedef int string (size 4) */\nexport type string_ = number;",
      "export interface Uint8Array_ {\n  /** char at offset 0 */\n  yield: number;\n}",
      "export const number_kind = {\n  any: 1,\n  never: 2,\n} as const;",
      // struct dup takes the name first (the member comes first); the typedef of the same name is renamed.
      "  /** struct dup at offset 380 */\n  dd: dup;\n  /** dup at offset 384 */\n  dl: dup___2;",
      "/** @generated from btf: typedef long dup (size 8) */\nexport type dup___2 = bigint;",
      "  cls: class_;\n",
      "  obj: object_;\n",
      "  str: string_;\n",
      "  u8a: Uint8Array_;\n",
      "  nk: number_kind;\n",
    ]);
    // `typedef struct same same` is one declaration.
    assert.equal(source.match(/^export (?:interface|type) same\b/gm)?.length, 1);
    assert.match(source, /\/\*\* @generated from btf: struct same \(size 4\) \*\/\nexport interface same \{/);
  });

  test("declares typedefs, variables, DATASECs, forward declarations and functions given as roots", () => {
    const btf = compileSource();
    const source = emitTypeScript(btf, ["config", ".bss", "struct opaque", "entry", "handler_fn", "binop", "atomic_type", "word_t"]);
    assertIncludes(source, [
      "/** @generated from btf: var volatile const u64 config (size 8) */\nexport type config = u64;",
      // clang leaves DATASEC sizes and offsets 0; loaders fill them in.
      "/** @generated from btf: datasec .bss (size 0) */\nexport interface _bss {\n" +
        "  /** int at offset 0 */\n  counter: number;\n  /** struct record at offset 0 */\n  record_value: record;\n" +
        "  /** handler_fn * at offset 0 (the address of a function) */\n  handler_ptr: bigint;\n}",
      "/**\n * @generated from btf: struct opaque (forward declaration)\n *\n * A forward declaration: the BTF has no definition, so btfCodec cannot decode it.\n */\nexport type opaque = unknown;",
      "/**\n * @generated from btf: func int entry(void *ctx)\n *\n * A function has no storage, so no value has this type.\n */\nexport type entry = never;",
      "/**\n * @generated from btf: typedef int handler_fn(int)\n *\n * A function has no storage, so no value has this type.\n */\nexport type handler_fn = never;",
      "/** @generated from btf: typedef int (*binop)(int, int) (size 8) */\nexport type binop = bigint;",
      "/** @generated from btf: typedef struct {…} atomic_type (size 4) */\nexport interface atomic_type {\n  /** int at offset 0 */\n  counter: number;\n}",
      "/**\n * @generated from btf: typedef union {…} word_t (size 4)\n *\n * A union: btfCodec decodes every member",
      "export interface word_t {\n  /** u32 at offset 0 */\n  word: u32;\n  /** u8[4] at offset 0 */\n  bytes: Uint8Array;\n}",
    ]);
    assert.deepEqual(typeCheck({ types: source }), []);
  });

  test("declares anonymous types given as roots under a name of their kind and id, and refers to them by it", () => {
    const btf = compileSource();
    const record = btf.type(btf.find("record", "struct")!);
    assert.ok(record.kind === "struct");
    const point = record.members.find((m) => m.name === "point")!.type;
    const source = emitTypeScript(btf, [point, "record"]);
    assertIncludes(source, [
      `/** @generated from btf: struct (anon) (size 8) */\nexport interface struct_${point} {`,
      `  /** struct {…} at offset 152 */\n  point: struct_${point};`,
    ]);
    assert.deepEqual(typeCheck({ types: source }), []);
  });

  for (const bigEndian of [false, true]) {
    test(`types every value btfCodec decodes (${bigEndian ? "big" : "little"}-endian)`, (t) => {
      const btf = withDatasecSizes(compileSource(bigEndian));
      const roots = namedDeclarations(btf);
      // Anonymous structs and unions as roots too.
      for (const [id, type] of btf) if ((type.kind === "struct" || type.kind === "union") && type.name === "") roots.push(id);
      t.diagnostic(`${assertDecodedValuesTypeCheck(btf, roots)} decoded values type-checked`);
    });
  }

  test("rejects values whose shape differs from the decoded one", () => {
    const btf = compileSource();
    const value = decodeSample(btf, btf.find("record", "struct")!, 1) as { [name: string]: BtfValue };
    const variants: [string, { [name: string]: BtfValue }, RegExp][] = [
      ["a member left out", omit(value, "pid"), /Property 'pid' is missing/],
      ["a member of an anonymous struct left out", omit(value, "lo32"), /Property 'lo32' is missing/],
      ["a union member left out", { ...value, either: omit(value["either"] as { [name: string]: BtfValue }, "fval") }, /Property 'fval' is missing/],
      ["a member the struct lacks", { ...value, bogus: 1 }, /'"bogus"' does not exist in type 'record'/],
      ["a number for a u64", { ...value, as_u64: 1 }, /Type 'number' is not assignable to type 'bigint'/],
      ["bytes for a char array", { ...value, name: new Uint8Array(8) }, /not assignable to type 'string'/],
      ["a string for a u8 array", { ...value, mac: "x" }, /Type 'string' is not assignable to type 'Uint8Array/],
      ["a bigint for a narrow bitfield", { ...value, bits: { ...(value["bits"] as { [name: string]: BtfValue }), a: 1n } }, /Type 'bigint' is not assignable to type 'number'/],
      ["a number for a pointer", { ...value, next: 0 }, /Type 'number' is not assignable to type 'bigint'/],
      ["a number for a bool", { ...value, flag: 1 }, /Type 'number' is not assignable to type 'boolean'/],
    ];
    const lines = ['import type { record } from "./types.js";', `export const ok: record = ${literal(value)};`];
    for (const [, variant] of variants) lines.push(`export const bad${lines.length}: record = ${literal(variant)};`);
    const diagnostics = typeCheck({ types: emitTypeScript(btf, ["record"]), values: lines.join("\n") });
    variants.forEach(([what, , message], index) => {
      const line = `values:${index + 3}:`;
      const found = diagnostics.filter((d) => d.startsWith(line));
      assert.ok(found.some((d) => message.test(d)), `${what}: expected ${message}, got ${JSON.stringify(found)}`);
    });
    assert.equal(diagnostics.filter((d) => d.startsWith("values:2:")).length, 0, "the decoded value itself is accepted");
  });

  test("writes the banner, header and codec notes as comments, and no code but enumerator objects", () => {
    const btf = compileSource();
    const source = emitTypeScript(btf, ["record", "entry"], { header: "from codegen.bpf.c\n\u2028evil();", codecs: true });
    assert.ok(source.startsWith("// @generated by waggle emitTypeScript() from BTF: do not edit.\n"));
    assertIncludes(source, [
      "// from codegen.bpf.c\n//\n// evil();\n",
      '//   const codec = btfCodec(btf, btf.find("record", "struct")!);\n//   const value = codec.decode(view, 0) as unknown as record;',
      ' * Runtime codec: `btfCodec(btf, btf.find("u32", "typedef")!)`.',
      ' * Runtime codec: `btfCodec(btf, btf.find("record", "struct")!)`.',
      " * No runtime codec: this type has no storage.\n */\nexport type entry = never;",
    ]);
    assert.ok(source.endsWith("\n") && !source.endsWith("\n\n"));
    assert.ok(emitTypeScript(btf, ["u32"], { banner: false }).startsWith("/** @generated from btf: typedef unsigned int __u32"));
    assertOnlyData(source);
    assertOnlyData(emitTypeScript(btf, namedDeclarations(btf), { codecs: true }));
  });

  test("looks roots up by id, name and kind-prefixed name, and rejects unknown ones", () => {
    const btf = compileSource();
    const struct = btf.find("dup", "struct")!;
    const typedef = btf.find("dup", "typedef")!;
    assert.equal(emitTypeScript(btf, ["dup"]), emitTypeScript(btf, [struct]), "a bare name prefers the struct");
    assert.equal(emitTypeScript(btf, ["struct dup"]), emitTypeScript(btf, [struct]));
    assert.equal(emitTypeScript(btf, ["typedef dup"]), emitTypeScript(btf, [typedef]));
    assert.match(emitTypeScript(btf, ["typedef dup", "struct dup"]), /export type dup = bigint;[^]*export interface dup___2 \{/);
    assert.match(emitTypeScript(btf, ["enum small"]), /export type small = number;/);
    assert.match(emitTypeScript(btf, ["unsigned int"]), /export type unsigned_int = number;/);
    assert.throws(() => emitTypeScript(btf, ["no_such_type"]), { name: "RangeError", message: /Cannot find BTF type "no_such_type"/ });
    assert.throws(() => emitTypeScript(btf, ["union dup"]), RangeError);
    assert.throws(() => emitTypeScript(btf, [1e9]), RangeError);
    assert.throws(() => emitTypeScript(btf, [null as unknown as string]), TypeError);
  });
});

/** A copy of `record` without `key`. */
function omit(record: { [name: string]: BtfValue }, key: string): { [name: string]: BtfValue } {
  const { [key]: _, ...rest } = record;
  return rest;
}

/**
 * Asserts that a module compiles to nothing executable: only `export const NAME = { KEY: literal, … }`
 * objects of number and bigint literals (the enumerators), and `export {}`.
 */
function assertOnlyData(source: string): void {
  const js = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
  const file = ts.createSourceFile("out.js", js, ts.ScriptTarget.ES2022);
  const isLiteral = (e: ts.Expression): boolean =>
    ts.isNumericLiteral(e) ||
    ts.isBigIntLiteral(e) ||
    (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && isLiteral(e.operand));
  for (const statement of file.statements) {
    if (ts.isExportDeclaration(statement)) continue;
    assert.ok(ts.isVariableStatement(statement), `executable statement: ${statement.getText(file)}`);
    for (const declaration of statement.declarationList.declarations) {
      const init = declaration.initializer;
      assert.ok(init && ts.isObjectLiteralExpression(init), `not an object: ${declaration.getText(file)}`);
      for (const property of init.properties) {
        assert.ok(ts.isPropertyAssignment(property) && isLiteral(property.initializer), `not data: ${property.getText(file)}`);
      }
    }
  }
}

describe("emitTypeScript() on built BTF", () => {
  test("maps 8-byte ENUMs, odd-sized integers and floats, and unnamed bitfields as btfCodec does", () => {
    const btf = Btf.create({ littleEndian: true });
    const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    const wideEnum = btf.add({ kind: "enum", name: "wide_enum", size: 8, signed: false, values: [{ name: "ONE", value: 1 }] });
    const oddEnum = btf.add({ kind: "enum", name: "odd_enum", size: 3, signed: false, values: [{ name: "X", value: 2 }] });
    const int24 = btf.add({ kind: "int", name: "int24", size: 3, signed: false, char: false, bool: false, bitOffset: 0, bits: 24 });
    const longDouble = btf.add({ kind: "float", name: "long double", size: 16 });
    const bool4 = btf.add({ kind: "int", name: "bool32", size: 4, signed: false, char: false, bool: true, bitOffset: 0, bits: 32 });
    const uchar = btf.add({ kind: "int", name: "u_char", size: 1, signed: false, char: true, bool: false, bitOffset: 0, bits: 8 });
    const charArray = btf.add({ kind: "array", name: "", type: uchar, indexType: int, nelems: 4 });
    const root = btf.add({
      kind: "struct",
      name: "odd",
      size: 48,
      members: [
        { name: "e", type: wideEnum, bitOffset: 0, bitfieldSize: 0 },
        { name: "o", type: oddEnum, bitOffset: 64, bitfieldSize: 0 },
        { name: "i24", type: int24, bitOffset: 96, bitfieldSize: 0 },
        { name: "", type: int, bitOffset: 128, bitfieldSize: 3 },
        { name: "", type: int, bitOffset: 131, bitfieldSize: 2 },
        { name: "unaligned", type: int24, bitOffset: 133, bitfieldSize: 0 },
        { name: "b", type: bool4, bitOffset: 160, bitfieldSize: 0 },
        { name: "ld", type: longDouble, bitOffset: 256, bitfieldSize: 0 },
        { name: "flagged_char", type: charArray, bitOffset: 192, bitfieldSize: 0 },
      ],
    });
    const source = emitTypeScript(btf, [root]);
    assertIncludes(source, [
      "/** @generated from btf: enum wide_enum (size 8, unsigned) */\nexport type wide_enum = bigint;",
      "export const wide_enum = {\n  ONE: 1n,\n} as const;",
      "export type odd_enum = Uint8Array;",
      "  /** int24 at offset 12 */\n  i24: Uint8Array;",
      '  /** int, 3 bits at bit offset 128; int, 2 bits at bit offset 131 */\n  "": number;',
      "  /** int24, 24 bits at bit offset 133 */\n  unaligned: number;",
      "  /** bool32 at offset 20 */\n  b: boolean;",
      "  /** long double at offset 32 */\n  ld: Uint8Array;",
      "  /** u_char[4] at offset 24 */\n  flagged_char: string;",
    ]);
    assert.equal(assertDecodedValuesTypeCheck(btf, [root, wideEnum, oddEnum]), 3);
  });

  test("quotes names that are not identifiers and keeps comments closed", () => {
    const btf = Btf.create({ littleEndian: true });
    const int = btf.add({ kind: "int", name: "int */ evil(); /*", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    const e = btf.add({ kind: "enum", name: "0-enum", size: 4, signed: true, values: [{ name: "a-b", value: -5 }, { name: "a-b", value: 6 }] });
    const s = btf.add({
      kind: "struct",
      name: "weird.name\nnext line",
      size: 8,
      members: [
        { name: "with space", type: int, bitOffset: 0, bitfieldSize: 0 },
        { name: "kind", type: e, bitOffset: 32, bitfieldSize: 0 },
      ],
    });
    const v = btf.add({ kind: "var", name: "var", type: s, linkage: "global" });
    const sec = btf.add({ kind: "datasec", name: ".data.rel.ro", size: 8, vars: [{ type: v, offset: 0, size: 8 }] });
    const source = emitTypeScript(btf, [sec]);
    assertIncludes(source, [
      "export interface _data_rel_ro {",
      "  var: weird_name_next_line;",
      "export interface weird_name_next_line {",
      '  "with space": number;',
      "/** int *\\/ evil(); /* at offset 0 */",
      "export type _0_enum = number;",
      'export const _0_enum = {\n  "a-b": -5,\n} as const;',
    ]);
    assert.doesNotMatch(source, /\nnext line/);
    assert.deepEqual(typeCheck({ types: source }), []);
    assertOnlyData(source);
    assert.equal(assertDecodedValuesTypeCheck(btf, [sec, s]), 2);
  });

  test("throws FormatError for types that contain themselves", () => {
    const btf = Btf.create({ littleEndian: true });
    const self = btf.lastId + 1;
    btf.add({ kind: "struct", name: "self", size: 4, members: [{ name: "me", type: self, bitOffset: 0, bitfieldSize: 0 }] });
    const a = btf.lastId + 1;
    btf.add({ kind: "typedef", name: "a", type: a + 1 });
    btf.add({ kind: "typedef", name: "b", type: a });
    const anon = btf.lastId + 1;
    btf.add({ kind: "struct", name: "", size: 4, members: [{ name: "again", type: anon, bitOffset: 0, bitfieldSize: 0 }] });
    const holder = btf.add({ kind: "struct", name: "holder", size: 4, members: [{ name: "x", type: anon, bitOffset: 0, bitfieldSize: 0 }] });
    for (const root of [self, a, holder]) {
      assert.throws(() => emitTypeScript(btf, [root]), (e: unknown) => isWaggleError(e, "FormatError") && /contains itself|a cycle/.test(e.message));
    }
  });

  test("stops anonymous types that expand exponentially with a FormatError", () => {
    const btf = Btf.create({ littleEndian: true });
    let inner = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    for (let level = 0; level < 40; level++) {
      const members = [0, 1].map((i) => ({ name: `m${i}`, type: inner, bitOffset: 0, bitfieldSize: 0 }));
      inner = btf.add({ kind: "struct", name: "", size: 4, members });
    }
    const root = btf.add({ kind: "struct", name: "bomb", size: 4, members: [{ name: "b", type: inner, bitOffset: 0, bitfieldSize: 0 }] });
    const started = performance.now();
    assert.throws(() => emitTypeScript(btf, [root]), (e: unknown) => isWaggleError(e, "FormatError") && /more than 100000 lines/.test(e.message));
    assert.ok(performance.now() - started < 10_000);
  });
});

describe("emitTypeScript() against btfCodec on corrupted BTF", { skip: noClang }, () => {
  /** How long the mutation runs take, and how many (type, decoded value) pairs are type-checked afterwards. */
  const TIME_LIMIT_MS = 3000;
  const MAX_SAMPLES = 400;
  /** A mutated array length can make a type megabytes long: its literal would swamp the type checker. */
  const MAX_VALUE_SIZE = 4096;

  test("types what btfCodec decodes for whatever types mutated BTF describes", (t) => {
    const modules: Record<string, string> = {};
    const values: string[] = [];
    for (const object of [compile("kinds"), compile("kinds", true), compile("core")]) {
      const overwrite = fc.array(fc.record({ at: fc.nat({ max: object.btf.length - 1 }), value: fc.nat({ max: 255 }) }), {
        minLength: 1,
        maxLength: 4,
      });
      fc.assert(
        fc.property(overwrite, (changes) => {
          const bytes = object.btf.slice();
          for (const { at, value } of changes) bytes[at] = value;
          let btf: Btf;
          let ids: TypeId[];
          try {
            btf = Btf.parse(bytes);
            ids = [...btf].map(([id]) => id);
          } catch {
            return; // bytes the parser rejects
          }
          for (const id of ids) {
            if (values.length / 2 >= MAX_SAMPLES || id % 7 !== changes.length) continue;
            let source: string;
            let value: BtfValue;
            try {
              if (btf.sizeof(id) > MAX_VALUE_SIZE) continue;
              source = emitTypeScript(btf, [id]);
              value = decodeSample(btf, id, id);
            } catch {
              continue; // types without a codec, or BTF one of the two rejects
            }
            const index = values.length / 2;
            modules[`types${index}`] = source;
            values.push(`import type * as t${index} from "./types${index}.js";`);
            values.push(`export const v${index}: t${index}.${rootName(source)} = ${literal(value)};`);
          }
        }),
        { numRuns: 1_000_000, interruptAfterTimeLimit: TIME_LIMIT_MS / 3 },
      );
    }
    modules["values"] = values.join("\n");
    const started = performance.now();
    assert.deepEqual(typeCheck(modules), []);
    t.diagnostic(`${values.length / 2} decoded values of mutated types type-checked in ${(performance.now() - started).toFixed(0)} ms`);
  });
});

describe("emitTypeScript() on vmlinux", { skip: noVmlinux }, () => {
  const load = () => Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)), { file: vmlinuxPath });

  test("declares task_struct, sk_buff, xdp_md and bpf_map_type in a module that type-checks, typing decoded values", (t) => {
    const btf = load();
    const roots = ["task_struct", "sk_buff", "xdp_md", "bpf_map_type"];
    const source = emitTypeScript(btf, roots, { header: vmlinuxPath, codecs: true });
    assert.deepEqual(typeCheck({ types: source }), []);
    assertIncludes(source, [
      "/**\n * @generated from btf: struct xdp_md (size 24)\n *\n * Runtime codec: `btfCodec(btf, btf.find(\"xdp_md\", \"struct\")!)`.\n */\n" +
        "export interface xdp_md {\n  /** __u32 at offset 0 */\n  data: __u32;",
      "export type bpf_map_type = number;\n/** The enumerators of enum bpf_map_type. */\nexport const bpf_map_type = {\n  BPF_MAP_TYPE_UNSPEC: 0,\n  BPF_MAP_TYPE_HASH: 1,",
      "  /** char[16] at offset ",
      "  comm: string;",
    ]);
    const declarations = source.match(/^export (?:interface|type) /gm)!.length;
    t.diagnostic(`${source.length} characters, ${source.split("\n").length} lines, ${declarations} declarations`);
    const ids = roots.map((name) => btf.typesByName(name).find((id) => btf.type(id).kind !== "fwd")!);
    assert.equal(assertDecodedValuesTypeCheck(btf, ids), roots.length);
  });

  test("emits every named struct without throwing, in a module that type-checks", (t) => {
    const btf = load();
    const structs = btf.idsOfKind("struct").filter((id) => btf.type(id).name !== "");
    let started = performance.now();
    const source = emitTypeScript(btf, structs);
    const emitMs = performance.now() - started;
    let each = 0;
    started = performance.now();
    for (const id of structs) each += emitTypeScript(btf, [id]).length;
    const eachMs = performance.now() - started;
    started = performance.now();
    assert.deepEqual(typeCheck({ types: source }), []);
    const checkMs = performance.now() - started;
    t.diagnostic(
      `${structs.length} structs: one module of ${(source.length / 1e6).toFixed(1)} MB in ${emitMs.toFixed(0)} ms ` +
        `(type-checked in ${checkMs.toFixed(0)} ms); one module per struct, ${(each / 1e6).toFixed(1)} MB in ${eachMs.toFixed(0)} ms`,
    );
  });
});
