/** Program commands of src/sys against the real kernel: load, verifier logs, test runs, info, privileges. */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isWaggleError } from "../../src/errors.js";
import {
  BpfAttachType,
  BpfLogLevel,
  BpfMapType,
  BpfProgType,
  mapCreate,
  mapInfo,
  progBindMap,
  progInfo,
  progLoad,
  progTestRun,
} from "../../src/sys/index.js";
import { kernelTest } from "../helpers/kernel.js";
import { concat, exit, loadMapFd, loadWord, movImm, vmlinuxFuncId } from "./sys-helpers.js";

/** `r0 = XDP_PASS; exit`. */
const XDP_PASS = concat([movImm(0, 2), exit()]);
/** `r0 = skb->len; exit` (`struct __sk_buff.len` is its first field). */
const SKB_LEN = concat([loadWord(0, 1, 0), exit()]);
/** A 64-byte packet: big enough for an Ethernet header, which skb test runs require. */
const PACKET = Uint8Array.from({ length: 64 }, (_, i) => i);
/** Bytes of the Ethernet header, which the kernel pulls before a socket filter sees the packet. */
const ETH_HLEN = 14;

kernelTest("progLoad() loads an XDP program and progTestRun() reports its verdict and data", () => {
  const { fd, log } = progLoad({ progType: BpfProgType.XDP, insns: XDP_PASS, license: "GPL", name: "xdp_pass" });
  using _ = fd;
  assert.equal(log, "");
  assert.equal(fd.what, 'program "xdp_pass"');
  const run = progTestRun(fd.value, { dataIn: PACKET, repeat: 100 });
  assert.equal(run.retval, 2);
  assert.equal(typeof run.duration, "number");
  assert.deepEqual(run.dataOut, PACKET);
});

kernelTest("a socket filter's test run returns the length after the Ethernet header", () => {
  const { fd } = progLoad({ progType: BpfProgType.SOCKET_FILTER, insns: SKB_LEN, license: "MIT", name: "skb_len" });
  using _ = fd;
  const run = progTestRun(fd.value, { dataIn: PACKET });
  assert.equal(run.retval, PACKET.length - ETH_HLEN);
  assert.equal(run.dataOut?.length, PACKET.length);
});

kernelTest("progTestRun() with too little room for the output fails with ENOSPC from PROG_TEST_RUN", () => {
  const { fd } = progLoad({ progType: BpfProgType.XDP, insns: XDP_PASS, license: "GPL" });
  using _ = fd;
  try {
    progTestRun(fd.value, { dataIn: PACKET, dataSizeOut: 16 });
    assert.fail("expected ENOSPC");
  } catch (error) {
    assert.ok(isWaggleError(error, "SyscallError"));
    assert.equal(error.op, "PROG_TEST_RUN");
    assert.equal(error.code, "ENOSPC");
  }
});

kernelTest("a program the verifier rejects gives a VerifierError with the log", () => {
  try {
    progLoad({ progType: BpfProgType.XDP, insns: exit(), license: "GPL", name: "bare_exit" });
    assert.fail("expected the verifier to reject a bare exit");
  } catch (error) {
    assert.ok(isWaggleError(error, "VerifierError"), String(error));
    assert.equal(error.program, "bare_exit");
    assert.equal(error.code, "EACCES");
    assert.match(error.log, /R0 !read_ok/);
    assert.equal(error.instruction, 0);
    assert.equal(error.truncated, false);
    assert.match(error.message, /^Cannot load program "bare_exit": verifier rejected it at instruction 0: R0 !read_ok/);
  }
});

kernelTest("progLoad() returns the verifier log when asked for one", () => {
  const { fd, log } = progLoad({ progType: BpfProgType.XDP, insns: XDP_PASS, license: "GPL", logLevel: BpfLogLevel.LEVEL1 });
  fd.close();
  assert.match(log, /processed 2 insns/);
});

