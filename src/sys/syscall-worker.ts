/**
 * A worker of the syscall pool (syscall-pool.ts): claims jobs from the shared ring and runs them until
 * the process exits, sleeping on the "submitted" counter while there are none.
 */

import { parentPort, workerData } from "node:worker_threads";
import { JobRing, Word } from "./syscall-pool.js";

const ring = new JobRing((workerData as { buffer: SharedArrayBuffer }).buffer);
const words = ring.words;
Atomics.add(words, Word.READY, 1);
parentPort?.postMessage("up");
for (;;) {
  const submitted = Atomics.load(words, Word.SUBMITTED);
  while (ring.runOne());
  Atomics.wait(words, Word.SUBMITTED, submitted);
}
