/**
 * `ObjectSpec`: everything an eBPF ELF object describes — programs, maps, global variables, externs,
 * BTF — parsed without touching the kernel. Parsing is deterministic: the same bytes always give the
 * same spec, and a spec can be edited (`copy()` first if it is shared) before `load()`.
 *
 * Works for objects from clang (`-target bpf` / `bpfeb`) and from GCC's `bpf-gcc`.
 */

import { Btf, parseBtfExt, type BtfExt } from "../btf/index.js";
import { EM_BPF, ET_REL, ElfFile, SHT_NOBITS, STT_FUNC } from "../elf/index.js";
import type { FunctionSpec } from "./parse-code.js";
import { parseExterns, type ExternSpec } from "./parse-externs.js";
import { parseCode } from "./parse-code.js";
import { MapSpec } from "./map-spec.js";
import { applyMapInitialisers, parseBtfMaps, parseLegacyMaps } from "./parse-maps.js";
import { fixupDatasecs, isHidden, parseGlobalData } from "./parse-data.js";
import { objectError, objectProducer, type ParseContext } from "./parse-context.js";
import { ProgramSpec } from "./program-spec.js";
import { sectionType } from "./section-types.js";
import type { VariableSpec } from "./variable-spec.js";
import type { Instruction } from "../asm/index.js";

/** Options for {@link ObjectSpec.parse}. */
export interface ParseOptions {
  /** The file name, for error messages; its base name up to the first `.` names the object. */
  file?: string;
  /** The object name (used in global-data map names, like libbpf); defaults from `file`. */
  name?: string;
}

/** Fields an ObjectSpec is built from. */
interface ObjectSpecInit {
  name: string;
  file: string | undefined;
  littleEndian: boolean;
  license: string;
  kernelVersion: number;
  btf: Btf | undefined;
  btfExt: BtfExt | undefined;
  programs: Map<string, ProgramSpec>;
  maps: Map<string, MapSpec>;
  variables: Map<string, VariableSpec>;
  externs: Map<string, ExternSpec>;
}

/** The blueprint of an eBPF object file. */
export class ObjectSpec {
  /** The object's name (from the file name, or given). */
  readonly name: string;
  readonly file: string | undefined;
  /** Byte order of the object; the kernel only loads objects in its own byte order. */
  readonly littleEndian: boolean;
  /** Contents of the `license` section ("" when absent). */
  license: string;
  /** Contents of the `version` section (0 when absent). */
  kernelVersion: number;
  /** The object's BTF, when it has a `.BTF` section. */
  readonly btf: Btf | undefined;
  /** The object's `.BTF.ext` (func info, line info, CO-RE relocations), when present. */
  readonly btfExt: BtfExt | undefined;
  /** Entry programs by name, in section order. */
  readonly programs: Map<string, ProgramSpec>;
  /** Maps by name: declared maps by C name, global-data maps by section name (`.bss`, `.rodata`). */
  readonly maps: Map<string, MapSpec>;
  /** Global variables by name. */
  readonly variables: Map<string, VariableSpec>;
  /** Symbols used but not defined (kfuncs, ksyms, kconfig values). */
  readonly externs: Map<string, ExternSpec>;

  private constructor(init: ObjectSpecInit) {
    this.name = init.name;
    this.file = init.file;
    this.littleEndian = init.littleEndian;
    this.license = init.license;
    this.kernelVersion = init.kernelVersion;
    this.btf = init.btf;
    this.btfExt = init.btfExt;
    this.programs = init.programs;
    this.maps = init.maps;
    this.variables = init.variables;
    this.externs = init.externs;
  }

