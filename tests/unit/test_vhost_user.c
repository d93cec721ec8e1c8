// SPDX-License-Identifier: MIT
/*
 * The vhost-user back-end against a misbehaving front-end, over a real
 * AF_UNIX socket: truncated and oversized messages, wrong fd counts, ring
 * indexes and addresses outside the memory table, kick before setup,
 * features that break the rules of spec 5.1.3.1, config-change
 * notification on the back-end channel, and 1,000 connect/disconnect
 * cycles without leaking fds or mappings. After every bad connection the
 * device must serve the next one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/device.h"
#include "vnet/sim.h"
#include "vnet/vhost_user.h"
#include "test.h"

#define BIT(n) (1ull << (n))
#define MEM_SIZE (1u << 20)
#define MEM_UVA 0x7f0000000000ull

static char sock_path[108];
static struct vnet_netdev *dev;
static struct vnet_vu *vu;

static void pump(void)
{
	int i;

	for (i = 0; i < 4; i++)
		vnet_vu_process(vu);
}

static int fe_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 1 };

	strcpy(sun.sun_path, sock_path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pump();		/* accept */
	return fd;
}

static void fe_close(int fd)
{
	close(fd);
	pump();
}

/* send header + payload with fds, let the back-end handle it */
static int fe_send(int fd, __u32 req, __u32 flags, const void *payload, __u32 size,
		   const int *fds, unsigned int nfds)
{
	struct vhost_user_hdr hdr = { req, VHOST_USER_VERSION | flags, size };
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, size } };
	char cbuf[CMSG_SPACE(sizeof(int) * 16)];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *cm;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	pump();
	return n == (ssize_t)(sizeof(hdr) + size) ? 0 : -1;
}

/* read a reply; returns payload size or -1 (connection closed / timeout) */
static int fe_recv(int fd, __u32 req, void *payload, size_t cap)
{
	struct vhost_user_hdr hdr;

	if (recv(fd, &hdr, sizeof(hdr), MSG_WAITALL) != sizeof(hdr))
		return -1;
	if (hdr.request != req || !(hdr.flags & VHOST_USER_REPLY_MASK) || hdr.size > cap)
		return -1;
	if (hdr.size && recv(fd, payload, hdr.size, MSG_WAITALL) != (ssize_t)hdr.size)
		return -1;
	return (int)hdr.size;
}

static int fe_u64(int fd, __u32 req, __u64 v, bool need_reply, __u64 *ack)
{
	if (fe_send(fd, req, need_reply ? VHOST_USER_NEED_REPLY_MASK : 0, &v, 8, NULL, 0))
		return -1;
	if (!need_reply)
		return 0;
	return fe_recv(fd, req, ack, 8) == 8 ? 0 : -1;
}

static __u64 fe_get_u64(int fd, __u32 req)
{
	__u64 v = ~0ull;

	if (fe_send(fd, req, 0, NULL, 0, NULL, 0) || fe_recv(fd, req, &v, 8) != 8)
		return ~0ull;
	return v;
}

/* still open? (a closed connection reads EOF) */
static bool fe_alive(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) < 0 && errno == EAGAIN;
}

static bool vu_open(void)
{
	return vnet_vu_connected(vu);
}

/* GET_FEATURES, protocol features with REPLY_ACK, and SET_FEATURES */
static int fe_handshake(int fd, __u64 features)
{
	__u64 ack = 1, dev_f, proto;

	/* owner first, as vnet-guest and DPDK's virtio-user: CONFIG offered */
	if (fe_send(fd, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0))
		return -1;
	dev_f = fe_get_u64(fd, VHOST_USER_GET_FEATURES);
	proto = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	if (dev_f == ~0ull || proto == ~0ull)
		return -1;
	if (fe_u64(fd, VHOST_USER_SET_PROTOCOL_FEATURES, proto, false, NULL))
		return -1;
	if (fe_u64(fd, VHOST_USER_SET_FEATURES, features, true, &ack) || ack)
		return -1;
	return 0;
}

static __u64 good_features(void)
{
	return BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_CTRL_VQ) |
	       BIT(VIRTIO_NET_F_MQ) | BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

static int fe_mem_table(int fd, int mfd, __u64 size, __u64 *ack)
{
	struct vhost_user_memory m = { .nregions = 1 };

	m.regions[0] = (struct vhost_user_mem_region){
		.guest_addr = 0, .size = size, .user_addr = MEM_UVA, .mmap_offset = 0,
	};
	if (fe_send(fd, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY_MASK, &m,
		    8 + sizeof(m.regions[0]), &mfd, 1))
		return -1;
	return fe_recv(fd, VHOST_USER_SET_MEM_TABLE, ack, 8) == 8 ? 0 : -1;
}

/* mappings of this process; of memfds only with 'memfd' (ASan maps too) */
static int count_maps_of(bool memfd)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += !memfd || strstr(line, "/memfd:");
	if (f)
		fclose(f);
	return n;
}

static int count_maps(void)
{
	return count_maps_of(false);
}

/* --- cases ------------------------------------------------------------------ */

