/**
 * Stack-trace maps through the typed API on the real kernel: the empty `m_stack_trace` of maps_btf.o,
 * and stacks captured for real. No fixture calls `bpf_get_stackid()` from a hook `attach()` supports
 * (perf_event.o's sampling program needs perf-event attach, which `attach()` does not offer yet), so
 * the capturing program is assembled here: a `tp/syscalls/sys_enter_getpid` program that stores one
 * process's kernel and user stack ids, attached with `BpfProgram.attach()`.
 *
 * Symbolisation is checked on a C program gcc builds here, whose call chain to getpid() is known:
 * main → waggle_marker → call_getpid → getpid (libc). The kernel walks user stacks by frame pointers,
 * so the program keeps them (-O0 also rules out inlining and tail calls); libc's getpid sets up no frame,
 * which hides its caller, call_getpid, from the walk — the stack reads getpid, waggle_marker, main.
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe } from "node:test";
import { BPF_PSEUDO_MAP_FD, encodeInstructions, FP, ProgramBuilder, R0, R1, R2, R3, R6, R7, R8, type Register } from "../../src/asm/index.js";
import { NotSupportedError } from "../../src/errors.js";
import { ArrayMap, BpfProgram, createMap, load, MapFlags, PROGRAM_TYPES, StackTraceMap } from "../../src/index.js";
import { elfSymbolAddress, formatFrame, KernelSymbols, type StackFrame } from "../../src/symbols/index.js";
import { libc, progLoad } from "../../src/sys/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

const BPF_F_USER_STACK = 1 << 8;
const KERNEL_SPACE_START = 0xffff_8000_0000_0000n;
const DEPTH = 32;
/** sizeof(struct bpf_stack_build_id): status, 20-byte build id, offset or ip. */
const BUILD_ID_FRAME_SIZE = 32;
/** How long to wait for the child's first getpid() to be captured. */
const CAPTURE_TIMEOUT_MS = 3000;
const POLL_MS = 5;

const PROGRAM_SOURCE = `
#include <unistd.h>
#include <stdio.h>

__attribute__((noinline)) static pid_t call_getpid(void) { return getpid(); }
__attribute__((noinline)) void waggle_marker(void) { call_getpid(); }

int main(void) {
  puts("ready");
  fflush(stdout);
  for (;;) {
    waggle_marker();
    usleep(1000);
  }
}
`;

/**
 * A tracepoint program on sys_enter_getpid that, for the main thread of process `pid` (its thread id is
 * the pid), writes the ids of the kernel stack and the user stack into `ids[0]` and `ids[1]`. Other
 * threads of the process (Node's, Waggle's verification workers) may call getpid too.
 */
