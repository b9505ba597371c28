/**
 * Code: splits every executable section into functions by their symbols, decodes the instructions,
 * attaches BTF func/line info and CO-RE records to them, and turns each relocation into a symbolic
 * reference on its instruction:
 *
 * | instruction | relocation target | becomes |
 * |---|---|---|
 * | `call` | a function (same or other section) | `reference` = function, src = PSEUDO_CALL |
 * | `ld_imm64` | a function | `reference` = function, src = PSEUDO_FUNC (a callback address) |
 * | `ld_imm64` | a map in `.maps` / `maps` | `reference` = map, src = PSEUDO_MAP_FD |
 * | `ld_imm64` | global data | `reference` = data map, src = PSEUDO_MAP_VALUE, `imm2` = offset |
 * | either | an undefined symbol | `reference` = extern, recorded in `externs` |
 */

import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  decodeInstructions,
  type Instruction,
} from "../asm/index.js";
import { SHF_EXECINSTR, SHN_UNDEF, SHN_LORESERVE, STB_WEAK, STT_FUNC, SHT_PROGBITS, type ElfSection } from "../elf/index.js";
import type { MapSpec } from "./map-spec.js";
import type { ExternSpec } from "./parse-externs.js";
import { dataSectionKind, objectError, relocationSymbol, symbolsIn, type ParseContext } from "./parse-context.js";

/** eBPF instructions are 8 bytes. */
const INSN_SIZE = 8;

/** One function of the object: an entry program or a subprogram. */
export interface FunctionSpec {
  /** Unique name within the object (the symbol name, qualified with `@section` on a clash). */
  readonly name: string;
  readonly section: ElfSection;
  /** Byte offset of the function in its section. */
  readonly offset: number;
  /** True for functions outside `.text`: programs the kernel can load on their own. */
  readonly entry: boolean;
  readonly instructions: Instruction[];
}

/** A symbol the object uses but does not define (a kfunc, ksym, kconfig value…). */
/** The code of an object. */
export interface ParsedCode {
  readonly functions: Map<string, FunctionSpec>;
  readonly externs: Map<string, ExternSpec>;
  /** The function that starts at `offset` of section `sectionIndex`, if any. */
  functionAt(sectionIndex: number, offset: number): FunctionSpec | undefined;
}

/** Looks up maps for relocations: declared maps by (section, offset), data maps by section. */
export interface MapIndex {
  declared(sectionIndex: number, offset: number): MapSpec | undefined;
  isDeclaredMapSection(sectionIndex: number): boolean;
  data(sectionIndex: number): MapSpec | undefined;
}

