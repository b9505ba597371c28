// Shared helpers of the benchmarks: timing statistics, building and running the C baselines, and
// printing our numbers next to theirs as ratios.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const buildDir = `${root}bench/.build`;

/** min / median / max of a list of numbers. */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

/** Milliseconds since an hrtime.bigint() mark. */
export function msSince(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Builds the C baselines when a binary is missing or older than its source. Returns the path of
 * `name`, or undefined (with the reason printed) when they cannot be built here.
 */
export function cBaseline(name) {
  const binary = `${buildDir}/${name}`;
  const source = `${root}bench/c/${name}.c`;
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) {
    const build = spawnSync("sh", [`${root}bench/c/build.sh`], { encoding: "utf8" });
    if (build.status !== 0) {
      console.log(`  (C baseline ${name} unavailable: ${build.stderr.trim()})`);
      return undefined;
    }
  }
  return binary;
}

/** Runs a baseline binary that prints one JSON line. */
export function runBaseline(binary, args) {
  const out = execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return JSON.parse(out.trim().split("\n").pop());
}

/** Prints one row: name, ours, theirs, ratio. */
export function row(name, ours, theirs, unit) {
  const ratio = theirs ? (ours / theirs).toFixed(2) : "n/a";
  console.log(`  ${name.padEnd(34)} ${fmt(ours).padStart(10)} ${theirs === undefined ? "n/a".padStart(10) : fmt(theirs).padStart(10)} ${unit.padEnd(6)} ${ratio.padStart(6)}`);
}

/** The header above rows. */
export function header(title) {
  console.log(`\n${title}`);
  console.log(`  ${"".padEnd(34)} ${"waggle".padStart(10)} ${"C/libbpf".padStart(10)} ${"".padEnd(6)} ${"ratio".padStart(6)}`);
}

function fmt(v) {
  return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** Refuses to run kernel benchmarks without root. */
export function requireRoot() {
  if (process.getuid?.() !== 0) {
    console.log("benchmarks need root (bpf() is privileged here); skipped");
    process.exit(0);
  }
}

export { execFileSync };
