// SPDX-License-Identifier: MIT
/*
 * The host port of an uplink: how the host's own stack and the devices on
 * its uplink reach each other. Frames between them must never touch the
 * wire (the far end does not send them back, so without this a guest could
 * not even ARP for the host's address).
 *
 *   vnet_host_egress   TC egress of the uplink, i.e. what the host stack
 *                      sends: unicast to a device's MAC goes to the port
 *                      (a TAP vnetd reads) instead of the wire; group
 *                      frames go to the wire and a copy to the port.
 *   vnet_host_ingress  TC ingress of the port, i.e. what vnetd writes into
 *                      the TAP: into the uplink's receive path, as if it
 *                      had come from the wire (BPF_F_INGRESS).
 *
 * vnetd's own frames leave through AF_XDP, which bypasses TC egress, so
 * nothing here sees them twice. mac_devs (mac_map.h) is the XDP program's
 * map, shared by fd (daemon/uplink/host_port.c).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "vnet/dp_layout.h"
#include "mac_map.h"


/* Set before load (daemon/uplink/host_port.c). */
const volatile __u32 port_ifindex;
const volatile __u32 uplink_ifindex;

SEC("tc")
int vnet_host_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *eth = data;
	__u64 mac48, *devs;

	if ((void *)(eth + 14) > end)
		return TC_ACT_OK;
	/* the destination MAC as the map's key: byte 0 lowest, zero padded */
	mac48 = *(__u32 *)eth | (__u64)*(__u16 *)(eth + 4) << 32;
	if (mac48 & 1) {
		/* broadcast/multicast: the wire keeps it, the devices get a copy */
		bpf_clone_redirect(skb, port_ifindex, 0);
		return TC_ACT_OK;
	}
	devs = bpf_map_lookup_elem(&mac_devs, &mac48);
	if (devs && (*devs & ~VNET_DP_HOST_BIT))
		return bpf_redirect(port_ifindex, 0);
	return TC_ACT_OK;
}

SEC("tc")
int vnet_host_ingress(struct __sk_buff *skb)
{
	/* kept across the redirect (same namespace): uplink_pkt.c skips it */
	skb->mark = VNET_HOST_PORT_MARK;
	return bpf_redirect(uplink_ifindex, BPF_F_INGRESS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
