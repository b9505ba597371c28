/**
 * A whole BTF as one C header, the way `bpftool btf dump file X format c` writes vmlinux.h: every type in
 * an order a C compiler accepts, with forward declarations where a pointer makes them enough, and repeated
 * names made unique (`name___2`). The printing itself is format-c.ts's `CPrinter`; this file decides what
 * to print when, and under which name.
 *
 * Ordering is a depth-first walk over each type's dependencies (`#order`). A dependency is strong when the
 * dependent type needs the full definition (a member embedded by value, an array element, anything inside
 * an anonymous type, which is defined inline) and weak when a forward declaration suffices (through a
 * pointer to a named struct). Named definitions are queued once their strong dependencies are queued.
 * Emission (`#emit`) then prints the queue, printing a forward declaration first whenever it meets a
 * struct or typedef that is referenced but not yet defined.
 */

import { FormatError } from "../errors.js";
import type { Btf } from "./btf.js";
import { CPrinter, type CNaming } from "./format-c.js";
import { MAX_TYPE_DEPTH } from "./layout.js";
import type { BtfType, TypeId } from "./types.js";

/** Options for {@link dumpC}. */
export interface DumpCOptions {
  /** Wrap the types in bpftool's include guard and `preserve_access_index` pragma (default true). */
  readonly guard?: boolean;
}

const HEADER =
  "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n" +
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
  "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
  "#endif\n\n";

const FOOTER =
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n";

/** Compilers predefine this one; a typedef of it would not compile. */
const BUILTIN_VA_LIST = "__builtin_va_list";

/** Typedefs GCC uses for Arm SIMD types without describing them, and the base types they stand for. */
const MISSING_BASE_TYPES: ReadonlyMap<string, string> = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

/**
 * Steps (ordering and emission visits) allowed per type and per reference between types. A real dump takes
 * about 2 (vmlinux: 494k steps for 127k types and 229k references); corrupt BTF whose anonymous prototypes
 * nest inside each other would otherwise take exponential time.
 */
const STEPS_PER_REFERENCE = 16;

/** Where a type is in the ordering walk. */
const enum Order {
  NotOrdered,
  Ordering,
  Ordered,
}

/** Where a type is in emission. */
const enum Emit {
  NotEmitted,
  Emitting,
  Emitted,
}

/**
 * The C header for every type of `btf` (the base's too, for split BTF), equal to what
 * `bpftool btf dump file X format c` prints.
 *
 * @throws {FormatError} when the types form a cycle C cannot express, or the BTF is corrupt
 * @example
 * writeFileSync("vmlinux.h", dumpC(Btf.parse(readFileSync("/sys/kernel/btf/vmlinux"))));
 */
export function dumpC(btf: Btf, options: DumpCOptions = {}): string {
  const dumper = new CDumper(btf);
  const body = dumper.dump();
  return options.guard === false ? body : HEADER + body + FOOTER;
}

/** The state of one dump: per-type ordering and emission marks, and the names handed out so far. */
class CDumper implements CNaming {
  readonly #btf: Btf;
  readonly #printer: CPrinter;
  readonly #orderState: Order[] = [Order.Ordered];
  readonly #emitState: Emit[] = [Emit.Emitted];
  readonly #forwardDeclared = new Set<TypeId>();
  /** Types some other type refers to (an unreferenced anonymous enum is a top-level declaration). */
  readonly #referenced = new Set<TypeId>();
  /** How often each struct/union/enum tag and each typedef/enumerator identifier has been used. */
  readonly #tagCounts = new Map<string, number>();
  readonly #identCounts = new Map<string, number>();
  readonly #names = new Map<TypeId, string>();
  #queue: TypeId[] = [];
  #out: string[] = [];
  #stepsLeft = 0;

  constructor(btf: Btf) {
    this.#btf = btf;
    this.#printer = new CPrinter(btf, this);
  }

