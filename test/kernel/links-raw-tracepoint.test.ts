/**
 * Attaching raw tracepoint programs (`raw_tp/…`, `raw_tp.w/…`) and tp_btf programs on the real kernel:
 * counting through them, link info and cookies, pinning on a private bpffs, fd hygiene over many
 * attach/detach cycles (these detach in microseconds, unlike `tp/` links), and the typed errors.
 *
 * The tp_btf fixture needs CO-RE, which load() does not apply yet, so the tp_btf program here is built
 * with the asm builder and loaded with progLoad.
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BPF_PSEUDO_MAP_FD, encodeInstructions, FP, ProgramBuilder, R0, R1, R2, R6 } from "../../src/asm/index.js";
import {
  ATTACH_TYPES,
  BpfProgram,
  isWaggleError,
  kernelBtf,
  LINK_TYPES,
  load,
  MAP_TYPES,
  ObjectSpec,
  PROGRAM_TYPES,
  type Collection,
} from "../../src/index.js";
import { ensureBpffs, libc, linkInfo, mapCreate, mapLookupElem, mapUpdateElem, objGet, progLoad, unmount } from "../../src/sys/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

/** getpid's syscall number, which the programs compare the sys_enter id against. */
const GETPID_NR = ({ x64: 39, arm64: 172 } as Record<string, number>)[process.arch] ?? -1;

/** Loads a fixture whose programs count only this process's getpid calls. */
function loadForThisProcess(fixture: string): Collection {
  const spec = ObjectSpec.parse(fixtureBytes(fixture), { file: `${fixture}.o` });
  spec.variables.get("target_tgid")!.set(process.pid);
  spec.variables.get("watched_nr")?.set(GETPID_NR);
  return load(spec);
}

/** Calls getpid() `times` times, each a real system call. */
function getpid(times: number): void {
  for (let i = 0; i < times; i++) libc.getpid();
}

/** Reads the u64 global `name` from the collection's `.bss`. */
function readGlobal(coll: Collection, name: string): bigint {
  const variable = coll.spec.variables.get(name)!;
  const value = new Uint8Array(coll.spec.maps.get(".bss")!.valueSize);
  assert.ok(mapLookupElem(coll.map(".bss").fd.value, new Uint8Array(4), value));
  return new DataView(value.buffer).getBigUint64(variable.offset, true);
}

/** Runs `body` and returns its result with the milliseconds it took. */
function timed<T>(body: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const result = body();
  return [result, Number(process.hrtime.bigint() - start) / 1e6];
}

const CALLS = 50;

kernelTest("attach() puts raw_tp/ programs on their raw tracepoints; the links report their type and name", (t) => {
  using coll = loadForThisProcess("raw_tp");
  const enter = coll.program("raw_sys_enter");
  const [link, attachMs] = timed(() => enter.attach());
  assert.equal(link.mechanism, "bpf_link");
  assert.deepEqual(link.attachPoint, { kind: "raw_tracepoint", name: "sys_enter", writable: false });
  const exitLink = coll.program("raw_sys_exit").attachRawTracepoint("sys_exit");

  const entries = readGlobal(coll, "entries");
  const exits = readGlobal(coll, "exits");
  getpid(CALLS);
  assert.equal(readGlobal(coll, "entries") - entries, BigInt(CALLS));
  assert.ok(readGlobal(coll, "exits") - exits >= BigInt(CALLS));

  const info = link.info();
  assert.equal(info.type, LINK_TYPES.raw_tracepoint);
  assert.ok(info.kind === "raw_tracepoint" && info.tpName === "sys_enter");
  assert.equal(info.progId, enter.info().id);
  assert.ok(exitLink.info().kind === "raw_tracepoint");

  const [, detachMs] = timed(() => link.close());
  const after = readGlobal(coll, "entries");
  getpid(CALLS);
  assert.equal(readGlobal(coll, "entries"), after, "no counting after close()");
  assert.deepEqual(enter.links, []);
  t.diagnostic(`raw_tp: attach ${attachMs.toFixed(3)} ms, detach ${detachMs.toFixed(3)} ms`);
});

