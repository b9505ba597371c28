/**
 * Helpers for the src/sys kernel tests: hand-encoded eBPF instructions, little-endian byte helpers,
 * a private bpffs mount, fd counting, and a minimal vmlinux BTF lookup (type id of a named FUNC).
 */

import { mkdtempSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBpffs, unmount } from "../../src/sys/index.js";

/** One eBPF instruction: opcode, dst and src registers, 16-bit offset, 32-bit immediate. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, code);
  view.setUint8(1, (src << 4) | dst);
  view.setInt16(2, off, true);
  view.setInt32(4, imm, true);
  return bytes;
}

/** `dst = imm` (BPF_ALU64 | BPF_MOV | BPF_K). */
export const movImm = (dst: number, imm: number): Uint8Array => insn(0xb7, dst, 0, 0, imm);
/** `exit` (BPF_JMP | BPF_EXIT). */
export const exit = (): Uint8Array => insn(0x95, 0, 0, 0, 0);
/** `dst = *(u32 *)(src + off)` (BPF_LDX | BPF_MEM | BPF_W). */
export const loadWord = (dst: number, src: number, off: number): Uint8Array => insn(0x61, dst, src, off, 0);
/** `dst = map fd` as a 16-byte ld_imm64 with BPF_PSEUDO_MAP_FD. */
export const loadMapFd = (dst: number, fd: number): Uint8Array => concat([insn(0x18, dst, 1, 0, fd), insn(0, 0, 0, 0, 0)]);

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** 4 little-endian bytes. */
export function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

/** 8 little-endian bytes. */
export function u64(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

/** Reads a little-endian u32 at `offset`. */
export function readU32(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

/** Reads a little-endian u64 at `offset`. */
export function readU64(bytes: Uint8Array, offset = 0): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true);
}

/** How many descriptors this process holds. */
export function openFdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Mounts a private bpffs in a fresh temporary directory; `close()` unmounts and removes it. */
export function privateBpffs(): { readonly path: string; close(): void } {
  const path = mkdtempSync(join(tmpdir(), "waggle-sys-bpffs-"));
  ensureBpffs(path);
  return {
    path,
    close() {
      unmount(path);
      rmdirSync(path);
    },
  };
}

/** BTF kinds whose records are followed by extra bytes: [fixed extra, bytes per vlen member]. */
const BTF_KIND_EXTRA: Readonly<Record<number, readonly [number, number]>> = {
  1: [4, 0], // INT
  3: [12, 0], // ARRAY
  4: [0, 12], // STRUCT
  5: [0, 12], // UNION
  6: [0, 8], // ENUM
  13: [0, 8], // FUNC_PROTO
  14: [4, 0], // VAR
  15: [0, 12], // DATASEC
  17: [4, 0], // DECL_TAG
  19: [0, 12], // ENUM64
};

/** BTF kind of functions. */
const BTF_KIND_FUNC = 12;

/** The vmlinux BTF type id of the function `name`, or undefined when it has none. */
export function vmlinuxFuncId(name: string): number | undefined {
  const btf = readFileSync("/sys/kernel/btf/vmlinux");
  const view = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  const hdrLen = view.getUint32(4, true);
  const typeStart = hdrLen + view.getUint32(8, true);
  const typeEnd = typeStart + view.getUint32(12, true);
  const strStart = hdrLen + view.getUint32(16, true);
  const wanted = Buffer.from(`${name}\0`);
  let offset = typeStart;
  for (let id = 1; offset < typeEnd; id++) {
    const nameOff = view.getUint32(offset, true);
    const info = view.getUint32(offset + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === BTF_KIND_FUNC && btf.subarray(strStart + nameOff, strStart + nameOff + wanted.length).equals(wanted)) {
      return id;
    }
    const [fixed, perMember] = BTF_KIND_EXTRA[kind] ?? [0, 0];
    offset += 12 + fixed + perMember * vlen;
  }
  return undefined;
}
