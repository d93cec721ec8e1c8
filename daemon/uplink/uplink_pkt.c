// SPDX-License-Identifier: MIT
/*
 * The host's group frames, copied for the devices: an AF_PACKET socket with
 * a TPACKET_V3 rx ring on the uplink (include/vnet/uplink_pkt.h says why
 * and what it filters). The worker walks the ring's blocks in place; a
 * block goes back to the kernel once every frame in it was used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "vnet/datapath.h"
#include "vnet/uplink_pkt.h"
#include "pkt_ring.h"

/*
 * 32 blocks of 64 KiB: 2 MiB, room for ~1000 MTU frames while the worker
 * is busy. A block is handed over when full or after BLOCK_TOV_MS, which
 * bounds the latency a lone frame (an ND solicitation) sees.
 */
#define BLOCK_SIZE	(1u << 16)
#define BLOCK_NR	32u
#define FRAME_SIZE	2048u		/* TPACKET_V3 needs one; blocks hold any size */
#define BLOCK_TOV_MS	1u
#define VLAN_HLEN_	4u

struct vnet_pktring {
	int fd;
	__u8 *map;
	size_t map_len;
	unsigned int cur;	/* block being read */
	__u32 pos, off;		/* next frame in it: index, byte offset */
	struct vnet_pktring_stats st;
};

/*
 * ld mark; jeq #VNET_HOST_PORT_MARK -> drop (the devices' own frames the
 * host port handed to the host); ldb [0]; jset #1 -> accept; drop. A
 * packet socket's offset 0 is the destination MAC; its bit 0 is the group
 * bit (IEEE 802, I/G).
 */
static struct sock_filter group_only[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VNET_HOST_PORT_MARK, 3, 0),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	BPF_STMT(BPF_RET | BPF_K, 0),
};

static struct tpacket_block_desc *block(const struct vnet_pktring *r, unsigned int i)
{
	return (struct tpacket_block_desc *)(r->map + (size_t)i * BLOCK_SIZE);
}

int vnet_pktring_open(int ifindex, struct vnet_pktring **out)
{
	static const struct sock_fprog prog = {
		.len = sizeof(group_only) / sizeof(group_only[0]),
		.filter = group_only,
	};
	static const struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE,
		.tp_block_nr = BLOCK_NR,
		.tp_frame_size = FRAME_SIZE,
		.tp_frame_nr = BLOCK_NR * (BLOCK_SIZE / FRAME_SIZE),
		.tp_retire_blk_tov = BLOCK_TOV_MS,
	};
	const struct pkt_ring_cfg cfg = {
		.ifindex = ifindex,
		.filter = &prog,
		.version = TPACKET_V3,
		.req = &req,
		.req_len = sizeof(req),
		.map_len = (size_t)BLOCK_SIZE * BLOCK_NR,
		/* room in front of each frame to put a stripped VLAN tag back */
		.reserve = VLAN_HLEN_,
		.try_locked = true,
	};
	struct vnet_pktring *r;
	void *map;
	int err;

	if (ifindex <= 0 || !out)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = pkt_ring_open(&cfg, &r->fd, &map);
	if (err) {
		free(r);
		return err;
	}
	r->map = map;
	r->map_len = cfg.map_len;
	*out = r;
	return 0;
}

void vnet_pktring_close(struct vnet_pktring *r)
{
	if (!r)
		return;
	if (r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int vnet_pktring_fd(const struct vnet_pktring *r)
{
	return r->fd;
}

/*
 * Put a tag the kernel moved into skb metadata back in front of the
 * EtherType: the 12 address bytes move 4 bytes down into the reserved
 * room, TPID and TCI follow them. 0, or -EINVAL if the room is missing.
 */
static int vlan_reinsert(struct tpacket3_hdr *h, __u8 **data)
{
	const __u32 room = TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) +
			   sizeof(struct sockaddr_ll);
	__u16 tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) && h->hv1.tp_vlan_tpid ?
		     h->hv1.tp_vlan_tpid : ETH_P_8021Q;
	__be16 be[2] = { htons(tpid), htons(h->hv1.tp_vlan_tci) };
	__u8 *mac = *data;

	if (h->tp_mac < room + VLAN_HLEN_ || h->tp_snaplen < 12)
		return -EINVAL;
	memmove(mac - VLAN_HLEN_, mac, 12);
	memcpy(mac - VLAN_HLEN_ + 12, be, sizeof(be));
	*data = mac - VLAN_HLEN_;
	return 0;
}

/* Every frame of the current block was used: the kernel may fill it again. */
static void block_release(struct vnet_pktring *r, struct tpacket_block_desc *b)
{
	__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	r->cur = (r->cur + 1) % BLOCK_NR;
	r->pos = 0;
	r->off = 0;
}

/* Up to max usable frames of the current block, from frame r->pos on. */
static unsigned int block_read(struct vnet_pktring *r, struct tpacket_block_desc *b,
			       struct vnet_pkt_frame *f, unsigned int max)
{
	unsigned int n = 0;

	if (!r->pos)
		r->off = b->hdr.bh1.offset_to_first_pkt;
	while (n < max && r->pos < b->hdr.bh1.num_pkts) {
		struct tpacket3_hdr *h;
		size_t at = r->off;
		__u8 *data;
		__u32 len;

		/* the kernel wrote the block, but never read past it */
		if (at > BLOCK_SIZE - sizeof(*h)) {
			r->pos = b->hdr.bh1.num_pkts;
			break;
		}
		h = (struct tpacket3_hdr *)((__u8 *)b + at);
		r->pos++;
		r->off += h->tp_next_offset;
		data = (__u8 *)h + h->tp_mac;
		len = h->tp_snaplen;
		/* a frame the ring cut short is not the frame: drop it */
		if (len < h->tp_len || at + h->tp_mac + (size_t)len > BLOCK_SIZE ||
		    ((h->tp_status & TP_STATUS_VLAN_VALID) && vlan_reinsert(h, &data))) {
			r->st.dropped++;
			continue;
		}
		if (h->tp_status & TP_STATUS_VLAN_VALID)
			len += VLAN_HLEN_;
		f[n].data = data;
		f[n].len = len;
		n++;
	}
	return n;
}

unsigned int vnet_pktring_peek(struct vnet_pktring *r, struct vnet_pkt_frame *f,
			       unsigned int max)
{
	unsigned int n = 0, i;

	if (!max)
		return 0;
	/* a block with nothing usable left (all dropped, or empty) goes back
	 * at once, or it would sit there forever */
	for (i = 0; !n && i < BLOCK_NR; i++) {
		struct tpacket_block_desc *b = block(r, r->cur);

		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER))
			break;
		n = block_read(r, b, f, max);
		if (!n)
			block_release(r, b);
	}
	r->st.frames += n;
	return n;
}

void vnet_pktring_done(struct vnet_pktring *r)
{
	struct tpacket_block_desc *b = block(r, r->cur);

	if ((__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_RELAXED) & TP_STATUS_USER) &&
	    r->pos >= b->hdr.bh1.num_pkts)
		block_release(r, b);
}

void vnet_pktring_stats(struct vnet_pktring *r, struct vnet_pktring_stats *st)
{
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);

	/* reading the kernel's counters resets them: accumulate */
	if (!getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len))
		r->st.kernel_drops += ks.tp_drops;
	*st = r->st;
}
