/**
 * tracefs: where the kernel lists its trace events, each with the numeric id that perf_event_open
 * takes as a PERF_TYPE_TRACEPOINT config.
 *
 * tracefs lives at /sys/kernel/tracing, and on older setups under debugfs at /sys/kernel/debug/tracing.
 * A bare machine may have neither mounted; then we mount tracefs at /sys/kernel/tracing (needs
 * CAP_SYS_ADMIN), as `ensureBpffs` does for the BPF file system. Looking costs a stat per root, so
 * nothing is cached: a tracefs mounted or unmounted later is seen.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { constants } from "node:os";
import { NotSupportedError, PermissionError, SyscallError } from "../errors.js";
import { libc } from "../sys/index.js";

/** Where tracefs is looked for, in order. */
export const TRACEFS_ROOTS: readonly string[] = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];

/** How to find tracefs: which roots to look in, and where to mount it when none has it. */
export interface TracefsOptions {
  /** Candidate mount points, in order (default {@link TRACEFS_ROOTS}). */
  readonly roots?: readonly string[];
  /** Where to mount tracefs when no root has it (default the first root); `false` never mounts. */
  readonly mountAt?: string | false;
}

/** Tells whether `root` holds a tracefs (its `events` folder is there). */
function hasEvents(root: string): boolean {
  return existsSync(join(root, "events"));
}

/**
 * The roots that hold a tracefs, mounting one when none does.
 *
 * @throws NotSupportedError when no tracefs is mounted and mounting one fails.
 */
export function tracefsRoots(options: TracefsOptions = {}): string[] {
  const roots = options.roots ?? TRACEFS_ROOTS;
  let present = roots.filter(hasEvents);
  if (present.length === 0) {
    const mountAt = options.mountAt ?? roots[0];
    if (mountAt === false || mountAt === undefined) {
      throw new NotSupportedError("tracefs", `it is not mounted at ${roots.join(" or ")}`);
    }
    try {
      libc.mount("tracefs", mountAt, "tracefs", 0, 0);
    } catch (cause) {
      throw new NotSupportedError(
        "tracefs",
        `it is not mounted at ${roots.join(" or ")}, and mounting it at ${mountAt} failed: ${(cause as Error).message}`,
        { cause },
      );
    }
    present = hasEvents(mountAt) ? [mountAt] : [];
    if (present.length === 0) throw new NotSupportedError("tracefs", `mounted at ${mountAt}, but it has no events folder`);
  }
  return present;
}

/** Tracepoint categories and names are single path components of letters, digits and a few marks. */
const EVENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$/;

/**
 * The id of the trace event `category/name` (`syscalls`, `sys_enter_getpid`), from tracefs.
 *
 * @throws TypeError when the names are not tracefs event names.
 * @throws NotSupportedError naming the paths tried, when the kernel has no such event.
 * @throws PermissionError when tracefs cannot be read.
 */
export function tracepointId(category: string, name: string, options: TracefsOptions = {}): number {
  for (const [what, value] of [["category", category], ["name", name]] as const) {
    if (!EVENT_NAME.test(value)) throw new TypeError(`Invalid tracepoint ${what} "${value}": expected a tracefs event ${what} such as "syscalls" / "sys_enter_openat"`);
  }
  const tried: string[] = [];
  for (const root of tracefsRoots(options)) {
    const path = join(root, "events", category, name, "id");
    tried.push(path);
    let text: string;
    try {
      text = readFileSync(path, "latin1");
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? "";
      if (code === "ENOENT" || code === "ENOTDIR") continue;
      const errno = (constants.errno as Record<string, number>)[code];
      if (errno === undefined) throw cause;
      throw code === "EACCES" || code === "EPERM"
        ? new PermissionError("open", errno, "root (tracefs is readable by root only)", path, { cause })
        : new SyscallError("open", errno, path, { cause });
    }
    const id = Number.parseInt(text.trim(), 10);
    if (!Number.isSafeInteger(id) || id < 0) throw new NotSupportedError(`tracepoint ${category}/${name}`, `${path} holds "${text.trim()}", not an event id`);
    return id;
  }
  throw new NotSupportedError(`tracepoint ${category}/${name}`, `the kernel has no such event (tried ${tried.join(", ")})`);
}
