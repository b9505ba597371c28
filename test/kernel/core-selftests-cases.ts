/**
 * The Linux kernel's CO-RE relocation selftest cases, transcribed from
 * `tools/testing/selftests/bpf/prog_tests/core_reloc.c` of Linux 6.1 (Debian's linux-source-6.1) —
 * its `test_cases[]` array, in the same order, with helpers named after its macros
 * (`FLAVORS_CASE(name)` → `flavorsCase(name)`), so that the two can be read side by side.
 *
 * A case names a BPF object (`bpf_obj_file`), the program in it, the object whose `.BTF` is the target
 * BTF (`btf_src_file`: the "kernel" the relocations are resolved against), the input the test writes into
 * `data.in`, and the output the program must leave in `data.out` — or that loading must fail.
 *
 * Input and output are C values written as in the C file's compound literals: `{ type, value }`, where
 * `type` is a type of `progs/core_reloc_types.h` (the header the C test includes) and `value` follows C's
 * designated initialisers — objects by member name (members of anonymous structs and unions by their own
 * name), arrays as arrays or sparse objects by index (`{ 2: 1 }` is `{ [2] = 1 }`), pointers as the
 * number cast to them (`(void *)4` is `4`), integers converted to the field as C converts them (modulo
 * its width, bitfields included). Unnamed members are zero. `sizeof()`/`offsetof()` stand for the C
 * operators, evaluated on that header's types; `processComm` stands for the running process's name
 * (the C test expects "test_progs", its own).
 *
 * The bytes are laid out by test/kernel/core-selftests.test.ts from the BTF of `core_reloc_types.bpf.o`,
 * which scripts/core-selftests.mjs compiles from the header.
 */

/** A C expression the test evaluates: `sizeof`, `offsetof`, or the running process's name. */
export class CSymbol {
  constructor(
    readonly kind: "sizeof" | "offsetof" | "comm" | "commLength",
    /** `struct x`, `union x`, `enum x` or a typedef name, in core_reloc_types.h (or `btf`). */
    readonly type = "",
    /** A member path (`arr_field[1]`, `a.b`) for offsetof and for the size of a member. */
    readonly member?: string,
    /** Where the type lives when not in core_reloc_types.h: a kernel module's BTF. */
    readonly btf?: string,
  ) {}

  toString(): string {
    switch (this.kind) {
      case "sizeof":
        return this.member === undefined ? `sizeof(${this.type})` : `sizeof(((${this.type} *)0)->${this.member})`;
      case "offsetof":
        return `offsetof(${this.type}, ${this.member})`;
      case "comm":
        return "<this process's comm>";
      case "commLength":
        return "<length of this process's comm, NUL included>";
    }
  }
}

/** A C initialiser value. */
export type CValue = number | bigint | boolean | string | CSymbol | readonly CValue[] | { readonly [member: string]: CValue };

/** A blob of C data: one value of `type`, or consecutive elements of it (a C array literal). */
export interface CData {
  /** The type, spelled as in C: `struct core_reloc_flavors`. */
  readonly type: string;
  readonly value: CValue | readonly CValue[];
  /** True when `value` is an array of `type` elements (`(struct x[]){ ... }`). */
  readonly array?: true;
  /** Bytes used, when fewer than the value's size (`input_len`). */
  readonly length?: number;
}