kernelTest("attachRawTracepoint() passes a cookie, which the link reports", () => {
  using coll = loadForThisProcess("raw_tp");
  const link = coll.program("raw_sys_enter").attachRawTracepoint("sys_enter", { cookie: 0x1234_5678_9abcn });
  const info = link.info();
  assert.ok(info.kind === "raw_tracepoint" && info.cookie === 0x1234_5678_9abcn);
});

kernelTest("raw_tp.w/ programs attach to writable tracepoints and can change what the kernel returns", () => {
  using writable = load(fixturePath("raw_tp_writable"));
  using xdp = load(fixturePath("xdp_pass"));
  const link = writable.program("inject").attach();
  assert.deepEqual(link.attachPoint, { kind: "raw_tracepoint", name: "bpf_test_finish", writable: true });
  const bss = writable.map(".bss");
  const finishCalls = (): bigint => readGlobal(writable, "finish_calls");
  const before = finishCalls();
  assert.equal(xdp.program("xdp_pass").run(new Uint8Array(14)).retval, 2);
  assert.equal(finishCalls() - before, 1n);

  const value = new Uint8Array(writable.spec.maps.get(".bss")!.valueSize);
  assert.ok(mapLookupElem(bss.fd.value, new Uint8Array(4), value));
  const EBADMSG = 74;
  new DataView(value.buffer).setUint32(writable.spec.variables.get("inject_errno")!.offset, EBADMSG, true);
  mapUpdateElem(bss.fd.value, new Uint8Array(4), value);
  assert.throws(() => xdp.program("xdp_pass").run(new Uint8Array(14)), (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "EBADMSG");
  writable.program("inject").close();
  assert.equal(xdp.program("xdp_pass").run(new Uint8Array(14)).retval, 2, "detached with its program");
});

/** A tp_btf program on sys_enter that counts this process's getpid calls in a one-slot array. */
function tpBtfCounter(): { program: BpfProgram; hits(): bigint; close(): void } {
  const btfId = kernelBtf().find("btf_trace_sys_enter", "typedef");
  assert.ok(btfId !== undefined, "vmlinux BTF has btf_trace_sys_enter");
  const map = mapCreate({ mapType: MAP_TYPES.array, keySize: 4, valueSize: 8, maxEntries: 1, name: "tp_btf_hits" });
  try {
    const insns = new ProgramBuilder()
      .mov(R6, R1)
      .call("bpf_get_current_pid_tgid")
      .rsh(R0, 32)
      .jne(R0, process.pid, "out")
      .ldx("u64", R1, R6, 8) // args[1]: the syscall id
      .jne(R1, GETPID_NR, "out")
      .st("u32", FP, -4, 0)
      .ldPseudo(R1, BPF_PSEUDO_MAP_FD, map.value)
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
    const { fd } = progLoad({
      progType: PROGRAM_TYPES.tracing,
      expectedAttachType: ATTACH_TYPES.trace_raw_tp,
      attachBtfId: btfId,
      insns: encodeInstructions(insns),
      license: "GPL",
      name: "tp_btf_getpid",
    });
    const program = new BpfProgram(fd, "tp_btf_getpid", "tracing", undefined, "", { expectedAttachType: "trace_raw_tp", attachTo: "sys_enter" });
    return {
      program,
      hits() {
        const value = new Uint8Array(8);
        assert.ok(mapLookupElem(map.value, new Uint8Array(4), value));
        return new DataView(value.buffer).getBigUint64(0, true);
      },
      close() {
        program.close();
        map.close();
      },
    };
  } catch (error) {
    map.close();
    throw error;
  }
}

kernelTest("attach() puts a tp_btf program on the tracepoint it was loaded for, with no name", (t) => {
  const counter = tpBtfCounter();
  try {
    const { program } = counter;
    assert.throws(() => program.attachRawTracepoint("sched_switch"), (e: unknown) => e instanceof TypeError && /loaded for "sys_enter"/.test(e.message));
    const [link, attachMs] = timed(() => program.attach());
    assert.deepEqual(link.attachPoint, { kind: "tp_btf", name: "sys_enter" });
    const before = counter.hits();
    getpid(CALLS);
    assert.equal(counter.hits() - before, BigInt(CALLS));
    const info = link.info();
    assert.ok(info.kind === "raw_tracepoint" && info.tpName === "sys_enter", JSON.stringify(info.kind));
    const [, detachMs] = timed(() => link.close());
    const after = counter.hits();
    getpid(CALLS);
    assert.equal(counter.hits(), after);
    t.diagnostic(`tp_btf: attach ${attachMs.toFixed(3)} ms, detach ${detachMs.toFixed(3)} ms`);

    const again = program.attachRawTracepoint();
    counter.close();
    assert.equal(again.closed, true, "closing the program closed the link");
  } finally {
    counter.close();
  }
});

kernelTest("a pinned link stays attached after its program closes, until it is unpinned", async () => {
  const dir = mkdtempSync(join(tmpdir(), "waggle-links-bpffs-"));
  ensureBpffs(dir);
  try {
    using coll = loadForThisProcess("raw_tp");
    const enter = coll.program("raw_sys_enter");
    const link = enter.attach();
    const path = join(dir, "raw_sys_enter_link");
    link.pin(path);
    assert.equal(link.pinnedPath, path);
    const id = link.info().id;
    {
      using pinned = objGet(path);
      assert.equal(linkInfo(pinned.value).id, id);
    }

    enter.close();
    assert.equal(link.closed, true);
    let before = readGlobal(coll, "entries");
    getpid(CALLS);
    assert.equal(readGlobal(coll, "entries") - before, BigInt(CALLS), "the pin keeps it attached");

    link.unpin();
    assert.equal(link.pinnedPath, undefined);
    // The kernel releases a link dropped by unlink from a work queue: wait for it to stop counting.
    let stopped = false;
    for (let i = 0; i < 100 && !stopped; i++) {
      before = readGlobal(coll, "entries");
      getpid(5);
      stopped = readGlobal(coll, "entries") === before;
      if (!stopped) await sleep(10);
    }
    assert.ok(stopped, "unpinned link detached");
  } finally {
    unmount(dir);
    rmdirSync(dir);
  }
});

kernelTest("50 raw_tp attach/detach cycles leave the fd count where it started", (t) => {
  using coll = loadForThisProcess("raw_tp");
  const enter = coll.program("raw_sys_enter");
  // Keeps sys_enter populated: re-populating a tracepoint that just emptied waits ~15 ms for RCU.
  coll.program("raw_sys_exit").attachRawTracepoint("sys_enter");
  const baseline = openFdCount();
  const start = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) {
    const link = enter.attach();
    if (i === 0) assert.equal(openFdCount(), baseline + 1);
    link.close();
  }
  const perCycle = Number(process.hrtime.bigint() - start) / 1e6 / 50;
  assert.equal(openFdCount(), baseline);
  for (let i = 0; i < 10; i++) enter.attachRawTracepoint(i % 2 === 0 ? "sys_enter" : "sys_exit");
  assert.equal(enter.links.length, 10);
  assert.equal(openFdCount(), baseline + 10);
  const programFds = coll.programs.size;
  const mapFds = coll.maps.size;
  coll.close();
  assert.equal(openFdCount(), baseline - 1 - programFds - mapFds, "links, programs and maps all released");
  t.diagnostic(`raw_tp attach+detach: ${perCycle.toFixed(3)} ms per cycle`);
});

kernelTest("an unknown raw tracepoint is a NotSupportedError naming it; a missing name is a TypeError", () => {
  using coll = loadForThisProcess("raw_tp");
  const enter = coll.program("raw_sys_enter");
  const baseline = openFdCount();
  assert.throws(
    () => enter.attachRawTracepoint("no_such_tracepoint"),
    (e: unknown) => isWaggleError(e, "NotSupportedError") && e.feature === "raw tracepoint no_such_tracepoint",
  );
  assert.throws(() => enter.attachRawTracepoint(), TypeError);
  assert.equal(openFdCount(), baseline);
  assert.deepEqual(enter.links, []);
});
