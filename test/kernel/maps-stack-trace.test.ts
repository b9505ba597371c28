/**
 * Stack-trace maps through the typed API on the real kernel: the empty `m_stack_trace` of maps_btf.o,
 * and stacks captured for real. No fixture calls `bpf_get_stackid()` from a hook `attach()` supports
 * (perf_event.o's sampling program needs perf-event attach, which `attach()` does not offer yet), so
 * the capturing program is assembled here: a `tp/syscalls/sys_enter_getpid` program that stores this
 * process's kernel and user stack ids, attached with `BpfProgram.attach()`.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { BPF_PSEUDO_MAP_FD, encodeInstructions, FP, ProgramBuilder, R0, R1, R2, R3, R6, R7, R8, type Register } from "../../src/asm/index.js";
import { ArrayMap, BpfProgram, createMap, load, PROGRAM_TYPES, StackTraceMap } from "../../src/index.js";
import { libc, progLoad } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

const BPF_F_USER_STACK = 1 << 8;
const KERNEL_SPACE_START = 0xffff_8000_0000_0000n;
const DEPTH = 32;

/**
 * A tracepoint program on sys_enter_getpid that, for this process, writes the ids of the kernel stack
 * and the user stack into `ids[0]` and `ids[1]`.
 */
function stackProbe(stacks: StackTraceMap, ids: ArrayMap<bigint>): BpfProgram {
  const storeAt = (builder: ProgramBuilder, slot: number, from: Register) =>
    builder
      .st("u32", FP, -4, slot)
      .ldPseudo(R1, BPF_PSEUDO_MAP_FD, ids.fd.value)
      .mov(R2, FP)
      .add(R2, -4)
      .call("bpf_map_lookup_elem")
      .jeq(R0, 0, "out")
      .stx("u64", R0, from, 0);
  const builder = new ProgramBuilder()
    .mov(R6, R1)
    .call("bpf_get_current_pid_tgid")
    .rsh(R0, 32)
    .jne(R0, process.pid, "out")
    .mov(R1, R6)
    .ldPseudo(R2, BPF_PSEUDO_MAP_FD, stacks.fd.value)
    .mov(R3, 0)
    .call("bpf_get_stackid")
    .mov(R7, R0)
    .mov(R1, R6)
    .ldPseudo(R2, BPF_PSEUDO_MAP_FD, stacks.fd.value)
    .mov(R3, BPF_F_USER_STACK)
    .call("bpf_get_stackid")
    .mov(R8, R0);
  storeAt(builder, 0, R7);
  storeAt(builder, 1, R8);
  const insns = builder.label("out").mov(R0, 0).exit().build();
  const { fd } = progLoad({ progType: PROGRAM_TYPES.tracepoint, insns: encodeInstructions(insns), license: "GPL", name: "stack_probe" });
  return new BpfProgram(fd, "stack_probe", "tracepoint", undefined, "", { attachTo: "syscalls/sys_enter_getpid" });
}

describe("StackTraceMap", () => {
  kernelTest("an empty stack-trace map has no ids, and get() and delete() find nothing", () => {
    using coll = load(fixturePath("maps_btf"));
    const stacks = coll.map("m_stack_trace", StackTraceMap);
    assert.equal(stacks.valueCodec.description, "u64[32] stack");
    assert.deepEqual([...stacks.ids()], []);
    assert.equal(stacks.get(0), undefined);
    assert.equal(stacks.get(63), undefined);
    assert.equal(stacks.delete(0), false);
  });

  kernelTest("stacks a program captures are read back as instruction pointers, by id, and can be freed", (t) => {
    if (typeof BpfProgram.prototype.attach !== "function") return t.todo("BpfProgram.attach() is not implemented yet");
    using stacks = createMap(StackTraceMap, { type: "stack_trace", keySize: 4, valueSize: DEPTH * 8, maxEntries: 64, name: "stacks" });
    using ids = createMap(ArrayMap<bigint>, { type: "array", keySize: 4, valueSize: 8, maxEntries: 2 }, { value: "s64" });
    ids.setMany([-1n, -1n]);
    using probe = stackProbe(stacks, ids);
    const link = probe.attach();
    libc.getpid();
    const [kernelId, userId] = [...ids.values()];
    libc.getpid();
    const [kernelAgain] = [...ids.values()];
    link.close();
    assert.ok(kernelId! >= 0n, `kernel stack id ${kernelId}`);
    assert.ok(userId! >= 0n, `user stack id ${userId}`);
    assert.equal(kernelAgain, kernelId, "the same kernel stack gets the same id");

    const kernelStack = stacks.get(Number(kernelId))!;
    assert.ok(kernelStack.length > 1 && kernelStack.length <= DEPTH, `${kernelStack.length} kernel frames`);
    for (const ip of kernelStack) assert.ok(ip >= KERNEL_SPACE_START, `kernel address 0x${ip.toString(16)}`);
    const userStack = stacks.get(Number(userId))!;
    assert.ok(userStack.length >= 1);
    for (const ip of userStack) assert.ok(ip > 0n && ip < KERNEL_SPACE_START, `user address 0x${ip.toString(16)}`);

    assert.deepEqual([...stacks.ids()].sort(), [Number(kernelId), Number(userId)].sort());
    assert.equal(stacks.delete(Number(kernelId)), true);
    assert.equal(stacks.get(Number(kernelId)), undefined);
    assert.equal(stacks.delete(Number(kernelId)), false);
    assert.deepEqual([...stacks.ids()], [Number(userId)]);
  });
});
