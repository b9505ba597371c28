/**
 * The text forms: disassemble()'s layout, jump annotations and the pretty syntax; assemble()'s inputs
 * (labels, comments, llvm-objdump output) and its errors.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWaggleError } from "../../src/errors.js";
import {
  FP,
  ProgramBuilder,
  R0,
  R1,
  R2,
  assemble,
  disassemble,
  encodeInstructions,
  formatInstruction,
} from "../../src/asm/index.js";

const counter = () =>
  new ProgramBuilder()
    .label("count")
    .loadMap(R1, "counts")
    .mov(R2, FP)
    .add(R2, -4)
    .call("bpf_map_lookup_elem")
    .jeq(R0, 0, "out")
    .mov(R1, 1)
    .atomic("add", "u64", R0, R1, 0)
    .label("out")
    .mov(R0, 0)
    .exit()
    .build();

describe("disassemble()", () => {
  test("lays a program out like llvm-objdump, with symbol headers and annotated jumps", () => {
    assert.deepEqual(disassemble(counter()), [
      "0000000000000000 <count>:",
      "       0:\tld_pseudo\tr1, 0x1, 0x0",
      "       2:\tr2 = r10",
      "       3:\tr2 += -0x4",
      "       4:\tcall 0x1",
      "       5:\tif r0 == 0x0 goto +0x2 <out>",
      "       6:\tr1 = 0x1",
      "       7:\tlock *(u64 *)(r0 + 0x0) += r1",
      "",
      "0000000000000040 <out>:",
      "       8:\tr0 = 0x0",
      "       9:\texit",
    ]);
  });

  test("names helpers, maps and labels in the pretty syntax", () => {
    assert.deepEqual(
      disassemble(counter(), { syntax: "pretty" }).filter((line) => /^ +\d/.test(line)).map((line) => line.split("\t")[1]),
      ["r1 = map[counts] ll", "r2 = r10", "r2 += -0x4", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r1 = 0x1", "lock *(u64 *)(r0 + 0x0) += r1", "r0 = 0x0", "exit"],
    );
  });

  test("numbers slots and addresses from the section offset, and names jump targets after the nearest symbol", () => {
    const program = new ProgramBuilder().label("f").jeq(R1, 0, 2).ja(-3).ja(-20).exit().build();
    assert.deepEqual(disassemble(program, { sectionOffset: 0x40 }), [
      "0000000000000040 <f>:",
      "       8:\tif r1 == 0x0 goto +0x2 <f+0x18>",
      // Before the first symbol there is none to name; below address 0, llvm wraps around to the last one.
      "       9:\tgoto -0x3",
      "      10:\tgoto -0x14 <f+0xffffffffffffff78>",
      "      11:\texit",
    ]);
    assert.throws(() => disassemble(program, { sectionOffset: 4 }), RangeError);
  });

  test("shows source lines as comments in the pretty syntax, which assemble() skips", () => {
    const line = (lineNumber: number, text: string) => ({ fileName: "p.c", line: text, lineNumber, column: 1, fileNameOff: 0, lineOff: 0 });
    const program = new ProgramBuilder().mov(R0, 0).mov(R1, 1).exit().build();
    program[0]!.line = line(3, "\tint x = 0;");
    program[1]!.line = line(3, "\tint x = 0;");
    program[2]!.line = line(4, "\treturn x;");
    const text = disassemble(program, { syntax: "pretty" });
    assert.deepEqual(text, [
      "; int x = 0; (p.c:3)",
      "       0:\tr0 = 0x0",
      "       1:\tr1 = 0x1",
      "; return x; (p.c:4)",
      "       2:\texit",
    ]);
    assert.deepEqual(disassemble(program).length, 3);
    assert.deepEqual(encodeInstructions(assemble(text.join("\n"))), encodeInstructions(program));
  });

  test("prints 32-bit loads and stores with w registers only with alu32, like llvm-objdump --mattr=+alu32", () => {
    const [load] = new ProgramBuilder().ldx("u16", R1, R2, 6).build();
    assert.equal(formatInstruction(load!), "r1 = *(u16 *)(r2 + 0x6)");
    assert.equal(formatInstruction(load!, { alu32: true }), "w1 = *(u16 *)(r2 + 0x6)");
  });
});

describe("assemble()", () => {
  test("reads labels, jumps to labels and comments", () => {
    const program = assemble(`
      // return 1 when r1 is not zero
      entry:
        r0 = 0x0      # clang's comment
        if r1 == 0x0 goto out ; bpftool's
        r0 = 1
      out:
        exit
    `);
    assert.deepEqual(encodeInstructions(program), encodeInstructions(new ProgramBuilder().mov(R0, 0).jeq(R1, 0, 1).mov(R0, 1).exit().build()));
    assert.deepEqual([program[0]!.symbol, program[1]!.reference, program[3]!.symbol], ["entry", "out", "out"]);
  });

  test("reads llvm-objdump's output, ignoring line numbers and jump annotations", () => {
    const text = `
0000000000000000 <prog>:
       0:\tr1 = *(u32 *)(r1 + 0x4)
       1:\tif w1 s> -0x1 goto +0x1 <prog+0x18>
       2:\tgotol -0x3 <prog>
       3:\texit`;
    assert.deepEqual(disassemble(assemble(text)).join("\n"), text.trim());
  });

  test("reads the pretty syntax's helpers by name, with or without their id", () => {
    const program = assemble("call bpf_ktime_get_ns#5\ncall bpf_ktime_get_ns\ncall 0x5\ncall f\nf:\nexit");
    assert.deepEqual(program.map((insn) => [insn.src, insn.imm]), [[0, 5], [0, 5], [0, 5], [1, 0], [0, 0]]);
  });

  test("reads symbols with addends as references of 64-bit loads", () => {
    const [load] = assemble("r1 = .rodata + 0x10 ll");
    assert.deepEqual([load!.reference, load!.constant64, load!.src], [".rodata", 16n, 0]);
  });

  const rejects = (text: string, message: RegExp) =>
    assert.throws(() => assemble(text), (error: unknown) => isWaggleError(error, "FormatError") && message.test(error.message));

  test("rejects what is no instruction, naming the line", () => {
    rejects("exit\nr1 = = r2", /line 2: "r1 = = r2" is no instruction/);
    rejects("<unknown>", /line 1/);
    rejects("r12 = 0x1", /"r12" is no register/);
  });

  test("rejects operands that do not fit or do not agree", () => {
    rejects("w1 += r2", /registers mix r and w/);
    rejects("r1 += 0x80000000", /line 1: Cannot use 2147483648 as an immediate/);
    rejects("r1 = *(u8 *)(r2 + 0x8000)", /line 1/);
    rejects("w1 = *(u64 *)(r2 + 0x0)", /64-bit load needs an r register/);
    rejects("r1 = atomic_fetch_add((u64 *)(r2 + 0x0), r3)", /r1 and r3 must be the same register/);
    rejects("r1 = cmpxchg_64(r2 + 0x0, r0, r3)", /r1 and r0 must be the same register/);
    rejects("call bpf_map_update_elem#1", /helper 1 is bpf_map_lookup_elem/);
    rejects("r1 = nothing[x] ll", /"nothing" is no kind of 64-bit load/);
    rejects("w1 = (s32)w2", /cannot sign-extend from 32 bits/);
  });

  test("rejects jumps to undefined labels and labels defined twice", () => {
    rejects("goto nowhere", /"nowhere"/);
    assert.throws(() => assemble("a:\nexit\na:\nexit"), /line 3: Cannot define label "a"/);
  });
});
