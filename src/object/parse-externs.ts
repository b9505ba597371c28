/**
 * Externs: undefined symbols the loader must supply. Their BTF says what they are — a VAR in the
 * `.kconfig` DATASEC is a Kconfig value (or a `LINUX_*` value the loader computes), a VAR or FUNC in
 * `.ksyms` is a kernel symbol or kernel function. This module describes each one, lays the Kconfig
 * values out in the `.kconfig` map the way libbpf does (by alignment, size, name), points the
 * instructions that read them at that map, and rewrites the BTF so the kernel accepts it (it refuses
 * extern linkage): Kconfig and ksym VARs become allocated globals, ksym FUNCs global functions.
 */

import { formatCType, type Btf, type BtfDatasec, type BtfFunc, type BtfVar, type TypeId } from "../btf/index.js";
import { BPF_PSEUDO_MAP_VALUE } from "../asm/index.js";
import { SHN_UNDEF, STB_GLOBAL, STB_WEAK } from "../elf/index.js";
import { MapFlags } from "../uapi.js";
import { MapSpec } from "./map-spec.js";
import type { FunctionSpec } from "./parse-code.js";
import { objectError, type ParseContext } from "./parse-context.js";
import { dataMapName } from "./parse-data.js";

/** What a Kconfig extern's C type lets it hold (libbpf's kcfg types). */
export type KconfigType = "bool" | "tristate" | "char" | "int" | "char_array";

/** Where a `__kconfig` extern lives in the `.kconfig` map. */
export interface KconfigSlot {
  readonly type: KconfigType;
  /** Byte offset in the `.kconfig` map's value. */
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
}

/** An extern symbol of the object. */
export interface ExternSpec {
  readonly name: string;
  /** Called (`function`) or loaded as an address or value (`variable`). */
  readonly kind: "function" | "variable";
  /** Declared `__weak`: may stay unresolved (calls unreachable, values 0). */
  readonly weak: boolean;
  /** The BTF DATASEC that declares it; undefined for an object without BTF. */
  readonly section?: ".kconfig" | ".ksyms";
  /** Its VAR or FUNC in the object's BTF. */
  readonly btfId?: TypeId;
  /** For `.kconfig` externs: the value's place and type. */
  readonly kconfig?: KconfigSlot;
  /**
   * For `.ksyms` externs: the type the symbol has, past modifiers and typedefs; 0 for a typeless
   * ksym (`extern const void sym __ksym`), which resolves to its address from /proc/kallsyms.
   */
  readonly ksymType?: TypeId;
}

/** The `.kconfig` map's name in the spec. */
export const KCONFIG_MAP = ".kconfig";

/**
 * Describes every extern of the object, adds the `.kconfig` map and rewrites the BTF and the
 * instructions that read Kconfig values. `referenced` holds the externs instructions use (from the
 * relocations); the result holds every extern symbol.
 */
