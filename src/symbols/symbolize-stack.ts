/**
 * `symbolizeStack()`: the instruction pointers of one stack trace (as a stack trace map records them)
 * as frames named by `KernelSymbols` or `ProcessSymbols`, and `formatFrame()` to print them.
 *
 * Which symbols an address needs is told by the address itself: kernel addresses have the top bit set
 * (the upper half of the address space on x86-64 and arm64, at any paging depth) and user addresses
 * never do, so kernel and user stacks, or one mixed, need no flag, and a user stack symbolised without
 * its process fails loudly instead of turning into kernel names. Kallsyms and /proc/PID/maps are read
 * only when an address needs them.
 *
 * Every frame but the innermost is a return address, which a call to a function that never returns can
 * leave just past the end of its function; those are looked up one byte back, where the call is.
 */

import type { WaggleError } from "../errors.js";
import { KernelSymbols } from "./kernel-symbols.js";
import { ProcessSymbols } from "./process-symbols.js";

/** The lowest kernel address: the top bit set. */
export const KERNEL_SPACE_START = 1n << 63n;
const MAX_U64 = (1n << 64n) - 1n;

/** One frame of a symbolised stack. */
export type StackFrame =
  | {
      /** A symbol covers the address. */
      readonly kind: "symbol";
      /** The instruction pointer. */
      readonly address: bigint;
      /** The symbol's name. */
      readonly name: string;
      /** The address minus the symbol's address. */
      readonly offset: bigint;
      /** For a kernel address in a module, the module (`bpf` for BPF programs); absent for vmlinux. */
      readonly module?: string;
      /** For a user address, the path of the file that defines the symbol, as the process mapped it. */
      readonly file?: string;
    }
  | {
      /** A user address in an executable mapping for which no symbol is known. */
      readonly kind: "mapping";
      /** The instruction pointer. */
      readonly address: bigint;
      /** The mapping's path: a file, `[vdso]` and the like, or empty for anonymous memory (JIT code). */
      readonly file: string;
      /** The address's offset in the mapped file (from the mapping's start for mappings without a file). */
      readonly offset: bigint;
      /** Why the file's symbols could not be read, when that is the reason none is known. */
      readonly unavailable?: WaggleError;
    }
  | {
      /** Nothing is known: a kernel address below every symbol, or a user address outside every executable mapping. */
      readonly kind: "unknown";
      /** The instruction pointer. */
      readonly address: bigint;
    };

/** Options for `symbolizeStack()`. */
export interface SymbolizeOptions {
  /** The process the user addresses belong to; its mappings are read when the first one needs them. */
  readonly pid?: number;
  /**
   * Instead of `pid`, the process's symbols read earlier: to share them between many stacks of one
   * process, or a `ProcessSymbols.fromMappings()` snapshot of a process that has exited.
   */
  readonly processSymbols?: ProcessSymbols;
  /** The kernel symbols to use (default `KernelSymbols.load()`, read once per process). */
  readonly kernelSymbols?: KernelSymbols;
}

/**
 * Names the instruction pointers of one stack, innermost first: kernel addresses from /proc/kallsyms,
 * user addresses from the process's mappings and the ELF symbols of the files they map.
 *
 * @param ips Instruction pointers, innermost first, as `StackTraceMap.get()` returns them.
 * @param options The process of the user addresses (`pid` or `processSymbols`), and the kernel symbols.
 * @returns One frame per instruction pointer.
 * @throws {TypeError} When there is a user address and no process, or both `pid` and `processSymbols`.
 * @throws {RangeError} When an instruction pointer is not a u64.
 * @throws {NotSupportedError} When there is a kernel address and the kernel hides its symbols' addresses.
 * @throws {SyscallError} With code `ESRCH` when `pid` has exited (pass a snapshot as `processSymbols`).
 * @throws {PermissionError} When this process may not read kallsyms or the other process's mappings.
 * @example
 * for (const frame of symbolizeStack(stacks.get(userStackId)!, { pid })) console.log(formatFrame(frame));
 */
export function symbolizeStack(ips: readonly bigint[], options: SymbolizeOptions = {}): StackFrame[] {
  if (options.pid !== undefined && options.processSymbols !== undefined) {
    throw new TypeError("Cannot symbolise a stack given both pid and processSymbols: pass one");
  }
  let kernel = options.kernelSymbols;
  let user = options.processSymbols;
  return ips.map((address, index): StackFrame => {
    if (address < 0n || address > MAX_U64) throw new RangeError(`Cannot symbolise address ${address}: it is not a u64`);
    // A caller's return address is looked up where its call is; the offset is still the address's own.
    const back = index > 0 && address > 0n ? 1n : 0n;
    if (address >= KERNEL_SPACE_START) {
      kernel ??= KernelSymbols.load();
      const where = kernel.resolve(address - back);
      if (where === undefined) return { kind: "unknown", address };
      const frame = { kind: "symbol", address, name: where.name, offset: where.offset + back } as const;
      return where.module === undefined ? frame : { ...frame, module: where.module };
    }
    if (user === undefined) {
      if (options.pid === undefined) {
        throw new TypeError(`Cannot symbolise user address 0x${address.toString(16)}: pass the process as pid or processSymbols`);
      }
      user = ProcessSymbols.forPid(options.pid);
    }
    const where = user.resolve(address - back);
    if (where === undefined) return { kind: "unknown", address };
    if (where.kind === "symbol") return { kind: "symbol", address, name: where.name, offset: where.offset + back, file: where.file };
    return { ...where, address, offset: where.offset + back };
  });
}

/**
 * A frame as one line: `do_sys_openat2+0x8`, `xt_match+0x1c [x_tables]`,
 * `getpid+0x1b (/usr/lib/x86_64-linux-gnu/libc.so.6)`, `0x7ffd1a7f39a0 ([vdso]+0x9a0)`,
 * `0x7f3a00001000 ([anon]+0x1000)` for anonymous memory, or the bare address when nothing is known.
 *
 * @example
 * console.log(symbolizeStack(ips).map(formatFrame).join("\n"));
 */
export function formatFrame(frame: StackFrame): string {
  switch (frame.kind) {
    case "symbol": {
      const place = `${frame.name}+0x${frame.offset.toString(16)}`;
      if (frame.module !== undefined) return `${place} [${frame.module}]`;
      return frame.file === undefined ? place : `${place} (${frame.file})`;
    }
    case "mapping":
      return `0x${frame.address.toString(16)} (${frame.file === "" ? "[anon]" : frame.file}+0x${frame.offset.toString(16)})`;
    case "unknown":
      return `0x${frame.address.toString(16)}`;
  }
}