static void test_handshake_and_config(void)
{
	int fd = fe_connect();
	struct vhost_user_config cfg = { .offset = 0, .size = 24 };
	__u64 ack;

	EXPECT(fd >= 0 && vu_open(), "connect");
	EXPECT(fe_handshake(fd, good_features()) == 0, "handshake");
	EXPECT(dev->driver & BIT(VIRTIO_NET_F_MQ), "negotiated");
	EXPECT(fe_get_u64(fd, VHOST_USER_GET_QUEUE_NUM) == 2, "queue num");
	EXPECT(fe_send(fd, VHOST_USER_GET_CONFIG, 0, &cfg, 12 + 24, NULL, 0) == 0, "send");
	memset(&cfg, 0, sizeof(cfg));
	EXPECT(fe_recv(fd, VHOST_USER_GET_CONFIG, &cfg, sizeof(cfg)) == 12 + 24, "config");
	EXPECT(cfg.size == 24 && cfg.payload[0] == 0x02 && cfg.payload[5] == 0x01, "mac");
	/* past the end: size 0 reply, connection stays */
	cfg.offset = 20, cfg.size = 8;
	fe_send(fd, VHOST_USER_GET_CONFIG, 0, &cfg, 12 + 8, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_GET_CONFIG, &cfg, sizeof(cfg)) == 12 && cfg.size == 0,
	       "bad config read");
	/* config is read-only */
	cfg.offset = 0, cfg.size = 6;
	fe_send(fd, VHOST_USER_SET_CONFIG, VHOST_USER_NEED_REPLY_MASK, &cfg, 12 + 6, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_CONFIG, &ack, 8) == 8 && ack != 0, "SET_CONFIG refused");
	/* status */
	EXPECT(fe_u64(fd, VHOST_USER_SET_STATUS, 0xf, true, &ack) == 0 && ack == 0, "status");
	EXPECT(fe_get_u64(fd, VHOST_USER_GET_STATUS) == 0xf, "status readback");
	EXPECT(fe_u64(fd, VHOST_USER_NET_SET_MTU, 1400, true, &ack) == 0 && ack == 0, "mtu");
	EXPECT(fe_u64(fd, VHOST_USER_NET_SET_MTU, 9000, true, &ack) == 0 && ack != 0, "mtu 9000");
	EXPECT(fe_u64(fd, VHOST_USER_SEND_RARP, 0x010000000002ull, true, &ack) == 0 && ack == 0,
	       "rarp");
	/* a group MAC cannot be announced: refused, nothing pending */
	dev->rarp_pending = false;
	EXPECT(fe_u64(fd, VHOST_USER_SEND_RARP, 0x0100005e0001ull, true, &ack) == 0 && ack != 0,
	       "rarp for a multicast MAC accepted");
	EXPECT(!dev->rarp_pending, "refused SEND_RARP left an announce pending");
	EXPECT(fe_alive(fd), "connection alive");
	fe_close(fd);
	EXPECT(!vu_open() && vnet_netdev_status(dev) == 0, "closed and reset");
}

static void test_bad_features(void)
{
	int fd = fe_connect();
	__u64 ack = 0;
	__u64 bad = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_GUEST_TSO4) |
		    BIT(VHOST_USER_F_PROTOCOL_FEATURES);

	EXPECT(fe_handshake(fd, bad) == -1, "GUEST_TSO4 without GUEST_CSUM accepted");
	EXPECT(vnet_features_empty(&dev->driver_set), "nothing negotiated");
	/* not offered at all */
	EXPECT(fe_u64(fd, VHOST_USER_SET_FEATURES, BIT(41), true, &ack) == 0 && ack, "bit 41");
	/* FEATURES_OK does not stick after a refused set (spec 3.1.1) */
	fe_u64(fd, VHOST_USER_SET_STATUS, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK,
	       true, &ack);
	EXPECT(ack != 0, "FEATURES_OK accepted");
	EXPECT(!(fe_get_u64(fd, VHOST_USER_GET_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK),
	       "FEATURES_OK reads back set");
	/* without REPLY_ACK the only answer is closing */
	fe_u64(fd, VHOST_USER_SET_FEATURES, bad, false, NULL);
	EXPECT(!fe_alive(fd), "bad features without ack: still open");
	fe_close(fd);
}

static void test_truncated_and_oversized(void)
{
	struct vhost_user_hdr hdr = { VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0 };
	int fd;

	/* half a header, then the front-end goes away */
	fd = fe_connect();
	EXPECT(send(fd, &hdr, 6, 0) == 6, "send");
	fe_close(fd);
	EXPECT(!vu_open(), "truncated header");

	/* a header announcing a payload that never comes (1 s timeout) */
	fd = fe_connect();
	hdr.request = VHOST_USER_SET_FEATURES, hdr.size = 8;
	send(fd, &hdr, sizeof(hdr), 0);
	pump();
	EXPECT(!fe_alive(fd), "payload never came: still open");
	fe_close(fd);

	/* oversized */
	fd = fe_connect();
	hdr.size = 1 << 20;
	send(fd, &hdr, sizeof(hdr), 0);
	pump();
	EXPECT(!fe_alive(fd), "1 MiB payload announced: still open");
	fe_close(fd);

	/* wrong size for the request */
	fd = fe_connect();
	fe_send(fd, VHOST_USER_SET_FEATURES, 0, "1234", 4, NULL, 0);
	EXPECT(!fe_alive(fd), "4-byte SET_FEATURES: still open");
	fe_close(fd);

	/* bad version, reply flag from the front-end, unknown request */
	fd = fe_connect();
	fe_send(fd, VHOST_USER_GET_FEATURES, 2, NULL, 0, NULL, 0);
	EXPECT(!fe_alive(fd), "version 3");
	fe_close(fd);
	fd = fe_connect();
	fe_send(fd, 200, 0, NULL, 0, NULL, 0);
	EXPECT(!fe_alive(fd), "request 200");
	fe_close(fd);

	/* and the device still serves a good front-end */
	fd = fe_connect();
	EXPECT(fe_handshake(fd, good_features()) == 0, "good front-end after bad ones");
	fe_close(fd);
}

