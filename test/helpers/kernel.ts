/**
 * Gating for tests that need the real kernel: they run as root, are skipped with a printed reason
 * elsewhere, and fail instead of skipping when `WAGGLE_REQUIRE_KERNEL=1` (as in CI).
 */

import { test, type TestContext } from "node:test";

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== "linux") return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "needs root: bpf() requires CAP_BPF/CAP_SYS_ADMIN and unprivileged BPF is off";
  return undefined;
}

/** Declares a test that talks to the real kernel. */
export function kernelTest(name: string, fn: (t: TestContext) => void | Promise<void>): void {
  const reason = kernelSkipReason();
  if (reason === undefined) {
    test(name, fn);
  } else if (process.env.WAGGLE_REQUIRE_KERNEL === "1") {
    test(name, () => {
      throw new Error(`kernel test cannot run but WAGGLE_REQUIRE_KERNEL=1: ${reason}`);
    });
  } else {
    test(name, { skip: reason }, fn);
  }
}
