/**
 * Map declarations: BTF-defined maps in `.maps` (the `__uint` / `__type` / `__array` convention of
 * libbpf's bpf_helpers.h, inner maps of map-in-maps, static `.values` initialisers) and legacy
 * `struct bpf_map_def` records in the `maps` section.
 *
 * In `.maps`, each variable is a struct whose members encode the definition in their *types*:
 * `int (*type)[N]` means type = N; `T *key` gives the key type; `T *values[]` declares initialisers.
 */

import type { BtfMember, BtfStruct, TypeId } from "../btf/index.js";
import { type ElfSection } from "../elf/index.js";
import { mapTypeName, type MapTypeName } from "../uapi.js";
import { MapSpec, type MapPinning, type MapSlotInit } from "./map-spec.js";
import { datasecOf, objectError, relocationSymbol, symbolsIn, type ParseContext } from "./parse-context.js";

/** libbpf's pinning values. */
const LIBBPF_PIN_NONE = 0;
const LIBBPF_PIN_BY_NAME = 1;
/** Slots of `.values` initialisers are pointers. */
const POINTER_SIZE = 8;
/** `struct bpf_map_def` has five u32 fields: type, key_size, value_size, max_entries, map_flags. */
const LEGACY_MAP_DEF_FIELDS = 5;

/** A map declared in `.maps`, with where its variable sits (for initialiser relocations). */
interface BtfMapDecl {
  readonly spec: MapSpec;
  readonly offset: number;
  readonly size: number;
  /** Byte offset of the `values` member inside the variable, when it has one. */
  readonly valuesOffset: number | undefined;
}

/** Maps declared in `.maps` (empty when the object has none). */
export function parseBtfMaps(ctx: ParseContext, section: ElfSection): { maps: MapSpec[]; decls: BtfMapDecl[] } {
  const btf = ctx.btf;
  if (!btf) objectError(ctx, "maps are declared in .maps but the object has no BTF to describe them", section);
  const datasec = datasecOf(ctx, section.name);
  if (datasec === undefined) objectError(ctx, "no BTF DATASEC describes the .maps section", section);
  const sec = btf.type(datasec);
  if (sec.kind !== "datasec") objectError(ctx, "the .maps BTF type is not a DATASEC", section);

  const decls: BtfMapDecl[] = [];
  for (const info of sec.vars) {
    const v = btf.type(info.type);
    if (v.kind !== "var") objectError(ctx, `.maps entry of BTF type #${info.type} is not a variable`, section, info.offset);
    const defId = btf.resolve(v.type);
    const def = btf.type(defId);
    if (def.kind !== "struct") objectError(ctx, `map "${v.name}" is not declared as a struct`, section, info.offset);
    const parsed = parseMapDef(ctx, section, v.name, def, info.offset, false);
    decls.push({ spec: parsed.spec, offset: info.offset, size: info.size, valuesOffset: parsed.valuesOffset });
  }
  return { maps: decls.map((d) => d.spec), decls };
}

