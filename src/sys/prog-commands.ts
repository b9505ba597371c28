/**
 * Program commands: BPF_PROG_LOAD (with the verifier-log policy of verifier-log.ts), BPF_PROG_TEST_RUN
 * and BPF_PROG_BIND_MAP.
 *
 * A failed load becomes, in this order: a `PermissionError` when EPERM comes with a missing capability;
 * a `VerifierError` carrying the log when the kernel wrote one or answered EACCES/EINVAL (the verifier's
 * verdicts); a `SyscallError` blaming kernel policy for an EPERM no capability explains (lockdown and
 * LSMs refuse some program types outright, with an empty log); a plain `SyscallError` otherwise.
 */

import { PermissionError, SyscallError, VerifierError } from "../errors.js";
import { writeFields } from "./attr-layout.js";
import { progBindMapAttr, progLoadAttr, testRunAttr } from "./attrs.js";
import { beginAttr, bpfCall, bpfError, bpfRaw, Errno, policyDenial } from "./bpf-call.js";
import { missingCapabilities, progLoadCapabilities } from "./capabilities.js";
import { BPF_INSN_SIZE, BpfCmd, BpfProgFlags, BpfProgType } from "./constants.js";
import { FD } from "./fd.js";
import { align8, ATTR_REGION_SIZE, cStringBytes, scratch } from "./native-memory.js";
import type { CreateBatch } from "./create-batch.js";
import { pageSize } from "./system.js";
import { lastInstruction, type LogOptions, runWithLog } from "./verifier-log.js";

/** Parameters of BPF_PROG_LOAD; see `union bpf_attr` for each field's meaning. */
export interface ProgLoadParams extends LogOptions {
  readonly progType: number;
  /** The instructions, 8 bytes each, in the host's byte order. */
  readonly insns: Uint8Array;
  /** The license string; "GPL" (or a compatible one) unlocks GPL-only helpers. */
  readonly license: string;
  /** Up to 15 characters of `[A-Za-z0-9_.]`; longer names are truncated. */
  readonly name?: string;
  readonly kernVersion?: number;
  /** `BpfProgFlags` bits (TOKEN_FD is added when `tokenFd` is given). */
  readonly flags?: number;
  readonly expectedAttachType?: number;
  readonly progBtfFd?: number;
  /** `bpf_func_info` records, `funcInfoRecSize` bytes each. */
  readonly funcInfo?: Uint8Array;
  readonly funcInfoRecSize?: number;
  /** `bpf_line_info` records, `lineInfoRecSize` bytes each. */
  readonly lineInfo?: Uint8Array;
  readonly lineInfoRecSize?: number;
  /** BTF type id of the attach target (in vmlinux, `attachBtfObjFd`'s BTF, or `attachProgFd`'s program). */
  readonly attachBtfId?: number;
  /** The kernel module BTF holding `attachBtfId` (0 or absent: vmlinux). */
  readonly attachBtfObjFd?: number;
  /** The program `attachBtfId` refers to (freplace, fentry on a BPF program). */
  readonly attachProgFd?: number;
  /** Map and BTF fds that instructions refer to by index. */
  readonly fdArray?: Int32Array;
  /** Offload or bind the program to this network device. */
  readonly progIfindex?: number;
  /** A BPF token granting the right to load this program. */
  readonly tokenFd?: number;
}

/** A loaded program. */
export interface LoadedProgram {
  readonly fd: FD;
  /** The verifier log when `logLevel` asked for one, else empty. */
  readonly log: string;
}

/** Program type names by number, for messages (`xdp program`). */
const PROG_TYPE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(BpfProgType).map(([name, value]) => [value, name.toLowerCase()]),
);

/** The number of `recSize`-byte records in `records`; throws RangeError when it is not whole. */
function recordCount(records: Uint8Array | undefined, recSize: number | undefined, what: string): number {
  if (records === undefined || records.length === 0) return 0;
  if (recSize === undefined || !Number.isInteger(recSize) || recSize <= 0 || records.length % recSize !== 0) {
    throw new RangeError(`${what} of ${records.length} bytes is not a whole number of ${recSize}-byte records`);
  }
  return records.length / recSize;
}

/** What one load needs besides the attr: validated counts, the flags, and how errors name the program. */
interface LoadPlan {
  readonly funcInfoCnt: number;
  readonly lineInfoCnt: number;
  readonly flags: number;
  readonly what: string;
  readonly needs: ReturnType<typeof progLoadCapabilities>;
  /** The attr's pointer targets, in `attrParts` order. */
  readonly parts: readonly (Uint8Array | undefined)[];
}

