/**
 * Externs on the real kernel: `__kconfig` values (computed, from the kernel's configuration, and from
 * the `kconfig` option), typed and typeless `__ksym`s, kfuncs and weak externs — checked against
 * values this test reads on its own, and the `.kconfig` map checked byte for byte against the one
 * libbpf builds for the same object (`bpftool prog loadall`).
 */

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "node:test";
import { gunzipSync } from "node:zlib";
import { load, type Collection } from "../../src/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

interface ExternResults {
  kernel_version: bigint;
  bpf_syscall: bigint;
  bpf_jit: bigint;
  hz: bigint;
  hostname: string;
  missing: bigint;
  stext: bigint;
  task_tgid: bigint;
  iter_sum: bigint;
  missing_kfunc_present: bigint;
}

function resolve(coll: Collection): ExternResults {
  const ctx = new Uint8Array(8);
  new DataView(ctx.buffer).setInt32(0, process.pid, true);
  assert.equal(coll.program("resolve").run({ ctx }).retval, 0);
  return coll.variables.out as unknown as ExternResults;
}

/** The kernel's configuration, read here independently of Waggle. */
function config(): Map<string, string> {
  const text = gunzipSync(readFileSync("/proc/config.gz")).toString();
  return new Map(text.split("\n").flatMap((line) => (/^CONFIG_\w+=/.test(line) ? [line.split("=", 2) as [string, string]] : [])));
}

function kallsyms(name: string): bigint {
  const line = readFileSync("/proc/kallsyms", "utf8").split("\n").find((l) => l.endsWith(` ${name}`));
  assert.ok(line, `${name} is in /proc/kallsyms`);
  return BigInt(`0x${line.split(" ")[0]}`);
}

const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;
const hasClang = spawnSync("clang-19", ["--version"]).status === 0;

