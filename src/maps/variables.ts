/**
 * Live global variables: `.data`, `.bss` and custom data sections read and written while programs
 * run. Sections the compiler made mmapable (any non-static variable: libbpf's rule, BPF_F_MMAPABLE)
 * are mapped into the process, so an access is a memory read — no syscall; the rest go through one
 * lookup (and an update to write). `.rodata` is frozen at load: readable, never writable.
 */

import type { BtfValue } from "../codec/index.js";
import type { VariableSpec } from "../object/index.js";
import { pageSize } from "../sys/index.js";
import { MapFlags } from "../uapi.js";
import type { BpfMap } from "./bpf-map.js";
import { MappedMemory } from "./mapped-memory.js";

/** The single key of a global-data map. */
const KEY_ZERO = new Uint8Array(4);

/** A global variable of a loaded object. */
export class Variable {
  readonly #spec: VariableSpec;
  readonly #map: BpfMap<unknown, unknown>;
  readonly #memory: MappedMemory | undefined;

  constructor(spec: VariableSpec, map: BpfMap<unknown, unknown>, memory: MappedMemory | undefined) {
    this.#spec = spec;
    this.#map = map;
    this.#memory = memory;
  }

  get name(): string {
    return this.#spec.name;
  }

  /** True for `.rodata` variables, frozen at load. */
  get constant(): boolean {
    return this.#spec.constant;
  }

  /** True when reads and writes go straight to mapped memory (no syscall). */
  get mapped(): boolean {
    return this.#memory !== undefined;
  }

  /** The current value, decoded by its BTF type. */
  get(): BtfValue {
    const spec = this.#spec;
    if (this.#memory) return spec.codec.decode(this.#memory.internalView, spec.offset);
    const value = this.#map.lookupBytes(KEY_ZERO)!;
    return spec.codec.decode(new DataView(value.buffer, value.byteOffset, value.byteLength), spec.offset);
  }

  /** Writes a new value, seen by programs at once. Throws TypeError for `.rodata` variables. */
  set(value: BtfValue): void {
    const spec = this.#spec;
    if (spec.constant) {
      throw new TypeError(`Cannot set variable "${spec.name}": it is in ${spec.map.section}, frozen at load; set it on the ObjectSpec before loading`);
    }
    if (this.#memory) {
      spec.codec.encode(value, this.#memory.internalView, spec.offset);
      return;
    }
    const bytes = this.#map.lookupBytes(KEY_ZERO)!;
    spec.codec.encode(value, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec.offset);
    this.#map.updateBytes(KEY_ZERO, bytes);
  }
}

/**
 * The live variables of a loaded object, mapping each mmapable data map once (the mapping ends when
 * the map is closed).
 */
export function liveVariables(specs: Iterable<[string, VariableSpec]>, mapOf: (name: string) => BpfMap<unknown, unknown>): Map<string, Variable> {
  const memories = new Map<string, MappedMemory | undefined>();
  const memoryOf = (map: BpfMap<unknown, unknown>, spec: VariableSpec): MappedMemory | undefined => {
    if (memories.has(map.name)) return memories.get(map.name);
    let memory: MappedMemory | undefined;
    if ((map.flags & MapFlags.MMAPABLE) !== 0) {
      const length = Math.ceil(map.valueSize / pageSize()) * pageSize();
      memory = MappedMemory.map(map.fd.value, length, { writable: !spec.constant, subject: `map "${map.name}"` });
      const mapped = memory;
      map.onClose(() => mapped.close());
    }
    memories.set(map.name, memory);
    return memory;
  };
  const out = new Map<string, Variable>();
  for (const [name, spec] of specs) {
    const map = mapOf(spec.map.name);
    out.set(name, new Variable(spec, map, memoryOf(map, spec)));
  }
  return out;
}

/** An object whose properties read and write the variables: `globals.counter`, `globals.counter = 5`. */
export function variableProperties(variables: ReadonlyMap<string, Variable>): Record<string, BtfValue> {
  const target = Object.create(null) as Record<string, BtfValue>;
  for (const [name, variable] of variables) {
    Object.defineProperty(target, name, {
      enumerable: true,
      get: () => variable.get(),
      set: (value: BtfValue) => variable.set(value),
    });
  }
  return Object.seal(target);
}
