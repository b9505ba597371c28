/**
 * Printing BTF types as C, in the layout `bpftool btf dump file X format c` uses: tab indentation, one
 * member per line, anonymous structs/unions/enums inlined where they are used, bitfields as `int x: 3`,
 * explicit `long: 64;`-style padding where the compiler would not place the next member by itself, and
 * `__attribute__((packed))` when the offsets show a packed struct.
 *
 * Declarators are built the way C reads them, from the name outwards: the type chain (pointers,
 * qualifiers, arrays, function prototypes) is walked from the outermost type to its base, then printed
 * from the base back, so that `int (*handlers[3])(int)` and `char * const p` come out right.
 *
 * `CPrinter` is the engine; `formatCType`/`formatCDecl` print one type with the names as they are, and a
 * whole-file dump (vmlinux.h) can reuse the engine with its own naming and ordering.
 */

import { FormatError } from "../errors.js";
import type { Btf } from "./btf.js";
import { MAX_TYPE_DEPTH } from "./layout.js";
import type { BtfEnum, BtfEnum64, BtfFwd, BtfStruct, BtfType, BtfTypedef, BtfUnion, TypeId } from "./types.js";

/**
 * The most lines (members, padding, enumerators) and parameters one declaration may print. Real ones are
 * far smaller (vmlinux's largest needs a few thousand); the limit stops corrupt BTF from printing forever:
 * a huge size or offset asks for millions of padding lines, and anonymous types reused inside each other
 * expand exponentially.
 */
const MAX_PRINTED_ITEMS = 100_000;

/** Padding types, widest first, with their sizes in bits (`long` is 64 bits on BPF). */
const PADDING_TYPES = [
  { name: "long", bits: 64 },
  { name: "int", bits: 32 },
  { name: "short", bits: 16 },
  { name: "char", bits: 8 },
] as const;

/** How a printer names things: a whole-file dump renames repeated names (`name___2`), as C requires. */
export interface CNaming {
  /** The name to print for the named struct, union, enum, fwd or typedef `id`. */
  type(id: TypeId, type: BtfType): string;
  /** The name to print for an enumerator (enumerators share one namespace in C). */
  enumerator(name: string): string;
}

/** Names as they are in the BTF. */
const AS_IS: CNaming = { type: (_id, type) => type.name, enumerator: (name) => name };

/** Prints declarations into a buffer; `take()` returns one declaration's text and starts the next. */
export class CPrinter {
  readonly #btf: Btf;
  readonly #naming: CNaming;
  #out: string[] = [];
  #items = 0;
  #depth = 0;

  constructor(btf: Btf, naming: CNaming = AS_IS) {
    this.#btf = btf;
    this.#naming = naming;
  }

  /** Everything printed since the last call, as one string; the size limit starts over. */
  take(): string {
    const text = this.#out.join("");
    this.#out = [];
    this.#items = 0;
    return text;
  }

  /** Prints text as it is (for the punctuation between declarations). */
  text(text: string): void {
    this.#emit(text);
  }

