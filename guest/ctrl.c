// SPDX-License-Identifier: MIT
/*
 * The control queue (spec 5.1.6.5), driven the way Linux's virtio_net
 * does: queue pairs / RSS / hash reporting once after DRIVER_OK, then the
 * interface's receive filter mirrored whenever it changes (virtnet's
 * rx_mode work: PROMISC, ALLMULTI, MAC_TABLE_SET; VLAN_ADD/DEL; MAC_ADDR_SET;
 * and, for the interface's GRO switch, GUEST_OFFLOADS_SET).
 *
 * Commands are synchronous: one in flight, the driver waits for the used
 * buffer with a deadline. A device that does not answer is a broken device:
 * -ETIMEDOUT, and the caller drops the connection.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "vnet/net.h"
#include "guest.h"

#define BIT(n)		(1ull << (n))

static bool has(const struct guest *g, int bit)
{
	return g->features & BIT(bit);
}

int ctrl_command(struct guest *g, __u8 cls, __u8 cmd, const void *data, size_t len)
{
	struct guest_cvq *c = &g->cvq;
	__u8 *ack = c->buf + GUEST_CVQ_BUF - 1;
	struct vdrv_seg s[2] = {
		{ .gpa = (__u64)(unsigned long)c->buf, .len = (__u32)(2 + len) },
		{ .gpa = (__u64)(unsigned long)ack, .len = 1, .write = true },
	};
	int head, id, waited = 0;
	__u32 ulen;

	if (!g->has_cvq)
		return -EOPNOTSUPP;
	if (2 + len > GUEST_CVQ_BUF - 1)
		return -E2BIG;
	c->buf[0] = cls;
	c->buf[1] = cmd;
	if (len)
		memcpy(c->buf + 2, data, len);
	*ack = 0xff;	/* neither OK nor ERR until the device writes it */
	head = vdriver_add(&c->vd, s, 2, false);
	if (head < 0)
		return head;
	vdriver_publish(&c->vd);
	guest_kick(c->kick_fd);
	for (;;) {
		struct pollfd pfd = { .fd = c->call_fd, .events = POLLIN };
		__u64 v;

		id = vdriver_get_used(&c->vd, &ulen);
		if (id >= 0)
			break;
		if ((unsigned int)waited >= g->o.cmd_timeout_ms) {
			pr_warn("control command %u.%u: no answer from the device in %u ms\n",
				cls, cmd, g->o.cmd_timeout_ms);
			return -ETIMEDOUT;
		}
		if (poll(&pfd, 1, 10) > 0 && read(c->call_fd, &v, sizeof(v)) < 0)
			pr_debug("cvq call: %s\n", strerror(errno));
		waited += 10;
	}
	if (id != head || ulen < 1) {
		pr_warn("control command %u.%u: device returned a bad used entry\n", cls, cmd);
		return -EPROTO;
	}
	if (*ack != VIRTIO_NET_OK) {
		c->err++;
		pr_info("control command %u.%u refused (ack %u)\n", cls, cmd, *ack);
		return -EREMOTEIO;
	}
	c->ok++;
	return 0;
}

static int ctrl_rx(struct guest *g, __u8 cmd, bool on)
{
	__u8 v = on;

	return ctrl_command(g, VIRTIO_NET_CTRL_RX, cmd, &v, 1);
}

/* spec 5.1.6.5.7.1 */
static int ctrl_rss(struct guest *g, __u32 types, const __u8 *key, __u8 key_len)
{
	__u8 d[4 + 2 + 2 + 2 * VNET_RSS_INDIR_MAX + 2 + 1 + VNET_RSS_KEY_MAX];
	unsigned int i, off = 0;
	__u16 n = g->indir_len;

#define PUT16(v) do { d[off] = (__u8)(v); d[off + 1] = (__u8)((v) >> 8); off += 2; } while (0)
	d[off++] = (__u8)types, d[off++] = (__u8)(types >> 8);
	d[off++] = (__u8)(types >> 16), d[off++] = (__u8)(types >> 24);
	PUT16(n - 1);			/* indirection_table_mask */
	PUT16(g->unclassified);
	for (i = 0; i < n; i++)
		PUT16(g->indir[i]);
	PUT16(g->nqp);			/* max_tx_vq */
#undef PUT16
	d[off++] = key_len;
	memcpy(d + off, key, key_len);
	off += key_len;
	return ctrl_command(g, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, d, off);
}