static void test_fd_counts_and_indexes(void)
{
	int before = test_count_fds();
	int fd = fe_connect();
	int efd[3] = { eventfd(0, 0), eventfd(0, 0), eventfd(0, 0) };
	__u64 ack, v;
	struct vhost_user_vring_state st = { .index = 200, .num = 256 };

	fe_handshake(fd, good_features());
	/* KICK with two fds */
	v = 0;
	fe_send(fd, VHOST_USER_SET_VRING_KICK, VHOST_USER_NEED_REPLY_MASK, &v, 8, efd, 2);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_KICK, &ack, 8) == 8 && ack, "2 fds accepted");
	/* KICK with no fd and no NOFD flag */
	fe_send(fd, VHOST_USER_SET_VRING_KICK, VHOST_USER_NEED_REPLY_MASK, &v, 8, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_KICK, &ack, 8) == 8 && ack, "0 fds accepted");
	/* an fd on a message that takes none */
	fe_send(fd, VHOST_USER_SET_VRING_NUM, VHOST_USER_NEED_REPLY_MASK, &st, 8, efd, 1);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_NUM, &ack, 8) == 8 && ack, "fd on VRING_NUM");
	/* ring index out of range (2 pairs + cvq = 5 rings) */
	fe_send(fd, VHOST_USER_SET_VRING_NUM, VHOST_USER_NEED_REPLY_MASK, &st, 8, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_NUM, &ack, 8) == 8 && ack, "index 200");
	v = 5;
	fe_send(fd, VHOST_USER_SET_VRING_CALL, VHOST_USER_NEED_REPLY_MASK, &v, 8, efd, 1);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_CALL, &ack, 8) == 8 && ack, "call index 5");
	/* a ring size that is not a power of two */
	st.index = 0, st.num = 100;
	fe_send(fd, VHOST_USER_SET_VRING_NUM, VHOST_USER_NEED_REPLY_MASK, &st, 8, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_NUM, &ack, 8) == 8 && ack, "num 100");
	/* SET_MEM_TABLE claiming 2 regions with 1 fd */
	struct vhost_user_memory m = { .nregions = 2 };
	m.regions[0].size = m.regions[1].size = 4096;
	m.regions[1].guest_addr = 8192;
	m.regions[1].user_addr = 8192;
	fe_send(fd, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY_MASK, &m,
		8 + 2 * sizeof(m.regions[0]), efd, 1);
	EXPECT(fe_recv(fd, VHOST_USER_SET_MEM_TABLE, &ack, 8) == 8 && ack, "2 regions 1 fd");
	/* a region fd that is not memory (an eventfd) */
	EXPECT(fe_mem_table(fd, efd[0], 4096, &ack) == 0 && ack, "eventfd as memory");
	/* a memfd shorter than the region (would SIGBUS on access) */
	int mfd = test_memfd(4096);
	EXPECT(fe_mem_table(fd, mfd, MEM_SIZE, &ack) == 0 && ack, "short memfd");
	close(mfd);
	EXPECT(fe_alive(fd), "still connected");
	/* every fd we passed was closed by the back-end or kept by it: after
	 * the disconnect, none of ours are left over there */
	fe_close(fd);
	close(efd[0]), close(efd[1]), close(efd[2]);
	EXPECT(test_count_fds() == before, "fds %d -> %d", before, test_count_fds());
}

static void test_ring_addresses(void)
{
	int fd = fe_connect();
	int mfd = test_memfd(MEM_SIZE);
	struct vhost_user_vring_state st = { .index = 0, .num = 256 };
	struct vhost_user_vring_addr a = { .index = 0 };
	__u64 ack;

	fe_handshake(fd, good_features());
	/* addresses before any memory table */
	a.desc = MEM_UVA, a.avail = MEM_UVA + 4096, a.used = MEM_UVA + 8192;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack, "no memory yet");
	EXPECT(fe_mem_table(fd, mfd, MEM_SIZE, &ack) == 0 && ack == 0, "mem table");
	fe_send(fd, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0);
	/* used ring running past the end of memory */
	a.used = MEM_UVA + MEM_SIZE - 64;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack, "used past the end");
	/* wholly outside, and wrapping */
	a.used = 0x1000, a.desc = ~0ull - 15;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack, "outside");
	/* misaligned descriptor table */
	a.desc = MEM_UVA + 8, a.used = MEM_UVA + 8192;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack, "misaligned");
	EXPECT(!dev->vrings[0].addr_set, "a refused address was kept");
	a.desc = MEM_UVA;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack == 0, "good addresses");
	/* GET_VRING_BASE stops the ring and answers with its position */
	st.num = 77;
	fe_send(fd, VHOST_USER_SET_VRING_BASE, 0, &st, 8, NULL, 0);
	fe_send(fd, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0);
	memset(&st, 0, sizeof(st));
	EXPECT(fe_recv(fd, VHOST_USER_GET_VRING_BASE, &st, 8) == 8 && st.num == 77, "base %u", st.num);
	EXPECT(!dev->vrings[0].ready, "stopped");
	close(mfd);
	fe_close(fd);
	EXPECT(dev->mem.nregions == 0, "memory unmapped on disconnect");
}

