/**
 * `BpfProgram`: a program loaded into the kernel. It can be test-run (BPF_PROG_TEST_RUN) on packets or
 * contexts, inspected, attached, and closed.
 *
 * A program owns the links its `attach…()` methods make (Aya's rule): `links` lists the open ones,
 * `link.close()` detaches one early, and `close()` detaches them all before releasing the program.
 */

import { ClosedError } from "../errors.js";
import {
  attachRawTracepoint,
  attachTracepoint,
  autoAttach,
  type AttachOptions,
  type AutoAttachOptions,
  type BaseLink,
  type Link,
  type TracepointOptions,
} from "../links/index.js";
import type { ProgramSpec } from "../object/index.js";
import { progInfo, progTestRun, type FD, type ProgInfo, type ProgInfoOptions } from "../sys/index.js";
import type { AttachTypeName, ProgramTypeName } from "../uapi.js";

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

/**
 * How a program built without an `ObjectSpec` (with the asm builder and `progLoad`) was loaded, so
 * that `attach()` knows its hook; programs from `load()` take this from their spec.
 */
export interface ProgramAttachInfo {
  /** The attach type given at load (`trace_raw_tp` for a tp_btf program). */
  expectedAttachType?: AttachTypeName;
  /** The target a section would name: `syscalls/sys_enter_getpid`, `sys_enter`. */
  attachTo?: string;
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
  readonly #attachInfo: ProgramAttachInfo;
  /** Open links, in attach order. */
  readonly #links = new Set<BaseLink>();

  constructor(fd: FD, name: string, type: ProgramTypeName, spec?: ProgramSpec, verifierLog = "", attachInfo: ProgramAttachInfo = {}) {
    this.#fd = fd;
    this.name = name;
    this.type = type;
    this.spec = spec;
    this.verifierLog = verifierLog;
    this.#attachInfo = attachInfo;
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

  /** The attach type the program was loaded with, when known (from its spec, or given to the constructor). */
  get expectedAttachType(): AttachTypeName | undefined {
    return this.#attachInfo.expectedAttachType ?? this.spec?.expectedAttachType;
  }

  /** Where its section says it attaches (`syscalls/sys_enter_getpid`), or "" when it names nothing. */
  get attachTo(): string {
    return this.#attachInfo.attachTo ?? this.spec?.attachTo ?? "";
  }

  /** The program's open links, in attach order. */
  get links(): readonly Link[] {
    return [...this.#links];
  }

  /**
   * Attaches the program where its section name says: `tp/syscalls/sys_enter_getpid` to that
   * tracepoint, `raw_tp/sys_enter` to that raw tracepoint, `tp_btf/sched_switch` to the tracepoint it
   * was loaded for. The program owns the link: closing the program detaches it.
   *
   * @throws NotSupportedError for program kinds Waggle cannot attach yet (kprobe, uprobe, xdp, tc,
   *   cgroup…: use their own attach methods as they arrive), naming the kind.
   * @throws TypeError when the section names no target.
   * @example
   * using coll = load(spec);
   * const link = coll.program("getpid_enter").attach();   // tp/syscalls/sys_enter_getpid
   * // … later: link.close() detaches early; coll.close() detaches whatever is left.
   */
  attach(options: AutoAttachOptions = {}): Link {
    return this.#own(autoAttach(this, options));
  }

  /**
   * Attaches a tracepoint program (`tp/…`, `tracepoint/…`) to the tracefs event `category/name`,
   * through a bpf_link on a perf event where the kernel has them, else PERF_EVENT_IOC_SET_BPF.
   *
   * @throws TypeError when this is not a tracepoint program.
   * @throws NotSupportedError naming the tracefs paths tried, when the kernel has no such tracepoint.
   * @example
   * prog.attachTracepoint("syscalls", "sys_enter_openat", { cookie: 7n });
   */
  attachTracepoint(category: string, name: string, options: TracepointOptions = {}): Link {
    return this.#own(attachTracepoint(this, category, name, options));
  }

  /**
   * Attaches a raw tracepoint program (`raw_tp/…`, `raw_tp.w/…`) to the kernel tracepoint `name`, or a
   * tp_btf program to the tracepoint it was loaded for (`name` may then be left out).
   *
   * @throws TypeError when this is neither kind of program, or `name` is missing.
   * @throws NotSupportedError when the kernel has no tracepoint `name`.
   * @example
   * prog.attachRawTracepoint("sched_switch");
   */
  attachRawTracepoint(name?: string, options: AttachOptions = {}): Link {
    return this.#own(attachRawTracepoint(this, name, options));
  }

  /** Closes the program's links (detaching it), then its fd; the kernel unloads it once nothing else holds it. Idempotent. */
  close(): void {
    for (const link of [...this.#links].reverse()) link.close();
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Makes the program the owner of `link`: it is listed in `links` until closed, and closed with the program. */
  #own<L extends BaseLink>(link: L): L {
    this.#links.add(link);
    link.onClose(() => this.#links.delete(link));
    return link;
  }
}
