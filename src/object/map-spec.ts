/**
 * `MapSpec`: the blueprint of one map — declared in `.maps` (BTF) or the legacy `maps` section, or made
 * from a global-data section (`.data`, `.rodata`, `.bss` and their `.name` variants).
 *
 * Specs are plain, editable data: change `maxEntries` or `flags` before loading. Nothing here touches
 * the kernel; the loader turns a spec into a live map.
 */

import type { TypeId } from "../btf/index.js";
import type { MapTypeName } from "../uapi.js";

/** Where a map came from. */
export type MapKind =
  /** Declared by the program author in `.maps` or `maps`. */
  | "declared"
  /** The contents of a writable global-data section (`.data`, `.data.*`). */
  | "data"
  /** The contents of a read-only global-data section (`.rodata`, `.rodata.*`), frozen after load. */
  | "rodata"
  /** A zero-initialised global-data section (`.bss`, `.bss.*`). */
  | "bss"
  /** The values of the object's `__kconfig` externs, filled in at load and frozen. */
  | "kconfig";

/** How a map is pinned at load (libbpf's `__uint(pinning, LIBBPF_PIN_BY_NAME)`). */
export type MapPinning = "none" | "by_name";

/** One static initialiser of a prog array or map-in-map: `.values = { [index] = &target }`. */
export interface MapSlotInit {
  readonly index: number;
  /** A map (for map-in-maps) or a program (for prog arrays), by name. */
  readonly target: { readonly kind: "map" | "program"; readonly name: string };
}

/** Fields a MapSpec is built from; the optional ones default to zero / none. */
export interface MapSpecInit {
  name: string;
  kind: MapKind;
  section: string;
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  numaNode?: number;
  mapExtra?: bigint;
  pinning?: MapPinning;
  keyType?: TypeId;
  valueType?: TypeId;
  innerMap?: MapSpec;
  slots?: MapSlotInit[];
  data?: Uint8Array;
  /** Initial contents of this many zero bytes, allocated only when first used (for `.bss`). */
  zeroFill?: number;
  kernelName?: string;
}

/** The blueprint of a map. */
export class MapSpec {
  /** The name programs and users know it by: the C variable name, or the section name for global data. */
  name: string;
  kind: MapKind;
  /** The ELF section the map was declared in. */
  section: string;
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** `map_flags` (see `MapFlags`). */
  flags: number;
  numaNode: number;
  /** `map_extra`, e.g. the number of hash functions of a bloom filter. */
  mapExtra: bigint;
  pinning: MapPinning;
  /** BTF type of the key, or 0 when the object does not describe it. */
  keyType: TypeId;
  /** BTF type of the value (a DATASEC for global data), or 0. */
  valueType: TypeId;
  /** The inner map's blueprint for array/hash-of-maps. */
  innerMap: MapSpec | undefined;
  /** Static initialisers of prog arrays and map-in-maps. */
  slots: MapSlotInit[];
  #data: Uint8Array | undefined;
  /** Size of zero-filled initial contents not allocated yet (`.bss`: allocated on first use). */
  #zeroFill: number;
  /** The name given to the kernel (at most 15 characters); defaults to `name`. */
  kernelName: string;

  constructor(init: MapSpecInit) {
    this.name = init.name;
    this.kind = init.kind;
    this.section = init.section;
    this.type = init.type;
    this.keySize = init.keySize;
    this.valueSize = init.valueSize;
    this.maxEntries = init.maxEntries;
    this.flags = init.flags ?? 0;
    this.numaNode = init.numaNode ?? 0;
    this.mapExtra = init.mapExtra ?? 0n;
    this.pinning = init.pinning ?? "none";
    this.keyType = init.keyType ?? 0;
    this.valueType = init.valueType ?? 0;
    this.innerMap = init.innerMap;
    this.slots = init.slots ?? [];
    this.#data = init.data;
    this.#zeroFill = init.data === undefined ? (init.zeroFill ?? 0) : 0;
    this.kernelName = init.kernelName ?? init.name;
  }

  /** Initial contents of a global-data map (its single value), or undefined for other maps. */
  get data(): Uint8Array | undefined {
    if (this.#data === undefined && this.#zeroFill > 0) {
      this.#data = new Uint8Array(this.#zeroFill);
      this.#zeroFill = 0;
    }
    return this.#data;
  }

  set data(value: Uint8Array | undefined) {
    this.#data = value;
    this.#zeroFill = 0;
  }

  /** A deep copy, safe to edit independently. */
  copy(): MapSpec {
    const init: MapSpecInit = { ...this, slots: this.slots.map((s) => ({ ...s })) };
    if (this.innerMap) init.innerMap = this.innerMap.copy();
    if (this.#data) init.data = this.#data.slice();
    else if (this.#zeroFill > 0) init.zeroFill = this.#zeroFill;
    return new MapSpec(init);
  }
}
