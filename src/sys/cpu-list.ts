/**
 * Parsing the kernel's CPU list format (`0-3,8,10-11`), as found in /sys/devices/system/cpu/possible.
 * Pure: it is used by system.ts and can be tested anywhere.
 */

import { FormatError } from "../errors.js";

/** Counts the CPUs in a kernel CPU list (`0-3,8,10-11`). Throws FormatError on anything else. */
export function parseCpuList(text: string, file = "CPU list"): number {
  const list = text.trim();
  if (list === "") return 0;
  let count = 0;
  for (const range of list.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(range);
    if (!match) throw new FormatError("CPU list", `cannot read range ${JSON.stringify(range)}`, { file });
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new FormatError("CPU list", `range ${range} runs backwards`, { file });
    count += last - first + 1;
  }
  return count;
}
