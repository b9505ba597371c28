/**
 * Live maps: a typed class per map type, batch operations, mmapped memory and global variables,
 * pinning and system-wide listing.
 */

export { BpfMap, type MapInit, type MapProperties, type UpdateMode, type UpdateOptions } from "./bpf-map.js";
export { HashMap, PerCpuHashMap } from "./hash-map.js";
export { ArrayMap, PerCpuArrayMap } from "./array-map.js";
export { LpmTrieMap, type LpmKey } from "./lpm-trie.js";
export { BloomFilterMap, QueueMap, StackMap, type PushOptions } from "./queue-maps.js";
export { FdArray, MapOfMaps, ProgramArray, SocketMap, type FdSource } from "./fd-maps.js";
export { CpuMap, DevMap, type CpuMapEntry, type DevMapEntry } from "./redirect-maps.js";
export { CgroupStorageMap, LocalStorageMap, type CgroupStorageKey } from "./storage-maps.js";
export { ArenaMap, RingBufferMap, StackTraceMap } from "./special-maps.js";
export { MappedMemory } from "./mapped-memory.js";
export { Variable } from "./variables.js";
export { listMaps, openMapById, openMapFromFd, openPinnedMap, type MapSummary } from "./open-map.js";
export { createMap, DEFAULT_PIN_ROOT, type MapDefinition } from "./create-map.js";
export { type CodecChoice, type CodecOptions } from "./map-codecs.js";
export type { MapClass } from "./wrap-map.js";
