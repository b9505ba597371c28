/** Paths to the committed eBPF fixture objects (built from fixtures/src by `npm run fixtures`). */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

/** The repository root: the nearest folder above this file holding `fixtures/`, else the working directory. */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "fixtures")) && existsSync(join(dir, "package.json"))) return dir;
  }
  return process.cwd();
}

/** The folder holding the compiled fixture objects. */
export const fixtureDir = join(repoRoot, "fixtures", "obj");

/** The absolute path of a fixture object, e.g. `fixturePath("xdp_pass")` → …/fixtures/obj/xdp_pass.o */
export function fixturePath(name: string): string {
  return join(fixtureDir, name.endsWith(".o") ? name : `${name}.o`);
}

/** The bytes of a fixture object. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** The names (without `.o`) of every committed fixture object, sorted. */
export function allFixtures(): string[] {
  if (!existsSync(fixtureDir)) return [];
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith(".o"))
    .map((f) => f.slice(0, -2))
    .sort();
}
