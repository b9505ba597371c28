/**
 * The builder and the linker: labels, local calls, range checks and errors, and programs that encode to
 * the very bytes clang-19 emits for the same C.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWaggleError } from "../../src/errors.js";
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  FP,
  Instruction,
  ProgramBuilder,
  R0,
  R1,
  R2,
  R6,
  decodeInstructions,
  disassemble,
  encodeInstructions,
  link,
  type Register,
} from "../../src/asm/index.js";
import { compile, llvmSkipReason, readCodeSections } from "./asm/support.js";

/** The instruction lines of a disassembly, without slot numbers. */
function texts(instructions: readonly Instruction[], syntax: "llvm" | "pretty" = "llvm"): string[] {
  return disassemble(instructions, { syntax })
    .filter((line) => /^\s*\d+:\t/.test(line))
    .map((line) => line.replace(/^\s*\d+:\t/, ""));
}

describe("ProgramBuilder labels", () => {
  test("build() links forward and backward jumps, counting a 64-bit load as two slots", () => {
    const program = new ProgramBuilder()
      .mov(R1, 10)
      .label("loop")
      .lddw(R2, 1n << 40n)
      .sub(R1, 1)
      .jne(R1, 0, "loop")
      .jeq(R2, 0, "done")
      .mov(R0, 1)
      .label("done")
      .exit()
      .build();
    assert.equal(program[3]!.offset, -4); // from slot 5 back to slot 1
    assert.equal(program[4]!.offset, 1);
    assert.deepEqual(texts(program), [
      "r1 = 0xa",
      "r2 = 0x10000000000 ll",
      "r1 -= 0x1",
      "if r1 != 0x0 goto -0x4 <loop>",
      "if r2 == 0x0 goto +0x1 <done>",
      "r0 = 0x1",
      "exit",
    ]);
    assert.deepEqual(texts(program, "pretty").slice(3, 5), ["if r1 != 0x0 goto loop", "if r2 == 0x0 goto done"]);
  });

  test("several labels may mark one instruction; jumps to any of them are linked", () => {
    const program = new ProgramBuilder().ja("b").ja("a").label("a").label("b").exit().build();
    assert.equal(program[2]!.symbol, "a");
    assert.deepEqual(
      program.map((insn) => [insn.offset, insn.reference]),
      [[1, "a"], [0, "a"], [0, undefined]],
    );
  });

  test("build() names an undefined label", () => {
    const builder = new ProgramBuilder().jeq(R0, 0, "nowhere").exit();
    assert.throws(() => builder.build(), (error: unknown) => isWaggleError(error, "FormatError") && /"nowhere"/.test(error.message));
  });

  test("build() names the label of a jump beyond a 16-bit offset, which gotol reaches", () => {
    const far = (jump: (b: ProgramBuilder) => ProgramBuilder) => {
      const builder = jump(new ProgramBuilder());
      for (let i = 0; i < 0x8000; i++) builder.mov(R0, i);
      return builder.label("far").exit();
    };
    assert.throws(() => far((b) => b.ja("far")).build(), { name: "RangeError", message: /"far".*gotol/ });
    assert.throws(() => far((b) => b.jeq(R1, 0, "far")).build(), { name: "RangeError", message: /"far"/ });
    assert.equal(far((b) => b.gotol("far")).build()[0]!.imm, 0x8000);
  });

  test("label() rejects a duplicate, and build() a label that marks no instruction", () => {
    assert.throws(() => new ProgramBuilder().label("x").exit().label("x"), { name: "RangeError", message: /"x"/ });
    assert.throws(() => new ProgramBuilder().exit().label("end").build(), { name: "RangeError", message: /"end"/ });
  });

  test("callLocal() and loadFunc() link to the function's label", () => {
    const program = new ProgramBuilder()
      .loadFunc(R2, "callback")
      .callLocal("callback")
      .exit()
      .label("callback")
      .mov(R0, 0)
      .exit()
      .build();
    assert.deepEqual(
      program.slice(0, 2).map((insn) => [insn.src, insn.imm, insn.reference]),
      [[BPF_PSEUDO_FUNC, 3, "callback"], [BPF_PSEUDO_CALL, 1, "callback"]],
    );
    assert.deepEqual(texts(program, "pretty").slice(0, 2), ["r2 = func[callback] ll", "call callback"]);
    assert.deepEqual(texts(program).slice(0, 2), ["ld_pseudo\tr2, 0x4, 0x3", "call 0x1"]);
  });

  test("build() returns copies, and the builder keeps growing", () => {
    const builder = new ProgramBuilder().mov(R0, 0);
    const first = builder.build();
    first[0]!.imm = 9;
    const second = builder.exit().build();
    assert.equal(second.length, 2);
    assert.equal(second[0]!.imm, 0);
  });

  test("emit() appends copies of instructions with their metadata", () => {
    const original = new Instruction({ opcode: 0x95, symbol: "end" });
    const program = new ProgramBuilder().ja("end").emit(original).build();
    original.symbol = "changed";
    assert.equal(program[1]!.symbol, "end");
    assert.equal(program[0]!.offset, 0);
  });
});

