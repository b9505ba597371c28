/**
 * Maps outside one collection, on the real kernel: pinning in a private bpffs and opening from the
 * pin, by id and from an fd (typed through the BTF the kernel keeps); `listMaps()`; and libbpf's
 * `LIBBPF_PIN_BY_NAME` with `pinRoot`: a second load of pinned_map.o reuses the pinned counter, and
 * an incompatible map pinned at that path is refused, naming the field that differs.
 */

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmdirSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe } from "node:test";
import {
  ArrayMap,
  createMap,
  HashMap,
  isWaggleError,
  listMaps,
  load,
  openMapById,
  openMapFromFd,
  openPinnedMap,
  PerCpuArrayMap,
  type BpfMap,
} from "../../src/index.js";
import { ensureBpffs, unmount } from "../../src/sys/index.js";
import { openFdCount } from "../helpers/fds.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";

/** Runs `body` with a freshly mounted, private bpffs, unmounted and removed afterwards (pins vanish with it). */
function withBpffs(body: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), "waggle-bpffs-"));
  try {
    assert.equal(ensureBpffs(root), true, "mounted a bpffs");
    try {
      body(root);
    } finally {
      unmount(root);
    }
  } finally {
    rmdirSync(root);
  }
}

const PINNED = "waggle_pinned_counter";

