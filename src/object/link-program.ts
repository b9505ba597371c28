/**
 * Linking: turns a ProgramSpec's symbolic instructions into the bytes, func info and line info that
 * BPF_PROG_LOAD takes — a pure function of the spec and of the fds its maps got.
 *
 * - calls and callback addresses get their relative offsets (in instructions);
 * - map references get the map's fd (PSEUDO_MAP_FD / PSEUDO_MAP_VALUE with the value offset);
 * - func info and line info records are gathered from instruction metadata, with instruction offsets
 *   counted in the linked program.
 */

import { BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL, encodeInstructions, type Instruction } from "../asm/index.js";
import type { SourceLocation } from "../errors.js";
import { WaggleError } from "../errors.js";
import type { ProgramSpec } from "./program-spec.js";

/** Sizes of the kernel's `struct bpf_func_info` and `struct bpf_line_info`. */
export const FUNC_INFO_SIZE = 8;
export const LINE_INFO_SIZE = 16;
/** An instruction is 8 bytes; its 32-bit immediate starts at byte 4. */
const INSN_SIZE = 8;
const IMM_OFFSET = 4;
/** Line info packs the line number above a 10-bit column. */
const LINE_SHIFT = 10;

/** Where an extern symbol lives in the running kernel, or that a weak one is absent. */
export type ExternResolution =
  /**
   * A kernel function (kfunc) or variable described by BTF: its type id; the BTF object's fd for a
   * variable in a module (0: vmlinux); the module BTF's index in the program's fd array for a kfunc.
   */
  | { readonly kind: "btf"; readonly btfId: number; readonly btfObjFd: number; readonly fdArrayIndex: number }
  /** A typeless kernel symbol: its address. */
  | { readonly kind: "address"; readonly address: bigint }
  /** A `__weak` extern the kernel lacks: calls become dead code the verifier must prune, addresses 0. */
  | { readonly kind: "absent" };

/** What the loader knows when linking. */
export interface LinkEnvironment {
  /** The fd of a map, by the name programs refer to it with. */
  mapFd(name: string): number;
  /** Where an extern the program uses lives (undefined: not an extern). */
  resolveExtern?(name: string): ExternResolution | undefined;
  /** Whether func/line info should be emitted (only when the object's BTF was loaded). */
  withBtfInfo: boolean;
}

/** A program ready for BPF_PROG_LOAD. */
export interface LinkedProgram {
  readonly insns: Uint8Array;
  /** `struct bpf_func_info[]`, or undefined when there is none or BTF info is off. */
  readonly funcInfo: Uint8Array | undefined;
  readonly lineInfo: Uint8Array | undefined;
  /** The spec's instructions, in load order (the verifier's instruction indices count their slots). */
  readonly instructions: readonly Instruction[];
}

/**
 * Links a program.
 *
 * @throws WaggleError when a reference cannot be resolved (an unknown function or map, an extern
 *   that nothing resolved).
 */
export function linkProgram(spec: ProgramSpec, env: LinkEnvironment, littleEndian = true): LinkedProgram {
  const insns = spec.instructions;
  const slotOf = new Array<number>(insns.length);
  const symbolSlot = new Map<string, number>();
  let slot = 0;
  insns.forEach((insn, i) => {
    slotOf[i] = slot;
    if (insn.symbol !== undefined && !symbolSlot.has(insn.symbol)) symbolSlot.set(insn.symbol, slot);
    slot += insn.slots;
  });

  // Encode the spec's instructions as they are, then patch each reference's immediate in the bytes,
  // so that linking never copies or changes the spec.
  const bytes = encodeInstructions(insns, { littleEndian });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  insns.forEach((insn, i) => {
    const ref = insn.reference;
    if (ref === undefined) return;
    const fail = (what: string): never => {
      throw new WaggleError(`Cannot link program "${spec.name}": instruction ${slotOf[i]} ${what}`);
    };
    const at = slotOf[i]! * INSN_SIZE;
    const external = env.resolveExtern?.(ref);
    if (external) {
      patchExtern(view, at, insn, external, littleEndian);
      return;
    }
    let imm: number;
    if (insn.isPseudoCall || insn.isPseudoFunc) {
      const target = symbolSlot.get(ref) ?? fail(`refers to function "${ref}", which is not part of the program`);
      imm = target - (slotOf[i]! + 1);
    } else if (insn.isMapReference) {
      imm = env.mapFd(ref);
    } else {
      return fail(`refers to "${ref}", which nothing resolved (an extern?)`);
    }
    view.setInt32(at + IMM_OFFSET, imm, littleEndian);
  });

  return {
    insns: bytes,
    funcInfo: env.withBtfInfo ? funcInfo(insns, slotOf, littleEndian) : undefined,
    lineInfo: env.withBtfInfo ? lineInfo(insns, slotOf, littleEndian) : undefined,
    instructions: insns,
  };
}