/** Reads one map definition struct; `inner` forbids what inner maps cannot have. */
function parseMapDef(
  ctx: ParseContext,
  section: ElfSection,
  name: string,
  def: BtfStruct,
  offset: number,
  inner: boolean,
): { spec: MapSpec; valuesOffset: number | undefined } {
  const btf = ctx.btf!;
  const fail: (what: string) => never = (what) => objectError(ctx, `map "${name}": ${what}`, section, offset);
  let type: MapTypeName | undefined;
  let keySize: number | undefined;
  let valueSize: number | undefined;
  let keyType: TypeId = 0;
  let valueType: TypeId = 0;
  let maxEntries = 0;
  let flags = 0;
  let numaNode = 0;
  let mapExtra = 0n;
  let pinning: MapPinning = "none";
  let innerMap: MapSpec | undefined;
  let valuesOffset: number | undefined;

  const setSize = (which: "key" | "value", size: number) => {
    const current = which === "key" ? keySize : valueSize;
    if (current !== undefined && current !== size) fail(`conflicting ${which} sizes ${current} and ${size}`);
    if (which === "key") keySize = size;
    else valueSize = size;
  };

  def.members.forEach((m, i) => {
    switch (m.name) {
      case "type": {
        const n = intField(ctx, section, name, m, offset);
        type = mapTypeName(n) ?? fail(`unknown map type ${n}`);
        break;
      }
      case "max_entries":
        maxEntries = intField(ctx, section, name, m, offset);
        break;
      case "map_flags":
        flags = intField(ctx, section, name, m, offset);
        break;
      case "numa_node":
        numaNode = intField(ctx, section, name, m, offset);
        break;
      case "key_size":
        setSize("key", intField(ctx, section, name, m, offset));
        break;
      case "value_size":
        setSize("value", intField(ctx, section, name, m, offset));
        break;
      case "map_extra":
        mapExtra = BigInt(intField(ctx, section, name, m, offset));
        break;
      case "key":
      case "value": {
        const pointee = pointerTarget(ctx, m) ?? fail(`${m.name} must be declared with __type()`);
        setSize(m.name, sizeOf(ctx, section, name, pointee, offset));
        if (m.name === "key") keyType = pointee;
        else valueType = pointee;
        break;
      }
      case "pinning": {
        if (inner) fail("an inner map cannot be pinned");
        const n = intField(ctx, section, name, m, offset);
        if (n !== LIBBPF_PIN_NONE && n !== LIBBPF_PIN_BY_NAME) fail(`unknown pinning ${n}`);
        pinning = n === LIBBPF_PIN_BY_NAME ? "by_name" : "none";
        break;
      }
      case "values": {
        if (inner) fail("an inner map cannot have .values");
        if (i !== def.members.length - 1) fail(".values must be the last member");
        const isMapInMap = type === "array_of_maps" || type === "hash_of_maps";
        if (!isMapInMap && type !== "prog_array") fail(".values is only allowed in prog arrays and map-in-maps");
        setSize("value", 4);
        const arr = btf.type(m.type);
        if (arr.kind !== "array" || arr.nelems !== 0) fail(".values must be a flexible array (__array)");
        const ptr = btf.type(btf.resolve(arr.type));
        if (ptr.kind !== "ptr") fail(".values must hold pointers");
        const target = btf.type(btf.resolve(ptr.type));
        if (type === "prog_array") {
          if (target.kind !== "func_proto") fail("prog array .values must point to functions");
        } else {
          if (target.kind !== "struct") fail("map-in-map .values must point to an inner map definition");
          innerMap = parseMapDef(ctx, section, `${name}.inner`, target, offset, true).spec;
        }
        if (m.bitOffset % 8 !== 0) fail(".values is not byte aligned");
        valuesOffset = m.bitOffset / 8;
        break;
      }
      default:
        fail(`unknown map definition field "${m.name}"`);
    }
  });

  if (type === undefined) fail("no map type given");
  const spec = new MapSpec({
    name,
    kind: "declared",
    section: section.name,
    type,
    ...defaultSizes(type, keySize ?? 0, valueSize ?? 0),
    maxEntries,
    flags,
    numaNode,
    mapExtra,
    pinning,
    keyType,
    valueType,
    ...(innerMap && { innerMap }),
  });
  return { spec, valuesOffset };
}

/** Perf event arrays default to 4-byte keys and values (cpu index → perf fd). */
function defaultSizes(type: MapTypeName, keySize: number, valueSize: number): { keySize: number; valueSize: number } {
  if (type === "perf_event_array" || type === "cgroup_array") {
    return { keySize: keySize || 4, valueSize: valueSize || 4 };
  }
  return { keySize, valueSize };
}

/** The N of a `__uint(name, N)` member, declared as `int (*name)[N]`. */
function intField(ctx: ParseContext, section: ElfSection, map: string, m: BtfMember, offset: number): number {
  const btf = ctx.btf!;
  const ptr = btf.type(btf.resolve(m.type));
  const arr = ptr.kind === "ptr" ? btf.type(btf.resolve(ptr.type)) : undefined;
  if (arr?.kind !== "array") objectError(ctx, `map "${map}": ${m.name} must be declared with __uint()`, section, offset);
  return arr.nelems;
}

/** The type a `__type(name, T)` member points to, or undefined when it is not a pointer. */
function pointerTarget(ctx: ParseContext, m: BtfMember): TypeId | undefined {
  const t = ctx.btf!.type(m.type);
  return t.kind === "ptr" ? t.type : undefined;
}

