/**
 * The Instruction model, decoding and encoding in both byte orders, slot arithmetic and the helper table.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isWaggleError } from "../../src/errors.js";
import {
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_DW,
  BPF_JMP,
  BPF_K,
  BPF_LD_IMM64,
  BPF_MEM,
  BPF_SUB,
  BPF_W,
  BPF_X,
  Instruction,
  ProgramBuilder,
  R0,
  R1,
  R2,
  decodeInstructions,
  encodeInstructions,
  formatInstruction,
  helperId,
  helperName,
  instructionAtSlot,
  slotOffsets,
} from "../../src/asm/index.js";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("Instruction", () => {
  test("setters reject values that do not fit their field", () => {
    const insn = new Instruction({ opcode: 0x07 });
    assert.throws(() => (insn.opcode = 256), RangeError);
    assert.throws(() => (insn.dst = 16), RangeError);
    assert.throws(() => (insn.src = -1), RangeError);
    assert.throws(() => (insn.offset = 0x8000), RangeError);
    assert.throws(() => (insn.imm = 2 ** 32), RangeError);
    assert.throws(() => (insn.imm = 0.5), RangeError);
    assert.throws(() => new Instruction({ opcode: 0x07, dst: 11.5 }), RangeError);
  });

  test("imm and imm2 store unsigned 32-bit values as their two's complement", () => {
    const insn = new Instruction({ opcode: 0x07, imm: 0xffffffff, imm2: 0x80000000 });
    assert.equal(insn.imm, -1);
    assert.equal(insn.imm2, -0x80000000);
  });

  test("constant64 joins imm and imm2 into a signed 64-bit value and splits it back", () => {
    const insn = new Instruction({ opcode: BPF_LD_IMM64 });
    insn.constant64 = 0x1122334455667788n;
    assert.deepEqual([insn.imm, insn.imm2], [0x55667788, 0x11223344]);
    insn.constant64 = 0xffffffff00000001n;
    assert.deepEqual([insn.imm, insn.imm2, insn.constant64], [1, -1, -0xffffffffn]);
    insn.constant64 = -(1n << 63n);
    assert.equal(insn.constant64, -(1n << 63n));
    assert.throws(() => (insn.constant64 = 1n << 64n), RangeError);
    assert.throws(() => (insn.constant64 = -(1n << 63n) - 1n), RangeError);
  });

  test("getters split the opcode into class, operation, source, size and mode", () => {
    const sub = new Instruction({ opcode: BPF_ALU64 | BPF_SUB | BPF_X });
    assert.deepEqual([sub.cls, sub.operation, sub.aluOp, sub.source], [BPF_ALU64, BPF_SUB, BPF_SUB, BPF_X]);
    const xadd = new Instruction({ opcode: 0xdb });
    assert.deepEqual([xadd.size, xadd.mode, xadd.isAtomic], [BPF_DW, BPF_ATOMIC, true]);
    const load = new Instruction({ opcode: 0x61 });
    assert.deepEqual([load.size, load.mode, load.isAtomic], [BPF_W, BPF_MEM, false]);
    assert.equal(new Instruction({ opcode: BPF_JMP | BPF_K }).jmpOp, 0);
  });

  test("predicates tell calls, jumps, exits and 64-bit loads apart", () => {
    const [lddw, helper, local, kfunc, ja, gotol, jeq, mayGoto, exit] = new ProgramBuilder()
      .lddw(R1, 1n)
      .call(1)
      .emit(new Instruction({ opcode: 0x85, src: 1, imm: 2 }))
      .callKfunc(7)
      .ja(0)
      .gotol(5)
      .jeq(R0, R1, -1)
      .mayGoto(0)
      .exit()
      .build();
    const flags = (insn: Instruction) =>
      [insn.isLdImm64, insn.isCall, insn.isHelperCall, insn.isPseudoCall, insn.isKfuncCall, insn.isJump, insn.isExit, insn.slots];
    assert.deepEqual(flags(lddw!), [true, false, false, false, false, false, false, 2]);
    assert.deepEqual(flags(helper!), [false, true, true, false, false, false, false, 1]);
    assert.deepEqual(flags(local!), [false, true, false, true, false, false, false, 1]);
    assert.deepEqual(flags(kfunc!), [false, true, false, false, true, false, false, 1]);
    assert.deepEqual(flags(exit!), [false, false, false, false, false, false, true, 1]);
    for (const jump of [ja!, gotol!, jeq!, mayGoto!]) assert.equal(jump.isJump, true);
    assert.deepEqual([gotol!.isLongJump, gotol!.jumpOffset, jeq!.jumpOffset], [true, 5, -1]);
  });

  test("isPseudoFunc and isMapReference tell the pseudo sources of 64-bit loads apart", () => {
    const loads = [0, 1, 2, 3, 4, 5, 6].map((src) => new Instruction({ opcode: BPF_LD_IMM64, src }));
    assert.deepEqual(loads.map((insn) => insn.isPseudoFunc), [false, false, false, false, true, false, false]);
    assert.deepEqual(loads.map((insn) => insn.isMapReference), [false, true, true, false, false, true, true]);
  });

  test("clone() copies fields and metadata into an independent instruction", () => {
    const line = { fileName: "p.c", line: "return 0;", lineNumber: 3, column: 2, fileNameOff: 1, lineOff: 5 };
    const coreRelocation = { typeId: 7, accessStr: "0:1", kind: 0 };
    const original = new Instruction({ opcode: 0x05, offset: 3, symbol: "a", reference: "b", funcType: 9, line, coreRelocation });
    const copy = original.clone();
    copy.offset = 4;
    copy.symbol = "c";
    assert.deepEqual([original.offset, original.symbol, copy.reference], [3, "a", "b"]);
    assert.deepEqual([copy.funcType, copy.line, copy.coreRelocation], [9, line, coreRelocation]);
  });
});

describe("decodeInstructions() and encodeInstructions()", () => {
  test("read dst from the low nibble in little-endian objects and from the high nibble in big-endian ones", () => {
    // The ISA's own example: r1 += 0x11223344 in both byte orders.
    const little = decodeInstructions(bytes(0x07, 0x01, 0, 0, 0x44, 0x33, 0x22, 0x11));
    const big = decodeInstructions(bytes(0x07, 0x10, 0, 0, 0x11, 0x22, 0x33, 0x44), { littleEndian: false });
    for (const [insn] of [little, big]) {
      assert.deepEqual([insn!.dst, insn!.src, insn!.imm], [1, 0, 0x11223344]);
      assert.equal(formatInstruction(insn!), "r1 += 0x11223344");
    }
    const [move] = decodeInstructions(bytes(0xbf, 0x12, 0xff, 0xfe, 0, 0, 0, 0), { littleEndian: false });
    assert.deepEqual([move!.dst, move!.src, move!.offset], [1, 2, -2]);
  });

  test("encode the two byte orders as exact inverses of decoding", () => {
    const program = new ProgramBuilder().lddw(R1, -2n).stx("u16", R1, R2, -3).exit().build();
    for (const littleEndian of [true, false]) {
      const encoded = encodeInstructions(program, { littleEndian });
      assert.equal(encoded.length, 32);
      assert.deepEqual(encodeInstructions(decodeInstructions(encoded, { littleEndian }), { littleEndian }), encoded);
    }
    assert.deepEqual(
      encodeInstructions(program, { littleEndian: false }).subarray(0, 16),
      bytes(0x18, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
    );
  });

  test("honour the byte offset of a subarray", () => {
    const buffer = new Uint8Array(24);
    buffer.set(bytes(0x95, 0, 0, 0, 0, 0, 0, 0), 8);
    assert.equal(decodeInstructions(buffer.subarray(8, 16))[0]!.isExit, true);
  });

  test("reject a length that is not a multiple of 8, naming the file, section and offset", () => {
    assert.throws(
      () => decodeInstructions(new Uint8Array(13), { file: "x.o", section: "xdp" }),
      (error: unknown) =>
        isWaggleError(error, "FormatError") && error.file === "x.o" && error.section === "xdp" && error.offset === 8,
    );
  });

  test("reject a 64-bit load without its second slot", () => {
    const truncated = new Uint8Array(16);
    truncated[8] = BPF_LD_IMM64;
    assert.throws(() => decodeInstructions(truncated), (error: unknown) => isWaggleError(error, "FormatError") && error.offset === 8);
  });

  test("reject a 64-bit load whose second slot has non-zero reserved fields", () => {
    const malformed = bytes(0x18, 0x01, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x00, 0, 0, 0, 0);
    assert.throws(() => decodeInstructions(malformed), (error: unknown) => isWaggleError(error, "FormatError") && error.offset === 8);
  });

  test("keep undefined opcodes as they are, formatted <unknown>", () => {
    const raw = bytes(0x8f, 0x21, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const program = decodeInstructions(raw);
    assert.deepEqual(encodeInstructions(program), raw);
    assert.deepEqual(program.map((insn) => formatInstruction(insn)), ["<unknown>", "<unknown>"]);
    assert.equal(
      formatInstruction(program[0]!, { syntax: "pretty" }),
      "<unknown: opcode 0x8f, dst 1, src 2, offset 0x1234, imm 0x12345678>",
    );
  });
});

describe("slotOffsets() and instructionAtSlot()", () => {
  test("count a 64-bit load as two slots and find the instruction at a slot", () => {
    const program = new ProgramBuilder().mov(R0, 0).lddw(R1, 1n).lddw(R2, 2n).exit().build();
    const offsets = slotOffsets(program);
    assert.deepEqual(offsets, [0, 1, 3, 5]);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, -1].map((slot) => instructionAtSlot(offsets, slot)), [0, 1, -1, 2, -1, 3, -1, -1]);
  });
});

describe("helperName() and helperId()", () => {
  test("map helper ids to names with the bpf_ prefix, and names with or without it back to ids", () => {
    assert.equal(helperName(1), "bpf_map_lookup_elem");
    assert.equal(helperName(211), "bpf_cgrp_storage_delete");
    assert.deepEqual([helperName(0), helperName(212), helperName(-1), helperName(1.5)], [undefined, undefined, undefined, undefined]);
    assert.equal(helperId("bpf_map_lookup_elem"), 1);
    assert.equal(helperId("cgrp_storage_delete"), 211);
    assert.deepEqual([helperId("unspec"), helperId("bpf_unspec"), helperId("bpf_nothing")], [undefined, undefined, undefined]);
  });
});
