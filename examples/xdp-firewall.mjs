#!/usr/bin/env node
// Waggle example: load an XDP firewall, configure it before load, and push packets through it in the
// kernel with BPF_PROG_TEST_RUN — no network interface needed. Run as root: `npm run example`.
//
// What it shows: ObjectSpec (parse, set a `const volatile` global), load(), program.run(), reading a
// typed hash map and a live (mmapped) global variable, and the verifier error for a broken program.
import { readFileSync } from "node:fs";
import { HashMap, isWaggleError, load, ObjectSpec } from "waggle";

if (process.getuid?.() !== 0) {
  console.error("This example loads eBPF into the kernel: run it as root (sudo npm run example).");
  process.exit(1);
}

const object = new URL("./bpf/firewall.o", import.meta.url).pathname;
const spec = ObjectSpec.parse(readFileSync(object), { file: object });
spec.variables.get("blocked_port").set(7777); // becomes a constant the verifier can see

const firewall = load(spec); // in TypeScript: `using firewall = load(spec);`
try {
  report(firewall);
} finally {
  firewall.close();
}

/** Runs packets through the firewall and prints what it did. */
function report(firewall) {
  const xdp = firewall.program("firewall");

  const VERDICTS = ["ABORTED", "DROP", "PASS", "TX", "REDIRECT"];
  const packets = [
    ["UDP → :53", frame({ protocol: 17, port: 53 })],
    ["UDP → :7777", frame({ protocol: 17, port: 7777 })],
    ["TCP → :443", frame({ protocol: 6, port: 443 })],
    ["TCP → :7777", frame({ protocol: 6, port: 7777 })],
    ["ICMP", frame({ protocol: 1 })],
  ];
  console.log(`Loaded "${xdp.name}" (id ${xdp.info().id}); blocking port 7777\n`);
  for (const [label, packet] of packets) {
    const { retval, duration } = xdp.run(packet, { repeat: 1000 });
    console.log(`  ${label.padEnd(14)} → XDP_${VERDICTS[retval]}   (${duration} ns per run)`);
  }

  const names = { 1: "ICMP", 6: "TCP", 17: "UDP" };
  console.log("\nPackets per protocol (hash map \"packets\"):");
  for (const [protocol, count] of firewall.map("packets", HashMap)) {
    console.log(`  ${(names[protocol] ?? protocol).toString().padEnd(5)} ${count}`);
  }
  console.log(`Dropped (global "dropped"): ${firewall.variables.dropped}`);
}

// A program the verifier rejects: the error names the C source line.
try {
  load(new URL("../fixtures/obj/verifier_fail.o", import.meta.url).pathname);
} catch (error) {
  if (!isWaggleError(error, "VerifierError")) throw error;
  console.log(`\nA broken program fails with a VerifierError:\n  ${error.message}`);
}

/** An Ethernet + IPv4 frame with a TCP or UDP header (or 8 bytes of ICMP). */
function frame({ protocol, port = 0 }) {
  const l4 = protocol === 6 ? 20 : 8;
  const bytes = new Uint8Array(14 + 20 + l4);
  const view = new DataView(bytes.buffer);
  view.setUint16(12, 0x0800); // IPv4
  view.setUint8(14, 0x45); // version 4, 20-byte header
  view.setUint16(16, 20 + l4);
  view.setUint8(23, protocol);
  view.setUint16(14 + 20 + 2, port); // destination port (TCP and UDP alike)
  return bytes;
}
