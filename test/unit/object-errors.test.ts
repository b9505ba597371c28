/**
 * Bad objects give a FormatError that names the file, section and offset: non-BPF ELF files, stripped
 * objects, impossible map definitions, relocations that point nowhere. Real objects are edited with the
 * ELF writer to make each case; a fuzz test then mutates real objects at random.
 */

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { EM_X86_64, ElfFile, elfToWriteInput, writeElf, type ElfWriteInput } from "../../src/elf/index.js";
import { isWaggleError, ObjectSpec, sectionType } from "../../src/index.js";
import { linkProgram } from "../../src/object/link-program.js";
import { allFixtures, fixtureBytes } from "../helpers/fixtures.js";

/** A fixture rewritten through the ELF writer with `edit` applied to its description. */
function edited(name: string, edit: (input: ElfWriteInput) => ElfWriteInput): Uint8Array {
  return writeElf(edit(elfToWriteInput(ElfFile.parse(fixtureBytes(name)))));
}

function formatError(bytes: Uint8Array, expected: { section?: string; message: RegExp }): void {
  assert.throws(
    () => ObjectSpec.parse(bytes, { file: "bad.o" }),
    (e: unknown) => {
      assert.ok(isWaggleError(e, "FormatError"), String(e));
      assert.equal(e.file, "bad.o");
      if (expected.section !== undefined) assert.equal(e.section, expected.section);
      assert.match(e.message, expected.message);
      return true;
    },
  );
}

describe("ObjectSpec.parse() on bad objects", () => {
  test("an ELF file for another machine is not an eBPF object", () => {
    formatError(edited("xdp_pass", (i) => ({ ...i, machine: EM_X86_64 })), { message: /not an eBPF object \(ELF machine 62\)/ });
  });

  test("an object without a symbol table is refused as stripped", () => {
    formatError(edited("xdp_pass", (i) => ({ ...i, symbols: [], relocations: [] })), { message: /no symbol table/ });
  });

  test("a map definition with an unknown field names the map", () => {
    const bytes = fixtureBytes("xdp_filter");
    const text = new TextDecoder("latin1").decode(bytes);
    // "max_entries" is a string of the .BTF section: turn it into a field libbpf does not know.
    const at = text.indexOf("max_entries");
    assert.ok(at > 0);
    const copy = bytes.slice();
    copy.set(new TextEncoder().encode("max_entriez"), at);
    formatError(copy, { section: ".maps", message: /map "proto_count": unknown map definition field "max_entriez"/ });
  });

  test("a relocation that does not point at an instruction is refused with its offset", () => {
    const bytes = edited("xdp_filter", (input) => {
      const xdp = input.sections.findIndex((s) => s.name === "xdp") + 1; // numbers count the null section
      return {
        ...input,
        relocations: input.relocations!.map((group) =>
          group.section === xdp ? { ...group, entries: group.entries.map((e) => ({ ...e, offset: e.offset + 4 })) } : group,
        ),
      };
    });
    formatError(bytes, { section: "xdp", message: /does not point at the start of an instruction/ });
  });

  test("a relocation against a symbol in a section that is neither code, maps nor data is refused", () => {
    const bytes = edited("xdp_filter", (input) => ({
      ...input,
      symbols: input.symbols!.map((s) => (s.name === "proto_count" ? { ...s, section: "license" } : s)),
    }));
    formatError(bytes, { section: "xdp", message: /neither code, maps nor data|matches no map/ });
  });

  test("a data section whose type gives it no bytes in the file is refused, not read past its end", () => {
    const bytes = fixtureBytes("globals").slice();
    const index = ElfFile.parse(bytes).sections.find((s) => s.name === ".data")!.index;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const header = Number(view.getBigUint64(0x28, true)) + index * 64; // e_shoff; 64-byte Elf64_Shdr
    view.setUint32(header + 4, 0, true); // sh_type = SHT_NULL, as a fuzzed byte once made it
    formatError(bytes, { section: ".data", message: /data section of type 0 holds 0 of its 16 bytes/ });
  });

  test("a section name that is no program type still parses, as type unspec", () => {
    const spec = ObjectSpec.parse(
      edited("xdp_pass", (input) => ({ ...input, sections: input.sections.map((s) => (s.name === "xdp" ? { ...s, name: "mystery" } : s)) })),
    );
    assert.equal(spec.programs.get("xdp_pass")!.type, "unspec");
  });
});