describe("pinning and opening maps", () => {
  kernelTest("a pinned map outlives its collection and opens typed from the pin", () => {
    withBpffs((root) => {
      const path = join(root, "counts");
      let id: number;
      {
        using coll = load(fixturePath("maps_btf"));
        const counts = coll.map("m_hash", HashMap<number, bigint>);
        counts.set(1, 100n).set(2, 200n);
        counts.pin(path);
        id = counts.id;
      }
      assert.ok(existsSync(path));
      using reopened = openPinnedMap(path) as HashMap<number, bigint>;
      assert.ok(reopened instanceof HashMap);
      assert.equal(reopened.id, id);
      assert.equal(reopened.name, "m_hash");
      assert.equal(reopened.keyCodec.description, "__u32", "the key type comes from the kernel's BTF");
      assert.equal(reopened.get(1), 100n);
      assert.deepEqual([...reopened.entries()].sort(([a], [b]) => a - b), [
        [1, 100n],
        [2, 200n],
      ]);
      unlinkSync(path);
      reopened.set(3, 300n);
      assert.equal(reopened.get(3), 300n, "unpinning does not free a map that is still open");
    });
  });

  kernelTest("openPinnedMap() takes codec choices, and refuses a missing pin with ENOENT", () => {
    withBpffs((root) => {
      using array = createMap(ArrayMap<Uint8Array>, { type: "array", keySize: 4, valueSize: 8, maxEntries: 2, name: "untyped" });
      array.pin(join(root, "untyped"));
      using raw = openPinnedMap(join(root, "untyped")) as ArrayMap<Uint8Array>;
      assert.equal(raw.valueCodec.description, "u8[8]", "no BTF: raw bytes");
      using typed = openPinnedMap(join(root, "untyped"), { value: "f64" }) as ArrayMap<number>;
      typed.set(1, 2.5);
      assert.equal(typed.get(1), 2.5);
      assert.deepEqual(raw.get(1), new Uint8Array(new Float64Array([2.5]).buffer));
      assert.throws(() => openPinnedMap(join(root, "untyped"), { value: "u32" }), TypeError, "a codec of the wrong size");
      assert.throws(() => openPinnedMap(join(root, "missing")), (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "ENOENT");
    });
  });

  kernelTest("openMapById() and openMapFromFd() give the same typed map; openMapFromFd() owns the fd", () => {
    using coll = load(fixturePath("maps_btf"));
    const original = coll.map("m_percpu_array", PerCpuArrayMap<bigint>);
    original.set(2, 42n);
    using byId = openMapById(original.id) as PerCpuArrayMap<bigint>;
    assert.ok(byId instanceof PerCpuArrayMap);
    assert.deepEqual(byId.get(2), original.get(2));
    const before = openFdCount();
    const dup = original.fd.dup();
    const fromFd = openMapFromFd(dup);
    assert.equal(fromFd.id, original.id);
    assert.equal(fromFd.type, "percpu_array");
    fromFd.close();
    assert.equal(dup.closed, true);
    assert.equal(openFdCount(), before);
    assert.throws(() => openMapById(0x7fff_fff0), (e: unknown) => isWaggleError(e, "SyscallError") && e.code === "ENOENT");
  });

  kernelTest("pinning outside a bpffs fails with a SyscallError", () => {
    using coll = load(fixturePath("maps_btf"));
    const dir = mkdtempSync(join(tmpdir(), "waggle-not-bpffs-"));
    try {
      assert.throws(() => coll.map("m_hash").pin(join(dir, "x")), (e: unknown) => isWaggleError(e, "SyscallError") && e.op === "OBJ_PIN");
    } finally {
      rmdirSync(dir);
    }
  });

  kernelTest("listMaps() lists every map of a collection with the kernel's type, sizes and flags", () => {
    using coll = load(fixturePath("maps_btf"));
    const byId = new Map(listMaps().map((summary) => [summary.id, summary]));
    assert.equal(coll.maps.size, 29);
    for (const [name, map] of coll.maps as Map<string, BpfMap<unknown, unknown>>) {
      const info = map.info();
      const summary = byId.get(info.id);
      assert.ok(summary, `${name} is listed`);
      assert.equal(summary.name, name.slice(0, 15));
      assert.equal(summary.type, map.type, name);
      assert.equal(summary.keySize, map.keySize, name);
      assert.equal(summary.valueSize, map.valueSize, name);
      assert.equal(summary.maxEntries, map.maxEntries, name);
      assert.equal(summary.flags, info.mapFlags, name);
      assert.equal(summary.btfId, info.btfId, name);
    }
  });
});

describe("LIBBPF_PIN_BY_NAME", () => {
  kernelTest("a second load reuses the map pinned under pinRoot: the counter goes on, the unpinned map restarts", () => {
    withBpffs((root) => {
      {
        using first = load(fixturePath("pinned_map"), { pinRoot: root });
        assert.equal(first.program("bump").run().retval, 1);
        assert.ok(existsSync(join(root, PINNED)));
      }
      using second = load(fixturePath("pinned_map"), { pinRoot: root });
      assert.equal(second.program("bump").run().retval, 2);
      assert.equal(second.map("scratch", ArrayMap<bigint>).get(0), 1n);
      // Both loads share one map while both are open.
      using third = load(fixturePath("pinned_map"), { pinRoot: root });
      assert.equal(third.map(PINNED).id, second.map(PINNED).id);
      assert.equal(third.program("bump").run().retval, 3);
      assert.equal(second.map(PINNED, ArrayMap<bigint>).get(0), 3n);
      // And the pin opens typed from the kernel's BTF.
      using pinned = openPinnedMap(join(root, PINNED)) as ArrayMap<bigint>;
      assert.equal(pinned.get(0), 3n);
    });
  });

  kernelTest("an incompatible map pinned at the path is refused with a WaggleError naming the field, and nothing leaks", () => {
    withBpffs((root) => {
      const path = join(root, PINNED);
      const attempt = (definition: Parameters<typeof createMap>[1], field: RegExp) => {
        using impostor = createMap(ArrayMap, definition);
        impostor.pin(path);
        try {
          const before = openFdCount();
          assert.throws(
            () => load(fixturePath("pinned_map"), { pinRoot: root }),
            (e: unknown) => isWaggleError(e, "WaggleError") && e.message.startsWith(`Cannot reuse the map pinned at ${path} for map "${PINNED}": `) && field.test(e.message),
          );
          assert.equal(openFdCount(), before);
        } finally {
          unlinkSync(path);
        }
      };
      attempt({ type: "array", keySize: 4, valueSize: 8, maxEntries: 2 }, /its maxEntries is 2, the object wants 1$/);
      attempt({ type: "array", keySize: 4, valueSize: 4, maxEntries: 1 }, /its valueSize is 4, the object wants 8$/);
      attempt({ type: "percpu_array", keySize: 4, valueSize: 8, maxEntries: 1 }, /its type is percpu_array, the object wants array$/);
    });
  });
});
