/**
 * Attaching tracepoint programs (`tp/…`) on the real kernel: auto-attach from the section, the bpf_link
 * and PERF_EVENT_IOC_SET_BPF paths, link ownership by the program, fd hygiene, and the typed errors.
 *
 * Detaching a `tp/` link takes 70–95 ms on the CI machine (the kernel waits for RCU), so these tests
 * attach few of them; cheap attach/detach churn lives in links-raw-tracepoint.test.ts.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isWaggleError, load, LINK_TYPES, ObjectSpec, type Collection } from "../../src/index.js";
import { attachKind, tracefsRoots, tracepointId, type AttachableProgram } from "../../src/links/index.js";
import { BpfPerfEventType, libc, mapLookupElem, unmount } from "../../src/sys/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

/** Loads a fixture whose programs count only this process (`.rodata target_tgid`). */
function loadForThisProcess(fixture: string, edit?: (spec: ObjectSpec) => void): Collection {
  const spec = ObjectSpec.parse(fixtureBytes(fixture), { file: `${fixture}.o` });
  spec.variables.get("target_tgid")!.set(process.pid);
  edit?.(spec);
  return load(spec);
}

/** Calls getpid() `times` times, each a real system call (Node caches process.pid; glibc ≥ 2.25 does not). */
function getpid(times: number): void {
  for (let i = 0; i < times; i++) libc.getpid();
}

/** Reads the 8-byte global `name` from the collection's `.bss`. */
function readGlobal(coll: Collection, name: string): bigint {
  const variable = coll.spec.variables.get(name)!;
  const value = new Uint8Array(coll.spec.maps.get(".bss")!.valueSize);
  assert.ok(mapLookupElem(coll.map(".bss").fd.value, new Uint8Array(4), value));
  return new DataView(value.buffer).getBigInt64(variable.offset, true);
}

/** Runs `body` and returns its result with the milliseconds it took. */
function timed<T>(body: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const result = body();
  return [result, Number(process.hrtime.bigint() - start) / 1e6];
}

const CALLS = 50;

kernelTest("attach() puts a tp/ program on its tracepoint through a bpf_link, and link.close() detaches it", (t) => {
  using coll = loadForThisProcess("tracepoint");
  const enter = coll.program("getpid_enter");
  const [link, attachMs] = timed(() => enter.attach());
  assert.equal(link.mechanism, "bpf_link");
  assert.deepEqual(link.attachPoint, { kind: "tracepoint", category: "syscalls", name: "sys_enter_getpid" });
  assert.deepEqual(enter.links, [link]);
  assert.equal(String(link), 'link of program "getpid_enter" to tracepoint syscalls/sys_enter_getpid (bpf_link)');

  const before = readGlobal(coll, "enter_count");
  getpid(CALLS);
  assert.equal(readGlobal(coll, "enter_count") - before, BigInt(CALLS));

  const info = link.info();
  assert.equal(info.type, LINK_TYPES.perf_event);
  assert.equal(info.progId, enter.info().id);
  assert.ok(info.kind === "perf_event" && info.perfEventType === BpfPerfEventType.TRACEPOINT, JSON.stringify(info.kind));
  assert.ok(info.kind === "perf_event" && info.perfEventType === BpfPerfEventType.TRACEPOINT && info.tpName === "sys_enter_getpid");

  const [, detachMs] = timed(() => link.close());
  assert.equal(link.closed, true);
  assert.deepEqual(enter.links, []);
  const after = readGlobal(coll, "enter_count");
  getpid(CALLS);
  assert.equal(readGlobal(coll, "enter_count"), after, "no counting after close()");
  link.close(); // idempotent
  assert.throws(() => link.info(), (e: unknown) => isWaggleError(e, "ClosedError"));
  t.diagnostic(`tp/ bpf_link: attach ${attachMs.toFixed(2)} ms (first, includes the perf-link probe), detach ${detachMs.toFixed(2)} ms`);
});

