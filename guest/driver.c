// SPDX-License-Identifier: MIT
/*
 * The virtio-net driver half: what we accept of the device's features,
 * the memfd every ring and buffer lives in, and the two per-packet paths.
 *
 * Buffer placement: every receive chain and every transmit chain is one
 * descriptor, and the buffer of descriptor i is buffer i of its queue. The
 * ring's free list then tells which buffer to use (vdriver hands out the
 * head it frees last), so neither path keeps a map or allocates.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/device.h"
#include "vnet/log.h"
#include "vnet/net.h"
#include "guest.h"

#define BIT(n)		(1ull << (n))
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((size_t)(a) - 1))

__u64 guest_driver_features(const struct guest *g, __u64 offered)
{
	const struct guest_opts *o = &g->o;
	__u64 want, f;
	const char *why;

	/* a modern driver only: spec 6.1, no legacy interface */
	if (!(offered & BIT(VIRTIO_F_VERSION_1))) {
		pr_warn("device does not offer VIRTIO_F_VERSION_1\n");
		return 0;
	}
	want = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU) |
	       BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_SPEED_DUPLEX);
	if (!o->no_mrg)
		want |= BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (o->packed)
		want |= BIT(VIRTIO_F_RING_PACKED);
	if (!o->no_csum) {
		want |= BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM);
		if (!o->no_tso)
			want |= BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
				BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_USO);
		/* coalesced frames from the device: up to 64 KiB, which we
		 * take in mergeable buffers only (below) */
		if (!o->no_guest_tso)
			want |= BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
				BIT(VIRTIO_NET_F_GUEST_ECN);
	}
	if (!o->no_ctrl) {
		want |= BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
			BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_CTRL_VLAN) |
			BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
			BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
		if (!o->no_mq && o->queues != 1)
			want |= BIT(VIRTIO_NET_F_MQ);
		if (o->rss)
			want |= BIT(VIRTIO_NET_F_RSS);
		if (o->hash_report)
			want |= BIT(VIRTIO_NET_F_HASH_REPORT);
	}
	/* spec 6.1: never accept what was not offered */
	f = want & offered;
	/* spec 5.1.6.3.1: GUEST_TSO without MRG_RXBUF wants 65562-byte
	 * buffers; we do not post those */
	if (!(f & BIT(VIRTIO_NET_F_MRG_RXBUF)))
		f &= ~(BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
		       BIT(VIRTIO_NET_F_GUEST_ECN));
	if (o->rss && !(f & BIT(VIRTIO_NET_F_RSS)))
		pr_warn("device does not offer RSS\n");
	if (o->hash_report && !(f & BIT(VIRTIO_NET_F_HASH_REPORT)))
		pr_warn("device does not offer HASH_REPORT\n");
	if (o->packed && !(f & BIT(VIRTIO_F_RING_PACKED)))
		pr_warn("device does not offer VIRTIO_F_RING_PACKED: split rings\n");
	/* spec 5.1.3.1: a feature needs its dependencies; drop those whose
	 * dependency the device did not offer, until the set is consistent */
	for (int i = 0; i < 64; i++) {
		struct vnet_features fs = vnet_features_from_u64(f);
		const char *sp;
		static const struct { const char *name; int bit; } names[] = {
#define N(b) { #b, b }
			N(VIRTIO_NET_F_HOST_TSO4), N(VIRTIO_NET_F_HOST_TSO6),
			N(VIRTIO_NET_F_HOST_ECN), N(VIRTIO_NET_F_HOST_USO), N(VIRTIO_NET_F_CTRL_RX),
			N(VIRTIO_NET_F_CTRL_VLAN), N(VIRTIO_NET_F_GUEST_ANNOUNCE),
			N(VIRTIO_NET_F_MQ), N(VIRTIO_NET_F_CTRL_MAC_ADDR),
			N(VIRTIO_NET_F_RSS), N(VIRTIO_NET_F_HASH_REPORT),
			N(VIRTIO_NET_F_CTRL_RX_EXTRA), N(VIRTIO_NET_F_GUEST_CSUM),
			N(VIRTIO_NET_F_GUEST_TSO4), N(VIRTIO_NET_F_GUEST_TSO6),
			N(VIRTIO_NET_F_GUEST_ECN), N(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
#undef N
		};
		unsigned int k;

		if (!vnet_net_features_check(&fs, &why))
			break;
		sp = strchr(why, ' ');
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (sp && (size_t)(sp - why) == strlen(names[k].name) &&
			    !strncmp(why, names[k].name, (size_t)(sp - why)))
				break;
		if (k == sizeof(names) / sizeof(names[0])) {
			pr_warn("cannot build a consistent feature set: %s\n", why);
			return 0;
		}
		pr_info("dropping %s: %s\n", names[k].name, why);
		f &= ~BIT(names[k].bit);
	}
	return f;
}

