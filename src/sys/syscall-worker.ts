/**
 * A worker of the syscall pool (syscall-pool.ts): claims jobs from the shared ring and runs them until
 * the process exits, sleeping on the "submitted" counter while there are none.
 */

import { parentPort, workerData } from "node:worker_threads";
import { JobRing, SPIN_MS, Word } from "./syscall-pool.js";

const ring = new JobRing((workerData as { buffer: SharedArrayBuffer }).buffer);
const words = ring.words;
Atomics.add(words, Word.READY, 1);
parentPort?.postMessage("up");
// Waking a sleeping thread takes 0.1–0.2 ms on a VM (far longer than a map's creation), and jobs come
// in bursts — an object's maps, then its programs — so a worker that ran a job, or was woken, keeps
// looking for more for SPIN_MS before it sleeps.
let active = performance.now();
for (;;) {
  const submitted = Atomics.load(words, Word.SUBMITTED);
  if (ring.runOne()) {
    active = performance.now();
  } else if (performance.now() - active > SPIN_MS) {
    ring.sleep(Word.SUBMITTED, submitted);
    active = performance.now();
  }
}