kernelTest("attachTracepoint() with mechanism perf_ioctl attaches by PERF_EVENT_IOC_SET_BPF, which cannot be queried or pinned", (t) => {
  using coll = loadForThisProcess("tracepoint");
  const exit = coll.program("getpid_exit");
  assert.throws(
    () => exit.attachTracepoint("syscalls", "sys_exit_getpid", { mechanism: "perf_ioctl", cookie: 1n }),
    (e: unknown) => isWaggleError(e, "NotSupportedError") && /cookie/.test(e.message),
  );
  assert.deepEqual(exit.links, [], "a failed attach leaves no link behind");
  const [link, attachMs] = timed(() => exit.attachTracepoint("syscalls", "sys_exit_getpid", { mechanism: "perf_ioctl" }));
  assert.equal(link.mechanism, "perf_ioctl");

  const before = readGlobal(coll, "exit_count");
  getpid(CALLS);
  assert.equal(readGlobal(coll, "exit_count") - before, BigInt(CALLS));
  assert.equal(readGlobal(coll, "last_ret"), BigInt(process.pid));

  assert.throws(() => link.info(), (e: unknown) => isWaggleError(e, "NotSupportedError") && /only bpf_links/.test(e.message));
  assert.throws(() => link.pin("/sys/fs/bpf/never"), (e: unknown) => isWaggleError(e, "NotSupportedError") && /pinn/.test(e.message));

  const [, detachMs] = timed(() => exit.close()); // the program closes its links first
  assert.equal(link.closed, true);
  const after = readGlobal(coll, "exit_count");
  getpid(CALLS);
  assert.equal(readGlobal(coll, "exit_count"), after, "no counting after the program closed");
  t.diagnostic(`tp/ perf_ioctl: attach ${attachMs.toFixed(2)} ms, program close (detach) ${detachMs.toFixed(2)} ms`);
});

