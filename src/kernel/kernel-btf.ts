/**
 * The running kernel's BTF: `/sys/kernel/btf/vmlinux`, read once per process and parsed lazily, and
 * the split BTF of each loaded module (`/sys/kernel/btf/<module>`), read only when something is not
 * found in vmlinux. A BTF file can stand in for the kernel's (libbpf's `btf_custom_path`).
 *
 * Since Linux 6.16 vmlinux's BTF can be mapped read-only: the mapping shares the kernel's own pages,
 * costs no copy, and takes microseconds where reading takes milliseconds (sysfs returns at most a page
 * per read(), over 1,300 calls for 5 MB). It stays mapped for the life of the process, as the parsed
 * `Btf` does. Older kernels refuse the mapping and the file is read instead. Read files are used as
 * the `Buffer` `readFileSync` returns, without a copy.
 *
 * Used to find attach targets (`tp_btf/…`, `fentry/…`), kfuncs and ksyms, and CO-RE targets.
 */

import { closeSync, fstatSync, openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Btf } from "../btf/index.js";
import { NotSupportedError } from "../errors.js";
import { ElfFile } from "../elf/index.js";
import { libc } from "../sys/index.js";

/** Where the kernel exposes its own BTF and its modules'. */
export const KERNEL_BTF_DIR = "/sys/kernel/btf";
export const VMLINUX_BTF_PATH = join(KERNEL_BTF_DIR, "vmlinux");

let vmlinux: Btf | undefined;
let modules: { name: string; btf: Btf }[] | undefined;

/**
 * The kernel's BTF, parsed on first use and shared by every load in this process.
 *
 * @throws NotSupportedError when the kernel exposes no BTF (built without CONFIG_DEBUG_INFO_BTF).
 */
export function kernelBtf(): Btf {
  if (!vmlinux) {
    let bytes: Uint8Array;
    try {
      bytes = mapFile(VMLINUX_BTF_PATH) ?? readBytes(VMLINUX_BTF_PATH);
    } catch (cause) {
      throw new NotSupportedError("kernel BTF", `cannot read ${VMLINUX_BTF_PATH} (kernel built without CONFIG_DEBUG_INFO_BTF?)`, { cause });
    }
    vmlinux = Btf.parse(bytes, { file: VMLINUX_BTF_PATH });
  }
  return vmlinux;
}

/** The BTF of every loaded kernel module (split on vmlinux's), read on first use; none without modules. */
export function kernelModuleBtfs(): readonly { name: string; btf: Btf }[] {
  if (!modules) {
    let names: string[];
    try {
      names = readdirSync(KERNEL_BTF_DIR).filter((n) => n !== "vmlinux").sort();
    } catch {
      names = [];
    }
    const base = names.length > 0 ? kernelBtf() : undefined;
    modules = names.map((name) => {
      const file = join(KERNEL_BTF_DIR, name);
      return { name, btf: Btf.parse(readBytes(file), { file, base: base! }) };
    });
  }
  return modules;
}

/**
 * Reads BTF to use in place of the kernel's: a raw BTF file (as in /sys/kernel/btf) or an ELF object
 * whose `.BTF` section describes the kernel (as libbpf's `btf_custom_path` accepts).
 */
export function readBtfFile(path: string): Btf {
  const bytes = readBytes(path);
  const isElf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) return Btf.parse(bytes, { file: path });
  const section = ElfFile.parse(bytes, { file: path }).sectionByName(".BTF");
  if (!section) throw new NotSupportedError(`BTF from "${path}"`, "the ELF file has no .BTF section");
  return Btf.parse(section.data, { file: path });
}

/** A file's contents as a `Uint8Array` over the `Buffer` that `readFileSync` returns (no copy). */
function readBytes(path: string): Uint8Array {
  const buffer = readFileSync(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A private read-only mapping of a whole file, never unmapped; undefined when the file cannot be mapped
 * (`/sys/kernel/btf/vmlinux` before Linux 6.16) or is empty.
 */
function mapFile(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return undefined;
    const address = libc.mmap(0, size, libc.Prot.READ, libc.MapFlags.PRIVATE, fd, 0);
    return new Uint8Array(libc.nativeView(address, size));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
