/**
 * `symbolizeStack()` and `formatFrame()` without a kernel or a live process: kernel symbols parsed from
 * made-up kallsyms text, user symbols from made-up mappings of libc, `[vdso]` and anonymous memory.
 * Addresses choose their symbols (top bit set: kernel), caller frames are looked up one byte back, and
 * the process's mappings are read only when a user address needs them.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import {
  elfSymbolAddress,
  formatFrame,
  KERNEL_SPACE_START,
  KernelSymbols,
  ProcessSymbols,
  symbolizeStack,
  type ProcMapping,
} from "../../src/symbols/index.js";

const LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6";
const libcMissing = existsSync(LIBC) ? undefined : `${LIBC} does not exist`;
const LOAD_BASE = 0x7f12_3400_0000n;
const PAGE = 0x1000n;
/** A pid no process has: above the kernel's limit (PID_MAX_LIMIT, 2^22). */
const NO_SUCH_PID = 2 ** 22 + 1;

const kernelSymbols = KernelSymbols.parse(
  [
    "ffffffff81000000 T _stext",
    "ffffffff81000100 T do_syscall_64",
    "ffffffff81000200 t helper",
    "ffffffffc0001000 t xt_match\t[x_tables]",
  ].join("\n"),
);

/** An executable mapping of `path` (a file, `[vdso]`, or "" for anonymous memory). */
function mapping(path: string, start: bigint, length: bigint, offset = 0n): ProcMapping {
  return { start, end: start + length, perms: "r-xp", offset, device: "00:00", inode: 0n, path, deleted: false };
}

test("symbolizeStack() names kernel addresses from kallsyms, looking caller frames up one byte back", () => {
  const frames = symbolizeStack(
    [
      0xffffffff81000200n, // innermost: exactly at helper
      0xffffffff81000200n, // a return address right after do_syscall_64's last call: still do_syscall_64
      0xffffffffc0001010n,
      KERNEL_SPACE_START, // below every symbol
    ],
    { kernelSymbols },
  );
  assert.deepEqual(frames, [
    { kind: "symbol", address: 0xffffffff81000200n, name: "helper", offset: 0n },
    { kind: "symbol", address: 0xffffffff81000200n, name: "do_syscall_64", offset: 0x100n },
    { kind: "symbol", address: 0xffffffffc0001010n, name: "xt_match", offset: 0x10n, module: "x_tables" },
    { kind: "unknown", address: KERNEL_SPACE_START },
  ]);
  assert.deepEqual(frames.map(formatFrame), ["helper+0x0", "do_syscall_64+0x100", "xt_match+0x10 [x_tables]", "0x8000000000000000"]);
});

test("symbolizeStack() names user addresses from the process's files, and gives the mapping where no symbol is known", { skip: libcMissing }, () => {
  const getpid = elfSymbolAddress(LIBC, "getpid")!;
  const mapped = getpid.fileOffset! & ~(PAGE - 1n);
  const getpidAt = LOAD_BASE + getpid.fileOffset! - mapped;
  const vdso = 0x7ffd_1a7f_3000n;
  const jit = 0x7f00_0000_0000n;
  const processSymbols = ProcessSymbols.fromMappings([
    mapping(LIBC, LOAD_BASE, 2n * PAGE, mapped),
    mapping("[vdso]", vdso, PAGE),
    mapping("", jit, PAGE),
  ]);
  const frames = symbolizeStack([getpidAt + 7n, vdso + 0x9a0n, jit + 0x10n, 0x1000n], { processSymbols });
  assert.deepEqual(frames, [
    { kind: "symbol", address: getpidAt + 7n, name: "getpid", offset: 7n, file: LIBC },
    { kind: "mapping", address: vdso + 0x9a0n, file: "[vdso]", offset: 0x9a0n },
    { kind: "mapping", address: jit + 0x10n, file: "", offset: 0x10n },
    { kind: "unknown", address: 0x1000n },
  ]);
  assert.deepEqual(frames.map(formatFrame), [
    `getpid+0x7 (${LIBC})`,
    `0x${(vdso + 0x9a0n).toString(16)} ([vdso]+0x9a0)`,
    "0x7f0000000010 ([anon]+0x10)",
    "0x1000",
  ]);
});

test("symbolizeStack() symbolises a stack that mixes kernel and user addresses, each from its own symbols", () => {
  const processSymbols = ProcessSymbols.fromMappings([mapping("[vdso]", LOAD_BASE, PAGE)]);
  const frames = symbolizeStack([0xffffffff81000104n, LOAD_BASE + 8n], { kernelSymbols, processSymbols });
  assert.deepEqual(frames.map(formatFrame), ["do_syscall_64+0x4", `0x${(LOAD_BASE + 8n).toString(16)} ([vdso]+0x8)`]);
});

test("symbolizeStack() reads the process's mappings only when a user address needs them", () => {
  // The process does not exist: a kernel stack symbolises anyway, a user stack fails with ESRCH.
  assert.deepEqual(symbolizeStack([0xffffffff81000001n], { kernelSymbols, pid: NO_SUCH_PID }), [
    { kind: "symbol", address: 0xffffffff81000001n, name: "_stext", offset: 1n },
  ]);
  assert.throws(
    () => symbolizeStack([0x401000n], { kernelSymbols, pid: NO_SUCH_PID }),
    (error: unknown) => error instanceof Error && error.name === "SyscallError" && /ESRCH/.test(error.message),
  );
  assert.deepEqual(symbolizeStack([], { pid: NO_SUCH_PID }), []);
});

test("symbolizeStack() refuses a user address without a process, both pid and processSymbols, and non-u64 addresses", () => {
  assert.throws(() => symbolizeStack([0xffffffff81000001n, 0x401000n], { kernelSymbols }), (error: unknown) =>
    error instanceof TypeError && /user address 0x401000: pass the process as pid or processSymbols/.test(error.message),
  );
  const processSymbols = ProcessSymbols.fromMappings([]);
  assert.throws(() => symbolizeStack([0x401000n], { pid: 1, processSymbols }), TypeError);
  assert.throws(() => symbolizeStack([-1n], { kernelSymbols }), RangeError);
  assert.throws(() => symbolizeStack([1n << 64n], { kernelSymbols }), RangeError);
});
