#!/usr/bin/env node
// Runs the compiled test files under dist/test with node:test, one process per file.
// Usage: node scripts/test.mjs [unit|kernel|guest|<path fragment>...]
// Kernel tests need root; with WAGGLE_REQUIRE_KERNEL=1 a skipped kernel test counts as a failure.
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("../dist/test/", import.meta.url).pathname;
const suites = ["unit", "kernel"];
const filters = process.argv.slice(2);

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith(".test.js") ? [path] : [];
  });
}

const dirs = filters.length && filters.every((f) => ["unit", "kernel", "guest"].includes(f)) ? filters : suites;
let files = dirs.flatMap((d) => walk(join(root, d)));
const fragments = filters.filter((f) => !["unit", "kernel", "guest"].includes(f));
if (fragments.length) files = files.filter((f) => fragments.some((frag) => f.includes(frag)));
if (files.length === 0) {
  console.error("no test files found; run `npm run build` first");
  process.exit(1);
}
const args = ["--enable-source-maps", "--test", "--test-timeout=300000", ...files];
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(result.status ?? 1);
