// SPDX-License-Identifier: MIT
/*
 * Transmit frame building: copy a guest frame out of its chain, complete a
 * partial checksum (NEEDS_CSUM) or segment a GSO send in software (spec
 * 5.1.6.2 "Packet Transmission"), because AF_XDP has no TSO; or hand a
 * checked GSO send whole to a sink that segments it later (vnet_gso_whole:
 * the uplink's packet socket, where the kernel or the NIC does).
 *
 * Headers are parsed from our own copy, never from guest memory, so the
 * driver cannot change them between the check and the use.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>

#include <vnet/csum.h>
#include <vnet/net.h>

#include "be.h"

#define HDR_WINDOW	256	/* GSO headers must lie within this many bytes */

#define TCP_FIN		0x01
#define TCP_PSH		0x08
#define TCP_CWR		0x80

struct l34 {
	__u16 l3off, l4off, hdrs;	/* hdrs: headers incl. L4 header */
	__u8 ipv, l4proto;
};

static int parse_ipv6_ext(const __u8 *p, __u32 n, __u8 *nh, __u32 *off)
{
	for (int i = 0; i < 8; i++) {
		__u32 hlen;

		if (*nh == IPPROTO_FRAGMENT)
			return -EINVAL;		/* a fragment cannot be cut */
		if (*nh != IPPROTO_HOPOPTS && *nh != IPPROTO_ROUTING &&
		    *nh != IPPROTO_DSTOPTS)
			return 0;
		if (*off + 8 > n)
			return -EINVAL;
		hlen = ((__u32)p[*off + 1] + 1) * 8;
		*nh = p[*off];
		*off += hlen;
		if (*off > n)
			return -EINVAL;
	}
	return -EINVAL;
}

