/**
 * Object-level commands of src/sys against the real kernel: pinning, id walks, info round trips, BTF
 * loading, statistics, links (raw tracepoint, cgroup, iterator), the old attach API, and error naming.
 */

import assert from "node:assert/strict";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isWaggleError } from "../../src/errors.js";
import {
  BpfAttachFlags,
  BpfAttachType,
  BpfMapFlags,
  BpfMapType,
  BpfProgType,
  BpfStatsType,
  btfGetFdById,
  btfGetNextId,
  btfInfo,
  btfLoad,
  enableStats,
  isBpffs,
  iterCreate,
  linkCreate,
  linkDetach,
  linkGetFdById,
  linkGetNextId,
  linkInfo,
  linkUpdate,
  mapCreate,
  mapFreeze,
  mapGetFdById,
  mapGetNextId,
  mapInfo,
  mapLookupElem,
  mapUpdateElem,
  objGet,
  objPin,
  progAttach,
  progBindMap,
  progDetach,
  progGetFdById,
  progGetNextId,
  progInfo,
  progLoad,
  progQuery,
  progTestRun,
  rawTracepointOpen,
  tokenCreate,
} from "../../src/sys/index.js";
import { kernelTest } from "../helpers/kernel.js";
import { concat, exit, movImm, privateBpffs, readU64, u32, u64, vmlinuxFuncId } from "./sys-helpers.js";

/** An id beyond any the kernel hands out in a test run. */
const HUGE_ID = 0x7fff_fff0;

const RETURN_0 = concat([movImm(0, 0), exit()]);
const RETURN_1 = concat([movImm(0, 1), exit()]);

/** A BTF blob holding `int` (4 bytes, signed, `bits` wide). */
function intBtf(bits: number): Uint8Array {
  const header = 24;
  const types = concat([u32(1), u32(1 << 24), u32(4), u32((1 << 24) | bits)]);
  const strings = new TextEncoder().encode("\0int\0");
  return concat([
    Uint8Array.from([0x9f, 0xeb, 1, 0]),
    u32(header),
    u32(0),
    u32(types.length),
    u32(types.length),
    u32(strings.length),
    types,
    strings,
  ]);
}

/** Asserts that `fn` throws a SyscallError with this op and errno name. */
function assertFails(fn: () => unknown, op: string, code: string): void {
  try {
    fn();
  } catch (error) {
    assert.ok(isWaggleError(error, "SyscallError"), `expected a SyscallError from ${op}, got ${String(error)}`);
    assert.equal(error.op, op);
    assert.equal(error.code, code, error.message);
    return;
  }
  assert.fail(`expected ${op} to fail with ${code}`);
}

kernelTest("objPin() and objGet() round-trip a map through a bpffs mounted for the test", () => {
  const fs = privateBpffs();
  try {
    assert.equal(isBpffs(fs.path), true);
    assert.equal(isBpffs("/proc"), false);
    using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, name: "pinned" });
    mapUpdateElem(map.value, u32(0), u64(42n));
    const path = join(fs.path, "pinned");
    objPin(map.value, path);
    using again = objGet(path);
    assert.equal(mapInfo(again.value).id, mapInfo(map.value).id);
    const value = new Uint8Array(8);
    mapLookupElem(again.value, u32(0), value);
    assert.equal(readU64(value), 42n);
    using readOnly = objGet(path, BpfMapFlags.RDONLY);
    assertFails(() => mapUpdateElem(readOnly.value, u32(0), u64(1n)), "MAP_UPDATE_ELEM", "EPERM");
    assertFails(() => objPin(map.value, path), "OBJ_PIN", "EEXIST");
    assertFails(() => objGet(join(fs.path, "missing")), "OBJ_GET", "ENOENT");
  } finally {
    fs.close();
  }
});

kernelTest("GET_NEXT_ID and GET_FD_BY_ID find maps, programs and BTF, with info that matches", () => {
  using map = mapCreate({ mapType: BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1, name: "by_id" });
  const mapId = mapInfo(map.value).id;
  assert.equal(mapGetNextId(mapId - 1), mapId);
  using mapAgain = mapGetFdById(mapId);
  assert.equal(mapInfo(mapAgain.value).name, "by_id");
  assert.equal(mapGetNextId(HUGE_ID), undefined);

  const prog = progLoad({ progType: BpfProgType.SOCKET_FILTER, insns: RETURN_0, license: "GPL", name: "by_id" });
  using _ = prog.fd;
  const progId = progInfo(prog.fd.value).id;
  assert.equal(progGetNextId(progId - 1), progId);
  using progAgain = progGetFdById(progId);
  assert.equal(progInfo(progAgain.value).name, "by_id");
  assert.equal(progGetNextId(HUGE_ID), undefined);

  using btf = btfLoad(intBtf(32)).fd;
  const btfId = btfInfo(btf.value).id;
  assert.equal(btfGetNextId(btfId - 1), btfId);
  using btfAgain = btfGetFdById(btfId);
  assert.equal(btfInfo(btfAgain.value).id, btfId);
  assert.equal(btfGetNextId(HUGE_ID), undefined);

  assertFails(() => progGetFdById(HUGE_ID), "PROG_GET_FD_BY_ID", "ENOENT");
  assertFails(() => mapGetFdById(HUGE_ID), "MAP_GET_FD_BY_ID", "ENOENT");
});

