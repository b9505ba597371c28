/**
 * `Collection`: the maps and programs of one loaded object. Closing it closes them all; the kernel frees
 * each once nothing else (another program, a pin, a link) holds it.
 */

import { WaggleError } from "./errors.js";
import type { BpfMap } from "./maps/bpf-map.js";
import type { ObjectSpec } from "./object/index.js";
import type { BpfProgram } from "./programs/bpf-program.js";

/** The live objects of a loaded eBPF object. */
export class Collection implements Disposable {
  /** The blueprint the collection was loaded from. */
  readonly spec: ObjectSpec;
  /** Loaded programs by name (those not selected for loading are absent). */
  readonly programs: ReadonlyMap<string, BpfProgram>;
  /** Maps by name: declared maps by C name, global-data maps by section name (`.bss`). */
  readonly maps: ReadonlyMap<string, BpfMap>;
  #closed = false;

  constructor(spec: ObjectSpec, programs: Map<string, BpfProgram>, maps: Map<string, BpfMap>) {
    this.spec = spec;
    this.programs = programs;
    this.maps = maps;
  }

  /**
   * The loaded program called `name`.
   *
   * @throws WaggleError naming the programs that exist, when there is none by that name.
   */
  program(name: string): BpfProgram {
    const program = this.programs.get(name);
    if (program) return program;
    const why = this.spec.programs.has(name) ? "it was not selected for loading" : `the object has ${list(this.spec.programs.keys())}`;
    throw new WaggleError(`Cannot find program "${name}": ${why}`);
  }

  /**
   * The map called `name`.
   *
   * @throws WaggleError naming the maps that exist, when there is none by that name.
   */
  map(name: string): BpfMap {
    const map = this.maps.get(name);
    if (map) return map;
    throw new WaggleError(`Cannot find map "${name}": the object has ${list(this.maps.keys())}`);
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every program and map. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const program of this.programs.values()) program.close();
    for (const map of this.maps.values()) map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function list(names: Iterable<string>): string {
  const all = [...names].map((n) => `"${n}"`);
  return all.length === 0 ? "none" : all.join(", ");
}
