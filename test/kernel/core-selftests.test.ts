/**
 * The Linux kernel's own CO-RE relocation selftests (tools/testing/selftests/bpf, prog_tests/core_reloc.c
 * of Linux 6.1), run through Waggle instead of libbpf.
 *
 * scripts/core-selftests.mjs extracts the programs and the "kernel" type files from Debian's
 * linux-source-6.1 and compiles them with clang-19 as the selftests Makefile does (cached by content
 * hash, so only the first run compiles). Each case of test/kernel/core-selftests-cases.ts then does what
 * the C test does with libbpf's `btf_custom_path`:
 *
 * 1. parse the target BTF from the `.BTF` section of `btf__core_reloc_<case>.bpf.o` (none: the running kernel's);
 * 2. `load(object, { kernelBtf: target, programs: [program] })`, which applies every CO-RE relocation
 *    against that BTF — for a `fails` case this must throw: a `VerifierError` at the poisoned instruction
 *    (`invalid func unknown#195896080`), or an error from the CO-RE relocation itself;
 * 3. zero `data`, write the input into `data.in` (and this thread's pid/tgid into `data.my_pid_tgid`,
 *    which the kernel case filters on); attach the raw_tp/tp_btf program to `sys_enter`; make a system
 *    call; detach;
 * 4. compare `data.out` with the expected bytes, laid out with the types of core_reloc_types.h.
 *
 * Like the C file (`test_core_reloc_btfgen`), every case with a target file and without
 * `run_btfgen_fails` runs a second time against the minimal raw BTF `bpftool gen min_core_btf` extracts
 * for the program (cached next to the objects).
 *
 * Skipped with a printed reason when not root, when linux-source-6.1, clang-19, bpftool or libbpf-dev is
 * missing (a failure under WAGGLE_REQUIRE_KERNEL=1: CI installs them), and case by case for the two
 * module cases, which need the selftests' bpf_testmod kernel module. The last test prints a summary.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, readSync, renameSync } from "node:fs";
import { basename, join } from "node:path";
import type { TestContext } from "node:test";
import { Btf, type BtfMember, type BtfType, type TypeId } from "../../src/btf/index.js";
import { ElfFile } from "../../src/elf/index.js";
import { isWaggleError, kernelBtf, load, type Collection } from "../../src/index.js";
import { libc } from "../../src/sys/index.js";
import { repoRoot } from "../helpers/fixtures.js";
import { kernelSkipReason, kernelTest } from "../helpers/kernel.js";
import { CORE_SELFTEST_CASES, CSymbol, type CData, type CoreSelftestCase, type CValue } from "./core-selftests-cases.js";

// ---------------------------------------------------------------------------------------------
// Building the objects

/** What scripts/core-selftests.mjs reports (`--json`). */
interface Manifest {
  /** Where the build keeps its files (the btfgen BTF files go there too). */
  readonly cacheDir: string;
  readonly sourceDir: string;
  readonly clang: string;
  /** Object stem (`test_core_reloc_flavors`) → path of its `.bpf.o`. */
  readonly objects: Readonly<Record<string, string>>;
  /** Object stem → compiler error, for sources that did not compile. */
  readonly failed: Readonly<Record<string, string>>;
}

type Build = { readonly manifest: Manifest } | { readonly skip: string } | { readonly error: string };

/** Exit status of the build script when a prerequisite is missing. */
const EXIT_SKIP = 77;

function buildSelftests(): Build {
  const script = join(repoRoot, "scripts", "core-selftests.mjs");
  const started = Date.now();
  const run = spawnSync(process.execPath, [script, "--json"], { encoding: "utf8", timeout: 5 * 60_000, maxBuffer: 64 << 20 });
  const ms = Date.now() - started;
  const last = run.stdout?.trim().split("\n").pop() ?? "";
  let report: unknown;
  try {
    report = JSON.parse(last);
  } catch {
    return { error: `node ${script} --json failed (status ${run.status}, ${run.error?.message ?? run.signal ?? ""}):\n${run.stderr}` };
  }
  if (run.status === EXIT_SKIP) return { skip: (report as { skip: string }).skip };
  if (run.status !== 0) return { error: `node ${script} --json exited with ${run.status}:\n${run.stderr}` };
  buildMs = ms;
  return { manifest: report as Manifest };
}

