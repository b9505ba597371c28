/** A program the verifier rejects throws a VerifierError that carries the log and the C source line. */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { isWaggleError, load, type VerifierError } from "../../src/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { openFdCount } from "../helpers/fds.js";
import { kernelTest } from "../helpers/kernel.js";

function rejection(fn: () => unknown): VerifierError {
  try {
    fn();
  } catch (error) {
    if (isWaggleError(error, "VerifierError")) return error;
    throw error;
  }
  assert.fail("expected a VerifierError");
}

describe("VerifierError", () => {
  kernelTest("names the C source line of the instruction the verifier rejected", () => {
    const e = rejection(() => load(fixturePath("verifier_fail")));
    assert.equal(e.program, "bad_deref");
    assert.equal(e.code, "EACCES");
    assert.match(e.log, /R0 invalid mem access 'map_value_or_null'/);
    assert.equal(e.source?.file, "./verifier_fail.bpf.c");
    assert.equal(e.source?.line, 27);
    assert.match(e.source!.text, /\*value \+= 1;/);
    assert.equal(typeof e.instruction, "number");
    assert.match(e.message, /^Cannot load program "bad_deref": verifier rejected it at instruction \d+ \(\.\/verifier_fail\.bpf\.c:27: \*value \+= 1;/);
  });

  kernelTest("points at a call the license forbids, on its own source line", () => {
    const e = rejection(() => load(fixturePath("license_nongpl")));
    assert.equal(e.code, "EINVAL");
    assert.match(e.log, /cannot call GPL-restricted function from non-GPL compatible program/);
    assert.equal(e.source?.line, 40);
    assert.match(e.source!.text, /bpf_get_current_task\(\)/);
  });

  kernelTest("a program the verifier accepts loads alone when the rejected one is left out", () => {
    using coll = load(fixturePath("verifier_fail"), { programs: ["good_prog"] });
    assert.deepEqual([...coll.programs.keys()], ["good_prog"]);
  });

  kernelTest("logLevel keeps the verifier log of a successful load", () => {
    using coll = load(fixturePath("xdp_pass"), { logLevel: 2 });
    assert.match(coll.program("xdp_pass").verifierLog, /processed \d+ insns/);
  });

  kernelTest("a failed load closes every map it had created", () => {
    const before = openFdCount();
    for (let i = 0; i < 20; i++) assert.throws(() => load(fixturePath("verifier_fail")), { name: "VerifierError" });
    assert.equal(openFdCount(), before);
  });
});
