/**
 * The eleven eBPF registers as the builder and the assembler name them. A register is its llvm name
 * (`"r1"`), so that a builder operand is a register when it is a string and an immediate when it is a
 * number. {@link Instruction} stores the plain register number (0–10) instead.
 */

/** A register: r0 (return value), r1–r5 (arguments, clobbered by calls), r6–r9 (callee-saved), r10 (frame pointer). */
export type Register = "r0" | "r1" | "r2" | "r3" | "r4" | "r5" | "r6" | "r7" | "r8" | "r9" | "r10";

/** Register 0: return values of calls and of the program. */
export const R0 = "r0";
/** Register 1: first argument; the context on entry. */
export const R1 = "r1";
/** Register 2: second argument. */
export const R2 = "r2";
/** Register 3: third argument. */
export const R3 = "r3";
/** Register 4: fourth argument. */
export const R4 = "r4";
/** Register 5: fifth argument. */
export const R5 = "r5";
/** Register 6: callee-saved. */
export const R6 = "r6";
/** Register 7: callee-saved. */
export const R7 = "r7";
/** Register 8: callee-saved. */
export const R8 = "r8";
/** Register 9: callee-saved. */
export const R9 = "r9";
/** Register 10: the read-only frame pointer. */
export const R10 = "r10";
/** The frame pointer, r10. */
export const FP = R10;

/** Every register, indexed by its number. */
export const REGISTERS: readonly Register[] = [R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10];

/** The number (0–10) of a register; throws a TypeError for anything else. */
export function registerNumber(register: Register): number {
  const n = REGISTERS.indexOf(register);
  if (n < 0) throw new TypeError(`Cannot use ${JSON.stringify(register)} as a register: expected r0 to r10`);
  return n;
}

/** Tells whether a value names a register (`"r0"` to `"r10"`). */
export function isRegister(value: unknown): value is Register {
  return typeof value === "string" && (REGISTERS as readonly string[]).includes(value);
}
