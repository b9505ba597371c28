/**
 * Running independent bpf() commands on several CPUs at once, for a caller that stays synchronous.
 *
 * The verifier works on one program at a time and libbpf creates an object's maps and loads its
 * programs one after another, so an object's load time grows with all of the kernel's work added up.
 * The kernel does that work from different threads in parallel (with CAP_BPF there is no verifier
 * lock), so Waggle hands independent commands to a small pool of worker threads and runs them on this
 * thread as well.
 *
 * Mechanism: a `SharedArrayBuffer` holds a job ring and three counters (submitted, taken, completed).
 * Each job is a bpf() command whose attr — and everything it points to — lives in native memory owned
 * by the caller, so the address means the same in every thread. Whoever claims a job (a compare-and-swap
 * on "taken") makes the call and stores its result (fd or minus errno). The submitting thread claims
 * jobs too, so a batch finishes even when no worker runs. Workers start the first time a batch is asked
 * for, and no batch waits for them: one that comes up while a batch runs takes the jobs still waiting.
 * Idle workers sleep on a futex (`Atomics.wait`), but waking one costs 0.1–0.2 ms on a VM — more than
 * most jobs take — so a thread that ran a job, or was woken ahead of a batch (`wake()`), looks for more
 * for SPIN_MS before it sleeps; the submitting thread does the same while it waits for the last jobs.
 * Workers are unref'd once up, so they never keep the process alive.
 *
 * Each thread that loads Waggle has its own pool (module instances are per thread). A machine with one
 * CPU gets no workers.
 */

import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { syscall } from "./libc.js";

/** Most workers a pool starts: verification rarely has more parallel work than this in one object. */
const MAX_WORKERS = 4;

/** How long a thread that ran a job (or was woken) looks for more before it sleeps; see syscall-worker.ts. */
export const SPIN_MS = 1;

/** Jobs one batch can hold (a bigger batch is run in several rounds); a power of two. */
export const RING_SIZE = 256;

/** Int32 words per job: syscall number, a1 (command), a2 low, a2 high, a3 (size), result. */
const JOB_WORDS = 6;

/**
 * Counter words at the start of the shared buffer. The two SLEEPING words count threads asleep on
 * SUBMITTED (workers) and on COMPLETED (the submitter), so that a thread with news makes the futex
 * call only when someone sleeps — the usual case is a spinning thread, and the call is not free.
 */
export const Word = Object.freeze({ SUBMITTED: 0, TAKEN: 1, COMPLETED: 2, READY: 3, SLEEPING_ON_SUBMITTED: 4, SLEEPING_ON_COMPLETED: 5, FIRST_JOB: 6 });

/** 2^32, to split an address into two 32-bit words. */
const TWO_32 = 0x1_0000_0000;

/**
 * Whether counter value `a` comes before `b`. The counters are Int32 words that wrap after 2^31 jobs;
 * comparing their difference keeps the order right across the wrap.
 */
function before(a: number, b: number): boolean {
  return ((b - a) | 0) > 0;
}

/** The first word of the ring slot of job number `n`. */
function slot(n: number): number {
  return Word.FIRST_JOB + (n & (RING_SIZE - 1)) * JOB_WORDS;
}

/** One independent system call: `syscall(nr, a1, a2, a3)`, where `a2` is an address (the attr). */
export interface PoolJob {
  readonly nr: number;
  readonly a1: number;
  readonly a2: number;
  readonly a3: number;
}

/** The words of the shared ring, and claiming and running jobs from it (what both sides do). */
export class JobRing {
  readonly words: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  static allocate(): JobRing {
    return new JobRing(new SharedArrayBuffer((Word.FIRST_JOB + RING_SIZE * JOB_WORDS) * 4));
  }

  /** Claims and runs one job; returns false when none is waiting. */
  runOne(): boolean {
    const w = this.words;
    for (;;) {
      const taken = Atomics.load(w, Word.TAKEN);
      if (!before(taken, Atomics.load(w, Word.SUBMITTED))) return false;
      if (Atomics.compareExchange(w, Word.TAKEN, taken, (taken + 1) | 0) !== taken) continue;
      const at = slot(taken);
      const a2 = (w[at + 2]! >>> 0) + w[at + 3]! * TWO_32;
      w[at + 5] = syscall(w[at]!, w[at + 1]!, a2, w[at + 4]!);
      Atomics.add(w, Word.COMPLETED, 1);
      this.wake(Word.COMPLETED);
      return true;
    }
  }

  /**
   * Sleeps until `word` (SUBMITTED or COMPLETED) no longer holds `expected`, or a wake(). Counting
   * sleepers first is race-free: a waker that reads no sleeper changed `word` before this thread
   * counted itself, and `Atomics.wait` returns at once on a changed value.
   */
  sleep(word: typeof Word.SUBMITTED | typeof Word.COMPLETED, expected: number): void {
    const sleepers = word === Word.SUBMITTED ? Word.SLEEPING_ON_SUBMITTED : Word.SLEEPING_ON_COMPLETED;
    Atomics.add(this.words, sleepers, 1);
    Atomics.wait(this.words, word, expected);
    Atomics.sub(this.words, sleepers, 1);
  }