/* SET_VRING_NUM with a reply: 0 accepted */
static __u64 vring_num(int fd, __u32 num)
{
	struct vhost_user_vring_state st = { .index = 0, .num = num };
	__u64 ack = 1;

	fe_send(fd, VHOST_USER_SET_VRING_NUM, VHOST_USER_NEED_REPLY_MASK, &st, 8, NULL, 0);
	if (fe_recv(fd, VHOST_USER_SET_VRING_NUM, &ack, 8) != 8)
		return ~0ull;
	return ack;
}

/* GET_VRING_BASE's answer after SET_VRING_BASE 'num' */
static __u32 vring_base(int fd, __u32 num)
{
	struct vhost_user_vring_state st = { .index = 0, .num = num };

	fe_send(fd, VHOST_USER_SET_VRING_BASE, 0, &st, 8, NULL, 0);
	fe_send(fd, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0);
	memset(&st, 0, sizeof(st));
	if (fe_recv(fd, VHOST_USER_GET_VRING_BASE, &st, 8) != 8)
		return 0xdead;
	return st.num;
}

/*
 * Packed rings (VIRTIO_F_RING_PACKED): any queue size, 4-byte event areas,
 * and both positions in VRING_BASE (vhost-user.rst: bits 0-15 avail,
 * 16-31 used, each index | wrap counter << 15).
 */
static void test_packed_rings(void)
{
	int fd = fe_connect(), mfd = test_memfd(MEM_SIZE);
	struct vhost_user_vring_addr a = { .index = 0 };
	__u64 ack;

	EXPECT(fe_handshake(fd, good_features() | BIT(VIRTIO_F_RING_PACKED)) == 0,
	       "packed offered and taken");
	EXPECT(fe_mem_table(fd, mfd, MEM_SIZE, &ack) == 0 && ack == 0, "mem table");
	EXPECT(vring_num(fd, 200) == 0, "size 200: any size (2.8)");
	EXPECT(vring_num(fd, 32769) != 0, "size 32769");
	/* the driver area is 4 bytes, aligned 4: the last 4 bytes of memory */
	a.desc = MEM_UVA, a.avail = MEM_UVA + MEM_SIZE - 4, a.used = MEM_UVA + 4096;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack == 0,
	       "event areas of 4 bytes");
	a.avail = MEM_UVA + 4098;
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && ack, "misaligned area");
	/* QEMU: both halves; DPDK's virtio-user: the avail half of a new ring */
	EXPECT(vring_base(fd, 0x80008000u) == 0x80008000u, "new ring");
	EXPECT(vring_base(fd, 0x8000) == 0x80008000u, "avail half only: used = avail");
	EXPECT(vring_base(fd, 0x80030005u) == 0x80030005u, "avail 5 (lap 0), used 3 (lap 1)");
	fe_close(fd);

	/* split rings keep their rules */
	fd = fe_connect();
	EXPECT(fe_handshake(fd, good_features()) == 0, "split");
	EXPECT(fe_mem_table(fd, mfd, MEM_SIZE, &ack) == 0 && ack == 0, "mem table");
	EXPECT(vring_num(fd, 200) != 0, "split: size 200 refused");
	EXPECT(vring_num(fd, 256) == 0, "split: 256");
	EXPECT(vring_base(fd, 77) == 77, "split: 16 bits");
	close(mfd);
	fe_close(fd);
}

/* A kick on a ring that was never set up, with the worker running. */
static void test_kick_before_setup(void)
{
	struct vnet_sim_opts o = { .cpu = -1 };
	struct vnet_sim *sim = NULL;
	int fd = fe_connect(), kfd = eventfd(0, 0);
	__u64 v = 1, ack;

	EXPECT(vnet_sim_start(dev, &o, &sim) == 0, "worker");
	fe_handshake(fd, good_features());
	v = 1;	/* ring 1: no num, no addresses, no memory */
	fe_send(fd, VHOST_USER_SET_VRING_KICK, VHOST_USER_NEED_REPLY_MASK, &v, 8, &kfd, 1);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_KICK, &ack, 8) == 8 && ack == 0, "kick fd");
	v = 1;
	EXPECT(write(kfd, &v, 8) == 8, "kick");
	v = 1;
	fe_send(fd, VHOST_USER_SET_VRING_ENABLE, VHOST_USER_NEED_REPLY_MASK,
		&(struct vhost_user_vring_state){ 1, 1 }, 8, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ENABLE, &ack, 8) == 8 && ack == 0, "enable");
	usleep(20000);
	EXPECT(!dev->vrings[1].ready, "a ring without addresses is ready");
	EXPECT(fe_alive(fd), "connection alive");
	fe_close(fd);
	vnet_sim_stop(sim);
	close(kfd);
}

