/**
 * CO-RE access specs: what a relocation record says the program touches, resolved against one BTF.
 *
 * A record names a root type and an access string such as `0:1:2:3` — an array index into the root
 * (pointer) type, then member or array indexes down to the field. Parsing it against the object's own
 * BTF gives the local spec: every step ("raw" indexes), the meaningful ones ("accessors": named members,
 * array indexes, or the enumerator for enum relocations), and the field's bit offset. Matching finds the
 * same path in a candidate target type by member *names*, which is how one object fits many kernels.
 */

import type { Btf, BtfMember, BtfType, TypeId } from "../../btf/index.js";
import { CoreReloKind } from "../../btf/index.js";
import { essentialName } from "./names.js";
import { fieldsAreCompatible, typesAreCompatible, typesMatch } from "./compat.js";

/** One meaningful step of an access path. */
export interface Accessor {
  /** The struct/union holding the member, the array element type, or the enum. */
  readonly typeId: TypeId;
  /** Member index, array index or enumerator index. */
  readonly index: number;
  /** The member's or enumerator's name; undefined for array indexes. */
  readonly name?: string;
}

/** An access path resolved against one BTF. */
export interface CoreSpec {
  readonly btf: Btf;
  readonly rootId: TypeId;
  readonly kind: CoreReloKind;
  readonly accessors: Accessor[];
  /** Every index of the path, including anonymous members traversed. */
  readonly raw: number[];
  /** The field's offset in bits from the start of the root. */
  bitOffset: number;
}

/** The deepest path libbpf accepts. */
const MAX_SPEC_LENGTH = 64;

/** What kind of relocation a record is: about a field, a type, or an enum value. */
export function relocationFamily(kind: CoreReloKind): "field" | "type" | "enumval" {
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
    case CoreReloKind.FIELD_BYTE_SIZE:
    case CoreReloKind.FIELD_EXISTS:
    case CoreReloKind.FIELD_SIGNED:
    case CoreReloKind.FIELD_LSHIFT_U64:
    case CoreReloKind.FIELD_RSHIFT_U64:
      return "field";
    case CoreReloKind.TYPE_ID_LOCAL:
    case CoreReloKind.TYPE_ID_TARGET:
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
    case CoreReloKind.TYPE_SIZE:
      return "type";
    case CoreReloKind.ENUMVAL_EXISTS:
    case CoreReloKind.ENUMVAL_VALUE:
      return "enumval";
  }
}

/** The type reached from `id` by skipping modifiers and typedefs, with its id. */
export function skipModifiers(btf: Btf, id: TypeId): { id: TypeId; type: BtfType } {
  const resolved = btf.resolve(id);
  return { id: resolved, type: btf.type(resolved) };
}

/** Parses a record's access string against the object's BTF. Throws Error with a reason when invalid. */
export function parseSpec(btf: Btf, rootId: TypeId, access: string, kind: CoreReloKind): CoreSpec {
  if (access === "" || access.startsWith(":")) throw new Error(`access string "${access}" is malformed`);
  const spec: CoreSpec = { btf, rootId, kind, accessors: [], raw: [], bitOffset: 0 };
  const family = relocationFamily(kind);
  if (family === "type") {
    if (access !== "0") throw new Error(`type relocations take access string "0", not "${access}"`);
    return spec;
  }
  for (const part of access.split(":")) {
    if (!/^\d+$/.test(part)) throw new Error(`access string "${access}" is malformed`);
    if (spec.raw.length === MAX_SPEC_LENGTH) throw new Error(`access string "${access}" is too deep`);
    spec.raw.push(Number(part));
  }

  let { id, type } = skipModifiers(btf, rootId);
  const first = spec.raw[0]!;
  if (family === "enumval") {
    if ((type.kind !== "enum" && type.kind !== "enum64") || spec.raw.length > 1 || first >= type.values.length) {
      throw new Error(`enum relocation "${access}" does not name an enumerator of type [${rootId}]`);
    }
    spec.accessors.push({ typeId: id, index: first, name: type.values[first]!.name });
    return spec;
  }

  spec.accessors.push({ typeId: id, index: first });
  spec.bitOffset = first * btf.sizeof(id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    ({ id, type } = skipModifiers(btf, id));
    const index = spec.raw[i]!;
    if (type.kind === "struct" || type.kind === "union") {
      const member = type.members[index];
      if (!member) throw new Error(`member #${index} of [${id}] does not exist`);
      spec.bitOffset += member.bitOffset;
      if (member.name !== "") spec.accessors.push({ typeId: id, index, name: member.name });
      id = member.type;
    } else if (type.kind === "array") {
      const element = skipModifiers(btf, type.type);
      const flexible = isFlexibleArray(btf, spec.accessors[spec.accessors.length - 1], type.nelems);
      if (!flexible && index >= type.nelems) throw new Error(`index ${index} is outside array [${id}] of ${type.nelems}`);
      spec.accessors.push({ typeId: element.id, index });
      spec.bitOffset += index * btf.sizeof(element.id) * 8;
      id = element.id;
    } else {
      throw new Error(`step ${i} of "${access}" reaches type [${id}] (${type.kind}), which has no members or elements`);
    }
  }
  return spec;
}