/** Decodes and relocates every executable section. */
export function parseCode(ctx: ParseContext, maps: MapIndex): ParsedCode {
  const functions = new Map<string, FunctionSpec>();
  const bySection = new Map<number, FunctionSpec[]>();
  const externs = new Map<string, ExternSpec>();
  const sections = ctx.elf.sections.filter((s) => s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0);

  // First pass: split sections into functions, so that relocations can refer to any of them.
  // bySlot[i] is the instruction starting at slot i (undefined for the second slot of an ld_imm64).
  const decoded = new Map<number, { insns: Instruction[]; bySlot: (Instruction | undefined)[] }>();
  for (const section of sections) {
    const insns = decodeInstructions(section.data, {
      littleEndian: ctx.elf.littleEndian,
      section: section.name,
      ...(ctx.file !== undefined && { file: ctx.file }),
    });
    const bySlot = new Array<Instruction | undefined>(section.data.length / INSN_SIZE);
    let slot = 0;
    for (const insn of insns) {
      bySlot[slot] = insn;
      slot += insn.slots;
    }
    decoded.set(section.index, { insns, bySlot });
    const list = splitFunctions(ctx, section, insns, functions);
    bySection.set(section.index, list);
    for (const fn of list) functions.set(fn.name, fn);
  }

  const byOffset = new Map<number, Map<number, FunctionSpec>>();
  for (const [index, list] of bySection) byOffset.set(index, new Map(list.map((fn) => [fn.offset, fn])));
  const functionAt = (sectionIndex: number, offset: number) => byOffset.get(sectionIndex)?.get(offset);

  for (const section of sections) {
    const { bySlot } = decoded.get(section.index)!;
    attachExtInfo(ctx, section, bySlot);
    const at = (offset: number): Instruction => {
      const insn = offset % INSN_SIZE === 0 ? bySlot[offset / INSN_SIZE] : undefined;
      if (!insn) objectError(ctx, "relocation does not point at the start of an instruction", section, offset);
      return insn;
    };
    for (const rel of ctx.elf.relocationsFor(section)) {
      if (rel.type === /* R_BPF_NONE */ 0) continue;
      const insn = at(rel.offset);
      const sym = relocationSymbol(ctx, rel.symbol, section, rel.offset);
      const addend = rel.hasAddend ? rel.addend : undefined;
      relocate(ctx, section, rel.offset, insn, sym, addend, maps, functionAt, externs);
    }
    // Calls inside one section need no relocation: their offset is already relative.
    for (let slot = 0; slot < bySlot.length; slot++) {
      const insn = bySlot[slot];
      if (!insn || !insn.isPseudoCall || insn.reference !== undefined) continue;
      const target = functionAt(section.index, (slot + insn.imm + 1) * INSN_SIZE);
      if (!target) objectError(ctx, "call to an address that is not a function", section, slot * INSN_SIZE);
      insn.reference = target.name;
    }
  }
  return { functions, externs, functionAt };
}

/** The functions of one section, delimited by their symbols. */
function splitFunctions(ctx: ParseContext, section: ElfSection, insns: Instruction[], known: Map<string, FunctionSpec>): FunctionSpec[] {
  const symbols = symbolsIn(ctx, section)
    .filter((s) => s.type === STT_FUNC)
    .sort((a, b) => a.value - b.value);
  if (symbols.length === 0) objectError(ctx, "code section has no function symbols", section);
  const out: FunctionSpec[] = [];
  let slot = 0;
  let index = 0;
  for (let i = 0; i < symbols.length; i++) {
    const sym = symbols[i]!;
    if (sym.value % INSN_SIZE !== 0 || sym.value >= section.size) {
      objectError(ctx, `function "${sym.name}" does not start at an instruction`, section, sym.value);
    }
    if (i > 0 && sym.value === symbols[i - 1]!.value) continue; // an alias of the previous function
    const end = i + 1 < symbols.length ? symbols[i + 1]!.value : section.size;
    const body: Instruction[] = [];
    while (index < insns.length && slot * INSN_SIZE < sym.value) slot += insns[index++]!.slots;
    if (slot * INSN_SIZE !== sym.value) objectError(ctx, `function "${sym.name}" starts inside an instruction`, section, sym.value);
    while (index < insns.length && slot * INSN_SIZE < end) {
      const insn = insns[index++]!;
      body.push(insn);
      slot += insn.slots;
    }
    if (body.length === 0) objectError(ctx, `function "${sym.name}" has no instructions`, section, sym.value);
    const name = known.has(sym.name) ? `${sym.name}@${section.name}` : sym.name;
    body[0]!.symbol = name;
    out.push({ name, section, offset: sym.value, entry: section.name !== ".text", instructions: body });
  }
  return out;
}