  /** Prints `id` as the type of a declarator called `name` ('' for an abstract declarator). */
  declaration(id: TypeId, name: string, level: number): void {
    if (++this.#depth > MAX_TYPE_DEPTH) throw this.#error(`type [${id}] nests deeper than ${MAX_TYPE_DEPTH}`);
    this.#chain(this.#declarationChain(id), name, level);
    this.#depth--;
  }

  /** Prints a struct or union definition: `struct name {…}` (without the `;`). */
  struct(id: TypeId, type: BtfStruct | BtfUnion, level: number): void {
    if (++this.#depth > MAX_TYPE_DEPTH) throw this.#error(`type [${id}] nests deeper than ${MAX_TYPE_DEPTH}`);
    const isStruct = type.kind === "struct";
    const packed = isStruct && this.#isPacked(type);
    const name = type.name === "" ? "" : ` ${this.#naming.type(id, type)}`;
    this.#emit(`${type.kind}${name} {`);
    let offset = 0;
    let previousBitfield = false;
    for (const member of type.members) {
      this.#count();
      const memberAlign = packed ? 1 : this.#btf.alignof(member.type);
      const inBitfield = previousBitfield && member.bitfieldSize !== 0;
      this.#padding(offset, member.bitOffset, memberAlign, inBitfield, level + 1);
      this.#emit(`\n${indent(level + 1)}`);
      this.declaration(member.type, member.name, level + 1);
      if (member.bitfieldSize !== 0) {
        this.#emit(`: ${member.bitfieldSize}`);
        offset = member.bitOffset + member.bitfieldSize;
        previousBitfield = true;
      } else {
        offset = member.bitOffset + this.#sizeOrZero(member.type) * 8;
        previousBitfield = false;
      }
      this.#emit(";");
    }
    if (isStruct) this.#padding(offset, type.size * 8, this.#btf.alignof(id), false, level + 1);
    this.#emit(type.members.length > 0 || type.size > 0 ? `\n${indent(level)}}` : "}");
    if (packed) this.#emit(" __attribute__((packed))");
    this.#depth--;
  }

  /** Prints an enum definition: `enum name {…}`, or just `enum name` when it has no values. */
  enum(id: TypeId, type: BtfEnum | BtfEnum64, level: number): void {
    this.#emit(type.name === "" ? "enum" : `enum ${this.#naming.type(id, type)}`);
    if (type.values.length === 0) return;
    this.#emit(" {");
    for (const value of type.values) {
      this.#count();
      this.#emit(`\n${indent(level + 1)}${this.#naming.enumerator(value.name)} = ${enumValue(type, value.value)},`);
    }
    this.#emit(`\n${indent(level)}}`);
  }

  /** Prints a typedef definition: `typedef <type> name` (without the `;`). */
  typedef(id: TypeId, type: BtfTypedef, level: number): void {
    const name = this.#naming.type(id, type);
    // Old GCC describes __gnuc_va_list as a typedef of void; C needs the builtin.
    if (type.type === 0 && name === "__gnuc_va_list") {
      this.#emit("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.#emit("typedef ");
    this.declaration(type.type, name, level);
  }

  /** Prints a forward declaration's type: `struct name` or `union name`. */
  fwd(id: TypeId, type: BtfFwd): void {
    this.#emit(`${type.union ? "union" : "struct"} ${this.#naming.type(id, type)}`);
  }

  /** The ids from `id` down to the base type of its declarator, outermost first. */
  #declarationChain(id: TypeId): TypeId[] {
    const chain: TypeId[] = [];
    let current = id;
    for (;;) {
      if (chain.length > MAX_TYPE_DEPTH) throw this.#error(`type [${id}] is a chain longer than ${MAX_TYPE_DEPTH}`);
      chain.push(current);
      const type = this.#btf.type(current);
      switch (type.kind) {
        case "ptr":
        case "volatile":
        case "const":
        case "restrict":
        case "type_tag":
        case "array":
          current = type.type;
          break;
        case "func_proto":
          current = type.returnType;
          break;
        case "void":
        case "int":
        case "float":
        case "enum":
        case "enum64":
        case "fwd":
        case "struct":
        case "union":
        case "typedef":
          return chain;
        case "func":
        case "var":
        case "datasec":
        case "decl_tag":
          throw this.#error(`type [${current}] (${type.kind}) cannot be part of a C type`);
      }
    }
  }

  /** Prints a chain (as a stack: its base on top), then the declarator name. */
  #chain(stack: TypeId[], name: string, level: number): void {
    let lastWasPointer = true;
    while (stack.length > 0) {
      const id = stack.pop()!;
      const type = this.#btf.type(id);
      switch (type.kind) {
        case "void":
          this.#qualifiers(stack);
          this.#emit("void");
          break;
        case "int":
        case "float":
          this.#qualifiers(stack);
          this.#emit(type.name);
          break;
        case "struct":
        case "union":
          this.#qualifiers(stack);
          if (type.name === "") this.struct(id, type, level);
          else this.#emit(`${type.kind} ${this.#naming.type(id, type)}`);
          break;
        case "enum":
        case "enum64":
          this.#qualifiers(stack);
          if (type.name === "") this.enum(id, type, level);
          else this.#emit(`enum ${this.#naming.type(id, type)}`);
          break;
        case "fwd":
          this.#qualifiers(stack);
          this.fwd(id, type);
          break;
        case "typedef":
          this.#qualifiers(stack);
          this.#emit(this.#naming.type(id, type));
          break;
        case "ptr":
          this.#emit(lastWasPointer ? "*" : " *");
          break;
        case "volatile":
        case "const":
        case "restrict":
          this.#emit(` ${type.kind}`);
          break;
        case "type_tag":
          this.#qualifiers(stack);
          this.#emit(
            type.attribute === true
              ? ` __attribute__((${type.name}))`
              : ` __attribute__((btf_type_tag("${type.name}")))`,
          );
          break;
        case "array": {
          // Qualifiers on an array (a GCC quirk) mean nothing in C; they are dropped.
          this.#dropQualifiers(stack);
          if (stack.length === 0) {
            this.#declarator(name, lastWasPointer);
            this.#emit(`[${type.nelems}]`);
            return;
          }
          const multidimensional = this.#btf.type(stack[stack.length - 1]!).kind === "array";
          if (name !== "" && !lastWasPointer) this.#emit(" ");
          if (!multidimensional) this.#emit("(");
          this.#chain(stack, name, level);
          if (!multidimensional) this.#emit(")");
          this.#emit(`[${type.nelems}]`);
          return;
        }
        case "func_proto": {
          this.#dropQualifiers(stack);
          if (stack.length > 0) {
            this.#emit(" (");
            this.#chain(stack, name, level);
            this.#emit(")");
          } else {
            this.#declarator(name, lastWasPointer);
          }
          this.#params(type.params, level);
          return;
        }
        case "func":
        case "var":
        case "datasec":
        case "decl_tag":
          throw this.#error(`type [${id}] (${type.kind}) cannot be part of a C type`);
      }
      lastWasPointer = type.kind === "ptr";
    }
    this.#declarator(name, lastWasPointer);
  }

