/**
 * Machine facts the bpf() ABI depends on: the number of possible CPUs (per-CPU map values hold one
 * slot per possible CPU) and the page size (mmap granularity, ring buffer layout). Both are read once.
 */

import { readFileSync } from "node:fs";
import { parseCpuList } from "./cpu-list.js";
import { sysconfPageSize } from "./libc.js";

/** Where the kernel lists the CPUs that may ever come online. */
const POSSIBLE_CPUS_PATH = "/sys/devices/system/cpu/possible";

let cachedCpus: number | undefined;
let cachedPageSize: number | undefined;

/**
 * The number of possible CPUs (the kernel's `num_possible_cpus()`): the count of CPUs listed in
 * /sys/devices/system/cpu/possible, such as `0-3` → 4 or `0,2-3` → 3.
 */
export function possibleCpus(): number {
  return (cachedCpus ??= parseCpuList(readFileSync(POSSIBLE_CPUS_PATH, "latin1"), POSSIBLE_CPUS_PATH));
}

/** The MMU page size in bytes. */
export function pageSize(): number {
  return (cachedPageSize ??= sysconfPageSize());
}
