/**
 * `parseProcMaps()`: the memory mappings of a process, from the text of /proc/PID/maps, one line per
 * mapping: `start-end perms offset major:minor inode   path`. The path column is empty for anonymous
 * memory, a bracketed name for the kernel's own mappings (`[vdso]`, `[heap]`), and otherwise a file
 * path, which the kernel suffixes with ` (deleted)` once the file is unlinked. A few hundred lines per
 * process, so one regular expression per line is fine here (unlike in kallsyms).
 */

import { FormatError } from "../errors.js";

/** One mapping of a process's address space. */
export interface ProcMapping {
  /** Its first address. */
  readonly start: bigint;
  /** The address just past its end. */
  readonly end: bigint;
  /** Its permissions as the kernel prints them: `r`, `w`, `x` or `-`, then `p` (private) or `s` (shared). */
  readonly perms: string;
  /** The file offset mapped at `start` (0 for anonymous memory). */
  readonly offset: bigint;
  /** The file's device as the kernel prints it, `major:minor` in hexadecimal (`00:00` when none). */
  readonly device: string;
  /** The file's inode (0 when none). */
  readonly inode: bigint;
  /**
   * The file's path as the process sees it, without the ` (deleted)` suffix; `[vdso]`, `[stack]`,
   * `[heap]` and the like for the kernel's mappings; empty for anonymous memory.
   */
  readonly path: string;
  /** True when the file has been unlinked since it was mapped (the kernel printed ` (deleted)`). */
  readonly deleted: boolean;
}

/** Options for `parseProcMaps()`. */
export interface ProcMapsParseOptions {
  /** The file the text came from, quoted in errors. */
  readonly file?: string;
}

/** One line of /proc/PID/maps: the path is everything after the spaces that follow the inode. */
const MAPS_LINE = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) ([0-9]+)(?: +(.*))?$/;
/** What the kernel appends to the path of an unlinked file. */
const DELETED_SUFFIX = " (deleted)";

/**
 * Parses the text of /proc/PID/maps.
 *
 * @param text The file's contents.
 * @param options `file` names the text in errors.
 * @returns The mappings in the order of the text (ascending addresses).
 * @throws {FormatError} When a line does not have the kernel's format; its offset is where the line starts.
 * @example
 * const code = parseProcMaps(readFileSync("/proc/self/maps", "utf8")).filter((m) => m.perms[2] === "x");
 */
export function parseProcMaps(text: string, options: ProcMapsParseOptions = {}): ProcMapping[] {
  const mappings: ProcMapping[] = [];
  let lineStart = 0;
  for (const [index, line] of text.split("\n").entries()) {
    const start = lineStart;
    lineStart += line.length + 1;
    if (line === "" && lineStart > text.length) break;
    const match = MAPS_LINE.exec(line);
    if (match === null) {
      throw new FormatError("proc maps", `line ${index + 1} is not "start-end perms offset device inode path"`, {
        file: options.file,
        offset: start,
      });
    }
    const [, from, to, perms, offset, device, inode, named = ""] = match;
    const deleted = named.endsWith(DELETED_SUFFIX);
    const mapping: ProcMapping = {
      start: BigInt(`0x${from}`),
      end: BigInt(`0x${to}`),
      perms: perms!,
      offset: BigInt(`0x${offset}`),
      device: device!,
      inode: BigInt(inode!),
      path: deleted ? named.slice(0, -DELETED_SUFFIX.length) : named,
      deleted,
    };
    if (mapping.end <= mapping.start) {
      throw new FormatError("proc maps", `line ${index + 1} ends at or before it starts`, { file: options.file, offset: start });
    }
    mappings.push(mapping);
  }
  return mappings;
}
