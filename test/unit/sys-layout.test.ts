/** The pure parts of src/sys: layout tables, the field writer and reader, constants, CPU lists. */

import assert from "node:assert/strict";
import { test } from "node:test";
import { isWaggleError } from "../../src/errors.js";
import {
  decodeFields,
  defineLayout,
  type FieldKind,
  type Layout,
  objectName,
  readField,
  writeFields,
} from "../../src/sys/attr-layout.js";
import * as attrs from "../../src/sys/attrs.js";
import { BpfAttachType, BpfCmd, BpfLinkType, BpfMapType, BpfProgType } from "../../src/sys/constants.js";
import { parseCpuList } from "../../src/sys/cpu-list.js";
import { btfInfoLayout, linkInfoLayout, mapInfoLayout, progInfoLayout } from "../../src/sys/info-layouts.js";

const WIDTH: Record<FieldKind, number> = { u32: 4, s32: 4, u64: 8, ptr: 8, name16: 16, tag8: 8 };

/** Asserts that no two fields of a plain struct overlap and that each is naturally aligned. */
function assertPlainStruct(layout: Layout<Record<string, FieldKind>>): void {
  const fields = Object.entries(layout.fields).sort(([, a], [, b]) => a.offset - b.offset);
  for (let i = 0; i < fields.length; i++) {
    const [name, { offset, kind }] = fields[i]!;
    const align = kind === "name16" || kind === "tag8" ? 1 : WIDTH[kind];
    assert.equal(offset % align, 0, `${layout.name}.${name} is aligned`);
    const next = fields[i + 1];
    if (next) assert.ok(offset + WIDTH[kind] <= next[1].offset, `${layout.name}.${name} overlaps ${next[0]}`);
  }
}

test("attr layouts that are plain structs have aligned, disjoint fields", () => {
  for (const layout of [
    attrs.mapCreateAttr,
    attrs.mapElemAttr,
    attrs.mapBatchAttr,
    attrs.progLoadAttr,
    attrs.objAttr,
    attrs.progAttachAttr,
    attrs.testRunAttr,
    attrs.getIdAttr,
    attrs.infoAttr,
    attrs.queryAttr,
    attrs.rawTracepointAttr,
    attrs.btfLoadAttr,
    attrs.linkUpdateAttr,
    progInfoLayout,
    mapInfoLayout,
    btfInfoLayout,
  ] as Layout<Record<string, FieldKind>>[]) {
    assertPlainStruct(layout);
  }
});

test("layouts carry the kernel's offsets and cover their last field", () => {
  assert.equal(attrs.progLoadAttr.fields.logTrueSize.offset, 140);
  assert.equal(attrs.progLoadAttr.fields.fdArray.offset, 120);
  assert.equal(attrs.progLoadAttr.size, 152);
  assert.equal(attrs.mapElemAttr.size, 32);
  assert.equal(attrs.mapBatchAttr.size, 56);
  assert.equal(attrs.mapCreateAttr.fields.mapExtra.offset, 64);
  assert.equal(attrs.mapCreateAttr.size, 80);
  assert.equal(attrs.testRunAttr.fields.batchSize.offset, 72);
  assert.equal(attrs.btfLoadAttr.fields.btfLogTrueSize.offset, 28);
  assert.equal(attrs.linkCreateAttr.fields.uprobeMultiPid.offset, 56);
  assert.equal(progInfoLayout.fields.attachBtfId.offset, 224);
  assert.equal(progInfoLayout.size, 232);
  assert.equal(mapInfoLayout.fields.mapExtra.offset, 80);
  assert.equal(btfInfoLayout.size, 32);
  assert.equal(linkInfoLayout.size, 64);
});

