/**
 * Rewriting BTF for kernels that predate some of its kinds, as libbpf does before `BPF_BTF_LOAD`: each
 * kind the kernel lacks becomes a kind it has, one record for another, so every type id keeps its meaning
 * (func info, line info, CO-RE relocations and map key/value ids still point where they did) and every
 * sized type keeps its size. Strings are only ever appended, so .BTF.ext string offsets stay valid too.
 *
 * What the kernel supports comes in as a `BtfSupport` record (see `btfSupport()` in the features layer,
 * which probes for it); this module is a pure function of the types and that record.
 */

import { FormatError } from "../errors.js";
import { Btf } from "./btf.js";
import { marshalBtf } from "./marshal-btf.js";
import type { BtfDatasec, BtfInt, BtfMember, BtfStruct, BtfType, TypeId } from "./types.js";

/** Which BTF features a kernel accepts; `sanitizeBtf` rewrites whatever is false. */
export interface BtfSupport {
  /** FUNC and FUNC_PROTO (Linux 5.0). */
  readonly funcs: boolean;
  /** FUNC with global (or extern) linkage rather than static (Linux 5.6). */
  readonly funcLinkage: boolean;
  /** VAR and DATASEC (Linux 5.2). */
  readonly datasec: boolean;
  /** DATASEC names starting with `?`, as libbpf names optional sections. */
  readonly qmarkDatasec: boolean;
  /** FLOAT (Linux 5.13). */
  readonly float: boolean;
  /** DECL_TAG (Linux 5.16). */
  readonly declTag: boolean;
  /** TYPE_TAG (Linux 5.17). */
  readonly typeTag: boolean;
  /** ENUM64, and signed ENUM (kind_flag), which came with it (Linux 6.0). */
  readonly enum64: boolean;
}

/** The name of the INT that the members of a rewritten ENUM64 have as their type (libbpf's name). */
const ENUM64_PLACEHOLDER = "enum64_placeholder";

/** FUNC_PROTO becomes an ENUM of this size: the only one kernels without FUNC accept. */
const ENUM_SIZE = 4;

const BITS_PER_BYTE = 8;
const U32_MAX = 0xffff_ffff;

/**
 * `btf` rewritten so that a kernel with `support` accepts it: a new `Btf`, or `btf` itself when nothing
 * needs rewriting. The input's types are never modified (though marshalling a built `Btf` adds its names
 * to its strings, as `marshalBtf` always does). Only own types are rewritten: split BTF keeps its base.
 * Expects DATASEC sizes and offsets already set from the ELF, as `ObjectSpec` does.
 *
 * | kind | when | becomes |
 * |---|---|---|
 * | VAR | `!datasec` | INT named like the variable, 1 byte, 8 bits, no encoding |
 * | DATASEC | `!datasec` | STRUCT of the same size, one member per variable at its offset; `.` and `?` in the name become `_` |
 * | DATASEC named `?…` | `!qmarkDatasec` | the same, with the `?` replaced by `_` |
 * | FUNC_PROTO | `!funcs` | anonymous 4-byte ENUM, one enumerator per parameter (value: its type id) |
 * | FUNC | `!funcs` | TYPEDEF of the same name and prototype |
 * | FUNC, global or extern | `!funcLinkage` | FUNC with static linkage |
 * | FLOAT | `!float` | anonymous STRUCT of the same size, no members |
 * | DECL_TAG | `!declTag`, or its FUNC or VAR is rewritten | INT named like the tag, 1 byte, 8 bits |
 * | TYPE_TAG | `!typeTag` | anonymous CONST of the same type |
 * | ENUM64 | `!enum64` | UNION of the same name and size, one member per enumerator, each an added 1-byte INT |
 * | signed ENUM | `!enum64` | unsigned ENUM with the same bits |
 *
 * @throws {FormatError} when a type's record is corrupt, or a DATASEC variable lies beyond what a struct
 *   member's bit offset can express
 * @throws {RangeError} when `btf` holds built types that cannot be marshalled (see `marshalBtf`)
 * @example
 * const kernelBtf = sanitizeBtf(spec.btf, btfSupport());
 * btfLoad(marshalBtf(kernelBtf));
 */
