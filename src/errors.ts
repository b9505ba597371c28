/**
 * Waggle's error hierarchy, shared by every layer.
 *
 *     WaggleError            anything Waggle throws on purpose
 *     ├─ SyscallError        a system call failed: names the operation and errno
 *     │  └─ PermissionError  …because a privilege is missing (EPERM / EACCES outside the verifier)
 *     ├─ VerifierError       the kernel's verifier rejected a program: carries the log and source line
 *     ├─ NotSupportedError   this kernel (or this machine) lacks a feature
 *     ├─ FormatError         bytes that are not a valid ELF / BTF / instruction stream / object
 *     ├─ CoreRelocationError a CO-RE relocation is malformed or ambiguous for the target kernel
 *     └─ ClosedError         an fd owner or a view was used after close()
 *
 * Errors carry structured fields so that callers and tests can check them without parsing messages.
 * `isWaggleError()` recognises them by a registered symbol, so it works across two copies of the package.
 */

import { errnoMessage, errnoName } from "./errno.js";

const WAGGLE_ERROR = Symbol.for("waggle.error");

/** The base class of every error Waggle throws on purpose. */
export class WaggleError extends Error {
  override readonly name: string = "WaggleError";
  /** @internal Marks Waggle errors across duplicate package copies. */
  readonly [WAGGLE_ERROR] = true;
}

/** The names of Waggle's error classes, for {@link isWaggleError}. */
export type WaggleErrorName =
  | "WaggleError"
  | "SyscallError"
  | "PermissionError"
  | "VerifierError"
  | "NotSupportedError"
  | "FormatError"
  | "CoreRelocationError"
  | "ClosedError";

/**
 * Tells whether `error` is a Waggle error, optionally of a given class (subclasses count).
 *
 * @example
 * try { map.set(1, 2, { flags: "noexist" }); }
 * catch (e) { if (isWaggleError(e, "SyscallError") && e.code === "EEXIST") { … } }
 */
export function isWaggleError<N extends WaggleErrorName = "WaggleError">(
  error: unknown,
  name?: N,
): error is ErrorByName[N] {
  if (typeof error !== "object" || error === null || (error as Record<symbol, unknown>)[WAGGLE_ERROR] !== true) {
    return false;
  }
  if (name === undefined || name === "WaggleError") return true;
  const actual = (error as Error).name;
  return actual === name || (name === "SyscallError" && actual === "PermissionError");
}

interface ErrorByName {
  WaggleError: WaggleError;
  SyscallError: SyscallError;
  PermissionError: PermissionError;
  VerifierError: VerifierError;
  NotSupportedError: NotSupportedError;
  FormatError: FormatError;
  CoreRelocationError: CoreRelocationError;
  ClosedError: ClosedError;
}

/**
 * A system call failed. `op` is the bpf() command (`MAP_UPDATE_ELEM`) or the libc call (`mmap`),
 * `code` the errno's name. The message reads `MAP_UPDATE_ELEM: EEXIST (File exists)`, followed by
 * what was being done when it failed, if known.
 */
export class SyscallError extends WaggleError {
  override readonly name: string = "SyscallError";
  /** The errno's symbolic name, such as `EEXIST`. */
  readonly code: string;

  constructor(
    /** The operation that failed: a bpf() command name or a libc function name. */
    readonly op: string,
    /** The errno the kernel returned (positive). */
    readonly errno: number,
    /** What the operation was applied to, such as `map "counts"`. */
    readonly subject?: string,
    options?: ErrorOptions,
  ) {
    const code = errnoName(errno);
    super(`${op}: ${code} (${errnoMessage(errno)})${subject ? `: ${subject}` : ""}`, options);
    this.code = code;
  }
}

/** A system call failed because the process lacks a privilege; `privilege` names what is needed. */
export class PermissionError extends SyscallError {
  override readonly name: string = "PermissionError";

  constructor(
    op: string,
    errno: number,
    /** What is missing, such as `CAP_BPF` or `CAP_BPF and CAP_PERFMON`. */
    readonly privilege: string,
    subject?: string,
    options?: ErrorOptions,
  ) {
    super(op, errno, subject ? `${subject} (needs ${privilege})` : `needs ${privilege}`, options);
  }
}

/** A place in C source, from BTF line info. */
export interface SourceLocation {
  /** The file name as recorded by the compiler. */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column, 0 when unknown. */
  readonly column: number;
  /** The text of the line, as embedded in BTF. */
  readonly text: string;
}

/** The kernel's verifier rejected a program, or its BTF checker rejected BTF. */
export class VerifierError extends WaggleError {
  override readonly name: string = "VerifierError";
  /** The errno name the load failed with (usually EACCES or EINVAL). */
  readonly code: string;

