/**
 * Resolving an object's externs at load time, as libbpf does:
 * - `__kconfig` values fill the `.kconfig` map: `load()`'s `kconfig` overrides first, then the values
 *   Waggle computes (`LINUX_KERNEL_VERSION`, `LINUX_HAS_BPF_COOKIE`, `LINUX_HAS_SYSCALL_WRAPPER`) and
 *   the kernel's own configuration (`CONFIG_*`). A `__weak` value nothing sets stays 0.
 * - `__ksym` variables with a type resolve to their VAR in the kernel's BTF (vmlinux, then modules),
 *   whose type must be compatible with the declaration; typeless ones (`const void`) to their address
 *   in /proc/kallsyms.
 * - kfuncs resolve to their FUNC in the kernel's BTF, with a compatible prototype. Module BTFs are
 *   passed to the kernel in the program's fd array.
 */

import { release } from "node:os";
import { readFileSync } from "node:fs";
import { archFacts } from "./arch.js";
import { formatCType, type Btf, type TypeId } from "./btf/index.js";
import { NotSupportedError, WaggleError } from "./errors.js";
import { probeHelper } from "./features/index.js";
import { kernelConfig } from "./kernel/kconfig.js";
import { kernelBtf, kernelModuleBtfs } from "./kernel/kernel-btf.js";
import type { ExternSpec, KconfigSlot, ObjectSpec } from "./object/index.js";
import type { ExternResolution } from "./object/link-program.js";
import { essentialName, typesAreCompatible } from "./object/core/index.js";
import { KernelSymbols } from "./symbols/index.js";
import { btfGetFdById, btfGetNextId, btfInfo, type FD } from "./sys/index.js";

/** A Kconfig value given by the user: `true`/`false` (y/n), a number, or text as a config file has it (`m`, `"str"`). */
export type KconfigValue = boolean | number | bigint | string;

type Log = (level: "debug" | "warn", message: string) => void;

/** The bytes of the `.kconfig` map: every `__kconfig` extern's value at its slot. */
export function kconfigData(spec: ObjectSpec, size: number, overrides: Readonly<Record<string, KconfigValue>>, log: Log): Uint8Array {
  const data = new Uint8Array(size);
  const set = new Set<string>();
  const apply = (ext: ExternSpec & { kconfig: KconfigSlot }, raw: string, source: string) => {
    writeKconfigValue(ext, raw, source, data, log);
    set.add(ext.name);
    log("debug", `object "${spec.name}": __kconfig ${ext.name} = ${raw} (${source})`);
  };
  const externs = [...spec.externs.values()].filter((e): e is ExternSpec & { kconfig: KconfigSlot } => e.kconfig !== undefined);
  for (const [name, value] of Object.entries(overrides)) {
    const ext = externs.find((e) => e.name === name);
    if (ext) apply(ext, typeof value === "boolean" ? (value ? "y" : "n") : String(value), "the kconfig option");
  }
  for (const ext of externs) {
    if (set.has(ext.name)) continue;
    if (ext.name.startsWith("LINUX_")) {
      const value = computedValue(ext.name);
      if (value !== undefined) apply(ext, String(value), "computed");
      else if (!ext.weak) {
        throw new NotSupportedError(`__kconfig extern "${ext.name}"`, "Waggle computes LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE and LINUX_HAS_SYSCALL_WRAPPER only");
      }
    } else if (ext.name.startsWith("CONFIG_")) {
      const raw = kernelConfig().get(ext.name);
      if (raw !== undefined) apply(ext, raw, "the kernel's configuration");
      else if (!ext.weak) {
        throw new NotSupportedError(`__kconfig extern "${ext.name}"`, "the kernel's configuration does not set it (declare it __weak to read 0, or pass it in the kconfig option)");
      }
    } else {
      throw new WaggleError(`Cannot load object "${spec.name}": __kconfig extern "${ext.name}" is neither CONFIG_* nor LINUX_*`);
    }
  }
  return data;
}

