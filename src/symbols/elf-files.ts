/**
 * Reading the ELF files processes map, for symbolisation and for symbol lookups by name. A file is
 * opened from the first of several paths that works (a process's own view of it, then the path it
 * mapped), read whole and parsed with `ElfFile`. The symbols of each file are kept as an
 * `AddressTable`, cached by what fstat says identifies the file's contents (device, inode, size and
 * modification time), so that every process mapping libc shares one table and a file rewritten in place
 * is read again. Errors are cached alike: a malformed file is not re-read for every address.
 */

import { closeSync, fstatSync, openSync, readSync, type BigIntStats } from "node:fs";
import { ElfFile, PT_LOAD, type ElfSegment } from "../elf/index.js";
import { FormatError, isWaggleError, NotSupportedError, type WaggleError } from "../errors.js";
import { AddressTable } from "./address-table.js";
import { fileError } from "./file-errors.js";

/** What reading a file needs when EACCES or EPERM stops it. */
const READ_PRIVILEGE = "read access to the file (or CAP_DAC_READ_SEARCH)";
/**
 * Files are read whole, so larger ones are refused rather than exhausting memory. Release builds of the
 * largest programs (browsers, Node itself) stay well below; builds with full debug information may not.
 */
const MAX_FILE_BYTES = 2 ** 31;
/**
 * How many files' symbol tables are kept, least recently used first out: a profiler sees a few dozen
 * binaries and libraries, and a long-running one must not grow without bound as programs come and go.
 */
const MAX_CACHED_FILES = 64;

/** The symbols of one executable or shared object, and what maps its file offsets to their addresses. */
export interface SymbolFile {
  /** The file's PT_LOAD segments. */
  readonly segments: readonly ElfSegment[];
  /** Its functions and objects, from .symtab when that has any, else from .dynsym. */
  readonly table: AddressTable;
}

const cache = new Map<string, SymbolFile | WaggleError>();

/**
 * The symbols of the file at the first of `paths` that opens, read on first use per file.
 *
 * @param paths Where to open the file, best first (at least one).
 * @param name How errors name the file.
 * @throws {SyscallError} When no path opens (the error of the last one tried).
 * @throws {FormatError} When the file is not a well-formed ELF64 file.
 * @throws {NotSupportedError} When the file is too large to read.
 */
export function symbolFile(paths: readonly string[], name: string): SymbolFile {
  const fd = openFirst(paths, name);
  try {
    const stat = fstatSync(fd, { bigint: true });
    const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`;
    let entry = cache.get(key);
    if (entry === undefined) {
      entry = attempt(() => toSymbolFile(readElf(fd, stat, name)));
      if (cache.size >= MAX_CACHED_FILES) cache.delete(cache.keys().next().value!);
    } else {
      cache.delete(key);
    }
    cache.set(key, entry);
    if (isWaggleError(entry)) throw entry;
    return entry;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and parses the ELF file at `path`.
 *
 * @throws {SyscallError} When the file cannot be opened or read.
 * @throws {FormatError} When it is not a well-formed ELF64 file.
 * @throws {NotSupportedError} When it is too large to read.
 */
export function readElfFile(path: string): ElfFile {
  const fd = openFirst([path], path);
  try {
    return readElf(fd, fstatSync(fd, { bigint: true }), path);
  } finally {
    closeSync(fd);
  }
}

/** An fd for the first of `paths` that opens; the caller closes it. */
function openFirst(paths: readonly string[], name: string): number {
  let failure: unknown;
  for (const path of paths) {
    try {
      return openSync(path, "r");
    } catch (cause) {
      failure = cause;
    }
  }
  throw fileError(failure, name, READ_PRIVILEGE);
}

/** Reads the whole regular file open as `fd` and parses it. */
function readElf(fd: number, stat: BigIntStats, name: string): ElfFile {
  if (!stat.isFile()) throw new FormatError("ELF", "not a regular file", { file: name });
  if (stat.size > BigInt(MAX_FILE_BYTES)) {
    throw new NotSupportedError(`reading symbols from "${name}"`, `it holds ${stat.size} bytes; files are read whole, up to ${MAX_FILE_BYTES}`);
  }
  const bytes = new Uint8Array(Number(stat.size));
  let filled = 0;
  try {
    while (filled < bytes.length) {
      const got = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (got === 0) break;
      filled += got;
    }
  } catch (cause) {
    throw fileError(cause, name, READ_PRIVILEGE);
  }
  // A file that shrank since fstat parses as the truncated file it now is.
  return ElfFile.parse(bytes.subarray(0, filled), { file: name });
}

/** What symbolisation keeps of a parsed file. */
function toSymbolFile(elf: ElfFile): SymbolFile {
  const segments = elf.segments.filter((s) => s.type === PT_LOAD);
  const fromStatic = AddressTable.fromSymbols(elf.symbols);
  const table = fromStatic.size > 0 ? fromStatic : AddressTable.fromSymbols(elf.dynamicSymbols);
  return { segments, table };
}

/** The result of `read`, or the Waggle error it threw (anything else is rethrown). */
function attempt<T>(read: () => T): T | WaggleError {
  try {
    return read();
  } catch (error) {
    if (isWaggleError(error)) return error;
    throw error;
  }
}