let buildMs = 0;
/** Built once per file, and only where kernel tests run at all. */
const build: Build | undefined = kernelSkipReason() === undefined ? buildSelftests() : undefined;

// ---------------------------------------------------------------------------------------------
// BTF of compiled objects

const btfCache = new Map<string, Btf>();

/** The BTF in an object's `.BTF` section (what libbpf's btf__parse() of a `.o` reads). */
function objectBtf(path: string): Btf {
  let btf = btfCache.get(path);
  if (!btf) {
    const elf = ElfFile.parse(new Uint8Array(readFileSync(path)), { file: path });
    const section = elf.sectionByName(".BTF");
    assert.ok(section, `${path} has no .BTF section`);
    btf = Btf.parse(section.data, { file: path });
    btfCache.set(path, btf);
  }
  return btf;
}

function objectPath(manifest: Manifest, stem: string): string {
  const path = manifest.objects[stem];
  if (path) return path;
  const error = manifest.failed[stem];
  throw new Error(`${stem}.bpf.o did not compile with ${manifest.clang}${error ? `:\n${error}` : ""}`);
}

/**
 * The test's btfgen variant (`test_core_reloc_btfgen`): the target BTF is what `bpftool gen
 * min_core_btf` keeps of the case's target for the program's relocations — a raw BTF file, not an
 * object. Generated once per (target, object) pair; object file names carry their content hash.
 */
