/**
 * `BpfProgram`: a program loaded into the kernel. It can be test-run (BPF_PROG_TEST_RUN) on packets or
 * contexts, inspected, and closed; attaching grows from here in later work.
 */

import { ClosedError } from "../errors.js";
import type { ProgramSpec } from "../object/index.js";
import { progInfo, progTestRun, type FD, type ProgInfo, type ProgInfoOptions } from "../sys/index.js";
import type { ProgramTypeName } from "../uapi.js";

/** Input for {@link BpfProgram.run}. */
export interface RunInput {
  /** The packet (XDP, TC, socket filter…) or other data the program sees. */
  data?: Uint8Array;
  /** The context: `struct __sk_buff`, `struct xdp_md`, a syscall program's argument struct… */
  ctx?: Uint8Array;
  /** Room for the output data; by default the input size plus a page. */
  dataSizeOut?: number;
  /** Room for the output context; by default the input context's size. */
  ctxSizeOut?: number;
}

/** Options for {@link BpfProgram.run}. */
export interface RunOptions {
  /** Run this many times; `duration` is then the mean (default 1). */
  repeat?: number;
  /** Pin the run to this CPU (programs that support it, such as raw tracepoints). */
  cpu?: number;
}

/** The outcome of a test run. */
export interface RunResult {
  /** The program's return value. */
  readonly retval: number;
  /** Mean duration of one run, in nanoseconds, as the kernel measured it. */
  readonly duration: number;
  /** The data as the program left it (when data was given). */
  readonly data?: Uint8Array;
  /** The context as the program left it (when a context was given). */
  readonly ctx?: Uint8Array;
}

/** `BPF_F_TEST_RUN_ON_CPU`. */
const TEST_RUN_ON_CPU = 1 << 0;

/** A loaded eBPF program. */
export class BpfProgram implements Disposable {
  readonly name: string;
  readonly type: ProgramTypeName;
  /** The blueprint it was loaded from. */
  readonly spec: ProgramSpec | undefined;
  /** The verifier log, when the load asked for one (`logLevel` > 0). */
  readonly verifierLog: string;
  readonly #fd: FD;

  constructor(fd: FD, name: string, type: ProgramTypeName, spec?: ProgramSpec, verifierLog = "") {
    this.#fd = fd;
    this.name = name;
    this.type = type;
    this.spec = spec;
    this.verifierLog = verifierLog;
  }

  /** The owned fd (throws ClosedError after close()). */
  get fd(): FD {
    if (this.#fd.closed) throw new ClosedError(`program "${this.name}"`);
    return this.#fd;
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#fd.closed;
  }

  /**
   * Runs the program in the kernel on a packet or context (BPF_PROG_TEST_RUN), without attaching it.
   *
   * @param input A packet (`Uint8Array`), or `{ data, ctx }`.
   * @example
   * const { retval, data } = xdp.run(packet);            // XDP_DROP is 1
   * const { retval } = sys.run({ ctx: args }, { repeat: 1000 });
   */
  run(input: Uint8Array | RunInput = {}, options: RunOptions = {}): RunResult {
    const { data, ctx, dataSizeOut, ctxSizeOut = this.type === "syscall" ? 0 : undefined } =
      input instanceof Uint8Array ? ({ data: input } as RunInput) : input;
    const result = progTestRun(this.fd.value, {
      ...(data !== undefined && { dataIn: data }),
      ...(ctx !== undefined && { ctxIn: ctx }),
      ...(dataSizeOut !== undefined && { dataSizeOut }),
      ...(ctxSizeOut !== undefined && { ctxSizeOut }),
      ...(options.repeat !== undefined && { repeat: options.repeat }),
      ...(options.cpu !== undefined && { cpu: options.cpu, flags: TEST_RUN_ON_CPU }),
    });
    return {
      retval: result.retval,
      duration: result.duration,
      ...(result.dataOut !== undefined && { data: result.dataOut }),
      ...(result.ctxOut !== undefined && { ctx: result.ctxOut }),
    };
  }

  /** What the kernel reports about the program (id, tag, run statistics, translated instructions…). */
  info(options?: ProgInfoOptions): ProgInfo {
    return progInfo(this.fd.value, options);
  }

  /** Closes the fd; the kernel unloads the program once nothing else holds it. Idempotent. */
  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
