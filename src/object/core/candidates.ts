/**
 * Candidate target types for a local type: the types of the kernel's BTF (vmlinux first; kernel
 * modules only when vmlinux has none, as libbpf does) whose essential name equals the local type's
 * and whose kind is compatible. Flavored target names (`foo___v2`) count too, so the string section is
 * scanned once per target BTF for names containing `___`.
 */

import type { Btf, TypeId } from "../../btf/index.js";
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

/** Per target BTF: flavored type names by essential name. */
const flavoredNames = new WeakMap<Btf, Map<string, string[]>>();

/** The names in `btf`'s string section that carry a `___flavor`, grouped by essential name. */
function flavorsOf(btf: Btf): Map<string, string[]> {
  let map = flavoredNames.get(btf);
  if (map) return map;
  map = new Map();
  const bytes = btf.strings.bytes();
  const decoder = new TextDecoder();
  for (let at = bytes.indexOf(0x5f, 0); at !== -1; ) {
    // Find "___" and expand to the whole NUL-terminated string around it.
    const hit = indexOfTriple(bytes, at);
    if (hit === -1) break;
    let start = hit;
    while (start > 0 && bytes[start - 1] !== 0) start--;
    let end = hit;
    while (end < bytes.length && bytes[end] !== 0) end++;
    const name = decoder.decode(bytes.subarray(start, end));
    const essential = essentialName(name);
    if (essential !== name) {
      const list = map.get(essential);
      if (list) list.push(name);
      else map.set(essential, [name]);
    }
    at = end + 1;
  }
  flavoredNames.set(btf, map);
  return map;
}

/** The index of the next `___` at or after `from`, or -1. */
function indexOfTriple(bytes: Uint8Array, from: number): number {
  for (let at = bytes.indexOf(0x5f, from); at !== -1 && at + 2 < bytes.length; at = bytes.indexOf(0x5f, at + 1)) {
    if (bytes[at + 1] === 0x5f && bytes[at + 2] === 0x5f) return at;
  }
  return -1;
}

/** Candidates for local type `localId`: in the main target, else in the modules. */
export function findCandidates(local: Btf, localId: TypeId, targets: CoreTargets): Candidate[] {
  const localType = local.type(localId);
  const essential = essentialName(localType.name);
  const search = (target: CoreTarget): Candidate[] => {
    const names = [essential, ...(flavorsOf(target.btf).get(essential) ?? [])];
    const out: Candidate[] = [];
    for (const name of names) {
      for (const id of target.btf.typesByName(name)) {
        if (target.btf.base && id < target.btf.firstId) continue; // a module's base types are vmlinux's
        if (kindsCompatible(localType, target.btf.type(id))) out.push({ target, id });
      }
    }
    return out.sort((a, b) => a.id - b.id);
  };
  const main = search(targets.main);
  if (main.length > 0) return main;
  return targets.modules().flatMap(search);
}