  dump(): string {
    let references = this.#btf.lastId;
    for (let id = 1; id <= this.#btf.lastId; id++) references += this.#markReferences(this.#btf.type(id));
    this.#stepsLeft = STEPS_PER_REFERENCE * references;
    for (let id = 1; id <= this.#btf.lastId; id++) {
      this.#queue = [];
      this.#order(id, false, 0);
      for (const queued of this.#queue) this.#emit(queued, 0, 0);
    }
    return this.#out.join("");
  }

  /** @see CNaming.type — the first of several types sharing a name keeps it; the next get `___2`, `___3`… */
  type(id: TypeId, type: BtfType): string {
    const known = this.#names.get(id);
    if (known !== undefined) return known;
    let name = type.name;
    // Forward declarations and value-less enums name a type defined elsewhere: they take no number.
    if (name !== "" && type.kind !== "fwd" && !((type.kind === "enum" || type.kind === "enum64") && type.values.length === 0)) {
      const count = countUse(type.kind === "typedef" ? this.#identCounts : this.#tagCounts, name);
      if (count > 1) name = `${name}___${count}`;
    }
    this.#names.set(id, name);
    return name;
  }

  /** @see CNaming.enumerator — numbered on every use, as enumerators share the typedefs' namespace. */
  enumerator(name: string): string {
    const count = countUse(this.#identCounts, name);
    return count > 1 ? `${name}___${count}` : name;
  }

  /** Marks the types `type` refers to; returns how many references it has. */
  #markReferences(type: BtfType): number {
    const referenced = this.#referenced;
    switch (type.kind) {
      case "ptr":
      case "typedef":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
      case "func":
      case "var":
      case "decl_tag":
        referenced.add(type.type);
        return 1;
      case "array":
        referenced.add(type.type).add(type.indexType);
        return 2;
      case "struct":
      case "union":
        for (const member of type.members) referenced.add(member.type);
        return type.members.length;
      case "func_proto":
        for (const param of type.params) referenced.add(param.type);
        return type.params.length;
      case "datasec":
        for (const variable of type.vars) referenced.add(variable.type);
        return type.vars.length;
      case "void":
      case "int":
      case "float":
      case "enum":
      case "enum64":
      case "fwd":
        return 0;
    }
  }

  /**
   * Queues the named definitions `id` needs, then `id` itself; returns whether the link that led here is
   * strong (the definition must come first) rather than weak (a forward declaration will do).
   */
  #order(id: TypeId, throughPointer: boolean, depth: number): boolean {
    this.#step(id, depth);
    const state = this.#orderState[id] ?? Order.NotOrdered;
    if (state === Order.Ordered) return true;
    const type = this.#btf.type(id);
    if (state === Order.Ordering) {
      // A loop back to a named struct through a pointer is what forward declarations are for.
      if ((type.kind === "struct" || type.kind === "union") && throughPointer && type.name !== "") return false;
      throw this.#error(`type [${id}] (${type.kind}) contains itself`);
    }
    switch (type.kind) {
      case "int":
      case "float":
        this.#orderState[id] = Order.Ordered;
        return false;
      case "ptr": {
        const strong = this.#order(type.type, true, depth + 1);
        this.#orderState[id] = Order.Ordered;
        return strong;
      }
      case "array":
        return this.#order(type.type, false, depth + 1);
      case "struct":
      case "union":
        if (throughPointer && type.name !== "") return false;
        this.#orderState[id] = Order.Ordering;
        for (const member of type.members) this.#order(member.type, false, depth + 1);
        if (type.name !== "") this.#queue.push(id);
        this.#orderState[id] = Order.Ordered;
        return true;
      case "enum":
      case "enum64":
      case "fwd":
        if (type.name !== "" || !this.#referenced.has(id)) this.#queue.push(id);
        this.#orderState[id] = Order.Ordered;
        return true;
      case "typedef": {
        const strong = this.#order(type.type, throughPointer, depth + 1);
        if (throughPointer && !strong) return false;
        this.#queue.push(id);
        this.#orderState[id] = Order.Ordered;
        return true;
      }
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
        return this.#order(type.type, throughPointer, depth + 1);
      case "func_proto": {
        let strong = this.#order(type.returnType, throughPointer, depth + 1);
        for (const param of type.params) strong = this.#order(param.type, throughPointer, depth + 1) || strong;
        return strong;
      }
      case "void":
      case "func":
      case "var":
      case "datasec":
      case "decl_tag":
        this.#orderState[id] = Order.Ordered;
        return false;
    }
  }

  /**
   * Prints `id` if it is a top-level definition (`container` 0), or else what must precede the definition
   * of `container` (the struct or typedef being defined) that uses it: forward declarations.
   */
  #emit(id: TypeId, container: TypeId, depth: number): void {
    this.#step(id, depth);
    const state = this.#emitState[id] ?? Emit.NotEmitted;
    if (state === Emit.Emitted) return;
    const type = this.#btf.type(id);
    const topLevel = container === 0;

    if (state === Emit.Emitting) {
      // Referenced while being defined: a forward declaration breaks the cycle.
      if (this.#forwardDeclared.has(id)) return;
      if (type.kind === "struct" || type.kind === "union") {
        if (id === container || type.name === "") return;
        this.#printed(() => this.#printer.text(`${type.kind} ${this.type(id, type)}`));
        this.#forwardDeclared.add(id);
      } else if (type.kind === "typedef") {
        if (type.name !== BUILTIN_VA_LIST) this.#printed(() => this.#printer.typedef(id, type, 0));
        this.#forwardDeclared.add(id);
      }
      return;
    }

    switch (type.kind) {
      case "int": {
        const name = this.type(id, type);
        const base = MISSING_BASE_TYPES.get(name);
        if (base !== undefined) this.#out.push(`typedef ${base} ${name};\n\n`);
        this.#emitState[id] = Emit.Emitted;
        return;
      }
      case "enum":
      case "enum64":
        if (topLevel) this.#printed(() => this.#printer.enum(id, type, 0));
        this.#emitState[id] = Emit.Emitted;
        return;
      case "ptr":
      case "volatile":
      case "const":
      case "restrict":
      case "type_tag":
      case "array":
        this.#emit(type.type, container, depth + 1);
        return;
      case "fwd":
        this.#printed(() => this.#printer.fwd(id, type));
        this.#emitState[id] = Emit.Emitted;
        return;
      case "typedef":
        this.#emitState[id] = Emit.Emitting;
        this.#emit(type.type, id, depth + 1);
        if (!this.#forwardDeclared.has(id) && type.name !== BUILTIN_VA_LIST) {
          this.#printed(() => this.#printer.typedef(id, type, 0));
        }
        this.#emitState[id] = Emit.Emitted;
        return;
      case "struct":
      case "union":
        this.#emitState[id] = Emit.Emitting;
        if (topLevel || type.name === "") {
          // Its members' types are printed with it: declare what they need first.
          const inner = type.name === "" ? container : id;
          for (const member of type.members) this.#emit(member.type, inner, depth + 1);
        } else if (!this.#forwardDeclared.has(id) && id !== container) {
          this.#printed(() => this.#printer.text(`${type.kind} ${this.type(id, type)}`));
          this.#forwardDeclared.add(id);
        }
        if (topLevel) {
          this.#printed(() => this.#printer.struct(id, type, 0));
          this.#emitState[id] = Emit.Emitted;
        } else {
          this.#emitState[id] = Emit.NotEmitted;
        }
        return;
      case "func_proto":
        this.#emit(type.returnType, container, depth + 1);
        for (const param of type.params) this.#emit(param.type, container, depth + 1);
        return;
      case "void":
      case "float":
      case "func":
      case "var":
      case "datasec":
      case "decl_tag":
        return;
    }
  }

  /** Counts one visit of `id`, refusing graphs too deep or too tangled for any real C header. */
  #step(id: TypeId, depth: number): void {
    if (depth > MAX_TYPE_DEPTH) throw this.#error(`type [${id}] nests deeper than ${MAX_TYPE_DEPTH} (a cycle?)`);
    if (--this.#stepsLeft < 0) throw this.#error(`the types reach each other too many ways (at type [${id}])`);
  }

  #error(what: string): FormatError {
    return new FormatError("BTF", what, { file: this.#btf.file, section: ".BTF" });
  }

  /** Runs `print` and appends what it printed as one top-level declaration. */
  #printed(print: () => void): void {
    print();
    this.#out.push(`${this.#printer.take()};\n\n`);
  }
}

/** Counts one more use of `name` and returns the count. */
function countUse(counts: Map<string, number>, name: string): number {
  const count = (counts.get(name) ?? 0) + 1;
  counts.set(name, count);
  return count;
}