export function parseExterns(
  ctx: ParseContext,
  referenced: Map<string, ExternSpec>,
  functions: Iterable<FunctionSpec>,
): { externs: Map<string, ExternSpec>; kconfigMap?: MapSpec } {
  const btf = ctx.btf;
  const symbols = ctx.elf.symbols.filter(
    (s) => s.shndx === SHN_UNDEF && (s.bind === STB_GLOBAL || s.bind === STB_WEAK) && s.type === 0 && s.name !== "",
  );
  if (!btf || symbols.length === 0) return { externs: referenced };

  const sectionOf = datasecMembership(btf);
  const externs = new Map<string, ExternSpec>();
  const kconfig: { spec: ExternSpec; align: number; size: number; type: KconfigType; signed: boolean }[] = [];
  for (const sym of symbols) {
    const btfId = externBtfId(ctx, btf, sym.name);
    if (btfId === undefined) {
      // No BTF for it: only a function call can still be resolved (by name, as a kfunc).
      const known = referenced.get(sym.name);
      if (known) externs.set(sym.name, known);
      continue;
    }
    const type = btf.type(btfId) as BtfVar | BtfFunc;
    const datasec = sectionOf.get(btfId);
    const weak = sym.bind === STB_WEAK;
    const kind = type.kind === "func" ? "function" : "variable";
    const declared = btf.type(btf.resolve(type.type)).kind;
    if (NOT_C_TYPES.has(declared)) objectError(ctx, `extern "${sym.name}" has BTF type [${type.type}], a ${declared}, which is not a C type`, ".BTF");
    if (datasec === ".kconfig") {
      if (type.kind === "func") objectError(ctx, `extern function "${sym.name}" cannot be a __kconfig value`, ".kconfig");
      const { kind: kcfgType, signed } = kconfigType(btf, type.type);
      if (!kcfgType) objectError(ctx, `__kconfig extern "${sym.name}" has type ${formatCType(btf, type.type)}; use bool, enum libbpf_tristate, char, an integer or a char array`, ".kconfig");
      const spec: ExternSpec = { name: sym.name, kind, weak, section: datasec, btfId };
      kconfig.push({ spec, align: btf.alignof(type.type), size: btf.sizeof(type.type), type: kcfgType, signed });
      externs.set(sym.name, spec);
    } else if (datasec === ".ksyms") {
      const ksymType = btf.resolve(type.type);
      externs.set(sym.name, { name: sym.name, kind, weak, section: datasec, btfId, ksymType });
    } else {
      objectError(ctx, `extern "${sym.name}" is declared in ${datasec ? `section "${datasec}"` : "no section"}; mark it __kconfig or __ksym`);
    }
  }

  // libbpf's layout: descending alignment, then ascending size, then name.
  kconfig.sort((a, b) => b.align - a.align || a.size - b.size || (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0));
  let size = 0;
  for (const k of kconfig) {
    const offset = Math.ceil(size / k.align) * k.align;
    size = offset + k.size;
    externs.set(k.spec.name, { ...k.spec, kconfig: { type: k.type, offset, size: k.size, signed: k.signed } });
  }

  fixupExternBtf(btf, externs);
  let kconfigMap: MapSpec | undefined;
  if (kconfig.length > 0) {
    const datasec = btf.find(".kconfig", "datasec");
    kconfigMap = new MapSpec({
      name: KCONFIG_MAP,
      kind: "kconfig",
      section: KCONFIG_MAP,
      type: "array",
      keySize: 4,
      valueSize: size,
      maxEntries: 1,
      flags: MapFlags.RDONLY_PROG | MapFlags.MMAPABLE,
      valueType: datasec ?? 0,
      data: new Uint8Array(size),
      kernelName: dataMapName(ctx.objectName, KCONFIG_MAP),
    });
    pointAtKconfigMap(ctx, functions, externs);
  }
  return { externs, ...(kconfigMap && { kconfigMap }) };
}

/** For every VAR or FUNC a DATASEC lists: that DATASEC's name. */
function datasecMembership(btf: Btf): Map<TypeId, string> {
  const out = new Map<TypeId, string>();
  for (const id of btf.idsOfKind("datasec")) {
    const sec = btf.type(id) as BtfDatasec;
    for (const info of sec.vars) out.set(info.type, sec.name);
  }
  return out;
}

/** The extern's VAR or FUNC (which must have extern linkage), or undefined when the BTF has none. */
function externBtfId(ctx: ParseContext, btf: Btf, name: string): TypeId | undefined {
  for (const id of btf.typesByName(name)) {
    const type = btf.type(id);
    if (type.kind !== "var" && type.kind !== "func") continue;
    if (type.linkage !== "extern") objectError(ctx, `extern "${name}" is described by BTF ${type.kind} [${id}] with ${type.linkage} linkage`, ".BTF");
    return id;
  }
  return undefined;
}

/** libbpf's rules for what a Kconfig value's C type may be. */
/** BTF kinds no variable or function can have as its type: only corrupt BTF points a VAR or FUNC at them. */
const NOT_C_TYPES: ReadonlySet<string> = new Set(["datasec", "decl_tag", "var", "func"]);