describe("externs", () => {
  kernelTest("externs.o resolves every __kconfig value, a typeless ksym and kfuncs; weak ones read 0", () => {
    using coll = load(fixturePath("externs"));
    const out = resolve(coll);
    const [major, minor, patch] = release().split(/[.-]/).map(Number) as [number, number, number];
    assert.equal(out.kernel_version, BigInt((major << 16) + (minor << 8) + Math.min(patch, 255)));
    const cfg = config();
    assert.equal(out.bpf_syscall, cfg.get("CONFIG_BPF_SYSCALL") === "y" ? 1n : 0n);
    assert.equal(out.bpf_jit, { y: 1n, m: 2n }[cfg.get("CONFIG_BPF_JIT") ?? ""] ?? 0n);
    assert.equal(out.hz, BigInt(cfg.get("CONFIG_HZ")!));
    assert.equal(out.hostname, JSON.parse(cfg.get("CONFIG_DEFAULT_HOSTNAME")!).slice(0, 8));
    assert.equal(out.missing, 0n);
    assert.equal(out.stext, kallsyms("_stext"));
    assert.equal(out.task_tgid, BigInt(process.pid));
    assert.equal(out.iter_sum, 45n);
    assert.equal(out.missing_kfunc_present, 0n);
    assert.throws(() => coll.map(".kconfig").updateBytes(new Uint8Array(4), new Uint8Array(coll.map(".kconfig").valueSize)), /EPERM/, "the .kconfig map is frozen");
  });

  kernelTest("the kconfig option comes before the kernel's configuration; bad values are refused by name", () => {
    using coll = load(fixturePath("externs"), {
      kconfig: { CONFIG_HZ: 1000, CONFIG_WAGGLE_MISSING: "0x2a", CONFIG_DEFAULT_HOSTNAME: '"waggle-hostname-longer-than-16"', CONFIG_UNUSED: true },
    });
    const out = resolve(coll);
    assert.equal(out.hz, 1000n);
    assert.equal(out.missing, 42n);
    assert.equal(out.hostname, "waggle-h");
    const value = coll.map(".kconfig").lookupBytes(new Uint8Array(4))!;
    assert.ok(Buffer.from(value).includes("waggle-hostname\0"), "a long string is cut to the array's size with its NUL");

    const refused = (kconfig: Record<string, string | number | boolean>, pattern: RegExp) =>
      assert.throws(() => load(fixturePath("externs"), { kconfig }), (e: Error) => e.name === "WaggleError" && pattern.test(e.message));
    refused({ CONFIG_HZ: "y" }, /CONFIG_HZ.*y needs a bool, tristate or char/);
    refused({ CONFIG_BPF_SYSCALL: "m" }, /CONFIG_BPF_SYSCALL.*m needs a tristate or char/);
    refused({ CONFIG_BPF_SYSCALL: 2 }, /CONFIG_BPF_SYSCALL.*a bool is 0 or 1/);
    refused({ CONFIG_HZ: 2 ** 40 }, /CONFIG_HZ.*does not fit in 4 bytes/);
    refused({ CONFIG_HZ: "12abc" }, /CONFIG_HZ.*not an integer/);
    refused({ CONFIG_DEFAULT_HOSTNAME: 5 }, /CONFIG_DEFAULT_HOSTNAME.*an integer needs/);
  });

  kernelTest("the .kconfig map holds exactly the bytes libbpf puts there", (t) => {
    if (!hasBpftool) return t.skip("needs bpftool");
    const dir = mkdtempSync("/sys/fs/bpf/waggle-externs-");
    try {
      execFileSync("bpftool", ["prog", "loadall", fixturePath("externs"), join(dir, "progs"), "pinmaps", join(dir, "maps")], { stdio: "pipe" });
      const dump = JSON.parse(execFileSync("bpftool", ["-j", "map", "dump", "pinned", join(dir, "maps", "externs_kconfig")], { encoding: "utf8" }));
      const theirs = Uint8Array.from((dump[0].value as string[]).map((b) => Number(b)));
      using coll = load(fixturePath("externs"));
      const ours = coll.map(".kconfig").lookupBytes(new Uint8Array(4))!;
      assert.deepEqual([...ours], [...theirs]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  kernelTest("a typed ksym becomes a BTF-id load the kernel resolves (this kernel's kallsyms has no data symbols)", () => {
    assert.throws(() => load(fixturePath("ksym_typed")), (e: Error) => e.name === "VerifierError" && /failed to find the address for kernel symbol 'cpu_number'/.test(e.message));
  });

  describe("ksyms compiled here", { skip: !hasClang && "needs clang-19" }, () => {
    const dir = mkdtempSync(join(tmpdir(), "waggle-ksyms-"));
    const compile = (name: string, body: string): string => {
      const src = join(dir, `${name}.bpf.c`);
      writeFileSync(src, `#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\n${body}\n`);
      const out = join(dir, `${name}.o`);
      execFileSync("clang-19", ["-target", "bpf", "-O2", "-g", "-idirafter", "/usr/include/x86_64-linux-gnu", "-c", src, "-o", out], { stdio: "pipe" });
      return out;
    };
    const run = (coll: Collection) => coll.program("probe").run({ ctx: new Uint8Array(8) }).retval;

    kernelTest("weak ksyms the kernel lacks read as address 0, typed or not", () => {
      const path = compile(
        "weak_ksyms",
        `extern const int waggle_no_such_var __ksym __weak;
         extern const void waggle_no_such_symbol __ksym __weak;
         SEC("syscall") int probe(void *ctx) { return (&waggle_no_such_var != 0) * 10 + (&waggle_no_such_symbol != 0); }`,
      );
      using coll = load(path);
      assert.equal(run(coll), 0);
    });

    kernelTest("a typeless ksym reads its address from /proc/kallsyms", () => {
      const path = compile(
        "typeless_ksym",
        `extern const void __x64_sys_getpid __ksym;
         unsigned long address;
         SEC("syscall") int probe(void *ctx) { address = (unsigned long)&__x64_sys_getpid; return 1; }`,
      );
      using coll = load(path);
      assert.equal(run(coll), 1);
      assert.equal(coll.variables.address, kallsyms("__x64_sys_getpid"));
    });

    kernelTest("strong ksyms the kernel lacks, and typed ksyms of the wrong type, are refused by name", () => {
      const missing = compile("missing_ksym", `extern const void waggle_no_such_symbol __ksym;\nconst void *p;\nSEC("syscall") int probe(void *ctx) { p = &waggle_no_such_symbol; return 0; }`);
      assert.throws(() => load(missing), (e: Error) => e.name === "NotSupportedError" && /waggle_no_such_symbol.*kallsyms/.test(e.message));
      const missingVar = compile("missing_var", `extern const int waggle_no_such_var __ksym;\nconst void *p;\nSEC("syscall") int probe(void *ctx) { p = &waggle_no_such_var; return 0; }`);
      assert.throws(() => load(missingVar), (e: Error) => e.name === "NotSupportedError" && /kernel variable "waggle_no_such_var"/.test(e.message));
      const wrongType = compile(
        "wrong_type",
        `struct not_an_int { long a, b; };
         extern const struct not_an_int bpf_prog_active __ksym;
         const void *p;
         SEC("syscall") int probe(void *ctx) { p = &bpf_prog_active; return 0; }`,
      );
      assert.throws(() => load(wrongType), (e: Error) => e.name === "WaggleError" && /"bpf_prog_active" is int in vmlinux, but the object declares struct not_an_int/.test(e.message));
      const missingKfunc = compile("missing_kfunc", `extern void bpf_waggle_nothing(void) __ksym;\nSEC("syscall") int probe(void *ctx) { bpf_waggle_nothing(); return 0; }`);
      assert.throws(() => load(missingKfunc), (e: Error) => e.name === "NotSupportedError" && /kernel function "bpf_waggle_nothing"/.test(e.message));
    });

    kernelTest("a kfunc declared with the wrong prototype is refused, or treated as absent when weak", () => {
      const strong = compile(
        "wrong_kfunc",
        `extern int bpf_task_from_pid(long a, long b, long c) __ksym;
         SEC("syscall") int probe(void *ctx) { return bpf_task_from_pid(1, 2, 3) != 0; }`,
      );
      assert.throws(() => load(strong), (e: Error) => e.name === "WaggleError" && /"bpf_task_from_pid" has a different prototype/.test(e.message));
      const weak = compile(
        "wrong_weak_kfunc",
        `extern int bpf_task_from_pid(long a, long b, long c) __ksym __weak;
         SEC("syscall") int probe(void *ctx) { return bpf_task_from_pid ? 7 : 3; }`,
      );
      using coll = load(weak);
      assert.equal(run(coll), 3);
    });

    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  });
});