/** Writes a value in Kconfig syntax (`y`, `m`, `"text"`, `250`, `0x10`) the way libbpf interprets it. */
function writeKconfigValue(ext: ExternSpec & { kconfig: KconfigSlot }, raw: string, source: string, data: Uint8Array, log: Log): void {
  const { type, offset, size, signed } = ext.kconfig;
  const fail = (why: string): never => {
    throw new WaggleError(`Cannot set __kconfig extern "${ext.name}" (${type}) to ${raw} from ${source}: ${why}`);
  };
  const first = raw[0];
  if (first === "y" || first === "n" || first === "m") {
    if (type === "bool") data[offset] = first === "m" ? fail("m needs a tristate or char") : first === "y" ? 1 : 0;
    else if (type === "tristate") new DataView(data.buffer).setUint32(offset, first === "y" ? 1 : first === "m" ? 2 : 0, true);
    else if (type === "char") data[offset] = first.charCodeAt(0);
    else fail(`${first} needs a bool, tristate or char`);
    return;
  }
  if (first === '"') {
    if (type !== "char_array") fail("a string needs a char array");
    if (raw.length < 2 || !raw.endsWith('"')) fail("the string has no closing quote");
    let text = new TextEncoder().encode(raw.slice(1, -1));
    if (text.length >= size) {
      log("warn", `__kconfig extern "${ext.name}": "${raw}" truncated to ${size - 1} bytes`);
      text = text.subarray(0, size - 1);
    }
    data.set(text, offset);
    return;
  }
  const value = parseInteger(raw) ?? fail("not an integer");
  if (type !== "int" && type !== "char" && type !== "bool") fail("an integer needs an integer, char or bool");
  if (type === "bool" && value > 1n) fail("a bool is 0 or 1");
  const bits = BigInt(size * 8);
  const fits = size === 8 || (signed ? BigInt.asUintN(64, value + (1n << (bits - 1n))) < 1n << bits : value >> bits === 0n);
  if (!fits) fail(`does not fit in ${size} bytes`);
  for (let i = 0; i < size; i++) data[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

/** An integer as C's strtoull(…, 0) reads it (decimal, 0x hex, 0 octal, a leading minus wraps), as a u64. */
function parseInteger(raw: string): bigint | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(raw);
  if (!m) return undefined;
  const digits = m[2]!;
  const magnitude = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  return BigInt.asUintN(64, m[1] === "-" ? -magnitude : magnitude);
}

/** The values Waggle computes for `LINUX_*` externs; undefined for names it does not know. */
function computedValue(name: string): number | undefined {
  switch (name) {
    case "LINUX_KERNEL_VERSION":
      return kernelVersionCode();
    case "LINUX_HAS_BPF_COOKIE":
      return probeHelper({ type: "tracepoint" }, "get_attach_cookie").supported ? 1 : 0;
    case "LINUX_HAS_SYSCALL_WRAPPER":
      return hasSyscallWrapper() ? 1 : 0;
    default:
      return undefined;
  }
}

/** KERNEL_VERSION(major, minor, min(patch, 255)) of the running kernel (Ubuntu's real version when it says). */
export function kernelVersionCode(): number {
  let text = release();
  try {
    // Ubuntu's release names its ABI, not the upstream version; /proc/version_signature has both.
    text = readFileSync("/proc/version_signature", "utf8").split(" ")[2] ?? text;
  } catch {
    // Not Ubuntu.
  }
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) throw new NotSupportedError("LINUX_KERNEL_VERSION", `cannot read a version from the kernel release "${text}"`);
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3] ?? 0), 255);
}

/** Whether system calls enter through `__<arch>_sys_*` wrappers (what libbpf probes with a kprobe on sys_bpf). */
function hasSyscallWrapper(): boolean {
  const symbol = `${archFacts().syscallPrefix}sys_bpf`;
  let inBtf = false;
  try {
    inBtf = kernelBtf().find(symbol, "func") !== undefined;
  } catch {
    // No kernel BTF: kallsyms still knows.
  }
  return inBtf || KernelSymbols.load().lookup(symbol).length > 0;
}

/** Where the externs of one load live in the running kernel; owns the module BTF fds it opens. */
export class ExternResolver {
  readonly #resolved = new Map<string, ExternResolution>();
  readonly #moduleFds = new Map<string, { fd: FD; index: number }>();

  constructor(readonly spec: ObjectSpec) {}

  /**
   * Where extern `name`, used by `program`, lives; undefined when it is not an extern.
   *
   * @throws NotSupportedError for a strong extern the kernel lacks, WaggleError for an incompatible one.
   */
  resolve(name: string, program: string): ExternResolution | undefined {
    const extern = this.spec.externs.get(name);
    if (!extern) return undefined;
    let resolution = this.#resolved.get(name);
    if (!resolution) {
      resolution = extern.kind === "function" ? this.#kfunc(extern, program) : this.#ksym(extern, program);
      this.#resolved.set(name, resolution);
    }
    return resolution;
  }

