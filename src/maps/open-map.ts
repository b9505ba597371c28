/**
 * Maps that exist outside this process's objects: opened from a pin in a BPF filesystem, by id, or from
 * an fd, and listed system-wide (what `bpftool map list` shows). An opened map gets its typed class,
 * and typed codecs too when the kernel holds BTF for its key and value (it fetches that BTF).
 */

import { Btf } from "../btf/index.js";
import { isWaggleError } from "../errors.js";
import { btfGetFdById, btfInfo, mapGetFdById, mapGetNextId, mapInfo, objGet, type FD, type MapInfo } from "../sys/index.js";
import { mapTypeName, type MapTypeName } from "../uapi.js";
import type { BpfMap } from "./bpf-map.js";
import type { CodecOptions } from "./map-codecs.js";
import { wrapMap } from "./wrap-map.js";

/** Opens the map pinned at `path`. */
export function openPinnedMap(path: string, codecs?: CodecOptions): BpfMap<any, any> {
  return openFd(objGet(path), codecs);
}

/** Opens the map with kernel id `id`. */
export function openMapById(id: number, codecs?: CodecOptions): BpfMap<any, any> {
  return openFd(mapGetFdById(id), codecs);
}

/** Wraps a map fd you own (it is taken over: closing the map closes it). */
export function openMapFromFd(fd: FD, codecs?: CodecOptions): BpfMap<any, any> {
  return openFd(fd, codecs);
}

function openFd(fd: FD, codecs: CodecOptions | undefined): BpfMap<any, any> {
  try {
    const info = mapInfo(fd.value);
    const type = mapTypeName(info.type);
    if (type === undefined) throw new TypeError(`Cannot open map "${info.name}": map type ${info.type} is unknown to Waggle`);
    return wrapMap(
      fd,
      { name: info.name, type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.mapFlags },
      { ...codecs, btf: mapBtf(info), keyType: info.btfKeyTypeId, valueType: info.btfValueTypeId },
    );
  } catch (error) {
    fd.close();
    throw error;
  }
}

/** The BTF the kernel keeps for a map's key and value, when it has some and we may read it. */
function mapBtf(info: MapInfo): Btf | undefined {
  if (info.btfId === 0 || (info.btfKeyTypeId === 0 && info.btfValueTypeId === 0)) return undefined;
  let fd: FD | undefined;
  try {
    fd = btfGetFdById(info.btfId);
    const bytes = btfInfo(fd.value, { bytes: true }).bytes;
    return bytes ? Btf.parse(bytes, { file: `BTF #${info.btfId}` }) : undefined;
  } catch (error) {
    if (isWaggleError(error)) return undefined; // untyped access still works
    throw error;
  } finally {
    fd?.close();
  }
}

/** One map of the system, as `listMaps()` reports it. */
export interface MapSummary {
  readonly id: number;
  readonly name: string;
  readonly type: MapTypeName | `unknown (${number})`;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly btfId: number;
}

/** Every map loaded in the kernel, in id order (maps that vanish meanwhile are skipped). */
export function listMaps(): MapSummary[] {
  const out: MapSummary[] = [];
  for (let id = mapGetNextId(0); id !== undefined; id = mapGetNextId(id)) {
    let fd: FD;
    try {
      fd = mapGetFdById(id);
    } catch (error) {
      if (isWaggleError(error, "SyscallError") && error.code === "ENOENT") continue;
      throw error;
    }
    try {
      const info = mapInfo(fd.value);
      out.push({
        id: info.id,
        name: info.name,
        type: mapTypeName(info.type) ?? `unknown (${info.type})`,
        keySize: info.keySize,
        valueSize: info.valueSize,
        maxEntries: info.maxEntries,
        flags: info.mapFlags,
        btfId: info.btfId,
      });
    } finally {
      fd.close();
    }
  }
  return out;
}
