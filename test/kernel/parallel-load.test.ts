/** Programs of one object are verified concurrently: the syscall pool, and load() on top of it. */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { arch } from "node:os";
import { describe } from "node:test";
import { ArrayMap, load, ObjectSpec } from "../../src/index.js";
import { BpfMapType, BpfProgType, CreateBatch, mapCreate, mapInfo, progInfo, progLoad, submitMapCreate, submitProgLoad } from "../../src/sys/index.js";
import { RING_SIZE, syscallPool } from "../../src/sys/syscall-pool.js";
import { errnoName } from "../../src/errno.js";
import { openFdCount } from "../helpers/fds.js";
import { fixtureBytes, fixturePath, repoRoot } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

/**
 * Syscall numbers the pool tests use: gettid reveals the thread that ran it; poll(NULL, 0, ms) keeps a
 * thread busy (arm64 has only ppoll, whose timeout is a pointer, so that test is x64-only).
 */
const SYSCALLS: Record<string, { gettid: number; poll?: number }> = {
  x64: { gettid: 186, poll: 7 },
  arm64: { gettid: 178 },
};

/** Resolves once the pool's workers have started (the first batch starts them). */
async function workersUp(): Promise<void> {
  const pool = syscallPool();
  pool.start();
  const deadline = Date.now() + 30_000;
  while (pool.ready < pool.capacity) {
    assert.ok(Date.now() < deadline, `${pool.ready} of ${pool.capacity} workers up after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * An object's programs and maps as the kernel sees them: each program's tag (a hash of the instructions
 * with map references blanked) and translated size (whose map ids differ from load to load), and each
 * map's definition, BTF key/value types and frozen state.
 */
function fingerprint(path: string, options: { parallel: boolean }): Map<string, string> {
  using coll = load(path, options);
  const programs = [...coll.programs].map(([name, program]): [string, string] => {
    const info = program.info({ xlatedInsns: true });
    return [name, `${info.tag} ${info.xlatedInsns!.length}`];
  });
  const maps = [...coll.maps].map(([name, map]): [string, string] => {
    const { type, keySize, valueSize, maxEntries, mapFlags, name: kernelName, btfId, btfKeyTypeId, btfValueTypeId, mapExtra } = map.info();
    return [`map ${name}`, JSON.stringify([type, keySize, valueSize, maxEntries, mapFlags, kernelName, btfId !== 0, btfKeyTypeId, btfValueTypeId, String(mapExtra)])];
  });
  return new Map([...programs, ...maps]);
}

describe("syscall pool", () => {
  const numbers = SYSCALLS[arch()];

  kernelTest("runs a batch larger than its ring, every result in its job's place", async (t) => {
    if (!numbers) return t.skip(`no syscall numbers for ${arch()}`);
    await workersUp();
    const jobs = Array.from({ length: RING_SIZE * 2 + 7 }, () => ({ nr: numbers.gettid, a1: 0, a2: 0, a3: 0 }));
    const tids = new Set(readdirSync("/proc/self/task").map(Number));
    const results = syscallPool().run(jobs);
    assert.equal(results.length, jobs.length);
    for (const tid of results) assert.ok(tids.has(tid), `result ${tid} is a thread of this process`);
  });

  kernelTest("a worker takes jobs while this thread is busy with one", async (t) => {
    if (numbers?.poll === undefined) return t.skip(`no poll() on ${arch()}`);
    if (syscallPool().capacity < 1) return t.skip("one CPU: no workers");
    await workersUp();
    // Whichever thread claims the 100 ms poll (job 0) is busy until it returns, so when this thread
    // claims it, the gettids can only run early on a worker. A worker may also win the poll, or not be
    // scheduled within 100 ms on a loaded machine; so try up to 30 batches and require one to show it.
    const gettids = Array.from({ length: 8 }, () => ({ nr: numbers.gettid, a1: 0, a2: 0, a3: 0 }));
    const seen: number[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      const results = syscallPool().run([{ nr: numbers.poll, a1: 0, a2: 0, a3: 100 }, ...gettids]);
      assert.equal(results[0], 0, "poll timed out");
      seen.push(...results.slice(1));
      if (results.slice(1).some((tid) => tid !== process.pid)) return;
    }
    assert.fail(`no job ran on a worker thread in 30 batches (tids ${[...new Set(seen)].join(", ")}, main ${process.pid})`);
  });

  kernelTest("workers look for jobs only briefly after a load: an idle process uses no CPU", async () => {
    await workersUp();
    load(fixturePath("bench_multi")).close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { user, system } = process.cpuUsage(start);
    // A worker still spinning would add about 300 ms here.
    assert.ok(user + system < 60_000, `${(user + system) / 1000} ms of CPU in 300 ms of idleness`);
  });

  kernelTest("a process whose workers are running exits on its own", () => {
    const script = `import(${JSON.stringify(`${repoRoot}/dist/src/index.js`)}).then(async ({ load }) => {
      load(${JSON.stringify(fixturePath("bench_multi"))}).close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      load(${JSON.stringify(fixturePath("bench_multi"))}).close();
      console.log("done");
    });`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    assert.equal(child.error, undefined, "exited before the 30 s timeout");
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stdout.trim(), "done");
  });
});

describe("CreateBatch", () => {
  /** `count` instructions of `r0 = 0` and an exit: big attrs parts, trivial to verify. */
  function longProgram(count: number): Uint8Array {
    const insns = new Uint8Array((count + 1) * 8);
    for (let i = 0; i < count; i++) insns[i * 8] = 0xb7; // mov64 r0, 0
    insns[count * 8] = 0x95; // exit
    return insns;
  }

  kernelTest("jobs that outgrow the reused attr memory, and batches after them, create what they were given", async (t) => {
    await workersUp();
    // 3 × 80 KiB of instructions: more than the first 64 KiB arena; and more map jobs than one ring.
    const programs = [10_000, 10_001, 10_002].map((count, i) => ({ progType: BpfProgType.SOCKET_FILTER, insns: longProgram(count), license: "GPL", name: `long${i}` }));
    const maps = Array.from({ length: RING_SIZE + 3 }, (_, i) => ({ mapType: BpfMapType.ARRAY, keySize: 4, valueSize: 8 + i, maxEntries: 1, name: `m${i}` }));
    for (let round = 0; round < 3; round++) {
      const batch = new CreateBatch();
      for (const p of programs) submitProgLoad(batch, p);
      for (const m of maps) submitMapCreate(batch, m);
      const fds = batch.finish();
      try {
        assert.equal(fds.length, programs.length + maps.length);
        // A batch only attempts: the kernel may refuse a command for a passing reason (memory, a
        // signal), and its caller then runs it the ordinary way. A wrong attr would fail every time.
        for (const [i, errno] of batch.errnos.entries()) {
          if (errno === 0) continue;
          t.diagnostic(`round ${round}: job ${i} failed in the batch with ${errnoName(errno)}`);
          fds[i] = i < programs.length ? progLoad(programs[i]!).fd : mapCreate(maps[i - programs.length]!);
        }
        assert.ok(batch.errnos.filter((errno) => errno !== 0).length <= 2, `round ${round}: ${batch.errnos.filter(Boolean).map(errnoName).join(", ")}`);
        for (const [i, p] of programs.entries()) {
          const info = progInfo(fds[i]!.value);
          assert.equal(info.name, p.name);
          assert.equal(info.xlatedProgLen, p.insns.length, `round ${round}: program ${i} got its own instructions`);
        }
        for (const [i, m] of maps.entries()) {
          const info = mapInfo(fds[programs.length + i]!.value);
          assert.deepEqual([info.name, info.valueSize], [m.name, m.valueSize]);
        }
      } finally {
        for (const fd of fds) fd?.close();
      }
    }
  });
});

describe("load() verifies programs in parallel", () => {
  kernelTest("parallel and one-by-one loads give the kernel the same programs and maps", async () => {
    await workersUp();
    for (const name of ["bench_multi", "bench_heavy", "bpf2bpf", "globals", "map_in_map", "maps_btf", "legacy_maps", "map_flags", "arena"]) {
      assert.deepEqual(fingerprint(fixturePath(name), { parallel: true }), fingerprint(fixturePath(name), { parallel: false }), name);
    }
  });

  kernelTest("the verification-bound benchmark object's programs compute what its header says", async () => {
    await workersUp();
    using coll = load(fixturePath("bench_heavy"));
    assert.deepEqual([...coll.programs.keys()].sort(), ["heavy_a", "heavy_b", "heavy_c", "heavy_d"]);
    const packet = new Uint8Array(64);
    assert.equal(coll.program("heavy_a").run(packet).retval, 2, "salt 1: XDP_PASS");
    assert.equal(coll.program("heavy_b").run(packet).retval, 1, "salt 2: XDP_DROP");
    // Key 1 is read when i = 3, 19, … 291: 19 additions of 0xff * i, each odd, turn the even start odd.
    coll.map("weights", ArrayMap<bigint>).set(1, 0xffn);
    assert.equal(coll.program("heavy_b").run(packet).retval, 2);
  });

  kernelTest("a rejected program still names its C source line, and nothing leaks", async () => {
    await workersUp();
    const before = openFdCount();
    for (let i = 0; i < 20; i++) {
      assert.throws(() => load(fixturePath("verifier_fail")), (e: any) => e.name === "VerifierError" && e.program === "bad_deref" && e.source?.line === 27);
    }
    assert.equal(openFdCount(), before);
  });

  kernelTest("a program that cannot be prepared, after others went to the kernel, leaks none of theirs", async () => {
    await workersUp();
    const spec = ObjectSpec.parse(fixtureBytes("bench_multi"));
    const names = [...spec.programs.keys()];
    spec.programs.get(names[names.length - 1]!)!.type = "unspec"; // refused while it is linked, after the others were submitted
    const before = openFdCount();
    for (let i = 0; i < 20; i++) {
      assert.throws(() => load(spec), (e: any) => e.name === "WaggleError" && /names no program type/.test(e.message));
    }
    assert.equal(openFdCount(), before);
  });

  kernelTest("a map the kernel refuses in parallel is created again for its typed error, and nothing leaks", async () => {
    await workersUp();
    const spec = ObjectSpec.parse(fixtureBytes("bench_multi"));
    spec.maps.get("counts")!.maxEntries = 0; // a hash of no entries: EINVAL
    const before = openFdCount();
    for (let i = 0; i < 20; i++) {
      assert.throws(() => load(spec), (e: any) => e.name === "SyscallError" && e.code === "EINVAL" && /MAP_CREATE/.test(e.message) && /counts/.test(e.message));
    }
    assert.equal(openFdCount(), before);
  });

  kernelTest("200 parallel loads and closes leave /proc/self/fd where it started", async () => {
    await workersUp();
    load(fixturePath("bench_multi")).close();
    const before = openFdCount();
    for (let i = 0; i < 200; i++) {
      using coll = load(fixturePath("bench_multi"));
      assert.equal(coll.programs.size, 5);
    }
    assert.equal(openFdCount(), before);
  });
});