/**
 * Rewrites an instruction that uses an extern: a call becomes a kfunc call (src PSEUDO_KFUNC_CALL, imm
 * the BTF id, off the module BTF's fd-array index); an address load becomes a BTF-id load
 * (PSEUDO_BTF_ID) or, for a typeless symbol, its address. An absent weak extern keeps imm 0: its calls
 * must sit in code the verifier prunes, and its address reads 0.
 */
function patchExtern(view: DataView, at: number, insn: Instruction, external: ExternResolution, le: boolean): void {
  const registers = view.getUint8(at + 1);
  const withSource = (src: number) => (le ? (registers & 0x0f) | (src << 4) : (registers & 0xf0) | src);
  if (insn.isCall) {
    const found = external.kind === "btf";
    view.setUint8(at + 1, withSource(BPF_PSEUDO_KFUNC_CALL));
    view.setInt16(at + 2, found ? external.fdArrayIndex : 0, le);
    view.setInt32(at + IMM_OFFSET, found ? external.btfId : 0, le);
  } else if (insn.isLdImm64) {
    const [src, low, high] =
      external.kind === "btf"
        ? [BPF_PSEUDO_BTF_ID, external.btfId, external.btfObjFd]
        : external.kind === "address"
          ? [0, Number(external.address & 0xffff_ffffn), Number(external.address >> 32n)]
          : [0, 0, 0];
    view.setUint8(at + 1, withSource(src));
    view.setUint32(at + IMM_OFFSET, low >>> 0, le);
    view.setUint32(at + INSN_SIZE + IMM_OFFSET, high >>> 0, le);
  }
}

/** func_info records, or undefined unless every function start has one (the kernel wants all or none). */
function funcInfo(insns: Instruction[], slotOf: number[], le: boolean): Uint8Array | undefined {
  const records: [number, number][] = [];
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    const isFunctionStart = i === 0 || insn.symbol !== undefined;
    if (!isFunctionStart) continue;
    if (insn.funcType === undefined) return undefined;
    records.push([slotOf[i]!, insn.funcType]);
  }
  const out = new Uint8Array(records.length * FUNC_INFO_SIZE);
  const view = new DataView(out.buffer);
  records.forEach(([off, type], i) => {
    view.setUint32(i * FUNC_INFO_SIZE, off, le);
    view.setUint32(i * FUNC_INFO_SIZE + 4, type, le);
  });
  return out;
}

function lineInfo(insns: Instruction[], slotOf: number[], le: boolean): Uint8Array | undefined {
  const lines = insns.map((insn, i) => [slotOf[i]!, insn.line] as const).filter(([, line]) => line !== undefined);
  if (lines.length === 0) return undefined;
  const out = new Uint8Array(lines.length * LINE_INFO_SIZE);
  const view = new DataView(out.buffer);
  lines.forEach(([off, line], i) => {
    const at = i * LINE_INFO_SIZE;
    view.setUint32(at, off, le);
    view.setUint32(at + 4, line!.fileNameOff, le);
    view.setUint32(at + 8, line!.lineOff, le);
    view.setUint32(at + 12, ((line!.lineNumber << LINE_SHIFT) | line!.column) >>> 0, le);
  });
  return out;
}

/**
 * The C source line of the instruction at `slot` of a linked program: the line info of the nearest
 * instruction at or before it (line info marks where each source line's code starts).
 */
export function sourceLineAt(instructions: readonly Instruction[], slot: number): SourceLocation | undefined {
  let current = 0;
  let found: SourceLocation | undefined;
  for (const insn of instructions) {
    if (current > slot) break;
    if (insn.line) {
      found = { file: insn.line.fileName, line: insn.line.lineNumber, column: insn.line.column, text: insn.line.line };
    }
    current += insn.slots;
  }
  return found;
}