describe("sectionType()", () => {
  const cases: [string, string | undefined, string | undefined, string][] = [
    ["xdp", "xdp", "xdp", ""],
    ["xdp.frags", "xdp", "xdp", ""],
    ["?xdp", "xdp", "xdp", ""],
    ["socket", "socket_filter", undefined, ""],
    ["tc", "sched_cls", undefined, ""],
    ["tcx/ingress", "sched_cls", "tcx_ingress", ""],
    ["kprobe/do_sys_open", "kprobe", undefined, "do_sys_open"],
    ["kretprobe.multi/vfs_*", "kprobe", "trace_kprobe_multi", "vfs_*"],
    ["uprobe.s/libc.so.6:malloc", "kprobe", undefined, "libc.so.6:malloc"],
    ["usdt/libc.so.6:libc:setjmp", "kprobe", undefined, "libc.so.6:libc:setjmp"],
    ["tp/sched/sched_switch", "tracepoint", undefined, "sched/sched_switch"],
    ["raw_tp.w/bpf_test_finish", "raw_tracepoint_writable", undefined, "bpf_test_finish"],
    ["tp_btf/sched_switch", "tracing", "trace_raw_tp", "sched_switch"],
    ["fmod_ret/security_file_open", "tracing", "modify_return", "security_file_open"],
    ["lsm.s/file_open", "lsm", "lsm_mac", "file_open"],
    ["iter/task", "tracing", "trace_iter", "task"],
    ["cgroup/connect4", "cgroup_sock_addr", "cgroup_inet4_connect", ""],
    ["cgroup_skb/egress", "cgroup_skb", "cgroup_inet_egress", ""],
    ["sk_skb/stream_verdict", "sk_skb", "sk_skb_stream_verdict", ""],
    ["sk_reuseport/migrate", "sk_reuseport", "sk_reuseport_select_or_migrate", ""],
    ["struct_ops/init", "struct_ops", undefined, "init"],
    ["syscall", "syscall", undefined, ""],
    ["netfilter", "netfilter", "netfilter", ""],
    ["kprobex", undefined, undefined, ""],
    ["xdp_foo", undefined, undefined, ""],
  ];
  for (const [name, type, attach, target] of cases) {
    test(`"${name}" is ${type ?? "unknown"}`, () => {
      const t = sectionType(name);
      assert.equal(t?.programType, type);
      if (t) {
        assert.equal(t.expectedAttachType, attach);
        assert.equal(t.target, target);
      }
    });
  }
  test("sleepable and frags flags come with the .s and .frags variants", () => {
    assert.ok(sectionType("fentry.s/x")!.flags.includes("sleepable"));
    assert.ok(sectionType("xdp.frags")!.flags.includes("frags"));
    assert.ok(sectionType("fentry/x")!.flags.includes("attachBtf"));
  });
});

describe("ObjectSpec.parse() fuzzing", () => {
  test("mutated real objects parse, link or fail with a FormatError — nothing else", () => {
    const objects = allFixtures().map((name) => fixtureBytes(name));
    if (objects.length === 0) return;
    const deadline = Date.now() + 4000;
    fc.assert(
      fc.property(
        fc.nat(objects.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, flips, cut) => {
          if (Date.now() > deadline) return;
          const original = objects[which]!;
          const bytes = original.slice(0, cut === undefined ? original.length : cut % (original.length + 1));
          for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
          let spec: ObjectSpec;
          try {
            spec = ObjectSpec.parse(bytes, { file: "fuzz.o" });
          } catch (e) {
            if (isWaggleError(e, "FormatError")) return;
            throw e;
          }
          for (const program of spec.programs.values()) {
            try {
              linkProgram(program, { mapFd: () => 3, withBtfInfo: true }, spec.littleEndian);
            } catch (e) {
              if (!isWaggleError(e)) throw e;
            }
          }
          for (const v of spec.variables.values()) {
            try {
              v.get();
            } catch (e) {
              if (!isWaggleError(e) && !(e instanceof TypeError)) throw e;
            }
          }
        },
      ),
      { numRuns: 100_000, interruptAfterTimeLimit: 4500 },
    );
  });
});
