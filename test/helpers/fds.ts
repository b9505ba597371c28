/** Counts this process's open file descriptors, for leak tests. */

import { readdirSync } from "node:fs";

/** The number of entries in /proc/self/fd. */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}