/* spec 5.1.6.5.6.4 */
static int ctrl_hash(struct guest *g, __u32 types, const __u8 *key, __u8 key_len)
{
	__u8 d[4 + 8 + 1 + VNET_RSS_KEY_MAX] = { 0 };

	d[0] = (__u8)types, d[1] = (__u8)(types >> 8);
	d[2] = (__u8)(types >> 16), d[3] = (__u8)(types >> 24);
	d[12] = key_len;
	memcpy(d + 13, key, key_len);
	return ctrl_command(g, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, d,
			    13u + key_len);
}

/* the Microsoft verification key: a default that reference tables share */
static const __u8 default_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d,
	0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b,
	0xbe, 0xac, 0x01, 0xfa,
};

/* Queue pairs, RSS and hash reporting, once after DRIVER_OK. */
int ctrl_setup_queues(struct guest *g)
{
	const __u8 *key = g->o.key_len ? g->o.key : default_key;
	__u8 key_len = g->o.key_len ? g->o.key_len : 40;
	__u32 types;
	unsigned int i;
	int err = 0;

	g->indir_len = 0;
	g->hash_types = 0;
	/* spec 5.1.4.1: the driver may not exceed rss_max_key_size */
	if ((has(g, VIRTIO_NET_F_RSS) || has(g, VIRTIO_NET_F_HASH_REPORT)) &&
	    key_len > g->rss_max_key) {
		pr_warn("key of %u bytes exceeds the device's %u\n", key_len, g->rss_max_key);
		return -EINVAL;
	}
	/* spec 5.1.6.5.7.1: only hash types the device supports */
	types = g->o.hash_types & g->supported_hash;
	if (has(g, VIRTIO_NET_F_RSS) && g->o.rss) {
		__u16 n = g->o.indir_len ? g->o.indir_len : g->rss_max_indir;

		if (!n || (n & (n - 1)) || n > g->rss_max_indir || n > VNET_RSS_INDIR_MAX) {
			pr_warn("indirection table of %u entries: the device takes a power "
				"of two up to %u\n", n, g->rss_max_indir);
			return -EINVAL;
		}
		g->indir_len = n;
		for (i = 0; i < n; i++)
			g->indir[i] = (__u16)(i % g->nqp);
		g->unclassified = 0;
		err = ctrl_rss(g, types, key, key_len);
		if (err) {
			g->indir_len = 0;
			return err;
		}
		g->hash_types = types;
	} else if (has(g, VIRTIO_NET_F_MQ) && g->nqp > 1) {
		__u16 v = (__u16)g->nqp;

		err = ctrl_command(g, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &v, 2);
		if (err)
			return err;
	}
	if (has(g, VIRTIO_NET_F_HASH_REPORT) && !g->indir_len) {
		err = ctrl_hash(g, types, key, key_len);
		if (err)
			return err;
		g->hash_types = types;
	}
	vnet_toeplitz_expand(key, key_len, &g->key_tbl);
	/* the fixed rx-mode extras from the command line (CTRL_RX_EXTRA) */
	if (has(g, VIRTIO_NET_F_CTRL_RX_EXTRA)) {
		if (g->o.alluni)
			err = err ?: ctrl_rx(g, VIRTIO_NET_CTRL_RX_ALLUNI, true);
		if (g->o.nomulti)
			err = err ?: ctrl_rx(g, VIRTIO_NET_CTRL_RX_NOMULTI, true);
		if (g->o.nouni)
			err = err ?: ctrl_rx(g, VIRTIO_NET_CTRL_RX_NOUNI, true);
		if (g->o.nobcast)
			err = err ?: ctrl_rx(g, VIRTIO_NET_CTRL_RX_NOBCAST, true);
	} else if (g->o.alluni || g->o.nomulti || g->o.nouni || g->o.nobcast) {
		pr_warn("CTRL_RX_EXTRA not negotiated: rx-mode extras ignored\n");
	}
	return err;
}

static int send_mac_table(struct guest *g, const struct guest_rxmode *m)
{
	__u8 d[4 + 4 + 6 * VNET_MAC_TABLE_MAX];
	unsigned int off = 0;

	/* unicast: a TAP has no unicast filter (no IFF_UNICAST_FLT), so the
	 * kernel turns secondary unicast addresses into promiscuity: empty */
	memset(d, 0, 4);
	off = 4;
	d[off] = (__u8)m->n_mc;
	d[off + 1] = d[off + 2] = d[off + 3] = 0;
	off += 4;
	memcpy(d + off, m->mc, 6u * m->n_mc);
	off += 6u * m->n_mc;
	return ctrl_command(g, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, off);
}

