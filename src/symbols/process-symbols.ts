/**
 * `ProcessSymbols`: turns instruction pointers of a user-space process (as a stack trace map holds them)
 * into `function+offset` and the file that defines it.
 *
 * An address is found in the process's executable mappings (/proc/PID/maps, read once), becomes a file
 * offset (address − mapping start + mapping offset), then a virtual address of the file through the
 * PT_LOAD segment that loads that offset, which is what symbols are given in. That one path serves
 * non-PIE executables (loaded where their segments say), PIE executables and shared objects (loaded
 * anywhere). Each file's symbols are read on the first address that needs them and cached across
 * processes (`elf-files.ts`). A file is opened through /proc/PID/map_files when the process is alive
 * and this process may (the exact file mapped, even when deleted or in another mount namespace), else
 * through /proc/PID/root, else by its path.
 *
 * Addresses in mappings without a file (`[vdso]`, JIT code) or without a covering symbol resolve to the
 * mapping alone; a file that cannot be read or parsed does too, with the error that says why.
 */

import { readFileSync } from "node:fs";
import { fileOffsetToAddress } from "../elf/index.js";
import { isWaggleError, NotSupportedError, SyscallError, type WaggleError } from "../errors.js";
import { symbolFile, type SymbolFile } from "./elf-files.js";
import { fileError, isMissingFile } from "./file-errors.js";
import { parseProcMaps, type ProcMapping } from "./proc-maps.js";

/** No such process: the errno of operations on a process that has exited. */
const ESRCH = 3;
/** What reading another process's /proc files needs when EACCES or EPERM stops it. */
const PTRACE_PRIVILEGE = "ptrace read access to the process (the same user, or CAP_SYS_PTRACE)";
const MAX_U64 = (1n << 64n) - 1n;
/** The position of the `x` in a mapping's permissions. */
const EXECUTE_PERM = 2;
/** In /proc/PID/stat, the state letters of a process that has exited: zombie and dead. */
const EXITED_STATES: ReadonlySet<string> = new Set(["Z", "X"]);

/** Where an address of a process is. */
export type ProcessLocation =
  | {
      /** A symbol covers the address. */
      readonly kind: "symbol";
      /** The symbol's address in the process. */
      readonly address: bigint;
      /** The symbol's name. */
      readonly name: string;
      /** The address minus the symbol's address. */
      readonly offset: bigint;
      /** The path of the file that defines the symbol, as the process mapped it. */
      readonly file: string;
    }
  | {
      /** The address is in an executable mapping, but no symbol is known for it. */
      readonly kind: "mapping";
      /** The mapping's path: a file, `[vdso]` and the like, or empty for anonymous memory (JIT code). */
      readonly file: string;
      /** The address's offset in the mapped file (from the mapping's start for mappings without a file). */
      readonly offset: bigint;
      /** Why the file's symbols could not be read, when that is the reason none is known. */
      readonly unavailable?: WaggleError;
    };

/** Options for `ProcessSymbols.fromMappings()`. */
export interface ProcessSymbolsOptions {
  /** The process the mappings belong to, used to open mapped files through /proc/PID. */
  readonly pid?: number;
}

/** The executable mappings of one process and the symbols of the files they map. */
export class ProcessSymbols {
  /** The process, when known. */
  readonly pid: number | undefined;
  /** Every mapping of the process, as read. */
  readonly mappings: readonly ProcMapping[];
  /** The executable mappings, by ascending start. */
  readonly #code: readonly ProcMapping[];
  /** Per mapped file (device, inode, path), its symbols or why there are none. */
  readonly #files = new Map<string, SymbolFile | WaggleError>();

