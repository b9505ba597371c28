/**
 * Every instruction of the ISA, built with the builder: its text in llvm's and Waggle's syntax, its
 * encoding, and the round trips through decode and assemble. With llvm-19 installed the same table is
 * checked against llvm-objdump-19 (our text) and llvm-mc-19 (our bytes), so each instruction is covered
 * whether or not clang happens to emit it.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  FP,
  Instruction,
  ProgramBuilder,
  R0,
  R1,
  R2,
  R3,
  assemble,
  decodeInstructions,
  disassemble,
  encodeInstructions,
  formatInstruction,
} from "../../src/asm/index.js";
import { repoRoot } from "../helpers/fixtures.js";
import { assertSameInstructions } from "./asm/sections.js";
import { llvmAssemble, llvmSkipReason, normalizeSpace, objdump, objectOfBytes } from "./asm/support.js";

/** One row: how to build the instruction (the first one built) and how each syntax writes it. */
interface Row {
  /** The llvm text without alu32. */
  readonly llvm: string;
  readonly build: (b: ProgramBuilder) => ProgramBuilder;
  /** The llvm text with alu32, when it differs. */
  readonly alu32?: string;
  /** Waggle's pretty text, when it differs from llvm's. */
  readonly pretty?: string;
  /** What llvm-objdump-19 prints instead, where we knowingly differ (see disassemble.ts). */
  readonly llvm19?: { readonly plain?: string; readonly alu32?: string };
}

const ALU: readonly (readonly [keyof ProgramBuilder & string, string])[] = [
  ["add", "+="], ["sub", "-="], ["mul", "*="], ["div", "/="], ["sdiv", "s/="], ["mod", "%="], ["smod", "s%="],
  ["or", "|="], ["and", "&="], ["xor", "^="], ["lsh", "<<="], ["rsh", ">>="], ["arsh", "s>>="], ["mov", "="],
];
const JUMPS: readonly (readonly [keyof ProgramBuilder & string, string])[] = [
  ["jeq", "=="], ["jne", "!="], ["jgt", ">"], ["jge", ">="], ["jlt", "<"], ["jle", "<="],
  ["jsgt", "s>"], ["jsge", "s>="], ["jslt", "s<"], ["jsle", "s<="], ["jset", "&"],
];
type Method = (this: ProgramBuilder, ...args: unknown[]) => ProgramBuilder;
const call = (name: string, ...args: unknown[]) => (b: ProgramBuilder) => (b[name as keyof ProgramBuilder] as Method).apply(b, args);

