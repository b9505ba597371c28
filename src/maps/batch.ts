/**
 * Bulk map access through the BATCH commands, used by `entries()`, `setMany()`, `deleteMany()` and
 * `clear()`: one bpf() call moves hundreds of elements, which removes most of the per-call cost.
 * Keys and values are decoded in place from the syscall arena. Map types whose kernel lacks a batch
 * command fall back to element-at-a-time access; the fallback is remembered per map type and command.
 */

import { BpfCmd, lookupBatchInPlace, mapDeleteBatch, mapUpdateBatch, scratch } from "../sys/index.js";
import type { MapTypeName } from "../uapi.js";
import { isUnsupportedCommand, type BpfMap } from "./bpf-map.js";

/** Elements per lookup batch: large enough to amortise the call, small enough for the arena. */
export const LOOKUP_BATCH = 1024;

/** (map type, command) pairs the kernel refused: use the element-at-a-time path for them. */
const unsupported = new Set<string>();

/** Whether the batch form of `cmd` is worth trying on this map type. */
export function batchSupported(type: MapTypeName, cmd: number): boolean {
  return !unsupported.has(`${type}:${cmd}`);
}

/** Remembers that this map type has no batch form of `cmd`. */
function markUnsupported(type: MapTypeName, cmd: number): void {
  unsupported.add(`${type}:${cmd}`);
}

/**
 * Every element, read in batches; returns undefined when the kernel has no lookup batch for this map
 * type (then the caller walks keys). `andDelete` reads and deletes.
 */
export function batchEntries<K, V>(map: BpfMap<K, V>, andDelete = false): [K, V][] | undefined {
  const valueBufferSize = map.valueBufferSize;
  const cmd = andDelete ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
  if (!batchSupported(map.type, cmd)) return undefined;
  const keySize = map.keySize;
  const batchSize = Math.max(keySize, 4);
  const out: [K, V][] = [];
  let position: Uint8Array | null = null;
  let count = LOOKUP_BATCH;
  for (;;) {
    let result;
    try {
      result = lookupBatchInPlace(cmd, map.fd.value, position, batchSize, keySize, valueBufferSize, count);
    } catch (error) {
      if (out.length === 0 && position === null && isUnsupportedCommand(error)) {
        markUnsupported(map.type, cmd);
        return undefined;
      }
      // A hash bucket with more elements than `count` (ENOSPC): retry the same position, larger.
      if ((error as { code?: string }).code === "ENOSPC" && count < 1 << 20) {
        count *= 4;
        continue;
      }
      throw error;
    }
    const view = scratch.view;
    for (let i = 0; i < result.count; i++) {
      out.push([
        map.keyCodec.decode(view, result.keysAt + i * keySize),
        map.valueCodec.decode(view, result.valuesAt + i * valueBufferSize),
      ]);
    }
    if (result.done || result.count === 0) return out;
    position = scratch.bytes.slice(result.outBatchAt, result.outBatchAt + batchSize);
  }
}

/**
 * Writes many elements with BPF_MAP_UPDATE_BATCH; returns false (having written nothing) when the
 * kernel has no update batch for this map type.
 */
export function batchUpdate<K, V>(map: BpfMap<K, V>, entries: readonly (readonly [K, V])[], flags: number): boolean {
  const valueBufferSize = map.valueBufferSize;
  if (entries.length === 0) return true;
  if (!batchSupported(map.type, BpfCmd.MAP_UPDATE_BATCH)) return false;
  const keys = new Uint8Array(entries.length * map.keySize);
  const values = new Uint8Array(entries.length * valueBufferSize);
  const keyView = new DataView(keys.buffer);
  const valueView = new DataView(values.buffer);
  entries.forEach(([key, value], i) => {
    map.keyCodec.encode(key, keyView, i * map.keySize);
    map.valueCodec.encode(value, valueView, i * valueBufferSize);
  });
  try {
    mapUpdateBatch(map.fd.value, keys, values, entries.length, { elemFlags: flags });
    return true;
  } catch (error) {
    if (!isUnsupportedCommand(error) || !isFirstElementFailure(error)) throw error;
    markUnsupported(map.type, BpfCmd.MAP_UPDATE_BATCH);
    return false;
  }
}

/**
 * Deletes many keys with BPF_MAP_DELETE_BATCH; returns how many were deleted, or undefined when the
 * kernel has no delete batch for this map type. Keys that are absent are skipped, not an error.
 */
export function batchDelete<K, V>(map: BpfMap<K, V>, keys: readonly K[]): number | undefined {
  if (keys.length === 0) return 0;
  if (!batchSupported(map.type, BpfCmd.MAP_DELETE_BATCH)) return undefined;
  const bytes = new Uint8Array(keys.length * map.keySize);
  const view = new DataView(bytes.buffer);
  keys.forEach((key, i) => map.keyCodec.encode(key, view, i * map.keySize));
  let deleted = 0;
  let offset = 0;
  // The kernel stops at the first missing key (ENOENT) and reports how many it deleted before it.
  while (offset < keys.length) {
    const rest = bytes.subarray(offset * map.keySize);
    const count = keys.length - offset;
    try {
      deleted += mapDeleteBatch(map.fd.value, rest, count);
      return deleted;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const done = doneBefore(error);
      if (code === "ENOENT" && done !== undefined) {
        deleted += done;
        offset += done + 1;
        continue;
      }
      if (offset === 0 && isUnsupportedCommand(error) && done === 0) {
        markUnsupported(map.type, BpfCmd.MAP_DELETE_BATCH);
        return undefined;
      }
      throw error;
    }
  }
  return deleted;
}

/** How many elements a failed batch command had processed, from its error's subject. */
function doneBefore(error: unknown): number | undefined {
  const match = /after (\d+) of \d+ elements/.exec((error as { subject?: string }).subject ?? "");
  return match ? Number(match[1]) : undefined;
}

function isFirstElementFailure(error: unknown): boolean {
  return doneBefore(error) === 0;
}
