/**
 * Conversions between file offsets and virtual addresses through the PT_LOAD segments of an executable
 * or shared object. A stack address becomes a file offset through /proc/PID/maps (address − mapping
 * start + mapping offset), and a file offset becomes the address symbols are given in through the
 * segment that loads it; uprobes go the other way, from a symbol's address to the file offset the
 * kernel wants. Only bytes that come from the file (p_filesz, not p_memsz) have a file offset.
 */

import { PT_LOAD } from "./constants.js";
import type { ElfSegment } from "./elf-types.js";

/**
 * The virtual address (before load bias) at which file offset `offset` is loaded, or undefined when no
 * PT_LOAD segment loads it.
 *
 * @param segments The file's program headers (`ElfFile.segments`).
 * @param offset A byte offset in the file.
 * @example
 * const vaddr = fileOffsetToAddress(elf.segments, Number(ip - mapping.start + mapping.offset));
 */
export function fileOffsetToAddress(segments: readonly ElfSegment[], offset: number): number | undefined {
  const segment = segments.find((s) => s.type === PT_LOAD && offset >= s.offset && offset - s.offset < s.filesz);
  return segment === undefined ? undefined : segment.vaddr + (offset - segment.offset);
}

/**
 * The file offset of the byte loaded at virtual address `address` (before load bias), or undefined when
 * no PT_LOAD segment loads it from the file (it is in .bss, or in no segment).
 *
 * @param segments The file's program headers (`ElfFile.segments`).
 * @param address A virtual address, such as a symbol's `value`.
 * @example
 * const uprobeOffset = addressToFileOffset(elf.segments, symbol.value);
 */
export function addressToFileOffset(segments: readonly ElfSegment[], address: number): number | undefined {
  const segment = segments.find((s) => s.type === PT_LOAD && address >= s.vaddr && address - s.vaddr < s.filesz);
  return segment === undefined ? undefined : segment.offset + (address - segment.vaddr);
}