/** One entry of `test_cases[]`. */
export interface CoreSelftestCase {
  /** `case_name`, the subtest's name. */
  readonly name: string;
  /** `bpf_obj_file` without `.bpf.o`. */
  readonly object: string;
  /** `prog_name`: the one program loaded and attached. */
  readonly program: string;
  /** `raw_tp_name`: the raw tracepoint to attach to; absent for tp_btf programs (attached by BTF id). */
  readonly rawTracepoint?: string;
  /** `btf_src_file` without `.bpf.o`: the target BTF; absent means the running kernel's (and its modules'). */
  readonly targetBtf?: string;
  /** Written to `data.in` before attaching (absent: `input_len` is 0). */
  readonly input?: CData;
  /** Expected in `data.out` after the trigger; its size is `output_len`. */
  readonly output?: CData;
  /** `fails`: loading must fail. */
  readonly fails?: true;
  /**
   * How libbpf 1.1.2 makes a `fails` case fail on Linux 6.18 (not in the C table: observed by running it):
   * `poison` — the relocation cannot be resolved, the instruction becomes `call 0xbad2310` and the verifier
   * rejects it (`invalid func unknown#195896080`); `core-error` — relocating itself is an error.
   */
  readonly libbpfFails?: { readonly how: "poison" | "core-error"; readonly why: string };
  /** `run_btfgen_fails`: the case cannot run against `bpftool gen min_core_btf` output (btfgen is not run here). */
  readonly runBtfgenFails?: true;
  /** `needs_testmod`: the target types live in the bpf_testmod kernel module. */
  readonly needsTestmod?: true;
  /** `setup`: fills in the expected output from the local and target BTF before the run. */
  readonly setup?: "type_id_success" | "type_id_failure";
  /** `trigger`: what to do instead of a system call to make the program run. */
  readonly trigger?: "module_test_read";
}

/** `sizeof(type)`, or `sizeof(((type *)0)->member)`. */
export function sizeof(type: string, member?: string): CSymbol {
  return new CSymbol("sizeof", type, member);
}

/** `offsetof(type, member)`. */
export function offsetof(type: string, member: string): CSymbol {
  return new CSymbol("offsetof", type, member);
}

/** The running process's name (`task->comm`), for the C test's `"test_progs"`. */
export const processComm = new CSymbol("comm");
/** Its length with the NUL, as `bpf_probe_read_kernel_str()` returns it, for `sizeof("test_progs")`. */
export const processCommLength = new CSymbol("commLength");

const data = (type: string, value: CValue): CData => ({ type, value });

// ---------------------------------------------------------------------------------------------
// The C file's macros

/** MODULES_CASE: relocations against the bpf_testmod module's BTF. */
function modulesCase(name: string, program: string, rawTracepoint: string | undefined): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_module",
    program,
    ...(rawTracepoint !== undefined && { rawTracepoint }),
    output: data("struct core_reloc_module_output", {
      read_ctx_sz: new CSymbol("sizeof", "struct bpf_testmod_test_read_ctx", undefined, "bpf_testmod"),
      read_ctx_exists: true,
      buf_exists: true,
      len_exists: true,
      off_exists: true,
      len: 123,
      off: 0,
      comm: processComm,
      comm_len: processCommLength,
    }),
    trigger: "module_test_read",
    needsTestmod: true,
  };
}

const FLAVORS_DATA = { a: 42, b: 0xc001, c: 0xbeef };

function flavorsCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_flavors",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_flavors",
    input: data(`struct core_reloc_${name}`, FLAVORS_DATA),
    output: data("struct core_reloc_flavors", FLAVORS_DATA),
  };
}

function flavorsErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return { name, object: "test_core_reloc_flavors", targetBtf: `btf__core_reloc_${name}`, rawTracepoint: "sys_enter", program: "test_core_flavors", fails: true, libbpfFails };
}

const NESTING_DATA = { a: { a: { a: 42 } }, b: { b: { b: 0xc001 } } };

function nestingCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_nesting",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_nesting",
    input: data(`struct core_reloc_${name}`, NESTING_DATA),
    output: data("struct core_reloc_nesting", NESTING_DATA),
  };
}

function nestingErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_nesting",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_nesting",
    fails: true,
    runBtfgenFails: true,
    libbpfFails,
  };
}

const ARRAYS_DATA = {
  a: { 2: 1 },
  b: { 1: { 2: { 3: 2 } } },
  c: { 1: { c: 3 } },
  d: { 0: { 0: { d: 4 } } },
};

function arraysCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_arrays",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_arrays",
    input: data(`struct core_reloc_${name}`, ARRAYS_DATA),
    output: data("struct core_reloc_arrays_output", { a2: 1, b123: 2, c1c: 3, d00d: 4, f10c: 0 }),
  };
}

function arraysErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return { name, object: "test_core_reloc_arrays", targetBtf: `btf__core_reloc_${name}`, rawTracepoint: "sys_enter", program: "test_core_arrays", fails: true, libbpfFails };
}

/** `.d = (void *)4, .f = (void *)5`: pointers holding those numbers. */
const PRIMITIVES_DATA = { a: 1, b: 2, c: 3, d: 4, f: 5 };

function primitivesCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_primitives",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_primitives",
    input: data(`struct core_reloc_${name}`, PRIMITIVES_DATA),
    output: data("struct core_reloc_primitives", PRIMITIVES_DATA),
  };
}

function primitivesErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return { name, object: "test_core_reloc_primitives", targetBtf: `btf__core_reloc_${name}`, rawTracepoint: "sys_enter", program: "test_core_primitives", fails: true, libbpfFails };
}

function modsCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_mods",
    targetBtf: `btf__core_reloc_${name}`,
    input: data(`struct core_reloc_${name}`, {
      a: 1,
      b: 2,
      c: 3, // (void *)3
      d: 4, // (void *)4
      e: { 2: 5 },
      f: { 1: 6 },
      g: { x: 7 },
      h: { y: 8 },
    }),
    output: data("struct core_reloc_mods_output", { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8 }),
    rawTracepoint: "sys_enter",
    program: "test_core_mods",
  };
}

function ptrAsArrCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_ptr_as_arr",
    targetBtf: `btf__core_reloc_${name}`,
    input: { type: `struct core_reloc_${name}`, array: true, value: [{ a: 1 }, { a: 2 }, { a: 3 }] },
    output: data("struct core_reloc_ptr_as_arr", { a: 3 }),
    rawTracepoint: "sys_enter",
    program: "test_core_ptr_as_arr",
  };
}

const INTS_DATA = { u8_field: 1, s8_field: 2, u16_field: 3, s16_field: 4, u32_field: 5, s32_field: 6, u64_field: 7, s64_field: 8 };

function intsCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_ints",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_ints",
    input: data(`struct core_reloc_${name}`, INTS_DATA),
    output: data("struct core_reloc_ints", INTS_DATA),
  };
}

function fieldExistsCase(name: string, input: CData, output: CData): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_existence",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_existence",
    input,
    output,
  };
}

/** BITFIELDS_CASE: two cases, one per program (BPF_CORE_READ_BITFIELD_PROBED, and direct reads in tp_btf). */
function bitfieldsCase(name: string, values: { readonly [member: string]: CValue }): CoreSelftestCase[] {
  const common = { input: data(`struct core_reloc_${name}`, values), output: data("struct core_reloc_bitfields_output", values), targetBtf: `btf__core_reloc_${name}` };
  return [
    { name: `probed:${name}`, object: "test_core_reloc_bitfields_probed", ...common, rawTracepoint: "sys_enter", program: "test_core_bitfields" },
    { name: `direct:${name}`, object: "test_core_reloc_bitfields_direct", ...common, program: "test_core_bitfields_direct" },
  ];
}

function bitfieldsErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase[] {
  const common = { targetBtf: `btf__core_reloc_${name}`, fails: true, runBtfgenFails: true, libbpfFails } as const;
  return [
    { name: `probed:${name}`, object: "test_core_reloc_bitfields_probed", ...common, rawTracepoint: "sys_enter", program: "test_core_bitfields" },
    { name: `direct:${name}`, object: "test_core_reloc_bitfields_direct", ...common, program: "test_core_bitfields_direct" },
  ];
}

