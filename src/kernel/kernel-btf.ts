/**
 * The running kernel's BTF: `/sys/kernel/btf/vmlinux`, read once per process and parsed lazily, and
 * the split BTF of each loaded module (`/sys/kernel/btf/<module>`), read only when something is not
 * found in vmlinux. A BTF file can stand in for the kernel's (libbpf's `btf_custom_path`).
 *
 * Used to find attach targets (`tp_btf/…`, `fentry/…`), kfuncs and ksyms, and CO-RE targets.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Btf } from "../btf/index.js";
import { NotSupportedError } from "../errors.js";
import { ElfFile } from "../elf/index.js";

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
      bytes = new Uint8Array(readFileSync(VMLINUX_BTF_PATH));
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
      return { name, btf: Btf.parse(new Uint8Array(readFileSync(file)), { file, base: base! }) };
    });
  }
  return modules;
}

/**
 * Reads BTF to use in place of the kernel's: a raw BTF file (as in /sys/kernel/btf) or an ELF object
 * whose `.BTF` section describes the kernel (as libbpf's `btf_custom_path` accepts).
 */
export function readBtfFile(path: string): Btf {
  const bytes = new Uint8Array(readFileSync(path));
  const isElf = bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
  if (!isElf) return Btf.parse(bytes, { file: path });
  const section = ElfFile.parse(bytes, { file: path }).sectionByName(".BTF");
  if (!section) throw new NotSupportedError(`BTF from "${path}"`, "the ELF file has no .BTF section");
  return Btf.parse(section.data, { file: path });
}