kernelTest("a log larger than the first buffer is grown until it is complete", () => {
  const body = Array.from({ length: 5000 }, (_, i) => movImm(0, i));
  const insns = concat([...body, exit()]);
  const grown = progLoad({ progType: BpfProgType.SOCKET_FILTER, insns, license: "GPL", logLevel: BpfLogLevel.LEVEL2 });
  grown.fd.close();
  assert.ok(grown.log.length > 64 * 1024, `log of ${grown.log.length} bytes should outgrow 64 KiB`);
  const roomy = progLoad({
    progType: BpfProgType.SOCKET_FILTER,
    insns,
    license: "GPL",
    logLevel: BpfLogLevel.LEVEL2,
    logSize: 16 * 1024 * 1024,
  });
  roomy.fd.close();
  const stable = (log: string) => log.replace(/^verification time.*$/m, "");
  assert.equal(stable(grown.log), stable(roomy.log));
  assert.match(grown.log, /^func#0 @0|^0: R1=ctx\(\) R10=fp0/);
  assert.match(grown.log, /4999: \(b7\) r0 = 4999/);
  assert.match(grown.log, /processed 5001 insns/);

  const tiny = progLoad({ progType: BpfProgType.XDP, insns: XDP_PASS, license: "GPL", logLevel: 1, logSize: 128 });
  tiny.fd.close();
  assert.match(tiny.log, /processed 2 insns/);
});

kernelTest("progInfo() reports name, tag, license, instructions and the maps used", () => {
  using map = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "used_map" });
  using other = mapCreate({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: "bound_map" });
  const insns = concat([loadMapFd(1, map.value), movImm(0, 0), exit()]);
  const { fd } = progLoad({ progType: BpfProgType.SOCKET_FILTER, insns, license: "Dual MIT/GPL", name: "uses_map" });
  using _ = fd;
  const info = progInfo(fd.value, { xlatedInsns: true, jitedInsns: true });
  assert.equal(info.type, BpfProgType.SOCKET_FILTER);
  assert.equal(info.name, "uses_map");
  assert.match(info.tag, /^[0-9a-f]{16}$/);
  assert.equal(info.gplCompatible, true);
  assert.deepEqual(info.mapIds, [mapInfo(map.value).id]);
  assert.equal(info.xlatedInsns?.length, info.xlatedProgLen);
  assert.equal(info.xlatedProgLen, insns.length);
  assert.ok((info.jitedInsns?.length ?? 0) > 0);
  assert.ok(info.loadTime > 0n);
  assert.equal(info.verifiedInsns, 3); // ld_imm64 counts once

  progBindMap(fd.value, other.value);
  assert.deepEqual([...progInfo(fd.value).mapIds].sort(), [mapInfo(map.value).id, mapInfo(other.value).id].sort());

  const proprietary = progLoad({ progType: BpfProgType.XDP, insns: XDP_PASS, license: "Proprietary" });
  using __ = proprietary.fd;
  const plain = progInfo(proprietary.fd.value);
  assert.equal(plain.gplCompatible, false);
  assert.deepEqual(plain.mapIds, []);
  assert.equal(plain.xlatedInsns, undefined);
});

kernelTest("progLoad() checks its arguments before calling the kernel", () => {
  assert.throws(() => progLoad({ progType: BpfProgType.XDP, insns: new Uint8Array(0), license: "GPL" }), RangeError);
  assert.throws(() => progLoad({ progType: BpfProgType.XDP, insns: new Uint8Array(12), license: "GPL" }), RangeError);
  assert.throws(
    () => progLoad({ progType: BpfProgType.EXT, insns: XDP_PASS, license: "GPL", attachProgFd: 3, attachBtfObjFd: 4 }),
    TypeError,
  );
  assert.throws(
    () => progLoad({ progType: BpfProgType.XDP, insns: XDP_PASS, license: "GPL", funcInfo: new Uint8Array(12), funcInfoRecSize: 8 }),
    RangeError,
  );
});

kernelTest("an EPERM from kernel policy while holding CAP_BPF is not reported as a missing privilege", () => {
  const target = vmlinuxFuncId("do_sys_openat2");
  assert.ok(target !== undefined, "vmlinux BTF has do_sys_openat2");
  try {
    const { fd } = progLoad({
      progType: BpfProgType.TRACING,
      expectedAttachType: BpfAttachType.TRACE_FENTRY,
      attachBtfId: target,
      insns: concat([movImm(0, 0), exit()]),
      license: "GPL",
      name: "fentry_probe",
    });
    fd.close(); // this kernel allows fentry: nothing to check
  } catch (error) {
    assert.ok(isWaggleError(error), String(error));
    if ((error as { code?: string }).code !== "EPERM" || error.name === "VerifierError") throw error;
    assert.equal(error.name, "SyscallError");
    assert.match(
      error.message,
      /^PROG_LOAD: EPERM \(Operation not permitted\): program "fentry_probe": denied by kernel policy \(lockdown or an LSM\) although the process has CAP_BPF and CAP_PERFMON$/,
    );
  }
});

kernelTest("without CAP_BPF and CAP_SYS_ADMIN, EPERM becomes a PermissionError naming what is missing", () => {
  const sys = fileURLToPath(new URL("../../src/sys/index.js", import.meta.url));
  const script = `
    const sys = await import(${JSON.stringify(sys)});
    const report = (f) => { try { f(); return "loaded"; } catch (e) { return { name: e.name, op: e.op, privilege: e.privilege, message: e.message }; } };
    console.log(JSON.stringify({
      map: report(() => sys.mapCreate({ mapType: sys.BpfMapType.HASH, keySize: 4, valueSize: 4, maxEntries: 1 })),
      prog: report(() => sys.progLoad({ progType: sys.BpfProgType.XDP, insns: new Uint8Array([0xb7,0,0,0,2,0,0,0,0x95,0,0,0,0,0,0,0]), license: "GPL" })),
    }));`;
  const child = spawnSync(
    "setpriv",
    ["--inh-caps=-all", "--bounding-set=-bpf,-sys_admin,-perfmon", process.execPath, "--input-type=module", "-e", script],
    { encoding: "utf8" },
  );
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout);
  assert.deepEqual(result.map, {
    name: "PermissionError",
    op: "MAP_CREATE",
    privilege: "CAP_BPF",
    message: "MAP_CREATE: EPERM (Operation not permitted): hash map (needs CAP_BPF)",
  });
  assert.equal(result.prog.name, "PermissionError");
  assert.equal(result.prog.op, "PROG_LOAD");
  assert.equal(result.prog.privilege, "CAP_BPF");
});
