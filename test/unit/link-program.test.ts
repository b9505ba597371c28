/** linkProgram(): call and callback offsets, map fds, func and line info, without touching the spec. */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, decodeInstructions, Instruction, ProgramBuilder, R0, R1 } from "../../src/asm/index.js";
import { ObjectSpec, ProgramSpec } from "../../src/index.js";
import { FUNC_INFO_SIZE, LINE_INFO_SIZE, linkProgram, sourceLineAt } from "../../src/object/link-program.js";
import { fixtureBytes } from "../helpers/fixtures.js";

function spec(instructions: ReturnType<ProgramBuilder["build"]>): ProgramSpec {
  return new ProgramSpec({
    name: "p", section: "xdp", type: "xdp", expectedAttachType: "xdp", attachTo: "", sectionFlags: [],
    autoload: true, license: "GPL", kernelVersion: 0, instructions,
  });
}

describe("linkProgram()", () => {
  test("resolves local calls and callback addresses to instruction offsets, and maps to fds", () => {
    const insns = new ProgramBuilder().loadMap(R1, "counts").mov(R0, 0).exit().build();
    const callee = new ProgramBuilder().mov(R0, 1).exit().build();
    callee[0]!.symbol = "helper";
    const caller = [
      new Instruction({ opcode: 0x18, dst: 1, src: BPF_PSEUDO_FUNC, reference: "helper" }),
      ...new ProgramBuilder().mov(R0, 0).build(),
    ];
    const call = [new Instruction({ opcode: 0x85, src: BPF_PSEUDO_CALL, imm: -1, reference: "helper" }), ...new ProgramBuilder().exit().build()];
    caller[0]!.symbol = "p";
    const program = spec([...caller, ...call, ...insns, ...callee]);
    const linked = linkProgram(program, { mapFd: (name) => (name === "counts" ? 42 : -1), withBtfInfo: false });
    const out = decodeInstructions(linked.insns);
    // slots: 0-1 ld func, 2 mov, 3 call, 4 exit, 5-6 ld map, 7 mov, 8 exit, 9 helper
    assert.equal(out[0]!.imm, 9 - 1, "callback offset counts from the next instruction");
    assert.equal(out[2]!.imm, 9 - 4, "call offset");
    assert.equal(out[4]!.imm, 42, "map fd");
    assert.equal(program.instructions[4]!.imm, 0, "the spec is not modified");
    assert.equal(linked.funcInfo, undefined);
  });

  test("an unknown callee or an unresolved extern is a clear error", () => {
    const call = [new Instruction({ opcode: 0x85, src: BPF_PSEUDO_CALL, reference: "missing" }), ...new ProgramBuilder().exit().build()];
    assert.throws(() => linkProgram(spec(call), { mapFd: () => 3, withBtfInfo: false }), /refers to function "missing", which is not part of the program/);
  });

  test("func and line info records count instructions of the linked program", () => {
    const object = ObjectSpec.parse(fixtureBytes("bpf2bpf"), { file: "bpf2bpf.o" });
    const calc = object.programs.get("calc")!;
    const linked = linkProgram(calc, { mapFd: () => 3, withBtfInfo: true });
    const functions = calc.instructions.filter((i) => i.symbol !== undefined).length;
    assert.equal(linked.funcInfo!.length, functions * FUNC_INFO_SIZE);
    assert.equal(linked.lineInfo!.length, calc.instructions.filter((i) => i.line).length * LINE_INFO_SIZE);
    const view = new DataView(linked.funcInfo!.buffer);
    assert.equal(view.getUint32(0, true), 0, "the entry function starts at instruction 0");
    const offsets = Array.from({ length: functions }, (_, i) => view.getUint32(i * FUNC_INFO_SIZE, true));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
  });

  test("sourceLineAt() finds the line of an instruction from the nearest line record before it", () => {
    const object = ObjectSpec.parse(fixtureBytes("verifier_fail"), { file: "verifier_fail.o" });
    const program = object.programs.get("bad_deref")!;
    const first = sourceLineAt(program.instructions, 0)!;
    assert.equal(first.file, "./verifier_fail.bpf.c");
    assert.ok(first.line > 0 && first.text.length > 0);
    assert.equal(sourceLineAt([], 3), undefined);
  });
});