function plan(p: ProgLoadParams): LoadPlan {
  if (p.insns.length === 0 || p.insns.length % BPF_INSN_SIZE !== 0) {
    throw new RangeError(`insns must be a non-empty multiple of ${BPF_INSN_SIZE} bytes, got ${p.insns.length}`);
  }
  if (p.attachProgFd !== undefined && p.attachBtfObjFd !== undefined) {
    throw new TypeError("attachProgFd and attachBtfObjFd share one attr field; give one of them");
  }
  const fdArray = p.fdArray && new Uint8Array(p.fdArray.buffer, p.fdArray.byteOffset, p.fdArray.byteLength);
  return {
    funcInfoCnt: recordCount(p.funcInfo, p.funcInfoRecSize, "funcInfo"),
    lineInfoCnt: recordCount(p.lineInfo, p.lineInfoRecSize, "lineInfo"),
    flags: (p.flags ?? 0) | (p.tokenFd !== undefined ? BpfProgFlags.TOKEN_FD : 0),
    what: p.name ? `program "${p.name}"` : `${PROG_TYPE_NAMES.get(p.progType) ?? `type ${p.progType}`} program`,
    needs: progLoadCapabilities(p.progType),
    parts: [p.insns, cStringBytes(p.license), p.funcInfo, p.lineInfo, fdArray],
  };
}

/** Writes the PROG_LOAD attr at `view`'s start; `addresses` are where `plan.parts` were copied. */
function writeAttr(view: DataView, p: ProgLoadParams, plan: LoadPlan, addresses: readonly number[], logLevel: number, logBuf: number, logSize: number): void {
  const [insns, license, funcInfo, lineInfo, fdArray] = addresses as [number, number, number, number, number];
  writeFields(view, 0, progLoadAttr, {
    progType: p.progType,
    insnCnt: p.insns.length / BPF_INSN_SIZE,
    insns,
    license,
    logLevel,
    logSize,
    logBuf,
    kernVersion: p.kernVersion,
    progFlags: plan.flags >>> 0,
    progName: p.name,
    progIfindex: p.progIfindex,
    expectedAttachType: p.expectedAttachType,
    progBtfFd: p.progBtfFd,
    funcInfoRecSize: plan.funcInfoCnt > 0 ? p.funcInfoRecSize : undefined,
    funcInfo,
    funcInfoCnt: plan.funcInfoCnt,
    lineInfoRecSize: plan.lineInfoCnt > 0 ? p.lineInfoRecSize : undefined,
    lineInfo,
    lineInfoCnt: plan.lineInfoCnt,
    attachBtfId: p.attachBtfId,
    attachProgFd: p.attachProgFd ?? p.attachBtfObjFd,
    fdArray,
    progTokenFd: p.tokenFd,
  });
}

/** Loads a program; returns its fd and, when asked for, the verifier log. */
export function progLoad(p: ProgLoadParams): LoadedProgram {
  const loadPlan = plan(p);
  // The inputs stay in the scratch data region for the whole command: attempts rewrite only the attr.
  const addresses = scratch.pack(loadPlan.parts);
  const outcome = runWithLog(
    (logLevel, logBuf, logSize) => {
      writeAttr(beginAttr(progLoadAttr), p, loadPlan, addresses, logLevel, logBuf, logSize);
      return bpfRaw(BpfCmd.PROG_LOAD, progLoadAttr.size);
    },
    () => scratch.view.getUint32(progLoadAttr.fields.logTrueSize.offset, true),
    p,
    (errno) => errno !== Errno.EPERM || missingCapabilities(loadPlan.needs).length === 0,
  );
  if (outcome.result >= 0) return { fd: new FD(outcome.result, loadPlan.what), log: outcome.log };
  throw loadError(p.name ?? "", loadPlan.what, -outcome.result, outcome.log, outcome.truncated, loadPlan.needs);
}

/**
 * Submits a log-less attempt to load `p` to a batch (create-batch.ts), after validating it as
 * {@link progLoad} would. Where the attempt fails, load the program with `progLoad` for the log and
 * the typed error.
 */
export function submitProgLoad(batch: CreateBatch, p: ProgLoadParams): void {
  const loadPlan = plan(p);
  batch.add(BpfCmd.PROG_LOAD, progLoadAttr.size, loadPlan.parts, loadPlan.what, (attr, addresses) =>
    writeAttr(attr, p, loadPlan, addresses, 0, 0, 0),
  );
}

/** The error for a failed load; see the file header for the order of the cases. */
function loadError(
  name: string,
  what: string,
  errno: number,
  log: string,
  truncated: boolean,
  needs: ReturnType<typeof progLoadCapabilities>,
): Error {
  const hasLog = log.trim() !== "";
  const verifierError = (): VerifierError =>
    new VerifierError(name, errno, log, { instruction: lastInstruction(log) }, truncated);
  if (errno === Errno.EPERM) {
    const missing = missingCapabilities(needs);
    if (missing.length > 0) return new PermissionError("PROG_LOAD", errno, missing.join(" and "), what);
    if (hasLog) return verifierError();
    return new SyscallError("PROG_LOAD", errno, policyDenial(needs, what));
  }
  if (hasLog || errno === Errno.EACCES || errno === Errno.EINVAL) return verifierError();
  return bpfError(BpfCmd.PROG_LOAD, errno, what);
}

