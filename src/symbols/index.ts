/**
 * Waggle's symbolisation layer: names for the instruction pointers a stack trace map records.
 * `KernelSymbols` resolves kernel addresses through /proc/kallsyms and `kernelSymbol()` looks kernel
 * names up (as ksyms need); `ProcessSymbols` resolves user-space addresses of a process through its
 * mappings and the ELF files they map; `elfSymbolAddress()` finds a symbol's address and file offset in
 * an executable or shared object (as uprobes need); `symbolizeStack()` names a whole stack trace with
 * either, by address, and `formatFrame()` prints its frames. Unlike the format layers it reads files
 * (/proc and the files processes map) with `node:fs`; it imports only the error classes and the ELF
 * layer.
 */

export {
  KALLSYMS_PATH,
  kernelSymbol,
  KernelSymbols,
  type KernelLocation,
  type KernelSymbol,
  type KernelSymbolsParseOptions,
} from "./kernel-symbols.js";
export {
  ProcessSymbols,
  type ProcessLocation,
  type ProcessSymbolsOptions,
} from "./process-symbols.js";
export { parseProcMaps, type ProcMapping, type ProcMapsParseOptions } from "./proc-maps.js";
export { elfSymbolAddress, type ElfSymbolAddress } from "./elf-symbol-address.js";
export {
  formatFrame,
  KERNEL_SPACE_START,
  symbolizeStack,
  type StackFrame,
  type SymbolizeOptions,
} from "./symbolize-stack.js";