  /**
   * Parses an eBPF ELF object.
   *
   * @throws FormatError naming the file, section and offset when the bytes are not a valid eBPF object.
   * @example
   * const spec = ObjectSpec.parse(readFileSync("prog.bpf.o"), { file: "prog.bpf.o" });
   * spec.variables.get("threshold")?.set(100);
   */
  static parse(bytes: Uint8Array, options: ParseOptions = {}): ObjectSpec {
    const elf = ElfFile.parse(bytes, options.file !== undefined ? { file: options.file } : {});
    const base: Omit<ParseContext, "btf" | "btfExt"> = {
      elf,
      producer: objectProducer(elf),
      file: options.file,
      objectName: options.name ?? objectNameFromFile(options.file),
    };
    if (elf.machine !== EM_BPF) objectError({ ...base, btf: undefined, btfExt: undefined }, `not an eBPF object (ELF machine ${elf.machine})`);
    if (elf.type !== ET_REL) objectError({ ...base, btf: undefined, btfExt: undefined }, `not a relocatable object (ELF type ${elf.type})`);
    if (elf.symbols.length <= 1) objectError({ ...base, btf: undefined, btfExt: undefined }, "no symbol table (is the object stripped?)");

    const btfSection = elf.sectionByName(".BTF");
    const btf = btfSection ? Btf.parse(btfSection.data, { ...(options.file !== undefined && { file: options.file }) }) : undefined;
    const extSection = elf.sectionByName(".BTF.ext");
    const btfExt = btf && extSection ? parseBtfExt(extSection.data, btf, { ...(options.file !== undefined && { file: options.file }) }) : undefined;
    const ctx: ParseContext = { ...base, btf, btfExt };
    fixupDatasecs(ctx);

    const license = readLicense(ctx);
    const kernelVersion = readVersion(ctx);

    // Maps: declared (.maps / maps) and global data.
    const maps = new Map<string, MapSpec>();
    const addMap = (map: MapSpec) => {
      if (maps.has(map.name)) objectError(ctx, `two maps are named "${map.name}"`, map.section);
      maps.set(map.name, map);
    };
    const btfMapsSection = elf.sectionByName(".maps");
    const btfMaps = btfMapsSection ? parseBtfMaps(ctx, btfMapsSection) : { maps: [], decls: [] };
    btfMaps.maps.forEach(addMap);
    const legacySection = elf.sectionByName("maps");
    const legacyMaps = legacySection ? parseLegacyMaps(ctx, legacySection) : [];
    legacyMaps.forEach(addMap);
    const data = parseGlobalData(ctx);
    data.maps.forEach(addMap);

    const mapSections = new Set([btfMapsSection?.index, legacySection?.index].filter((i) => i !== undefined));
    const code = parseCode(ctx, {
      isDeclaredMapSection: (index) => mapSections.has(index),
      declared: (index, offset) => {
        if (index === btfMapsSection?.index) return btfMaps.decls.find((d) => d.offset === offset)?.spec;
        const sym = elf.symbols.find((s) => s.shndx === index && s.value === offset && s.name !== "" && s.type !== 3);
        return sym ? maps.get(sym.name) : undefined;
      },
      data: (index) => data.maps.find((m) => m.section === elf.sections[index]?.name),
    });

    markHiddenFunctionsStatic(ctx, code.functionAt);
    const { externs, kconfigMap } = parseExterns(ctx, code.externs, code.functions.values());
    if (kconfigMap) addMap(kconfigMap);

    if (btfMapsSection) {
      applyMapInitialisers(ctx, btfMapsSection, btfMaps.decls, (index, offset) => {
        const fn = code.functionAt(index, offset);
        return fn?.entry ? fn.name : undefined;
      });
    }

    const programs = new Map<string, ProgramSpec>();
    const used = new Set<FunctionSpec>();
    for (const fn of code.functions.values()) {
      if (!fn.entry) continue;
      const rawSection = fn.section.name;
      const section = rawSection.startsWith("?") ? rawSection.slice(1) : rawSection;
      const kind = sectionType(section);
      programs.set(
        fn.name,
        new ProgramSpec({
          name: fn.name,
          section,
          type: kind?.programType ?? "unspec",
          expectedAttachType: kind?.expectedAttachType,
          attachTo: kind?.target ?? "",
          sectionFlags: kind?.flags ?? [],
          autoload: !rawSection.startsWith("?"),
          license,
          kernelVersion,
          instructions: flatten(ctx, fn, code.functions, externs, used),
        }),
      );
    }
    for (const map of maps.values()) {
      for (const slot of map.slots) {
        if (slot.target.kind === "program" && !programs.has(slot.target.name)) {
          objectError(ctx, `map "${map.name}" is initialised with "${slot.target.name}", which is not a program`, map.section);
        }
      }
    }

    const variables = new Map<string, VariableSpec>();
    for (const v of data.variables) {
      // Two static variables may share a name in different sections; the first keeps the plain name.
      variables.set(variables.has(v.name) ? `${v.map.name}:${v.name}` : v.name, v);
    }

    return new ObjectSpec({
      name: base.objectName,
      file: options.file,
      littleEndian: elf.littleEndian,
      license,
      kernelVersion,
      btf,
      btfExt,
      programs,
      maps,
      variables,
      externs,
    });
  }