/** SIZE_OUTPUT_DATA(type): the sizes and offsets of `type`'s fields. */
function sizeOutputData(type: string): CData {
  return data("struct core_reloc_size_output", {
    int_sz: sizeof(type, "int_field"),
    int_off: offsetof(type, "int_field"),
    struct_sz: sizeof(type, "struct_field"),
    struct_off: offsetof(type, "struct_field"),
    union_sz: sizeof(type, "union_field"),
    union_off: offsetof(type, "union_field"),
    arr_sz: sizeof(type, "arr_field"),
    arr_off: offsetof(type, "arr_field"),
    arr_elem_sz: sizeof(type, "arr_field[1]"),
    arr_elem_off: offsetof(type, "arr_field[1]"),
    ptr_sz: 8, // always 8-byte pointer for BPF
    ptr_off: offsetof(type, "ptr_field"),
    enum_sz: sizeof(type, "enum_field"),
    enum_off: offsetof(type, "enum_field"),
    float_sz: sizeof(type, "float_field"),
    float_off: offsetof(type, "float_field"),
  });
}

function sizeCase(name: string): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_size",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_size",
    output: sizeOutputData(`struct core_reloc_${name}`),
  };
}

function sizeErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return { name, object: "test_core_reloc_size", targetBtf: `btf__core_reloc_${name}`, rawTracepoint: "sys_enter", program: "test_core_size", fails: true, runBtfgenFails: true, libbpfFails };
}

function typeBasedCase(name: string, values: { readonly [member: string]: CValue }): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_type_based",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_type_based",
    output: data("struct core_reloc_type_based_output", values),
  };
}

function typeIdCase(name: string, setup: "type_id_success" | "type_id_failure"): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_type_id",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_type_id",
    output: data("struct core_reloc_type_id_output", {}),
    setup,
  };
}

function enumvalCase(name: string, values: { readonly [member: string]: CValue }): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_enumval",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_enumval",
    output: data("struct core_reloc_enumval_output", values),
  };
}

function enumvalErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return { name, object: "test_core_reloc_enumval", targetBtf: `btf__core_reloc_${name}`, rawTracepoint: "sys_enter", program: "test_core_enumval", fails: true, libbpfFails };
}

function enum64valCase(name: string, values: { readonly [member: string]: CValue }): CoreSelftestCase {
  return {
    name,
    object: "test_core_reloc_enum64val",
    targetBtf: `btf__core_reloc_${name}`,
    rawTracepoint: "sys_enter",
    program: "test_core_enum64val",
    output: data("struct core_reloc_enum64val_output", values),
  };
}

function enum64valErrCase(name: string, libbpfFails: CoreSelftestCase["libbpfFails"]): CoreSelftestCase {
  return { name, object: "test_core_reloc_enum64val", targetBtf: `btf__core_reloc_${name}`, rawTracepoint: "sys_enter", program: "test_core_enum64val", fails: true, libbpfFails };
}

/** A relocation libbpf cannot resolve: it poisons the instruction and the verifier rejects the program. */
const poison = (why: string) => ({ how: "poison", why }) as const;
/** A relocation libbpf refuses to compute: the load fails before the program reaches the kernel. */
const coreError = (why: string) => ({ how: "core-error", why }) as const;

// ---------------------------------------------------------------------------------------------
// test_cases[]

