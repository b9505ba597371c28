/**
 * Commands that create kernel objects (maps, programs), handed to the syscall pool (syscall-pool.ts)
 * as the caller produces them, so the kernel works on earlier ones — on worker threads — while the
 * caller prepares the next. Each command's attr, and everything it points to, is copied to native
 * memory of its own, which every thread can read; `finish()` frees it.
 *
 * A batch only attempts: a command that fails leaves `undefined` in its place, and the caller runs it
 * again the ordinary way, which retries, captures logs and throws the typed error.
 */

import { BPF_SYSCALL } from "./bpf-call.js";
import { FD } from "./fd.js";
import { NativeBuffer } from "./native-memory.js";
import { syscallPool } from "./syscall-pool.js";

export class CreateBatch {
  readonly #batch = syscallPool().batch();
  readonly #buffers: NativeBuffer[] = [];
  readonly #names: string[] = [];

  /**
   * Submits bpf(`cmd`) with a zeroed attr of `attrSize` bytes that `write` fills in, given where each
   * of `parts` was copied (0 for an absent or empty part). `what` names the object the fd will hold.
   */
  add(cmd: number, attrSize: number, parts: readonly (Uint8Array | undefined)[], what: string, write: (attr: DataView, addresses: readonly number[]) => void): void {
    const { buffer, addresses } = NativeBuffer.pack([new Uint8Array(attrSize), ...parts]);
    this.#buffers.push(buffer);
    const attr = buffer.bytes;
    write(new DataView(attr.buffer, attr.byteOffset, attrSize), addresses.slice(1));
    this.#names.push(what);
    this.#batch.add({ nr: BPF_SYSCALL, a1: cmd, a2: addresses[0]!, a3: attrSize });
  }

  /**
   * Runs the commands no worker has taken, waits for the rest and frees their memory. Must be called,
   * also when the caller fails in between. Returns each command's fd (the caller owns them all), or
   * `undefined` where it failed.
   */
  finish(): (FD | undefined)[] {
    try {
      return this.#batch.finish().map((result, i) => (result >= 0 ? new FD(result, this.#names[i]!) : undefined));
    } finally {
      for (const buffer of this.#buffers) buffer.close();
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
