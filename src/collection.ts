/**
 * `Collection`: the maps, programs and global variables of one loaded object. Closing it closes them
 * all; the kernel frees each once nothing else (another program, a pin, a link) holds it.
 */

import type { BtfValue } from "./codec/index.js";
import { WaggleError } from "./errors.js";
import type { BpfMap } from "./maps/bpf-map.js";
import { liveVariables, variableProperties, type Variable } from "./maps/variables.js";
import type { MapClass } from "./maps/wrap-map.js";
import type { ObjectSpec } from "./object/index.js";
import type { BpfProgram } from "./programs/bpf-program.js";

/** The live objects of a loaded eBPF object. */
export class Collection implements Disposable {
  /** The blueprint the collection was loaded from. */
  readonly spec: ObjectSpec;
  /** Loaded programs by name (those not selected for loading are absent). */
  readonly programs: ReadonlyMap<string, BpfProgram>;
  /** Maps by name, each an instance of its type's class: declared maps by C name, global data by section name. */
  readonly maps: ReadonlyMap<string, BpfMap<any, any>>;
  #variables: Map<string, Variable> | undefined;
  #properties: Record<string, BtfValue> | undefined;
  #closed = false;

  constructor(spec: ObjectSpec, programs: Map<string, BpfProgram>, maps: Map<string, BpfMap<any, any>>) {
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
   * The map called `name`; with a class, checked to be of that class and typed as it.
   *
   * @throws WaggleError naming the maps that exist, or TypeError when the map is of another class.
   * @example
   * const counts = coll.map("counts", HashMap<number, bigint>);
   * counts.set(1, 10n);
   */
  map(name: string): BpfMap<any, any>;
  map<T extends BpfMap<any, any>>(name: string, kind: MapClass<T>): T;
  map<T extends BpfMap<any, any>>(name: string, kind?: MapClass<T>): BpfMap<any, any> | T {
    const map = this.maps.get(name);
    if (!map) throw new WaggleError(`Cannot find map "${name}": the object has ${list(this.maps.keys())}`);
    if (kind && !(map instanceof kind)) {
      throw new TypeError(`Cannot use map "${name}" as a ${kind.name}: it is a ${map.type} map (${map.constructor.name})`);
    }
    return map;
  }

  /**
   * The global variables as properties: `coll.variables.counter` reads, `coll.variables.counter = 5`
   * writes, with no syscall for mmapable sections. `.rodata` properties are read-only.
   */
  get variables(): Record<string, BtfValue> {
    return (this.#properties ??= variableProperties(this.#live()));
  }

  /** The global variable called `name`, as an object (`get`, `set`, `constant`, `mapped`). */
  variable(name: string): Variable {
    const variable = this.#live().get(name);
    if (!variable) throw new WaggleError(`Cannot find variable "${name}": the object has ${list(this.spec.variables.keys())}`);
    return variable;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every program and map (and ends access to mapped variables). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const program of this.programs.values()) program.close();
    for (const map of this.maps.values()) map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #live(): Map<string, Variable> {
    return (this.#variables ??= liveVariables(this.spec.variables, (name) => this.map(name)));
  }
}

function list(names: Iterable<string>): string {
  const all = [...names].map((n) => `"${n}"`);
  return all.length === 0 ? "none" : all.join(", ");
}
