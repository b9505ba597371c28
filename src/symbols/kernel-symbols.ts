/**
 * Kernel symbols from /proc/kallsyms: `KernelSymbols` turns kernel instruction pointers (as a stack
 * trace map holds them) into `function+offset [module]`, and names into addresses (as ksyms need).
 *
 * The file has one line per symbol, `ffffffff81000000 T _stext` or `ffffffffc0a01000 t fn\t[module]`,
 * well over 100 000 of them: vmlinux sorted by address, then modules and BPF programs. It is parsed
 * without a regex or a split per line, into columns (the two 32-bit halves of each address in
 * `Uint32Array`s, type letters in a `Uint8Array`, where each name starts and ends in the file's text),
 * sorted once by address; names become strings only when asked for. `resolve()` is a binary search,
 * `lookup()` uses a name index built on first use. `KernelSymbols.load()` reads the file once per
 * process. When kernel.kptr_restrict hides addresses from this process every address reads 0, and that
 * is a `NotSupportedError`, not a table of zeros.
 */

import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { FormatError, NotSupportedError } from "../errors.js";
import { aliasRank, COUNTED_UNDERSCORES, GLOBAL_STRENGTH, LOCAL_STRENGTH, UNDERSCORE, WEAK_STRENGTH } from "./alias-rank.js";
import { fileError, isMissingFile } from "./file-errors.js";

/** Where the kernel lists its symbols. */
export const KALLSYMS_PATH = "/proc/kallsyms";

/** A kernel address is 64 bits: 16 hexadecimal digits, split into two 32-bit halves of 8. */
const MAX_ADDRESS_DIGITS = 16;
const HALF_DIGITS = 8;
const HALF_BITS = 32n;
const LOW_HALF_MASK = 0xffff_ffffn;
const MAX_U64 = (1n << 64n) - 1n;

const NEWLINE = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
/** A module field is at least a tab, brackets and one character: `\t[m]`. */
const MIN_MODULE_FIELD = 4;
/** The char codes of `0`, `9`, `a` and `f`: kallsyms prints addresses in lowercase hexadecimal. */
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LETTER_A = 0x61;
const LETTER_F = 0x66;
/** `a` stands for 10. */
const LETTER_A_VALUE = 10;
/** Upper- and lowercase ASCII letters differ in this bit. */
const ASCII_CASE_BIT = 0x20;
/** The type letters of weak symbols (`W`, `V`, either case), as char codes. */
const WEAK_TYPES = new Set([..."WVwv"].map((letter) => letter.charCodeAt(0)));

/** The privileges that make kallsyms show addresses, for the error when it does not. */
const RESTRICTED_REASON =
  "shows every address as 0: kernel.kptr_restrict hides them from this process " +
  "(they are shown with CAP_SYSLOG when kptr_restrict is 0 or 1, to everyone when it is 0 and perf_event_paranoid is at most 1)";

/** One kernel symbol. */
export interface KernelSymbol {
  /** Its address. */
  readonly address: bigint;
  /** Its name. */
  readonly name: string;
  /**
   * Its kallsyms type letter, as `nm` prints it: `T`/`t` text, `D`/`d` data, `B`/`b` bss, `R`/`r`
   * read-only data, `W`/`V` weak, `A` absolute…; uppercase is global, lowercase local.
   */
  readonly type: string;
  /** The module that defines it, without brackets (`bpf` for BPF programs), absent for vmlinux. */
  readonly module?: string;
}

/** Where a kernel address is: the nearest symbol at or below it and how far past that symbol. */
export interface KernelLocation extends KernelSymbol {
  /** The address minus the symbol's address. */
  readonly offset: bigint;
}

/** Options for `KernelSymbols.parse()`. */
export interface KernelSymbolsParseOptions {
  /** The file the text came from, quoted in errors. */
  readonly file?: string;
}

/** The columns parsed from kallsyms text, in file order. */
interface Columns {
  readonly count: number;
  readonly high: Uint32Array;
  readonly low: Uint32Array;
  readonly types: Uint8Array;
  /** Index into `modules` plus one; 0 for vmlinux. */
  readonly moduleIds: Uint32Array;
  /** Where each name starts and ends in `text`. */
  readonly nameStarts: Uint32Array;
  readonly nameEnds: Uint32Array;
  /** How many underscores each name starts with, for alias ranking. */
  readonly underscores: Uint8Array;
  /** The whole file as latin1 text: names are slices of it. */
  readonly text: string;
  readonly modules: string[];
}

