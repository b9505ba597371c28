/** parseBtfExt() and marshalBtfExt() on real objects: round trips, consistency with the code and the source. */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { describe, test } from "node:test";

import {
  Btf,
  CoreReloKind,
  marshalBtf,
  marshalBtfExt,
  parseBtfExt,
  type BtfExt,
} from "../../src/btf/index.js";
import { repoRoot } from "../helpers/fixtures.js";
import { compile, hasClang, testObjects } from "./btf-helpers.js";

const noClang = hasClang ? false : "needs clang-19";

describe("parseBtfExt()", () => {
  for (const object of testObjects()) {
    if (object.ext === undefined) continue;
    const ext = object.ext;

    // bpf-gcc (fixtures named *.gcc) leaves unreferenced bytes after the subsections; only the model survives.
    const byClang = !object.name.endsWith(".gcc");
    test(`reproduces the .BTF.ext of ${object.name} ${byClang ? "byte for byte" : "as a model"}, adding no strings`, () => {
      const btf = Btf.parse(object.btf, { file: object.path });
      const parsed = parseBtfExt(ext, btf, { file: object.path });
      const bytes = marshalBtfExt(parsed, btf);
      if (byClang) assert.deepEqual(bytes, ext);
      assert.deepEqual(parseBtfExt(bytes, btf), parsed);
      assert.deepEqual(marshalBtf(btf), object.btf);
    });

    test(`gives ${object.name} records that match its code sections and types`, () => {
      const btf = Btf.parse(object.btf);
      const parsed = parseBtfExt(ext, btf);
      for (const [kind, blocks] of Object.entries(parsed) as [keyof BtfExt, BtfExt[keyof BtfExt]][]) {
        for (const [section, records] of blocks) {
          const code = object.elf.get(section);
          assert.ok(code !== undefined, `${kind} names section ${section}, which the object lacks`);
          let previous = -1;
          for (const record of records) {
            assert.ok(record.insnOff < code.bytes.length, `${kind} ${section}+${record.insnOff} is past the code`);
            assert.ok(record.insnOff >= previous, `${kind} ${section} is not sorted`);
            if (kind !== "coreRelos") previous = record.insnOff;
          }
        }
      }
      for (const records of parsed.funcInfo.values()) {
        for (const record of records) assert.equal(btf.type(record.typeId).kind, "func");
      }
    });

    test(`gives ${object.name} line info whose text is the source line`, () => {
      const parsed = parseBtfExt(ext, Btf.parse(object.btf));
      let checked = 0;
      for (const records of parsed.lineInfo.values()) {
        for (const record of records) {
          const source = sourceLines(record.fileName);
          if (source === undefined || record.lineNumber === 0) continue;
          assert.equal(record.line, source[record.lineNumber - 1], `${record.fileName}:${record.lineNumber}`);
          assert.ok(record.column <= source[record.lineNumber - 1]!.length + 1);
          checked++;
        }
      }
      if (!object.name.includes("gcc")) assert.ok(checked > 0, "no line info could be checked against its source");
    });
  }

  test("decodes every CO-RE relocation kind clang emits", { skip: noClang }, () => {
    const object = compile("core");
    const btf = Btf.parse(object.btf);
    const ext = parseBtfExt(object.ext!, btf);
    const relos = [...ext.coreRelos.values()].flat();
    const kinds = new Set(relos.map((relo) => relo.kind));
    for (let kind = CoreReloKind.FIELD_BYTE_OFFSET; kind <= CoreReloKind.TYPE_MATCHES; kind++) {
      assert.ok(kinds.has(kind), `missing ${CoreReloKind[kind]}`);
    }
    const byKind = (kind: CoreReloKind) => relos.find((relo) => relo.kind === kind)!;
    const task = btf.find("task", "struct")!;
    assert.deepEqual(
      [byKind(CoreReloKind.FIELD_BYTE_OFFSET).typeId, byKind(CoreReloKind.FIELD_BYTE_OFFSET).accessStr],
      [task, "0:0"],
    );
    assert.equal(byKind(CoreReloKind.FIELD_BYTE_SIZE).accessStr, "0:4");
    assert.equal(byKind(CoreReloKind.FIELD_LSHIFT_U64).accessStr, "0:1");
    assert.equal(byKind(CoreReloKind.TYPE_EXISTS).typeId, btf.find("task_t", "typedef"));
    assert.equal(byKind(CoreReloKind.ENUMVAL_VALUE).typeId, btf.find("state", "enum"));
    assert.equal(byKind(CoreReloKind.ENUMVAL_VALUE).accessStr, "1");
    assert.deepEqual([...ext.coreRelos.keys()], ["kprobe/fields", ".text", "kprobe/types"]);
    assert.deepEqual([...ext.funcInfo.keys()], ["kprobe/fields", ".text", "kprobe/types"]);
  });

  test("round-trips through the other byte order", { skip: noClang }, () => {
    const little = compile("core");
    const big = compile("core", true);
    const btf = Btf.parse(little.btf);
    const ext = parseBtfExt(little.ext!, btf);
    assert.deepEqual(marshalBtfExt(ext, btf, { littleEndian: false }), big.ext);
    const bigBtf = Btf.parse(big.btf);
    assert.deepEqual(parseBtfExt(big.ext!, bigBtf), ext);
  });

  test("reads the older 24-byte header, which has no CO-RE relocations", { skip: noClang }, () => {
    const object = compile("kinds");
    const btf = Btf.parse(object.btf);
    const current = object.ext!;
    const old = new Uint8Array(current.length - 8);
    old.set(current.subarray(0, 24));
    old.set(current.subarray(32), 24);
    new DataView(old.buffer).setUint32(4, 24, true);
    const parsed = parseBtfExt(old, btf);
    assert.deepEqual(parsed, { ...parseBtfExt(current, btf), coreRelos: new Map() });
  });

  test("skips the unknown tail of records larger than it knows", { skip: noClang }, () => {
    const object = compile("kinds");
    const btf = Btf.parse(object.btf);
    const expected = parseBtfExt(object.ext!, btf);
    // Re-encode the func info with 12-byte records whose last 4 bytes are junk.
    const blocks = [...expected.funcInfo];
    const words: number[] = [12];
    for (const [section, records] of blocks) {
      words.push(btf.strings.find(section)!, records.length);
      for (const record of records) words.push(record.insnOff, record.typeId, 0xdeadbeef);
    }
    const header = [0x0001eb9f, 32, 0, words.length * 4, words.length * 4, 0, words.length * 4, 0];
    const bytes = new Uint8Array(new Uint32Array([...header, ...words]).buffer);
    const parsed = parseBtfExt(bytes, btf);
    assert.deepEqual(parsed.funcInfo, expected.funcInfo);
    assert.equal(parsed.lineInfo.size, 0);
  });

  test("marshals new records, appending their strings to the BTF", { skip: noClang }, () => {
    const object = compile("kinds");
    const btf = Btf.parse(object.btf);
    const ext = parseBtfExt(object.ext!, btf);
    const before = btf.strings.size;
    const lineInfo = new Map(ext.lineInfo);
    lineInfo.set("xdp", [
      ...ext.lineInfo.get("xdp")!,
      {
        insnOff: 4096,
        fileNameOff: 0,
        lineOff: 0,
        fileName: "generated.c",
        line: "return 0;",
        lineNumber: 7,
        column: 3,
      },
    ]);
    const bytes = marshalBtfExt({ ...ext, lineInfo }, btf);
    assert.ok(btf.strings.size > before);
    const reparsed = parseBtfExt(bytes, Btf.parse(marshalBtf(btf)));
    const added = reparsed.lineInfo.get("xdp")!.at(-1)!;
    assert.deepEqual(
      [added.fileName, added.line, added.lineNumber, added.column],
      ["generated.c", "return 0;", 7, 3],
    );
    assert.throws(
      () => marshalBtfExt({ ...ext, lineInfo: new Map([["xdp", [{ ...added, column: 1024 }]]]) }, btf),
      RangeError,
    );
  });
});

/** The lines of a source file named in line info (fixtures record paths relative to fixtures/src). */
function sourceLines(fileName: string): string[] | undefined {
  const candidates = isAbsolute(fileName) ? [fileName] : [join(repoRoot, "fixtures", "src", fileName)];
  const path = candidates.find((candidate) => fileName !== "" && existsSync(candidate));
  return path === undefined ? undefined : readFileSync(path, "utf8").split("\n");
}
