/**
 * Longest-prefix-match tries through the typed API on the real kernel: `m_lpm_trie` of maps_btf.o
 * (IPv4 keys, a program that looks the source address up) and a standalone IPv6 trie. Keys are
 * `{ prefixLength, data }` with data as bytes or an address string.
 */

import assert from "node:assert/strict";
import { describe } from "node:test";
import { createMap, load, LpmTrieMap, type LpmKey } from "../../src/index.js";
import { fixturePath } from "../helpers/fixtures.js";
import { kernelTest } from "../helpers/kernel.js";
import { ipv4Frame } from "../helpers/packets.js";

const XDP_DROP = 1;
const XDP_PASS = 2;

describe("LpmTrieMap", () => {
  kernelTest("a program matches a source address against a prefix written from JS", () => {
    using coll = load(fixturePath("maps_btf"));
    const trie = coll.map("m_lpm_trie", LpmTrieMap<number>);
    trie.set({ prefixLength: 8, data: "10.0.0.0" }, 1);
    const xdp = coll.program("xdp_lpm");
    assert.equal(xdp.run(ipv4Frame({ srcIp: [10, 0, 0, 1] })).retval, XDP_DROP);
    assert.equal(xdp.run(ipv4Frame({ srcIp: [10, 200, 3, 4] })).retval, XDP_DROP);
    assert.equal(xdp.run(ipv4Frame({ srcIp: [192, 168, 0, 1] })).retval, XDP_PASS);
    // A longer prefix with another value wins for the addresses it covers.
    trie.set({ prefixLength: 16, data: "10.200.0.0" }, 2);
    assert.equal(xdp.run(ipv4Frame({ srcIp: [10, 200, 3, 4] })).retval, XDP_PASS);
    assert.equal(xdp.run(ipv4Frame({ srcIp: [10, 0, 0, 1] })).retval, XDP_DROP);
    assert.equal(trie.delete({ prefixLength: 8, data: "10.0.0.0" }), true);
    assert.equal(xdp.run(ipv4Frame({ srcIp: [10, 0, 0, 1] })).retval, XDP_PASS);
  });

  kernelTest("get() with a full-length prefix finds the longest stored prefix; exact keys come back as bytes", () => {
    using coll = load(fixturePath("maps_btf"));
    const trie = coll.map("m_lpm_trie", LpmTrieMap<number>);
    trie.set({ prefixLength: 8, data: "10.0.0.0" }, 8);
    trie.set({ prefixLength: 24, data: Uint8Array.of(10, 1, 2, 0) }, 24);
    trie.set({ prefixLength: 0, data: "0.0.0.0" }, 0);
    assert.equal(trie.get({ prefixLength: 32, data: "10.1.2.3" }), 24);
    assert.equal(trie.get({ prefixLength: 32, data: "10.1.3.3" }), 8);
    assert.equal(trie.get({ prefixLength: 32, data: "11.0.0.1" }), 0);
    assert.equal(trie.has({ prefixLength: 16, data: "10.1.0.0" }), true, "an 8-bit prefix covers a /16 lookup");
    const keys = [...trie.keys()].sort((a, b) => a.prefixLength - b.prefixLength);
    assert.deepEqual(keys, [
      { prefixLength: 0, data: Uint8Array.of(0, 0, 0, 0) },
      { prefixLength: 8, data: Uint8Array.of(10, 0, 0, 0) },
      { prefixLength: 24, data: Uint8Array.of(10, 1, 2, 0) },
    ]);
    const entries = [...trie.entries()].sort(([a], [b]) => a.prefixLength - b.prefixLength);
    assert.deepEqual(entries.map(([k, v]) => [k.prefixLength, v]), [[0, 0], [8, 8], [24, 24]]);
    assert.equal(trie.size, 3);
    assert.equal(trie.clear(), 3);
    assert.equal(trie.get({ prefixLength: 32, data: "10.1.2.3" }), undefined);
  });

  kernelTest("an IPv6 trie takes address strings with :: and embedded IPv4", () => {
    using trie = createMap(LpmTrieMap<number>, { type: "lpm_trie", keySize: 20, valueSize: 4, maxEntries: 16, flags: 1 /* NO_PREALLOC */ }, { value: "u32" });
    trie.set({ prefixLength: 32, data: "2001:db8::" }, 1);
    trie.set({ prefixLength: 128, data: "::ffff:192.0.2.1" }, 2);
    assert.equal(trie.get({ prefixLength: 128, data: "2001:db8:1:2::3" }), 1);
    assert.equal(trie.get({ prefixLength: 128, data: "2001:db9::" }), undefined);
    assert.equal(trie.get({ prefixLength: 128, data: "::ffff:c000:201" }), 2);
    const [first] = [...trie.keys()].filter((k) => k.prefixLength === 32);
    assert.deepEqual(first!.data, Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array(12).fill(0)));
  });

  kernelTest("keys with a prefix longer than the data, or data that is not an address of the trie's size, are refused before any syscall", () => {
    using coll = load(fixturePath("maps_btf"));
    const trie = coll.map("m_lpm_trie", LpmTrieMap<number>);
    assert.throws(() => trie.set({ prefixLength: 33, data: "10.0.0.0" }, 1), RangeError);
    assert.throws(() => trie.set({ prefixLength: 8, data: "2001:db8::" }, 1), TypeError);
    assert.throws(() => trie.set({ prefixLength: 8, data: Uint8Array.of(1, 2, 3, 4, 5) }, 1), TypeError);
    assert.throws(() => trie.get({ data: "10.0.0.0" } as unknown as LpmKey), TypeError);
    assert.equal(trie.size, 0);
  });
});