static void *mem_take(struct guest *g, size_t len, size_t align)
{
	void *p;

	g->mem_off = ALIGN_UP(g->mem_off, align);
	p = g->mem + g->mem_off;
	g->mem_off += len;
	return p;
}

static size_t rx_buf_size(const struct guest *g)
{
	if (g->features & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6)))
		return GUEST_RX_BUF_TSO;
	if (g->features & BIT(VIRTIO_NET_F_MRG_RXBUF))
		return GUEST_RX_BUF_MRG;
	/* spec 5.1.6.3.1: without MRG_RXBUF (and no GUEST_TSO) a buffer
	 * takes a full frame of the MTU plus the header */
	return ALIGN_UP((size_t)g->mtu + 14 + 4 + g->hdr_len > GUEST_RX_BUF ?
			(size_t)g->mtu + 14 + 4 + g->hdr_len : GUEST_RX_BUF, 64);
}

static bool packed(const struct guest *g)
{
	return g->features & BIT(VIRTIO_F_RING_PACKED);
}

int guest_mem_init(struct guest *g)
{
	size_t per_rx = ALIGN_UP(vdriver_ring_bytes((__u16)g->o.rx_ring, packed(g)), 4096) +
			g->o.rx_ring * rx_buf_size(g) + 4096;
	size_t per_tx = ALIGN_UP(vdriver_ring_bytes(GUEST_TX_RING, packed(g)), 4096) +
			(size_t)GUEST_TX_RING * GUEST_TX_SLOT + 4096;
	size_t cvq = ALIGN_UP(vdriver_ring_bytes(GUEST_CVQ_RING, packed(g)), 4096) +
		     GUEST_CVQ_BUF + 4096;
	int err;

	g->mem_size = ALIGN_UP(g->nqp * (per_rx + per_tx) + cvq, 2u << 20);
	g->mem_fd = memfd_create("vnet-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (g->mem_fd < 0)
		return -errno;
	if (ftruncate(g->mem_fd, (off_t)g->mem_size)) {
		err = -errno;
		goto err_close;
	}
	g->mem = mmap(NULL, g->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, g->mem_fd, 0);
	if (g->mem == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	g->mem_off = 0;
	return 0;

err_close:
	close(g->mem_fd);
	g->mem_fd = -1;
	g->mem = NULL;
	return err;
}

void guest_mem_fini(struct guest *g)
{
	if (g->mem)
		munmap(g->mem, g->mem_size);
	if (g->mem_fd >= 0)
		close(g->mem_fd);
	g->mem = NULL;
	g->mem_fd = -1;
}

static int ring_init(struct guest *g, struct vdriver *vd, __u16 size, int *kick, int *call)
{
	void *r = mem_take(g, vdriver_ring_bytes(size, packed(g)), 4096);
	int err;

	err = vdriver_create_at(vd, size, packed(g), r, (__u64)(unsigned long)r);
	if (err)
		return err;
	*kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	*call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*kick < 0 || *call < 0)
		return -errno;
	/* no EVENT_IDX: the device notifies unless we say otherwise */
	return 0;
}

int guest_rings_init(struct guest *g)
{
	unsigned int q;
	int err;

	for (q = 0; q < g->nqp; q++) {
		struct guest_rxq *rx = &g->rxq[q];
		struct guest_txq *tx = &g->txq[q];

		err = ring_init(g, &rx->vd, (__u16)g->o.rx_ring, &rx->kick_fd, &rx->call_fd);
		if (err)
			return err;
		rx->buf_size = (__u32)rx_buf_size(g);
		rx->bufs = mem_take(g, (size_t)g->o.rx_ring * rx->buf_size, 4096);
		rx->tap_fd = g->ntap ? g->tap_fds[q % g->ntap] : -1;
		err = ring_init(g, &tx->vd, GUEST_TX_RING, &tx->kick_fd, &tx->call_fd);
		if (err)
			return err;
		tx->slots = mem_take(g, (size_t)GUEST_TX_RING * GUEST_TX_SLOT, 4096);
		tx->tap_fd = g->ntap ? g->tap_fds[q % g->ntap] : -1;
		tx->blocked = false;
	}
	if (g->has_cvq) {
		err = ring_init(g, &g->cvq.vd, GUEST_CVQ_RING, &g->cvq.kick_fd, &g->cvq.call_fd);
		if (err)
			return err;
		g->cvq.buf = mem_take(g, GUEST_CVQ_BUF, 4096);
	}
	if (g->mem_off > g->mem_size)
		return -ENOMEM;	/* a sizing bug in guest_mem_init */
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void guest_rings_fini(struct guest *g)
{
	unsigned int q;

	for (q = 0; q < GUEST_MAX_QP; q++) {
		close_fd(&g->rxq[q].kick_fd);
		close_fd(&g->rxq[q].call_fd);
		close_fd(&g->txq[q].kick_fd);
		close_fd(&g->txq[q].call_fd);
		if (g->rxq[q].vd.chain_len)
			vdriver_destroy(&g->rxq[q].vd);
		if (g->txq[q].vd.chain_len)
			vdriver_destroy(&g->txq[q].vd);
	}
	close_fd(&g->cvq.kick_fd);
	close_fd(&g->cvq.call_fd);
	if (g->cvq.vd.chain_len)
		vdriver_destroy(&g->cvq.vd);
}

void guest_kick(int fd)
{
	__u64 one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_debug("kick: %s\n", strerror(errno));
}

/* publish, then notify unless the device asked not to (spec 2.7.10,
 * 2.8.21.2): true when it kicked */
static bool publish_kick(struct vdriver *vd, int kick_fd)
{
	vdriver_publish(vd);
	if (!vdriver_kick_needed(vd))
		return false;
	guest_kick(kick_fd);
	return true;
}

static void drain(int fd)
{
	__u64 v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;
}

/* Keep every free receive descriptor posted (spec 5.1.6.3: the device
 * drops what it has no buffer for). */
void guest_rx_fill(struct guest *g, unsigned int q)
{
	struct guest_rxq *rx = &g->rxq[q];
	unsigned int n = 0;

	while (vdriver_num_free(&rx->vd)) {
		__u16 head = vdriver_next_id(&rx->vd);
		struct vdrv_seg s = {
			.gpa = (__u64)(unsigned long)(rx->bufs + (size_t)head * rx->buf_size),
			.len = rx->buf_size, .write = true,
		};

		if (vdriver_add(&rx->vd, &s, 1, false) < 0)
			break;
		n++;
	}
	if (n)
		publish_kick(&rx->vd, rx->kick_fd);
}

/* What the device did for us: a coalesced frame, a checksum taken care of.
 * The TAP takes the header as it is (a GSO frame goes into the stack whole). */
static void rx_count_offloads(struct guest_rxq_stats *st, const __u8 *hdr)
{
	if (hdr[1] != VIRTIO_NET_HDR_GSO_NONE)
		st->gso++;
	if (hdr[0] & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		st->csum++;
}

/* Check the device's hash and queue against the C reference. */
static void rx_check_hash(struct guest *g, unsigned int q, const __u8 *hdr,
			  const __u8 *frame, __u32 len)
{
	struct guest_rxq_stats *st = &g->rxq[q].st;
	struct vnet_hash_result ref = { 0 };
	__u32 value = (__u32)hdr[12] | hdr[13] << 8 | hdr[14] << 16 | (__u32)hdr[15] << 24;
	__u16 report = (__u16)(hdr[16] | hdr[17] << 8);

	vnet_classify_hash(frame, len, g->hash_types, &g->key_tbl, &ref);
	st->hash_checked++;
	if (report <= VNET_HASH_REPORT_MAX)
		st->report[report]++;
	if (report != ref.report || (ref.report != VNET_HASH_REPORT_NONE && value != ref.value)) {
		st->hash_mismatch++;
		pr_debug("rxq %u: hash %08x/%u, reference %08x/%u\n", q, value, report,
			 ref.value, ref.report);
	}
	if (g->indir_len) {
		/* spec 5.1.6.5.7.2: no hash -> unclassified_queue */
		unsigned int want = ref.report == VNET_HASH_REPORT_NONE ? g->unclassified :
				    g->indir[ref.value & (g->indir_len - 1u)];

		if (want != q)
			st->queue_mismatch++;
	}
}

int guest_rx_poll(struct guest *g, unsigned int q)
{
	struct guest_rxq *rx = &g->rxq[q];
	bool mrg = g->features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	bool hash = g->features & BIT(VIRTIO_NET_F_HASH_REPORT);
	struct iovec iov[GUEST_RX_MAX_BUFS];
	unsigned int done = 0;
	int id;
	__u32 len;

	drain(rx->call_fd);
	while (done < 4 * GUEST_BURST && (id = vdriver_get_used(&rx->vd, &len)) >= 0) {
		__u8 *buf = rx->bufs + (size_t)id * rx->buf_size;
		unsigned int nb = 1, k;
		__u32 total;
		const __u8 *frame;

		done++;
		if (len < g->hdr_len || len > rx->buf_size) {
			rx->st.tap_errors++;
			continue;
		}
		iov[0].iov_base = buf;
		iov[0].iov_len = len;
		total = len;
		if (mrg)
			nb = (unsigned int)(buf[10] | buf[11] << 8);
		/* spec 5.1.6.4.2: num_buffers buffers make the packet; more
		 * than we can gather is a device error: drop the packet */
		if (!nb || nb > GUEST_RX_MAX_BUFS) {
			rx->st.tap_errors++;
			continue;
		}
		for (k = 1; k < nb; k++) {
			__u32 l;
			int n = vdriver_get_used(&rx->vd, &l);

			if (n < 0 || l > rx->buf_size)
				break;
			iov[k].iov_base = rx->bufs + (size_t)n * rx->buf_size;
			iov[k].iov_len = l;
			total += l;
			done++;
		}
		if (k < nb) {
			rx->st.tap_errors++;
			continue;
		}
		if (nb > 1)
			rx->st.merged++;
		rx_count_offloads(&rx->st, buf);
		rx->st.packets++;
		rx->st.bytes += total - g->hdr_len;
		if (hash) {
			if (nb == 1) {
				frame = buf + g->hdr_len;
			} else {
				__u32 off = 0;

				for (k = 0; k < nb; k++) {
					__u32 skip = k ? 0 : g->hdr_len;
					__u32 l = (__u32)iov[k].iov_len - skip;

					if (off + l > sizeof(g->scratch))
						break;
					memcpy(g->scratch + off, (__u8 *)iov[k].iov_base + skip, l);
					off += l;
				}
				frame = g->scratch;
			}
			rx_check_hash(g, q, buf, frame, total - g->hdr_len);
		}
		/* the TAP takes the same header layout (TUNSETVNETHDRSZ) */
		if (writev(rx->tap_fd, iov, (int)nb) < 0)
			rx->st.tap_errors++;
	}
	guest_rx_fill(g, q);
	return 0;
}

/* --sink: take up to a few bursts of used buffers, count them, repost */
static unsigned int rx_sink_burst(struct guest *g, unsigned int q)
{
	struct guest_rxq *rx = &g->rxq[q];
	bool mrg = g->features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	unsigned int done = 0, nb, k;
	__u32 len, total, l;
	int id;

	while (done < 4 * GUEST_BURST && (id = vdriver_get_used(&rx->vd, &len)) >= 0) {
		/* read the header as a driver would: the frame's first line
		 * comes to this CPU as it would for a real guest's stack */
		const __u8 *buf = rx->bufs + (size_t)id * rx->buf_size;

		done++;
		if (len < g->hdr_len || len > rx->buf_size) {
			rx->st.tap_errors++;
			continue;
		}
		nb = mrg ? (unsigned int)(buf[10] | buf[11] << 8) : 1;
		total = len;
		for (k = 1; k < nb; k++) {
			if (vdriver_get_used(&rx->vd, &l) < 0)
				break;
			total += l;
			done++;
		}
		if (!nb || k < nb) {
			rx->st.tap_errors++;
			continue;
		}
		if (nb > 1)
			rx->st.merged++;
		rx_count_offloads(&rx->st, buf);
		rx->st.packets++;
		rx->st.bytes += total - g->hdr_len;
	}
	if (done)
		guest_rx_fill(g, q);
	return done;
}

/*
 * --sink: drain receive queue q until it is empty, then sleep (back in
 * epoll on the call eventfd). Used-buffer notifications stay off while
 * frames keep coming (VRING_AVAIL_F_NO_INTERRUPT, spec 2.7.7; packed: the
 * driver area says DISABLE, 2.8.10), so a busy device writes no call
 * eventfd per burst; they go back on, with a re-check against the race,
 * only when the ring is empty. No busy polling: the consumer of make
 * bench-e2e shares its CPU with the generator.
 */
int guest_rx_sink(struct guest *g, unsigned int q)
{
	struct guest_rxq *rx = &g->rxq[q];

	drain(rx->call_fd);
	for (;;) {
		vdriver_intr_set(&rx->vd, false);
		while (rx_sink_burst(g, q))
			;
		if (!vdriver_intr_set(&rx->vd, true))
			return 0;
	}
}

void guest_tx_reclaim(struct guest *g, unsigned int q)
{
	struct guest_txq *tx = &g->txq[q];
	__u32 len;

	drain(tx->call_fd);
	while (vdriver_get_used(&tx->vd, &len) >= 0)
		;
}

int guest_tx_poll(struct guest *g, unsigned int q)
{
	struct guest_txq *tx = &g->txq[q];
	unsigned int n = 0;
	ssize_t r;

	guest_tx_reclaim(g, q);
	while (n < GUEST_BURST) {
		__u16 head = vdriver_next_id(&tx->vd);
		__u8 *slot = tx->slots + (size_t)head * GUEST_TX_SLOT;
		struct vdrv_seg s = { .gpa = (__u64)(unsigned long)slot };

		if (!vdriver_num_free(&tx->vd)) {
			tx->st.full++;
			tx->blocked = true;
			break;
		}
		r = read(tx->tap_fd, slot, GUEST_TX_SLOT);
		if (r < 0)
			break;
		if (r <= g->hdr_len)
			continue;
		/* spec 5.1.6.2.1: num_buffers is zero on transmit; the TAP
		 * leaves it (and the hash fields) unwritten */
		memset(slot + 10, 0, g->hdr_len - 10u);
		if (slot[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			tx->st.csum++;
		if (slot[1] != VIRTIO_NET_HDR_GSO_NONE)
			tx->st.gso++;
		s.len = (__u32)r;
		if (vdriver_add(&tx->vd, &s, 1, false) < 0)
			break;
		tx->st.packets++;
		tx->st.bytes += (__u64)r - g->hdr_len;
		n++;
	}
	if (n) {
		tx->st.publishes++;
		tx->st.kicks += publish_kick(&tx->vd, tx->kick_fd);
	}
	return (int)n;
}
