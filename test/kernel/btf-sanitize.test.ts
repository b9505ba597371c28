/**
 * What sanitizeBtf() makes is BTF a kernel accepts. This 6.18 kernel supports every feature, so each is
 * turned off in turn (then all of them) and the rewritten BTF of every fixture the kernel accepts as it
 * is, and of a program using every kind the rules rewrite, goes through BPF_BTF_LOAD. Objects whose .BTF
 * was rewritten also load whole, with the kernel holding the rewritten BTF.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe } from "node:test";

import { Btf, marshalBtf, sanitizeBtf, type BtfSupport } from "../../src/btf/index.js";
import { ElfFile, elfToWriteInput, writeElf } from "../../src/elf/index.js";
import { btfSupport } from "../../src/features/index.js";
import { isWaggleError, load, ObjectSpec } from "../../src/index.js";
import { DEFAULT_PIN_ROOT } from "../../src/maps/create-map.js";
import { btfGetFdById, btfInfo, btfLoad, ensureBpffs } from "../../src/sys/index.js";
import { allFixtures, fixtureBytes } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";
import { hasClang, scratchPath } from "../unit/btf-helpers.js";
import { FULL, NONE, VARIANTS } from "../helpers/btf-support.js";

const SOURCE = `
/* Every BTF kind sanitizeBtf() rewrites, in an object this kernel loads whole. */
#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __tag(x) __attribute__((btf_type_tag(x)))
#define __decl(x) __attribute__((btf_decl_tag(x)))

enum wide : unsigned long long { WIDE_MAX = 0xffffffffffffffffULL };
enum swide : long long { SWIDE_MIN = -0x100000000LL, SWIDE_ONE = 1 };
enum sign { NEG = -1, POS = 1 };

typedef int (*binop)(int, int);                 /* FUNC_PROTO with unnamed parameters */
typedef void (*logger)(const char *fmt, ...);   /* and a variadic one */

struct sample {
	float ratio;
	double mean;
	enum wide wide;
	enum swide swide;
	enum sign sign;
	int value __decl("member_tag");
	int __tag("user") *user;
	binop op;
	logger log;
} __decl("struct_tag");

static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;

struct {
	__uint(type, 2); /* BPF_MAP_TYPE_ARRAY */
	__uint(max_entries, 1);
	__type(key, unsigned int);
	__type(value, struct sample);
} samples SEC(".maps");

char small = 1;                       /* a 1-byte variable in .data */
int hits;                             /* .bss */
const volatile double scale = 2.5;    /* .rodata */
struct sample last __decl("var_tag");

__attribute__((noinline)) int global_sub(int x __decl("param_tag"))
{
	return x + 1;
}

static __attribute__((noinline)) int static_sub(int x)
{
	return x * 2;
}

__decl("func_tag") SEC("xdp") int entry(void *ctx)
{
	unsigned int key = 0;
	struct sample *s = bpf_map_lookup_elem(&samples, &key);

	if (!s)
		return 1;
	hits++;
	last.value = s->value;
	return global_sub(static_sub(s->value + small)) > 0 ? 2 : 1;
}

