// SPDX-License-Identifier: MIT
/*
 * TC ingress of the uplink when the kernel coalesces TCP for the devices
 * (VNET_DP_CFG_KGRO, include/vnet/dp_layout.h): the XDP program passed a
 * device's TCP segment to the stack with its metadata (VNET_META_F_KGRO),
 * the uplink's NAPI GRO merged it with its flow's neighbours, vnetd's
 * packet socket (a tap: it runs before TC ingress) took the merged frame
 * with its virtio-net header. Here it is dropped, so the host's stack
 * never processes a frame that was not its own. GRO merges only frames
 * whose metadata is equal (skb_metadata_differs), so the merged frame
 * carries the metadata of all its segments.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "vnet/dp_layout.h"

SEC("tc")
int vnet_kgro_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	struct vnet_xdp_meta *m = (void *)(long)skb->data_meta;

	/* our 16 bytes of metadata (the XDP program's, kgro_pass) */
	if ((void *)(m + 1) > data)
		return TC_ACT_OK;
	if (m->magic == VNET_META_MAGIC && (m->flags & VNET_META_F_KGRO))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
