/**
 * Fuzzing, for a bounded time: random bytes and mutated real code sections must decode or fail with a
 * FormatError, never anything else; whatever decodes must re-encode to the same bytes and disassemble
 * without error; mutated assembly text must assemble or fail with a FormatError.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isWaggleError } from "../../src/errors.js";
import {
  FP,
  ProgramBuilder,
  R0,
  R1,
  R2,
  assemble,
  decodeInstructions,
  disassemble,
  encodeInstructions,
} from "../../src/asm/index.js";
import { compile, fixtureObjects, llvmSkipReason, readCodeSections } from "./asm/support.js";

/** How long each property runs. */
const TIME_LIMIT_MS = 1000;
const RUNS = 1_000_000;

function onlyFormatErrors(action: () => void): void {
  try {
    action();
  } catch (error) {
    if (!isWaggleError(error, "FormatError")) throw error;
  }
}

/** Decodes, and checks everything that must hold of what decodes. */
function checkBytes(bytes: Uint8Array, littleEndian: boolean): void {
  onlyFormatErrors(() => {
    const instructions = decodeInstructions(bytes, { littleEndian });
    assert.deepEqual(encodeInstructions(instructions, { littleEndian }), bytes);
    for (const syntax of ["llvm", "pretty"] as const) {
      for (const alu32 of [false, true]) disassemble(instructions, { syntax, alu32, sectionOffset: 8 });
    }
    onlyFormatErrors(() => assemble(disassemble(instructions, { syntax: "pretty" }).join("\n")));
  });
}

/** Code to mutate: a builder program always, plus clang's and the fixtures' sections when available. */
function corpus(): { bytes: Uint8Array; littleEndian: boolean }[] {
  const built = new ProgramBuilder()
    .loadMap(R1, "m")
    .mov(R2, FP)
    .add(R2, -8)
    .call(1)
    .jeq(R0, 0, "out")
    .atomic("add", "u64", R0, R1, 0, { fetch: true })
    .ldxsx("s16", R1, R0, 2)
    .label("out")
    .lddw(R0, -5n)
    .exit()
    .build();
  const sections = [{ bytes: encodeInstructions(built), littleEndian: true }];
  const objects = [
    ...(llvmSkipReason === undefined ? [compile("calls", "v4"), compile("atomics", "v3", true), compile("alu", "v4")] : []),
    ...fixtureObjects(),
  ];
  for (const object of objects) sections.push(...readCodeSections(object.path));
  return sections;
}

test("decoding random bytes throws nothing but FormatError, and what decodes re-encodes unchanged", () => {
  const slot = fc.uint8Array({ minLength: 8, maxLength: 8 });
  const program = fc.oneof(
    fc.array(slot, { maxLength: 64 }).map((slots) => new Uint8Array(slots.flatMap((s) => [...s]))),
    fc.uint8Array({ maxLength: 300 }),
  );
  fc.assert(fc.property(program, fc.boolean(), (bytes, littleEndian) => checkBytes(bytes, littleEndian)), {
    interruptAfterTimeLimit: TIME_LIMIT_MS,
    numRuns: RUNS,
  });
});

test("decoding mutated code sections throws nothing but FormatError, and what decodes re-encodes unchanged", () => {
  const sections = corpus();
  const mutation = fc.record({
    section: fc.nat({ max: sections.length - 1 }),
    edits: fc.array(fc.record({ at: fc.nat(), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 8 }),
    cut: fc.option(fc.nat()),
  });
  fc.assert(
    fc.property(mutation, ({ section, edits, cut }) => {
      const { bytes: original, littleEndian } = sections[section]!;
      const bytes = original.slice(0, cut === null ? undefined : cut % (original.length + 1));
      for (const { at, value } of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
      checkBytes(bytes, littleEndian);
    }),
    { interruptAfterTimeLimit: TIME_LIMIT_MS, numRuns: RUNS },
  );
});

test("assembling mutated disassembly throws nothing but FormatError", () => {
  const texts = corpus()
    .slice(0, 4)
    .map(({ bytes, littleEndian }) => disassemble(decodeInstructions(bytes, { littleEndian }), { syntax: "pretty" }));
  const alphabet = fc.constantFrom(..." \t:+-*()[]<>#,;=&|^%/sxwr0123456789abcdefl_".split(""));
  const mutation = fc.record({
    text: fc.nat({ max: texts.length - 1 }),
    line: fc.nat(),
    edits: fc.array(fc.record({ at: fc.nat(), insert: fc.string({ unit: alphabet, maxLength: 3 }), remove: fc.nat({ max: 3 }) }), {
      minLength: 1,
      maxLength: 4,
    }),
  });
  fc.assert(
    fc.property(mutation, ({ text, line, edits }) => {
      const lines = [...texts[text]!];
      const index = line % lines.length;
      let edited = lines[index]!;
      for (const { at, insert, remove } of edits) {
        const position = at % (edited.length + 1);
        edited = edited.slice(0, position) + insert + edited.slice(position + remove);
      }
      lines[index] = edited;
      onlyFormatErrors(() => assemble(lines.join("\n")));
    }),
    { interruptAfterTimeLimit: TIME_LIMIT_MS, numRuns: RUNS },
  );
});
