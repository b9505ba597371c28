/**
 * Commands that create kernel objects (maps, programs), handed to the syscall pool (syscall-pool.ts)
 * as the caller produces them, so the kernel works on earlier ones — on worker threads — while the
 * caller prepares the next. Each command's attr, and everything it points to, is copied to native
 * memory of its own, which every thread can read; `finish()` frees it.
 *
 * A batch only attempts: a command that fails leaves `undefined` in its place, and the caller runs it
 * again the ordinary way, which captures logs and throws the typed error. The one retry a batch makes
 * itself is libbpf's: a command the kernel broke off for a pending signal (EAGAIN, as the verifier
 * does) runs again, a few times.
 */

import { BPF_SYSCALL, Errno } from "./bpf-call.js";
import { FD } from "./fd.js";
import { align8, NativeBuffer, packedSize, packInto } from "./native-memory.js";
import { syscall } from "./libc.js";
import { syscallPool, type PoolJob } from "./syscall-pool.js";
import { EAGAIN_RETRIES } from "./verifier-log.js";

/** Bytes of native memory kept from batch to batch at first; it grows to what batches needed. */
const FIRST_ARENA_SIZE = 64 * 1024;

/**
 * This thread's attr memory, reused by every batch so that a batch usually allocates nothing (one
 * batch is open at a time per thread, see syscall-pool.ts). What does not fit goes to buffers of its
 * own, and the arena grows for the next batch.
 */
let arena: NativeBuffer | undefined;

export class CreateBatch {
  readonly #arena = (arena ??= NativeBuffer.allocate(FIRST_ARENA_SIZE));
  readonly #batch = syscallPool().batch();
  #used = 0;
  readonly #overflow: NativeBuffer[] = [];
  readonly #names: string[] = [];
  readonly #jobs: PoolJob[] = [];
  /** After `finish()`: each command's errno, 0 where it succeeded (why an attempt failed, for diagnostics). */
  readonly errnos: number[] = [];

  /**
   * Submits bpf(`cmd`) with a zeroed attr of `attrSize` bytes that `write` fills in, given where each
   * of `parts` was copied (0 for an absent or empty part). `what` names the object the fd will hold.
   */
  add(cmd: number, attrSize: number, parts: readonly (Uint8Array | undefined)[], what: string, write: (attr: DataView, addresses: readonly number[]) => void): void {
    const all = [new Uint8Array(attrSize), ...parts];
    const size = packedSize(all);
    let bytes: Uint8Array;
    let addresses: number[];
    if (this.#used + size <= this.#arena.size) {
      bytes = this.#arena.bytes.subarray(this.#used, this.#used + size);
      addresses = packInto(bytes, this.#arena.address + this.#used, all);
    } else {
      const packed = NativeBuffer.pack(all);
      this.#overflow.push(packed.buffer);
      bytes = packed.buffer.bytes;
      addresses = packed.addresses;
    }
    this.#used += size;
    write(new DataView(bytes.buffer, bytes.byteOffset, attrSize), addresses.slice(1));
    this.#names.push(what);
    const job = { nr: BPF_SYSCALL, a1: cmd, a2: addresses[0]!, a3: attrSize };
    this.#jobs.push(job);
    this.#batch.add(job);
  }

  /**
   * Runs the commands no worker has taken, waits for the rest and frees their memory. Must be called,
   * also when the caller fails in between. Returns each command's fd (the caller owns them all), or
   * `undefined` where it failed.
   */
  finish(): (FD | undefined)[] {
    try {
      return this.#batch.finish().map((result, i) => {
        const job = this.#jobs[i]!;
        for (let attempt = 1; attempt < EAGAIN_RETRIES && result === -Errno.EAGAIN; attempt++) result = syscall(job.nr, job.a1, job.a2, job.a3);
        this.errnos.push(result >= 0 ? 0 : -result);
        return result >= 0 ? new FD(result, this.#names[i]!) : undefined;
      });
    } finally {
      for (const buffer of this.#overflow) buffer.close();
      if (this.#overflow.length > 0) {
        this.#arena.close();
        arena = NativeBuffer.allocate(align8(this.#used));
      }
    }
  }
}

/** Whether a {@link CreateBatch} can run anything in parallel here (a CPU beyond this thread's). */
export function parallelCreateAvailable(): boolean {
  return syscallPool().capacity > 0;
}

/**
 * Tells the pool's workers that a batch is coming (see `SyscallPool.wake`), so their wake-up overlaps
 * what the caller does before it.
 */
export function expectCreateBatch(): void {
  syscallPool().wake();
}
