/** Counts this process's open file descriptors, for leak tests. */

import { readdirSync } from "node:fs";
import { syscallPool } from "../../src/sys/syscall-pool.js";

/** One Int32 to sleep on while the workers come up. */
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * The number of entries in /proc/self/fd. The verification workers (src/sys/syscall-pool.ts) open
 * descriptors of their own as they start, once per process, so the count waits until they are up.
 */
export function openFdCount(): number {
  const pool = syscallPool();
  pool.start();
  const deadline = Date.now() + 30_000;
  while (pool.ready < pool.capacity && Date.now() < deadline) Atomics.wait(sleepCell, 0, 0, 5);
  return readdirSync("/proc/self/fd").length;
}
