/** Reads a loaded collection's global variables through their data maps (one syscall per read). */

import type { Collection } from "../../src/index.js";
import type { BtfValue } from "../../src/codec/index.js";

/** The current value of global variable `name`, decoded by its BTF type. */
export function readGlobal(coll: Collection, name: string): BtfValue {
  return coll.variable(name).get();
}

/** Little-endian bytes of u32 values. */
export function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

/** A DataView over a whole byte array. */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