kernelTest("btfLoad() loads a hand-built blob that btfInfo() gives back byte for byte", () => {
  const blob = intBtf(32);
  const { fd, log } = btfLoad(blob);
  using _ = fd;
  assert.equal(log, "");
  const info = btfInfo(fd.value, { bytes: true });
  assert.equal(info.btfSize, blob.length);
  assert.equal(info.kernelBtf, false);
  assert.equal(info.name, "");
  assert.deepEqual(info.bytes, blob);
});

kernelTest("btfLoad() of corrupt BTF throws a VerifierError carrying the kernel's log", () => {
  try {
    btfLoad(intBtf(64)).fd.close();
    assert.fail("expected the kernel to reject a 64-bit int of 4 bytes");
  } catch (error) {
    assert.ok(isWaggleError(error, "VerifierError"), String(error));
    assert.equal(error.rejected, "BTF");
    assert.equal(error.code, "EINVAL");
    assert.match(error.log, /nr_bits exceeds type_size/);
    assert.match(error.message, /^Cannot load BTF: the kernel's BTF checker rejected it: .*nr_bits exceeds type_size/);
  }
});

kernelTest("btfInfo() reads the kernel's own BTF, name and raw bytes included", () => {
  let vmlinux: ReturnType<typeof btfInfo> | undefined;
  for (let id = btfGetNextId(0); id !== undefined && vmlinux === undefined; id = btfGetNextId(id)) {
    using fd = btfGetFdById(id);
    const info = btfInfo(fd.value);
    if (info.name === "vmlinux") vmlinux = btfInfo(fd.value, { bytes: true });
  }
  assert.ok(vmlinux, "the kernel's BTF is listed");
  assert.equal(vmlinux.kernelBtf, true);
  assert.equal(vmlinux.bytes?.length, statSync("/sys/kernel/btf/vmlinux").size);
  assert.deepEqual(vmlinux.bytes?.subarray(0, 4), Uint8Array.from([0x9f, 0xeb, 1, 0]));
});

kernelTest("enableStats() makes the kernel count program runs while its fd is open", () => {
  const { fd } = progLoad({ progType: BpfProgType.XDP, insns: concat([movImm(0, 2), exit()]), license: "GPL" });
  using _ = fd;
  {
    using stats = enableStats(BpfStatsType.RUN_TIME);
    assert.equal(stats.closed, false);
    progTestRun(fd.value, { dataIn: new Uint8Array(64), repeat: 10 });
  }
  assert.ok(progInfo(fd.value).runCnt >= 10n);
});

kernelTest("rawTracepointOpen() makes a link that linkInfo() and the link id commands describe", () => {
  const prog = progLoad({ progType: BpfProgType.RAW_TRACEPOINT, insns: RETURN_0, license: "GPL", name: "raw_tp" });
  using _ = prog.fd;
  using link = rawTracepointOpen(prog.fd.value, "sys_enter");
  const info = linkInfo(link.value);
  assert.equal(info.kind, "raw_tracepoint");
  assert.ok(info.kind === "raw_tracepoint" && info.tpName === "sys_enter");
  assert.equal(info.progId, progInfo(prog.fd.value).id);
  assert.equal(linkGetNextId(info.id - 1), info.id);
  using again = linkGetFdById(info.id);
  assert.equal(linkInfo(again.value).id, info.id);
  assertFails(() => rawTracepointOpen(prog.fd.value, "no_such_tracepoint"), "RAW_TRACEPOINT_OPEN", "ENOENT");
});

kernelTest("a task iterator link runs its program on every read of an ITER_CREATE fd", () => {
  const target = vmlinuxFuncId("bpf_iter_task");
  assert.ok(target !== undefined, "vmlinux BTF has bpf_iter_task");
  const prog = progLoad({
    progType: BpfProgType.TRACING,
    expectedAttachType: BpfAttachType.TRACE_ITER,
    attachBtfId: target,
    insns: RETURN_0,
    license: "GPL",
    name: "iter_task",
  });
  using _ = prog.fd;
  using link = linkCreate({ progFd: prog.fd.value, attachType: BpfAttachType.TRACE_ITER, target: { kind: "iter", info: new Uint8Array(0) } });
  const info = linkInfo(link.value);
  assert.ok(info.kind === "iter" && info.targetName === "task", JSON.stringify(info, (_k, v) => (typeof v === "bigint" ? `${v}` : v)));
  using iter = iterCreate(link.value);
  assert.equal(readSync(iter.value, new Uint8Array(4096)), 0);
});

kernelTest("cgroup programs attach, are listed, replaced and detached, by PROG_ATTACH and by links", (t) => {
  const root = "/sys/fs/cgroup/unified";
  if (!existsSync(join(root, "cgroup.procs"))) {
    t.skip("no cgroup v2 hierarchy at /sys/fs/cgroup/unified");
    return;
  }
  const dir = mkdtempSync(join(root, "waggle-sys-"));
  const cgroup = openSync(dir, "r");
  try {
    const load = (insns: Uint8Array, name: string) =>
      progLoad({
        progType: BpfProgType.CGROUP_SKB,
        expectedAttachType: BpfAttachType.CGROUP_INET_INGRESS,
        insns,
        license: "GPL",
        name,
      }).fd;
    using first = load(RETURN_1, "cg_first");
    using second = load(RETURN_1, "cg_second");
    const firstId = progInfo(first.value).id;
    const secondId = progInfo(second.value).id;
    const ingress = { targetFd: cgroup, attachType: BpfAttachType.CGROUP_INET_INGRESS };

    progAttach({ ...ingress, attachBpfFd: first.value, attachFlags: BpfAttachFlags.ALLOW_MULTI });
    const attached = progQuery(ingress);
    assert.deepEqual(attached.progIds, [firstId]);
    assert.equal(attached.attachFlags, BpfAttachFlags.ALLOW_MULTI);
    progDetach({ ...ingress, attachBpfFd: first.value });
    assert.deepEqual(progQuery(ingress).progIds, []);

    using link = linkCreate({ progFd: first.value, ...ingress });
    const info = linkInfo(link.value);
    assert.ok(info.kind === "cgroup" && info.cgroupId > 0n && info.attachType === BpfAttachType.CGROUP_INET_INGRESS);
    assert.deepEqual(progQuery(ingress).progIds, [firstId]);
    linkUpdate(link.value, second.value, { oldProgFd: first.value });
    assert.equal(linkInfo(link.value).progId, secondId);
    assert.deepEqual(progQuery(ingress).progIds, [secondId]);
    assertFails(() => linkUpdate(link.value, first.value, { oldProgFd: first.value }), "LINK_UPDATE", "EPERM");
    linkDetach(link.value);
    assert.deepEqual(progQuery(ingress).progIds, []);
  } finally {
    closeSync(cgroup);
    rmdirSync(dir);
  }
});

kernelTest("every command names itself and the errno when it fails", () => {
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
  const prog = progLoad({ progType: BpfProgType.SOCKET_FILTER, insns: RETURN_0, license: "GPL" });
  using _ = prog.fd;
  const cases: ReadonlyArray<readonly [string, string, () => unknown]> = [
    ["OBJ_GET_INFO_BY_FD", "EBADFD", () => mapInfo(987654)], // the kernel says EBADFD here
    ["OBJ_GET_INFO_BY_FD", "EINVAL", () => mapInfo(1)],
    ["OBJ_PIN", "EPERM", () => objPin(map.value, join(tmpdir(), `waggle-not-bpffs-${process.pid}`))],
    ["MAP_FREEZE", "EBADF", () => mapFreeze(987654)],
    ["PROG_TEST_RUN", "EINVAL", () => progTestRun(map.value)],
    ["PROG_BIND_MAP", "EINVAL", () => progBindMap(map.value, map.value)],
    ["ENABLE_STATS", "EINVAL", () => enableStats(99)],
    ["ITER_CREATE", "EINVAL", () => iterCreate(map.value)],
    ["LINK_CREATE", "EINVAL", () => linkCreate({ progFd: prog.fd.value, attachType: BpfAttachType.CGROUP_INET_INGRESS, targetFd: map.value })],
    ["LINK_DETACH", "EINVAL", () => linkDetach(map.value)],
    ["LINK_UPDATE", "EINVAL", () => linkUpdate(map.value, prog.fd.value)],
    ["PROG_ATTACH", "EINVAL", () => progAttach({ targetFd: 987654, attachBpfFd: prog.fd.value, attachType: BpfAttachType.CGROUP_INET_INGRESS })],
    ["PROG_DETACH", "EBADF", () => progDetach({ targetFd: 987654, attachType: BpfAttachType.CGROUP_INET_INGRESS })],
    ["PROG_QUERY", "EBADF", () => progQuery({ targetFd: 987654, attachType: BpfAttachType.CGROUP_INET_INGRESS })],
    ["BTF_GET_FD_BY_ID", "ENOENT", () => btfGetFdById(HUGE_ID)],
    ["LINK_GET_FD_BY_ID", "ENOENT", () => linkGetFdById(HUGE_ID)],
  ];
  for (const [op, code, fn] of cases) assertFails(fn, op, code);
});

kernelTest("tokenCreate() from a bpffs without delegation fails with a TOKEN_CREATE error", () => {
  const fs = privateBpffs();
  const dir = openSync(fs.path, "r");
  try {
    tokenCreate(dir).close();
    assert.fail("a bpffs mounted in the initial user namespace cannot create tokens");
  } catch (error) {
    assert.ok(isWaggleError(error, "SyscallError"), String(error));
    assert.equal(error.op, "TOKEN_CREATE");
  } finally {
    closeSync(dir);
    fs.close();
  }
});