/* Config change (link down) reaches the front-end on the back-end channel. */
static void test_config_change_channel(void)
{
	int fd = fe_connect(), sp[2];
	struct vhost_user_hdr hdr;
	__u64 ack;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	fe_handshake(fd, good_features() | BIT(VIRTIO_NET_F_STATUS));
	fe_send(fd, VHOST_USER_SET_BACKEND_REQ_FD, VHOST_USER_NEED_REPLY_MASK, NULL, 0, &sp[1], 1);
	EXPECT(fe_recv(fd, VHOST_USER_SET_BACKEND_REQ_FD, &ack, 8) == 8 && ack == 0, "channel");
	close(sp[1]);
	vnet_netdev_set_link(dev, false);
	EXPECT(recv(sp[0], &hdr, sizeof(hdr), MSG_DONTWAIT) == sizeof(hdr) &&
	       hdr.request == VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, "config change message");
	vnet_netdev_set_link(dev, true);
	fe_close(fd);
	close(sp[0]);
}

/*
 * QEMU asks for the protocol features before SET_OWNER, once per queue
 * pair's vhost device, and warns about CONFIG, which its virtio-net cannot
 * use: it is not offered to it, on any ask. Owner-first front-ends get it.
 */
static void test_protocol_offer(void)
{
	const __u64 cfg = BIT(VHOST_USER_PROTOCOL_F_CONFIG);
	int fd = fe_connect();
	__u64 p1, p2;

	EXPECT(fe_get_u64(fd, VHOST_USER_GET_FEATURES) != ~0ull, "features");
	p1 = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	EXPECT(p1 != ~0ull && !(p1 & cfg), "QEMU order: CONFIG offered (%llx)",
	       (unsigned long long)p1);
	EXPECT(p1 & BIT(VHOST_USER_PROTOCOL_F_MQ), "QEMU order: no MQ");
	EXPECT(fe_send(fd, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0) == 0, "owner");
	/* the second queue pair's vhost device asks again */
	p2 = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	EXPECT(p2 == p1, "second ask differs: %llx", (unsigned long long)p2);
	/* no REPLY_ACK yet: a refusal closes the connection */
	EXPECT(fe_u64(fd, VHOST_USER_SET_PROTOCOL_FEATURES, p1 | cfg, false, NULL) == 0,
	       "send");
	EXPECT(fe_get_u64(fd, VHOST_USER_GET_FEATURES) == ~0ull,
	       "CONFIG accepted without being offered");
	fe_close(fd);

	fd = fe_connect();
	EXPECT(fe_send(fd, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0) == 0, "owner");
	p1 = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	EXPECT(p1 != ~0ull && (p1 & cfg), "owner first: no CONFIG");
	fe_close(fd);
}

/* mem_reg FD REQUEST GPA SIZE OFFSET MFD: one ADD/REM_MEM_REG, its ack */
static __u64 mem_reg(int fd, __u32 req, __u64 gpa, __u64 size, __u64 off, int mfd)
{
	struct vhost_user_mem_single r = { 0 };
	__u64 ack = ~0ull;

	r.region = (struct vhost_user_mem_region){ gpa, size, MEM_UVA + gpa, off };
	fe_send(fd, req, VHOST_USER_NEED_REPLY_MASK, &r, sizeof(r), &mfd, mfd >= 0);
	if (fe_recv(fd, req, &ack, 8) != 8)
		return ~0ull;
	return ack;
}

/*
 * ADD_MEM_REG / REM_MEM_REG with CONFIGURE_MEM_SLOTS, as QEMU 7.2 sends
 * them for a guest with two queue pairs: one vhost device per pair on the
 * same socket, each adding the same two RAM regions (one memfd: below and
 * above the 640 KiB hole) and removing them again. Repeats are references;
 * a region that truly overlaps another is refused.
 */