function kconfigType(btf: Btf, id: TypeId): { kind: KconfigType | undefined; signed: boolean } {
  const t = btf.type(btf.resolve(id));
  switch (t.kind) {
    case "int":
      if (t.bool) return { kind: t.size === 1 ? "bool" : undefined, signed: false };
      if (t.size === 1) return { kind: "char", signed: t.signed };
      return { kind: t.size <= 8 && (t.size & (t.size - 1)) === 0 ? "int" : undefined, signed: t.signed };
    case "enum":
    case "enum64":
      return { kind: t.name === "libbpf_tristate" && (t.kind === "enum64" || t.size === 4) ? "tristate" : undefined, signed: false };
    case "array":
      return { kind: t.nelems > 0 && kconfigType(btf, t.type).kind === "char" ? "char_array" : undefined, signed: false };
    default:
      return { kind: undefined, signed: false };
  }
}

/**
 * Rewrites the BTF the way libbpf does so that the kernel accepts it: `.kconfig` VARs become allocated
 * globals at their map offsets; `.ksyms` VARs become 4-byte ints at 4-byte slots, and `.ksyms` FUNCs
 * global functions whose DATASEC entry points at an added `dummy_ksym` VAR (a DATASEC may only list
 * VARs) and whose unnamed parameters take its name (the kernel wants named parameters).
 */
function fixupExternBtf(btf: Btf, externs: Map<string, ExternSpec>): void {
  const ksyms = btf.find(".ksyms", "datasec");
  if (ksyms !== undefined) {
    const sec = btf.type(ksyms) as BtfDatasec;
    const int32 = firstInt32(btf);
    const hasFunc = sec.vars.some((info) => btf.type(info.type).kind === "func");
    const dummy = hasFunc ? btf.add({ kind: "var", name: "dummy_ksym", type: int32, linkage: "global" }) : 0;
    const vars = sec.vars.map((info, i) => {
      const t = btf.type(info.type);
      if (t.kind === "func") {
        btf.set(info.type, { ...t, linkage: "global" });
        const proto = btf.type(t.type);
        if (proto.kind === "func_proto" && proto.params.some((p) => p.type !== 0 && p.name === "")) {
          btf.set(t.type, { ...proto, params: proto.params.map((p) => (p.type !== 0 && p.name === "" ? { ...p, name: "dummy_ksym" } : p)) });
        }
        return { type: dummy, offset: 4 * i, size: 4 };
      }
      if (t.kind === "var") btf.set(info.type, { ...t, linkage: "global", type: int32 });
      return { type: info.type, offset: 4 * i, size: 4 };
    });
    btf.set(ksyms, { ...sec, size: 4 * vars.length, vars });
  }
  const kconfig = btf.find(".kconfig", "datasec");
  if (kconfig !== undefined) {
    const sec = btf.type(kconfig) as BtfDatasec;
    let size = 0;
    const vars = sec.vars.map((info) => {
      const t = btf.type(info.type);
      const slot = externs.get(t.kind === "var" ? t.name : "")?.kconfig;
      if (t.kind !== "var" || !slot) return info;
      btf.set(info.type, { ...t, linkage: "global" });
      size = Math.max(size, slot.offset + slot.size);
      return { ...info, offset: slot.offset };
    });
    vars.sort((a, b) => a.offset - b.offset); // the kernel wants a DATASEC's variables in order
    btf.set(kconfig, { ...sec, size, vars });
  }
}

/** The first 32-bit integer type (libbpf's choice for the placeholder ksym VARs); 0 if none. */
function firstInt32(btf: Btf): TypeId {
  for (const id of btf.idsOfKind("int")) {
    const t = btf.type(id);
    if (t.kind === "int" && t.bits === 32) return id;
  }
  return 0;
}

/** Every instruction that loads a Kconfig value now loads the address of its slot in `.kconfig`. */
function pointAtKconfigMap(ctx: ParseContext, functions: Iterable<FunctionSpec>, externs: Map<string, ExternSpec>): void {
  for (const fn of functions) {
    for (const insn of fn.instructions) {
      const slot = insn.reference === undefined ? undefined : externs.get(insn.reference)?.kconfig;
      if (!slot) continue;
      if (!insn.isLdImm64) objectError(ctx, `"${fn.name}" calls __kconfig value "${insn.reference}"`, fn.section);
      insn.src = BPF_PSEUDO_MAP_VALUE;
      insn.imm = 0;
      insn.imm2 = slot.offset;
      insn.reference = KCONFIG_MAP;
    }
  }
}
