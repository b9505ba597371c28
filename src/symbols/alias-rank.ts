/**
 * Which of several names for one address a symboliser shows. Kernels and libraries define aliases:
 * glibc's `getpid` is a weak alias of `__getpid`, and vmlinux starts with `_stext`, `_text` and
 * `srso_alias_untrain_ret` at the same address. The public spelling (fewest leading underscores) wins,
 * then the stronger binding; the symbol tables sort aliases by this rank.
 */

/** The char code of `_`. */
export const UNDERSCORE = 0x5f;
/** Leading underscores beyond this many make a name no less preferred. */
export const COUNTED_UNDERSCORES = 3;

/** How many binding strengths there are: local, weak, global. */
export const BINDING_STRENGTHS = 3;
/** A symbol local to its file. */
export const LOCAL_STRENGTH = 0;
/** A weak symbol. */
export const WEAK_STRENGTH = 1;
/** A global symbol. */
export const GLOBAL_STRENGTH = 2;

/** How many distinct values `aliasRank()` takes: ranks are below this. */
export const ALIAS_RANKS = (COUNTED_UNDERSCORES + 1) * BINDING_STRENGTHS;

/**
 * How much a name is preferred among aliases (higher wins): fewer leading underscores first, then
 * binding strength.
 *
 * @param underscores How many underscores the name starts with (counted up to `COUNTED_UNDERSCORES`).
 * @param strength One of the `*_STRENGTH` values.
 */
export function aliasRank(underscores: number, strength: number): number {
  return (COUNTED_UNDERSCORES - Math.min(underscores, COUNTED_UNDERSCORES)) * BINDING_STRENGTHS + strength;
}

/** How many underscores `name` starts with, counted up to `COUNTED_UNDERSCORES`. */
export function leadingUnderscores(name: string): number {
  let count = 0;
  while (count < COUNTED_UNDERSCORES && name.charCodeAt(count) === UNDERSCORE) count++;
  return count;
}