static void test_mem_slots(void)
{
	const __u64 lo = 0xa0000, hi = 0xc0000, hi_len = MEM_SIZE - 0xc0000;
	int fd = fe_connect(), mfd = test_memfd(MEM_SIZE);
	unsigned int pair;

	fe_handshake(fd, good_features());
	EXPECT(fe_get_u64(fd, VHOST_USER_GET_MAX_MEM_SLOTS) >= 8, "slots");
	for (pair = 0; pair < 2; pair++) {
		EXPECT(mem_reg(fd, VHOST_USER_ADD_MEM_REG, 0, lo, 0, mfd) == 0,
		       "pair %u: add low RAM", pair);
		EXPECT(mem_reg(fd, VHOST_USER_ADD_MEM_REG, hi, hi_len, hi, mfd) == 0,
		       "pair %u: add high RAM", pair);
		EXPECT(dev->mem.nregions == 2, "pair %u: regions %u", pair, dev->mem.nregions);
	}
	/* inside the low region, or the same start with another size: overlaps */
	EXPECT(mem_reg(fd, VHOST_USER_ADD_MEM_REG, 0x1000, 0x1000, 0x1000, mfd) != 0,
	       "overlap inside accepted");
	EXPECT(mem_reg(fd, VHOST_USER_ADD_MEM_REG, 0, lo / 2, 0, mfd) != 0,
	       "overlap, same start accepted");
	EXPECT(dev->mem.nregions == 2, "regions %u", dev->mem.nregions);
	/* the first pair's device stops: the second still uses the memory */
	EXPECT(mem_reg(fd, VHOST_USER_REM_MEM_REG, 0, lo, 0, -1) == 0, "rem low");
	EXPECT(mem_reg(fd, VHOST_USER_REM_MEM_REG, hi, hi_len, hi, -1) == 0, "rem high");
	EXPECT(dev->mem.nregions == 2, "regions after one pair %u", dev->mem.nregions);
	EXPECT(vnet_gpa_to_hva(&dev->mem, hi, &(__u64){ 64 }, VNET_MEM_READ),
	       "high RAM unmapped while still referenced");
	EXPECT(mem_reg(fd, VHOST_USER_REM_MEM_REG, 0, lo, 0, -1) == 0, "rem low again");
	EXPECT(mem_reg(fd, VHOST_USER_REM_MEM_REG, hi, hi_len, hi, -1) == 0, "rem high again");
	EXPECT(dev->mem.nregions == 0, "regions %u", dev->mem.nregions);
	EXPECT(mem_reg(fd, VHOST_USER_REM_MEM_REG, 0, lo, 0, -1) != 0, "rem of nothing");
	EXPECT(fe_alive(fd), "connection alive");
	close(mfd);
	fe_close(fd);
}

/*
 * A device that never had memory: its first disconnect must not close fd 0
 * (regions were zero-filled, fd 0 looked like a region's memfd; in vnetd
 * fd 0 is soon someone else's socket).
 */
static void test_fresh_disconnect_keeps_fd0(void)
{
	struct vnet_netdev_params p = { .name = "vu1", .mac = { 0x02, 0, 0, 0, 0, 0x02 },
					.max_vqp = 1 };
	struct vnet_netdev *d;
	struct vnet_vu *v;

	if (fcntl(0, F_GETFD) < 0)
		EXPECT(open("/dev/null", O_RDONLY) == 0, "cannot open fd 0");
	EXPECT(vnet_netdev_create(&p, &d) == 0 && vnet_vu_create_detached(d, &v) == 0,
	       "device");
	vnet_netdev_lock_ctl(d);
	vnet_vu_disconnect_state(v);
	pthread_mutex_unlock(&d->lock);
	EXPECT(fcntl(0, F_GETFD) >= 0, "fd 0 was closed");
	vnet_vu_destroy(v);
	vnet_netdev_destroy(d);
	EXPECT(fcntl(0, F_GETFD) >= 0, "fd 0 was closed by destroy");
}

/*
 * A memory table of one region leaves the other slots empty: they must
 * hold no fd, or the disconnect closes fd 0 (in vnetd, soon a socket of
 * someone else's).
 */
static void test_table_disconnect_keeps_fd0(void)
{
	int fd, mfd = test_memfd(MEM_SIZE);
	__u64 ack = 1;

	if (fcntl(0, F_GETFD) < 0)
		EXPECT(open("/dev/null", O_RDONLY) == 0, "cannot open fd 0");
	fd = fe_connect();
	EXPECT(fe_handshake(fd, good_features()) == 0, "handshake");
	EXPECT(fe_mem_table(fd, mfd, MEM_SIZE, &ack) == 0 && ack == 0, "mem table");
	close(mfd);
	fe_close(fd);
	EXPECT(!vu_open() && dev->mem.nregions == 0, "disconnected");
	EXPECT(fcntl(0, F_GETFD) >= 0, "fd 0 was closed with the memory table");
}

/* 1,000 front-ends, each with memory, eventfds and a half-set-up ring */
static void test_connect_cycles(void)
{
	int fds0 = test_count_fds(), maps0 = count_maps(), i, bad = 0;

	for (i = 0; i < 1000; i++) {
		int fd = fe_connect(), mfd = test_memfd(MEM_SIZE), kfd = eventfd(0, 0);
		__u64 ack = 1, v = 0;

		if (fd < 0 || fe_handshake(fd, good_features()) ||
		    fe_mem_table(fd, mfd, MEM_SIZE, &ack) || ack)
			bad++;
		fe_send(fd, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &kfd, 1);
		fe_send(fd, VHOST_USER_SET_VRING_CALL, 0, &v, 8, &kfd, 1);
		close(mfd);
		close(kfd);
		if (i % 2)		/* half end with a bad message */
			fe_send(fd, 99, 0, NULL, 0, NULL, 0);
		fe_close(fd);
	}
	EXPECT(bad == 0, "%d cycles failed", bad);
	EXPECT(test_count_fds() == fds0, "fds %d -> %d", fds0, test_count_fds());
	EXPECT(count_maps() == maps0, "mappings %d -> %d", maps0, count_maps());
}