function btfgenTarget(manifest: Manifest, c: CoreSelftestCase): Btf {
  const source = objectPath(manifest, c.targetBtf!);
  const object = objectPath(manifest, c.object);
  const dir = join(manifest.cacheDir, "btfgen");
  const out = join(dir, `${basename(source, ".bpf.o")}--${basename(object, ".bpf.o")}.btf`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    const run = spawnSync("bpftool", ["gen", "min_core_btf", source, tmp, object], { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`bpftool gen min_core_btf ${source} ${tmp} ${object} failed (${run.status}): ${run.stderr}`);
    renameSync(tmp, out);
  }
  return Btf.parse(new Uint8Array(readFileSync(out)), { file: out });
}

/** The id of a C type spelled `struct x`, `union x`, `enum x` or as a typedef name. */
function findType(btf: Btf, spelled: string): TypeId {
  const [, tag, name] = /^(?:(struct|union|enum)\s+)?(\w+)$/.exec(spelled.trim()) ?? [];
  assert.ok(name, `cannot parse the C type "${spelled}"`);
  const id = tag === "enum" ? (btf.find(name, "enum") ?? btf.find(name, "enum64")) : btf.find(name, (tag as "struct" | "union" | undefined) ?? "typedef");
  assert.ok(id !== undefined, `${btf.file ?? "BTF"} has no ${spelled}`);
  return id;
}

const MODIFIERS = new Set(["typedef", "const", "volatile", "restrict", "type_tag"]);

/** Skips typedefs and qualifiers. */
function resolved(btf: Btf, id: TypeId): [TypeId, BtfType] {
  let t = btf.type(id);
  for (let depth = 0; MODIFIERS.has(t.kind) && depth < 64; depth++) {
    id = (t as { type: TypeId }).type;
    t = btf.type(id);
  }
  return [id, t];
}

/** A member of a struct/union by name, looking into anonymous members as C does; its bit offset is from the outer record. */
function findMember(btf: Btf, record: BtfType, name: string, base = 0): { member: BtfMember; bitOffset: number } | undefined {
  if (record.kind !== "struct" && record.kind !== "union") return undefined;
  for (const m of record.members) {
    if (m.name === name) return { member: m, bitOffset: base + m.bitOffset };
  }
  for (const m of record.members) {
    if (m.name !== "") continue;
    const found = findMember(btf, resolved(btf, m.type)[1], name, base + m.bitOffset);
    if (found) return found;
  }
  return undefined;
}

/** Byte offset and type of a member path such as `arr_field[1]` or `s.x` in `type`. */
function memberAt(btf: Btf, typeId: TypeId, path: string): { offset: number; type: TypeId } {
  let offset = 0;
  let id = typeId;
  for (const part of path.match(/[A-Za-z_]\w*|\[\d+\]/g) ?? []) {
    const [rid, t] = resolved(btf, id);
    if (part.startsWith("[")) {
      assert.ok(t.kind === "array", `${path}: ${part} indexes a ${t.kind}`);
      const index = Number(part.slice(1, -1));
      offset += index * btf.sizeof(t.type);
      id = t.type;
    } else {
      const found = findMember(btf, t, part);
      assert.ok(found, `${path}: type #${rid} has no member ${part}`);
      assert.equal(found.member.bitfieldSize, 0, `${path}: ${part} is a bitfield`);
      offset += found.bitOffset / 8;
      id = found.member.type;
    }
  }
  return { offset, type: id };
}

// ---------------------------------------------------------------------------------------------
// Laying out C values (see core-selftests-cases.ts for the notation)

/** The C test's comm field is `char comm[sizeof("test_progs")]`. */
const COMM_FIELD_SIZE = "test_progs".length + 1;

/** What the CSymbols of one case evaluate against. */
interface Scope {
  /** core_reloc_types.h's types. */
  readonly types: Btf;
  /** This process's name, from /proc/self/comm. */
  readonly comm: string;
}

function evaluate(symbol: CSymbol, scope: Scope): number | string {
  switch (symbol.kind) {
    case "sizeof":
    case "offsetof": {
      const btf = symbol.btf === undefined ? scope.types : moduleBtf(symbol.btf);
      const id = findType(btf, symbol.type);
      if (symbol.member === undefined) return btf.sizeof(id);
      const at = memberAt(btf, id, symbol.member);
      return symbol.kind === "offsetof" ? at.offset : btf.sizeof(at.type);
    }
    case "comm":
      // BPF_CORE_READ_STR_INTO(&out->comm, …) keeps at most sizeof(comm) - 1 characters and a NUL.
      return scope.comm.slice(0, COMM_FIELD_SIZE - 1);
    case "commLength":
      return Math.min(scope.comm.length, COMM_FIELD_SIZE - 1) + 1;
  }
}

function moduleBtf(name: string): Btf {
  return Btf.parse(new Uint8Array(readFileSync(`/sys/kernel/btf/${name}`)), { base: kernelBtf(), file: name });
}

function toBigInt(value: CValue, what: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "boolean") return value ? 1n : 0n;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  throw new TypeError(`${what}: ${String(value)} is no integer`);
}

/** Writes `bits` bits of `value` at bit `bitOffset` of `bytes` (little-endian bit numbering, as BTF on LE). */
function writeBits(bytes: Uint8Array, bitOffset: number, bits: number, value: bigint): void {
  const v = BigInt.asUintN(bits, value);
  for (let i = 0; i < bits; i++) {
    const bit = bitOffset + i;
    const byte = bit >> 3;
    const mask = 1 << (bit & 7);
    if ((v >> BigInt(i)) & 1n) bytes[byte]! |= mask;
    else bytes[byte]! &= ~mask;
  }
}