function stackProbe(stacks: StackTraceMap, ids: ArrayMap<bigint>, pid: number): BpfProgram {
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
    .lsh(R0, 32)
    .rsh(R0, 32)
    .jne(R0, pid, "out")
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
    using stacks = createMap(StackTraceMap, { type: "stack_trace", keySize: 4, valueSize: DEPTH * 8, maxEntries: 16384, name: "stacks" });
    using ids = createMap(ArrayMap<bigint>, { type: "array", keySize: 4, valueSize: 8, maxEntries: 2 }, { value: "s64" });
    ids.setMany([-1n, -1n]);
    using probe = stackProbe(stacks, ids, process.pid);
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

  kernelTest("the stacks of a getpid() symbolise to the kernel's syscall path and to the functions of the program that called it", async (t) => {
    const gcc = spawnSync("gcc", ["--version"], { stdio: "ignore" });
    if (gcc.status !== 0) return t.skip("gcc is not installed");
    const dir = mkdtempSync(join(tmpdir(), "waggle-stacks-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const program = join(dir, "marker");
    writeFileSync(`${program}.c`, PROGRAM_SOURCE);
    const built = spawnSync("gcc", ["-O0", "-fno-omit-frame-pointer", "-o", program, `${program}.c`], { encoding: "utf8" });
    assert.equal(built.status, 0, built.stderr);

    const child = spawn(program, [], { stdio: ["ignore", "pipe", "inherit"] });
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      }
    });
    const [ready] = (await once(child.stdout!, "data")) as [Buffer];
    assert.equal(ready.toString(), "ready\n");

    using stacks = createMap(StackTraceMap, { type: "stack_trace", keySize: 4, valueSize: DEPTH * 8, maxEntries: 16384, name: "stacks" });
    using ids = createMap(ArrayMap<bigint>, { type: "array", keySize: 4, valueSize: 8, maxEntries: 2 }, { value: "s64" });
    ids.setMany([-1n, -1n]);
    using probe = stackProbe(stacks, ids, child.pid!);
    const link = probe.attach();
    const deadline = Date.now() + CAPTURE_TIMEOUT_MS;
    let [kernelId, userId] = [...ids.values()] as [bigint, bigint];
    while ((kernelId < 0n || userId < 0n) && Date.now() < deadline) {
      await sleep(POLL_MS);
      [kernelId, userId] = [...ids.values()] as [bigint, bigint];
    }
    link.close();
    assert.ok(kernelId >= 0n && userId >= 0n, `stack ids ${kernelId}, ${userId} within ${CAPTURE_TIMEOUT_MS} ms`);

    const kernel = stacks.symbolize(Number(kernelId))!;
    const kernelText = kernel.map(formatFrame).join("\n");
    const kallsyms = KernelSymbols.load();
    for (const frame of kernel) {
      assert.ok(frame.kind === "symbol" && frame.module === undefined, `a vmlinux symbol covers every frame:\n${kernelText}`);
      // Code, not data: a text symbol of that name at that address.
      const [symbol] = kallsyms.lookup(frame.name).filter((s) => s.address === frame.address - frame.offset);
      assert.ok(symbol !== undefined && /^[tT]$/.test(symbol.type), `${formatFrame(frame)} is a function`);
    }
    if (process.arch === "x64") {
      // 6.18 gives perf_syscall_enter, syscall_trace_enter, do_syscall_64, entry_SYSCALL_64_after_hwframe.
      assert.match(kernelText, /^do_syscall_64\+0x[0-9a-f]+$/m, `the stack goes through do_syscall_64:\n${kernelText}`);
      const entry = kernelText.slice(kernelText.lastIndexOf("\n") + 1);
      assert.match(entry, /^(entry_SYSCALL_64|asm_fred_entrypoint_user)/, `it starts at the syscall entry:\n${kernelText}`);
    }

    assert.throws(() => stacks.symbolize(Number(userId)), /pass the process as pid or processSymbols/);
    const user = stacks.symbolize(Number(userId), { pid: child.pid! })!;
    const userText = user.map(formatFrame).join("\n");
    const named = (frame: StackFrame | undefined) => (frame?.kind === "symbol" ? `${frame.name} ${frame.file}` : "");
    assert.match(named(user[0]), /^getpid \/.*\/libc\.so\.6$/, `the innermost frame is libc's getpid:\n${userText}`);
    const marker = user.findIndex((frame) => named(frame) === `waggle_marker ${program}`);
    const main = user.findIndex((frame) => named(frame) === `main ${program}`);
    assert.ok(marker > 0 && main === marker + 1, `getpid … waggle_marker, main:\n${userText}`);
    const markerFrame = user[marker]!;
    assert.equal(formatFrame(markerFrame), `waggle_marker+0x${markerFrame.kind === "symbol" && markerFrame.offset.toString(16)} (${program})`);
    // Return addresses are past the call and inside the function, which a wrong load bias would not give.
    const markerSize = elfSymbolAddress(program, "waggle_marker")!.size;
    const mainSize = elfSymbolAddress(program, "main")!.size;
    for (const [index, size] of [[marker, markerSize], [main, mainSize]] as const) {
      const frame = user[index]!;
      assert.ok(frame.kind === "symbol" && frame.offset > 0n && frame.offset < size, `${formatFrame(frame)} is inside its ${size} bytes`);
    }
  });

  kernelTest("a stack trace map created with BPF_F_STACK_BUILD_ID refuses to read stacks rather than misread them", () => {
    using stacks = createMap(StackTraceMap, {
      type: "stack_trace",
      keySize: 4,
      valueSize: DEPTH * BUILD_ID_FRAME_SIZE,
      maxEntries: 4,
      flags: MapFlags.STACK_BUILD_ID,
    });
    assert.throws(() => stacks.get(0), (error) => error instanceof NotSupportedError && /BPF_F_STACK_BUILD_ID/.test(error.message));
    assert.throws(() => stacks.symbolize(0, { pid: process.pid }), NotSupportedError);
  });
});