  /** The fd array programs pass to the kernel (module BTFs at their indices), or undefined when none is used. */
  fdArray(): Int32Array | undefined {
    if (this.#moduleFds.size === 0) return undefined;
    const array = new Int32Array(this.#moduleFds.size + 1);
    for (const { fd, index } of this.#moduleFds.values()) array[index] = fd.value;
    return array;
  }

  close(): void {
    for (const { fd } of this.#moduleFds.values()) fd.close();
    this.#moduleFds.clear();
  }

  #kfunc(extern: ExternSpec, program: string): ExternResolution {
    const local = this.spec.btf;
    const found = findInKernel(essentialName(extern.name), "func");
    if (found && local && extern.btfId !== undefined) {
      const localFn = local.type(extern.btfId);
      const targetFn = found.btf.type(found.id);
      if (localFn.kind === "func" && targetFn.kind === "func" && !typesAreCompatible(local, localFn.type, found.btf, targetFn.type)) {
        if (extern.weak) return { kind: "absent" };
        throw new WaggleError(`Cannot load program "${program}": kernel function "${extern.name}" has a different prototype in ${found.module ?? "vmlinux"} than the object declares`);
      }
    }
    if (found) return this.#inKernel(found);
    if (extern.weak) return { kind: "absent" };
    throw new NotSupportedError(`kernel function "${extern.name}" called by program "${program}"`, "the kernel's BTF has no such function");
  }

  #ksym(extern: ExternSpec, program: string): ExternResolution {
    const local = this.spec.btf;
    if (!local || extern.section !== ".ksyms" || extern.ksymType === undefined) {
      throw new WaggleError(`Cannot load program "${program}": extern variable "${extern.name}" has no BTF; declare it __ksym or __kconfig`);
    }
    if (extern.ksymType === 0) {
      const addresses = new Set(KernelSymbols.load().lookup(extern.name).map((s) => s.address));
      if (addresses.size > 1) throw new WaggleError(`Cannot load program "${program}": kernel symbol "${extern.name}" has ${addresses.size} addresses in /proc/kallsyms`);
      const [address] = addresses;
      if (address !== undefined) return { kind: "address", address };
      if (extern.weak) return { kind: "absent" };
      throw new NotSupportedError(`kernel symbol "${extern.name}" used by program "${program}"`, "/proc/kallsyms does not list it");
    }
    const found = findInKernel(extern.name, "var");
    if (!found) {
      if (extern.weak) return { kind: "absent" };
      throw new NotSupportedError(`kernel variable "${extern.name}" used by program "${program}"`, "the kernel's BTF has no such variable");
    }
    const targetVar = found.btf.type(found.id);
    const targetType = targetVar.kind === "var" ? found.btf.resolve(targetVar.type) : 0;
    if (!typesAreCompatible(local, extern.ksymType, found.btf, targetType)) {
      throw new WaggleError(
        `Cannot load program "${program}": kernel variable "${extern.name}" is ${formatCType(found.btf, targetType)} in ${found.module ?? "vmlinux"}, but the object declares ${formatCType(local, extern.ksymType)}`,
      );
    }
    return this.#inKernel(found);
  }

  #inKernel(found: KernelFind): ExternResolution {
    if (found.module === undefined) return { kind: "btf", btfId: found.id, btfObjFd: 0, fdArrayIndex: 0 };
    let entry = this.#moduleFds.get(found.module);
    if (!entry) {
      entry = { fd: moduleBtfFd(found.module), index: this.#moduleFds.size + 1 };
      this.#moduleFds.set(found.module, entry);
    }
    return { kind: "btf", btfId: found.id, btfObjFd: entry.fd.value, fdArrayIndex: entry.index };
  }
}

interface KernelFind {
  readonly btf: Btf;
  readonly id: TypeId;
  /** The module's name; undefined for vmlinux. */
  readonly module?: string;
}

/** A FUNC or VAR by name in vmlinux's BTF, else in the first module that has it. */
function findInKernel(name: string, kind: "func" | "var"): KernelFind | undefined {
  const vmlinux = kernelBtf();
  const id = vmlinux.find(name, kind);
  if (id !== undefined) return { btf: vmlinux, id };
  for (const module of kernelModuleBtfs()) {
    const found = module.btf.typesByName(name).find((t) => t >= module.btf.firstId && module.btf.type(t).kind === kind);
    if (found !== undefined) return { btf: module.btf, id: found, module: module.name };
  }
  return undefined;
}

/** An fd for module `name`'s BTF object, found by walking the kernel's BTF ids. */
function moduleBtfFd(name: string): FD {
  for (let id = btfGetNextId(0); id !== undefined; id = btfGetNextId(id)) {
    const fd = btfGetFdById(id);
    try {
      const info = btfInfo(fd.value);
      if (info.kernelBtf && info.name === name) return fd;
    } catch (error) {
      fd.close();
      throw error;
    }
    fd.close();
  }
  throw new NotSupportedError(`BTF of kernel module "${name}"`, "no loaded BTF object has that name");
}