/** Encodes `value` as C type `id` at byte `offset` of `bytes`, converting integers as a C initialiser does. */
function encode(btf: Btf, id: TypeId, value: CValue, bytes: Uint8Array, offset: number, scope: Scope, what: string): void {
  if (value instanceof CSymbol) value = evaluate(value, scope);
  const [, t] = resolved(btf, id);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (t.kind) {
    case "int":
    case "enum":
    case "enum64": {
      const v = t.kind === "int" && t.bool ? (toBigInt(value, what) !== 0n ? 1n : 0n) : toBigInt(value, what);
      writeBits(bytes, offset * 8, t.size * 8, v);
      return;
    }
    case "ptr":
      writeBits(bytes, offset * 8, 64, toBigInt(value, what));
      return;
    case "float":
      if (typeof value !== "number") throw new TypeError(`${what}: ${String(value)} is no number`);
      if (t.size === 4) view.setFloat32(offset, value, btf.littleEndian);
      else view.setFloat64(offset, value, btf.littleEndian);
      return;
    case "array": {
      const stride = btf.sizeof(t.type);
      if (typeof value === "string") {
        // A string literal initialises a char array: its characters, then a NUL if there is room.
        const text = new TextEncoder().encode(value).subarray(0, t.nelems);
        bytes.set(text, offset);
        return;
      }
      if (typeof value !== "object" || value === null) throw new TypeError(`${what}: ${String(value)} is no array initialiser`);
      const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value).map(([k, v]) => [Number(k), v] as const);
      for (const [index, v] of entries) {
        if (v === undefined) continue;
        assert.ok(Number.isInteger(index) && index >= 0 && index < Math.max(t.nelems, 1), `${what}[${index}] is outside ${t.nelems} elements`);
        encode(btf, t.type, v, bytes, offset + index * stride, scope, `${what}[${index}]`);
      }
      return;
    }
    case "struct":
    case "union": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${what}: ${String(value)} is no struct initialiser`);
      for (const [name, v] of Object.entries(value as Record<string, CValue>)) {
        const found = findMember(btf, t, name);
        assert.ok(found, `${what}: ${t.kind} ${t.name || "(anon)"} has no member ${name}`);
        const { member, bitOffset } = found;
        const at = offset * 8 + bitOffset;
        if (member.bitfieldSize > 0 || at % 8 !== 0) {
          writeBits(bytes, at, member.bitfieldSize || btf.sizeof(member.type) * 8, toBigInt(v instanceof CSymbol ? (evaluate(v, scope) as number) : v, `${what}.${name}`));
        } else {
          encode(btf, member.type, v, bytes, at / 8, scope, `${what}.${name}`);
        }
      }
      return;
    }
    default:
      throw new TypeError(`${what}: cannot initialise a ${t.kind}`);
  }
}

/** The bytes of a CData blob (the C test's `input`/`output` with `input_len`/`output_len`). */
function layout(blob: CData, scope: Scope): Uint8Array {
  const id = findType(scope.types, blob.type);
  const size = scope.types.sizeof(id);
  const values = blob.array ? (blob.value as readonly CValue[]) : [blob.value as CValue];
  const bytes = new Uint8Array(size * values.length);
  values.forEach((v, i) => encode(scope.types, id, v, bytes, i * size, scope, blob.type));
  return blob.length === undefined ? bytes : bytes.subarray(0, blob.length);
}

/** Every scalar of a type, flattened to `path → value`, for readable mismatch reports. */
function decodeFields(btf: Btf, id: TypeId, bytes: Uint8Array, offset = 0, path = "", out: Record<string, string> = {}): Record<string, string> {
  const [, t] = resolved(btf, id);
  const read = (bitOffset: number, bits: number, signed: boolean): bigint => {
    let v = 0n;
    for (let i = bits - 1; i >= 0; i--) {
      const bit = bitOffset + i;
      v = (v << 1n) | BigInt(((bytes[bit >> 3] ?? 0) >> (bit & 7)) & 1);
    }
    return signed ? BigInt.asIntN(bits, v) : v;
  };
  switch (t.kind) {
    case "int":
    case "enum":
    case "enum64":
    case "ptr":
    case "float": {
      const size = t.kind === "ptr" ? 8 : t.size;
      const signed = (t.kind === "int" || t.kind === "enum" || t.kind === "enum64") && t.signed;
      const v = read(offset * 8, size * 8, signed);
      out[path] = `${v} (0x${BigInt.asUintN(size * 8, v).toString(16)})`;
      return out;
    }
    case "array": {
      const stride = btf.sizeof(t.type);
      for (let i = 0; i < t.nelems; i++) decodeFields(btf, t.type, bytes, offset + i * stride, `${path}[${i}]`, out);
      return out;
    }
    case "struct":
    case "union":
      for (const m of t.members) {
        const name = m.name === "" ? path : path ? `${path}.${m.name}` : m.name;
        const at = offset * 8 + m.bitOffset;
        if (m.bitfieldSize > 0 || at % 8 !== 0) {
          const [, mt] = resolved(btf, m.type);
          const signed = (mt.kind === "int" || mt.kind === "enum") && mt.signed;
          out[name] = String(read(at, m.bitfieldSize, signed));
        } else {
          decodeFields(btf, m.type, bytes, at / 8, name, out);
        }
      }
      return out;
    default:
      out[path] = `<${t.kind}>`;
      return out;
  }
}

// ---------------------------------------------------------------------------------------------
// The C test's setup functions

type Record32 = Record<string, number>;

/** setup_type_id_case_local(): the local BTF ids the program must report, read from its object's BTF. */
function typeIdLocal(local: Btf): Record32 {
  const exp: Record32 = {
    local_anon_struct: -1,
    local_anon_union: -1,
    local_anon_enum: -1,
    local_anon_func_proto_ptr: -1,
    local_anon_void_ptr: -1,
    local_anon_arr: -1,
  };
  const isBool = (id: TypeId) => {
    const t = local.type(id);
    return t.kind === "int" && t.name === "_Bool";
  };
  for (const [id, t] of local) {
    // only anonymous types
    if (t.name !== "") continue;
    if (t.kind === "struct" && t.members[0]?.name === "marker_field") exp.local_anon_struct = id;
    else if (t.kind === "union" && t.members[0]?.name === "marker_field") exp.local_anon_union = id;
    else if (t.kind === "enum" && t.values[0]?.name === "MARKER_ENUM_VAL") exp.local_anon_enum = id;
    else if (t.kind === "ptr") {
      const to = local.type(t.type);
      if (to.kind === "func_proto" && isBool(to.returnType)) exp.local_anon_func_proto_ptr = id; // ptr -> func_proto -> _Bool
      else if (to.kind === "void") exp.local_anon_void_ptr = id; // ptr -> void
    } else if (t.kind === "array" && isBool(t.type)) exp.local_anon_arr = id; // _Bool[]
  }
  const find = (btf: Btf, name: string, kind: BtfType["kind"]) => {
    const id = btf.find(name, kind);
    assert.ok(id !== undefined && id > 0, `find_type_id: ${btf.file} has no ${kind} ${name}`);
    return id;
  };
  exp.local_struct = find(local, "a_struct", "struct");
  exp.local_union = find(local, "a_union", "union");
  exp.local_enum = find(local, "an_enum", "enum");
  exp.local_int = find(local, "int", "int");
  exp.local_struct_typedef = find(local, "named_struct_typedef", "typedef");
  exp.local_func_proto_typedef = find(local, "func_proto_typedef", "typedef");
  exp.local_arr_typedef = find(local, "arr_typedef", "typedef");
  return exp;
}

/** setup_type_id_case_success() / setup_type_id_case_failure(). */
function typeIdExpected(setup: "type_id_success" | "type_id_failure", local: Btf, target: Btf): Record32 {
  const exp = typeIdLocal(local);
  const targetId = (name: string, kind: BtfType["kind"]) => {
    if (setup === "type_id_failure") return 0;
    const id = target.find(name, kind);
    assert.ok(id !== undefined && id > 0, `find_type_id: ${target.file} has no ${kind} ${name}`);
    return id;
  };
  exp.targ_struct = targetId("a_struct", "struct");
  exp.targ_union = targetId("a_union", "union");
  exp.targ_enum = targetId("an_enum", "enum");
  exp.targ_int = targetId("int", "int");
  exp.targ_struct_typedef = targetId("named_struct_typedef", "typedef");
  exp.targ_func_proto_typedef = targetId("func_proto_typedef", "typedef");
  exp.targ_arr_typedef = targetId("arr_typedef", "typedef");
  return exp;
}

// ---------------------------------------------------------------------------------------------
// Running one case

/** libbpf's poison: `call 0xbad2310`, which the verifier reports as an unknown function. */
const POISON_CALL = "invalid func unknown#195896080";

type Outcome =
  | { readonly status: "pass"; readonly detail?: string }
  | { readonly status: "skip"; readonly detail: string }
  | { readonly status: "fail"; readonly detail: string; readonly coreMissing?: true };

const outcomes = new Map<string, Outcome>();

/** True for the loader's "CO-RE is not applied yet" refusal (before CO-RE support existed). */
function isCoreNotImplemented(error: unknown): boolean {
  return isWaggleError(error, "NotSupportedError") && /CO-RE/.test((error as Error).message) && /not (applied|implemented) yet/.test((error as Error).message);
}

/** How a load failed, in libbpf's two ways; undefined when it failed some other way. */
function failureKind(error: unknown): "poison" | "core-error" | undefined {
  if (isWaggleError(error, "VerifierError")) return error.log.includes(POISON_CALL) ? "poison" : undefined;
  if (!isWaggleError(error) || isCoreNotImplemented(error)) return undefined;
  if ((error as Error).name === "CoreRelocationError" || /CO-RE|relocat/i.test((error as Error).message)) return "core-error";
  return undefined;
}

function describeError(error: unknown): string {
  if (isWaggleError(error, "VerifierError")) {
    const lines = error.log.trim().split("\n");
    return `${error.message}\n  … ${lines.slice(-6).join("\n  … ")}`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The pid/tgid pair bpf_get_current_pid_tgid() returns for this thread: tgid << 32 | tid. */
function myPidTgid(): bigint {
  // /proc/thread-self → "<tgid>/task/<tid>"
  const [tgid, , tid] = readlinkSync("/proc/thread-self").split("/");
  // The C test builds getpid() | gettid() << 32; both are the same number on the main thread.
  return (BigInt(Number(tgid)) << 32n) | BigInt(Number(tid));
}

/** The `data` global every test program shares: its map, offset and the offsets of its members. */
function dataLayout(coll: Collection): { map: string; offset: number; size: number; member: (name: string) => { offset: number; size: number } | undefined } {
  const variable = coll.spec.variables.get("data");
  assert.ok(variable, `the object has no global "data" (it has ${[...coll.spec.variables.keys()].join(", ")})`);
  const btf = coll.spec.btf!;
  const [, t] = resolved(btf, variable.type);
  return {
    map: variable.map.name,
    offset: variable.offset,
    size: variable.size,
    member(name) {
      const found = findMember(btf, t, name);
      return found && { offset: found.bitOffset / 8, size: btf.sizeof(found.member.type) };
    },
  };
}

/** The two passes of prog_tests/core_reloc.c: against the target objects' BTF, and against btfgen's minimal BTF. */
type Variant = "btf" | "btfgen";

function runCase(t: TestContext, c: CoreSelftestCase, manifest: Manifest, variant: Variant): Outcome {
  if (c.needsTestmod && !existsSync("/sys/kernel/btf/bpf_testmod")) {
    return { status: "skip", detail: "needs the selftests' bpf_testmod kernel module (tools/testing/selftests/bpf/bpf_testmod, built for the running kernel), which is not loaded" };
  }
  const types = objectBtf(objectPath(manifest, "core_reloc_types"));
  const scope: Scope = { types, comm: readFileSync("/proc/self/comm", "utf8").trim() };
  const objectFile = objectPath(manifest, c.object);
  const target = c.targetBtf === undefined ? undefined : variant === "btfgen" ? btfgenTarget(manifest, c) : objectBtf(objectPath(manifest, c.targetBtf));

  // The expected bytes first: setup functions read the local and target BTF, as the C test's do.
  let expected: Uint8Array | undefined;
  if (c.output) {
    let output = c.output;
    if (c.setup) output = { ...output, value: typeIdExpected(c.setup, objectBtf(objectFile), target!) };
    expected = layout(output, scope);
  }
  const input = c.input && layout(c.input, scope);

  let coll: Collection;
  try {
    coll = load(new Uint8Array(readFileSync(objectFile)), { name: c.object, programs: [c.program], ...(target && { kernelBtf: target }) });
  } catch (error) {
    if (isCoreNotImplemented(error)) {
      return { status: "fail", coreMissing: true, detail: `Waggle does not apply CO-RE relocations yet: ${(error as Error).message}` };
    }
    if (!c.fails) return { status: "fail", detail: `load failed: ${describeError(error)}` };
    const kind = failureKind(error);
    if (kind === undefined) return { status: "fail", detail: `load failed as expected, but neither at a poisoned instruction nor in CO-RE: ${describeError(error)}` };
    const libbpf = c.libbpfFails;
    const same = libbpf === undefined || libbpf.how === kind;
    const detail = `load failed as expected (${kind}${same ? ", as with libbpf" : `; libbpf: ${libbpf.how}, ${libbpf.why}`}): ${(error as Error).message.split("\n")[0]}`;
    t.diagnostic(detail);
    return { status: "pass", detail };
  }
  using _coll = coll;
  if (c.fails) {
    return { status: "fail", detail: `load succeeded, but this case must fail${c.libbpfFails ? ` (libbpf: ${c.libbpfFails.how}, ${c.libbpfFails.why})` : ""}` };
  }

  // memset(data, 0); memcpy(data->in, input); data->my_pid_tgid = …
  const data = dataLayout(coll);
  const map = coll.map(data.map);
  const key = new Uint8Array(4);
  const section = map.lookupBytes(key)!;
  section.fill(0, data.offset, data.offset + data.size);
  const inMember = data.member("in")!;
  const outMember = data.member("out")!;
  if (input) {
    assert.ok(input.length <= inMember.size, `input of ${input.length} bytes does not fit data.in`);
    section.set(input, data.offset + inMember.offset);
  }
  const pidTgid = data.member("my_pid_tgid");
  if (pidTgid) new DataView(section.buffer, section.byteOffset).setBigUint64(data.offset + pidTgid.offset, myPidTgid(), true);
  map.updateBytes(key, section);

  const program = coll.program(c.program);
  const link = c.rawTracepoint !== undefined ? program.attachRawTracepoint(c.rawTracepoint) : program.attachRawTracepoint();
  try {
    trigger(c);
  } finally {
    link.close();
  }

  const after = map.lookupBytes(key)!;
  const skip = data.member("skip");
  if (skip && after[data.offset + skip.offset] !== 0) {
    return { status: "skip", detail: "the program set data.skip: it was compiled without the builtins it needs" };
  }
  const actual = after.subarray(data.offset + outMember.offset, data.offset + outMember.offset + (expected?.length ?? 0));
  if (expected && !Buffer.from(actual).equals(Buffer.from(expected))) {
    const id = findType(types, c.output!.type);
    const got = decodeFields(types, id, actual);
    const want = decodeFields(types, id, expected);
    const diff = Object.keys(want).filter((k) => got[k] !== want[k]).map((k) => `${k}: expected ${want[k]}, got ${got[k]}`);
    return { status: "fail", detail: `data.out differs from the expected ${c.output!.type}:\n    ${diff.join("\n    ") || "(only padding differs)"}` };
  }
  return { status: "pass" };
}

/** Makes the program run: a system call (the C test's usleep(1)), or the module's read. */
function trigger(c: CoreSelftestCase): void {
  if (c.trigger === "module_test_read") {
    // trigger_module_test_read(): read(2) on /sys/kernel/bpf_testmod, 123 bytes (the expected .len).
    const fd = openSync("/sys/kernel/bpf_testmod", "r");
    try {
      readSync(fd, Buffer.alloc(123), 0, 123, 0);
    } catch {
      // the module's read handler returns an error on purpose; the tracepoint has fired by then
    } finally {
      closeSync(fd);
    }
    return;
  }
  libc.getpid();
}

// ---------------------------------------------------------------------------------------------
// The tests

function caseTitle(c: CoreSelftestCase, variant: Variant): string {
  const against = !c.targetBtf
    ? "the running kernel's BTF"
    : variant === "btfgen"
      ? `bpftool gen min_core_btf of ${c.targetBtf}.bpf.o`
      : `${c.targetBtf}.bpf.o's BTF`;
  const what = c.fails ? "fails to load, as with libbpf" : "gives the expected output";
  return `kernel CO-RE selftest${variant === "btfgen" ? " (btfgen)" : ""} ${c.name}: ${c.object}.bpf.o (${c.program}) against ${against} ${what}`;
}

