/**
 * Code generation from BTF: TypeScript declarations of the values the runtime's codecs decode, for typed
 * map keys, values and globals (and, later, `waggle gen`). Pure functions of a `Btf` returning source
 * text: no I/O, and nothing executable in what they write.
 */

export { emitTypeScript, type EmitTypeScriptOptions } from "./emit-typescript.js";
