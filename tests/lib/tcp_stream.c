// SPDX-License-Identifier: MIT
/* TCP segments for tests (tcp_stream.h). Checksums by RFC 1071, byte pairs. */
#include <string.h>

#include "tcp_stream.h"

static void w16(__u8 *p, unsigned int v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static void w32(__u8 *p, __u32 v)
{
	w16(p, v >> 16);
	w16(p + 2, v & 0xffff);
}

/* ones' complement sum of big-endian byte pairs */
__u32 ts_sum16(const __u8 *p, __u32 n, __u32 s)
{
	for (__u32 i = 0; i + 1 < n; i += 2)
		s += (__u32)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (__u32)p[n - 1] << 8;
	return s;
}

__u16 ts_fold(__u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

void ts_flow_init(struct ts_flow *f, int ipv, unsigned int n)
{
	memset(f, 0, sizeof(*f));
	f->ipv = ipv;
	memcpy(f->dmac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(f->smac, "\x02\x00\x00\x00\x01\x00", 6);
	f->smac[5] = (__u8)n;
	if (ipv == 4) {
		memcpy(f->saddr, "\x0a\x00\x01\x00", 4);
		memcpy(f->daddr, "\x0a\x00\x00\x02", 4);
		f->saddr[3] = (__u8)(n + 1);
	} else {
		memcpy(f->saddr, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00", 16);
		memcpy(f->daddr, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 16);
		f->saddr[15] = (__u8)(n + 1);
		f->flowlabel = 0x12345 + n;
	}
	f->sport = (__u16)(40000 + n);
	f->dport = 5201;
	f->ttl = 64;
	f->df = true;
	f->id = (__u16)(1000 * n + 7);
	f->seq = 0x10000000u * (n % 16) + 12345;
	f->ack = 777 + n;
	f->win = 502;
	f->ts = true;
	f->tsval = 100000 + n;
	f->tsecr = 5000;
	f->flags = 0x10;	/* ACK */
	f->rand = 0x2545f491u + n;
}

__u8 ts_payload_byte(__u16 sport, __u32 seq)
{
	return (__u8)(sport * 131u + seq * 7u + (seq >> 9));
}

__u32 ts_build(struct ts_flow *f, const struct ts_seg *s, __u8 *buf, __u32 cap)
{
	__u32 off = 12, l3, l4, ihl = s->ip_opts ? 24 : 20, thl = f->ts ? 32 : 20;
	__u32 iphl = f->ipv == 4 ? ihl : 40, len, psum;
	__u8 flags = f->flags | s->add_flags, ecn_tos;

	len = 14 + 4u * (unsigned int)f->vlans + iphl + thl + s->payload;
	if (len + s->pad > cap)
		return 0;
	memcpy(buf, f->dmac, 6);
	memcpy(buf + 6, f->smac, 6);
	for (int v = 0; v < f->vlans; v++) {
		w16(buf + off, f->vlans == 2 && v == 0 ? 0x88a8 : 0x8100);
		w16(buf + off + 2, (unsigned int)(f->vid + v) & 0xfff);
		off += 4;
	}
	w16(buf + off, f->ipv == 4 ? 0x0800 : 0x86dd);
	l3 = off + 2;
	l4 = l3 + iphl;
	ecn_tos = s->ce ? (__u8)(f->tos | 3) : f->tos;
	if (f->ipv == 4) {
		__u8 *ip = buf + l3;

		ip[0] = (__u8)(0x40 | ihl / 4);
		ip[1] = ecn_tos;
		w16(ip + 2, len - l3);
		w16(ip + 4, f->id);
		w16(ip + 6, f->df ? 0x4000 : 0);
		ip[8] = f->ttl;
		ip[9] = 6;
		w16(ip + 10, 0);
		memcpy(ip + 12, f->saddr, 4);
		memcpy(ip + 16, f->daddr, 4);
		if (s->ip_opts)
			memset(ip + 20, 1, 4);
		w16(ip + 10, ts_fold(ts_sum16(ip, ihl, 0)));
		if (s->bad_ipcsum)
			ip[11] ^= 0x5a;
		psum = ts_sum16(f->saddr, 4, 0) + ts_sum16(f->daddr, 4, 0) + 6 + (len - l4);
	} else {
		__u8 *ip = buf + l3;

		w32(ip, 6u << 28 | (__u32)ecn_tos << 20 | (f->flowlabel & 0xfffff));
		w16(ip + 4, len - l4);
		ip[6] = 6;
		ip[7] = f->ttl;
		memcpy(ip + 8, f->saddr, 16);
		memcpy(ip + 24, f->daddr, 16);
		psum = ts_sum16(f->saddr, 16, 0) + ts_sum16(f->daddr, 16, 0) + 6 + (len - l4);
	}
	{
		__u8 *th = buf + l4;

		w16(th, f->sport);
		w16(th + 2, f->dport);
		w32(th + 4, f->seq);
		w32(th + 8, f->ack);
		th[12] = (__u8)(thl / 4 << 4);
		th[13] = flags;
		w16(th + 14, f->win);
		w16(th + 16, 0);
		w16(th + 18, 0);
		if (f->ts) {
			th[20] = th[21] = 1;
			th[22] = 8;
			th[23] = 10;
			w32(th + 24, f->tsval);
			w32(th + 28, f->tsecr);
		}
		for (__u32 i = 0; i < s->payload; i++)
			th[thl + i] = ts_payload_byte(f->sport, f->seq + i);
		w16(th + 16, ts_fold(ts_sum16(th, len - l4, psum)));
		if (s->bad_csum)
			th[17] ^= 0x33;
	}
	memset(buf + len, 0, s->pad);
	len += s->pad;
	len -= s->trunc < len ? s->trunc : len;

	f->seq += s->payload + ((flags & 0x03) ? 1 : 0);	/* SYN, FIN */
	if (f->id_mode == TS_ID_INC) {
		f->id++;
	} else if (f->id_mode == TS_ID_RANDOM) {
		f->rand = f->rand * 1103515245u + 12345u;
		f->id = (__u16)(f->rand >> 16);
	}
	return len;
}
