/* firewall — an XDP program that drops TCP and UDP packets sent to one port.
 *
 * The port is a `const volatile` global: userspace sets it before loading, and the verifier then
 * sees it as a constant. Per-protocol packet counts go to a hash map; the number of dropped
 * packets to a global in .bss. Used by examples/xdp-firewall.mjs. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Set before load; 0 blocks nothing. */
const volatile __u16 blocked_port = 0;

/* Packets dropped so far. */
__u64 dropped = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);   /* IP protocol number */
	__type(value, __u64); /* packets seen */
} packets SEC(".maps");

static __always_inline void count(__u32 protocol)
{
	__u64 one = 1, *seen = bpf_map_lookup_elem(&packets, &protocol);

	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&packets, &protocol, &one, BPF_NOEXIST);
}

SEC("xdp")
int firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u16 port;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	count(ip->protocol);

	void *l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return XDP_PASS;
		port = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return XDP_PASS;
		port = udp->dest;
	} else {
		return XDP_PASS;
	}

	if (blocked_port && port == bpf_htons(blocked_port)) {
		__sync_fetch_and_add(&dropped, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}