/*
 * The TAP's GRO switch (ethtool -K TAP gro on|off) turns the device's
 * coalescing on and off, as rx-gro-hw does for Linux's virtio_net:
 * CTRL_GUEST_OFFLOADS_SET (spec 5.1.6.5.6.1) with or without GUEST_TSO4/
 * TSO6/ECN; GUEST_CSUM stays as negotiated.
 */
static int ctrl_offloads(struct guest *g, bool gro)
{
	__u64 want = g->features & VNET_GUEST_OFFLOADS, le;
	int err;

	if (!gro)
		want &= ~(BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
			  BIT(VIRTIO_NET_F_GUEST_ECN));
	le = htole64(want);
	err = ctrl_command(g, VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			   VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, &le, sizeof(le));
	if (!err) {
		g->guest_offloads = want;
		g->offload_changes++;
		pr_info("%s: receive coalescing %s\n", g->tap_name, gro ? "on" : "off");
	}
	return err;
}

static bool vlan_test(const __u32 *v, unsigned int vid)
{
	return v[vid / 32] & (1u << (vid % 32));
}

/*
 * Mirror what the TAP wants into the device: only what changed, unless
 * 'force' (after a (re)connect the device starts from reset state).
 * A refused command is logged and not retried until the wish changes.
 */
int ctrl_sync_rxmode(struct guest *g, bool force)
{
	struct guest_rxmode now, *s = &g->sent;
	unsigned int vid;
	int err;

	if (!g->has_cvq)
		return 0;
	err = tap_read_rxmode(g, &now);
	if (err)
		return 0;	/* the TAP is busy changing: next round */
	if (force || !g->sent_valid) {
		/* spec: after reset promisc/allmulti off, table empty, no VLANs */
		memset(s, 0, sizeof(*s));
		/* MAC unknown to us: always MAC_ADDR_SET once (s->mac all zero) */
		force = true;
		/* spec 5.1.6.5.6.1: negotiation turned every offload on */
		s->gro = true;
		g->guest_offloads = g->features & VNET_GUEST_OFFLOADS;
	}
	if (has(g, VIRTIO_NET_F_CTRL_MAC_ADDR) && memcmp(now.mac, s->mac, 6)) {
		err = ctrl_command(g, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, now.mac, 6);
		if (err == -ETIMEDOUT || err == -EPROTO)
			return err;
		memcpy(s->mac, now.mac, 6);
	}
	if (has(g, VIRTIO_NET_F_CTRL_RX)) {
		if (now.promisc != s->promisc || force) {
			err = ctrl_rx(g, VIRTIO_NET_CTRL_RX_PROMISC, now.promisc);
			if (err == -ETIMEDOUT || err == -EPROTO)
				return err;
			s->promisc = now.promisc;
		}
		if (now.allmulti != s->allmulti || force) {
			err = ctrl_rx(g, VIRTIO_NET_CTRL_RX_ALLMULTI, now.allmulti);
			if (err == -ETIMEDOUT || err == -EPROTO)
				return err;
			s->allmulti = now.allmulti;
		}
		if (now.n_mc != s->n_mc || memcmp(now.mc, s->mc, 6u * now.n_mc) || force) {
			err = send_mac_table(g, &now);
			if (err == -ETIMEDOUT || err == -EPROTO)
				return err;
			s->n_mc = now.n_mc;
			memcpy(s->mc, now.mc, 6u * now.n_mc);
		}
	}
	if (has(g, VIRTIO_NET_F_CTRL_VLAN)) {
		for (vid = 0; vid < VNET_VLAN_N; vid++) {
			bool want = vlan_test(now.vlans, vid), had = vlan_test(s->vlans, vid);
			__u16 v = (__u16)vid;

			if (want == had)
				continue;
			err = ctrl_command(g, VIRTIO_NET_CTRL_VLAN,
					   want ? VIRTIO_NET_CTRL_VLAN_ADD : VIRTIO_NET_CTRL_VLAN_DEL,
					   &v, 2);
			if (err == -ETIMEDOUT || err == -EPROTO)
				return err;
			s->vlans[vid / 32] ^= 1u << (vid % 32);
		}
	}
	if (has(g, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) && now.gro != s->gro) {
		err = ctrl_offloads(g, now.gro);
		if (err == -ETIMEDOUT || err == -EPROTO)
			return err;
		s->gro = now.gro;
	}
	g->sent_valid = true;
	return 0;
}

/* spec 5.1.6.5.4: announce done, clear S_ANNOUNCE */
int ctrl_announce_ack(struct guest *g)
{
	g->announces++;
	return ctrl_command(g, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0);
}