test("writeFields() writes each kind little-endian and readField() reads it back", () => {
  const layout = defineLayout("sample", {
    a: [0, "u32"],
    b: [4, "s32"],
    c: [8, "u64"],
    d: [16, "ptr"],
    e: [24, "name16"],
  });
  assert.equal(layout.size, 40);
  const view = new DataView(new ArrayBuffer(64));
  writeFields(view, 8, layout, { a: 0xdeadbeef, b: -2, c: 1n << 63n, d: 0x7fff_1234_5678, e: "abc.d_1" });
  assert.equal(view.getUint32(8, true), 0xdeadbeef);
  assert.equal(view.getInt32(12, true), -2);
  assert.equal(view.getBigUint64(16, true), 1n << 63n);
  assert.equal(view.getBigUint64(24, true), 0x7fff_1234_5678n);
  assert.deepEqual(decodeFields(view, 8, layout), { a: 0xdeadbeef, b: -2, c: 1n << 63n, d: 0x7fff_1234_5678, e: "abc.d_1" });
  writeFields(view, 8, layout, { c: 5, a: undefined });
  assert.equal(readField(view, 8, layout.fields.c), 5n);
  assert.equal(readField(view, 8, layout.fields.a), 0xdeadbeef, "undefined leaves a field alone");
});

test("writeFields() rejects values that do not fit their field", () => {
  const layout = defineLayout("ranges", { u: [0, "u32"], s: [4, "s32"], q: [8, "u64"], p: [16, "ptr"] });
  const view = new DataView(new ArrayBuffer(24));
  assert.throws(() => writeFields(view, 0, layout, { u: -1 }), RangeError);
  assert.throws(() => writeFields(view, 0, layout, { u: 2 ** 32 }), RangeError);
  assert.throws(() => writeFields(view, 0, layout, { u: 1.5 }), RangeError);
  assert.throws(() => writeFields(view, 0, layout, { s: 2 ** 31 }), RangeError);
  assert.throws(() => writeFields(view, 0, layout, { q: 1n << 64n }), RangeError);
  assert.throws(() => writeFields(view, 0, layout, { q: -1n }), RangeError);
  assert.throws(() => writeFields(view, 0, layout, { p: 2 ** 53 }), RangeError);
});

test("the tag kind reads as hex and cannot be written", () => {
  const layout = defineLayout("tagged", { tag: [0, "tag8"] });
  const view = new DataView(Uint8Array.from([0x61, 0x4b, 0x43, 0x4c, 0xd8, 0x32, 0x4e, 0xcc]).buffer);
  assert.equal(readField(view, 0, layout.fields.tag), "614b434cd8324ecc");
  assert.throws(() => writeFields(view, 0, layout, { tag: "00" }), TypeError);
});

test("objectName() truncates to 15 characters and rejects what the kernel refuses", () => {
  assert.equal(objectName("short"), "short");
  assert.equal(objectName("exactly_15_char"), "exactly_15_char");
  assert.equal(objectName("sixteen_chars_xx"), "sixteen_chars_x");
  assert.equal(objectName(""), "");
  for (const bad of ["has space", "dash-ed", "slash/", "ünïcode", "nul\0"]) assert.throws(() => objectName(bad), TypeError);
});

test("constants match the 6.18 kernel's enums", () => {
  assert.equal(BpfCmd.MAP_CREATE, 0);
  assert.equal(BpfCmd.PROG_TEST_RUN, 10);
  assert.equal(BpfCmd.TOKEN_CREATE, 36);
  assert.equal(BpfMapType.CGROUP_STORAGE, 19);
  assert.equal(BpfMapType.USER_RINGBUF, 31);
  assert.equal(BpfMapType.CGRP_STORAGE, 32);
  assert.equal(BpfMapType.ARENA, 33);
  assert.equal(BpfProgType.NETFILTER, 32);
  assert.equal(BpfAttachType.NETKIT_PEER, 55);
  assert.equal(BpfAttachType.TRACE_UPROBE_SESSION, 57);
  assert.equal(BpfLinkType.SOCKMAP, 14);
  assert.equal(Object.keys(BpfMapType).length, 34);
  assert.equal(Object.keys(BpfProgType).length, 33);
  assert.equal(Object.keys(BpfAttachType).length, 58);
});

test("parseCpuList() counts CPUs in every list form the kernel writes", () => {
  assert.equal(parseCpuList("0\n"), 1);
  assert.equal(parseCpuList("0-3\n"), 4);
  assert.equal(parseCpuList("0,2-3,8"), 4);
  assert.equal(parseCpuList(""), 0);
  for (const bad of ["0-", "a", "3-1", "0,,1"]) {
    assert.throws(() => parseCpuList(bad, "possible"), (e: unknown) => isWaggleError(e, "FormatError") && e.file === "possible");
  }
});
