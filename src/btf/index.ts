/**
 * The BTF layer's public surface: the type model, `Btf` (parse lazily, look up, build, lay out),
 * marshalling back to bytes, `.BTF.ext` (func info, line info, CO-RE relocations), and C printing.
 * Pure functions of bytes: no I/O.
 */

export { Btf, type BtfCreateOptions, type BtfParseOptions } from "./btf.js";
export {
  CoreReloKind,
  type BtfExt,
  type CoreReloRecord,
  type FuncInfoRecord,
  type LineInfoRecord,
} from "./btf-ext.js";
export { dumpC, type DumpCOptions } from "./dump-c.js";
export { formatCDecl, formatCType } from "./format-c.js";
export { BTF_KIND, BTF_MAGIC, BTF_VERSION, btfKindNumber } from "./kinds.js";
export { marshalBtf, type MarshalBtfOptions } from "./marshal-btf.js";
export { marshalBtfExt, type MarshalBtfExtOptions } from "./marshal-btf-ext.js";
export { parseBtfExt, type ParseBtfExtOptions } from "./parse-btf-ext.js";
export { sanitizeBtf, type BtfSupport } from "./sanitize.js";
export { BtfStrings } from "./strings.js";
export type {
  BtfArray,
  BtfConst,
  BtfDatasec,
  BtfDeclTag,
  BtfEnum,
  BtfEnum64,
  BtfEnum64Value,
  BtfEnumValue,
  BtfFloat,
  BtfFunc,
  BtfFuncProto,
  BtfFwd,
  BtfInt,
  BtfLinkage,
  BtfMember,
  BtfParam,
  BtfPtr,
  BtfRestrict,
  BtfStruct,
  BtfType,
  BtfTypedef,
  BtfTypeTag,
  BtfUnion,
  BtfVar,
  BtfVarSecinfo,
  BtfVoid,
  BtfVolatile,
  TypeId,
} from "./types.js";
