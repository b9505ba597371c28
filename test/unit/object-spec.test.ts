/**
 * ObjectSpec.parse() on objects compiled by clang-19 and bpf-gcc: programs and their section types,
 * maps of every kind (BTF-defined, legacy, inner maps, static initialisers), global data and typed
 * variables, relocations and subprogram linking, determinism and independent copies.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "../../src/asm/index.js";
import { isWaggleError, MapFlags, ObjectSpec, type ProgramSpec } from "../../src/index.js";
import { ElfFile } from "../../src/elf/index.js";
import { allFixtures, fixtureBytes } from "../helpers/fixtures.js";
import { Btf, marshalBtf } from "../../src/btf/index.js";

const parse = (name: string) => ObjectSpec.parse(fixtureBytes(name), { file: `${name}.o` });

function functionStarts(program: ProgramSpec): string[] {
  return program.instructions.filter((insn) => insn.symbol !== undefined).map((insn) => insn.symbol!);
}

describe("ObjectSpec.parse()", () => {
  for (const name of allFixtures()) {
    test(`parses ${name}.o deterministically`, () => {
      const a = parse(name);
      const b = parse(name);
      assert.deepEqual([...a.programs.keys()], [...b.programs.keys()]);
      assert.deepEqual([...a.maps.keys()], [...b.maps.keys()]);
      for (const [key, program] of a.programs) {
        const other = b.programs.get(key)!;
        assert.deepEqual(program.instructions.map((i) => i.fields()), other.instructions.map((i) => i.fields()));
      }
      for (const [key, map] of a.maps) assert.deepEqual({ ...map }, { ...b.maps.get(key)! });
    });
  }

  test("programs take their type, attach type and flags from the section name", () => {
    const fentry = parse("fentry");
    assert.equal(fentry.programs.get("fentry_openat2")!.type, "tracing");
    assert.equal(fentry.programs.get("fentry_openat2")!.expectedAttachType, "trace_fentry");
    assert.equal(fentry.programs.get("fentry_openat2")!.attachTo, "do_sys_openat2");
    assert.ok(fentry.programs.get("fentry_sleepable_openat")!.sleepable);
    const probes = parse("probes");
    const kinds = [...probes.programs.values()].map((p) => `${p.section}:${p.type}`);
    assert.ok(kinds.includes("kprobe/do_sys_openat2:kprobe"));
    assert.ok(kinds.includes("uprobe.s/libc.so.6:getpid:kprobe"));
    assert.equal(probes.programs.get("uprobe_sleepable")!.sleepable, true);
    assert.equal(probes.programs.get("kprobe_openat2")!.sleepable, false);
    const tp = parse("tracepoint");
    assert.equal(tp.programs.get("getpid_enter")!.attachTo, "syscalls/sys_enter_getpid");
    assert.equal(parse("tp_btf").programs.get("on_switch")!.expectedAttachType, "trace_raw_tp");
    assert.equal(parse("uprobe_multi").programs.get("multi_entry")!.expectedAttachType, "trace_uprobe_multi");
    assert.equal(parse("kprobe_multi").programs.get("multi_entry")!.attachTo, "do_sys_open*");
    assert.equal(parse("syscall_prog").programs.get("syscall_prog")!.sleepable, true);
    assert.equal(parse("iter_task").programs.get("dump_task")!.expectedAttachType, "trace_iter");
  });

  test("license and kernel version come from their sections", () => {
    const spec = parse("license_version");
    assert.equal(spec.license, "Dual MIT/GPL");
    assert.equal(spec.kernelVersion, 0x060100);
    assert.equal(spec.programs.get("version_xdp")!.license, "Dual MIT/GPL");
  });

  test("BTF-defined maps of every type carry their definition", () => {
    const maps = parse("maps_btf").maps;
    assert.equal(maps.size, 29);
    const hash = maps.get("m_hash")!;
    assert.deepEqual([hash.type, hash.keySize, hash.valueSize, hash.maxEntries], ["hash", 4, 8, 64]);
    assert.ok(hash.keyType > 0 && hash.valueType > 0);
    const lpm = maps.get("m_lpm_trie")!;
    assert.deepEqual([lpm.type, lpm.keySize, lpm.flags & MapFlags.NO_PREALLOC], ["lpm_trie", 8, MapFlags.NO_PREALLOC]);
    assert.equal(maps.get("m_bloom")!.mapExtra, 3n);
    assert.equal(maps.get("m_bloom")!.keySize, 0);
    assert.deepEqual([maps.get("m_ringbuf")!.keySize, maps.get("m_ringbuf")!.valueSize, maps.get("m_ringbuf")!.maxEntries], [0, 0, 65536]);
    assert.deepEqual([maps.get("m_perf_event_array")!.keySize, maps.get("m_perf_event_array")!.maxEntries], [4, 0]);
    assert.equal(maps.get("m_arena")!.type, "arena");
    assert.equal(maps.get("m_cgrp_storage")!.type, "cgrp_storage");
  });

  test("map-in-maps get an inner map definition and static initialisers", () => {
    const maps = parse("map_in_map").maps;
    const outer = maps.get("outer_arr")!;
    assert.equal(outer.type, "array_of_maps");
    assert.equal(outer.valueSize, 4);
    assert.equal(outer.innerMap?.type, "array");
    assert.equal(outer.innerMap?.name, "outer_arr.inner");
    assert.deepEqual(outer.slots, [
      { index: 0, target: { kind: "map", name: "inner_a" } },
      { index: 3, target: { kind: "map", name: "inner_b" } },
    ]);
    assert.deepEqual(maps.get("outer_hash")!.slots, [{ index: 5, target: { kind: "map", name: "inner_h" } }]);
  });

  test("prog arrays get their static initialisers", () => {
    const jumps = parse("prog_array_init").maps.get("jump_table")!;
    assert.deepEqual(jumps.slots, [
      { index: 0, target: { kind: "program", name: "tail_tx" } },
      { index: 2, target: { kind: "program", name: "tail_drop" } },
    ]);
  });

  test("legacy struct bpf_map_def maps are read from the maps section", () => {
    const maps = parse("legacy_maps").maps;
    const counts = maps.get("legacy_counts")!;
    assert.equal(counts.section, "maps");
    assert.equal(counts.type, "array");
    assert.equal(counts.keySize, 4);
    assert.equal(counts.valueSize, 8);
  });

  test("LIBBPF_PIN_BY_NAME becomes pinning by_name", () => {
    assert.equal(parse("pinned_map").maps.get("waggle_pinned_counter")!.pinning, "by_name");
    assert.equal(parse("pinned_map").maps.get("scratch")!.pinning, "none");
  });

  test("global data sections become data maps with libbpf's names and flags", () => {
    const maps = parse("globals").maps;
    assert.deepEqual([...maps.keys()].sort(), [".bss", ".data", ".data.custom", ".rodata", ".rodata.custom", ".rodata.str1.1"]);
    const rodata = maps.get(".rodata")!;
    assert.equal(rodata.kind, "rodata");
    assert.equal(rodata.kernelName, "globals.rodata");
    assert.equal(rodata.flags & MapFlags.RDONLY_PROG, MapFlags.RDONLY_PROG);
    assert.equal(rodata.flags & MapFlags.MMAPABLE, MapFlags.MMAPABLE);
    assert.equal(maps.get(".data.custom")!.kernelName, ".data.custom");
    assert.equal(maps.get(".bss")!.kind, "bss");
    assert.ok(maps.get(".bss")!.data!.every((b) => b === 0));
    assert.equal(maps.get(".rodata.str1.1")!.valueType, 0, "string literals have no DATASEC");
  });

  test("variables read and write their typed initial values", () => {
    const spec = parse("globals");
    const vars = spec.variables;
    assert.equal(vars.get("multiplier")!.get(), 3);
    assert.equal(vars.get("multiplier")!.constant, true);
    assert.equal(vars.get("greeting")!.get(), "hi");
    assert.deepEqual(vars.get("origin")!.get(), { x: 5, y: 7 });
    assert.equal(vars.get("counter")!.get(), 100);
    assert.equal(vars.get("hidden_step")!.linkage, "static");
    vars.get("origin")!.set({ x: -1, y: 2 });
    assert.deepEqual(vars.get("origin")!.get(), { x: -1, y: 2 });
    assert.throws(() => vars.get("multiplier")!.set(2 ** 40), RangeError);
    assert.throws(() => vars.get("origin")!.set({ z: 1 }), /no member "z"/);
  });

  test("variables of bpf-gcc objects come from fixed-up BTF, with offsets taken once", () => {
    const spec = parse("globals.gcc");
    const knob = spec.variables.get("verdict_knob")!;
    assert.equal(knob.offset, 4);
    assert.equal(knob.get(), 2);
    const offsets = spec.programs
      .get("gcc_xdp")!
      .instructions.filter((i) => i.isLdImm64 && i.src === BPF_PSEUDO_MAP_VALUE)
      .map((i) => `${i.reference}+${i.imm2}`);
    assert.deepEqual(offsets, [".data+0", ".bss+4", ".rodata+0", ".bss+0", ".data+4"]);
  });

  test("map and data relocations become symbolic ld_imm64 references", () => {
    const insns = parse("xdp_filter").programs.get("xdp_filter")!.instructions;
    const mapLoads = insns.filter((i) => i.isLdImm64 && i.src === BPF_PSEUDO_MAP_FD);
    assert.ok(mapLoads.length > 0);
    assert.ok(mapLoads.every((i) => i.reference === "proto_count"));
  });

  test("subprograms are appended to each program that calls them, and calls name them", () => {
    const spec = parse("bpf2bpf");
    const calc = spec.programs.get("calc")!;
    const starts = functionStarts(calc);
    assert.equal(starts[0], "calc");
    for (const fn of ["square", "chain_a", "chain_b", "chain_c", "chain_d", "mix", "clamp_sum"]) assert.ok(starts.includes(fn), fn);
    const calls = calc.instructions.filter((i) => i.isCall && i.src === BPF_PSEUDO_CALL).map((i) => i.reference);
    assert.ok(calls.every((c) => c !== undefined && starts.includes(c)));
    const xdp = spec.programs.get("xdp_len")!;
    assert.deepEqual(functionStarts(xdp).sort(), ["frame_len", "mix", "xdp_len"].sort());
    assert.ok(xdp.instructions.every((i) => !calc.instructions.includes(i)), "programs never share instructions");
  });

  test("callbacks are ld_imm64 PSEUDO_FUNC references to static functions", () => {
    const loop = parse("callbacks").programs.get("loop_sum")!;
    const callbacks = loop.instructions.filter((i) => i.isLdImm64 && i.src === BPF_PSEUDO_FUNC);
    assert.equal(callbacks.length, 1);
    assert.ok(functionStarts(loop).includes(callbacks[0]!.reference!));
  });

  test("func info and line info hang on the instructions they describe", () => {
    const calc = parse("bpf2bpf").programs.get("calc")!;
    assert.ok(calc.instructions[0]!.funcType! > 0);
    for (const insn of calc.instructions) if (insn.symbol) assert.ok(insn.funcType! > 0, insn.symbol);
    const lines = calc.instructions.filter((i) => i.line).map((i) => i.line!);
    assert.ok(lines.length > 5);
    assert.equal(lines[0]!.fileName, "./bpf2bpf.bpf.c");
    assert.ok(lines.every((l) => l.lineNumber > 0));
  });

  test("CO-RE relocation records are kept on their instructions", () => {
    const probe = parse("core_relocs").programs.get("probe")!;
    assert.ok(probe.instructions.filter((i) => i.coreRelocation).length >= 13);
  });

  test("extern symbols are recorded, with weak ones marked", () => {
    const externs = parse("externs").externs;
    assert.equal(externs.get("bpf_task_from_pid")?.kind, "function");
    assert.equal(externs.get("bpf_waggle_missing_kfunc")?.weak, true);
    assert.equal(externs.get("bpf_waggle_missing_kfunc")?.kind, "function");
    assert.equal(externs.get("_stext")?.section, ".ksyms");
    assert.equal(externs.get("_stext")?.ksymType, 0, "a const void ksym is typeless");
  });

  test("an extern whose BTF VAR points at a DATASEC is a FormatError, not a crash (fuzzer's find)", () => {
    const bytes = fixtureBytes("externs");
    const elf = ElfFile.parse(bytes);
    const section = elf.sectionByName(".BTF")!;
    const btf = Btf.parse(section.data);
    const raw = section.data;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const header = view.getUint32(4, true);
    const [typeOff, typeLen, strOff] = [view.getUint32(8, true), view.getUint32(12, true), view.getUint32(16, true)];
    // The VAR record of CONFIG_HZ: its name offset followed by the VAR kind's info word.
    const nameOff = new TextDecoder().decode(raw.subarray(header + strOff)).indexOf("\0CONFIG_HZ\0") + 1;
    let record = -1;
    for (let at = header + typeOff; at + 12 <= header + typeOff + typeLen; at += 4) {
      if (view.getUint32(at, true) === nameOff && view.getUint32(at + 4, true) >>> 24 === 14) record = at;
    }
    assert.ok(nameOff > 0 && record >= 0, "the fixture has a VAR named CONFIG_HZ");
    const mutated = bytes.slice();
    new DataView(mutated.buffer).setUint32(section.offset + record + 8, btf.find(".kconfig", "datasec")!, true);
    assert.throws(
      () => ObjectSpec.parse(mutated, { file: "externs.o" }),
      (e: unknown) => isWaggleError(e, "FormatError") && /extern "CONFIG_HZ" has BTF type \[\d+\], a datasec, which is not a C type/.test(String(e)),
    );
  });

  test("__kconfig externs are laid out as libbpf does: by alignment, then size, then name", () => {
    const spec = parse("externs");
    const slots = Object.fromEntries([...spec.externs.values()].filter((e) => e.kconfig).map((e) => [e.name, [e.kconfig!.offset, e.kconfig!.type]]));
    assert.deepEqual(slots, {
      CONFIG_BPF_JIT: [0, "tristate"],
      CONFIG_HZ: [4, "int"],
      CONFIG_WAGGLE_MISSING: [8, "int"],
      LINUX_KERNEL_VERSION: [12, "int"],
      CONFIG_BPF_SYSCALL: [16, "bool"],
      CONFIG_DEFAULT_HOSTNAME: [17, "char_array"],
    });
    const map = spec.maps.get(".kconfig")!;
    assert.deepEqual([map.kind, map.type, map.valueSize, map.maxEntries, map.kernelName], ["kconfig", "array", 33, 1, "externs.kconfig"]);
    // The instructions that read a Kconfig value now load an address inside the map.
    const reads = spec.programs.get("resolve")!.instructions.filter((i) => i.reference === ".kconfig");
    assert.ok(reads.length >= 6);
    assert.ok(reads.every((i) => i.isLdImm64 && i.src === 2 && [0, 4, 8, 12, 16, 17].includes(i.imm2)));
  });

  test("extern BTF is rewritten so the kernel accepts it: no extern linkage, DATASECs laid out", () => {
    const btf = parse("externs").btf!;
    for (const [, type] of btf) {
      if (type.kind === "var" || type.kind === "func") assert.notEqual(type.linkage, "extern", `${type.kind} ${type.name}`);
    }
    const kconfig = btf.type(btf.find(".kconfig", "datasec")!);
    assert.ok(kconfig.kind === "datasec");
    assert.equal(kconfig.size, 33);
    assert.deepEqual(kconfig.vars.map((v) => v.offset), [0, 4, 8, 12, 16, 17]);
    const ksyms = btf.type(btf.find(".ksyms", "datasec")!);
    assert.ok(ksyms.kind === "datasec");
    assert.deepEqual(ksyms.vars.map((v) => [v.offset, v.size]), ksyms.vars.map((_, i) => [4 * i, 4]));
    assert.equal(ksyms.size, 4 * ksyms.vars.length);
    const dummy = btf.find("dummy_ksym", "var")!;
    for (const info of ksyms.vars) {
      const v = btf.type(info.type);
      assert.ok(v.kind === "var" && v.linkage === "global");
      if (v.name === "dummy_ksym") assert.equal(info.type, dummy);
      else assert.equal(btf.type(v.type).kind, "int", `ksym ${v.name} is a placeholder int`);
    }
    const kfunc = btf.type(btf.find("bpf_task_from_pid", "func")!);
    assert.ok(kfunc.kind === "func" && kfunc.linkage === "global");
    Btf.parse(marshalBtf(btf)); // and it still round-trips
  });

  test("big-endian objects parse like their little-endian twins", () => {
    const spec = parse("big_endian");
    assert.equal(spec.littleEndian, false);
    const map = spec.maps.get("be_counts")!;
    assert.deepEqual([map.keySize, map.valueSize, map.maxEntries], [4, 8, 16]);
    assert.deepEqual([...spec.maps.get(".data")!.data!], [1, 2, 3, 4]);
  });

  test("copy() gives an independent spec", () => {
    const spec = parse("globals");
    const copy = spec.copy();
    copy.variables.get("multiplier")!.set(9);
    copy.maps.get(".rodata")!.maxEntries = 7;
    copy.programs.get("compute")!.instructions[0]!.imm = 12345;
    assert.equal(spec.variables.get("multiplier")!.get(), 3);
    assert.equal(spec.maps.get(".rodata")!.maxEntries, 1);
    assert.notEqual(spec.programs.get("compute")!.instructions[0]!.imm, 12345);
    assert.equal(copy.variables.get("multiplier")!.map, copy.maps.get(".rodata"));
  });

  test("the object name comes from the file name or the option", () => {
    assert.equal(parse("globals").name, "globals");
    assert.equal(ObjectSpec.parse(fixtureBytes("globals"), { name: "mine" }).maps.get(".bss")!.kernelName, "mine.bss");
    assert.equal(ObjectSpec.parse(fixtureBytes("globals"), { file: "/x/a.long.name.o" }).name, "a");
  });
});