  private constructor(mappings: readonly ProcMapping[], pid: number | undefined) {
    this.pid = pid;
    this.mappings = mappings;
    this.#code = mappings
      .filter((m) => m.perms[EXECUTE_PERM] === "x")
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /**
   * The symbols of process `pid`, whose mappings are read now (files are read as addresses need them).
   *
   * @param pid A process id.
   * @returns The process's symbols.
   * @throws {SyscallError} With code `ESRCH` when the process does not exist or has exited.
   * @throws {PermissionError} When this process may not read the other's mappings.
   * @throws {RangeError} When `pid` is not a positive integer.
   * @example
   * const where = ProcessSymbols.forPid(pid).resolve(ip);
   * if (where?.kind === "symbol") console.log(`${where.name}+0x${where.offset.toString(16)} (${where.file})`);
   */
  static forPid(pid: number): ProcessSymbols {
    checkPid(pid);
    const path = `/proc/${pid}/maps`;
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (cause) {
      if (isMissingFile(cause)) throw exited(pid, path, cause);
      throw fileError(cause, path, PTRACE_PRIVILEGE);
    }
    const mappings = parseProcMaps(text, { file: path });
    // Zombies (exited, not yet reaped) and kernel threads both have no mappings.
    if (mappings.length === 0 && hasExited(pid)) throw exited(pid, path);
    return new ProcessSymbols(mappings, pid);
  }

  /**
   * Symbols for mappings read earlier, such as a snapshot of /proc/PID/maps taken while the process
   * was alive; files are then opened by path when /proc/PID no longer has them.
   *
   * @param mappings Mappings as `parseProcMaps()` returns them.
   * @param options `pid` names the process, to open its files through /proc/PID.
   * @throws {RangeError} When `pid` is given and is not a positive integer.
   * @example
   * const symbols = ProcessSymbols.fromMappings(parseProcMaps(snapshot), { pid });
   */
  static fromMappings(mappings: readonly ProcMapping[], options: ProcessSymbolsOptions = {}): ProcessSymbols {
    if (options.pid !== undefined) checkPid(options.pid);
    return new ProcessSymbols(mappings, options.pid);
  }

  /**
   * Where `address` is: the symbol that covers it in the file an executable mapping maps there, or
   * just the mapping.
   *
   * @param address A user-space address of the process, such as an entry of a user stack trace.
   * @returns The location, or undefined when no executable mapping contains the address.
   * @throws {RangeError} When `address` is not a u64.
   * @example
   * const where = ProcessSymbols.forPid(pid).resolve(0x7f3a1c2d5e4fn);
   */
  resolve(address: bigint): ProcessLocation | undefined {
    if (address < 0n || address > MAX_U64) throw new RangeError(`Cannot resolve address ${address}: it is not a u64`);
    const mapping = this.#mappingAt(address);
    if (mapping === undefined) return undefined;
    const fileOffset = address - mapping.start + mapping.offset;
    const alone = { kind: "mapping", file: mapping.path, offset: fileOffset } as const;
    if (!mapping.path.startsWith("/") || fileOffset > BigInt(Number.MAX_SAFE_INTEGER)) return alone;

    const file = this.#symbolFile(mapping);
    if (isWaggleError(file)) return { ...alone, unavailable: file };
    const vaddr = fileOffsetToAddress(file.segments, Number(fileOffset));
    if (vaddr === undefined) return alone;
    const index = file.table.find(vaddr);
    if (index < 0) return alone;
    const offset = BigInt(vaddr - file.table.start(index));
    return { kind: "symbol", address: address - offset, name: file.table.name(index), offset, file: mapping.path };
  }

  /** The executable mapping that contains `address`, if any. */
  #mappingAt(address: bigint): ProcMapping | undefined {
    let from = 0;
    let to = this.#code.length;
    while (from < to) {
      const middle = (from + to) >>> 1;
      if (this.#code[middle]!.start <= address) from = middle + 1;
      else to = middle;
    }
    const mapping = this.#code[from - 1];
    return mapping !== undefined && address < mapping.end ? mapping : undefined;
  }

  /** The symbols of the file `mapping` maps, or why they cannot be had; read once per file. */
  #symbolFile(mapping: ProcMapping): SymbolFile | WaggleError {
    const key = `${mapping.device} ${mapping.inode} ${mapping.path}`;
    let file = this.#files.get(key);
    if (file === undefined) {
      const paths = this.#openPaths(mapping);
      try {
        file = paths.length > 0 ? symbolFile(paths, mapping.path) : deletedWithoutProcess(mapping.path);
      } catch (error) {
        if (!isWaggleError(error)) throw error;
        file = error;
      }
      this.#files.set(key, file);
    }
    return file;
  }

  /** Where to open the file `mapping` maps, best first; none for a deleted file of an unknown process. */
  #openPaths(mapping: ProcMapping): string[] {
    if (this.pid === undefined) return mapping.deleted ? [] : [mapping.path];
    // The kernel names these entries by the mapping's bounds in unpadded hexadecimal.
    const exact = `/proc/${this.pid}/map_files/${mapping.start.toString(16)}-${mapping.end.toString(16)}`;
    // A deleted file's path names another file, or none: only map_files still reaches it.
    return mapping.deleted ? [exact] : [exact, `/proc/${this.pid}/root${mapping.path}`, mapping.path];
  }
}

/** Throws a RangeError unless `pid` can be a process id. */
function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`Cannot read the mappings of process ${pid}: not a process id`);
}

/** Why the symbols of a deleted file cannot be read when the process is unknown. */
function deletedWithoutProcess(path: string): NotSupportedError {
  return new NotSupportedError(
    `reading the symbols of "${path}"`,
    "the file was deleted, and without a process id /proc/PID/map_files cannot reach it",
  );
}

/** The error for a process that does not exist (any more). */
function exited(pid: number, path: string, cause?: unknown): SyscallError {
  return new SyscallError("open", ESRCH, `${path} (process ${pid} has exited or never existed)`, { cause });
}

/** Tells whether process `pid` has exited: it is gone, or a zombie. */
function hasExited(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch (cause) {
    if (isMissingFile(cause)) return true;
    throw fileError(cause, `/proc/${pid}/stat`, PTRACE_PRIVILEGE);
  }
  // `pid (comm) state …`; comm may itself contain spaces and parentheses, so look after the last `)`.
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return EXITED_STATES.has(state);
}
