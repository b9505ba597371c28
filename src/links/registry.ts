/**
 * Auto-attach: the table from attach kind to the function that attaches a program where its section
 * name says (libbpf's `bpf_program__attach`). A kind gains auto-attach by adding one row here; the
 * kinds without a row fail with NotSupportedError naming the kind and the program type.
 */

import { NotSupportedError } from "../errors.js";
import type { AttachableProgram, TracepointOptions } from "./attachable.js";
import { attachKind, type AttachKind } from "./attach-kind.js";
import type { BaseLink } from "./link.js";
import { autoAttachRawTracepoint } from "./raw-tracepoint.js";
import { autoAttachTracepoint } from "./tracepoint.js";

/** Options of auto-attach: the union of what the implemented kinds accept. */
export type AutoAttachOptions = TracepointOptions;

/** Attaches a program of one kind to the target its section names. */
export type AutoAttach = (program: AttachableProgram, options: AutoAttachOptions) => BaseLink;

/** The kinds that can be attached today. */
const AUTO_ATTACH: Partial<Readonly<Record<AttachKind, AutoAttach>>> = {
  tracepoint: autoAttachTracepoint,
  raw_tracepoint: autoAttachRawTracepoint,
  tp_btf: autoAttachRawTracepoint,
};

/** The kinds `autoAttach` implements, for documentation and tests. */
export function autoAttachKinds(): AttachKind[] {
  return Object.keys(AUTO_ATTACH) as AttachKind[];
}

/**
 * Attaches `program` where its section name says: `tp/syscalls/sys_enter_getpid` to that tracepoint,
 * `raw_tp/sys_enter` to that raw tracepoint, `tp_btf/…` to the tracepoint it was loaded for.
 *
 * @throws NotSupportedError for kinds Waggle cannot attach yet (naming the kind and the program type).
 * @throws TypeError when nothing says where the program attaches, or the section names no target.
 */
export function autoAttach(program: AttachableProgram, options: AutoAttachOptions = {}): BaseLink {
  const kind = attachKind(program);
  if (kind === undefined) {
    throw new TypeError(
      `Cannot attach program "${program.name}": a ${program.type} program${
        program.expectedAttachType !== undefined ? ` of attach type ${program.expectedAttachType}` : ""
      } does not say where it attaches; use a section name libbpf knows, or an explicit attach method`,
    );
  }
  if (kind === "syscall") {
    throw new TypeError(`Cannot attach program "${program.name}": syscall programs are not attached; run them with run()`);
  }
  const attach = AUTO_ATTACH[kind];
  if (attach === undefined) {
    throw new NotSupportedError(
      `attaching ${kind} programs (program "${program.name}", type ${program.type})`,
      `Waggle attaches ${autoAttachKinds().join(", ")} programs so far`,
    );
  }
  return attach(program, options);
}