/** Every case of prog_tests/core_reloc.c (Linux 6.1), in its order. */
export const CORE_SELFTEST_CASES: readonly CoreSelftestCase[] = [
  /* validate we can find kernel image and use its BTF for relocs */
  {
    name: "kernel",
    object: "test_core_reloc_kernel",
    // no btf_src_file: the running kernel's BTF
    output: data("struct core_reloc_kernel_output", {
      valid: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      comm: processComm, // "test_progs" in the C test
      comm_len: processCommLength, // sizeof("test_progs")
      local_task_struct_matches: true,
    }),
    rawTracepoint: "sys_enter",
    program: "test_core_kernel",
  },

  /* validate we can find kernel module BTF types for relocs/attach */
  modulesCase("module_probed", "test_core_module_probed", "bpf_testmod_test_read"),
  modulesCase("module_direct", "test_core_module_direct", undefined),

  /* validate BPF program can use multiple flavors to match against single target BTF type */
  flavorsCase("flavors"),

  flavorsErrCase("flavors__err_wrong_name", poison("core_reloc_flavors__err_wrong_name is no flavor (two underscores): the target has no core_reloc_flavors")),

  /* various struct/enum nesting and resolution scenarios */
  nestingCase("nesting"),
  nestingCase("nesting___anon_embed"),
  nestingCase("nesting___struct_union_mixup"),
  nestingCase("nesting___extra_nesting"),
  nestingCase("nesting___dup_compat_types"),

  nestingErrCase("nesting___err_missing_field", poison("the target's b.b has x, not b")),
  nestingErrCase("nesting___err_array_field", poison("the target's b.b.b is int[1], not int")),
  nestingErrCase("nesting___err_missing_container", poison("the target's b has no struct b inside")),
  nestingErrCase("nesting___err_nonstruct_container", poison("the target's b.b is a pointer, not a struct")),
  nestingErrCase("nesting___err_array_container", poison("the target's b.b is an array of structs")),
  nestingErrCase("nesting___err_dup_incompat_types", coreError("two target flavors give different offsets: field offset ambiguity (EINVAL)")),
  nestingErrCase("nesting___err_partial_match_dups", poison("one target flavor has a.a.a, the other b.b.b: neither has both")),
  nestingErrCase("nesting___err_too_deep", coreError("the access string is deeper than libbpf's limit (E2BIG)")),

  /* various array access relocation scenarios */
  arraysCase("arrays"),
  arraysCase("arrays___diff_arr_dim"),
  arraysCase("arrays___diff_arr_val_sz"),
  arraysCase("arrays___equiv_zero_sz_arr"),
  arraysCase("arrays___fixed_arr"),

  arraysErrCase("arrays___err_too_small", poison("a[2] is beyond the target's int a[2]")),
  arraysErrCase("arrays___err_too_shallow", poison("the target's b has two dimensions, not three")),
  arraysErrCase("arrays___err_non_array", poison("the target's a is an int, not an array")),
  arraysErrCase("arrays___err_wrong_val_type", poison("the target's c is an array of ints, not of structs")),
  arraysErrCase("arrays___err_bad_zero_sz_arr", poison("the target's f[0][2] is zero-sized but not the last member")),

  /* enum/ptr/int handling scenarios */
  primitivesCase("primitives"),
  primitivesCase("primitives___diff_enum_def"),
  primitivesCase("primitives___diff_func_proto"),
  primitivesCase("primitives___diff_ptr_type"),

  primitivesErrCase("primitives___err_non_enum", poison("the target's c is an int, not an enum")),
  primitivesErrCase("primitives___err_non_int", poison("the target's b is a pointer, not an int")),
  primitivesErrCase("primitives___err_non_ptr", poison("the target's d is an int, not a pointer")),

  /* const/volatile/restrict and typedefs scenarios */
  modsCase("mods"),
  modsCase("mods___mod_swap"),
  modsCase("mods___typedefs"),

  /* handling "ptr is an array" semantics */
  ptrAsArrCase("ptr_as_arr"),
  ptrAsArrCase("ptr_as_arr___diff_sz"),

  /* int signedness/sizing/bitfield handling */
  intsCase("ints"),
  intsCase("ints___bool"),
  intsCase("ints___reverse_sign"),

  /* validate edge cases of capturing relocations */
  {
    name: "misc",
    object: "test_core_reloc_misc",
    targetBtf: "btf__core_reloc_misc",
    input: {
      type: "struct core_reloc_misc_extensible",
      array: true,
      value: [{ a: 1 }, { a: 2 } /* not read */, { a: 3 }],
      length: 4 * 4, // 4 * sizeof(int)
    },
    output: data("struct core_reloc_misc_output", {
      a: 1,
      b: 1,
      c: 0, /* BUG in clang, should be 3 */
    }),
    rawTracepoint: "sys_enter",
    program: "test_core_misc",
  },

  /* validate field existence checks */
  fieldExistsCase(
    "existence",
    data("struct core_reloc_existence", { a: 1, b: 2, c: 3, arr: { 0: 4 }, s: { x: 5 } }),
    data("struct core_reloc_existence_output", {
      a_exists: 1,
      b_exists: 1,
      c_exists: 1,
      arr_exists: 1,
      s_exists: 1,
      a_value: 1,
      b_value: 2,
      c_value: 3,
      arr_value: 4,
      s_value: 5,
    }),
  ),
  fieldExistsCase(
    "existence___minimal",
    data("struct core_reloc_existence___minimal", { a: 42 }),
    data("struct core_reloc_existence_output", {
      a_exists: 1,
      b_exists: 0,
      c_exists: 0,
      arr_exists: 0,
      s_exists: 0,
      a_value: 42,
      b_value: 0xff000002,
      c_value: 0xff000003,
      arr_value: 0xff000004,
      s_value: 0xff000005,
    }),
  ),
  fieldExistsCase(
    "existence___wrong_field_defs",
    data("struct core_reloc_existence___wrong_field_defs", {}),
    data("struct core_reloc_existence_output", {
      a_exists: 0,
      b_exists: 0,
      c_exists: 0,
      arr_exists: 0,
      s_exists: 0,
      a_value: 0xff000001,
      b_value: 0xff000002,
      c_value: 0xff000003,
      arr_value: 0xff000004,
      s_value: 0xff000005,
    }),
  ),

  /* bitfield relocation checks */
  ...bitfieldsCase("bitfields", {
    ub1: 1,
    ub2: 2,
    ub7: 96,
    sb4: -7,
    sb20: -0x76543,
    u32: 0x80000000,
    s32: -0x76543210,
  }),
  ...bitfieldsCase("bitfields___bit_sz_change", {
    ub1: 6,
    ub2: 0xabcde,
    ub7: 1,
    sb4: -1,
    sb20: -0x17654321,
    u32: 0xbeef,
    s32: -0x3fedcba987654321n,
  }),
  ...bitfieldsCase("bitfields___bitfield_vs_int", {
    ub1: 0xfedcba9876543210n,
    ub2: 0xa6,
    ub7: -0x7edcba987654321n,
    sb4: -0x6123456789abcden,
    sb20: 0xd00d,
    u32: -0x76543,
    s32: 0x0adeadbeefbadb0bn,
  }),
  ...bitfieldsCase("bitfields___just_big_enough", {
    ub1: 0xf,
    ub2: 0x0812345678fedcban,
  }),
  ...bitfieldsErrCase("bitfields___err_too_big_bitfield", coreError("the 61-bit field spans more than 8 bytes: unexpected bitfield size (E2BIG)")),

  /* field size and offset relocation checks */
  sizeCase("size"),
  sizeCase("size___diff_sz"),
  sizeCase("size___diff_offs"),
  sizeErrCase("size___err_ambiguous", coreError("the target flavors disagree: relocation decision ambiguity (EINVAL)")),

  /* validate type existence, match, and size relocations */
  typeBasedCase("type_based", {
    struct_exists: 1,
    complex_struct_exists: 1,
    union_exists: 1,
    enum_exists: 1,
    typedef_named_struct_exists: 1,
    typedef_anon_struct_exists: 1,
    typedef_struct_ptr_exists: 1,
    typedef_int_exists: 1,
    typedef_enum_exists: 1,
    typedef_void_ptr_exists: 1,
    typedef_restrict_ptr_exists: 1,
    typedef_func_proto_exists: 1,
    typedef_arr_exists: 1,

    struct_matches: 1,
    complex_struct_matches: 1,
    union_matches: 1,
    enum_matches: 1,
    typedef_named_struct_matches: 1,
    typedef_anon_struct_matches: 1,
    typedef_struct_ptr_matches: 1,
    typedef_int_matches: 1,
    typedef_enum_matches: 1,
    typedef_void_ptr_matches: 1,
    typedef_restrict_ptr_matches: 1,
    typedef_func_proto_matches: 1,
    typedef_arr_matches: 1,

    struct_sz: sizeof("struct a_struct"),
    union_sz: sizeof("union a_union"),
    enum_sz: sizeof("enum an_enum"),
    typedef_named_struct_sz: sizeof("named_struct_typedef"),
    typedef_anon_struct_sz: sizeof("anon_struct_typedef"),
    typedef_struct_ptr_sz: sizeof("struct_ptr_typedef"),
    typedef_int_sz: sizeof("int_typedef"),
    typedef_enum_sz: sizeof("enum_typedef"),
    typedef_void_ptr_sz: sizeof("void_ptr_typedef"),
    typedef_func_proto_sz: sizeof("func_proto_typedef"),
    typedef_arr_sz: sizeof("arr_typedef"),
  }),
  typeBasedCase("type_based___all_missing", {
    /* all zeros */
  }),
  typeBasedCase("type_based___diff", {
    struct_exists: 1,
    complex_struct_exists: 1,
    union_exists: 1,
    enum_exists: 1,
    typedef_named_struct_exists: 1,
    typedef_anon_struct_exists: 1,
    typedef_struct_ptr_exists: 1,
    typedef_int_exists: 1,
    typedef_enum_exists: 1,
    typedef_void_ptr_exists: 1,
    typedef_func_proto_exists: 1,
    typedef_arr_exists: 1,

    struct_matches: 1,
    complex_struct_matches: 1,
    union_matches: 1,
    enum_matches: 1,
    typedef_named_struct_matches: 1,
    typedef_anon_struct_matches: 1,
    typedef_struct_ptr_matches: 1,
    typedef_int_matches: 0,
    typedef_enum_matches: 1,
    typedef_void_ptr_matches: 1,
    typedef_func_proto_matches: 0,
    typedef_arr_matches: 0,

    struct_sz: sizeof("struct a_struct___diff"),
    union_sz: sizeof("union a_union___diff"),
    enum_sz: sizeof("enum an_enum___diff"),
    typedef_named_struct_sz: sizeof("named_struct_typedef___diff"),
    typedef_anon_struct_sz: sizeof("anon_struct_typedef___diff"),
    typedef_struct_ptr_sz: sizeof("struct_ptr_typedef___diff"),
    typedef_int_sz: sizeof("int_typedef___diff"),
    typedef_enum_sz: sizeof("enum_typedef___diff"),
    typedef_void_ptr_sz: sizeof("void_ptr_typedef___diff"),
    typedef_func_proto_sz: sizeof("func_proto_typedef___diff"),
    typedef_arr_sz: sizeof("arr_typedef___diff"),
  }),
  typeBasedCase("type_based___diff_sz", {
    struct_exists: 1,
    union_exists: 1,
    enum_exists: 1,
    typedef_named_struct_exists: 1,
    typedef_anon_struct_exists: 1,
    typedef_struct_ptr_exists: 1,
    typedef_int_exists: 1,
    typedef_enum_exists: 1,
    typedef_void_ptr_exists: 1,
    typedef_func_proto_exists: 1,
    typedef_arr_exists: 1,

    struct_matches: 0,
    union_matches: 0,
    enum_matches: 0,
    typedef_named_struct_matches: 0,
    typedef_anon_struct_matches: 0,
    typedef_struct_ptr_matches: 1,
    typedef_int_matches: 0,
    typedef_enum_matches: 0,
    typedef_void_ptr_matches: 1,
    typedef_func_proto_matches: 0,
    typedef_arr_matches: 0,

    struct_sz: sizeof("struct a_struct___diff_sz"),
    union_sz: sizeof("union a_union___diff_sz"),
    enum_sz: sizeof("enum an_enum___diff_sz"),
    typedef_named_struct_sz: sizeof("named_struct_typedef___diff_sz"),
    typedef_anon_struct_sz: sizeof("anon_struct_typedef___diff_sz"),
    typedef_struct_ptr_sz: sizeof("struct_ptr_typedef___diff_sz"),
    typedef_int_sz: sizeof("int_typedef___diff_sz"),
    typedef_enum_sz: sizeof("enum_typedef___diff_sz"),
    typedef_void_ptr_sz: sizeof("void_ptr_typedef___diff_sz"),
    typedef_func_proto_sz: sizeof("func_proto_typedef___diff_sz"),
    typedef_arr_sz: sizeof("arr_typedef___diff_sz"),
  }),
  typeBasedCase("type_based___incompat", {
    enum_exists: 1,
    enum_matches: 1,
    enum_sz: sizeof("enum an_enum"),
  }),
  typeBasedCase("type_based___fn_wrong_args", {
    struct_exists: 1,
    struct_matches: 1,
    struct_sz: sizeof("struct a_struct"),
  }),

  /* BTF_TYPE_ID_LOCAL/BTF_TYPE_ID_TARGET tests */
  typeIdCase("type_id", "type_id_success"),
  typeIdCase("type_id___missing_targets", "type_id_failure"),

  /* Enumerator value existence and value relocations */
  enumvalCase("enumval", {
    named_val1_exists: true,
    named_val2_exists: true,
    named_val3_exists: true,
    anon_val1_exists: true,
    anon_val2_exists: true,
    anon_val3_exists: true,
    named_val1: 1,
    named_val2: 2,
    anon_val1: 0x10,
    anon_val2: 0x20,
  }),
  enumvalCase("enumval___diff", {
    named_val1_exists: true,
    named_val2_exists: true,
    named_val3_exists: true,
    anon_val1_exists: true,
    anon_val2_exists: true,
    anon_val3_exists: true,
    named_val1: 101,
    named_val2: 202,
    anon_val1: 0x11,
    anon_val2: 0x22,
  }),
  enumvalCase("enumval___val3_missing", {
    named_val1_exists: true,
    named_val2_exists: true,
    named_val3_exists: false,
    anon_val1_exists: true,
    anon_val2_exists: true,
    anon_val3_exists: false,
    named_val1: 111,
    named_val2: 222,
    anon_val1: 0x111,
    anon_val2: 0x222,
  }),
  enumvalErrCase("enumval___err_missing", poison("the target enums lack the mandatory VAL2 enumerators")),

  /* 64bit enumerator value existence and value relocations */
  enum64valCase("enum64val", {
    unsigned_val1_exists: true,
    unsigned_val2_exists: true,
    unsigned_val3_exists: true,
    signed_val1_exists: true,
    signed_val2_exists: true,
    signed_val3_exists: true,
    unsigned_val1: 0x1ffffffffn,
    unsigned_val2: 0x2n,
    signed_val1: 0x1ffffffffn,
    signed_val2: -2n,
  }),
  enum64valCase("enum64val___diff", {
    unsigned_val1_exists: true,
    unsigned_val2_exists: true,
    unsigned_val3_exists: true,
    signed_val1_exists: true,
    signed_val2_exists: true,
    signed_val3_exists: true,
    unsigned_val1: 0x101ffffffffn,
    unsigned_val2: 0x202ffffffffn,
    signed_val1: -101n,
    signed_val2: -202n,
  }),
  enum64valCase("enum64val___val3_missing", {
    unsigned_val1_exists: true,
    unsigned_val2_exists: true,
    unsigned_val3_exists: false,
    signed_val1_exists: true,
    signed_val2_exists: true,
    signed_val3_exists: false,
    unsigned_val1: 0x111ffffffffn,
    unsigned_val2: 0x222n,
    signed_val1: 0x111ffffffffn,
    signed_val2: -222n,
  }),
  enum64valErrCase("enum64val___err_missing", poison("the target enum64s lack the mandatory VAL2 enumerators")),
];
