/**
 * When a local type may stand for a target type, in CO-RE's three senses:
 *
 * - compatible *types* (type relocations): same kind, pointers and arrays compatible in what they point
 *   to, function prototypes with compatible parameters; names are checked by the caller;
 * - compatible *fields* (field relocations): any two structs/unions, pointers, floats, integers (sizes
 *   and signedness ignored), enums or forward declarations of the same essential name, arrays of
 *   compatible elements;
 * - *matching* types (`bpf_core_type_matches`): a stricter, structural check — every local member must
 *   exist in the target with a matching type, integers of the same size and signedness, enums whose
 *   local enumerators all exist in the target.
 */

import type { Btf, BtfType, TypeId } from "../../btf/index.js";
import { essentialName } from "./names.js";

/** How deep type comparisons recurse before giving up (cycles, absurd nesting). */
const MAX_DEPTH = 32;

const isEnum = (t: BtfType) => t.kind === "enum" || t.kind === "enum64";
const isComposite = (t: BtfType) => t.kind === "struct" || t.kind === "union";

/** libbpf's "same kind, or both enums". */
export function kindsCompatible(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isEnum(a) && isEnum(b));
}

function resolved(btf: Btf, id: TypeId): BtfType {
  return btf.type(btf.resolve(id));
}

/** Compatibility for type-based relocations. */
export function typesAreCompatible(local: Btf, localId: TypeId, target: Btf, targetId: TypeId, level = MAX_DEPTH): boolean {
  if (!kindsCompatible(local.type(localId), target.type(targetId))) return false;
  let l = localId;
  let t = targetId;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const lt = resolved(local, l);
    const tt = resolved(target, t);
    if (!kindsCompatible(lt, tt)) return false;
    switch (lt.kind) {
      case "void":
      case "struct":
      case "union":
      case "enum":
      case "enum64":
      case "fwd":
        return true;
      case "int":
        return lt.bitOffset === 0 && tt.kind === "int" && tt.bitOffset === 0;
      case "ptr":
        l = lt.type;
        t = (tt as typeof lt).type;
        continue;
      case "array":
        l = lt.type;
        t = (tt as typeof lt).type;
        continue;
      case "func_proto": {
        const tp = tt as typeof lt;
        if (lt.params.length !== tp.params.length || level <= 0) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesAreCompatible(local, local.resolve(lt.params[i]!.type), target, target.resolve(tp.params[i]!.type), level - 1)) {
            return false;
          }
        }
        l = lt.returnType;
        t = tp.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

/** Compatibility for field-based relocations. */
export function fieldsAreCompatible(local: Btf, localId: TypeId, target: Btf, targetId: TypeId): boolean {
  let l = localId;
  let t = targetId;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const lt = resolved(local, l);
    const tt = resolved(target, t);
    if (isComposite(lt) && isComposite(tt)) return true;
    if (!kindsCompatible(lt, tt)) return false;
    switch (lt.kind) {
      case "ptr":
      case "float":
        return true;
      case "fwd":
      case "enum":
      case "enum64": {
        const a = essentialName(lt.name);
        const b = essentialName(tt.name);
        return a === "" || b === "" || a === b;
      }
      case "int":
        return lt.bitOffset === 0 && tt.kind === "int" && tt.bitOffset === 0;
      case "array":
        l = lt.type;
        t = (tt as typeof lt).type;
        continue;
      default:
        return false;
    }
  }
  return false;
}

/** Names equal without flavors; an anonymous target matches only an anonymous local. */
function namesMatch(a: string, b: string): boolean {
  if (b === "") return a === "";
  return essentialName(a) === essentialName(b);
}

/** The structural match of `bpf_core_type_matches()`. */
export function typesMatch(local: Btf, localId: TypeId, target: Btf, targetId: TypeId, behindPointer = false, level = MAX_DEPTH): boolean {
  if (level <= 0) return false;
  let l = localId;
  let t = targetId;
  let behind = behindPointer;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const lt = resolved(local, l);
    const tt = resolved(target, t);
    if (!namesMatch(lt.name, tt.name)) return false;
    switch (lt.kind) {
      case "void":
        return tt.kind === "void";
      case "fwd":
        if (behind) {
          if (tt.kind === "fwd") return lt.union === tt.union;
          return (tt.kind === "struct" && !lt.union) || (tt.kind === "union" && lt.union);
        }
        return tt.kind === "fwd" && lt.union === tt.union;
      case "enum":
      case "enum64": {
        if (!isEnum(tt) || lt.size !== (tt as typeof lt).size) return false;
        const targetValues = (tt as typeof lt).values;
        if (lt.values.length > targetValues.length) return false;
        return lt.values.every((v) => targetValues.some((w) => namesMatch(v.name, w.name)));
      }
      case "struct":
      case "union":
        if (behind) {
          if (tt.kind === lt.kind) return true;
          return tt.kind === "fwd" && (lt.kind === "union") === tt.union;
        }
        if (tt.kind !== lt.kind) return false;
        return compositesMatch(local, lt, target, tt, behind, level);
      case "int":
        return tt.kind === "int" && lt.size === tt.size && lt.signed === tt.signed;
      case "ptr":
        if (tt.kind !== "ptr") return false;
        behind = true;
        l = lt.type;
        t = tt.type;
        continue;
      case "array":
        if (tt.kind !== "array" || lt.nelems !== tt.nelems) return false;
        l = lt.type;
        t = tt.type;
        continue;
      case "func_proto": {
        if (tt.kind !== "func_proto" || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesMatch(local, lt.params[i]!.type, target, tt.params[i]!.type, behind, level - 1)) return false;
        }
        l = lt.returnType;
        t = tt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

function compositesMatch(
  local: Btf,
  lt: Extract<BtfType, { kind: "struct" | "union" }>,
  target: Btf,
  tt: Extract<BtfType, { kind: "struct" | "union" }>,
  behind: boolean,
  level: number,
): boolean {
  if (lt.members.length > tt.members.length) return false;
  return lt.members.every((lm) =>
    tt.members.some((tm) => namesMatch(lm.name, tm.name) && typesMatch(local, lm.type, target, tm.type, behind, level - 1)),
  );
}
