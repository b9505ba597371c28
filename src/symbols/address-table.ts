/**
 * `AddressTable`: the symbols of one executable or shared object that an instruction pointer can land
 * in — defined functions, indirect functions and objects with a size — sorted by address, in columns
 * (`Float64Array`s of starts, ends and the furthest end reached so far, plus names), so that a
 * parsed ELF file can be dropped once its table is built. Addresses are the file's virtual addresses
 * (st_value), before any load bias.
 *
 * Symbols may nest or alias: `find()` returns the innermost symbol that covers an address, and of
 * aliases with one extent, the one `alias-rank.ts` prefers (functions before objects).
 */

import {
  SHN_LORESERVE,
  SHN_UNDEF,
  STB_GLOBAL,
  STB_GNU_UNIQUE,
  STB_WEAK,
  STT_FUNC,
  STT_GNU_IFUNC,
  STT_OBJECT,
} from "../elf/index.js";
import type { ElfSymbol } from "../elf/index.js";
import { ALIAS_RANKS, aliasRank, GLOBAL_STRENGTH, leadingUnderscores, LOCAL_STRENGTH, WEAK_STRENGTH } from "./alias-rank.js";

/** The symbol types an address can be attributed to. */
const ADDRESSABLE_TYPES: ReadonlySet<number> = new Set([STT_FUNC, STT_GNU_IFUNC, STT_OBJECT]);
/** The types that hold code, preferred over objects at the same address. */
const CODE_TYPES: ReadonlySet<number> = new Set([STT_FUNC, STT_GNU_IFUNC]);

/** The sorted, addressable symbols of one file. */
export class AddressTable {
  /** How many symbols the table holds. */
  readonly size: number;
  readonly #starts: Float64Array;
  readonly #ends: Float64Array;
  /** `#reach[i]` is the largest end of symbols 0…i: past it, nothing at or before i covers an address. */
  readonly #reach: Float64Array;
  readonly #names: readonly string[];

  private constructor(starts: Float64Array, ends: Float64Array, names: readonly string[]) {
    this.size = starts.length;
    this.#starts = starts;
    this.#ends = ends;
    this.#names = names;
    this.#reach = new Float64Array(this.size);
    let reach = 0;
    for (let i = 0; i < this.size; i++) this.#reach[i] = reach = Math.max(reach, ends[i]!);
  }

  /**
   * The table of `symbols`' defined functions and objects that have a size.
   *
   * @param symbols A symbol table of an executable or shared object (`ElfFile.symbols` or `dynamicSymbols`).
   */
  static fromSymbols(symbols: readonly ElfSymbol[]): AddressTable {
    const kept = symbols.filter(
      (s) => ADDRESSABLE_TYPES.has(s.type) && s.size > 0 && s.shndx !== SHN_UNDEF && s.shndx < SHN_LORESERVE,
    );
    const count = kept.length;
    const values = new Float64Array(count);
    const order = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      values[i] = kept[i]!.value;
      order[i] = i;
    }
    order.sort((a, b) => values[a]! - values[b]!);
    // Rank only aliases: reading every name's first characters would cost more than the sort.
    for (let first = 0, next = 1; first < count; first = next++) {
      while (next < count && values[order[next]!] === values[order[first]!]) next++;
      if (next - first > 1) {
        const ranked = order.slice(first, next).map((index) => ({ index, rank: preference(kept[index]!) }));
        ranked.sort((a, b) => a.rank - b.rank).forEach(({ index }, i) => (order[first + i] = index));
      }
    }
    const starts = new Float64Array(count);
    const ends = new Float64Array(count);
    const names = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const symbol = kept[order[i]!]!;
      starts[i] = symbol.value;
      ends[i] = symbol.value + symbol.size;
      names[i] = symbol.name;
    }
    return new AddressTable(starts, ends, names);
  }

  /**
   * The index of the symbol that covers `address` (the innermost, when symbols nest), or -1 when none does.
   *
   * @param address A virtual address of the file.
   */
  find(address: number): number {
    let from = 0;
    let to = this.size;
    while (from < to) {
      const middle = (from + to) >>> 1;
      if (this.#starts[middle]! <= address) from = middle + 1;
      else to = middle;
    }
    let index = from - 1;
    if (index < 0 || this.#reach[index]! <= address) return -1;
    // Some symbol at or before `index` covers the address; the first one walking back is the innermost.
    while (this.#ends[index]! <= address) index--;
    return index;
  }

  /** The address of symbol `index`. */
  start(index: number): number {
    return this.#starts[index]!;
  }

  /** The name of symbol `index`. */
  name(index: number): string {
    return this.#names[index]!;
  }
}

/** The binding strength of each global kind of binding; the rest are local. */
const STRENGTH_OF_BINDING: ReadonlyMap<number, number> = new Map([
  [STB_GLOBAL, GLOBAL_STRENGTH],
  [STB_GNU_UNIQUE, GLOBAL_STRENGTH],
  [STB_WEAK, WEAK_STRENGTH],
]);

/** How much `symbol` is preferred over aliases at its address: code first, then `aliasRank()`. */
function preference(symbol: ElfSymbol): number {
  const strength = STRENGTH_OF_BINDING.get(symbol.bind) ?? LOCAL_STRENGTH;
  return (CODE_TYPES.has(symbol.type) ? ALIAS_RANKS : 0) + aliasRank(leadingUnderscores(symbol.name), strength);
}
