/**
 * The model of a `.BTF.ext` section: per ELF code section, the func info (which instruction starts which
 * FUNC), the line info (which instruction comes from which source line) and the CO-RE relocations
 * (which instruction accesses which field of which type). Offsets are byte offsets within the code
 * section, as in the object file; the kernel wants instruction indexes, which the loader computes.
 * Strings are resolved through the `Btf` of the `.BTF` section, whose string section .BTF.ext shares.
 */

import type { TypeId } from "./types.js";

/** `bpf_func_info`: a function starts at `insnOff`. */
export interface FuncInfoRecord {
  /** Byte offset of the function's first instruction within its section. */
  readonly insnOff: number;
  /** The FUNC type describing the function. */
  readonly typeId: TypeId;
}

/** `bpf_line_info`: the instruction at `insnOff` comes from this source line. */
export interface LineInfoRecord {
  /** Byte offset of the instruction within its section. */
  readonly insnOff: number;
  /** The raw string offset of the file name. */
  readonly fileNameOff: number;
  /** The raw string offset of the source line's text. */
  readonly lineOff: number;
  /** The file name, as the compiler recorded it. */
  readonly fileName: string;
  /** The text of the source line. */
  readonly line: string;
  /** The 1-based line number (`line_col >> 10`). */
  readonly lineNumber: number;
  /** The 1-based column, 0 when unknown (`line_col & 0x3ff`). */
  readonly column: number;
}

/** What a CO-RE relocation computes (`enum bpf_core_relo_kind`). */
export enum CoreReloKind {
  /** The field's byte offset. */
  FIELD_BYTE_OFFSET = 0,
  /** The field's size in bytes. */
  FIELD_BYTE_SIZE = 1,
  /** Whether the field exists (1 or 0). */
  FIELD_EXISTS = 2,
  /** Whether the field is signed. */
  FIELD_SIGNED = 3,
  /** The left shift that isolates a bitfield in a u64. */
  FIELD_LSHIFT_U64 = 4,
  /** The right shift that isolates a bitfield in a u64. */
  FIELD_RSHIFT_U64 = 5,
  /** The type's id in the program's own BTF. */
  TYPE_ID_LOCAL = 6,
  /** The type's id in the target (kernel) BTF. */
  TYPE_ID_TARGET = 7,
  /** Whether the type exists in the target. */
  TYPE_EXISTS = 8,
  /** The type's size in the target. */
  TYPE_SIZE = 9,
  /** Whether the enumerator exists in the target. */
  ENUMVAL_EXISTS = 10,
  /** The enumerator's value in the target. */
  ENUMVAL_VALUE = 11,
  /** Whether the target type matches the local one (`bpf_core_type_matches`). */
  TYPE_MATCHES = 12,
}

/** `bpf_core_relo`: the instruction at `insnOff` needs a value computed against the target's types. */
export interface CoreReloRecord {
  /** Byte offset of the instruction within its section. */
  readonly insnOff: number;
  /** The local root type of the access. */
  readonly typeId: TypeId;
  /** The raw string offset of the access string. */
  readonly accessStrOff: number;
  /** The access string: member/element indexes such as `0:1:2`, or an enumerator index. */
  readonly accessStr: string;
  readonly kind: CoreReloKind;
}

/** A parsed `.BTF.ext` section, keyed by ELF section name in the order of the file. */
export interface BtfExt {
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfoRecord[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfoRecord[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreReloRecord[]>;
}

/** `sizeof(struct btf_ext_header)` without the CO-RE fields: the oldest header. */
export const BTF_EXT_HEADER_MIN_SIZE = 24;
/** `sizeof(struct btf_ext_header)` with the CO-RE fields, as clang writes it. */
export const BTF_EXT_HEADER_SIZE = 32;

/** `sizeof(struct bpf_func_info)`; files may use larger records. */
export const FUNC_INFO_RECORD_SIZE = 8;
/** `sizeof(struct bpf_line_info)`; files may use larger records. */
export const LINE_INFO_RECORD_SIZE = 16;
/** `sizeof(struct bpf_core_relo)`; files may use larger records. */
export const CORE_RELO_RECORD_SIZE = 16;

/** `line_col` holds the line number above… */
export const LINE_NUMBER_SHIFT = 10;
/** …the 10-bit column. */
export const COLUMN_MASK = 0x3ff;

/** Instruction offsets are byte offsets of 8-byte instructions. */
export const INSTRUCTION_SIZE = 8;