/*
 * A front-end that shrinks its memory file after SET_MEM_TABLE would make
 * the back-end fault (SIGBUS) on its next access: sealable memory is sealed.
 */
static void test_memory_sealed_against_shrink(void)
{
	int fd = fe_connect();
	int mfd = memfd_create("guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	__u64 ack = 1;

	EXPECT(fd >= 0 && vu_open() && mfd >= 0, "connect");
	EXPECT(mfd >= 0 && ftruncate(mfd, 1 << 20) == 0, "memfd");
	EXPECT(fe_handshake(fd, good_features()) == 0, "handshake");
	EXPECT(fe_mem_table(fd, mfd, 1 << 20, &ack) == 0 && ack == 0, "mem table");
	EXPECT(fcntl(mfd, F_GET_SEALS) & F_SEAL_SHRINK, "not sealed: seals 0x%x",
	       fcntl(mfd, F_GET_SEALS));
	EXPECT(ftruncate(mfd, 4096) < 0 && errno == EPERM, "front-end could shrink its memory");
	EXPECT(ftruncate(mfd, 2 << 20) == 0, "growing stays allowed");
	close(mfd);
	fe_close(fd);
}

/* SET_LOG_BASE with the log's fd (-1: none); its status, ~0 when unanswered */
static __u64 log_base(int fd, int lfd, __u64 size, __u64 off)
{
	struct vhost_user_log l = { .mmap_size = size, .mmap_offset = off };
	__u64 ack = ~0ull;

	if (fe_send(fd, VHOST_USER_SET_LOG_BASE, 0, &l, sizeof(l), &lfd, lfd >= 0))
		return ~0ull;
	return fe_recv(fd, VHOST_USER_SET_LOG_BASE, &ack, 8) == 8 ? ack : ~0ull;
}

/*
 * Live migration as QEMU drives it: LOG_ALL and LOG_SHMFD offered only to
 * a device whose worker logs; SET_LOG_BASE always answered (mapped, or
 * refused with the current log kept), again with a new fd when QEMU
 * resizes; LOG_ALL set and cleared on a running device; VHOST_VRING_F_LOG
 * and log_guest_addr reach the ring; the log goes with the front-end. A
 * ring's position survives SET_STATUS(0), which QEMU 7.2 sends before
 * GET_VRING_BASE. Without LOG_SHMFD, SET_LOG_BASE cannot be answered: the
 * connection ends.
 */
static void test_migration(void)
{
	const __u64 shmfd = BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD), log_all = BIT(VHOST_F_LOG_ALL);
	struct vhost_user_vring_state st = { .index = 0, .num = 256 };
	struct vhost_user_vring_addr a = {
		.index = 0, .flags = 1u << VHOST_VRING_F_LOG, .desc = MEM_UVA,
		.avail = MEM_UVA + 4096, .used = MEM_UVA + 8192, .log = 0x2000,
	};
	int fds0 = test_count_fds(), maps0 = count_maps_of(true);
	int mfd = test_memfd(MEM_SIZE), l1 = test_memfd(4096), l2 = test_memfd(8192);
	struct vnet_sim_opts o = { .cpu = -1 };
	struct vnet_sim *sim = NULL;
	__u64 f, p, ack = 1;
	int fd, maps;
	__u8 *bits;

	fd = fe_connect();
	f = fe_get_u64(fd, VHOST_USER_GET_FEATURES);
	p = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	EXPECT(!(f & log_all) && !(p & shmfd), "no worker that logs, yet offered");
	fe_close(fd);

	EXPECT(vnet_sim_start(dev, &o, &sim) == 0, "worker");
	fd = fe_connect();
	EXPECT(fe_send(fd, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0) == 0, "owner");
	f = fe_get_u64(fd, VHOST_USER_GET_FEATURES);
	p = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	EXPECT((f & log_all) && (p & shmfd), "features %llx protocol %llx",
	       (unsigned long long)f, (unsigned long long)p);
	EXPECT(fe_u64(fd, VHOST_USER_SET_PROTOCOL_FEATURES, p, false, NULL) == 0, "protocol");
	EXPECT(fe_u64(fd, VHOST_USER_SET_FEATURES, good_features(), true, &ack) == 0 && !ack,
	       "features");
	EXPECT(fe_u64(fd, VHOST_USER_SET_STATUS, 0xf, true, &ack) == 0 && !ack, "DRIVER_OK");
	EXPECT(fe_mem_table(fd, mfd, MEM_SIZE, &ack) == 0 && !ack, "mem table");

	/* QEMU's order: the log, LOG_ALL, each ring's address with F_LOG */
	EXPECT(log_base(fd, l1, 4096, 0) == 0 && dev->log.bitmap && dev->log.size == 4096,
	       "log base");
	EXPECT(fe_u64(fd, VHOST_USER_SET_FEATURES, good_features() | log_all, true, &ack) == 0 &&
	       !ack && vnet_netdev_logging(dev), "LOG_ALL on a running device");
	EXPECT(vnet_features_u64(&dev->driver_set) == (good_features() &
	       ~BIT(VHOST_USER_F_PROTOCOL_FEATURES)), "LOG_ALL became a virtio feature");
	fe_send(fd, VHOST_USER_SET_VRING_NUM, 0, &st, 8, NULL, 0);
	fe_send(fd, VHOST_USER_SET_VRING_ADDR, VHOST_USER_NEED_REPLY_MASK, &a, sizeof(a), NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_SET_VRING_ADDR, &ack, 8) == 8 && !ack, "ring address");
	EXPECT((dev->vrings[0].addr_flags & VNET_VRING_F_LOG) && dev->vrings[0].log_addr == 0x2000,
	       "VHOST_VRING_F_LOG / log_guest_addr not kept");

	/* resized: a new fd (the log at an offset), the old mapping replaced */
	maps = count_maps_of(true);
	EXPECT(log_base(fd, l2, 4096, 4096) == 0 && vnet_netdev_logging(dev), "new log");
	EXPECT(count_maps_of(true) == maps, "memfd mappings %d -> %d", maps, count_maps_of(true));
	/* refused: answered, nothing changes */
	bits = dev->log.bitmap;
	EXPECT(log_base(fd, l1, 0, 0) && log_base(fd, l1, 8192, 0) &&
	       log_base(fd, l1, 4096, 1) && log_base(fd, l1, 16, ~0ull - 8) &&
	       log_base(fd, l1, 1ull << 40, 0), "bad sizes / offsets accepted");
	EXPECT(log_base(fd, -1, 4096, 0) != 0, "SET_LOG_BASE without its fd accepted");
	EXPECT(dev->log.bitmap == bits && count_maps_of(true) == maps && fe_alive(fd),
	       "a refused log changed the current one");
	/* done or cancelled: LOG_ALL off, the virtio features untouched */
	EXPECT(fe_u64(fd, VHOST_USER_SET_FEATURES, good_features(), true, &ack) == 0 && !ack &&
	       !vnet_netdev_logging(dev), "LOG_ALL off");
	/* QEMU 7.2 stops a device (switchover, pause) with SET_STATUS(0),
	 * then GET_VRING_BASE: the position survives the reset */
	st.num = 77;
	fe_send(fd, VHOST_USER_SET_VRING_BASE, 0, &st, 8, NULL, 0);
	EXPECT(fe_u64(fd, VHOST_USER_SET_STATUS, 0, true, &ack) == 0 && !ack, "status 0");
	fe_send(fd, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0);
	memset(&st, 0, sizeof(st));
	EXPECT(fe_recv(fd, VHOST_USER_GET_VRING_BASE, &st, 8) == 8 && st.num == 77,
	       "GET_VRING_BASE after SET_STATUS(0): %u", st.num);
	fe_close(fd);
	EXPECT(!dev->log.bitmap, "the log outlived its front-end");

	/* without LOG_SHMFD a SET_LOG_BASE cannot be answered: closed */
	fd = fe_connect();
	EXPECT(fe_send(fd, VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0) == 0, "owner");
	p = fe_get_u64(fd, VHOST_USER_GET_PROTOCOL_FEATURES);
	EXPECT(fe_u64(fd, VHOST_USER_SET_PROTOCOL_FEATURES, p & ~shmfd, false, NULL) == 0, "proto");
	/* a new front-end starts from 0 */
	st.index = 0;
	fe_send(fd, VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0);
	EXPECT(fe_recv(fd, VHOST_USER_GET_VRING_BASE, &st, 8) == 8 && st.num == 0,
	       "the last front-end's position: %u", st.num);
	EXPECT(log_base(fd, l1, 4096, 0) == ~0ull && !fe_alive(fd), "answered without LOG_SHMFD");
	fe_close(fd);
	vnet_sim_stop(sim);
	close(mfd);
	close(l1);
	close(l2);
	EXPECT(test_count_fds() == fds0, "fds %d -> %d", fds0, test_count_fds());
	EXPECT(count_maps_of(true) == maps0, "memfd mappings %d -> %d", maps0, count_maps_of(true));
}

int main(void)
{
	struct vnet_netdev_params p = {
		.name = "vu0", .mac = { 0x02, 0, 0, 0, 0, 0x01 }, .max_vqp = 2, .mtu = 1500,
	};

	snprintf(sock_path, sizeof(sock_path), "/tmp/vnet-test-vu-%d.sock", getpid());
	if (vnet_netdev_create(&p, &dev) || vnet_vu_create(dev, sock_path, false, &vu)) {
		printf("cannot create the device\n");
		return 1;
	}
	RUN(test_handshake_and_config);
	RUN(test_bad_features);
	RUN(test_truncated_and_oversized);
	RUN(test_fd_counts_and_indexes);
	RUN(test_ring_addresses);
	RUN(test_packed_rings);
	RUN(test_kick_before_setup);
	RUN(test_config_change_channel);
	RUN(test_mem_slots);
	RUN(test_protocol_offer);
	RUN(test_connect_cycles);
	RUN(test_fresh_disconnect_keeps_fd0);
	RUN(test_table_disconnect_keeps_fd0);
	RUN(test_memory_sealed_against_shrink);
	RUN(test_migration);
	vnet_vu_destroy(vu);
	vnet_netdev_destroy(dev);
	return test_summary();
}
