/**
 * CO-RE "flavors": a local type or field named `task_struct___old` matches the kernel's `task_struct`.
 * The essential name drops everything from a `___` separator on (the separator must sit between two
 * characters that are not underscores), so several variants of one kernel type can live in one object.
 */

/** `name` without its `___flavor` suffix. */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== "_" && name[i + 1] === "_" && name[i + 2] === "_" && name[i + 3] === "_" && name[i + 4] !== "_") {
      return name.slice(0, i + 1);
    }
  }
  return name;
}
