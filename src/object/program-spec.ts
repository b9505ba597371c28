/**
 * `ProgramSpec`: the blueprint of one entry program — its type and attach details from the section
 * name, and its instructions with every subprogram it calls appended, so that a spec loads on its own.
 *
 * Instructions carry their references symbolically (`reference` = a map, function or extern name;
 * `symbol` = the function starting there), plus BTF func/line info and CO-RE records as metadata;
 * the loader resolves them into fds and offsets. Editing a spec before loading is safe.
 */

import type { Instruction } from "../asm/index.js";
import type { AttachTypeName, ProgramTypeName } from "../uapi.js";
import type { SectionFlag } from "./section-types.js";

/** Fields a ProgramSpec is built from. */
export interface ProgramSpecInit {
  name: string;
  section: string;
  type: ProgramTypeName;
  expectedAttachType: AttachTypeName | undefined;
  attachTo: string;
  sectionFlags: readonly SectionFlag[];
  autoload: boolean;
  license: string;
  kernelVersion: number;
  instructions: Instruction[];
}

/** The blueprint of an entry program. */
export class ProgramSpec {
  /** The C function name. */
  name: string;
  /** The ELF section name, without a leading `?`. */
  section: string;
  /** The program type, from the section name (`unspec` when the name is not a known program section). */
  type: ProgramTypeName;
  /** The expected attach type given to the kernel at load, if the section implies one. */
  expectedAttachType: AttachTypeName | undefined;
  /** The attach target named by the section: `syscalls/sys_enter_openat` for `tp/syscalls/sys_enter_openat`. */
  attachTo: string;
  /** What the section name says beyond the type: sleepable, frags, a BTF attach target… */
  sectionFlags: readonly SectionFlag[];
  /** Whether `load()` loads it when no program list is given (false for `SEC("?…")`). */
  autoload: boolean;
  /** The object's license string (GPL-only helpers need a GPL-compatible one). */
  license: string;
  /** The kernel version from the `version` section (0 when absent). */
  kernelVersion: number;
  /** The program's instructions followed by those of every function it calls, transitively. */
  instructions: Instruction[];

  constructor(init: ProgramSpecInit) {
    this.name = init.name;
    this.section = init.section;
    this.type = init.type;
    this.expectedAttachType = init.expectedAttachType;
    this.attachTo = init.attachTo;
    this.sectionFlags = init.sectionFlags;
    this.autoload = init.autoload;
    this.license = init.license;
    this.kernelVersion = init.kernelVersion;
    this.instructions = init.instructions;
  }

  /** True when the section marks the program sleepable (`.s` variants, `syscall`). */
  get sleepable(): boolean {
    return this.sectionFlags.includes("sleepable");
  }

  /** A deep copy (instructions cloned), safe to edit independently. */
  copy(): ProgramSpec {
    return new ProgramSpec({ ...this, instructions: this.instructions.map((insn) => insn.clone()) });
  }
}