/* Ethernet (+ two VLAN tags), IPv4 or IPv6 (+ extension headers), TCP/UDP. */
static int parse_headers(const __u8 *p, __u32 n, struct l34 *h)
{
	__u32 off = 14, l4;
	__u16 type;
	__u8 proto;

	if (n < 14)
		return -EINVAL;
	type = get16(p + 12);
	for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8); i++) {
		if (off + 4 > n)
			return -EINVAL;
		type = get16(p + off + 2);
		off += 4;
	}
	h->l3off = (__u16)off;
	if (type == 0x0800) {
		__u32 ihl;

		if (off + 20 > n || (p[off] >> 4) != 4)
			return -EINVAL;
		ihl = (__u32)(p[off] & 0xf) * 4;
		if (ihl < 20 || off + ihl > n)
			return -EINVAL;
		if (get16(p + off + 6) & 0x3fff)	/* MF or offset */
			return -EINVAL;
		proto = p[off + 9];
		l4 = off + ihl;
		h->ipv = 4;
	} else if (type == 0x86dd) {
		if (off + 40 > n || (p[off] >> 4) != 6)
			return -EINVAL;
		proto = p[off + 6];
		l4 = off + 40;
		if (parse_ipv6_ext(p, n, &proto, &l4))
			return -EINVAL;
		h->ipv = 6;
	} else {
		return -EINVAL;
	}
	h->l4off = (__u16)l4;
	h->l4proto = proto;
	if (proto == IPPROTO_TCP) {
		__u32 doff;

		if (l4 + 20 > n)
			return -EINVAL;
		doff = (__u32)(p[l4 + 12] >> 4) * 4;
		if (doff < 20 || l4 + doff > n)
			return -EINVAL;
		h->hdrs = (__u16)(l4 + doff);
	} else if (proto == IPPROTO_UDP) {
		if (l4 + 8 > n)
			return -EINVAL;
		h->hdrs = (__u16)(l4 + 8);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* The 16-bit result of a checksum must lie inside the frame. */
static bool csum_fits(__u32 len, __u16 start, __u16 offset)
{
	return start < len && (__u32)offset + 2 <= len - start;
}

/* Checksum completion of one frame (2.: csum_start / csum_offset). */
static void csum_complete(__u8 *frame, __u32 len, __u16 start, __u16 offset)
{
	__u16 c;

	c = vnet_csum_fold(vnet_csum_add(frame + start, len - start, 0));
	if (!c && offset == 6)
		c = 0xffff;	/* UDP: 0 would mean "no checksum" */
	memcpy(frame + start + offset, &c, 2);
}

static void fix_segment(__u8 *o, const struct l34 *h, __u32 seg,
			unsigned int i, unsigned int nseg, __u32 mss)
{
	__u8 *ip = o + h->l3off, *l4 = o + h->l4off;
	__u32 l4len = h->hdrs - h->l4off + seg;
	__u64 sum;
	__u16 c;

	if (h->ipv == 4) {
		__u32 ihl = (__u32)(ip[0] & 0xf) * 4;

		put16(ip + 2, (__u16)(h->hdrs - h->l3off + seg));
		put16(ip + 4, (__u16)(get16(ip + 4) + i));	/* ids follow on */
		ip[10] = ip[11] = 0;
		c = vnet_csum_fold(vnet_csum_add(ip, ihl, 0));
		memcpy(ip + 10, &c, 2);
		sum = vnet_csum_pseudo4(ip + 12, ip + 16, h->l4proto, l4len);
	} else {
		put16(ip + 4, (__u16)(h->hdrs - h->l3off - 40 + seg));
		sum = vnet_csum_pseudo6(ip + 8, ip + 24, h->l4proto, l4len);
	}
	if (h->l4proto == IPPROTO_TCP) {
		put32(l4 + 4, get32(l4 + 4) + i * mss);
		if (i + 1 < nseg)
			l4[13] &= ~(TCP_FIN | TCP_PSH);	/* only on the last */
		if (i > 0)
			l4[13] &= ~TCP_CWR;		/* only on the first */
		l4[16] = l4[17] = 0;
		c = vnet_csum_fold(vnet_csum_add(l4, l4len, sum));
		memcpy(l4 + 16, &c, 2);
	} else {
		put16(l4 + 4, (__u16)l4len);
		l4[6] = l4[7] = 0;
		c = vnet_csum_fold(vnet_csum_add(l4, l4len, sum));
		if (!c)
			c = 0xffff;
		memcpy(l4 + 6, &c, 2);
	}
}

static int gso_check(const struct vnet_netq *q, const struct vnet_tx_hdr *th,
		     const struct l34 *h, __u32 len)
{
	__u8 type = th->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (h->ipv != 4 || h->l4proto != IPPROTO_TCP)
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (h->ipv != 6 || h->l4proto != IPPROTO_TCP)
			return -EINVAL;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		if (h->l4proto != IPPROTO_UDP)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	/* 5.1.6.2.1: GSO implies NEEDS_CSUM at the transport header */
	if (!(th->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    th->csum_start != h->l4off ||
	    th->csum_offset != (h->l4proto == IPPROTO_TCP ? 16 : 6))
		return -EINVAL;
	if (!th->gso_size || th->hdr_len > len)
		return -EINVAL;
	/* with GUEST_HDRLEN hdr_len is exact; otherwise only a hint (5.1.6.2.2) */
	if ((q->features & (1ull << VIRTIO_NET_F_GUEST_HDRLEN)) &&
	    th->hdr_len != h->hdrs)
		return -EINVAL;
	return 0;
}

/*
 * Our copy of a GSO send's headers (hb, HDR_WINDOW bytes), parsed and
 * checked against the header (5.1.6.2.1), and the segment size: the
 * driver's, but never more than an MTU-sized segment holds.
 */
static int gso_parse(const struct vnet_netq *q, const struct vnet_tx_hdr *th,
		     const struct vnet_iov *iov, unsigned int niov, __u32 off,
		     __u32 len, __u8 *hb, struct l34 *h, __u32 *mss)
{
	__u32 hb_len = len < HDR_WINDOW ? len : HDR_WINDOW, l3l4;
	int err;

	vnet_iov_read(iov, niov, off, hb, hb_len);
	err = parse_headers(hb, hb_len, h);
	if (err)
		return err;
	err = gso_check(q, th, h, len);
	if (err)
		return err;
	l3l4 = h->hdrs - h->l3off;
	if (q->mtu <= l3l4)
		return -EINVAL;
	*mss = th->gso_size;
	if (*mss > q->mtu - l3l4)
		*mss = q->mtu - l3l4;	/* segments are MTU-sized at most */
	return 0;
}

int vnet_gso_whole(const struct vnet_netq *q, const struct vnet_tx_hdr *th,
		   const struct vnet_iov *iov, unsigned int niov, __u32 off,
		   __u32 len, const struct vnet_tx_gso *sink, unsigned int pending)
{
	__u8 hb[HDR_WINDOW];
	struct vnet_tx_gso_frame f;
	struct l34 h;
	__u32 mss;
	int err;

	err = gso_parse(q, th, iov, niov, off, len, hb, &h, &mss);
	if (err)
		return err;
	/* what the sink's segmenter reads: exact and already checked */
	f.hdr = *th;
	f.hdr.hdr_len = h.hdrs;
	f.hdr.gso_size = (__u16)mss;
	f.l3off = h.l3off;
	f.hdrs = hb;
	f.iov = iov;
	f.niov = niov;
	f.payload_off = off + h.hdrs;
	f.payload_len = len - h.hdrs;
	f.pending = pending;
	return sink->xmit(sink->ctx, &f);
}

int vnet_gso_segment(const struct vnet_netq *q, const struct vnet_tx_hdr *th,
		     const struct vnet_iov *iov, unsigned int niov, __u32 off,
		     __u32 len, struct vnet_tx_buf *out, unsigned int nout)
{
	__u8 hb[HDR_WINDOW];
	__u32 payload, mss, nseg;
	struct l34 h;
	int err;

	if (!nout)
		return -ENOSPC;
	if ((th->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE) {
		/* 5.1.6.2.2: without NEEDS_CSUM, csum_* must not be used */
		bool csum = th->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

		if (csum && !csum_fits(len, th->csum_start, th->csum_offset))
			return -EINVAL;
		if (len > out[0].cap)
			return -EMSGSIZE;
		/* one segment holds header and frame (DPDK, Linux): no loop */
		if (niov && iov[0].len >= off && iov[0].len - off >= len)
			memcpy(out[0].data, iov[0].base + off, len);
		else
			vnet_iov_read(iov, niov, off, out[0].data, len);
		out[0].len = len;
		if (csum)
			csum_complete(out[0].data, len, th->csum_start,
				      th->csum_offset);
		return 1;
	}

	err = gso_parse(q, th, iov, niov, off, len, hb, &h, &mss);
	if (err)
		return err;
	payload = len - h.hdrs;
	nseg = payload ? (payload + mss - 1) / mss : 1;
	if (nseg > nout)
		return -ENOSPC;
	if (h.hdrs + (payload < mss ? payload : mss) > out[0].cap)
		return -EMSGSIZE;

	for (__u32 i = 0; i < nseg; i++) {
		__u32 seg = payload - i * mss < mss ? payload - i * mss : mss;
		__u8 *o = out[i].data;

		if (h.hdrs + seg > out[i].cap)
			return -EMSGSIZE;
		memcpy(o, hb, h.hdrs);
		vnet_iov_read(iov, niov, off + h.hdrs + i * mss, o + h.hdrs, seg);
		fix_segment(o, &h, seg, i, nseg, mss);
		out[i].len = h.hdrs + seg;
	}
	return (int)nseg;
}