describe("ProgramBuilder operands", () => {
  test("64-bit operations take signed 32-bit immediates, 32-bit ones also unsigned", () => {
    assert.throws(() => new ProgramBuilder().add(R1, 0x80000000), { name: "RangeError", message: /sign-extend/ });
    assert.throws(() => new ProgramBuilder().jeq(R1, 0xffffffff, 1), RangeError);
    assert.throws(() => new ProgramBuilder().mov(R1, 1.5), RangeError);
    assert.equal(new ProgramBuilder().and32(R1, 0xffffffff).build()[0]!.imm, -1);
    assert.equal(new ProgramBuilder().jeq32(R1, 0x80000000, 1).build()[0]!.imm, -0x80000000);
  });

  test("registers are r0 to r10; anything else is a TypeError", () => {
    assert.throws(() => new ProgramBuilder().mov("r11" as Register, 0), TypeError);
    assert.equal(new ProgramBuilder().mov(FP, R1).build()[0]!.dst, 10);
  });

  test("offsets, widths and jump displacements are range-checked", () => {
    assert.throws(() => new ProgramBuilder().ldx("u8", R0, R1, 0x8000), RangeError);
    assert.throws(() => new ProgramBuilder().movsx32(R0, R1, 32 as 8), RangeError);
    assert.throws(() => new ProgramBuilder().bswap(R0, 8 as 16), RangeError);
    assert.throws(() => new ProgramBuilder().ja(0x8000), { name: "RangeError", message: /gotol/ });
    assert.throws(() => new ProgramBuilder().lddw(R0, 2 ** 60), RangeError);
    assert.throws(() => new ProgramBuilder().lddw(R0, 1n << 64n), RangeError);
    assert.throws(() => new ProgramBuilder().addrSpaceCast(R0, R1, 0x10000, 0), RangeError);
  });

  test("call() takes helper ids and names with or without the bpf_ prefix", () => {
    const program = new ProgramBuilder().call(1).call("bpf_map_lookup_elem").call("map_lookup_elem").build();
    assert.deepEqual(program.map((insn) => insn.imm), [1, 1, 1]);
    assert.throws(() => new ProgramBuilder().call("bpf_no_such_helper"), { name: "RangeError", message: /bpf_no_such_helper/ });
  });

  test("maps, map values and kfuncs by name carry references for the loader", () => {
    const program = new ProgramBuilder()
      .loadMap(R1, "counts")
      .loadMapValue(R2, ".rodata", 16)
      .callKfunc("bpf_task_acquire")
      .callKfunc(1234)
      .build();
    assert.deepEqual(
      program.map((insn) => [insn.src, insn.imm, insn.imm2, insn.reference]),
      [
        [BPF_PSEUDO_MAP_FD, 0, 0, "counts"],
        [BPF_PSEUDO_MAP_VALUE, 0, 16, ".rodata"],
        [BPF_PSEUDO_KFUNC_CALL, 0, 0, "bpf_task_acquire"],
        [BPF_PSEUDO_KFUNC_CALL, 1234, 0, undefined],
      ],
    );
    assert.deepEqual(texts(program, "pretty"), [
      "r1 = map[counts] ll",
      "r2 = map_value[.rodata] + 0x10 ll",
      "call kfunc[bpf_task_acquire]",
      "call kfunc[0x4d2]",
    ]);
  });
});

describe("link()", () => {
  test("resolves references set on decoded instructions", () => {
    const bytes = encodeInstructions(new ProgramBuilder().ja(0).mov(R0, 0).mov(R0, 1).exit().build());
    const program = decodeInstructions(bytes);
    program[0]!.reference = "last";
    program[3]!.symbol = "last";
    link(program);
    assert.equal(program[0]!.offset, 2);
  });

  test("rejects a symbol defined twice", () => {
    const program = [new Instruction({ opcode: 0x95, symbol: "f" }), new Instruction({ opcode: 0x95, symbol: "f" })];
    assert.throws(() => link(program), (error: unknown) => isWaggleError(error, "FormatError") && error.offset === 8);
  });

  test("leaves references to maps, kfuncs and constants alone", () => {
    const program = new ProgramBuilder().loadMap(R1, "nowhere").callKfunc("nothing").exit().build();
    assert.equal(program[0]!.reference, "nowhere");
  });
});

describe("ProgramBuilder against clang-19", { skip: llvmSkipReason }, () => {
  const clangBytes = (cpu: "v1" | "v3") =>
    readCodeSections(compile("builder-equivalent", cpu).path).find((section) => section.name === "xdp")!.bytes;

  test("encodes the same bytes as clang for a small program (cpu v1)", () => {
    const program = new ProgramBuilder()
      .mov(R0, 1)
      .ldx("u32", R6, R1, 4)
      .jgt(R6, 15, "out")
      .call("bpf_get_prandom_u32")
      .add(R0, R6)
      .label("out")
      .exit()
      .build();
    assert.deepEqual(encodeInstructions(program), clangBytes("v1"));
  });

  test("encodes the same bytes as clang for a small program with 32-bit operations (cpu v3)", () => {
    const program = new ProgramBuilder()
      .mov32(R0, 1)
      .ldx("u32", R6, R1, 4)
      .jgt32(R6, 15, "out")
      .call("bpf_get_prandom_u32")
      .add32(R0, R6)
      .label("out")
      .exit()
      .build();
    assert.deepEqual(encodeInstructions(program), clangBytes("v3"));
  });
});
