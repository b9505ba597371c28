/**
 * Turning a map fd into the right typed class: the map type picks the class (HashMap, ArrayMap,
 * QueueMap…) and the fixed parts of its codecs (u32 indexes, fd values, per-CPU blocks, kernel structs);
 * BTF or the caller's choice gives the rest.
 */

import type { Btf } from "../btf/index.js";
import { numberCodec, type Codec } from "../codec/index.js";
import type { MapSpec } from "../object/index.js";
import { possibleCpus, type FD } from "../sys/index.js";
import type { MapTypeName } from "../uapi.js";
import { ArrayMap, PerCpuArrayMap } from "./array-map.js";
import { BpfMap, type MapInit, type MapProperties } from "./bpf-map.js";
import { FdArray, MapOfMaps, ProgramArray, SocketMap } from "./fd-maps.js";
import { HashMap, PerCpuHashMap } from "./hash-map.js";
import { LpmTrieMap, lpmKeyCodec } from "./lpm-trie.js";
import { defaultCodec, HOST_LITTLE_ENDIAN, perCpuCodec, resolveCodec, type CodecOptions } from "./map-codecs.js";
import { BloomFilterMap, QueueMap, StackMap } from "./queue-maps.js";
import { CpuMap, cpumapValueCodec, DevMap, devmapValueCodec } from "./redirect-maps.js";
import { ArenaMap, RingBufferMap, StackTraceMap } from "./special-maps.js";
import { CgroupStorageMap, cgroupStorageKeyCodec, LocalStorageMap, ownerFdCodec } from "./storage-maps.js";

/** Where a map's codecs come from. */
export interface WrapOptions extends CodecOptions {
  /** The blueprint, when the map came from an object. */
  spec?: MapSpec | undefined;
  /** BTF describing the key and value types (with `keyType` / `valueType`). */
  btf?: Btf | undefined;
  keyType?: number;
  valueType?: number;
}

/** Instances of these classes are what `wrapMap` returns for the map types they serve. */
export type MapClass<T extends BpfMap<any, any>> = abstract new (init: MapInit<any, any>) => T;

/** Wraps an fd of a map with these properties in its typed class. The fd is taken over. */
export function wrapMap(fd: FD, properties: MapProperties, options: WrapOptions = {}): BpfMap<any, any> {
  const { type, keySize, valueSize } = properties;
  const where = `map "${properties.name}"`;
  const le = options.btf?.littleEndian ?? HOST_LITTLE_ENDIAN;
  const key = () => defaultCodec(options.key, options.btf, options.keyType ?? 0, keySize, `the keys of ${where}`);
  const value = () => defaultCodec(options.value, options.btf, options.valueType ?? 0, valueSize, `the values of ${where}`);
  const fixed = (choice: "u32" | "u64", size: number, what: string) => resolveCodec(choice, size, le, `the ${what} of ${where}`);
  const index = () => fixed("u32", keySize, "indexes");
  const perCpu = (inner: Codec<unknown>) => perCpuCodec(inner, possibleCpus());
  const make = <T extends BpfMap<any, any>>(Class: new (init: MapInit<any, any>) => T, k: Codec<any>, v: Codec<any>): T =>
    new Class({ fd, properties, key: k, value: v, spec: options.spec });
  const none = numberCodec("u32", le) as Codec<any>; // keyless maps never encode a key

  switch (type as MapTypeName) {
    case "hash":
    case "lru_hash":
      return make(HashMap, key(), value());
    case "percpu_hash":
    case "lru_percpu_hash":
      return make(PerCpuHashMap, key(), perCpu(value()));
    case "array":
      return make(ArrayMap, index(), value());
    case "percpu_array":
      return make(PerCpuArrayMap, index(), perCpu(value()));
    case "lpm_trie":
      return make(LpmTrieMap, options.key ? key() : lpmKeyCodec(keySize), value());
    case "bloom_filter":
      return make(BloomFilterMap, none, value());
    case "queue":
      return make(QueueMap, none, value());
    case "stack":
      return make(StackMap, none, value());
    case "stack_trace":
      return make(StackTraceMap, index(), stackCodec(valueSize));
    case "prog_array":
      return make(ProgramArray, index(), fixed("u32", valueSize, "values"));
    case "perf_event_array":
    case "cgroup_array":
    case "xskmap":
      return make(FdArray, index(), fixed("u32", valueSize, "values"));
    case "array_of_maps":
      return make(MapOfMaps, index(), fixed("u32", valueSize, "values"));
    case "hash_of_maps":
      return make(MapOfMaps, key(), fixed("u32", valueSize, "values"));
    case "sockmap":
    case "reuseport_sockarray":
      return make(SocketMap, index(), fixed(valueSize === 8 ? "u64" : "u32", valueSize, "values"));
    case "sockhash":
      return make(SocketMap, key(), fixed(valueSize === 8 ? "u64" : "u32", valueSize, "values"));
    case "devmap":
      return make(DevMap, index(), devmapValueCodec(valueSize));
    case "devmap_hash":
      return make(DevMap, key(), devmapValueCodec(valueSize));
    case "cpumap":
      return make(CpuMap, index(), cpumapValueCodec(valueSize));
    case "cgroup_storage":
      return make(CgroupStorageMap, cgroupStorageKeyCodec, value());
    case "percpu_cgroup_storage":
      return make(CgroupStorageMap, cgroupStorageKeyCodec, perCpu(value()));
    case "sk_storage":
    case "inode_storage":
    case "task_storage":
    case "cgrp_storage":
      return make(LocalStorageMap, ownerFdCodec, value());
    case "arena":
      return make(ArenaMap, none, none);
    case "ringbuf":
    case "user_ringbuf":
      return make(RingBufferMap, none, none);
    case "struct_ops":
    case "unspec":
      return make(BpfMap, defaultCodec("bytes", undefined, 0, keySize, where), defaultCodec("bytes", undefined, 0, valueSize, where));
  }
}

/** A stack trace: `valueSize / 8` u64 instruction pointers, ending at the first zero. */
function stackCodec(valueSize: number): Codec<bigint[]> {
  const depth = Math.floor(valueSize / 8);
  return {
    size: valueSize,
    description: `u64[${depth}] stack`,
    decode(view, offset) {
      const out: bigint[] = [];
      for (let i = 0; i < depth; i++) {
        const ip = view.getBigUint64(offset + i * 8, true);
        if (ip === 0n) break;
        out.push(ip);
      }
      return out;
    },
    encode(stack, view, offset) {
      if (!Array.isArray(stack) || stack.length > depth) throw new TypeError(`Cannot encode a stack of more than ${depth} frames`);
      for (let i = 0; i < depth; i++) view.setBigUint64(offset + i * 8, stack[i] ?? 0n, true);
    },
  };
}
