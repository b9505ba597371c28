/** formatCType() and formatCDecl(), checked against bpftool's C dump of the same objects and of vmlinux. */

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";

import { execFileSync } from "node:child_process";

import { Btf, dumpC, formatCDecl, formatCType, type BtfStruct } from "../../src/btf/index.js";
import {
  bpftool,
  compile,
  hasBpftool,
  hasClang,
  hasVmlinux,
  scratchPath,
  testObjects,
  vmlinuxPath,
} from "./btf-helpers.js";

const noBpftool = hasBpftool ? false : "needs bpftool";
const noClang = hasClang ? false : "needs clang-19";
const noVmlinux = hasVmlinux ? false : `needs a readable ${vmlinuxPath}`;

/** The kinds bpftool prints as top-level declarations. */
const DECLARED = new Set(["struct", "union", "enum", "enum64", "typedef", "fwd"]);

/**
 * Asserts that bpftool's C dump of `path` contains formatCDecl's text for every named declaration.
 * bpftool renames types and enumerators whose names repeat (`name___2`); those suffixes are removed
 * first. It leaves out `__builtin_va_list`, which compilers predefine.
 */
function assertMatchesBpftool(btf: Btf, path: string): number {
  const dump = bpftool("btf", "dump", "file", path, "format", "c").replace(/___\d+\b/g, "");
  let checked = 0;
  for (const [id, type] of btf) {
    if (!DECLARED.has(type.kind) || type.name === "" || type.name === "__builtin_va_list") continue;
    const text = formatCDecl(btf, id);
    if (!dump.includes(`${text}\n\n`)) assert.fail(`bpftool prints [${id}] ${type.kind} ${type.name} differently:\n${text}`);
    checked++;
  }
  return checked;
}

describe("formatCDecl()", () => {
  for (const object of testObjects()) {
    test(`prints every declaration of ${object.name} as bpftool does`, { skip: noBpftool }, () => {
      assertMatchesBpftool(Btf.parse(object.btf), object.path);
    });
  }

  test("prints every declaration of vmlinux as bpftool does", { skip: noBpftool || noVmlinux }, (t) => {
    const btf = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)));
    t.diagnostic(`${assertMatchesBpftool(btf, vmlinuxPath)} declarations checked`);
  });

  test("prints functions and variables with their linkage", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const decl = (name: string, kind: "func" | "var") => formatCDecl(btf, btf.find(name, kind)!);
    assert.equal(decl("helper", "func"), "static int helper(struct node *n, int k);");
    assert.equal(decl("entry", "func"), "int entry(struct node *ctx);");
    assert.equal(decl("bpf_some_kfunc", "func"), "extern int bpf_some_kfunc(int, struct node *);");
    assert.equal(decl("some_kernel_var", "var"), "extern const int some_kernel_var;");
    assert.equal(decl("config", "var"), "volatile const u64 config;");
    assert.equal(decl("_license", "var"), "char _license[4];");
    assert.equal(
      decl("node_map", "var"),
      "struct {\n\tint (*type)[1];\n\tint (*max_entries)[16];\n\tu32 *key;\n\tstruct node *value;\n} node_map;",
    );
  });

  test("prints bitfields, packed structs and padding", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    assert.equal(
      formatCDecl(btf, btf.find("flags", "struct")!),
      "struct flags {\n\tunsigned int a: 1;\n\tunsigned int b: 3;\n\tint c: 5;\n\tunsigned long long wide: 40;\n" +
        "\tchar after;\n\tshort s: 7;\n};",
    );
    assert.equal(
      formatCDecl(btf, btf.find("packed_thing", "struct")!),
      "struct packed_thing {\n\tchar c;\n\tint i;\n} __attribute__((packed));",
    );
    assert.equal(
      formatCDecl(btf, btf.find("aligned_gap", "struct")!),
      "struct aligned_gap {\n\tchar c;\n\tlong: 64;\n\tlong long big;\n\tlong: 64;\n};",
    );
    assert.equal(formatCDecl(btf, btf.find("empty", "struct")!), "struct empty {};");
    assert.equal(formatCDecl(btf, btf.find("big", "enum64")!), "enum big {\n\tHUGE = 4294967296LL,\n\tNEG = -2LL,\n};");
    assert.equal(formatCDecl(btf, btf.find("later", "fwd")!), "union later;");
  });

  test("refuses kinds that declare nothing", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    for (const kind of ["int", "ptr", "datasec", "decl_tag", "func_proto"] as const) {
      const id = [...btf].find(([, type]) => type.kind === kind)![0];
      assert.throws(() => formatCDecl(btf, id), TypeError, kind);
    }
  });
});