  constructor(
    /** The program's name. */
    readonly program: string,
    /** The errno returned by BPF_PROG_LOAD. */
    readonly errno: number,
    /** The verifier log, possibly empty when the kernel wrote none. */
    readonly log: string,
    /** Where it failed: the instruction index (in the loaded program) and its C source line, when known. */
    readonly at: { readonly instruction?: number; readonly source?: SourceLocation } = {},
    /** True when the log was cut short because it outgrew the largest buffer. */
    readonly truncated = false,
    /** What was rejected: a program (checked by the verifier) or BTF (checked by the BTF checker). */
    readonly rejected: "program" | "BTF" = "program",
  ) {
    const where =
      at.instruction === undefined
        ? ""
        : ` at instruction ${at.instruction}` +
          (at.source ? ` (${at.source.file}:${at.source.line}: ${at.source.text.trim()})` : "");
    const reason = lastMeaningfulLine(log);
    const head =
      rejected === "BTF"
        ? `Cannot load BTF${program ? ` of "${program}"` : ""}: the kernel's BTF checker rejected it`
        : `Cannot load program "${program}": verifier rejected it`;
    super(`${head}${where}: ${reason || errnoName(errno)}`);
    this.code = errnoName(errno);
  }

  /** The failing instruction's index in the loaded program, if the log names one. */
  get instruction(): number | undefined {
    return this.at.instruction;
  }

  /** The C source line of the failing instruction, if the object carries line info. */
  get source(): SourceLocation | undefined {
    return this.at.source;
  }
}

/** The last line of a verifier log that states a reason (skipping the statistics footer). */
function lastMeaningfulLine(log: string): string {
  const lines = log.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (/^(processed \d+ insns|verification time|stack depth|max_states_per_insn|-- END PROG LOAD LOG --)/.test(line))
      continue;
    return line;
  }
  return "";
}

/** This kernel (or machine) lacks something Waggle needs; `feature` names it. */
export class NotSupportedError extends WaggleError {
  override readonly name: string = "NotSupportedError";

  constructor(
    /** The missing feature, such as `map type arena` or `helper bpf_loop in xdp programs`. */
    readonly feature: string,
    /** Why we believe it is missing (the probe's errno, a missing file…). */
    readonly reason?: string,
    options?: ErrorOptions,
  ) {
    super(`${feature} is not supported${reason ? `: ${reason}` : ""}`, options);
  }
}

/** Where in a file a format problem was found. */
export interface FormatLocation {
  /** The file name or a description of the source bytes. */
  readonly file?: string;
  /** The section the problem is in, such as `.maps` or `.BTF`. */
  readonly section?: string;
  /** The byte offset of the problem (within the section if `section` is set, else within the file). */
  readonly offset?: number;
}

/**
 * Bytes that cannot be parsed, or an object that describes something impossible.
 * The message reads `Cannot parse ELF "x.o": section header table is truncated (section ".text", offset 0x40)`.
 */
export class FormatError extends WaggleError {
  override readonly name: string = "FormatError";
  readonly file: string | undefined;
  readonly section: string | undefined;
  readonly offset: number | undefined;

  constructor(
    /** What kind of input: `ELF`, `BTF`, `BTF.ext`, `instructions`, `object`… */
    readonly format: string,
    /** What is wrong, in a short clause. */
    readonly what: string,
    where: FormatLocation = {},
    options?: ErrorOptions,
  ) {
    const place = [
      where.section !== undefined ? `section "${where.section}"` : "",
      where.offset !== undefined ? `offset 0x${where.offset.toString(16)}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    super(
      `Cannot parse ${format}${where.file !== undefined ? ` "${where.file}"` : ""}: ${what}${place ? ` (${place})` : ""}`,
      options,
    );
    this.file = where.file;
    this.section = where.section;
    this.offset = where.offset;
  }
}

/**
 * A CO-RE relocation cannot be applied: its record is malformed, several target types give different
 * answers (ambiguity), or the instruction does not hold what the compiler should have put there.
 * (A relocation that simply finds nothing poisons its instruction instead; see the CO-RE docs.)
 */
export class CoreRelocationError extends WaggleError {
  override readonly name: string = "CoreRelocationError";

  constructor(
    /** The program the instruction belongs to. */
    readonly program: string,
    /** The instruction's index in the program. */
    readonly instruction: number,
    /** Why the relocation failed. */
    readonly reason: string,
  ) {
    super(`Cannot apply CO-RE relocation in program "${program}" at instruction ${instruction}: ${reason}`);
  }
}

/** An fd owner or a view into kernel memory was used after it was closed. */
export class ClosedError extends WaggleError {
  override readonly name: string = "ClosedError";

  constructor(
    /** What was closed, such as `map "counts"`. */
    readonly subject: string,
  ) {
    super(`Cannot use ${subject}: it is closed`);
  }
}
