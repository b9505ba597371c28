/**
 * The running kernel's build configuration (Kconfig), which `__kconfig` externs read: from
 * /proc/config.gz (CONFIG_IKCONFIG_PROC), else /boot/config-<release>, as libbpf looks for it.
 * Read once per process; values are kept as written (`y`, `m`, `250`, `"(none)"`).
 */

import { readFileSync } from "node:fs";
import { release } from "node:os";
import { gunzipSync } from "node:zlib";
import { FormatError, NotSupportedError } from "../errors.js";

/** Where the kernel's configuration may be. */
export const KCONFIG_PATHS = ["/proc/config.gz", `/boot/config-${release()}`] as const;

let cached: ReadonlyMap<string, string> | undefined;

/**
 * The kernel's `CONFIG_*` settings by name. Options that are "not set" are absent, as in the file.
 *
 * @throws NotSupportedError when neither file can be read; FormatError for a malformed file.
 */
export function kernelConfig(): ReadonlyMap<string, string> {
  if (cached) return cached;
  const failures: string[] = [];
  for (const path of KCONFIG_PATHS) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      failures.push(`${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      continue;
    }
    let text: string;
    try {
      text = (path.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    } catch (cause) {
      throw new FormatError("Kconfig", `cannot decompress: ${(cause as Error).message}`, { file: path }, { cause });
    }
    cached = parseKernelConfig(text, path);
    return cached;
  }
  throw new NotSupportedError(
    "reading the kernel's configuration for __kconfig externs",
    `${failures.join("; ")} (pass the values with load()'s \`kconfig\` option)`,
  );
}

/**
 * Parses Kconfig text (`CONFIG_X=value` lines; comments and blank lines are skipped).
 *
 * @throws FormatError naming the line of a `CONFIG_` line without a value.
 */
export function parseKernelConfig(text: string, file?: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line.startsWith("CONFIG_")) continue;
    const eq = line.indexOf("=");
    if (eq <= "CONFIG_".length || eq === line.length - 1) {
      throw new FormatError("Kconfig", `line ${i + 1} "${line}" is not NAME=value`, { ...(file !== undefined && { file }) });
    }
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}