kernelTest("closing a program detaches all its links, and closing twice is safe", () => {
  using coll = loadForThisProcess("tracepoint");
  const enter = coll.program("getpid_enter"); // reads nothing from its context, so it can count exits too
  const first = enter.attach({ cookie: 0xfeedn });
  const second = enter.attachTracepoint("syscalls", "sys_exit_getpid");
  assert.deepEqual(enter.links, [first, second]);
  const info = first.info();
  assert.ok(info.kind === "perf_event" && info.perfEventType === BpfPerfEventType.TRACEPOINT && info.cookie === 0xfeedn);

  const fds = openFdCount();
  assert.throws(
    () => enter.attachTracepoint("syscalls", "sys_enter_getpid"),
    (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "EEXIST" && /already attached/.test(e.message),
  );
  assert.equal(openFdCount(), fds, "the failed attach closed its perf event");

  const before = readGlobal(coll, "enter_count");
  getpid(10);
  assert.equal(readGlobal(coll, "enter_count") - before, 20n, "both links count");

  enter.close();
  enter.close();
  assert.equal(first.closed && second.closed, true);
  assert.deepEqual(enter.links, []);
  const after = readGlobal(coll, "enter_count");
  getpid(10);
  assert.equal(readGlobal(coll, "enter_count"), after);
  assert.throws(() => enter.attach(), (e: unknown) => isWaggleError(e, "ClosedError"));
});

kernelTest("attach/detach cycles of tp/ links leave the fd count where it started", () => {
  using coll = loadForThisProcess("tracepoint");
  const enter = coll.program("getpid_enter");
  enter.attach().close(); // the perf-link probe's result is cached from here on
  const baseline = openFdCount();
  for (let i = 0; i < 3; i++) {
    const link = enter.attach();
    assert.equal(openFdCount(), baseline + 2, "a perf event fd and a bpf_link fd");
    link.close();
  }
  enter.attachTracepoint("syscalls", "sys_enter_getpid", { mechanism: "perf_ioctl" });
  assert.equal(openFdCount(), baseline + 1, "a perf event fd only");
  enter.close();
  assert.equal(openFdCount(), baseline - 1, "the program's own fd is gone too");
});

kernelTest("an unknown tracepoint is a NotSupportedError naming it and the tracefs paths tried, and leaks nothing", () => {
  using coll = loadForThisProcess("tracepoint");
  const enter = coll.program("getpid_enter");
  const baseline = openFdCount();
  assert.throws(
    () => enter.attachTracepoint("syscalls", "sys_enter_no_such_call"),
    (e: unknown) =>
      isWaggleError(e, "NotSupportedError") &&
      e.feature === "tracepoint syscalls/sys_enter_no_such_call" &&
      e.message.includes("/sys/kernel/tracing/events/syscalls/sys_enter_no_such_call/id"),
  );
  assert.throws(() => enter.attachTracepoint("..", "sys_enter_getpid"), TypeError);
  assert.throws(() => enter.attachTracepoint("syscalls/x", "y"), TypeError);
  assert.equal(openFdCount(), baseline);
  assert.deepEqual(enter.links, []);
});

kernelTest("attaching a program to the wrong kind of hook is a TypeError naming both", () => {
  using tp = loadForThisProcess("tracepoint");
  using raw = load(fixturePath("raw_tp"));
  assert.throws(
    () => raw.program("raw_sys_enter").attachTracepoint("syscalls", "sys_enter_getpid"),
    (e: unknown) => e instanceof TypeError && /raw_tracepoint program/.test(e.message) && /tracepoint syscalls\/sys_enter_getpid/.test(e.message),
  );
  assert.throws(
    () => tp.program("getpid_enter").attachRawTracepoint("sys_enter"),
    (e: unknown) => e instanceof TypeError && /tracepoint program/.test(e.message),
  );
});

kernelTest("attach() names the kind and program type for hooks Waggle cannot attach yet", () => {
  using xdp = load(fixturePath("xdp_pass"));
  assert.throws(
    () => xdp.program("xdp_pass").attach(),
    (e: unknown) => isWaggleError(e, "NotSupportedError") && /attaching xdp programs/.test(e.message) && /type xdp/.test(e.message),
  );
  using sys = load(fixturePath("syscall_prog"));
  assert.throws(() => sys.program("syscall_prog").attach(), (e: unknown) => e instanceof TypeError && /run\(\)/.test(e.message));
});

kernelTest("attach() on a tp/ section that names no tracepoint is a TypeError that suggests attachTracepoint()", () => {
  using coll = loadForThisProcess("tracepoint", (spec) => {
    spec.programs.get("getpid_enter")!.attachTo = "syscalls";
  });
  assert.throws(() => coll.program("getpid_enter").attach(), (e: unknown) => e instanceof TypeError && /attachTracepoint/.test(e.message));
});

kernelTest("tracefsRoots() mounts a tracefs where none is mounted, and tracepointId() reads the same id there", () => {
  const dir = mkdtempSync(join(tmpdir(), "waggle-tracefs-"));
  assert.throws(
    () => tracefsRoots({ roots: [dir], mountAt: false }),
    (e: unknown) => isWaggleError(e, "NotSupportedError") && e.feature === "tracefs" && e.message.includes(dir),
  );
  try {
    assert.deepEqual(tracefsRoots({ roots: [dir] }), [dir]);
    assert.equal(tracepointId("syscalls", "sys_enter_getpid", { roots: [dir] }), tracepointId("syscalls", "sys_enter_getpid"));
  } finally {
    try {
      unmount(dir);
    } finally {
      rmdirSync(dir);
    }
  }
});

test("attachKind() tells the hook family of every kind of fixture program from its type, attach type and section", () => {
  const expected: Record<string, Record<string, string>> = {
    tracepoint: { getpid_enter: "tracepoint", getpid_exit: "tracepoint" },
    raw_tp: { raw_sys_enter: "raw_tracepoint", raw_sys_exit: "raw_tracepoint" },
    raw_tp_writable: { inject: "raw_tracepoint", peek: "raw_tracepoint" },
    tp_btf: { on_switch: "tp_btf", on_sys_enter: "tp_btf" },
    fentry: { fentry_openat2: "fentry", fexit_openat2: "fexit" },
    probes: {},
    kprobe_multi: {},
    uprobe_multi: {},
    usdt: {},
    iter_task: {},
    lsm: {},
    xdp_pass: { xdp_pass: "xdp" },
    tc_classifier: { tc_mark: "tc", tc_priority: "tc" },
    cgroup_skb: { count_ingress: "cgroup" },
    sockmap: { msg_verdict: "sockmap" },
    syscall_prog: { syscall_prog: "syscall" },
  };
  const seen = new Set<string>();
  for (const [fixture, programs] of Object.entries(expected)) {
    const spec = ObjectSpec.parse(fixtureBytes(fixture), { file: `${fixture}.o` });
    for (const p of spec.programs.values()) {
      const program: AttachableProgram = { name: p.name, type: p.type, expectedAttachType: p.expectedAttachType, attachTo: p.attachTo, spec: p, get fd(): never { throw new Error("no fd") } };
      const kind = attachKind(program);
      seen.add(`${p.section.split("/")[0]}=${kind}`);
      if (programs[p.name] !== undefined) assert.equal(kind, programs[p.name], `${fixture}: ${p.name}`);
    }
  }
  for (const pair of [
    "kprobe=kprobe", "kretprobe=kretprobe", "ksyscall=ksyscall", "kretsyscall=kretsyscall", "uprobe=uprobe", "uretprobe=uretprobe",
    "uprobe.s=uprobe", "kprobe.multi=kprobe_multi", "kretprobe.multi=kretprobe_multi", "uprobe.multi=uprobe_multi",
    "usdt=usdt", "iter=iter", "lsm=lsm", "lsm.s=lsm", "fexit=fexit", "fmod_ret=fmod_ret", "fentry.s=fentry",
  ]) {
    assert.ok(seen.has(pair), `${pair} in ${[...seen].join(" ")}`);
  }
});
