/**
 * Names and comment text for generated TypeScript: turning C names from BTF into identifiers a TypeScript
 * module accepts, giving each declaration a name of its own, quoting property keys, and making arbitrary
 * BTF strings safe inside a `/** … *\/` comment. The emitter (emit-typescript.ts) is the only user.
 *
 * C names are kept as they are wherever TypeScript allows them. The exceptions were found by compiling a
 * module that declares `export interface NAME`, `export type NAME` and `export const NAME` for each
 * candidate word with the TypeScript compiler: those that fail get a trailing `_` (`class_`, `string_`).
 */

/**
 * Words that cannot name an exported interface, type alias or const in a TypeScript module: the
 * ECMAScript reserved words, those reserved in strict mode (modules are strict), words TypeScript parses
 * as type operators, the predefined type names, and `eval`/`arguments`. `Uint8Array` is added because the
 * generated code refers to the global of that name, which a declaration would shadow.
 */
const RESERVED: ReadonlySet<string> = new Set([
  // ECMAScript reserved words.
  "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum",
  "export", "extends", "false", "finally", "for", "function", "if", "import", "in", "instanceof", "new", "null",
  "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with",
  // Reserved in strict mode and at the top level of a module.
  "implements", "interface", "let", "package", "private", "protected", "public", "static", "yield", "await",
  // Parsed as type operators or clauses where a declaration name is expected.
  "as", "readonly", "keyof", "infer", "unique",
  // Predefined type names, which cannot name an interface or a type alias.
  "any", "unknown", "never", "number", "bigint", "boolean", "string", "symbol", "object", "undefined",
  // Not bindable in strict mode.
  "eval", "arguments",
  // Globals the generated declarations use.
  "Uint8Array",
]);

/** An ECMAScript identifier made of ASCII characters, which needs no quoting as a property key. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A TypeScript identifier for the C name `name`: characters an identifier cannot hold become `_` (so
 * `.rodata` becomes `_rodata`), a leading digit gets a `_` before it, and a reserved word gets one after.
 */
export function tsIdentifier(name: string): string {
  let id = name.replace(/[^A-Za-z0-9_$]/g, "_");
  if (id === "" || /^[0-9]/.test(id)) id = `_${id}`;
  return RESERVED.has(id) ? `${id}_` : id;
}

/** A property key for a member or enumerator name: as it is when it is an identifier, else a quoted string. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

/**
 * `text` made safe for one line of a `/** … *\/` comment: line breaks become spaces and `*\/` cannot end
 * the comment early. BTF strings come from the input and may hold anything.
 */
export function commentText(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, " ").replace(/\*\//g, "*\\/");
}

/**
 * The names given out in one generated module. C keeps struct, union and enum tags apart from typedef
 * names, and BTF may hold several types of one name; TypeScript has one namespace for types. The first
 * type to ask for a name gets it, and later ones get the suffix `___2`, `___3`… (as vmlinux.h renames
 * repeated names).
 */
export class NameTable {
  readonly #used = new Set<string>();

  /** A fresh name based on the C name `name`, now taken. */
  take(name: string): string {
    const base = tsIdentifier(name);
    let candidate = base;
    for (let n = 2; this.#used.has(candidate); n++) candidate = `${base}___${n}`;
    this.#used.add(candidate);
    return candidate;
  }
}