/** The C test's btfgen pass skips cases without a target file and those marked run_btfgen_fails. */
const btfgenCases = CORE_SELFTEST_CASES.filter((c) => c.targetBtf !== undefined && !c.runBtfgenFails && !c.needsTestmod);

const passes: [Variant, readonly CoreSelftestCase[]][] = [
  ["btf", CORE_SELFTEST_CASES],
  ["btfgen", btfgenCases],
];

for (const [variant, cases] of passes) {
  for (const c of cases) {
    const key = `${variant}:${c.name}`;
    kernelTest(caseTitle(c, variant), (t) => {
      if (!build || "error" in build) throw new Error(`building the selftests failed: ${build && "error" in build ? build.error : "not built"}`);
      if ("skip" in build) {
        if (process.env.WAGGLE_REQUIRE_KERNEL === "1") throw new Error(`the CO-RE selftests cannot be built but WAGGLE_REQUIRE_KERNEL=1: ${build.skip}`);
        outcomes.set(key, { status: "skip", detail: build.skip });
        t.skip(build.skip);
        return;
      }
      let outcome: Outcome;
      try {
        outcome = runCase(t, c, build.manifest, variant);
      } catch (error) {
        outcome = { status: "fail", detail: describeError(error) };
      }
      outcomes.set(key, outcome);
      if (outcome.status === "skip") t.skip(outcome.detail);
      else if (outcome.status === "fail") assert.fail(outcome.detail);
    });
  }
}

