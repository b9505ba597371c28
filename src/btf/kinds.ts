/**
 * The fixed facts of the BTF wire format: the magic, the version, the kind numbers and the sizes of the
 * records that follow each `struct btf_type` (from `include/uapi/linux/btf.h`). The parser, the marshaller
 * and the .BTF.ext codec share them; nothing here depends on a particular blob.
 */

import type { BtfType } from "./types.js";

/** The first two bytes of a BTF blob (and of .BTF.ext), read in the blob's own byte order. */
export const BTF_MAGIC = 0xeb9f;

/** The only BTF (and .BTF.ext) version there is. */
export const BTF_VERSION = 1;

/** The kind numbers of `struct btf_type`'s `info` bits 24–28. */
export const BTF_KIND = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

/** A kind that has a number on the wire: every kind but `void`, which is only ever type id 0. */
export type EncodedKind = Exclude<BtfType["kind"], "void">;

const KIND_NUMBERS: Readonly<Record<EncodedKind, number>> = {
  int: BTF_KIND.INT,
  ptr: BTF_KIND.PTR,
  array: BTF_KIND.ARRAY,
  struct: BTF_KIND.STRUCT,
  union: BTF_KIND.UNION,
  enum: BTF_KIND.ENUM,
  fwd: BTF_KIND.FWD,
  typedef: BTF_KIND.TYPEDEF,
  volatile: BTF_KIND.VOLATILE,
  const: BTF_KIND.CONST,
  restrict: BTF_KIND.RESTRICT,
  func: BTF_KIND.FUNC,
  func_proto: BTF_KIND.FUNC_PROTO,
  var: BTF_KIND.VAR,
  datasec: BTF_KIND.DATASEC,
  float: BTF_KIND.FLOAT,
  decl_tag: BTF_KIND.DECL_TAG,
  type_tag: BTF_KIND.TYPE_TAG,
  enum64: BTF_KIND.ENUM64,
};

/** The model's kind names indexed by kind number; index 0 (`BTF_KIND_UNKN`) is undefined. */
export const KIND_NAMES: readonly (EncodedKind | undefined)[] = (() => {
  const names: (EncodedKind | undefined)[] = [];
  for (const [name, number] of Object.entries(KIND_NUMBERS)) names[number] = name as EncodedKind;
  return names;
})();

/**
 * The wire number of a kind, such as `btfKindNumber("struct") === BTF_KIND.STRUCT`.
 *
 * @throws {RangeError} for `"void"`, which has no number: it is type id 0, never a record
 */
export function btfKindNumber(kind: BtfType["kind"]): number {
  if (kind === "void") throw new RangeError('Cannot number BTF kind "void": it is type id 0, not a record');
  return KIND_NUMBERS[kind];
}

/** `sizeof(struct btf_header)`: the smallest valid `hdr_len`. */
export const BTF_HEADER_SIZE = 24;

/** `sizeof(struct btf_type)`: the part every type record starts with. */
export const BTF_TYPE_SIZE = 12;

/** The INT trailer: one u32 of encoding, bit offset and bit count. */
export const INT_INFO_SIZE = 4;
/** The ARRAY trailer: `struct btf_array` (element type, index type, count). */
export const ARRAY_INFO_SIZE = 12;
/** The VAR trailer: `struct btf_var` (linkage). */
export const VAR_INFO_SIZE = 4;
/** The DECL_TAG trailer: `struct btf_decl_tag` (component index). */
export const DECL_TAG_INFO_SIZE = 4;

/** `sizeof(struct btf_member)`, one per struct/union member. */
export const MEMBER_SIZE = 12;
/** `sizeof(struct btf_enum)`, one per 32-bit enumerator. */
export const ENUM_VALUE_SIZE = 8;
/** `sizeof(struct btf_param)`, one per function parameter. */
export const PARAM_SIZE = 8;
/** `sizeof(struct btf_var_secinfo)`, one per DATASEC variable. */
export const SECINFO_SIZE = 12;
/** `sizeof(struct btf_enum64)`, one per 64-bit enumerator. */
export const ENUM64_VALUE_SIZE = 12;

/** `info` bits 0–15: vlen, the number of trailing entries (FUNC keeps its linkage there). */
export const INFO_VLEN_MASK = 0xffff;
/** `info` bits 24–28: the kind. */
export const INFO_KIND_SHIFT = 24;
/** The kind's width in `info`. */
export const INFO_KIND_MASK = 0x1f;
/** `info` bit 31: kind_flag. */
export const INFO_KIND_FLAG = 0x8000_0000;
/** `info` bits 16–23 and 29–30, which must be zero. */
export const INFO_RESERVED_MASK = 0x60ff_0000;

/** BTF_INT_SIGNED, in the INT trailer's encoding field. */
export const INT_SIGNED = 1 << 0;
/** BTF_INT_CHAR: print as a character. */
export const INT_CHAR = 1 << 1;
/** BTF_INT_BOOL: print as a boolean. */
export const INT_BOOL = 1 << 2;
/** The INT trailer's encoding field is bits 24–27. */
export const INT_ENCODING_SHIFT = 24;
/** The INT trailer's bit offset is bits 16–23. */
export const INT_OFFSET_SHIFT = 16;
/** The INT trailer's bit count is bits 0–7. */
export const INT_BITS_MASK = 0xff;
/** INT trailer bits that no version of the format uses (8–15, encoding bit 3, and 28–31). */
export const INT_RESERVED_MASK = 0xf000_ff00 | (0x8 << INT_ENCODING_SHIFT);
/** The widest integer BTF can describe (`unsigned __int128`). */
export const INT_MAX_BITS = 128;

/** With kind_flag set, a member's `offset` holds the bitfield size in bits 24–31… */
export const BITFIELD_SIZE_SHIFT = 24;
/** …and the bit offset in bits 0–23. */
export const BITFIELD_OFFSET_MASK = 0xff_ffff;
/** The widest bitfield that encoding can hold. */
export const BITFIELD_MAX_SIZE = 0xff;

/** Linkage values of FUNC (in vlen) and VAR (in `btf_var.linkage`). */
export const LINKAGES = ["static", "global", "extern"] as const;

/** The largest `vlen`: the number of members, values, params or section variables. */
export const BTF_MAX_VLEN = 0xffff;

/** The size of a pointer on every BPF target. */
export const BPF_POINTER_SIZE = 8;