  /** A deep copy: programs, maps and variables can then be edited without affecting this spec. */
  copy(): ObjectSpec {
    const maps = new Map([...this.maps].map(([name, m]) => [name, m.copy()]));
    const variables = new Map(
      [...this.variables].map(([name, v]) => [name, v.withMap(maps.get(v.map.name) ?? v.map.copy())]),
    );
    return new ObjectSpec({
      ...this,
      programs: new Map([...this.programs].map(([name, p]) => [name, p.copy()])),
      maps,
      variables,
      externs: new Map(this.externs),
    });
  }
}

/** libbpf's object name: the file's base name up to its first `.`. */
function objectNameFromFile(file: string | undefined): string {
  if (file === undefined) return "obj";
  const base = file.slice(file.lastIndexOf("/") + 1);
  const dot = base.indexOf(".");
  return (dot === -1 ? base : base.slice(0, dot)) || "obj";
}

function readLicense(ctx: ParseContext): string {
  const section = ctx.elf.sectionByName("license");
  if (!section || section.type === SHT_NOBITS) return "";
  const end = section.data.indexOf(0);
  if (end === -1) objectError(ctx, "license is not NUL-terminated", section);
  return new TextDecoder().decode(section.data.subarray(0, end));
}

function readVersion(ctx: ParseContext): number {
  const section = ctx.elf.sectionByName("version");
  if (!section) return 0;
  if (section.size !== 4 || section.data.length !== 4) objectError(ctx, `version must be 4 bytes, not ${section.size}`, section);
  return new DataView(section.data.buffer, section.data.byteOffset, 4).getUint32(0, ctx.elf.littleEndian);
}

/**
 * A program's instructions followed by every function it reaches through calls and callback addresses,
 * in the order first referenced. A function's decoded instructions go to the first program that uses
 * them and copies to the others (`used` remembers which were taken), so programs never share
 * Instruction objects.
 */
/**
 * Global functions with hidden visibility become static in the BTF, as libbpf does: the verifier then
 * checks them in their callers' context instead of on their own (as `usdt.bpf.h`'s helpers need).
 */
function markHiddenFunctionsStatic(ctx: ParseContext, functionAt: (section: number, offset: number) => FunctionSpec | undefined): void {
  const btf = ctx.btf;
  if (!btf) return;
  for (const sym of ctx.elf.symbols) {
    if (sym.type !== STT_FUNC || !isHidden(sym)) continue;
    const funcType = functionAt(sym.shndx, sym.value)?.instructions[0]?.funcType;
    const fn = funcType === undefined ? undefined : btf.type(funcType);
    if (fn?.kind === "func" && fn.linkage === "global") btf.set(funcType!, { ...fn, linkage: "static" });
  }
}

function flatten(
  ctx: ParseContext,
  entry: FunctionSpec,
  functions: Map<string, FunctionSpec>,
  externs: Map<string, ExternSpec>,
  used: Set<FunctionSpec>,
): Instruction[] {
  const out: Instruction[] = [];
  const included = new Set<string>([entry.name]);
  // Depth-first in call-site order, as libbpf appends subprograms: each callee's own callees follow it
  // before the caller's next callee, so layouts, call offsets and program tags match libbpf's.
  const append = (fn: FunctionSpec): FunctionSpec[] => {
    const copy = used.has(fn);
    used.add(fn);
    const callees: FunctionSpec[] = [];
    for (const insn of fn.instructions) {
      out.push(copy ? insn.clone() : insn);
      const ref = insn.reference;
      if (ref === undefined || externs.has(ref) || !(insn.isPseudoCall || insn.isPseudoFunc)) continue;
      const callee = functions.get(ref);
      if (!callee) objectError(ctx, `"${fn.name}" calls "${ref}", which is not defined`, fn.section);
      if (callee.entry && callee.section !== entry.section && callee !== entry) {
        objectError(ctx, `"${fn.name}" calls program "${ref}" in another section; subprograms belong in .text`, fn.section);
      }
      callees.push(callee);
    }
    return callees;
  };
  const stack = [{ callees: append(entry), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const callee = top.callees[top.next++];
    if (callee === undefined) stack.pop();
    else if (!included.has(callee.name)) {
      included.add(callee.name);
      stack.push({ callees: append(callee), next: 0 });
    }
  }
  return out;
}