kernelTest("kernel CO-RE selftests: summary", (t) => {
  if (!build || !("manifest" in build)) {
    t.skip(build && "skip" in build ? build.skip : "not built");
    return;
  }
  t.diagnostic(`objects: ${Object.keys(build.manifest.objects).length} compiled by ${build.manifest.clang} from ${build.manifest.sourceDir} (${(buildMs / 1000).toFixed(1)} s, cached by content hash)`);
  for (const [variant, cases] of passes) {
    const all = cases.map((c) => [c.name, outcomes.get(`${variant}:${c.name}`)] as const);
    const count = (status: Outcome["status"]) => all.filter(([, o]) => o?.status === status).length;
    const coreMissing = all.filter(([, o]) => o?.status === "fail" && o.coreMissing).length;
    const label = variant === "btf" ? "against the target objects' BTF" : "against bpftool gen min_core_btf output (btfgen)";
    t.diagnostic(`${label}: ${all.length} cases, ${count("pass")} pass, ${count("fail")} fail, ${count("skip")} skipped`);
    if (coreMissing > 0) t.diagnostic(`  ${coreMissing} could not run: Waggle does not apply CO-RE relocations yet`);
    for (const [name, o] of all) {
      if (o && o.status !== "pass" && !(o.status === "fail" && o.coreMissing)) t.diagnostic(`  ${o.status} ${name}: ${o.detail.split("\n")[0]}`);
    }
  }
});