const ROWS: readonly Row[] = [
  // Arithmetic, 64 and 32 bits, register and immediate.
  ...ALU.flatMap(([name, operator]): Row[] => [
    { llvm: `r1 ${operator} r2`, build: call(name, R1, R2) },
    { llvm: `r1 ${operator} -0x7`, build: call(name, R1, -7) },
    { llvm: `w1 ${operator} w2`, build: call(`${name}32`, R1, R2) },
    { llvm: `w1 ${operator} 0x7fffffff`, build: call(`${name}32`, R1, 0x7fffffff) },
  ]),
  { llvm: "w1 = -0x1", build: (b) => b.mov32(R1, 0xffffffff) },
  { llvm: "r0 = -r0", build: (b) => b.neg(R0) },
  { llvm: "w3 = -w3", build: (b) => b.neg32(R3) },
  { llvm: "r1 = (s8)r2", build: (b) => b.movsx(R1, R2, 8) },
  { llvm: "r1 = (s16)r2", build: (b) => b.movsx(R1, R2, 16) },
  { llvm: "r1 = (s32)r2", build: (b) => b.movsx(R1, R2, 32) },
  { llvm: "w1 = (s8)w2", build: (b) => b.movsx32(R1, R2, 8) },
  { llvm: "w1 = (s16)w2", build: (b) => b.movsx32(R1, R2, 16) },
  { llvm: "r1 = addr_space_cast(r2, 0x0, 0x1)", build: (b) => b.addrSpaceCast(R1, R2, 0, 1) },
  { llvm: "r1 = addr_space_cast(r2, 0x1, 0x0)", build: (b) => b.addrSpaceCast(R1, R2, 1, 0) },
  ...([16, 32, 64] as const).flatMap((bits): Row[] => [
    { llvm: `r1 = le${bits} r1`, build: (b) => b.le(R1, bits) },
    { llvm: `r1 = be${bits} r1`, build: (b) => b.be(R1, bits) },
    { llvm: `r1 = bswap${bits} r1`, build: (b) => b.bswap(R1, bits) },
  ]),

  // Memory.
  ...(["u8", "u16", "u32"] as const).flatMap((size): Row[] => [
    { llvm: `r0 = *(${size} *)(r1 + 0x7fff)`, alu32: `w0 = *(${size} *)(r1 + 0x7fff)`, build: (b) => b.ldx(size, R0, R1, 0x7fff) },
    { llvm: `*(${size} *)(r10 - 0x8000) = r1`, alu32: `*(${size} *)(r10 - 0x8000) = w1`, build: (b) => b.stx(size, FP, R1, -0x8000) },
  ]),
  { llvm: "r0 = *(u64 *)(r1 + 0x0)", build: (b) => b.ldx("u64", R0, R1, 0) },
  { llvm: "*(u64 *)(r10 - 0x8) = r1", build: (b) => b.stx("u64", FP, R1, -8) },
  { llvm: "r0 = *(s8 *)(r1 - 0x1)", build: (b) => b.ldxsx("s8", R0, R1, -1) },
  { llvm: "r0 = *(s16 *)(r1 + 0x2)", build: (b) => b.ldxsx("s16", R0, R1, 2) },
  { llvm: "r0 = *(s32 *)(r1 + 0x4)", build: (b) => b.ldxsx("s32", R0, R1, 4) },
  { llvm: "*(u8 *)(r10 - 0x1) = 0xff", build: (b) => b.st("u8", FP, -1, 255) },
  { llvm: "*(u16 *)(r10 - 0x2) = -0x1", build: (b) => b.st("u16", FP, -2, -1) },
  { llvm: "*(u32 *)(r10 - 0x4) = -0x1", build: (b) => b.st("u32", FP, -4, 0xffffffff) },
  { llvm: "*(u64 *)(r10 - 0x8) = 0x7", build: (b) => b.st("u64", FP, -8, 7) },
  { llvm: "r0 = *(u8 *)skb[0x17]", build: (b) => b.ldabs("u8", 23) },
  { llvm: "r0 = *(u16 *)skb[0xc]", build: (b) => b.ldabs("u16", 12) },
  { llvm: "r0 = *(u32 *)skb[-0x4]", build: (b) => b.ldabs("u32", -4) },
  { llvm: "r0 = *(u8 *)skb[r6]", build: (b) => b.ldind("u8", "r6", 0) },
  { llvm: "r0 = *(u16 *)skb[r6]", build: (b) => b.ldind("u16", "r6", 0) },
  { llvm: "r0 = *(u32 *)skb[r6]", build: (b) => b.ldind("u32", "r6", 0) },

  // Atomics.
  { llvm: "lock *(u64 *)(r1 + 0x8) += r2", build: (b) => b.atomic("add", "u64", R1, R2, 8) },
  { llvm: "lock *(u64 *)(r1 + 0x8) |= r2", build: (b) => b.atomic("or", "u64", R1, R2, 8) },
  { llvm: "lock *(u64 *)(r1 + 0x8) &= r2", build: (b) => b.atomic("and", "u64", R1, R2, 8) },
  { llvm: "lock *(u64 *)(r1 + 0x8) ^= r2", build: (b) => b.atomic("xor", "u64", R1, R2, 8) },
  { llvm: "r2 = atomic_fetch_add((u64 *)(r1 - 0x8), r2)", build: (b) => b.atomic("add", "u64", R1, R2, -8, { fetch: true }) },
  { llvm: "r2 = atomic_fetch_or((u64 *)(r1 - 0x8), r2)", build: (b) => b.atomic("or", "u64", R1, R2, -8, { fetch: true }) },
  { llvm: "r2 = atomic_fetch_and((u64 *)(r1 - 0x8), r2)", build: (b) => b.atomic("and", "u64", R1, R2, -8, { fetch: true }) },
  { llvm: "r2 = atomic_fetch_xor((u64 *)(r1 - 0x8), r2)", build: (b) => b.atomic("xor", "u64", R1, R2, -8, { fetch: true }) },
  { llvm: "r2 = xchg_64(r1 + 0x0, r2)", build: (b) => b.atomic("xchg", "u64", R1, R2, 0) },
  { llvm: "r0 = cmpxchg_64(r1 + 0x0, r0, r2)", build: (b) => b.atomic("cmpxchg", "u64", R1, R2, 0) },
  { llvm: "lock *(u32 *)(r1 + 0x4) += r2", alu32: "lock *(u32 *)(r1 + 0x4) += w2", build: (b) => b.atomic("add", "u32", R1, R2, 4) },
  ...(["or", "and", "xor"] as const).map((op): Row => {
    const operator = { or: "|=", and: "&=", xor: "^=" }[op];
    return { llvm: `lock *(u32 *)(r1 + 0x4) ${operator} w2`, llvm19: { plain: "<unknown>" }, build: (b) => b.atomic(op, "u32", R1, R2, 4) };
  }),
  {
    llvm: "w2 = atomic_fetch_add((u32 *)(r1 + 0x4), w2)",
    llvm19: { plain: "lock *(u32 *)(r1 + 0x4) += r2" },
    build: (b) => b.atomic("add", "u32", R1, R2, 4, { fetch: true }),
  },
  ...(["or", "and", "xor"] as const).map(
    (op): Row => ({
      llvm: `w2 = atomic_fetch_${op}((u32 *)(r1 + 0x4), w2)`,
      llvm19: { plain: "<unknown>" },
      build: (b) => b.atomic(op, "u32", R1, R2, 4, { fetch: true }),
    }),
  ),
  { llvm: "w2 = xchg32_32(r1 + 0x0, w2)", llvm19: { plain: "<unknown>" }, build: (b) => b.atomic("xchg", "u32", R1, R2, 0) },
  { llvm: "w0 = cmpxchg32_32(r1 + 0x0, w0, w2)", llvm19: { plain: "<unknown>" }, build: (b) => b.atomic("cmpxchg", "u32", R1, R2, 0) },
  ...(["u8", "u16", "u32", "u64"] as const).flatMap((size): Row[] => {
    const w = size === "u64" ? "r" : "w";
    // llvm 19 predates load-acquire: it reads the 32- and 64-bit ones as an atomic add, the others as nothing.
    const asAdd = (register: string) => `lock *(${size} *)(r2 + 0x0) += ${register}1`;
    const llvm19 =
      size === "u8" || size === "u16" ? { plain: "<unknown>", alu32: "<unknown>" } : { plain: asAdd("r"), alu32: asAdd(w) };
    return [
      { llvm: `${w}2 = load_acquire((${size} *)(r1 + 0x0))`, llvm19, build: (b) => b.loadAcquire(size, R2, R1, 0) },
      {
        llvm: `store_release((${size} *)(r1 + 0x0), ${w}2)`,
        llvm19: { plain: "<unknown>", alu32: "<unknown>" },
        build: (b) => b.storeRelease(size, R1, R2, 0),
      },
    ];
  }),

  // 64-bit immediates.
  { llvm: "r1 = 0x1122334455667788 ll", build: (b) => b.lddw(R1, 0x1122334455667788n) },
  { llvm: "r1 = -0x1 ll", build: (b) => b.lddw(R1, 0xffffffffffffffffn) },
  { llvm: "r1 = 0x80000000 ll", build: (b) => b.lddw(R1, 0x80000000) },
  { llvm: "ld_pseudo\tr1, 0x1, 0x5", pretty: "r1 = map[0x5] ll", build: (b) => b.ldPseudo(R1, BPF_PSEUDO_MAP_FD, 5) },
  { llvm: "ld_pseudo\tr1, 0x2, 0x5", pretty: "r1 = map_value[0x5] ll", build: (b) => b.ldPseudo(R1, BPF_PSEUDO_MAP_VALUE, 5) },
  { llvm: "ld_pseudo\tr1, 0x3, 0x4d2", pretty: "r1 = btf_id[0x4d2] ll", build: (b) => b.ldPseudo(R1, BPF_PSEUDO_BTF_ID, 1234) },
  { llvm: "ld_pseudo\tr1, 0x4, 0x1", pretty: "r1 = func[f] ll", build: (b) => b.loadFunc(R1, "f").label("f").exit() },
  { llvm: "ld_pseudo\tr1, 0x5, 0x2", pretty: "r1 = map_idx[0x2] ll", build: (b) => b.ldPseudo(R1, BPF_PSEUDO_MAP_IDX, 2) },
  { llvm: "ld_pseudo\tr1, 0x6, 0x2", pretty: "r1 = map_idx_value[0x2] ll", build: (b) => b.ldPseudo(R1, BPF_PSEUDO_MAP_IDX_VALUE, 2) },
  { llvm: "ld_pseudo\tr1, 0x1, 0x0", pretty: "r1 = map[counts] ll", build: (b) => b.loadMap(R1, "counts") },
  { llvm: "r1 = 0x0 ll", pretty: "r1 = counts ll", build: (b) => b.emit(new Instruction({ opcode: 0x18, dst: 1, reference: "counts" })) },

  // Jumps.
  ...JUMPS.flatMap(([name, operator]): Row[] => [
    { llvm: `if r1 ${operator} r2 goto +0x2`, build: call(name, R1, R2, 2) },
    { llvm: `if r1 ${operator} -0x3 goto -0x1`, build: call(name, R1, -3, -1) },
    { llvm: `if w1 ${operator} w2 goto +0x7fff`, build: call(`${name}32`, R1, R2, 0x7fff) },
    { llvm: `if w1 ${operator} 0x7fffffff goto -0x8000`, build: call(`${name}32`, R1, 0x7fffffff, -0x8000) },
  ]),
  { llvm: "goto +0x0", build: (b) => b.ja(0) },
  { llvm: "gotol +0x3", build: (b) => b.gotol(3) },
  { llvm: "gotol -0x80000000", build: (b) => b.gotol(-0x80000000) },
  { llvm: "may_goto +0x1", build: (b) => b.mayGoto(1) },

  // Calls.
  { llvm: "call 0x1", pretty: "call bpf_map_lookup_elem#1", build: (b) => b.call("map_lookup_elem") },
  { llvm: "call 0xd3", pretty: "call bpf_cgrp_storage_delete#211", build: (b) => b.call(211) },
  { llvm: "call 0x3e8", build: (b) => b.call(1000) },
  { llvm: "call 0x0", pretty: "call f", build: (b) => b.callLocal("f").label("f").exit() },
  { llvm: "call -0x1", pretty: "call pc-0x1", build: (b) => b.emit(new Instruction({ opcode: 0x85, src: 1, imm: -1 })) },
  { llvm: "call 0x1c", pretty: "call kfunc[0x1c]", build: (b) => b.callKfunc(28) },
  { llvm: "callx r3", build: (b) => b.callx(R3) },
  { llvm: "exit", build: (b) => b.exit() },
];

