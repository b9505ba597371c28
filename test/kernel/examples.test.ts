/** The README's examples run and print what they promise. */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe } from "node:test";
import { repoRoot } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

describe("examples", () => {
  kernelTest("examples/xdp-firewall.mjs drops port 7777 and counts packets", () => {
    const run = spawnSync(process.execPath, [join(repoRoot, "examples", "xdp-firewall.mjs")], { encoding: "utf8", cwd: repoRoot });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /UDP → :53\s+→ XDP_PASS/);
    assert.match(run.stdout, /UDP → :7777\s+→ XDP_DROP/);
    assert.match(run.stdout, /TCP → :7777\s+→ XDP_DROP/);
    assert.match(run.stdout, /Dropped \(global "dropped"\): 2000/);
    assert.match(run.stdout, /verifier_fail\.bpf\.c:27/);
  });
});