  /** Prints `(params)`: `(void)` when there are none, `...` for a trailing void parameter. */
  #params(params: readonly { name: string; type: TypeId }[], level: number): void {
    this.#emit("(");
    if (params.length === 0 || (params.length === 1 && params[0]!.type === 0)) {
      this.#emit("void)");
      return;
    }
    params.forEach((param, index) => {
      this.#count();
      if (index > 0) this.#emit(", ");
      if (index === params.length - 1 && param.type === 0) this.#emit("...");
      else this.declaration(param.type, param.name, level);
    });
    this.#emit(")");
  }

  /** Prints the qualifiers at the top of the stack, which C writes before the base type. */
  #qualifiers(stack: TypeId[]): void {
    while (stack.length > 0) {
      const type = this.#btf.type(stack[stack.length - 1]!);
      if (type.kind !== "volatile" && type.kind !== "const" && type.kind !== "restrict") return;
      this.#emit(`${type.kind} `);
      stack.pop();
    }
  }

  #dropQualifiers(stack: TypeId[]): void {
    while (stack.length > 0) {
      const kind = this.#btf.type(stack[stack.length - 1]!).kind;
      if (kind !== "volatile" && kind !== "const" && kind !== "restrict" && kind !== "type_tag") return;
      stack.pop();
    }
  }

  /** Prints the declarator name, separated by a space unless it follows a `*`. */
  #declarator(name: string, lastWasPointer: boolean): void {
    this.#emit(name !== "" && !lastWasPointer ? ` ${name}` : name);
  }

  /**
   * Prints unnamed bitfields that move the next member from bit `from` to bit `to`, where the compiler
   * would not put it by itself: first one that reaches the next boundary of the widest padding type that
   * fits (`long: 0` style when only alignment is needed), then full-width ones, then the narrowest that
   * covers what is left.
   */
  #padding(from: number, to: number, nextAlign: number, inBitfield: boolean, level: number): void {
    if (from >= to) return;
    let offset = from;
    let pad: (typeof PADDING_TYPES)[number] = PADDING_TYPES[PADDING_TYPES.length - 1]!;
    let aligned = offset;
    for (const candidate of PADDING_TYPES) {
      pad = candidate;
      aligned = roundUp(offset, candidate.bits);
      if (aligned <= to) break;
    }
    if (aligned > offset && aligned <= to) {
      const compilerAligns = roundUp(offset, nextAlign * 8) === aligned;
      const restFitsInHole = aligned !== to && to - aligned <= aligned - offset;
      if (inBitfield || (aligned === to && !compilerAligns) || restFitsInHole) {
        this.#count();
        this.#emit(`\n${indent(level)}${pad.name}: ${inBitfield ? aligned - offset : 0};`);
      }
      offset = aligned;
    }
    while (offset !== to) {
      this.#count();
      const bits = Math.min(to - offset, pad.bits);
      if (bits === pad.bits) {
        this.#emit(`\n${indent(level)}${pad.name}: ${pad.bits};`);
        offset += bits;
        continue;
      }
      const narrow = [...PADDING_TYPES].reverse().find((candidate) => candidate.bits >= bits)!;
      this.#emit(`\n${indent(level)}${narrow.name}: ${bits};`);
      offset += bits;
    }
  }

  /** Whether the member offsets or the size show that a struct was declared packed. */
  #isPacked(type: BtfStruct): boolean {
    let maxAlign = 1;
    for (const member of type.members) {
      const align = this.#btf.alignof(member.type);
      if (member.bitfieldSize === 0 && member.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(maxAlign, align);
    }
    return type.size % maxAlign !== 0;
  }

  /** `sizeof` a member's type, or 0 for one without a size (as a flexible array of an incomplete type). */
  #sizeOrZero(id: TypeId): number {
    try {
      return this.#btf.sizeof(id);
    } catch (error) {
      if (error instanceof FormatError) return 0;
      throw error;
    }
  }

  #count(): void {
    if (++this.#items > MAX_PRINTED_ITEMS) {
      throw this.#error(`the declaration expands to more than ${MAX_PRINTED_ITEMS} lines (a huge size or a cycle?)`);
    }
  }

  #emit(text: string): void {
    this.#out.push(text);
  }

  #error(what: string): FormatError {
    return new FormatError("BTF", what, { file: this.#btf.file, section: ".BTF" });
  }
}

