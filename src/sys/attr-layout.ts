/**
 * Table-driven binary layouts for `union bpf_attr` members and the `bpf_*_info` structs.
 *
 * A layout is declared once as `{ fieldName: [offset, kind] }` with the offsets of the kernel's UAPI
 * header (see attrs.ts and info-layouts.ts); `writeFields` and `decodeFields` do the rest, so no
 * command spells out an offset. The hot map-element paths read the same tables once at module load and
 * keep the word indices.
 *
 * Kinds: `u32`/`s32` (number), `u64` (bigint; a safe-integer number is accepted on write), `ptr` (a
 * user-space address as a Number, written as u64), `name16` (an object name, `char[16]`), `tag8`
 * (`__u8[8]`, read as lower-case hex).
 */

/** The kind of one field. */
export type FieldKind = "u32" | "s32" | "u64" | "ptr" | "name16" | "tag8";

/** The JS type a field of kind `K` decodes to. */
export type FieldValue<K extends FieldKind> = K extends "u64" ? bigint : K extends "name16" | "tag8" ? string : number;

/** What a field of kind `K` accepts on write. */
type FieldInput<K extends FieldKind> = K extends "u64" ? bigint | number : FieldValue<K>;

/** One field: byte offset and kind. */
export interface Field<K extends FieldKind = FieldKind> {
  readonly offset: number;
  readonly kind: K;
}

/** A struct layout: its size (covering every declared field, rounded to 8) and its fields. */
export interface Layout<S extends Record<string, FieldKind>> {
  readonly name: string;
  readonly size: number;
  readonly fields: { readonly [F in keyof S]: Field<S[F]> };
}

/** The values of some fields of a layout, for writing. */
export type FieldInputs<S extends Record<string, FieldKind>> = { readonly [F in keyof S]?: FieldInput<S[F]> | undefined };

/** Every field of a layout, decoded. */
export type Decoded<S extends Record<string, FieldKind>> = { [F in keyof S]: FieldValue<S[F]> };

/** Bytes taken by each kind. */
const WIDTH: Readonly<Record<FieldKind, number>> = { u32: 4, s32: 4, u64: 8, ptr: 8, name16: 16, tag8: 8 };

/** 2^32, to split 64-bit numbers into halves. */
const TWO_32 = 0x1_0000_0000;

/** Longest object name the kernel keeps (`BPF_OBJ_NAME_LEN` minus the NUL). */
const MAX_NAME_LENGTH = 15;

/** Characters the kernel accepts in object names (`bpf_obj_name_cpy()`). */
const NAME_PATTERN = /^[A-Za-z0-9_.]*$/;

/**
 * Declares a layout from `{ field: [offset, kind] }`.
 * @example const obj = defineLayout("obj", { pathname: [0, "ptr"], bpfFd: [8, "u32"] });
 */
export function defineLayout<const T extends Record<string, readonly [number, FieldKind]>>(
  name: string,
  table: T,
): Layout<{ [F in keyof T]: T[F][1] }> {
  const fields: Record<string, Field> = {};
  let end = 0;
  for (const [field, [offset, kind]] of Object.entries(table)) {
    fields[field] = Object.freeze({ offset, kind });
    end = Math.max(end, offset + WIDTH[kind]);
  }
  return Object.freeze({ name, size: (end + 7) & ~7, fields }) as unknown as Layout<{ [F in keyof T]: T[F][1] }>;
}

/**
 * Validates an object name for the kernel: names longer than 15 characters are truncated (as libbpf
 * does); characters outside `[A-Za-z0-9_.]` are a TypeError, because the kernel would reject them.
 */
export function objectName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new TypeError(`object name ${JSON.stringify(name)} may only hold letters, digits, "_" and "."`);
  }
  return name.slice(0, MAX_NAME_LENGTH);
}

/** Writes a u64 given as two halves' worth of Number (must be a safe integer). */
function writeU64Number(view: DataView, at: number, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  view.setUint32(at, value % TWO_32, true);
  view.setUint32(at + 4, Math.floor(value / TWO_32), true);
}

/** Writes `values` into the struct at `base` of `view`; fields left undefined keep their bytes. */
export function writeFields<S extends Record<string, FieldKind>>(
  view: DataView,
  base: number,
  layout: Layout<S>,
  values: FieldInputs<S>,
): void {
  for (const name in values) {
    const value = values[name];
    if (value === undefined) continue;
    const { offset, kind } = layout.fields[name];
    const at = base + offset;
    const label = `${layout.name}.${name}`;
    switch (kind) {
      case "u32":
        if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= TWO_32) {
          throw new RangeError(`${label} must be a u32, got ${String(value)}`);
        }
        view.setUint32(at, value, true);
        break;
      case "s32":
        if (typeof value !== "number" || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
          throw new RangeError(`${label} must be an s32, got ${String(value)}`);
        }
        view.setInt32(at, value, true);
        break;
      case "u64":
        if (typeof value === "bigint") {
          if (value < 0n || value >= 1n << 64n) throw new RangeError(`${label} must be a u64, got ${value}`);
          view.setBigUint64(at, value, true);
        } else {
          writeU64Number(view, at, value as number, label);
        }
        break;
      case "ptr":
        writeU64Number(view, at, value as number, label);
        break;
      case "name16": {
        const name = objectName(value as string);
        for (let i = 0; i < 16; i++) view.setUint8(at + i, i < name.length ? name.charCodeAt(i) : 0);
        break;
      }
      case "tag8":
        throw new TypeError(`${label} is read-only`);
    }
  }
}

/** Reads one field of the struct at `base`. */
export function readField<K extends FieldKind>(view: DataView, base: number, field: Field<K>): FieldValue<K> {
  const at = base + field.offset;
  switch (field.kind) {
    case "u32":
      return view.getUint32(at, true) as FieldValue<K>;
    case "s32":
      return view.getInt32(at, true) as FieldValue<K>;
    case "u64":
      return view.getBigUint64(at, true) as FieldValue<K>;
    case "ptr":
      return (view.getUint32(at, true) + view.getUint32(at + 4, true) * TWO_32) as FieldValue<K>;
    case "name16": {
      let name = "";
      for (let i = 0; i < 16; i++) {
        const c = view.getUint8(at + i);
        if (c === 0) break;
        name += String.fromCharCode(c);
      }
      return name as FieldValue<K>;
    }
    case "tag8": {
      let hex = "";
      for (let i = 0; i < 8; i++) hex += view.getUint8(at + i).toString(16).padStart(2, "0");
      return hex as FieldValue<K>;
    }
  }
  throw new TypeError(`unknown field kind ${String(field.kind)}`);
}

/** Reads every field of the struct at `base`. */
export function decodeFields<S extends Record<string, FieldKind>>(view: DataView, base: number, layout: Layout<S>): Decoded<S> {
  const out: Record<string, unknown> = {};
  for (const name in layout.fields) out[name] = readField(view, base, layout.fields[name]);
  return out as Decoded<S>;
}