let loaded: KernelSymbols | undefined;

/** The running kernel's symbols, sorted by address, with aliases at one address sorted by preference. */
export class KernelSymbols {
  /** How many symbols there are. */
  readonly size: number;
  readonly #high: Uint32Array;
  readonly #low: Uint32Array;
  readonly #types: Uint8Array;
  readonly #moduleIds: Uint32Array;
  readonly #nameStarts: Uint32Array;
  readonly #nameEnds: Uint32Array;
  readonly #text: string;
  readonly #modules: readonly string[];
  /** Name → the sorted index of its first symbol; `#nextSameName` chains the rest. Built on first lookup. */
  #byName: Map<string, number> | undefined;
  #nextSameName: Int32Array | undefined;

  private constructor(columns: Columns) {
    const { count, high, low, types, moduleIds, nameStarts, nameEnds } = columns;
    const order = sortedOrder(columns);
    this.size = count;
    this.#high = new Uint32Array(count);
    this.#low = new Uint32Array(count);
    this.#types = new Uint8Array(count);
    this.#moduleIds = new Uint32Array(count);
    this.#nameStarts = new Uint32Array(count);
    this.#nameEnds = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const from = order[i]!;
      this.#high[i] = high[from]!;
      this.#low[i] = low[from]!;
      this.#types[i] = types[from]!;
      this.#moduleIds[i] = moduleIds[from]!;
      this.#nameStarts[i] = nameStarts[from]!;
      this.#nameEnds[i] = nameEnds[from]!;
    }
    this.#text = columns.text;
    this.#modules = columns.modules;
  }

  /**
   * The running kernel's symbols from /proc/kallsyms, read on the first call and shared afterwards.
   *
   * @param options `refresh: true` reads the file again, to see modules and BPF programs loaded since.
   * @returns The symbols, sorted by address.
   * @throws {NotSupportedError} When the kernel has no /proc/kallsyms, or hides addresses from this process.
   * @throws {SyscallError} When the file cannot be read.
   * @throws {FormatError} When a line is not `address type name [module]`.
   * @example
   * const where = KernelSymbols.load().resolve(0xffffffff81234567n);
   * if (where) console.log(`${where.name}+0x${where.offset.toString(16)}`);
   */
  static load(options: { readonly refresh?: boolean } = {}): KernelSymbols {
    if (loaded === undefined || options.refresh === true) {
      loaded = KernelSymbols.parse(readKallsyms(), { file: KALLSYMS_PATH });
    }
    return loaded;
  }

  /**
   * Parses text in the format of /proc/kallsyms.
   *
   * @param text Lines of `address type name`, optionally followed by a tab and `[module]`, as text or
   *   as the file's bytes.
   * @param options `file` names the text in errors.
   * @returns The symbols, sorted by address.
   * @throws {FormatError} When a line is malformed; its offset is where the line starts.
   * @throws {NotSupportedError} When there are symbols and every address is 0 (kptr_restrict hid them).
   * @example
   * const symbols = KernelSymbols.parse("ffffffff81000000 T _stext\n");
   */
  static parse(text: string | Uint8Array, options: KernelSymbolsParseOptions = {}): KernelSymbols {
    const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    const columns = parseKallsyms(bytes, bytes.toString("latin1"), options.file);
    if (columns.count > 0 && allZero(columns.high) && allZero(columns.low)) {
      throw new NotSupportedError("reading kernel symbol addresses", `${options.file ?? "kallsyms"} ${RESTRICTED_REASON}`);
    }
    return new KernelSymbols(columns);
  }

  /**
   * Where `address` is: the nearest symbol at or below it (of several at that address, the one with the
   * fewest leading underscores, then global before local) and the offset past it. Kallsyms records no
   * sizes, so an address beyond the end of the last function before a gap still resolves to it.
   *
   * @param address A kernel address, such as an entry of a kernel stack trace.
   * @returns The location, or undefined when the address is below every symbol.
   * @throws {RangeError} When `address` is not a u64.
   * @example
   * const { name, offset } = KernelSymbols.load().resolve(ip) ?? { name: "?", offset: 0n };
   */
  resolve(address: bigint): KernelLocation | undefined {
    if (address < 0n || address > MAX_U64) throw new RangeError(`Cannot resolve kernel address ${address}: it is not a u64`);
    const high = Number(address >> HALF_BITS);
    const low = Number(address & LOW_HALF_MASK);
    let from = 0;
    let to = this.size;
    while (from < to) {
      const middle = (from + to) >>> 1;
      const h = this.#high[middle]!;
      if (h < high || (h === high && this.#low[middle]! <= low)) from = middle + 1;
      else to = middle;
    }
    if (from === 0) return undefined;
    const symbol = this.#symbol(from - 1);
    return { ...symbol, offset: address - symbol.address };
  }

  /**
   * Every symbol called `name`, in address order: static functions of the same name in different files,
   * or a name in several modules, give more than one.
   *
   * @example
   * const [openat] = KernelSymbols.load().lookup("do_sys_openat2");
   */
  lookup(name: string): KernelSymbol[] {
    if (this.#byName === undefined) this.#indexNames();
    const found: KernelSymbol[] = [];
    for (let i = this.#byName!.get(name) ?? -1; i >= 0; i = this.#nextSameName![i]!) found.push(this.#symbol(i));
    return found;
  }

  /** The symbol at sorted index `index`. */
  #symbol(index: number): KernelSymbol {
    const address = (BigInt(this.#high[index]!) << HALF_BITS) | BigInt(this.#low[index]!);
    const name = this.#name(index);
    const type = String.fromCharCode(this.#types[index]!);
    const moduleId = this.#moduleIds[index]!;
    return moduleId === 0 ? { address, name, type } : { address, name, type, module: this.#modules[moduleId - 1]! };
  }

  /** The name of the symbol at sorted index `index`. */
  #name(index: number): string {
    return this.#text.slice(this.#nameStarts[index]!, this.#nameEnds[index]!);
  }

  /** Builds the name index, each name's chain in address order. */
  #indexNames(): void {
    const byName = new Map<string, number>();
    const next = new Int32Array(this.size).fill(-1);
    for (let i = this.size - 1; i >= 0; i--) {
      const name = this.#name(i);
      const following = byName.get(name);
      if (following !== undefined) next[i] = following;
      byName.set(name, i);
    }
    this.#byName = byName;
    this.#nextSameName = next;
  }
}

/**
 * The address of the kernel symbol `name`, from /proc/kallsyms (read once per process).
 *
 * @returns The address, or undefined when no symbol has that name.
 * @throws {RangeError} When several symbols have that name at different addresses; `KernelSymbols.lookup()` lists them.
 * @throws {NotSupportedError} When the kernel hides its addresses from this process.
 * @example
 * const address = kernelSymbol("bpf_prog_active");
 */
export function kernelSymbol(name: string): bigint | undefined {
  const found = KernelSymbols.load().lookup(name);
  const addresses = [...new Set(found.map((s) => s.address))];
  if (addresses.length > 1) {
    const list = addresses.map((a) => `0x${a.toString(16)}`).join(", ");
    throw new RangeError(`Cannot resolve kernel symbol "${name}": ${addresses.length} symbols have that name (${list})`);
  }
  return addresses[0];
}

/** The bytes of /proc/kallsyms. */
function readKallsyms(): Uint8Array {
  try {
    return readFileSync(KALLSYMS_PATH);
  } catch (cause) {
    if (isMissingFile(cause)) {
      throw new NotSupportedError("kernel symbols", `${KALLSYMS_PATH} does not exist (kernel built without CONFIG_KALLSYMS?)`, { cause });
    }
    throw fileError(cause, KALLSYMS_PATH, "read access to /proc/kallsyms");
  }
}

/**
 * Reads every line of kallsyms into columns, in file order. The structure is scanned in `bytes`; names
 * and modules are ranges of `text`, the same bytes decoded as latin1, so that offsets agree.
 */
function parseKallsyms(bytes: Uint8Array, text: string, file: string | undefined): Columns {
  let count = 0;
  for (let at = bytes.indexOf(NEWLINE); at >= 0; at = bytes.indexOf(NEWLINE, at + 1)) count++;
  if (bytes.length > 0 && bytes[bytes.length - 1] !== NEWLINE) count++;

  const high = new Uint32Array(count);
  const low = new Uint32Array(count);
  const types = new Uint8Array(count);
  const moduleIds = new Uint32Array(count);
  const nameStarts = new Uint32Array(count);
  const nameEnds = new Uint32Array(count);
  const underscores = new Uint8Array(count);
  const modules: string[] = [];
  const moduleIdByName = new Map<string, number>();

  let start = 0;
  for (let line = 0; line < count; line++) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline < 0 ? bytes.length : newline;

    let space = start;
    while (space < end && bytes[space] !== SPACE) space++;
    const digits = space - start;
    if (digits === 0 || digits > MAX_ADDRESS_DIGITS) {
      throw lineError(file, line, start, `does not start with a hexadecimal address of 1 to ${MAX_ADDRESS_DIGITS} digits`);
    }
    const split = Math.max(start, space - HALF_DIGITS);
    const highHalf = hexValue(bytes, start, split);
    const lowHalf = hexValue(bytes, split, space);
    if (highHalf < 0 || lowHalf < 0) throw lineError(file, line, start, "does not start with a hexadecimal address");
    high[line] = highHalf;
    low[line] = lowHalf;

    // `address type name`: one space, one letter, one space.
    const typeAt = space + 1;
    const nameStart = typeAt + 2;
    if (nameStart >= end || bytes[typeAt] === SPACE || bytes[typeAt + 1] !== SPACE) {
      throw lineError(file, line, start, "does not have a one-letter type and a name after the address");
    }
    types[line] = bytes[typeAt]!;

    let nameEnd = nameStart;
    while (nameEnd < end && bytes[nameEnd] !== TAB) nameEnd++;
    if (nameEnd === nameStart) throw lineError(file, line, start, "has an empty name");
    nameStarts[line] = nameStart;
    nameEnds[line] = nameEnd;
    let underscore = 0;
    while (underscore < COUNTED_UNDERSCORES && bytes[nameStart + underscore] === UNDERSCORE) underscore++;
    underscores[line] = underscore;

    if (nameEnd < end) {
      if (end - nameEnd < MIN_MODULE_FIELD || bytes[nameEnd + 1] !== OPEN_BRACKET || bytes[end - 1] !== CLOSE_BRACKET) {
        throw lineError(file, line, start, "has text after the name that is not a [module]");
      }
      const module = text.slice(nameEnd + 2, end - 1);
      let id = moduleIdByName.get(module);
      if (id === undefined) {
        modules.push(module);
        id = modules.length;
        moduleIdByName.set(module, id);
      }
      moduleIds[line] = id;
    }
    start = end + 1;
  }
  return { count, high, low, types, moduleIds, nameStarts, nameEnds, underscores, text, modules };
}

/** Tells whether every element of `values` is 0. */
function allZero(values: Uint32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

/** The error for line `line` (0-based), which starts at `start`. */
function lineError(file: string | undefined, line: number, start: number, what: string): FormatError {
  return new FormatError("kallsyms", `line ${line + 1} ${what}`, { file, offset: start });
}

/** The value of the lowercase hexadecimal digits in `bytes[from, to)` (at most 8), or -1 if one is not a digit. */
function hexValue(bytes: Uint8Array, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    let digit: number;
    if (c >= DIGIT_0 && c <= DIGIT_9) digit = c - DIGIT_0;
    else if (c >= LETTER_A && c <= LETTER_F) digit = c - LETTER_A + LETTER_A_VALUE;
    else return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * The order that sorts the columns by address and, at one address, by ascending alias rank, so that a
 * binary search for the last symbol at or below an address lands on the preferred alias. The input is
 * mostly sorted already (vmlinux is; modules follow), which the stable merge sort exploits.
 */
function sortedOrder(columns: Columns): number[] {
  const { count, high, low, types, underscores } = columns;
  const ranks = new Uint8Array(count);
  for (let i = 0; i < count; i++) ranks[i] = aliasRank(underscores[i]!, bindingStrength(types[i]!));
  const order = new Array<number>(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order.sort((a, b) => high[a]! - high[b]! || low[a]! - low[b]! || ranks[a]! - ranks[b]!);
}

/** How strongly a symbol of kallsyms type letter `type` is bound. */
function bindingStrength(type: number): number {
  if (WEAK_TYPES.has(type)) return WEAK_STRENGTH;
  return (type & ASCII_CASE_BIT) === 0 ? GLOBAL_STRENGTH : LOCAL_STRENGTH;
}
