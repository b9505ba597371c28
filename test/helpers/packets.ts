/** Builders for the Ethernet frames test runs feed to XDP, TC and socket programs. */

/** IP protocol numbers used in tests. */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** Options for {@link ipv4Frame}. */
export interface FrameOptions {
  protocol?: number;
  srcIp?: [number, number, number, number];
  dstIp?: [number, number, number, number];
  srcPort?: number;
  dstPort?: number;
  /** Bytes after the transport header. */
  payload?: number;
  /** IPv4 header length in 32-bit words (5 = no options). */
  ihl?: number;
  etherType?: number;
  dstMac?: number[];
  srcMac?: number[];
}

/** An Ethernet + IPv4 (+ UDP/TCP header) frame, in network byte order. */
export function ipv4Frame(o: FrameOptions = {}): Uint8Array {
  const protocol = o.protocol ?? IPPROTO.UDP;
  const ihl = o.ihl ?? 5;
  const l4 = protocol === IPPROTO.TCP ? 20 : protocol === IPPROTO.UDP ? 8 : 4;
  const payload = o.payload ?? 0;
  const frame = new Uint8Array(14 + ihl * 4 + l4 + payload);
  const view = new DataView(frame.buffer);
  frame.set(o.dstMac ?? [0x02, 0, 0, 0, 0, 0x02], 0);
  frame.set(o.srcMac ?? [0x02, 0, 0, 0, 0, 0x01], 6);
  view.setUint16(12, o.etherType ?? 0x0800);
  const ip = 14;
  view.setUint8(ip, 0x40 | ihl);
  view.setUint16(ip + 2, frame.length - 14);
  view.setUint8(ip + 8, 64);
  view.setUint8(ip + 9, protocol);
  frame.set(o.srcIp ?? [10, 0, 0, 1], ip + 12);
  frame.set(o.dstIp ?? [10, 0, 0, 2], ip + 16);
  const t = ip + ihl * 4;
  if (protocol === IPPROTO.UDP || protocol === IPPROTO.TCP) {
    view.setUint16(t, o.srcPort ?? 1234);
    view.setUint16(t + 2, o.dstPort ?? 53);
    if (protocol === IPPROTO.UDP) view.setUint16(t + 4, 8 + payload);
    else view.setUint8(t + 12, 5 << 4);
  }
  return frame;
}

/** A frame of another EtherType (ARP, IPv6…) with `length` bytes in all. */
export function etherFrame(etherType: number, length = 60): Uint8Array {
  const frame = new Uint8Array(length);
  frame.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  new DataView(frame.buffer).setUint16(12, etherType);
  return frame;
}