describe("formatCType()", () => {
  test("writes declarators inside out: pointers to arrays, arrays of function pointers, qualifiers", {
    skip: noClang,
  }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const node = btf.type(btf.find("node", "struct")!) as BtfStruct;
    const member = (name: string) => node.members.find((m) => m.name === name)!.type;
    const cases: [string, string, string][] = [
      ["next", "struct node *next", "struct node *"],
      ["name", "const char *name", "const char *"],
      ["fixed", "char * const fixed", "char * const"],
      ["counter", "volatile int counter", "volatile int"],
      ["out", "int * restrict out", "int * restrict"],
      ["matrix", "int matrix[3][4]", "int[3][4]"],
      ["row", "int (*row)[4]", "int(*)[4]"], // bpftool spaces only named declarators
      ["ops", "binop ops[2]", "binop[2]"],
      ["handlers", "void (*handlers[3])(int)", "void (*[3])(int)"],
      ["factory", "int (* (*factory)(void))(long)", "int (* (*)(void))(long)"],
      ["point", "struct {\n\tint x;\n\tint y;\n} point", "struct {\n\tint x;\n\tint y;\n}"],
      ["anon_enum", "enum {\n\tANON_A = 0,\n\tANON_B = 1,\n} anon_enum", "enum {\n\tANON_A = 0,\n\tANON_B = 1,\n}"],
      ["cv", "cv_u32 cv", "cv_u32"],
      ["log", "variadic log", "variadic"],
      ["user_ptr", 'int __attribute__((btf_type_tag("user"))) *user_ptr', 'int __attribute__((btf_type_tag("user"))) *'],
      ["opaque", "struct opaque *opaque", "struct opaque *"],
      ["later", "union later *later", "union later *"],
      ["tail", "char tail[0]", "char[0]"],
    ];
    for (const [name, named, abstract] of cases) {
      assert.equal(formatCType(btf, member(name), name), named);
      assert.equal(formatCType(btf, member(name)), abstract);
    }
    assert.equal(formatCType(btf, btf.resolve(btf.find("variadic")!)), "void (*)(const char *, ...)");
    assert.equal(formatCType(btf, 0, "nothing"), "void nothing");
    assert.equal(formatCType(btf, btf.find("entry", "func")!, "f"), "int f(struct node *ctx)");
    assert.throws(() => formatCType(btf, btf.find(".data", "datasec")!), TypeError);
  });

  test("prints a type_tag marked as an attribute as that attribute", () => {
    const btf = Btf.create();
    const int = btf.add({ kind: "int", name: "int", size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 });
    const tag = btf.add({ kind: "type_tag", name: "address_space(1)", type: int, attribute: true });
    const ptr = btf.add({ kind: "ptr", name: "", type: tag });
    assert.equal(formatCType(btf, ptr, "p"), "int __attribute__((address_space(1))) *p");
  });

  test("rejects a pointer cycle with FormatError", () => {
    const btf = Btf.create();
    btf.add({ kind: "ptr", name: "", type: 2 });
    btf.add({ kind: "const", name: "", type: 1 });
    assert.throws(() => formatCType(btf, 1), { name: "FormatError" });
  });
});

describe("dumpC()", () => {
  for (const object of testObjects()) {
    test(`prints ${object.name} exactly as bpftool's C dump`, { skip: noBpftool }, () => {
      assert.equal(dumpC(Btf.parse(object.btf)), bpftool("btf", "dump", "file", object.path, "format", "c"));
    });
  }

  test("prints vmlinux exactly as bpftool's C dump (vmlinux.h)", { skip: noBpftool || noVmlinux }, (t) => {
    const btf = Btf.parse(new Uint8Array(readFileSync(vmlinuxPath)));
    const start = performance.now();
    const header = dumpC(btf);
    t.diagnostic(`vmlinux.h: ${header.length} characters in ${(performance.now() - start).toFixed(0)} ms`);
    assert.ok(header === bpftool("btf", "dump", "file", vmlinuxPath, "format", "c"), "differs from bpftool");
  });

  test("prints a header that clang compiles, with every struct at its BTF size", { skip: noClang }, () => {
    const btf = Btf.parse(compile("kinds").btf);
    const asserts = [...btf]
      .filter(([, type]) => (type.kind === "struct" || type.kind === "union") && type.name !== "")
      .map(([id, type]) => `_Static_assert(sizeof(${formatCType(btf, id)}) == ${btf.sizeof(id)}, "${type.name}");`);
    assert.ok(asserts.length > 5);
    const path = scratchPath("kinds.h.c");
    writeFileSync(path, `${dumpC(btf)}\n${asserts.join("\n")}\n`);
    execFileSync("clang-19", ["-target", "bpf", "-fsyntax-only", "-Werror", path], { stdio: "pipe" });
  });

  test("leaves out the include guard on request", { skip: noClang }, () => {
    const btf = Btf.parse(compile("core").btf);
    const body = dumpC(btf, { guard: false });
    assert.ok(!body.includes("#"), "no preprocessor lines");
    assert.ok(body.includes("struct task {\n"));
    assert.ok(dumpC(btf).includes(`#endif\n\n${body}#ifndef`));
  });

  test("rejects a struct that contains itself with FormatError", () => {
    const btf = Btf.create();
    btf.add({ kind: "struct", name: "loop", size: 4, members: [{ name: "self", type: 1, bitOffset: 0, bitfieldSize: 0 }] });
    assert.throws(() => dumpC(btf), { name: "FormatError" });
  });
});
