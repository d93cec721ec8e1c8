// SPDX-License-Identifier: MIT
/*
 * The traffic generator's program (tools/vnet-gen.c). It is never
 * attached: vnet-gen runs it with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES,
 * so every run turns the template frame into a real frame that XDP_TX sends
 * out of the veth it names as ingress, into the peer (the uplink).
 *
 * Live frames keep their page between runs and the kernel does not copy the
 * template again, so whatever we write stays; the UDP source port is written
 * on every run anyway, which spreads the frames over nflows flows in turn.
 *
 * vnet_gen_count is the other end (vnet-gen --count, the transmit direction
 * of make bench-e2e): attached to the veth the frames arrive on, it counts
 * and drops them, exactly and before the stack sees them, so the wire side
 * costs every configuration the same. Not free on veth: a frame that comes
 * as an skb (AF_XDP copy mode sends skbs) is copied into a page first so
 * that XDP can run on it (docs/PERFORMANCE.md).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 nflows = 1;	/* set before load, never 0 */
const volatile __u16 sport_base = 1024;
/* vnet_gen_count's verdict: drop (the wire side of bench-e2e) or, with
 * vnet-gen --count --pass, let the frame on to the stack (bench-tcp's
 * reference: the kernel's own path once any XDP program is on a veth) */
const volatile __u32 count_pass;

/* one generator thread runs the program: a plain counter is enough */
__u32 seq;

SEC("xdp")
int vnet_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
	__u32 n = seq++;

	if ((void *)(udp + 1) > end)
		return XDP_ABORTED;
	/* UDP checksum 0 (none, RFC 768): no fix-up when the port moves */
	udp->source = bpf_htons((__u16)(sport_base + n % nflows));
	return XDP_TX;
}

/* per CPU: the veth's NAPI runs where the frame was sent, on any CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counted SEC(".maps");

SEC("xdp")
int vnet_gen_count(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *c = bpf_map_lookup_elem(&counted, &k);

	(void)ctx;
	if (c)
		(*c)++;
	return count_pass ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
