/**
 * Global data: each `.data*`, `.rodata*` and `.bss*` section becomes a one-element array map holding
 * the section's bytes, and each variable in it (from its BTF DATASEC, or from ELF symbols when the object
 * has no BTF) becomes a `VariableSpec` that can be read and set before load.
 *
 * Also fixes up DATASEC sizes and variable offsets from the ELF, as libbpf does: compilers may leave
 * them zero, and the kernel checks them.
 */

import type { Btf } from "../btf/index.js";
import { SHT_NOBITS, STB_LOCAL, STT_OBJECT, STV_HIDDEN, STV_INTERNAL, type ElfSection } from "../elf/index.js";
import { MapFlags } from "../uapi.js";
import { MapSpec } from "./map-spec.js";
import { dataSectionKind, datasecOf, objectError, symbolsIn, type ParseContext } from "./parse-context.js";
import { VariableSpec } from "./variable-spec.js";

/** The kernel's limit on object names, including the terminating NUL. */
const BPF_OBJ_NAME_LEN = 16;
/** A map value's size is a u32. */
const MAX_VALUE_SIZE = 0xffff_ffff;
/** libbpf reserves at least this many characters of a data map's name for the section suffix. */
const MIN_SUFFIX_LEN = 7;

/**
 * Sets every DATASEC's size and variable offsets from the section and symbols they describe, and marks
 * global variables with hidden visibility static, as libbpf does: nothing outside the object can see
 * them (so their section needs no mmap-able map on their account).
 */
export function fixupDatasecs(ctx: ParseContext): void {
  const btf = ctx.btf;
  if (!btf) return;
  for (const id of btf.idsOfKind("datasec")) {
    const type = btf.type(id);
    if (type.kind !== "datasec") continue;
    const section = ctx.elf.sectionByName(type.name);
    if (!section) continue; // .kconfig and .ksyms describe externs, not ELF sections
    const symbols = symbolsIn(ctx, section);
    const vars = type.vars.map((info) => {
      const v = btf.type(info.type);
      if (v.kind !== "var") return info;
      const sym = symbols.find((s) => s.name === v.name && s.type === STT_OBJECT);
      if (sym && v.linkage === "global" && isHidden(sym)) btf.set(info.type, { ...v, linkage: "static" });
      return sym && sym.value !== info.offset ? { ...info, offset: sym.value } : info;
    });
    vars.sort((a, b) => a.offset - b.offset);
    const unchanged = type.size === section.size && vars.every((v, i) => v === type.vars[i]);
    if (!unchanged) btf.set(id, { ...type, size: section.size, vars });
  }
}

/** A global or weak symbol that visibility keeps inside the object (STV_HIDDEN, STV_INTERNAL). */
export function isHidden(sym: { bind: number; visibility: number }): boolean {
  return sym.bind !== STB_LOCAL && (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL);
}

/** The data maps and variables of every global-data section with contents. */
export function parseGlobalData(ctx: ParseContext): { maps: MapSpec[]; variables: VariableSpec[] } {
  const maps: MapSpec[] = [];
  const variables: VariableSpec[] = [];
  for (const section of ctx.elf.sections) {
    const kind = dataSectionKind(section.name);
    if (kind === undefined || section.size === 0) continue;
    if (kind !== "bss" && section.type === SHT_NOBITS) objectError(ctx, "initialised data section has no contents", section);
    // A section of another type (SHT_NULL, say) has no bytes in the file to start the map with.
    if (section.type !== SHT_NOBITS && section.data.length !== section.size) {
      objectError(ctx, `data section of type ${section.type} holds ${section.data.length} of its ${section.size} bytes`, section);
    }
    if (section.size > MAX_VALUE_SIZE) objectError(ctx, `global data of ${section.size} bytes is larger than a map value can be`, section);
    const datasec = datasecOf(ctx, section.name);
    const map = new MapSpec({
      name: section.name,
      kind,
      section: section.name,
      type: "array",
      keySize: 4,
      valueSize: section.size,
      maxEntries: 1,
      flags: (kind === "rodata" ? MapFlags.RDONLY_PROG : 0) | (hasGlobalVariable(ctx.btf, datasec) ? MapFlags.MMAPABLE : 0),
      valueType: datasec ?? 0,
      ...(section.type === SHT_NOBITS ? { zeroFill: section.size } : { data: section.data.slice() }),
      kernelName: dataMapName(ctx.objectName, section.name),
    });
    maps.push(map);
    variables.push(...sectionVariables(ctx, section, map, datasec));
  }
  return { maps, variables };
}

/** libbpf maps a DATASEC to an mmapable array when it holds at least one non-static variable. */
function hasGlobalVariable(btf: Btf | undefined, datasec: number | undefined): boolean {
  if (!btf || datasec === undefined) return false;
  const sec = btf.type(datasec);
  if (sec.kind !== "datasec") return false;
  return sec.vars.some((info) => {
    const v = btf.type(info.type);
    return v.kind === "var" && v.linkage !== "static";
  });
}

function sectionVariables(ctx: ParseContext, section: ElfSection, map: MapSpec, datasec: number | undefined): VariableSpec[] {
  const btf = ctx.btf;
  const out: VariableSpec[] = [];
  if (btf && datasec !== undefined) {
    const sec = btf.type(datasec);
    if (sec.kind !== "datasec") return out;
    for (const info of sec.vars) {
      const v = btf.type(info.type);
      if (v.kind !== "var") continue;
      if (info.offset + info.size > section.size) {
        objectError(ctx, `variable "${v.name}" lies outside its section`, section, info.offset);
      }
      out.push(new VariableSpec({ name: v.name, map, offset: info.offset, size: info.size, btf, type: v.type, linkage: v.linkage }));
    }
    return out;
  }
  // No BTF: fall back to the symbol table (names, offsets and sizes, but untyped).
  for (const sym of symbolsIn(ctx, section)) {
    if (sym.type !== STT_OBJECT || sym.size === 0) continue;
    if (sym.value + sym.size > section.size) objectError(ctx, `variable "${sym.name}" lies outside its section`, section, sym.value);
    out.push(
      new VariableSpec({ name: sym.name, map, offset: sym.value, size: sym.size, linkage: sym.bind === STB_LOCAL ? "static" : "global" }),
    );
  }
  return out;
}

/**
 * The kernel name of a data map, chosen exactly as libbpf does so that tools show the same names:
 * up to 8 characters of the object name then the section name (`multi.rodata`), or just the section name
 * for custom `.data.x` sections; at most 15 characters, other characters replaced by `_`.
 */
export function dataMapName(objectName: string, sectionName: string): string {
  const suffixLen = Math.min(Math.max(MIN_SUFFIX_LEN, sectionName.length), BPF_OBJ_NAME_LEN - 1);
  const custom = sectionName.indexOf(".", 1) !== -1;
  const prefixLen = custom ? 0 : Math.min(BPF_OBJ_NAME_LEN - suffixLen - 1, objectName.length);
  const name = objectName.slice(0, prefixLen) + sectionName.slice(0, suffixLen);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}
