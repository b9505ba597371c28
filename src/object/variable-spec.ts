/**
 * `VariableSpec`: a global variable of the object — a window of its global-data map's initial value,
 * typed by BTF. Setting it before load changes what the kernel sees; for `.rodata` (`const volatile`)
 * that is how configuration reaches the verifier as constants.
 */

import type { Btf, TypeId } from "../btf/index.js";
import { btfCodec, bytesCodec, type BtfValue, type Codec } from "../codec/index.js";
import type { MapSpec } from "./map-spec.js";

/** Fields a VariableSpec is built from. */
export interface VariableSpecInit {
  name: string;
  map: MapSpec;
  offset: number;
  size: number;
  linkage: "static" | "global" | "extern";
  /** The BTF describing `type`; without it the variable is untyped bytes. */
  btf?: Btf;
  type?: TypeId;
}

/** A global variable in `.data`, `.rodata`, `.bss` or a custom data section. */
export class VariableSpec {
  readonly name: string;
  /** The global-data map holding the variable. */
  readonly map: MapSpec;
  /** Byte offset inside the map's value. */
  readonly offset: number;
  readonly size: number;
  readonly linkage: "static" | "global" | "extern";
  /** The variable's BTF type (0 when untyped). */
  readonly type: TypeId;
  readonly #btf: Btf | undefined;
  #codec: Codec<BtfValue> | undefined;

  constructor(init: VariableSpecInit) {
    this.name = init.name;
    this.map = init.map;
    this.offset = init.offset;
    this.size = init.size;
    this.linkage = init.linkage;
    this.type = init.type ?? 0;
    this.#btf = init.btf;
  }

  /** True for variables in read-only data (`const volatile`), which cannot change after load. */
  get constant(): boolean {
    return this.map.kind === "rodata";
  }

  /** The BTF the type refers to, if any. */
  get btf(): Btf | undefined {
    return this.#btf;
  }

  /** The codec for the variable's type (raw bytes when untyped). */
  get codec(): Codec<BtfValue> {
    if (!this.#codec) {
      const typed = this.#btf && this.type !== 0 ? btfCodec(this.#btf, this.type) : undefined;
      this.#codec = typed && typed.size === this.size ? typed : (bytesCodec(this.size) as Codec<BtfValue>);
    }
    return this.#codec;
  }

  /** The variable's current bytes in the map's initial value (a live view: writes go into the spec). */
  bytes(): Uint8Array {
    const data = this.map.data;
    if (!data) throw new TypeError(`Cannot read variable "${this.name}": map "${this.map.name}" has no initial data`);
    return data.subarray(this.offset, this.offset + this.size);
  }

  /** The initial value, decoded by its BTF type. */
  get(): BtfValue {
    const bytes = this.bytes();
    return this.codec.decode(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
  }

  /** Sets the initial value the kernel will see when the object is loaded. */
  set(value: BtfValue): void {
    const bytes = this.bytes();
    this.codec.encode(value, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
  }

  /** A copy bound to `map` (used when copying a whole ObjectSpec). */
  withMap(map: MapSpec): VariableSpec {
    return new VariableSpec({
      name: this.name,
      map,
      offset: this.offset,
      size: this.size,
      linkage: this.linkage,
      type: this.type,
      ...(this.#btf && { btf: this.#btf }),
    });
  }
}
