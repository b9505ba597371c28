#!/usr/bin/env node
// Cost per map operation through Waggle's kernel boundary (src/sys), in ns/op, to compare with the
// C baseline (libbpf's bpf_map_*_elem; anchors/kernel-capabilities.md §4a on the project VM).
// Same workload as that baseline: HASH u32 -> u64, 2^20 entries preallocated, N operations per
// measurement, several repetitions, best / median printed.
// Usage: node bench/sys-map-ops.mjs [N=1000000] [reps=3]
//        (WAGGLE_SYS=/path/to/dist/src/sys/index.js to use another build)
import { pathToFileURL } from "node:url";

const entry = process.env.WAGGLE_SYS ?? new URL("../dist/src/sys/index.js", import.meta.url).pathname;
const sys = await import(pathToFileURL(entry).href);

const N = Number(process.argv[2] ?? 1_000_000);
const REPS = Number(process.argv[3] ?? 3);
const BATCH = 4096;
const MISS_OFFSET = 1 << 30;

function time(fn) {
  const start = process.hrtime.bigint();
  const ops = fn();
  return Number(process.hrtime.bigint() - start) / ops;
}

const results = new Map();
function record(name, ns) {
  if (!results.has(name)) results.set(name, []);
  results.get(name).push(ns);
}

const key = new Uint8Array(4);
const keyView = new DataView(key.buffer);
const value = new Uint8Array(8);
const valueView = new DataView(value.buffer);

for (let rep = 0; rep < REPS; rep++) {
  const hash = sys.mapCreate({ mapType: sys.BpfMapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1 << 20, name: "bench_hash" });
  const array = sys.mapCreate({ mapType: sys.BpfMapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 << 20, name: "bench_arr" });
  const h = hash.value;
  const a = array.value;
  let sum = 0;
  record("hash update (insert new key, BPF_ANY)", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k, true);
      valueView.setUint32(0, k, true);
      sys.mapUpdateElem(h, key, value, sys.BpfUpdateFlags.ANY);
    }
    return N;
  }));
  record("hash update (existing key)", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k, true);
      valueView.setUint32(0, k + 1, true);
      sys.mapUpdateElem(h, key, value, sys.BpfUpdateFlags.ANY);
    }
    return N;
  }));
  record("hash lookup (hit)", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k, true);
      sys.mapLookupElem(h, key, value);
      sum += valueView.getUint32(0, true);
    }
    return N;
  }));
  record("hash lookup (miss)", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k + MISS_OFFSET, true);
      sys.mapLookupElem(h, key, value);
    }
    return N;
  }));
  record(`hash lookup_batch (per elem, batch=${BATCH})`, time(() => {
    const keys = new Uint8Array(BATCH * 4);
    const values = new Uint8Array(BATCH * 8);
    const outBatch = new Uint8Array(4);
    const inBatch = new Uint8Array(4);
    let total = 0;
    for (let first = true; ; first = false) {
      const r = sys.mapLookupBatch(h, { inBatch: first ? null : inBatch, outBatch, keys, values, count: BATCH });
      total += r.count;
      if (r.done) break;
      inBatch.set(outBatch);
    }
    if (total !== N) throw new Error(`batch returned ${total} elements, expected ${N}`);
    return total;
  }));
  record("hash delete", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k, true);
      sys.mapDeleteElem(h, key);
    }
    return N;
  }));
  record("array update", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k, true);
      valueView.setUint32(0, k, true);
      sys.mapUpdateElem(a, key, value, sys.BpfUpdateFlags.ANY);
    }
    return N;
  }));
  record("array lookup", time(() => {
    for (let k = 0; k < N; k++) {
      keyView.setUint32(0, k, true);
      sys.mapLookupElem(a, key, value);
      sum += valueView.getUint32(0, true);
    }
    return N;
  }));
  record("getpid() through koffi (FFI + syscall baseline)", time(() => {
    for (let k = 0; k < N; k++) sys.libc.getpid();
    return N;
  }));
  hash.close();
  array.close();
  if (sum === 42) console.log(" ");
}

const best = (v) => Math.min(...v);
const median = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
console.log(`N=${N} ops per measurement, ${REPS} reps (ns/op: best / median)`);
for (const [name, v] of results) {
  console.log(`  ${name.padEnd(50)} ${best(v).toFixed(1).padStart(8)} / ${median(v).toFixed(1).padStart(8)}`);
}
