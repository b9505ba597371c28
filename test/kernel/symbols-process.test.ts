/**
 * ProcessSymbols on live processes: a C program gcc builds here, as a PIE and as a non-PIE executable,
 * linked against a shared object of its own (stripped, so only .dynsym is left) and libc, prints the
 * addresses of its functions and waits; their names must come back from .symtab (the program's static
 * functions), .dynsym (the library's and libc's `getpid`), with offsets inside functions, and `[vdso]`
 * must resolve to its mapping. Then processes that exit, zombies, deleted executables and files this
 * process may not read. Reading /proc/PID of one's own children needs no privilege, so most of these
 * tests run as any user on Linux; the ones that need root say so with kernelTest().
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { isWaggleError, type PermissionError, type SyscallError } from "../../src/errors.js";
import { ElfFile, ET_DYN, ET_EXEC } from "../../src/elf/index.js";
import { ProcessSymbols, type ProcessLocation } from "../../src/symbols/index.js";
import { kernelTest } from "../helpers/kernel.js";

const LIBRARY_SOURCE = `
__attribute__((noinline)) static int lib_static(int x) { return x * 5 + 3; }
__attribute__((noinline)) int lib_function(int x) { return lib_static(x) * 3 + 1; }
void *lib_static_address(void) { return (void *)lib_static; }
`;

const PROGRAM_SOURCE = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

extern int lib_function(int);
extern void *lib_static_address(void);

__attribute__((noinline)) static int local_helper(int x) { return x * 7 + 2; }
__attribute__((noinline)) int exported_function(int x) { return local_helper(x) + lib_function(x); }

int main(void) {
  /* The definitions, not the PLT stubs a non-PIE executable uses as their addresses. */
  void *getpid_address = dlsym(RTLD_NEXT, "getpid");
  void *lib_function_address = dlsym(RTLD_NEXT, "lib_function");
  printf("main %p\\n", (void *)main);
  printf("local_helper %p\\n", (void *)local_helper);
  printf("exported_function %p\\n", (void *)exported_function);
  printf("lib_function %p\\n", lib_function_address);
  printf("lib_static %p\\n", lib_static_address());
  printf("getpid %p\\n", getpid_address);
  printf("ready %d\\n", exported_function(1));
  fflush(stdout);
  for (;;) pause();
}
`;

const skipReason = process.platform !== "linux" ? `needs Linux (this is ${process.platform})` : missing("gcc") ?? missing("strip");

/** Why `tool` cannot be used, or undefined when it is installed. */
function missing(tool: string): string | undefined {
  return spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0 ? undefined : `${tool} is not installed`;
}

/** Runs a build command, failing with its output. */
function build(tool: string, args: readonly string[]): void {
  const result = spawnSync(tool, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(" ")} failed: ${result.stderr}`);
}

/** The built files. */
interface Built {
  readonly dir: string;
  readonly library: string;
  readonly pie: string;
  readonly noPie: string;
}

/** Builds the library (then strips it) and both executables into a fresh temporary folder. */
function buildAll(): Built {
  const dir = mkdtempSync(join(tmpdir(), "waggle-symbols-"));
  writeFileSync(join(dir, "lib.c"), LIBRARY_SOURCE);
  writeFileSync(join(dir, "prog.c"), PROGRAM_SOURCE);
  const library = join(dir, "libwagglesym.so");
  build("gcc", ["-O1", "-shared", "-fPIC", "-o", library, join(dir, "lib.c")]);
  build("strip", ["--strip-all", library]);
  const link = ["-L", dir, "-Wl,-rpath," + dir, "-lwagglesym", "-ldl"];
  const pie = join(dir, "prog-pie");
  const noPie = join(dir, "prog-nopie");
  build("gcc", ["-O1", "-fPIE", "-pie", "-o", pie, join(dir, "prog.c"), ...link]);
  build("gcc", ["-O1", "-fno-pie", "-no-pie", "-o", noPie, join(dir, "prog.c"), ...link]);
  return { dir, library, pie, noPie };
}

/** A running test program and the addresses it printed. */
interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly addresses: ReadonlyMap<string, bigint>;
}

const children = new Set<ChildProcess>();

