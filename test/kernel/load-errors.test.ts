/**
 * Bad input to load() gets a clear, typed error — never a crash, a hang or a leaked fd: objects that are
 * not ELF, not eBPF, truncated, or corrupt; objects of the other byte order; and a caller without the
 * privilege to use bpf().
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe } from "node:test";
import { fileURLToPath } from "node:url";
import { load } from "../../src/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixtureBytes, fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

describe("load() on bad input", () => {
  kernelTest("a file that is not ELF is a FormatError naming the file", () => {
    assert.throws(() => load(new TextEncoder().encode("#!/bin/sh\necho hi\n")), { name: "FormatError", format: "ELF" });
  });

  kernelTest("an ELF file for another machine is refused as not eBPF", () => {
    const node = new Uint8Array(readFileSync(process.execPath).subarray(0, 1 << 20));
    assert.throws(() => load(node), (e: Error) => e.name === "FormatError");
    const self = fileURLToPath(import.meta.url);
    assert.throws(() => load(self), { name: "FormatError" });
  });

  kernelTest("a truncated object is a FormatError with the offset that is missing", () => {
    const bytes = fixtureBytes("xdp_filter");
    for (const length of [0, 10, 63, 64, 200, bytes.length / 2, bytes.length - 1]) {
      assert.throws(() => load(bytes.subarray(0, Math.floor(length))), { name: "FormatError" }, `length ${length}`);
    }
  });

  kernelTest("a big-endian object is refused before anything reaches the kernel", () => {
    assert.throws(() => load(fixturePath("big_endian")), { name: "NotSupportedError", message: /big-endian object/ });
  });

  kernelTest("objects this version cannot complete say what is missing", () => {
    assert.throws(() => load(fixturePath("struct_ops")), { name: "NotSupportedError", message: /struct_ops/ });
  });

  kernelTest("corrupt objects never leak an fd", () => {
    const bytes = fixtureBytes("globals");
    const before = openFdCount();
    let failures = 0;
    for (let i = 0; i < 300; i++) {
      const copy = bytes.slice();
      const at = (i * 7919) % copy.length;
      copy[at] = copy[at]! ^ (1 << (i % 8));
      try {
        load(copy).close();
      } catch (error) {
        failures++;
        assert.ok(["FormatError", "VerifierError", "SyscallError", "NotSupportedError", "WaggleError"].includes((error as Error).name), String(error));
      }
    }
    assert.ok(failures > 0);
    assert.equal(openFdCount(), before);
  });

  kernelTest("a process without CAP_BPF gets a PermissionError that names the privilege", () => {
    const entry = new URL("../../src/index.js", import.meta.url).href;
    const script = `import(${JSON.stringify(entry)}).then(({ load }) => {
      try { load(${JSON.stringify(fixturePath("xdp_pass"))}); console.log("loaded"); }
      catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message, privilege: e.privilege })); }
    });`;
    // Drop the capabilities bpf() checks (root without them), so any Node binary path still works.
    const child = spawnSync(
      "setpriv",
      ["--inh-caps=-all", "--bounding-set=-bpf,-sys_admin,-perfmon", process.execPath, "--input-type=module", "-e", script],
      { encoding: "utf8" },
    );
    assert.equal(child.status, 0, child.stderr);
    const result = JSON.parse(child.stdout.trim());
    assert.equal(result.name, "PermissionError");
    assert.match(result.privilege, /CAP_BPF/);
    assert.match(result.message, /EPERM/);
  });
});