function sizeOf(ctx: ParseContext, section: ElfSection, map: string, id: TypeId, offset: number): number {
  try {
    return ctx.btf!.sizeof(id);
  } catch {
    return objectError(ctx, `map "${map}": the key or value type #${id} has no size`, section, offset);
  }
}

/**
 * Applies `.rel.maps` relocations: each sets one slot of a declared map's `.values` to another map or
 * a program. `resolveProgram` names the program a code symbol belongs to.
 */
export function applyMapInitialisers(
  ctx: ParseContext,
  section: ElfSection,
  decls: readonly BtfMapDecl[],
  resolveProgram: (sectionIndex: number, offset: number) => string | undefined,
): void {
  for (const rel of ctx.elf.relocationsFor(section)) {
    const decl = decls.find((d) => rel.offset >= d.offset && rel.offset < d.offset + d.size);
    if (!decl || decl.valuesOffset === undefined) {
      objectError(ctx, "relocation outside any map's .values", section, rel.offset);
    }
    const slotOffset = rel.offset - decl.offset - decl.valuesOffset;
    if (slotOffset < 0 || slotOffset % POINTER_SIZE !== 0) {
      objectError(ctx, `map "${decl.spec.name}": misaligned .values relocation`, section, rel.offset);
    }
    const index = slotOffset / POINTER_SIZE;
    const sym = relocationSymbol(ctx, rel.symbol, section, rel.offset);
    let target: MapSlotInit["target"];
    if (sym.shndx === section.index) {
      const inner = decls.find((d) => d.offset === sym.value);
      if (!inner) objectError(ctx, `map "${decl.spec.name}": .values[${index}] points to no map`, section, rel.offset);
      target = { kind: "map", name: inner.spec.name };
    } else {
      const program = resolveProgram(sym.shndx, sym.value);
      if (program === undefined) {
        objectError(ctx, `map "${decl.spec.name}": .values[${index}] points to "${sym.name}", which is neither a map nor a program`, section, rel.offset);
      }
      target = { kind: "program", name: program };
    }
    if (index >= decl.spec.maxEntries) {
      objectError(ctx, `map "${decl.spec.name}": .values[${index}] is beyond max_entries ${decl.spec.maxEntries}`, section, rel.offset);
    }
    decl.spec.slots.push({ index, target });
  }
}

/** Maps declared the old way: `struct bpf_map_def` records in a `maps` section. */
export function parseLegacyMaps(ctx: ParseContext, section: ElfSection): MapSpec[] {
  const symbols = symbolsIn(ctx, section)
    .filter((s) => s.name !== "" && s.type !== /* STT_SECTION */ 3)
    .sort((a, b) => a.value - b.value);
  if (symbols.length === 0) return [];
  const recordSize = section.size / symbols.length;
  if (!Number.isInteger(recordSize) || recordSize < 4 * (LEGACY_MAP_DEF_FIELDS - 1)) {
    objectError(ctx, `cannot split ${section.size} bytes into ${symbols.length} map definitions`, section);
  }
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const le = ctx.elf.littleEndian;
  return symbols.map((sym) => {
    const at = sym.value;
    if (at % 4 !== 0 || at + recordSize > section.size) objectError(ctx, `map "${sym.name}" lies outside the section`, section, at);
    const field = (i: number) => (4 * i < recordSize ? view.getUint32(at + 4 * i, le) : 0);
    for (let off = 4 * LEGACY_MAP_DEF_FIELDS; off < recordSize; off++) {
      if (view.getUint8(at + off) !== 0) {
        objectError(ctx, `map "${sym.name}" uses definition fields beyond struct bpf_map_def`, section, at + off);
      }
    }
    const typeNumber = field(0);
    const type = mapTypeName(typeNumber) ?? objectError(ctx, `map "${sym.name}" has unknown type ${typeNumber}`, section, at);
    return new MapSpec({
      name: sym.name,
      kind: "declared",
      section: section.name,
      type,
      ...defaultSizes(type, field(1), field(2)),
      maxEntries: field(3),
      flags: field(4),
    });
  });
}
