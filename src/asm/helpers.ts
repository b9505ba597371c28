/**
 * Helper functions by id and by name, from the generated table in `helper-names.ts` (the kernel's
 * `enum bpf_func_id`). Names are returned with their `bpf_` prefix and accepted with or without it.
 */

import { HELPER_NAMES } from "./helper-names.js";

const HELPER_PREFIX = "bpf_";

const idsByName = new Map<string, number>(HELPER_NAMES.map((name, id) => [name, id]));
idsByName.delete(HELPER_NAMES[0]!);

/**
 * The name of helper `id`, such as `bpf_map_lookup_elem` for 1; undefined for ids the table lacks.
 *
 * @example
 * helperName(1); // "bpf_map_lookup_elem"
 */
export function helperName(id: number): string | undefined {
  const name = Number.isInteger(id) && id > 0 ? HELPER_NAMES[id] : undefined;
  return name === undefined ? undefined : HELPER_PREFIX + name;
}

/**
 * The id of a helper named with or without its `bpf_` prefix; undefined for unknown names.
 *
 * @example
 * helperId("bpf_map_lookup_elem"); // 1
 * helperId("map_lookup_elem");     // 1
 */
export function helperId(name: string): number | undefined {
  return idsByName.get(name.startsWith(HELPER_PREFIX) ? name.slice(HELPER_PREFIX.length) : name);
}