function indent(level: number): string {
  return "\t".repeat(level);
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** An enumerator's value as C: `%d`/`%u` for 32-bit enums, with `LL`/`ULL` for 64-bit ones. */
function enumValue(type: BtfEnum | BtfEnum64, value: number | bigint): string {
  if (type.kind === "enum64") {
    const bits = BigInt(value);
    return type.signed ? `${BigInt.asIntN(64, bits)}LL` : `${BigInt.asUintN(64, bits)}ULL`;
  }
  const number = Number(value);
  return String(type.signed ? number | 0 : number >>> 0);
}

/**
 * A C type expression for the type `id`, around the declarator `name` when given: `int (*name)[4]`,
 * `const char *`, `void (*handlers[3])(int)`. Named structs, unions and enums print as references
 * (`struct task_struct`); anonymous ones are defined inline. A FUNC prints as its prototype, a VAR as its
 * variable's type.
 *
 * @throws {TypeError} for a DATASEC or DECL_TAG, which are not C types
 * @throws {FormatError} when the BTF is corrupt (missing or cyclic types)
 * @example
 * formatCType(btf, btf.find("handlers_t")!, "table"); // "handler_fn table[4]"
 */
export function formatCType(btf: Btf, id: TypeId, name = ""): string {
  const type = btf.type(id);
  const printer = new CPrinter(btf);
  switch (type.kind) {
    case "func":
    case "var":
      printer.declaration(type.type, name, 0);
      break;
    case "datasec":
    case "decl_tag":
      throw new TypeError(`Cannot format BTF type [${id}] as C: a ${type.kind} is not a C type`);
    default:
      printer.declaration(id, name, 0);
  }
  return printer.take();
}

/**
 * The C declaration of the named type `id`, ending with `;`: a struct, union or enum with its full body
 * (members one per line, tab-indented, as bpftool prints them), a forward declaration, a typedef, a
 * function prototype or a variable (each with its `static`/`extern` linkage).
 *
 * @throws {TypeError} for kinds that declare nothing by themselves (int, pointer, array, qualifiers,
 *   prototypes, DATASEC, DECL_TAG, float)
 * @throws {FormatError} when the BTF is corrupt (missing or cyclic types)
 * @example
 * formatCDecl(btf, btf.find("iphdr", "struct")!); // "struct iphdr {\n\t__u8 ihl: 4;\n…};"
 */
export function formatCDecl(btf: Btf, id: TypeId): string {
  const type = btf.type(id);
  const printer = new CPrinter(btf);
  switch (type.kind) {
    case "struct":
    case "union":
      printer.struct(id, type, 0);
      break;
    case "enum":
    case "enum64":
      printer.enum(id, type, 0);
      break;
    case "fwd":
      printer.fwd(id, type);
      break;
    case "typedef":
      printer.typedef(id, type, 0);
      break;
    case "func":
    case "var":
      return `${linkagePrefix(type.linkage)}${formatCType(btf, id, type.name)};`;
    case "void":
    case "int":
    case "ptr":
    case "array":
    case "volatile":
    case "const":
    case "restrict":
    case "func_proto":
    case "datasec":
    case "float":
    case "decl_tag":
    case "type_tag":
      throw new TypeError(`Cannot format BTF type [${id}] as a C declaration: a ${type.kind} declares nothing`);
  }
  return `${printer.take()};`;
}

function linkagePrefix(linkage: "static" | "global" | "extern"): string {
  return linkage === "global" ? "" : `${linkage} `;
}
