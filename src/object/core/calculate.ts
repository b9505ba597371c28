/**
 * The value a CO-RE relocation puts into its instruction, computed from a spec — once for the local
 * BTF (the value the compiler wrote, checked before patching) and once for the target (the new value).
 * A missing target spec means "not found": existence relocations then give 0, others poison.
 */

import { CoreReloKind } from "../../btf/index.js";
import type { Btf, TypeId } from "../../btf/index.js";
import { relocationFamily, skipModifiers, type CoreSpec } from "./core-spec.js";

/** A relocation's outcome for one side (local or target). */
export interface SideValue {
  /** The value; undefined asks for the instruction to be poisoned. */
  readonly value: bigint | undefined;
  /** The size in bytes a memory access to the field must use (0 when not a plain field access). */
  readonly fieldSize: number;
  /** The field's type (for deciding whether a memory-size change is safe). */
  readonly fieldType: TypeId;
  /** Whether the compiler's value must equal the local one (false for bitfields and type ids). */
  readonly validate: boolean;
}

const NONE = { fieldSize: 0, fieldType: 0, validate: true } as const;

/** The relocation value for `spec` (undefined: nothing matched). `littleEndian` is the target's byte order. */
export function calculate(kind: CoreReloKind, spec: CoreSpec | undefined, littleEndian: boolean): SideValue {
  switch (relocationFamily(kind)) {
    case "field":
      return fieldValue(kind, spec, littleEndian);
    case "type":
      return typeValue(kind, spec);
    case "enumval":
      return enumValue(kind, spec);
  }
}

function typeValue(kind: CoreReloKind, spec: CoreSpec | undefined): SideValue {
  if (!spec) return { ...NONE, value: 0n };
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
    case CoreReloKind.TYPE_ID_LOCAL:
      // Type ids can change when objects are linked: the compiler's value is not checked.
      return { ...NONE, value: BigInt(spec.rootId), validate: false };
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return { ...NONE, value: 1n };
    case CoreReloKind.TYPE_SIZE:
      return { ...NONE, value: BigInt(spec.btf.sizeof(spec.rootId)) };
    default:
      throw new Error(`relocation kind ${kind} is not a type relocation`);
  }
}

function enumValue(kind: CoreReloKind, spec: CoreSpec | undefined): SideValue {
  if (kind === CoreReloKind.ENUMVAL_EXISTS) return { ...NONE, value: spec ? 1n : 0n };
  if (!spec) return { ...NONE, value: undefined };
  const accessor = spec.accessors[0]!;
  const t = spec.btf.type(accessor.typeId);
  if (t.kind !== "enum" && t.kind !== "enum64") throw new Error("enum relocation resolved to a non-enum");
  const v = t.values[accessor.index]!.value;
  // Values are written as u64: negative enumerators wrap, as the kernel's C types do.
  return { ...NONE, value: BigInt.asUintN(64, BigInt(v)) };
}

function fieldValue(kind: CoreReloKind, spec: CoreSpec | undefined, littleEndian: boolean): SideValue {
  if (kind === CoreReloKind.FIELD_EXISTS) return { ...NONE, value: spec ? 1n : 0n };
  if (!spec) return { ...NONE, value: undefined };
  const btf = spec.btf;
  const last = spec.accessors[spec.accessors.length - 1]!;

  // The last step is an array index: the element is the field.
  if (last.name === undefined) {
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      const element = innermostElement(btf, last.typeId);
      return { value: BigInt(spec.bitOffset / 8), fieldSize: btf.sizeof(element), fieldType: last.typeId, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return { ...NONE, value: BigInt(btf.sizeof(last.typeId)) };
    throw new Error("this relocation kind cannot apply to an array element");
  }

  const holder = btf.type(last.typeId);
  if (holder.kind !== "struct" && holder.kind !== "union") throw new Error("field relocation on a non-composite");
  const member = holder.members[last.index]!;
  const { id: fieldTypeId, type: fieldType } = skipModifiers(btf, member.type);
  const bitOffset = spec.bitOffset;
  let bitSize = member.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOffset: number;
  if (bitfield) {
    // The smallest aligned integer load that covers the bitfield.
    byteSize = "size" in fieldType ? (fieldType.size as number) : 4;
    byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    while (bitOffset + bitSize - byteOffset * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new Error("the bitfield cannot be read with a 64-bit load");
      byteSize *= 2;
      byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = btf.sizeof(fieldTypeId);
    byteOffset = bitOffset / 8;
    bitSize = byteSize * 8;
  }

  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return bitfield
        ? { ...NONE, value: BigInt(byteOffset), validate: false }
        : { value: BigInt(byteOffset), fieldSize: btf.sizeof(innermostElement(btf, fieldTypeId)), fieldType: fieldTypeId, validate: true };
    case CoreReloKind.FIELD_BYTE_SIZE:
      return { ...NONE, value: BigInt(byteSize), validate: !bitfield };
    case CoreReloKind.FIELD_SIGNED: {
      const signed = (fieldType.kind === "enum" || fieldType.kind === "enum64") ? fieldType.signed : fieldType.kind === "int" && fieldType.signed;
      return { ...NONE, value: signed ? 1n : 0n };
    }
    case CoreReloKind.FIELD_LSHIFT_U64: {
      const shift = littleEndian ? 64 - (bitOffset + bitSize - byteOffset * 8) : (8 - byteSize) * 8 + (bitOffset - byteOffset * 8);
      return { ...NONE, value: BigInt(shift), validate: !bitfield };
    }
    case CoreReloKind.FIELD_RSHIFT_U64:
      return { ...NONE, value: BigInt(64 - bitSize) };
    default:
      throw new Error(`relocation kind ${kind} is not a field relocation`);
  }
}

/** The element type at the bottom of nested arrays (memory accesses load single elements). */
function innermostElement(btf: Btf, id: TypeId): TypeId {
  let current = skipModifiers(btf, id);
  while (current.type.kind === "array") current = skipModifiers(btf, current.type.type);
  return current.id;
}
