/**
 * Candidate target types for a local type: the types of the kernel's BTF (vmlinux first; kernel
 * modules only when vmlinux has none, as libbpf does) whose essential name equals the local type's
 * and whose kind is compatible. Flavored target names (`foo___v2`) count too. Both come from the target
 * `Btf`'s lookups restricted to the compatible kinds, so the first lookup in vmlinux reads the names of
 * its structs (or enums, …) and nothing else.
 */

import type { Btf, BtfType, TypeId } from "../../btf/index.js";
import { kindsCompatible } from "./compat.js";
import { essentialName } from "./names.js";

/** A BTF CO-RE relocations may resolve against: the kernel's, a module's, or a custom file. */
export interface CoreTarget {
  readonly btf: Btf;
  /** `vmlinux`, a module name, or a description of a custom BTF. */
  readonly name: string;
}

/** Where to look: the main BTF (vmlinux or a custom file), then — only if it has no candidate — modules. */
export interface CoreTargets {
  readonly main: CoreTarget;
  /** Module BTFs, loaded on first need (none for a custom BTF, as with libbpf). */
  modules(): readonly CoreTarget[];
}

/** One candidate: a type in a target. */
export interface Candidate {
  readonly target: CoreTarget;
  readonly id: TypeId;
}

/** The target kinds `kindsCompatible` accepts for a local kind: the same, or any enum for an enum. */
function compatibleKinds(kind: BtfType["kind"]): readonly BtfType["kind"][] {
  return kind === "enum" || kind === "enum64" ? ["enum", "enum64"] : [kind];
}

/** Candidates for local type `localId`: in the main target, else in the modules. */
export function findCandidates(local: Btf, localId: TypeId, targets: CoreTargets): Candidate[] {
  const localType = local.type(localId);
  const essential = essentialName(localType.name);
  const kinds = compatibleKinds(localType.kind);
  const search = (target: CoreTarget): Candidate[] => {
    const out: Candidate[] = [];
    for (const id of [...target.btf.typesByName(essential, kinds), ...target.btf.flavorsOf(essential, kinds)]) {
      if (target.btf.base && id < target.btf.firstId) continue; // a module's base types are vmlinux's
      if (kindsCompatible(localType, target.btf.type(id))) out.push({ target, id });
    }
    return out.sort((a, b) => a.id - b.id);
  };
  const main = search(targets.main);
  if (main.length > 0) return main;
  return targets.modules().flatMap(search);
}
