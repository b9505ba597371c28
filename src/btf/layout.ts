/**
 * C layout facts computed from BTF: skipping qualifiers (`resolveType`), `sizeof` and `_Alignof`, with the
 * BPF target's rules (pointers and `long` are 8 bytes; nothing is aligned beyond 8). `Btf.resolve`,
 * `Btf.sizeof` and `Btf.alignof` delegate here. Type graphs from the input may be cyclic or absurdly deep,
 * so every walk is bounded and turns such graphs into a `FormatError`.
 */

import { FormatError } from "../errors.js";
import { BPF_POINTER_SIZE } from "./kinds.js";
import type { BtfType, TypeId } from "./types.js";

/** What the layout functions need from a `Btf`. */
export interface TypeSource {
  type(id: TypeId): BtfType;
  readonly file: string | undefined;
}

/**
 * The longest chain of references (qualifiers, typedefs, array elements, nested structs) followed before
 * the graph is declared cyclic: far deeper than any real C type (libbpf gives up at 32), shallow enough
 * that the recursion in `alignOf` cannot exhaust the stack.
 */
export const MAX_TYPE_DEPTH = 128;

/** The largest size BTF can express: sizes are u32. */
const MAX_SIZE = 0xffff_ffff;

function layoutError(source: TypeSource, what: string): FormatError {
  return new FormatError("BTF", what, { file: source.file, section: ".BTF" });
}

/** The id reached from `id` by skipping typedef, volatile, const, restrict and type_tag. */
export function resolveType(source: TypeSource, id: TypeId): TypeId {
  let current = id;
  for (let depth = 0; depth <= MAX_TYPE_DEPTH; depth++) {
    const type = source.type(current);
    switch (type.kind) {
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        current = type.type;
        break;
      default:
        return current;
    }
  }
  throw layoutError(source, `type [${id}] is a qualifier chain longer than ${MAX_TYPE_DEPTH} (a cycle?)`);
}

/** `sizeof` the type `id` in bytes; VAR gives its variable's size. */
export function sizeOf(source: TypeSource, id: TypeId): number {
  let count = 1;
  let current = id;
  for (let depth = 0; depth <= MAX_TYPE_DEPTH; depth++) {
    const type = source.type(current);
    switch (type.kind) {
      case "int":
      case "enum":
      case "enum64":
      case "struct":
      case "union":
      case "float":
      case "datasec":
        return checkedSize(source, id, count * type.size);
      case "ptr":
        return checkedSize(source, id, count * BPF_POINTER_SIZE);
      case "array":
        count *= type.nelems;
        current = type.type;
        break;
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
      case "var":
        current = type.type;
        break;
      case "void":
      case "fwd":
      case "func":
      case "func_proto":
      case "decl_tag":
        throw layoutError(source, `type [${current}] (${type.kind}) has no size`);
    }
  }
  throw layoutError(source, `type [${id}] nests deeper than ${MAX_TYPE_DEPTH} (a cycle?)`);
}

function checkedSize(source: TypeSource, id: TypeId, size: number): number {
  if (!(size <= MAX_SIZE)) throw layoutError(source, `the size of type [${id}] does not fit in 32 bits`);
  return size;
}

/**
 * `_Alignof` the type `id`. A struct or union is aligned to its most aligned member, unless its layout
 * shows it is packed (a member off its natural alignment, or a size that is not a multiple of it): then 1.
 */
export function alignOf(source: TypeSource, id: TypeId): number {
  // Each struct's alignment is computed once per call (0 marks one in progress, to catch cycles), which
  // keeps the walk linear in the number of types even when the same struct is reached many times.
  const structs = new Map<TypeId, number>();

  const align = (current: TypeId, depth: number): number => {
    if (depth > MAX_TYPE_DEPTH) throw layoutError(source, `type [${id}] nests deeper than ${MAX_TYPE_DEPTH}`);
    const type = source.type(current);
    switch (type.kind) {
      case "int":
      case "enum":
      case "enum64":
      case "float":
        if (type.size === 0) throw layoutError(source, `type [${current}] (${type.kind}) has size 0`);
        return Math.min(type.size, BPF_POINTER_SIZE);
      case "ptr":
        return BPF_POINTER_SIZE;
      case "array":
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
      case "var":
        return align(type.type, depth + 1);
      case "struct":
      case "union": {
        const known = structs.get(current);
        if (known === 0) throw layoutError(source, `type [${current}] (${type.kind}) contains itself`);
        if (known !== undefined) return known;
        structs.set(current, 0);
        let result = 1;
        for (const member of type.members) {
          const memberAlign = align(member.type, depth + 1);
          result = Math.max(result, memberAlign);
          if (member.bitfieldSize === 0 && member.bitOffset % (8 * memberAlign) !== 0) {
            result = 1;
            break;
          }
        }
        if (type.size % result !== 0) result = 1;
        structs.set(current, result);
        return result;
      }
      case "void":
      case "fwd":
      case "func":
      case "func_proto":
      case "datasec":
      case "decl_tag":
        throw layoutError(source, `type [${current}] (${type.kind}) has no alignment`);
    }
  };
  return align(id, 0);
}