/** Starts `path` and waits for it to print its addresses. */
async function start(path: string): Promise<Running> {
  const child = spawn(path, [], { stdio: ["ignore", "pipe", "inherit"] });
  children.add(child);
  let output = "";
  child.stdout!.setEncoding("utf8");
  for await (const chunk of child.stdout!) {
    output += chunk as string;
    if (/^ready /m.test(output)) break;
  }
  const addresses = new Map<string, bigint>();
  for (const [, name, hex] of output.matchAll(/^(\w+) (0x[0-9a-f]+)$/gm)) addresses.set(name!, BigInt(hex!));
  return { child, pid: child.pid!, addresses };
}

/** Kills `child` and waits until it is reaped. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }
  children.delete(child);
}

after(async () => {
  for (const child of children) await stop(child);
});

/** Asserts that `location` is symbol `name` at `address` with `offset`, in a file matching `file`. */
function assertSymbol(location: ProcessLocation | undefined, name: string, address: bigint, offset: bigint, file: RegExp): void {
  assert.ok(location !== undefined, `${name} is in an executable mapping`);
  assert.equal(location.kind, "symbol", `${name}: ${JSON.stringify(location, (_, v) => (typeof v === "bigint" ? v.toString(16) : v))}`);
  if (location.kind !== "symbol") return;
  assert.equal(location.name, name);
  assert.equal(location.address, address - offset);
  assert.equal(location.offset, offset);
  assert.match(location.file, file);
}