char _license[] SEC("license") = "GPL";
`;

/**
 * Everything off that today's loader consumes unchanged. Without FUNC it must also drop func and line
 * info, and without DATASEC ObjectSpec.parse finds no `.maps` section description in a rewritten file.
 */
const LOADER_READY: BtfSupport = { ...NONE, funcs: true, datasec: true };

/** XDP_PASS: what `entry` returns once it found its map value and called both subprograms. */
const XDP_PASS = 2;

/** The compiled SOURCE. */
function sourceObject(): Uint8Array {
  const c = scratchPath("sanitize-kinds.bpf.c");
  const o = scratchPath("sanitize-kinds.o");
  writeFileSync(c, SOURCE);
  execFileSync("clang-19", ["-target", "bpf", "-g", "-O2", "-c", c, "-o", o]);
  return new Uint8Array(readFileSync(o));
}

/** The object files to try: the compiled SOURCE (with clang) and every fixture. */
function objects(): [string, Uint8Array][] {
  return [...(hasClang ? [["sanitize-kinds", sourceObject()] as [string, Uint8Array]] : []), ...allFixtures().map((name): [string, Uint8Array] => [name, fixtureBytes(name)])];
}

/** The BTF the loader hands the kernel: ObjectSpec has set DATASEC sizes and offsets from the ELF. */
function objectBtf(name: string, bytes: Uint8Array): Btf | undefined {
  return ObjectSpec.parse(bytes, { file: name }).btf;
}

/** Undefined when the kernel accepts `btf`, else why not. */
function rejection(btf: Btf): string | undefined {
  try {
    btfLoad(marshalBtf(btf)).fd.close();
    return undefined;
  } catch (error) {
    if (isWaggleError(error, "VerifierError") || isWaggleError(error, "SyscallError")) return error.message;
    throw error;
  }
}

/** The object with its .BTF section replaced. */
function withBtf(bytes: Uint8Array, btf: Uint8Array): Uint8Array {
  const input = elfToWriteInput(ElfFile.parse(bytes));
  return writeElf({ ...input, sections: input.sections.map((s) => (s.name === ".BTF" ? { ...s, data: btf } : s)) });
}

describe("sanitizeBtf() against the kernel", () => {
  kernelTest("btfSupport() finds every feature on this 6.18 kernel, once", () => {
    assert.deepEqual(btfSupport(), FULL);
    assert.equal(btfSupport(), btfSupport());
  });

  kernelTest("with each feature off, and all of them, the kernel accepts every BTF it accepted as is", () => {
    const accepted: [string, Btf][] = [];
    for (const [name, bytes] of objects()) {
      const btf = objectBtf(name, bytes);
      // Externs, GCC's encodings and foreign byte orders need the loader's own fixes first.
      if (btf !== undefined && rejection(btf) === undefined) accepted.push([name, btf]);
    }
    assert.ok(accepted.length >= 40, `only ${accepted.length} objects to try`);
    if (hasClang) assert.equal(accepted[0]![0], "sanitize-kinds");
    const failures: string[] = [];
    for (const [variant, support] of VARIANTS) {
      for (const [name, btf] of accepted) {
        const why = rejection(sanitizeBtf(btf, support));
        if (why !== undefined) failures.push(`${name}, ${variant}: ${why}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  kernelTest("an object whose BTF lost every feature the loader does not depend on loads, runs, and its map holds that BTF", (t) => {
    if (!hasClang) return t.skip("needs clang-19");
    const bytes = sourceObject();
    const sanitised = marshalBtf(sanitizeBtf(objectBtf("sanitize-kinds", bytes)!, LOADER_READY));
    const messages: string[] = [];
    using coll = load(withBtf(bytes, sanitised), { name: "sanitize", log: (_, message) => messages.push(message) });
    assert.deepEqual(messages.filter((m) => /rejected its BTF/.test(m)), [], "the kernel took the rewritten BTF");
    assert.equal(coll.program("entry").run(new Uint8Array(64)).retval, XDP_PASS);

    const info = coll.map("samples").info();
    assert.notEqual(info.btfId, 0);
    const fd = btfGetFdById(info.btfId);
    try {
      const held = Btf.parse(btfInfo(fd.value, { bytes: true }).bytes!);
      assert.deepEqual([...held], [...Btf.parse(sanitised)]);
      assert.deepEqual([...held].filter(([, type]) => ["float", "decl_tag", "type_tag", "enum64"].includes(type.kind)), []);
    } finally {
      fd.close();
    }
  });

  kernelTest("every fixture that loads whole still loads with its BTF rewritten the same way", () => {
    // Maps pinned by name go to a folder of this test's, not /sys/fs/bpf, and go with it.
    ensureBpffs(DEFAULT_PIN_ROOT);
    const pinRoot = mkdtempSync(join(DEFAULT_PIN_ROOT, "waggle-sanitize-"));
    try {
      assert.ok(rewrittenFixturesLoad(pinRoot) >= 30);
    } finally {
      rmSync(pinRoot, { recursive: true });
    }
  });
});

/** Loads every fixture that loads whole as it is and with its BTF rewritten; returns how many did. */
function rewrittenFixturesLoad(pinRoot: string): number {
  let loaded = 0;
  for (const name of allFixtures()) {
    const bytes = fixtureBytes(name);
    const spec = ObjectSpec.parse(bytes, { file: name });
    // A rewritten file is parsed again, and static linkage would hide its externs from ObjectSpec.parse.
    if (spec.btf === undefined || spec.externs.size > 0) continue;
    const rejections: string[] = [];
    const log = (_: string, message: string) => {
      if (/rejected its BTF/.test(message)) rejections.push(message);
    };
    try {
      load(bytes, { name, log, pinRoot }).close();
    } catch (error) {
      if (isWaggleError(error)) continue; // needs attach targets or privileges this machine does not give
      throw error;
    }
    if (rejections.length > 0) continue; // loads without BTF even as it is (GCC's encodings)
    load(withBtf(bytes, marshalBtf(sanitizeBtf(spec.btf, LOADER_READY))), { name, log, pinRoot }).close();
    assert.deepEqual(rejections, [], `${name}: the kernel took the rewritten BTF`);
    loaded++;
  }
  return loaded;
}
