/**
 * Decoding: instruction bytes (a code section of an ELF object, a program from the kernel) into
 * {@link Instruction}s. Every 8-byte slot becomes one instruction, except a 64-bit immediate load,
 * which takes its own slot and the next. Opcodes the ISA does not define are kept as they are, so that
 * `encodeInstructions(decodeInstructions(bytes))` gives the same bytes back for any input that decodes.
 *
 * The only errors are FormatErrors: a length that is not a whole number of slots, and a 64-bit load
 * whose second slot is missing or has non-zero reserved fields (the kernel rejects those too).
 */

import { FormatError } from "../errors.js";
import { Instruction } from "./instruction.js";
import { BPF_LD_IMM64, INSTRUCTION_SIZE } from "./opcodes.js";

/** Options of {@link decodeInstructions}. */
export interface DecodeOptions {
  /** Byte order of the instructions: true (the default) for little-endian objects, false for `bpfeb`. */
  readonly littleEndian?: boolean;
  /** The file the bytes come from, for error messages. */
  readonly file?: string;
  /** The section the bytes come from, for error messages. */
  readonly section?: string;
}

const OPCODE_AT = 0;
const REGISTERS_AT = 1;
const OFFSET_AT = 2;
const IMM_AT = 4;
const NIBBLE_BITS = 4;
const NIBBLE_MASK = 0x0f;

/**
 * Decodes instruction bytes.
 *
 * In little-endian objects the register byte holds dst in its low nibble; in big-endian ones dst is the
 * high nibble, and offset and imm are big-endian.
 *
 * @throws FormatError when the length is not a multiple of 8 or a 64-bit load is truncated or malformed
 *   (`offset` is the byte offset of the offending instruction within `bytes`).
 * @example
 * const insns = decodeInstructions(section.bytes, { section: "xdp" });
 */
export function decodeInstructions(bytes: Uint8Array, options: DecodeOptions = {}): Instruction[] {
  const littleEndian = options.littleEndian ?? true;
  const where = (offset: number) => ({ file: options.file, section: options.section, offset });
  const remainder = bytes.length % INSTRUCTION_SIZE;
  if (remainder !== 0) {
    throw new FormatError(
      "instructions",
      `${bytes.length} bytes is not a whole number of ${INSTRUCTION_SIZE}-byte instructions`,
      where(bytes.length - remainder),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const instructions: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += INSTRUCTION_SIZE) {
    const opcode = view.getUint8(at + OPCODE_AT);
    const registers = view.getUint8(at + REGISTERS_AT);
    const high = registers >> NIBBLE_BITS;
    const low = registers & NIBBLE_MASK;
    const instruction = Instruction.trusted({
      opcode,
      dst: littleEndian ? low : high,
      src: littleEndian ? high : low,
      offset: view.getInt16(at + OFFSET_AT, littleEndian),
      imm: view.getInt32(at + IMM_AT, littleEndian),
    });
    if (opcode === BPF_LD_IMM64) {
      const second = at + INSTRUCTION_SIZE;
      if (second >= bytes.length) {
        throw new FormatError("instructions", "64-bit immediate load lacks its second slot", where(at));
      }
      if (view.getUint32(second, littleEndian) !== 0) {
        throw new FormatError(
          "instructions",
          "second slot of a 64-bit immediate load has non-zero opcode, registers or offset",
          where(second),
        );
      }
      instruction.imm2 = view.getInt32(second + IMM_AT, littleEndian);
      at = second;
    }
    instructions.push(instruction);
  }
  return instructions;
}
