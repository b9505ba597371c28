/**
 * The running kernel's BTF (`/sys/kernel/btf/vmlinux`), read once per process and parsed lazily, or a
 * BTF file the caller supplies for kernels that do not expose one.
 *
 * Used to find attach targets (`tp_btf/…`, `fentry/…`, `lsm/…`, `iter/…`) by name.
 */

import { readFileSync } from "node:fs";
import { Btf } from "../btf/index.js";
import { NotSupportedError } from "../errors.js";

/** Where the kernel exposes its own BTF. */
export const VMLINUX_BTF_PATH = "/sys/kernel/btf/vmlinux";

let cached: Btf | undefined;

/**
 * The kernel's BTF, parsed on first use and shared by every load in this process.
 *
 * @throws NotSupportedError when the kernel exposes no BTF (built without CONFIG_DEBUG_INFO_BTF).
 */
export function kernelBtf(): Btf {
  if (!cached) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(VMLINUX_BTF_PATH));
    } catch (cause) {
      throw new NotSupportedError("kernel BTF", `cannot read ${VMLINUX_BTF_PATH} (kernel built without CONFIG_DEBUG_INFO_BTF?)`, { cause });
    }
    cached = Btf.parse(bytes, { file: VMLINUX_BTF_PATH });
  }
  return cached;
}

/** Reads a BTF file given by the user in place of the kernel's (raw BTF, as in /sys/kernel/btf). */
export function readBtfFile(path: string): Btf {
  return Btf.parse(new Uint8Array(readFileSync(path)), { file: path });
}
