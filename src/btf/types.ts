/**
 * The BTF type model: one readonly interface per kind, discriminated on `kind`, with names resolved to
 * strings and references held as type ids. The parser produces these, the builder (`Btf.add`) and the
 * marshaller consume them, and the C printer reads them. They carry no string offsets, so a type can be
 * moved between `Btf` instances; the wire details (kind_flag, vlen, packed member offsets) are derived
 * from the fields when marshalling.
 */

/** A type's index in a BTF blob; 0 is `void`. Split BTF continues the ids of its base. */
export type TypeId = number;

/** Variable and function linkage (`BTF_VAR_*`, `BTF_FUNC_*`). */
export type BtfLinkage = "static" | "global" | "extern";

/** Type id 0: `void`, which has no record. */
export interface BtfVoid {
  readonly kind: "void";
  readonly name: "";
}

/** An integer (`BTF_KIND_INT`), possibly a bitfield storage unit in old-style BTF. */
export interface BtfInt {
  readonly kind: "int";
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  readonly signed: boolean;
  /** Meant to be printed as a character (pretty-printing only). */
  readonly char: boolean;
  readonly bool: boolean;
  /** BTF_INT_OFFSET: the value starts this many bits into the storage (0 from every current producer). */
  readonly bitOffset: number;
  /** BTF_INT_BITS: how many bits of the storage hold the value. */
  readonly bits: number;
}

/** A pointer. */
export interface BtfPtr {
  readonly kind: "ptr";
  readonly name: string;
  readonly type: TypeId;
}

/** An array; multidimensional arrays chain through `type`. */
export interface BtfArray {
  readonly kind: "array";
  readonly name: string;
  /** The element type. */
  readonly type: TypeId;
  /** The index type (an integer; unused beyond validation). */
  readonly indexType: TypeId;
  readonly nelems: number;
}

/** A struct or union member. */
export interface BtfMember {
  /** '' for an anonymous struct/union member or an unnamed bitfield. */
  readonly name: string;
  readonly type: TypeId;
  /** Offset from the start of the struct, in bits. */
  readonly bitOffset: number;
  /** The bitfield width in bits; 0 when the member is not a bitfield (or is an old-style one, see BtfInt). */
  readonly bitfieldSize: number;
}

/** A struct. */
export interface BtfStruct {
  readonly kind: "struct";
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  readonly members: readonly BtfMember[];
}

/** A union: a struct whose members overlap. */
export interface BtfUnion {
  readonly kind: "union";
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  readonly members: readonly BtfMember[];
}

/** An enumerator of a 32-bit enum. */
export interface BtfEnumValue {
  readonly name: string;
  /** The value, as signed or unsigned 32 bits according to the enum's `signed`. */
  readonly value: number;
}

/** An enum whose values fit in 32 bits (`BTF_KIND_ENUM`). */
export interface BtfEnum {
  readonly kind: "enum";
  readonly name: string;
  /** Size in bytes (1, 2, 4 or 8). */
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnumValue[];
}

/** An enumerator of a 64-bit enum. */
export interface BtfEnum64Value {
  readonly name: string;
  readonly value: bigint;
}

/** An enum with values beyond 32 bits (`BTF_KIND_ENUM64`). */
export interface BtfEnum64 {
  readonly kind: "enum64";
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly BtfEnum64Value[];
}

/** A forward declaration of a struct or union. */
export interface BtfFwd {
  readonly kind: "fwd";
  readonly name: string;
  /** True for `union x;`, false for `struct x;`. */
  readonly union: boolean;
}

/** A typedef. */
export interface BtfTypedef {
  readonly kind: "typedef";
  readonly name: string;
  readonly type: TypeId;
}

/** The `volatile` qualifier applied to `type`. */
export interface BtfVolatile {
  readonly kind: "volatile";
  readonly name: string;
  readonly type: TypeId;
}

/** The `const` qualifier applied to `type`. */
export interface BtfConst {
  readonly kind: "const";
  readonly name: string;
  readonly type: TypeId;
}

/** The `restrict` qualifier applied to `type`. */
export interface BtfRestrict {
  readonly kind: "restrict";
  readonly name: string;
  readonly type: TypeId;
}

/** A function (a subprogram, not a type); `type` is its FUNC_PROTO. */
export interface BtfFunc {
  readonly kind: "func";
  readonly name: string;
  readonly type: TypeId;
  readonly linkage: BtfLinkage;
}

/** A function parameter; a variadic prototype ends with `{ name: '', type: 0 }`. */
export interface BtfParam {
  readonly name: string;
  readonly type: TypeId;
}

/** A function prototype. */
export interface BtfFuncProto {
  readonly kind: "func_proto";
  readonly name: string;
  /** 0 for `void`. */
  readonly returnType: TypeId;
  readonly params: readonly BtfParam[];
}

/** A global or static variable. */
export interface BtfVar {
  readonly kind: "var";
  readonly name: string;
  readonly type: TypeId;
  readonly linkage: BtfLinkage;
}

/** A variable's place in a DATASEC. */
export interface BtfVarSecinfo {
  /** The VAR (or, for `.ksyms`, FUNC) type. */
  readonly type: TypeId;
  /** Byte offset within the section. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
}

/** An ELF data section (`.data`, `.bss`, `.rodata`, `.maps`, `.ksyms`…) and the variables in it. */
export interface BtfDatasec {
  readonly kind: "datasec";
  readonly name: string;
  /** Section size in bytes (0 from the compiler; loaders fill it in). */
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}

/** A floating-point type. */
export interface BtfFloat {
  readonly kind: "float";
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
}

/** A `btf_decl_tag("name")` on a declaration or one of its members/parameters. */
export interface BtfDeclTag {
  readonly kind: "decl_tag";
  /** The tag's text. */
  readonly name: string;
  /** The tagged struct, union, typedef, func or var. */
  readonly type: TypeId;
  /** The tagged member or parameter's index; -1 when the declaration itself is tagged. */
  readonly componentIdx: number;
  /** kind_flag: the tag is a C attribute (`__attribute__((name))`) rather than a btf_decl_tag; absent means false. */
  readonly attribute?: boolean;
}

/** A `btf_type_tag("name")` on the type `type`, as in `int __tag *p`. */
export interface BtfTypeTag {
  readonly kind: "type_tag";
  /** The tag's text. */
  readonly name: string;
  readonly type: TypeId;
  /** kind_flag: the tag is a C attribute (`__attribute__((name))`) rather than a btf_type_tag; absent means false. */
  readonly attribute?: boolean;
}

/** Any BTF type, discriminated on `kind`. */
export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfPtr
  | BtfArray
  | BtfStruct
  | BtfUnion
  | BtfEnum
  | BtfFwd
  | BtfTypedef
  | BtfVolatile
  | BtfConst
  | BtfRestrict
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfTypeTag
  | BtfEnum64;

/** The void type, shared by every `Btf` as type id 0. */
export const VOID: BtfVoid = Object.freeze({ kind: "void", name: "" });