/** Hangs BTF func info, line info and CO-RE records on the instructions they describe. */
function attachExtInfo(ctx: ParseContext, section: ElfSection, bySlot: readonly (Instruction | undefined)[]): void {
  const ext = ctx.btfExt;
  if (!ext) return;
  const at = (insnOff: number, what: string): Instruction => {
    const insn = insnOff % INSN_SIZE === 0 ? bySlot[insnOff / INSN_SIZE] : undefined;
    if (!insn) objectError(ctx, `${what} points at offset ${insnOff}, which is not an instruction`, ".BTF.ext");
    return insn;
  };
  for (const rec of ext.funcInfo.get(section.name) ?? []) at(rec.insnOff, "func info").funcType = rec.typeId;
  for (const rec of ext.lineInfo.get(section.name) ?? []) {
    const insn = at(rec.insnOff, "line info");
    insn.line ??= rec;
  }
  for (const rec of ext.coreRelos.get(section.name) ?? []) at(rec.insnOff, "CO-RE relocation").coreRelocation = rec;
}

function relocate(
  ctx: ParseContext,
  section: ElfSection,
  offset: number,
  insn: Instruction,
  sym: { name: string; shndx: number; value: number; bind: number; type: number },
  addend: number | undefined,
  maps: MapIndex,
  functionAt: ParsedCode["functionAt"],
  externs: Map<string, ExternSpec>,
): void {
  const fail: (what: string) => never = (what) => objectError(ctx, what, section, offset);
  if (!insn.isLdImm64 && !insn.isCall) fail(`relocation against "${sym.name}" on an instruction that is neither a call nor ld_imm64`);

  if (sym.shndx === SHN_UNDEF) {
    // Loading a function's address (`if (kfunc)`, to test that a weak kfunc exists) keeps it a function.
    const previous = externs.get(sym.name);
    const kind = insn.isCall || previous?.kind === "function" ? "function" : "variable";
    externs.set(sym.name, { name: sym.name, kind, weak: sym.bind === STB_WEAK });
    insn.reference = sym.name;
    return;
  }
  if (sym.shndx >= SHN_LORESERVE) fail(`relocation against "${sym.name}" in special section 0x${sym.shndx.toString(16)}; is a global variable uninitialised?`);
  const target = ctx.elf.sections[sym.shndx];
  if (!target) fail(`relocation against "${sym.name}" in section #${sym.shndx}, which does not exist`);

  if ((target.flags & SHF_EXECINSTR) !== 0) {
    // A call's imm counts instructions from the next one; an ld_imm64's imm is a byte offset.
    const base = sym.value + (addend ?? 0);
    const targetOffset = insn.isCall ? base + (insn.imm + 1) * INSN_SIZE : base + insn.imm;
    const fn = functionAt(target.index, targetOffset);
    if (!fn) fail(`relocation points at offset ${targetOffset} of "${target.name}", which is not a function`);
    if (insn.isCall) {
      insn.src = BPF_PSEUDO_CALL;
    } else {
      insn.src = BPF_PSEUDO_FUNC;
    }
    insn.imm = 0;
    insn.reference = fn.name;
    return;
  }
  if (!insn.isLdImm64) fail(`call relocation against data symbol "${sym.name}"`);

  if (maps.isDeclaredMapSection(target.index)) {
    const map = maps.declared(target.index, sym.value + (addend ?? 0));
    if (!map) fail(`relocation against "${sym.name}" in "${target.name}" matches no map`);
    insn.src = BPF_PSEUDO_MAP_FD;
    insn.imm = 0;
    insn.reference = map.name;
    return;
  }
  if (dataSectionKind(target.name) !== undefined) {
    const map = maps.data(target.index) ?? fail(`relocation against empty data section "${target.name}"`);
    insn.src = BPF_PSEUDO_MAP_VALUE;
    const implicit = addend ?? insn.imm;
    const offset = ctx.producer === "gcc" ? implicit : sym.value + implicit;
    if (offset < 0 || offset > target.size) fail(`relocation points ${offset} bytes into "${target.name}", which holds ${target.size}`);
    insn.imm2 = offset;
    insn.imm = 0;
    insn.reference = map.name;
    return;
  }
  fail(`relocation against "${sym.name}" in section "${target.name}", which holds neither code, maps nor data`);
}