/** Parameters of BPF_PROG_TEST_RUN. */
export interface TestRunParams {
  /** The packet (or other data) to run the program on. */
  readonly dataIn?: Uint8Array;
  /** Room for the output data; default: the input's size plus a page, enough for programs that grow it. */
  readonly dataSizeOut?: number;
  /** The context (`struct __sk_buff`, `xdp_md`, raw_tp arguments…) to run with. */
  readonly ctxIn?: Uint8Array;
  /** Room for the output context; default: the input context's size. */
  readonly ctxSizeOut?: number;
  /** Runs this many times and reports the mean duration (default 1). */
  readonly repeat?: number;
  /** `BpfTestRunFlags` bits. */
  readonly flags?: number;
  /** The CPU to run on, with `BpfTestRunFlags.RUN_ON_CPU`. */
  readonly cpu?: number;
  /** Frames per batch with `BpfTestRunFlags.XDP_LIVE_FRAMES`. */
  readonly batchSize?: number;
}

/** What BPF_PROG_TEST_RUN reported. */
export interface TestRunResult {
  /** The program's return value (as u32). */
  readonly retval: number;
  /** Mean run time in nanoseconds. */
  readonly duration: number;
  /** The data after the run, when there was data. */
  readonly dataOut?: Uint8Array;
  /** The context after the run, when there was a context. */
  readonly ctxOut?: Uint8Array;
}

/** Runs a program once (or `repeat` times) in the kernel on the given data and context. */
export function progTestRun(fd: number, p: TestRunParams = {}): TestRunResult {
  const dataCapacity = p.dataSizeOut ?? (p.dataIn ? p.dataIn.length + pageSize() : 0);
  const ctxCapacity = p.ctxSizeOut ?? p.ctxIn?.length ?? 0;
  const dataInAt = 0;
  const dataOutAt = dataInAt + align8(p.dataIn?.length ?? 0);
  const ctxInAt = dataOutAt + align8(dataCapacity);
  const ctxOutAt = ctxInAt + align8(p.ctxIn?.length ?? 0);
  scratch.reserve(ctxOutAt + ctxCapacity);
  const s = scratch;
  const at = (offset: number, length: number): number => (length > 0 ? s.dataAddress + offset : 0);
  if (p.dataIn) s.bytes.set(p.dataIn, ATTR_REGION_SIZE + dataInAt);
  if (p.ctxIn) s.bytes.set(p.ctxIn, ATTR_REGION_SIZE + ctxInAt);
  const view = beginAttr(testRunAttr);
  writeFields(view, 0, testRunAttr, {
    progFd: fd,
    dataSizeIn: p.dataIn?.length,
    dataSizeOut: dataCapacity,
    dataIn: at(dataInAt, p.dataIn?.length ?? 0),
    dataOut: at(dataOutAt, dataCapacity),
    repeat: p.repeat,
    ctxSizeIn: p.ctxIn?.length,
    ctxSizeOut: ctxCapacity,
    ctxIn: at(ctxInAt, p.ctxIn?.length ?? 0),
    ctxOut: at(ctxOutAt, ctxCapacity),
    flags: p.flags,
    cpu: p.cpu,
    batchSize: p.batchSize,
  });
  const r = bpfRaw(BpfCmd.PROG_TEST_RUN, testRunAttr.size);
  const fields = testRunAttr.fields;
  const dataSize = view.getUint32(fields.dataSizeOut.offset, true);
  const ctxSize = view.getUint32(fields.ctxSizeOut.offset, true);
  if (r < 0) {
    const subject =
      r === -Errno.ENOSPC
        ? `output (${dataSize} data bytes, ${ctxSize} context bytes) exceeds dataSizeOut ${dataCapacity} or ctxSizeOut ${ctxCapacity}`
        : `program fd ${fd}`;
    throw bpfError(BpfCmd.PROG_TEST_RUN, -r, subject);
  }
  const copy = (offset: number, length: number): Uint8Array =>
    s.bytes.slice(ATTR_REGION_SIZE + offset, ATTR_REGION_SIZE + offset + length);
  return {
    retval: view.getUint32(fields.retval.offset, true),
    duration: view.getUint32(fields.duration.offset, true),
    ...(dataCapacity > 0 ? { dataOut: copy(dataOutAt, Math.min(dataSize, dataCapacity)) } : {}),
    // Without room for an output context (syscall programs allow none), the kernel updates ctx_in in place.
    ...(ctxCapacity > 0
      ? { ctxOut: copy(ctxOutAt, Math.min(ctxSize, ctxCapacity)) }
      : p.ctxIn
        ? { ctxOut: copy(ctxInAt, p.ctxIn.length) }
        : {}),
  };
}

/** Keeps `mapFd`'s map alive as long as the program (for maps only user space uses, such as .rodata). */
export function progBindMap(progFd: number, mapFd: number, flags = 0): void {
  writeFields(beginAttr(progBindMapAttr), 0, progBindMapAttr, { progFd, mapFd, flags });
  bpfCall(BpfCmd.PROG_BIND_MAP, progBindMapAttr, `program fd ${progFd}, map fd ${mapFd}`);
}