/** An array with no elements as the last member of its struct (`char data[]`). */
function isFlexibleArray(btf: Btf, holder: Accessor | undefined, nelems: number): boolean {
  if (!holder?.name || nelems > 0) return false;
  const t = btf.type(holder.typeId);
  return (t.kind === "struct" || t.kind === "union") && holder.index === t.members.length - 1;
}

/**
 * Matches a local spec against candidate `targetId` in `target`. Returns the target spec, or undefined
 * when the candidate does not have the path (a different type with the same name).
 */
export function matchSpec(local: CoreSpec, target: Btf, targetId: TypeId): CoreSpec | undefined {
  const spec: CoreSpec = { btf: target, rootId: targetId, kind: local.kind, accessors: [], raw: [], bitOffset: 0 };
  const family = relocationFamily(local.kind);
  if (family === "type") {
    const ok =
      local.kind === CoreReloKind.TYPE_MATCHES
        ? typesMatch(local.btf, local.rootId, target, targetId)
        : typesAreCompatible(local.btf, local.rootId, target, targetId);
    return ok ? spec : undefined;
  }
  if (family === "enumval") {
    const { id, type } = skipModifiers(target, targetId);
    if (type.kind !== "enum" && type.kind !== "enum64") return undefined;
    const wanted = essentialName(local.accessors[0]!.name!);
    const index = type.values.findIndex((v) => essentialName(v.name) === wanted);
    if (index === -1) return undefined;
    spec.accessors.push({ typeId: id, index, name: type.values[index]!.name });
    spec.raw.push(index);
    return spec;
  }

  let id = targetId;
  for (let i = 0; i < local.accessors.length; i++) {
    const accessor = local.accessors[i]!;
    const resolved = skipModifiers(target, id);
    id = resolved.id;
    if (accessor.name !== undefined) {
      const next = matchMember(local, accessor, target, id, spec);
      if (next === undefined) return undefined;
      id = next;
      continue;
    }
    // An array index: the first one indexes the root itself; later ones need an array here.
    if (i > 0) {
      const t = resolved.type;
      if (t.kind !== "array") return undefined;
      const flexible = isFlexibleArray(target, spec.accessors[spec.accessors.length - 1], t.nelems);
      if (!flexible && accessor.index >= t.nelems) return undefined;
      id = skipModifiers(target, t.type).id;
    }
    if (spec.raw.length === MAX_SPEC_LENGTH) throw new Error("target access path is too deep");
    spec.accessors.push({ typeId: id, index: accessor.index });
    spec.raw.push(accessor.index);
    spec.bitOffset += accessor.index * target.sizeof(id) * 8;
  }
  return spec;
}

/**
 * Finds the member named like `accessor` in struct/union `id` of the target, searching anonymous
 * members depth-first, extends `spec` with the path to it, and returns the member's type id — or
 * undefined when there is no such member with a compatible type.
 */
function matchMember(local: CoreSpec, accessor: Accessor, target: Btf, id: TypeId, spec: CoreSpec): TypeId | undefined {
  const t = skipModifiers(target, id).type;
  if (t.kind !== "struct" && t.kind !== "union") return undefined;
  const localHolder = local.btf.type(accessor.typeId) as { members: readonly BtfMember[] };
  const localMember = localHolder.members[accessor.index]!;
  for (let i = 0; i < t.members.length; i++) {
    const member = t.members[i]!;
    if (spec.raw.length === MAX_SPEC_LENGTH) throw new Error("target access path is too deep");
    spec.bitOffset += member.bitOffset;
    spec.raw.push(i);
    if (member.name === "") {
      const found = matchMember(local, accessor, target, member.type, spec);
      if (found !== undefined) return found;
    } else if (member.name === localMember.name) {
      if (!fieldsAreCompatible(local.btf, localMember.type, target, member.type)) return undefined;
      spec.accessors.push({ typeId: skipModifiers(target, id).id, index: i, name: member.name });
      return member.type;
    }
    spec.bitOffset -= member.bitOffset;
    spec.raw.pop();
  }
  return undefined;
}