/** The instruction a row describes. */
function subject(row: Row): Instruction {
  return row.build(new ProgramBuilder()).build()[0]!;
}

/** What llvm-objdump-19 prints for a row, when it differs from our text. */
function llvm19Override(row: Row, alu32: boolean): string | undefined {
  return alu32 ? row.llvm19?.alu32 : row.llvm19?.plain;
}

describe("every instruction of the ISA", () => {
  test("each row builds a distinct encoding", () => {
    const encodings = ROWS.map((row) => Buffer.from(encodeInstructions([subject(row)])).toString("hex"));
    const seen = new Map<string, string>();
    encodings.forEach((encoding, i) => {
      assert.equal(seen.get(encoding), undefined, `${ROWS[i]!.llvm} encodes like ${seen.get(encoding)}`);
      seen.set(encoding, ROWS[i]!.llvm);
    });
  });

  for (const row of ROWS) {
    test(`${row.llvm}: formats, decodes and assembles`, () => {
      const program = row.build(new ProgramBuilder()).build();
      const instruction = program[0]!;
      assert.equal(formatInstruction(instruction), row.llvm);
      assert.equal(formatInstruction(instruction, { alu32: true }), row.alu32 ?? row.llvm);
      assert.equal(formatInstruction(instruction, { syntax: "pretty" }), row.pretty ?? row.llvm);

      for (const littleEndian of [true, false]) {
        const bytes = encodeInstructions(program, { littleEndian });
        const decoded = decodeInstructions(bytes, { littleEndian });
        assert.deepEqual(
          decoded.map((insn) => ({ ...insn.fields(), symbol: undefined, reference: undefined })),
          program.map((insn) => ({ ...insn.fields(), symbol: undefined, reference: undefined })),
        );
      }

      const pretty = disassemble(program, { syntax: "pretty" }).join("\n");
      assertSameInstructions(assemble(pretty), program, pretty);
      if (!instruction.isCall && !(instruction.isLdImm64 && instruction.src !== 0)) {
        // llvm's syntax drops the kind of call, the map reference and the second immediate of ld_pseudo.
        const llvm = disassemble(program).join("\n");
        assert.deepEqual(encodeInstructions(assemble(llvm)), encodeInstructions(program), llvm);
      }
    });
  }

  test("llvm-objdump-19 prints every row as we do, but for the known differences", { skip: llvmSkipReason }, () => {
    const program = ROWS.map(subject);
    program[0]!.symbol = "prog";
    for (const littleEndian of [true, false]) {
      const object = objectOfBytes(encodeInstructions(program, { littleEndian }), `isa-${littleEndian ? "el" : "eb"}`, !littleEndian);
      for (const alu32 of [false, true]) {
        const theirs = objdump(object, { alu32 }).get(".text")!.map(normalizeSpace);
        // Line 0 is the `<prog>:` header, then one line per row.
        const expected = disassemble(program, { alu32 }).map((line, i) => {
          const override = i === 0 ? undefined : llvm19Override(ROWS[i - 1]!, alu32);
          return normalizeSpace(override === undefined ? line : line.replace(/\t.*$/, `\t${override}`));
        });
        assert.deepEqual(theirs, expected, `alu32: ${alu32}, little-endian: ${littleEndian}`);
      }
    }
  });

  test("llvm-mc-19 encodes our llvm text of every row as we do", { skip: llvmSkipReason }, () => {
    // llvm-mc 19 knows no load-acquire or store-release, and reads gotol's displacement as 16 bits.
    const rows = ROWS.filter((row) => !/load_acquire|store_release|gotol -0x80000000/.test(row.llvm));
    const program = rows.map(subject);
    const text = program.map((instruction) => formatInstruction(instruction)).join("\n");
    const expected = encodeInstructions(
      program.map((instruction) => {
        if (!instruction.isCall) return instruction;
        const helperCall = instruction.clone();
        helperCall.src = 0; // `call 0x1c` is a helper call to llvm-mc too
        return helperCall;
      }),
    );
    assert.deepEqual(llvmAssemble(text, "isa-rows"), expected);
  });
});

describe("the bpf_conformance corpus", () => {
  // Its `-- asm` blocks are in ubpf's syntax, not llvm's; its `-- raw` blocks are instruction words.
  const dir = join(repoRoot, "..", "shared", "conformance", "tests");
  const programs = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(".data"))
        .flatMap((name) =>
          readFileSync(join(dir, name), "utf8")
            .split(/^-- /m)
            .filter((block) => block.startsWith("raw\n"))
            .map((block) => ({ name, words: block.split("\n").slice(1).map((line) => line.trim()).filter((line) => line !== "") })),
        )
    : [];

  test("its raw programs decode, re-encode and round-trip through text", { skip: programs.length === 0 && "no conformance corpus with raw programs here" }, () => {
    for (const { name, words } of programs) {
      const bytes = new Uint8Array(words.length * 8);
      const view = new DataView(bytes.buffer);
      words.forEach((word, i) => view.setBigUint64(i * 8, BigInt(word), true));
      const instructions = decodeInstructions(bytes, { file: name });
      assert.deepEqual(encodeInstructions(instructions), bytes, name);
      assert.deepEqual(encodeInstructions(assemble(disassemble(instructions).join("\n"))), bytes, name);
    }
  });
});
