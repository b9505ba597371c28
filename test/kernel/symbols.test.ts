/**
 * KernelSymbols on the running kernel's /proc/kallsyms, as root (other users see every address as 0):
 * names looked up give addresses that resolve back to them, with offsets; a sample of every symbol
 * resolves to its own address; the file is read once per process; a process without CAP_SYSLOG gets a
 * NotSupportedError. The time to read and parse the file is printed.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { KALLSYMS_PATH, kernelSymbol, KernelSymbols } from "../../src/symbols/index.js";
import { kernelTest } from "../helpers/kernel.js";

/** How many symbols of the file are checked one by one. */
const SAMPLE_SIZE = 2000;

/** Every name at each address, as the test reads the file itself. */
function namesByAddress(): Map<bigint, Set<string>> {
  const byAddress = new Map<bigint, Set<string>>();
  for (const line of readFileSync(KALLSYMS_PATH, "latin1").split("\n")) {
    if (line === "") continue;
    const [address, , name] = line.split(/[ \t]/);
    const key = BigInt(`0x${address}`);
    let names = byAddress.get(key);
    if (names === undefined) byAddress.set(key, (names = new Set()));
    names.add(name!);
  }
  return byAddress;
}

kernelTest("KernelSymbols resolves do_sys_openat2 + 8 back to do_sys_openat2 at offset 8", () => {
  const symbols = KernelSymbols.load();
  const [openat] = symbols.lookup("do_sys_openat2");
  assert.ok(openat, "the kernel has do_sys_openat2");
  assert.equal(openat.name, "do_sys_openat2");
  assert.match(openat.type, /^[Tt]$/);
  assert.equal(openat.module, undefined);
  assert.deepEqual(symbols.resolve(openat.address + 8n), { ...openat, offset: 8n });
  assert.deepEqual(symbols.resolve(openat.address), { ...openat, offset: 0n });
  assert.equal(kernelSymbol("do_sys_openat2"), openat.address);
});

kernelTest("KernelSymbols resolves _stext + 8 to _stext or one of its aliases, at offset 8", () => {
  const symbols = KernelSymbols.load();
  const stext = kernelSymbol("_stext")!;
  assert.ok(stext > 0xffff_0000_0000_0000n, `_stext is a kernel address (0x${stext.toString(16)})`);
  const where = symbols.resolve(stext + 8n)!;
  assert.equal(where.address, stext);
  assert.equal(where.offset, 8n);
  assert.ok(namesByAddress().get(stext)!.has(where.name), `${where.name} is at _stext`);
});

kernelTest("KernelSymbols resolves a sample of every kernel symbol to its own address", () => {
  const symbols = KernelSymbols.load();
  const byAddress = namesByAddress();
  const addresses = [...byAddress.keys()];
  const step = Math.max(1, Math.floor(addresses.length / SAMPLE_SIZE));
  for (let i = 0; i < addresses.length; i += step) {
    const address = addresses[i]!;
    const where = symbols.resolve(address)!;
    assert.equal(where.address, address);
    assert.equal(where.offset, 0n);
    assert.ok(byAddress.get(address)!.has(where.name), `${where.name} at 0x${address.toString(16)}`);
  }
  assert.equal(symbols.size, readFileSync(KALLSYMS_PATH, "latin1").split("\n").length - 1);
});

kernelTest("KernelSymbols.load() reads /proc/kallsyms once, and again when asked to refresh", () => {
  const first = KernelSymbols.load();
  assert.equal(KernelSymbols.load(), first);
  const refreshed = KernelSymbols.load({ refresh: true });
  assert.notEqual(refreshed, first);
  assert.equal(KernelSymbols.load(), refreshed);
});

kernelTest("kernelSymbol() returns undefined for a name the kernel lacks, and throws for a name at several addresses", (t) => {
  assert.equal(kernelSymbol("waggle_no_such_symbol"), undefined);
  const duplicated = [...new Set(readFileSync(KALLSYMS_PATH, "latin1").split("\n").map((l) => l.split(/[ \t]/)[2]))].find(
    (name) => name !== undefined && new Set(KernelSymbols.load().lookup(name).map((s) => s.address)).size > 1,
  );
  if (duplicated === undefined) {
    t.skip("no kernel symbol name is at several addresses");
    return;
  }
  assert.throws(() => kernelSymbol(duplicated), (error: unknown) => error instanceof RangeError && error.message.includes(duplicated));
});

kernelTest("KernelSymbols.load() reads and parses /proc/kallsyms quickly", (t) => {
  // Cold: the first parse in a fresh process, before the JIT has warmed to the parser.
  const entry = new URL("../../src/symbols/index.js", import.meta.url).href;
  const script = `import { readFileSync } from "node:fs";
    const { KALLSYMS_PATH, KernelSymbols } = await import(${JSON.stringify(entry)});
    const started = performance.now();
    const bytes = readFileSync(KALLSYMS_PATH);
    const read = performance.now();
    KernelSymbols.parse(bytes, { file: KALLSYMS_PATH });
    console.log(JSON.stringify({ read: read - started, parse: performance.now() - read }));`;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  const cold = JSON.parse(child.stdout) as { read: number; parse: number };

  let warm = Number.POSITIVE_INFINITY;
  const bytes = readFileSync(KALLSYMS_PATH);
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    KernelSymbols.parse(bytes, { file: KALLSYMS_PATH });
    warm = Math.min(warm, performance.now() - started);
  }

  const symbols = KernelSymbols.load();
  const [openat] = symbols.lookup("do_sys_openat2");
  const lookups = 100_000;
  const started = performance.now();
  for (let i = 0; i < lookups; i++) symbols.resolve(openat!.address + BigInt(i & 0xff));
  const perResolve = ((performance.now() - started) * 1000) / lookups;
  t.diagnostic(
    `${symbols.size} symbols: cold read ${cold.read.toFixed(1)} ms + parse ${cold.parse.toFixed(1)} ms; ` +
      `warm parse ${warm.toFixed(1)} ms; resolve ${perResolve.toFixed(2)} µs`,
  );
  // Generous: the point is to catch a quadratic parser, not to benchmark.
  assert.ok(cold.parse < 2000, `parsing took ${cold.parse} ms`);
});

kernelTest("KernelSymbols.load() in a process without CAP_SYSLOG says the addresses are hidden", (t) => {
  const paranoid = Number(readFileSync("/proc/sys/kernel/perf_event_paranoid", "latin1"));
  const restrict = Number(readFileSync("/proc/sys/kernel/kptr_restrict", "latin1"));
  if (restrict === 0 && paranoid <= 1) {
    t.skip("kptr_restrict 0 and perf_event_paranoid <= 1 show addresses to every user");
    return;
  }
  const entry = new URL("../../src/symbols/index.js", import.meta.url).href;
  const script = `import(${JSON.stringify(entry)}).then(({ KernelSymbols }) => {
    try { KernelSymbols.load(); console.log("loaded"); }
    catch (e) { console.log(JSON.stringify({ name: e.name, feature: e.feature, message: e.message })); }
  });`;
  const child = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--input-type=module", "-e", script], {
    encoding: "utf8",
  });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim()) as { name: string; feature: string; message: string };
  assert.equal(result.name, "NotSupportedError");
  assert.equal(result.feature, "reading kernel symbol addresses");
  assert.match(result.message, /kptr_restrict/);
});
