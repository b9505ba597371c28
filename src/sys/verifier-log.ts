/**
 * The log-and-retry policy shared by BPF_PROG_LOAD and BPF_BTF_LOAD.
 *
 * When no log is asked for, the command first runs without a log buffer (the fast path: most loads
 * succeed). If it fails, it runs again with log level 1 to capture the reason. The log buffer starts at
 * 64 KiB and, whenever the kernel answers ENOSPC (the log did not fit), grows and the command is retried:
 * to exactly `log_true_size` on kernels that report it (6.4+), else fourfold. The buffer is capped at
 * 16 MiB on kernels without `log_true_size` (libbpf's limit) and at the kernel's own limit
 * (`UINT_MAX >> 2`, about 1 GiB) on kernels with it; a log that outgrows the cap is returned truncated.
 * EAGAIN (the verifier was interrupted by a signal) is retried a few times, as libbpf does.
 */

import { Errno } from "./bpf-call.js";
import { NativeBuffer, readCString } from "./native-memory.js";

/** The first log buffer's size. */
export const INITIAL_LOG_SIZE = 64 * 1024;

/** The smallest log buffer the kernel accepts with a non-zero log level. */
const MIN_LOG_SIZE = 128;

/** Largest log buffer on kernels that do not report `log_true_size`. */
const LEGACY_LOG_LIMIT = 16 * 1024 * 1024;

/** Largest log buffer the kernel accepts at all (`UINT_MAX >> 2`). */
const KERNEL_LOG_LIMIT = 0xffff_ffff >>> 2;

/** How often a command interrupted by a signal (EAGAIN) is retried. */
export const EAGAIN_RETRIES = 5;

/** Factor by which the log grows when the kernel does not say how much it needs. */
const LOG_GROWTH = 4;

/**
 * Runs the command once: writes its attr with this log level and buffer (address 0 and size 0 for no
 * log), calls bpf(), and returns the result or minus errno.
 */
export type LogAttempt = (logLevel: number, logAddress: number, logSize: number) => number;

/** What a logged command ended with. */
export interface LoggedOutcome {
  /** The command's result (an fd), or minus errno. */
  readonly result: number;
  /** The kernel's log; empty when none was captured. */
  readonly log: string;
  /** True when the log outgrew the largest buffer and is cut short. */
  readonly truncated: boolean;
}

/** Log options as callers give them. */
export interface LogOptions {
  /** `BpfLogLevel` bits; 0 (the default) captures a log only when the command fails. */
  readonly logLevel?: number | undefined;
  /** The first log buffer's size in bytes (default 64 KiB); it still grows when the log needs more. */
  readonly logSize?: number | undefined;
}

/**
 * Runs a command under the log policy (see the file header).
 * @param attempt  Runs the command once.
 * @param readTrueSize  Reads the kernel's `log_true_size` after an attempt (0 when not reported).
 * @param retryWithLog  Whether a log-less failure with this errno is worth a second run with a log.
 */
export function runWithLog(
  attempt: LogAttempt,
  readTrueSize: () => number,
  options: LogOptions,
  retryWithLog: (errno: number) => boolean,
): LoggedOutcome {
  const logLevel = options.logLevel ?? 0;
  let size = options.logSize ?? INITIAL_LOG_SIZE;
  if (!Number.isInteger(size) || size < MIN_LOG_SIZE || size > KERNEL_LOG_LIMIT) {
    throw new RangeError(`log size must be between ${MIN_LOG_SIZE} and ${KERNEL_LOG_LIMIT} bytes, got ${size}`);
  }
  if (logLevel === 0) {
    const result = withEagainRetries(attempt, 0, 0, 0);
    if (result >= 0 || !retryWithLog(-result)) return { result, log: "", truncated: false };
  }
  for (;;) {
    const buffer = NativeBuffer.allocate(size);
    try {
      buffer.bytes[0] = 0;
      const result = withEagainRetries(attempt, logLevel || 1, buffer.address, size);
      if (result === -Errno.ENOSPC) {
        const trueSize = readTrueSize();
        const limit = trueSize > 0 ? KERNEL_LOG_LIMIT : LEGACY_LOG_LIMIT;
        if (size < limit) {
          size = Math.min(limit, trueSize > size ? trueSize : size * LOG_GROWTH);
          continue;
        }
      }
      return { result, log: readCString(buffer.bytes, 0, size), truncated: result === -Errno.ENOSPC };
    } finally {
      buffer.close();
    }
  }
}

function withEagainRetries(attempt: LogAttempt, logLevel: number, address: number, size: number): number {
  let result = attempt(logLevel, address, size);
  for (let i = 1; i < EAGAIN_RETRIES && result === -Errno.EAGAIN; i++) result = attempt(logLevel, address, size);
  return result;
}

/** A verifier line that starts an instruction: `12: (85) call bpf_map_lookup_elem#1`. */
const INSTRUCTION_LINE = /^(\d+): \([0-9a-f]{2}\)/gm;

/** The index of the last instruction a verifier log shows, which is where a failed run stopped. */
export function lastInstruction(log: string): number | undefined {
  let last: number | undefined;
  for (const match of log.matchAll(INSTRUCTION_LINE)) last = Number(match[1]);
  return last;
}