export function sanitizeBtf(btf: Btf, support: BtfSupport): Btf {
  const placeholder = btf.lastId + 1;
  const changes = new Map<TypeId, BtfType>();
  for (const kind of rewrittenKinds(support)) {
    for (const id of btf.idsOfKind(kind)) {
      const replacement = rewrite(btf, id, support, placeholder);
      if (replacement !== undefined) changes.set(id, replacement);
    }
  }
  if (changes.size === 0) return btf;

  // A copy of the input to edit: parsing its bytes is lazy, so only the rewritten records get decoded.
  const out = Btf.parse(marshalBtf(btf), { file: btf.file, base: btf.base });
  for (const [id, type] of changes) out.set(id, type);
  if (!support.enum64 && btf.idsOfKind("enum64").length > 0) out.add(byteInt(ENUM64_PLACEHOLDER));
  return out;
}

/** The kinds some rule rewrites under `support`. */
function rewrittenKinds(support: BtfSupport): BtfType["kind"][] {
  const kinds: BtfType["kind"][] = [];
  if (!support.datasec) kinds.push("var", "datasec");
  else if (!support.qmarkDatasec) kinds.push("datasec");
  if (!support.funcs) kinds.push("func_proto", "func");
  else if (!support.funcLinkage) kinds.push("func");
  if (!support.float) kinds.push("float");
  if (!support.declTag || !support.funcs || !support.datasec) kinds.push("decl_tag");
  if (!support.typeTag) kinds.push("type_tag");
  if (!support.enum64) kinds.push("enum", "enum64");
  return kinds;
}

/** What type `id` becomes, or undefined when it stays as it is. */
function rewrite(btf: Btf, id: TypeId, support: BtfSupport, placeholder: TypeId): BtfType | undefined {
  const type = btf.type(id);
  switch (type.kind) {
    case "var":
      // 1 byte is the safest size: a larger one could exceed a small variable's place in its section.
      return byteInt(type.name);
    case "decl_tag": {
      // A tag must go with its target when that becomes a kind the kernel does not let it tag.
      const target = btf.type(type.type).kind;
      const orphaned = (!support.funcs && target === "func") || (!support.datasec && target === "var");
      return !support.declTag || orphaned ? byteInt(type.name) : undefined;
    }
    case "datasec":
      if (!support.datasec) return datasecStruct(btf, id, type);
      return type.name.startsWith("?") ? { ...type, name: `_${type.name.slice(1)}` } : undefined;
    case "func_proto":
      return {
        kind: "enum",
        name: type.name,
        size: ENUM_SIZE,
        signed: false,
        // Kernels with FUNC check that enumerators have names; those without never see a name-less one.
        values: type.params.map((p, index) => ({ name: p.name === "" ? `arg${index}` : p.name, value: p.type })),
      };
    case "func":
      if (!support.funcs) return { kind: "typedef", name: type.name, type: type.type };
      return type.linkage === "static" ? undefined : { ...type, linkage: "static" };
    case "float":
      // Anonymous, because no C compiler accepts a struct named "float" in a dumped header.
      return { kind: "struct", name: "", size: type.size, members: [] };
    case "type_tag":
      return { kind: "const", name: "", type: type.type };
    case "enum":
      return type.signed ? { ...type, signed: false, values: type.values.map((v) => ({ ...v, value: v.value >>> 0 })) } : undefined;
    case "enum64":
      return {
        kind: "union",
        name: type.name,
        size: type.size,
        members: type.values.map((v): BtfMember => ({ name: v.name, type: placeholder, bitOffset: 0, bitfieldSize: 0 })),
      };
    case "void":
    case "int":
    case "ptr":
    case "array":
    case "struct":
    case "union":
    case "fwd":
    case "typedef":
    case "volatile":
    case "const":
    case "restrict":
      return undefined;
  }
}

/** The STRUCT standing for a DATASEC: members named like its variables, at their offsets. */
function datasecStruct(btf: Btf, id: TypeId, type: BtfDatasec): BtfStruct {
  const members = type.vars.map((v): BtfMember => {
    const bitOffset = v.offset * BITS_PER_BYTE;
    if (bitOffset > U32_MAX) {
      throw new FormatError("BTF", `DATASEC ${type.name} [${id}] has a variable at byte ${v.offset}, beyond a struct member's reach`, {
        file: btf.file,
        section: ".BTF",
      });
    }
    return { name: btf.type(v.type).name, type: v.type, bitOffset, bitfieldSize: 0 };
  });
  // Older kernels check struct names as C identifiers.
  return { kind: "struct", name: type.name.replace(/[.?]/g, "_"), size: type.size, members };
}

/** A 1-byte, 8-bit INT without encoding: what libbpf turns VAR and DECL_TAG into. */
function byteInt(name: string): BtfInt {
  return { kind: "int", name, size: 1, signed: false, char: false, bool: false, bitOffset: 0, bits: 8 };
}