  /** Wakes the threads asleep on `word`, if there are any. */
  wake(word: typeof Word.SUBMITTED | typeof Word.COMPLETED): void {
    const sleepers = word === Word.SUBMITTED ? Word.SLEEPING_ON_SUBMITTED : Word.SLEEPING_ON_COMPLETED;
    if (Atomics.load(this.words, sleepers) > 0) Atomics.notify(this.words, word);
  }
}

/** The pool of this thread; see the file header. */
class SyscallPool {
  readonly #ring = JobRing.allocate();
  #started = false;
  #open = false;

  /** Workers this machine warrants: one per CPU beyond this thread's, up to MAX_WORKERS. */
  readonly capacity = Math.min(MAX_WORKERS, availableParallelism() - 1);

  /** Workers that are running their loop now. */
  get ready(): number {
    return Atomics.load(this.#ring.words, Word.READY);
  }

  /**
   * Starts the workers (once) without waiting for them to come up: creating one costs this thread a
   * few milliseconds, and it joins in about 0.1 s — within the first batch, when verification is slow.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (let i = 0; i < this.capacity; i++) {
      const worker = new Worker(new URL("./syscall-worker.js", import.meta.url), {
        workerData: { buffer: this.#ring.words.buffer },
      });
      // Held until it is up: terminating a worker inside koffi's initialisation (as a process that
      // exits meanwhile would) aborts the whole process.
      worker.once("message", () => worker.unref());
      // A worker that cannot start only means fewer hands: this thread runs every job it leaves.
      worker.on("error", () => {});
    }
  }

  /**
   * Wakes the workers ahead of a batch that is about to come (they look for jobs for SPIN_MS), so that
   * their wake-up overlaps the caller's work rather than delaying the batch. Does nothing before the
   * workers were started.
   */
  wake(): void {
    if (this.#started) this.#ring.wake(Word.SUBMITTED);
  }

  /**
   * Runs the jobs — on this thread and on whichever workers are up — and returns each result (the
   * syscall's return value, or minus errno) in the jobs' order. Blocks until all have finished.
   */
  run(jobs: readonly PoolJob[]): number[] {
    const batch = this.batch();
    for (const job of jobs) batch.add(job);
    return batch.finish();
  }

  /**
   * Opens a batch: jobs handed to the workers one at a time, as the caller produces them, so the
   * caller's own work on the next job overlaps the kernel's on earlier ones. One batch is open at a
   * time; close it with `finish()`, which must run even when the caller fails (its jobs point into
   * the caller's memory).
   */
  batch(): PoolBatch {
    if (this.#open) throw new Error("a syscall pool batch is already open on this thread");
    this.start();
    this.#open = true;
    return new PoolBatch(this.#ring, () => (this.#open = false));
  }
}

/** Jobs submitted to the pool as they come; see {@link SyscallPool.batch}. */
class PoolBatch {
  readonly #ring: JobRing;
  readonly #close: () => void;
  /** The number of this batch's first job. */
  readonly #base: number;
  #submitted = 0;
  readonly #results: number[] = [];

  constructor(ring: JobRing, close: () => void) {
    this.#ring = ring;
    this.#close = close;
    this.#base = Atomics.load(ring.words, Word.SUBMITTED);
  }

  /** Submits a job; a worker that is idle wakes up and takes it. */
  add(job: PoolJob): void {
    // A full ring: collect what is there before reusing its slots.
    if (this.#submitted - this.#results.length === RING_SIZE) this.#collect();
    const w = this.#ring.words;
    const at = slot(this.#base + this.#submitted);
    w[at] = job.nr;
    w[at + 1] = job.a1;
    w[at + 2] = job.a2 % TWO_32 | 0;
    w[at + 3] = Math.floor(job.a2 / TWO_32);
    w[at + 4] = job.a3;
    this.#submitted++;
    Atomics.store(w, Word.SUBMITTED, (this.#base + this.#submitted) | 0);
    this.#ring.wake(Word.SUBMITTED);
  }

  /** Runs the jobs no worker has taken, waits for the rest, and returns every result in order. */
  finish(): number[] {
    try {
      this.#collect();
      return this.#results;
    } finally {
      this.#close();
    }
  }

  /**
   * Takes part until every submitted job has completed, then copies their results out. While this
   * batch is open its jobs are the only ones, so the completed counter counts them.
   */
  #collect(): void {
    const ring = this.#ring;
    const w = ring.words;
    while (ring.runOne());
    const end = (this.#base + this.#submitted) | 0;
    // The last jobs are short, usually: look for their completion a while before sleeping, since being
    // woken costs more than they take.
    const spinUntil = performance.now() + SPIN_MS;
    for (let completed = Atomics.load(w, Word.COMPLETED); before(completed, end); completed = Atomics.load(w, Word.COMPLETED)) {
      if (performance.now() > spinUntil) ring.sleep(Word.COMPLETED, completed);
    }
    for (let i = this.#results.length; i < this.#submitted; i++) this.#results.push(w[slot(this.#base + i) + 5]!);
  }
}

let pool: SyscallPool | undefined;

/** This thread's pool, created on first use. */
export function syscallPool(): SyscallPool {
  return (pool ??= new SyscallPool());
}
