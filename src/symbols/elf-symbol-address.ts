/**
 * `elfSymbolAddress()`: where a named function or object is in an executable or shared object, as the
 * virtual address its symbol gives and as the file offset that address is loaded from, which is what a
 * uprobe is attached at. The static symbol table is searched first, then the dynamic one (all a
 * stripped file keeps).
 */

import {
  addressToFileOffset,
  SHN_LORESERVE,
  SHN_UNDEF,
  STT_FUNC,
  STT_GNU_IFUNC,
  STT_NOTYPE,
  STT_OBJECT,
  type ElfSymbol,
} from "../elf/index.js";
import { readElfFile } from "./elf-files.js";

/** The symbol types that name a place in a loaded file (not sections, files or TLS offsets). */
const PLACE_TYPES: ReadonlySet<number> = new Set([STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_GNU_IFUNC]);

/** Where a symbol of an ELF file is. */
export interface ElfSymbolAddress {
  /** The symbol's name. */
  readonly name: string;
  /** Its virtual address (st_value), before the load bias of a PIE or shared object. */
  readonly address: bigint;
  /** Its size in bytes (st_size; 0 when the symbol does not say). */
  readonly size: bigint;
  /** The file offset its first byte is loaded from; undefined when it is not in the file (as in .bss). */
  readonly fileOffset: bigint | undefined;
}

/**
 * Finds the function or object called `name` in the ELF file at `path`.
 *
 * @param path An executable or shared object.
 * @param name The symbol's name, without a version suffix (`malloc`, not `malloc@GLIBC_2.2.5`).
 * @returns Where it is, or undefined when the file defines no such symbol.
 * @throws {RangeError} When several definitions of `name` are at different addresses (static
 *   functions of the same name in different source files).
 * @throws {SyscallError} When the file cannot be read.
 * @throws {FormatError} When it is not a well-formed ELF64 file.
 * @example
 * const malloc = elfSymbolAddress("/usr/lib/x86_64-linux-gnu/libc.so.6", "malloc");
 * // attach a uprobe at malloc.fileOffset
 */
export function elfSymbolAddress(path: string, name: string): ElfSymbolAddress | undefined {
  const elf = readElfFile(path);
  const isDefinition = (s: ElfSymbol) =>
    s.name === name && PLACE_TYPES.has(s.type) && s.shndx !== SHN_UNDEF && s.shndx < SHN_LORESERVE;
  let found = elf.symbols.filter(isDefinition);
  if (found.length === 0) found = elf.dynamicSymbols.filter(isDefinition);
  const [symbol] = found;
  if (symbol === undefined) return undefined;
  const addresses = [...new Set(found.map((s) => s.value))];
  if (addresses.length > 1) {
    const list = addresses.map((a) => `0x${a.toString(16)}`).join(", ");
    throw new RangeError(`Cannot find symbol "${name}" in "${path}": ${addresses.length} definitions are at different addresses (${list})`);
  }
  const fileOffset = addressToFileOffset(elf.segments, symbol.value);
  return {
    name,
    address: BigInt(symbol.value),
    size: BigInt(symbol.size),
    fileOffset: fileOffset === undefined ? undefined : BigInt(fileOffset),
  };
}
