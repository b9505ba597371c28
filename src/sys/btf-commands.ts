/**
 * BPF_BTF_LOAD: hands a BTF blob (header, types, strings) to the kernel's BTF checker.
 *
 * It follows the same log policy as program loads (verifier-log.ts). A rejection with a log, or with
 * EINVAL (the checker's verdict), becomes a `VerifierError` with `rejected: "BTF"` carrying the
 * kernel's log (such as `[2] INT  size=3 ... Invalid size`); other failures are `SyscallError`s.
 */

import { VerifierError } from "../errors.js";
import { writeFields } from "./attr-layout.js";
import { btfLoadAttr } from "./attrs.js";
import { beginAttr, bpfError, bpfRaw, Errno } from "./bpf-call.js";
import { missingCapabilities } from "./capabilities.js";
import { BpfCmd, BpfMapFlags } from "./constants.js";
import { FD } from "./fd.js";
import { scratch } from "./native-memory.js";
import { type LogOptions, runWithLog } from "./verifier-log.js";

/** Options of BPF_BTF_LOAD. */
export interface BtfLoadOptions extends LogOptions {
  /** A BPF token granting the right to load BTF. */
  readonly tokenFd?: number;
}

/** Loaded BTF. */
export interface LoadedBtf {
  readonly fd: FD;
  /** The kernel's log when `logLevel` asked for one, else empty. */
  readonly log: string;
}

/** What loading BTF needs. */
const NEEDS = ["CAP_BPF"] as const;

/** Loads a BTF blob; returns its fd and, when asked for, the kernel's log. */
export function btfLoad(bytes: Uint8Array, options: BtfLoadOptions = {}): LoadedBtf {
  if (bytes.length === 0) throw new RangeError("BTF blob is empty");
  const [blob] = scratch.pack([bytes]) as [number];
  const outcome = runWithLog(
    (logLevel, logBuf, logSize) => {
      writeFields(beginAttr(btfLoadAttr), 0, btfLoadAttr, {
        btf: blob,
        btfLogBuf: logBuf,
        btfSize: bytes.length,
        btfLogSize: logSize,
        btfLogLevel: logLevel,
        btfFlags: options.tokenFd !== undefined ? BpfMapFlags.TOKEN_FD : 0,
        btfTokenFd: options.tokenFd,
      });
      return bpfRaw(BpfCmd.BTF_LOAD, btfLoadAttr.size);
    },
    () => scratch.view.getUint32(btfLoadAttr.fields.btfLogTrueSize.offset, true),
    options,
    (errno) => errno !== Errno.EPERM || missingCapabilities(NEEDS).length === 0,
  );
  const { result, log, truncated } = outcome;
  if (result >= 0) return { fd: new FD(result, "BTF"), log };
  const errno = -result;
  if (errno !== Errno.EPERM && (log.trim() !== "" || errno === Errno.EINVAL)) {
    throw new VerifierError("", errno, log, {}, truncated, "BTF");
  }
  throw bpfError(BpfCmd.BTF_LOAD, errno, "BTF blob", NEEDS);
}