describe("ProcessSymbols on programs gcc builds", { skip: skipReason }, () => {
  let built: Built;
  before(() => {
    built = buildAll();
  });
  after(() => rmSync(built.dir, { recursive: true, force: true }));

  for (const variant of ["PIE", "non-PIE"] as const) {
    test(`ProcessSymbols.resolve() names the functions of a ${variant} executable, its library and libc`, async () => {
      const path = variant === "PIE" ? built.pie : built.noPie;
      assert.equal(ElfFile.parse(new Uint8Array(readFileSync(path))).type, variant === "PIE" ? ET_DYN : ET_EXEC);
      const running = await start(path);
      try {
        const symbols = ProcessSymbols.forPid(running.pid);
        assert.equal(symbols.pid, running.pid);
        const at = (name: string) => running.addresses.get(name)!;
        const program = new RegExp(`${path}$`);
        for (const name of ["main", "local_helper", "exported_function"]) {
          assertSymbol(symbols.resolve(at(name)), name, at(name), 0n, program);
          assertSymbol(symbols.resolve(at(name) + 1n), name, at(name) + 1n, 1n, program);
        }
        assertSymbol(symbols.resolve(at("lib_function")), "lib_function", at("lib_function"), 0n, /libwagglesym\.so$/);
        assertSymbol(symbols.resolve(at("lib_function") + 2n), "lib_function", at("lib_function") + 2n, 2n, /libwagglesym\.so$/);
        assertSymbol(symbols.resolve(at("getpid")), "getpid", at("getpid"), 0n, /\/libc\.so\.6$/);
        assertSymbol(symbols.resolve(at("getpid") + 3n), "getpid", at("getpid") + 3n, 3n, /\/libc\.so\.6$/);
      } finally {
        await stop(running.child);
      }
    });
  }

  test("ProcessSymbols.resolve() gives only the mapping for a function no symbol table of a stripped library names", async () => {
    const running = await start(built.pie);
    try {
      const address = running.addresses.get("lib_static")!;
      const location = ProcessSymbols.forPid(running.pid).resolve(address);
      assert.equal(location?.kind, "mapping");
      assert.match(location!.file, /libwagglesym\.so$/);
      assert.equal(location!.kind === "mapping" && location.unavailable, undefined);
    } finally {
      await stop(running.child);
    }
  });

  test("ProcessSymbols.resolve() gives [vdso] addresses their mapping, and nothing for addresses outside executable mappings", async () => {
    const running = await start(built.pie);
    try {
      const symbols = ProcessSymbols.forPid(running.pid);
      const vdso = symbols.mappings.find((m) => m.path === "[vdso]");
      assert.ok(vdso, "the process has a [vdso] mapping");
      assert.deepEqual(symbols.resolve(vdso.start + 16n), { kind: "mapping", file: "[vdso]", offset: 16n });
      const data = symbols.mappings.find((m) => m.perms === "rw-p")!;
      assert.equal(symbols.resolve(data.start), undefined);
      assert.equal(symbols.resolve(0n), undefined);
      assert.throws(() => symbols.resolve(-1n), RangeError);
    } finally {
      await stop(running.child);
    }
  });

  test("ProcessSymbols.forPid() throws ESRCH for a process that has exited", async () => {
    const running = await start(built.pie);
    const symbols = ProcessSymbols.forPid(running.pid);
    await stop(running.child);
    assert.throws(
      () => ProcessSymbols.forPid(running.pid),
      (error: unknown) => {
        assert.ok(isWaggleError(error, "SyscallError"), String(error));
        assert.equal((error as SyscallError).code, "ESRCH");
        assert.match((error as Error).message, new RegExp(`process ${running.pid} has exited`));
        return true;
      },
    );
    // Mappings read while it ran still resolve: its files are then opened by path.
    const main = running.addresses.get("main")!;
    assertSymbol(symbols.resolve(main + 4n), "main", main + 4n, 4n, /prog-pie$/);
  });

  test("ProcessSymbols.forPid() throws ESRCH for a zombie", async () => {
    // The short sleep exits after the shell has become the long one, which never reaps it.
    const parent = spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "inherit"] });
    children.add(parent);
    try {
      const [line] = (await once(parent.stdout!, "data")) as [Buffer];
      const zombie = Number(line.toString().trim());
      for (let tries = 0; !/\) Z /.test(readFileSync(`/proc/${zombie}/stat`, "latin1")); tries++) {
        assert.ok(tries < 200, "the child becomes a zombie");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.throws(() => ProcessSymbols.forPid(zombie), (error: unknown) => isWaggleError(error, "SyscallError") && error.code === "ESRCH");
    } finally {
      await stop(parent);
    }
  });

  test("ProcessSymbols.forPid() rejects what is not a process id", () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) assert.throws(() => ProcessSymbols.forPid(pid), RangeError);
  });

  kernelTest("ProcessSymbols resolves the functions of a deleted executable through /proc/PID/map_files", async () => {
    const copy = join(built.dir, "prog-deleted");
    copyFileSync(built.pie, copy);
    const running = await start(copy);
    try {
      unlinkSync(copy);
      const symbols = ProcessSymbols.forPid(running.pid);
      const mapping = symbols.mappings.find((m) => m.path === copy && m.perms[2] === "x");
      assert.ok(mapping?.deleted, "the mapping is marked deleted");
      const helper = running.addresses.get("local_helper")!;
      assertSymbol(symbols.resolve(helper + 1n), "local_helper", helper + 1n, 1n, /prog-deleted$/);
    } finally {
      await stop(running.child);
    }
  });

  kernelTest("ProcessSymbols reports a mapped file this process may not read as a PermissionError, without throwing", () => {
    const unreadable = join(built.dir, "unreadable-copy");
    copyFileSync(built.library, unreadable);
    chmodSync(unreadable, 0o000);
    chmodSync(built.dir, 0o755);
    const entry = new URL("../../src/symbols/index.js", import.meta.url).href;
    const mapping = `{ start: 0x7f0000000000n, end: 0x7f0000001000n, perms: "r-xp", offset: 0n, device: "00:00", inode: 1n, path: ${JSON.stringify(unreadable)}, deleted: false }`;
    const script = `import(${JSON.stringify(entry)}).then(({ ProcessSymbols }) => {
      const where = ProcessSymbols.fromMappings([${mapping}]).resolve(0x7f0000000010n);
      const e = where.unavailable;
      console.log(JSON.stringify({ kind: where.kind, name: e?.name, code: e?.code, privilege: e?.privilege, message: e?.message }));
    });`;
    // As nobody: without CAP_DAC_OVERRIDE a file of mode 000 cannot be opened.
    const child = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout.trim()) as { kind: string } & Pick<PermissionError, "name" | "code" | "privilege" | "message">;
    assert.equal(result.kind, "mapping");
    assert.equal(result.name, "PermissionError");
    assert.equal(result.code, "EACCES");
    assert.match(result.privilege, /read access/);
    assert.match(result.message, /unreadable-copy/);
  });
});
