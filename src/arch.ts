/**
 * Architecture facts in one table keyed by `process.arch`: syscall numbers, the `__TARGET_ARCH_*` name,
 * the syscall-wrapper symbol prefix and the `struct pt_regs` argument registers.
 *
 * Nothing else in Waggle may hard-code these; add a row here when supporting a new architecture.
 */

import { NotSupportedError } from "./errors.js";

/** What Waggle needs to know about one CPU architecture. */
export interface ArchFacts {
  /** Node's name for it (`process.arch`). */
  readonly node: string;
  /** The suffix of libbpf's `__TARGET_ARCH_*` macro. */
  readonly targetArch: string;
  /** System call numbers used by Waggle (the libc `syscall()` entry point takes these). */
  readonly syscalls: {
    readonly bpf: number;
    readonly perf_event_open: number;
  };
  /** Prefix of syscall entry symbols when the kernel uses syscall wrappers (`__x64_sys_openat`). */
  readonly syscallPrefix: string;
  /** Byte offsets in `struct pt_regs` of the first five function-argument registers, then the return value. */
  readonly ptRegs: { readonly args: readonly number[]; readonly ret: number; readonly size: number };
}

const ARCHES: Readonly<Record<string, ArchFacts>> = {
  x64: {
    node: "x64",
    targetArch: "x86",
    syscalls: { bpf: 321, perf_event_open: 298 },
    syscallPrefix: "__x64_",
    // di, si, dx, cx, r8; ax
    ptRegs: { args: [112, 104, 96, 88, 72], ret: 80, size: 168 },
  },
  arm64: {
    node: "arm64",
    targetArch: "arm64",
    syscalls: { bpf: 280, perf_event_open: 241 },
    syscallPrefix: "__arm64_",
    // regs[0..4]; regs[0]
    ptRegs: { args: [0, 8, 16, 24, 32], ret: 0, size: 336 },
  },
};

/** The facts for the running architecture (or a named one). */
export function archFacts(arch: string = process.arch): ArchFacts {
  const facts = ARCHES[arch];
  if (!facts) throw new NotSupportedError(`architecture ${arch}`, "Waggle knows x64 and arm64");
  return facts;
}
