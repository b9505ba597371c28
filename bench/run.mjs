#!/usr/bin/env node
// Runs the benchmarks and prints each next to its C/libbpf baseline as a ratio (ours / theirs:
// below 1 means Waggle is faster). Usage: npm run bench [-- <name regex>]
// Benchmarks report numbers; they assert nothing. Run as root: the kernel is part of every number.
import { requireRoot } from "./lib.mjs";

const BENCHES = {
  load: () => import("./load.mjs"),
  maps: () => import("./maps.mjs"),
  core: () => import("./core.mjs"),
};

requireRoot();
const filter = new RegExp(process.argv[2] ?? ".");
console.log(`Waggle benchmarks — Node ${process.version}, kernel ${(await import("node:os")).release()}`);
for (const [name, module] of Object.entries(BENCHES)) {
  if (!filter.test(name)) continue;
  await (await module()).run();
}
