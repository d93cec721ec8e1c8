// SPDX-License-Identifier: MIT
/*
 * The device model's ring and memory setters (include/vnet/device.h, "ring
 * state", "guest memory"), called as a transport would: bad ring indexes,
 * ring sizes and addresses (split and packed rings) are refused and change
 * nothing, fds are replaced and closed, 'ready' follows
 * num/addresses/start/enable, memory regions are mapped, refcounted when
 * repeated (QEMU's vhost device per queue pair), refused when they
 * overlap, replaced all or nothing and invalidated by range; and no fd is
 * left behind on any path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vnet/device.h"
#include "test.h"

#define MEM_SIZE	(1u << 20)
#define MEM_GPA		0x100000ull
#define MEM_UVA		0x7f0000000000ull

static int rings_changed;

static void on_rings_changed(struct vnet_netdev *dev, void *opaque)
{
	rings_changed++;
}

static const struct vnet_netdev_ops worker_ops = { .rings_changed = on_rings_changed };

static struct vnet_netdev *make_dev(void)
{
	struct vnet_netdev_params p = {
		.name = "s0", .mac = { 0x02, 0, 0, 0, 0, 1 }, .max_vqp = 2, .mtu = 1500,
	};
	struct vnet_netdev *dev = NULL;

	if (vnet_netdev_create(&p, &dev))
		return NULL;
	vnet_netdev_set_worker_ops(dev, &worker_ops, NULL);
	return dev;
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static const struct vnet_mem_desc one_mb = {
	.gpa = MEM_GPA, .size = MEM_SIZE, .uaddr = MEM_UVA, .mmap_offset = 0,
};

/* Every setter refuses a ring the device does not have, and takes the fd. */
static void test_bad_index(void)
{
	struct vnet_netdev *dev = make_dev();
	struct vnet_vring_addr a = { 0 };
	struct vnet_vring_base b = { .last_avail_idx = 7 };
	unsigned int bad[] = { 5, 200, ~0u };	/* 2 pairs + cvq = 5 rings */
	int fd;

	EXPECT(dev && dev->nvrings == 5, "device");
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned int idx = bad[i];

		EXPECT(vnet_netdev_vring_set_num(dev, idx, 256) == -EINVAL, "num %u", idx);
		EXPECT(vnet_netdev_vring_set_addr(dev, idx, &a) == -EINVAL, "addr %u", idx);
		EXPECT(vnet_netdev_vring_set_base(dev, idx, &b) == -EINVAL, "set base %u", idx);
		EXPECT(vnet_netdev_vring_get_base(dev, idx, &b) == -EINVAL, "get base %u", idx);
		EXPECT(vnet_netdev_vring_start(dev, idx) == -EINVAL, "start %u", idx);
		EXPECT(vnet_netdev_vring_stop(dev, idx) == -EINVAL, "stop %u", idx);
		EXPECT(vnet_netdev_vring_enable(dev, idx, true) == -EINVAL, "enable %u", idx);
		fd = eventfd(0, EFD_CLOEXEC);
		EXPECT(vnet_netdev_vring_set_fd(dev, idx, VNET_VRING_CALL, fd) == -EINVAL,
		       "call fd %u", idx);
		EXPECT(!fd_open(fd), "the fd of a refused ring %u is still open", idx);
	}
	/* not one of the three fds */
	fd = eventfd(0, EFD_CLOEXEC);
	EXPECT(vnet_netdev_vring_set_fd(dev, 0, (enum vnet_vring_fd)3, fd) == -EINVAL, "fd kind");
	EXPECT(!fd_open(fd), "the fd of a refused kind is still open");
	vnet_netdev_destroy(dev);
}

static void test_num(void)
{
	struct vnet_netdev *dev = make_dev();
	__u32 gen = dev->vrings[1].gen;

	/* spec 2.7: a power of two, 1 .. 32768 */
	EXPECT(vnet_netdev_vring_set_num(dev, 1, 0) == -EINVAL, "0");
	EXPECT(vnet_netdev_vring_set_num(dev, 1, 100) == -EINVAL, "100");
	EXPECT(vnet_netdev_vring_set_num(dev, 1, 65536) == -EINVAL, "65536");
	EXPECT(dev->vrings[1].num == 0 && dev->vrings[1].gen == gen, "a refusal changed it");
	EXPECT(vnet_netdev_vring_set_num(dev, 1, 32768) == 0 && dev->vrings[1].num == 32768,
	       "32768");
	EXPECT(vnet_netdev_vring_set_num(dev, 1, 1) == 0 && dev->vrings[1].num == 1, "1");
	EXPECT(dev->vrings[1].gen != gen, "gen did not move");
	vnet_netdev_destroy(dev);
}

static void test_addresses(void)
{
	struct vnet_netdev *dev = make_dev();
	struct vnet_vring_addr a = {
		.desc = MEM_GPA, .avail = MEM_GPA + 4096, .used = MEM_GPA + 8192,
	};
	__u32 gen;

	/* no memory yet */
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EFAULT, "before memory");
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, test_memfd(MEM_SIZE), VNET_MEM_UVA) == 0,
	       "memory");
	EXPECT(vnet_netdev_vring_set_num(dev, 0, 256) == 0, "num");
	gen = dev->vrings[0].gen;
	/* the used ring runs past the end of memory */
	a.used = MEM_GPA + MEM_SIZE - 64;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EFAULT, "used past the end");
	/* wholly outside, and wrapping */
	a.used = 0x1000, a.desc = ~0ull - 15;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EFAULT, "outside");
	/* spec 2.7.2 alignment */
	a.desc = MEM_GPA + 8, a.used = MEM_GPA + 8192;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EINVAL, "descriptors misaligned");
	a.desc = MEM_GPA, a.avail = MEM_GPA + 4097;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EINVAL, "avail misaligned");
	a.avail = MEM_GPA + 4096, a.used = MEM_GPA + 8194;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EINVAL, "used misaligned");
	EXPECT(!dev->vrings[0].addr_set && dev->vrings[0].gen == gen, "a refusal changed it");
	/* guest physical addresses, then the same ring by front-end address */
	a.used = MEM_GPA + 8192;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == 0, "good GPAs");
	EXPECT(dev->vrings[0].addr_set && !dev->vrings[0].uva &&
	       dev->vrings[0].used == MEM_GPA + 8192, "kept");
	a.uva = true;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EFAULT, "GPAs taken as UVAs");
	a.desc += MEM_UVA - MEM_GPA, a.avail += MEM_UVA - MEM_GPA, a.used += MEM_UVA - MEM_GPA;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == 0 && dev->vrings[0].uva, "good UVAs");
	vnet_netdev_destroy(dev);
}

static void test_base(void)
{
	struct vnet_netdev *dev = make_dev();
	struct vnet_vring_base b = { .last_avail_idx = 0xfffe };

	EXPECT(vnet_netdev_vring_set_base(dev, 3, &b) == 0, "set");
	memset(&b, 0, sizeof(b));
	EXPECT(vnet_netdev_vring_get_base(dev, 3, &b) == 0 && b.last_avail_idx == 0xfffe,
	       "get %u", b.last_avail_idx);
	/* where the worker stopped is what GET_VRING_BASE answers */
	dev->vrings[3].last_avail_idx = 17;
	EXPECT(vnet_netdev_vring_get_base(dev, 3, &b) == 0 && b.last_avail_idx == 17, "worker's");
	vnet_netdev_destroy(dev);
}

/*
 * Packed rings (VIRTIO_F_RING_PACKED negotiated, spec 2.8): any size, the
 * driver and device areas 4 bytes aligned 4, both positions kept.
 */
static void test_packed(void)
{
	struct vnet_features f = vnet_features_from_u64((1ull << VIRTIO_F_VERSION_1) |
							(1ull << VIRTIO_F_RING_PACKED));
	struct vnet_netdev *dev = make_dev();
	struct vnet_vring_addr a = { .desc = MEM_GPA, .avail = MEM_GPA + MEM_SIZE - 4,
				     .used = MEM_GPA + 4096 };
	struct vnet_vring_base b = { .last_avail_idx = 5, .last_used_idx = 0x8003 };

	EXPECT(vnet_netdev_vring_set_num(dev, 0, 200) == -EINVAL, "split: 200");
	EXPECT(vnet_netdev_set_driver_features(dev, &f) == 0 && vnet_netdev_packed(dev),
	       "packed negotiated");
	EXPECT(vnet_netdev_vring_set_num(dev, 0, 200) == 0 && dev->vrings[0].num == 200,
	       "packed: 200");
	EXPECT(vnet_netdev_vring_set_num(dev, 0, 32769) == -EINVAL, "32769");
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, test_memfd(MEM_SIZE), VNET_MEM_UVA) == 0,
	       "memory");
	/* the driver area in the last 4 bytes: no room for a split avail ring */
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == 0, "4-byte areas");
	a.avail = MEM_GPA + 4098;
	EXPECT(vnet_netdev_vring_set_addr(dev, 0, &a) == -EINVAL, "driver area misaligned");
	EXPECT(vnet_netdev_vring_set_base(dev, 0, &b) == 0, "set base");
	memset(&b, 0, sizeof(b));
	EXPECT(vnet_netdev_vring_get_base(dev, 0, &b) == 0 && b.last_avail_idx == 5 &&
	       b.last_used_idx == 0x8003, "both positions %#x %#x", b.last_avail_idx,
	       b.last_used_idx);
	vnet_netdev_destroy(dev);
}

/* A new fd replaces the old one, which is closed; so does -1, stop, reset. */
static void test_fds_replaced(void)
{
	int before = test_count_fds();
	struct vnet_netdev *dev = make_dev();
	int k1 = eventfd(0, EFD_CLOEXEC), k2 = eventfd(0, EFD_CLOEXEC);
	int c1 = eventfd(0, EFD_CLOEXEC), c2 = eventfd(0, EFD_CLOEXEC);
	int e1 = eventfd(0, EFD_CLOEXEC);

	EXPECT(vnet_netdev_vring_set_fd(dev, 1, VNET_VRING_KICK, k1) == 0, "kick 1");
	EXPECT(vnet_netdev_vring_set_fd(dev, 1, VNET_VRING_KICK, k2) == 0, "kick 2");
	EXPECT(!fd_open(k1) && dev->vrings[1].kick_fd == k2, "kick 1 not closed");
	EXPECT(vnet_netdev_vring_set_fd(dev, 1, VNET_VRING_CALL, c1) == 0, "call 1");
	EXPECT(vnet_netdev_vring_set_fd(dev, 1, VNET_VRING_CALL, -1) == 0, "no call fd");
	EXPECT(!fd_open(c1) && dev->vrings[1].call_fd == -1, "call 1 not closed");
	EXPECT(vnet_netdev_vring_set_fd(dev, 1, VNET_VRING_CALL, c2) == 0, "call 2");
	EXPECT(vnet_netdev_vring_set_fd(dev, 1, VNET_VRING_ERR, e1) == 0, "err");
	EXPECT(dev->vrings[1].call_fd == c2 && dev->vrings[1].err_fd == e1 &&
	       dev->vrings[1].kick_fd == k2, "the three fds");
	/* stopping the ring (GET_VRING_BASE) drops its kick only */
	EXPECT(vnet_netdev_vring_stop(dev, 1) == 0, "stop");
	EXPECT(!fd_open(k2) && dev->vrings[1].kick_fd == -1, "kick kept after stop");
	EXPECT(fd_open(c2) && fd_open(e1), "stop closed call/err");
	/* a reset forgets the rest */
	vnet_netdev_reset(dev);
	EXPECT(!fd_open(c2) && !fd_open(e1), "reset left call/err open");
	EXPECT(dev->vrings[1].call_fd == -1 && dev->vrings[1].err_fd == -1, "reset");
	vnet_netdev_destroy(dev);
	EXPECT(test_count_fds() == before, "fds %d -> %d", before, test_count_fds());
}

/* 'ready' needs num, addresses, a start and enable; each change moves gen. */
static void test_ready_and_enable(void)
{
	struct vnet_netdev *dev = make_dev();
	struct vnet_vring_addr a = {
		.desc = MEM_GPA, .avail = MEM_GPA + 4096, .used = MEM_GPA + 8192,
	};
	struct vnet_vring *vr = &dev->vrings[2];
	__u32 gen;
	int calls;

	vnet_netdev_mem_add(dev, &one_mb, test_memfd(MEM_SIZE), 0);
	EXPECT(vnet_netdev_vring_set_num(dev, 2, 256) == 0, "num");
	EXPECT(vnet_netdev_vring_set_addr(dev, 2, &a) == 0, "addr");
	EXPECT(vnet_netdev_vring_start(dev, 2) == 0 && !vr->ready, "ready while disabled");
	calls = rings_changed;
	gen = vr->gen;
	EXPECT(vnet_netdev_vring_enable(dev, 2, true) == 0 && vr->ready, "not ready");
	EXPECT(vr->gen != gen && rings_changed > calls, "worker not told");
	EXPECT(vnet_netdev_vring_enable(dev, 2, false) == 0 && !vr->ready && !vr->enabled,
	       "ready while disabled again");
	EXPECT(vnet_netdev_vring_enable(dev, 2, true) == 0 && vr->ready, "enabled again");
	EXPECT(vnet_netdev_vring_stop(dev, 2) == 0 && !vr->ready, "ready after stop");
	EXPECT(vnet_netdev_vring_start(dev, 2) == 0 && vr->ready, "started again");
	/* new memory: every ring is rebuilt before the worker runs it again */
	gen = vr->gen;
	vnet_netdev_mem_clear(dev);
	EXPECT(vr->gen != gen, "memory gone, ring not rebuilt");
	vnet_netdev_destroy(dev);
}

/*
 * The device's side of QEMU 7.2's ADD_MEM_REG/REM_MEM_REG with two queue
 * pairs (test_vhost_user.c has the messages): each pair's vhost device adds
 * and removes the same two regions. Repeats are references.
 */
static void test_regions_refcounted(void)
{
	const struct vnet_mem_desc lo = { .gpa = 0, .size = 0xa0000, .uaddr = MEM_UVA };
	const struct vnet_mem_desc hi = {
		.gpa = 0xc0000, .size = MEM_SIZE - 0xc0000, .uaddr = MEM_UVA + 0xc0000,
		.mmap_offset = 0xc0000,
	};
	struct vnet_mem_desc inside = { .gpa = 0x1000, .size = 0x1000, .uaddr = MEM_UVA + 0x1000,
					.mmap_offset = 0x1000 };
	/* elsewhere in guest memory, but at the low region's front-end address */
	const struct vnet_mem_desc other_uva = {
		.gpa = 0x200000, .size = 0x1000, .uaddr = MEM_UVA,
	};
	const unsigned int fl = VNET_MEM_UVA | VNET_MEM_FILE;
	int before = test_count_fds(), mfd = test_memfd(MEM_SIZE);
	struct vnet_netdev *dev = make_dev();

	for (int pair = 0; pair < 2; pair++) {
		EXPECT(vnet_netdev_mem_add(dev, &lo, dup(mfd), fl) == 0, "pair %d: low", pair);
		EXPECT(vnet_netdev_mem_add(dev, &hi, dup(mfd), fl) == 0, "pair %d: high", pair);
		EXPECT(dev->mem.nregions == 2, "pair %d: %u regions", pair, dev->mem.nregions);
	}
	EXPECT(vnet_netdev_mem_add(dev, &inside, dup(mfd), fl) == -EINVAL, "overlap inside");
	EXPECT(vnet_netdev_mem_add(dev, &other_uva, dup(mfd), fl) == -EINVAL, "UVA overlap");
	EXPECT(vnet_netdev_mem_remove(dev, &lo) == 0 && vnet_netdev_mem_remove(dev, &hi) == 0,
	       "first pair gone");
	EXPECT(dev->mem.nregions == 2 &&
	       vnet_gpa_to_hva(&dev->mem, hi.gpa, &(__u64){ 64 }, VNET_MEM_READ),
	       "unmapped while still referenced");
	EXPECT(vnet_netdev_mem_remove(dev, &lo) == 0 && vnet_netdev_mem_remove(dev, &hi) == 0,
	       "second pair gone");
	EXPECT(dev->mem.nregions == 0, "%u regions left", dev->mem.nregions);
	EXPECT(vnet_netdev_mem_remove(dev, &lo) == -EINVAL, "remove of nothing");
	close(mfd);
	vnet_netdev_destroy(dev);
	EXPECT(test_count_fds() == before, "fds %d -> %d", before, test_count_fds());
}

/* What an untrusted front-end's fd must be, and all-or-nothing tables. */
static void test_table_checks(void)
{
	int before = test_count_fds();
	struct vnet_netdev *dev = make_dev();
	struct vnet_mem_desc d[2] = { one_mb, one_mb };
	int fds[2];

	/* an eventfd is no memory; a memfd shorter than the region would
	 * SIGBUS us on access */
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, eventfd(0, EFD_CLOEXEC), VNET_MEM_FILE) ==
	       -EINVAL, "eventfd as memory");
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, test_memfd(4096), VNET_MEM_FILE) == -EINVAL,
	       "short memfd");
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, -1, VNET_MEM_FILE) < 0, "no fd");
	EXPECT(dev->mem.nregions == 0, "refused regions kept");
	/* a table whose second region overlaps the first: the old one stays */
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, test_memfd(MEM_SIZE), VNET_MEM_FILE) == 0, "old");
	fds[0] = test_memfd(MEM_SIZE), fds[1] = test_memfd(MEM_SIZE);
	d[0].gpa = 0x10000000;
	EXPECT(vnet_netdev_mem_set(dev, d, fds, 2, VNET_MEM_FILE) == 0, "two regions");
	EXPECT(dev->mem.nregions == 2 && dev->mem.regions[0].gpa == 0x10000000, "new table");
	fds[0] = test_memfd(MEM_SIZE), fds[1] = test_memfd(MEM_SIZE);
	d[0].gpa = MEM_GPA + 4096;
	EXPECT(vnet_netdev_mem_set(dev, d, fds, 2, VNET_MEM_FILE) == -EINVAL, "overlap");
	EXPECT(dev->mem.nregions == 2 && dev->mem.regions[0].gpa == 0x10000000,
	       "a refused table changed the old one");
	EXPECT(fds[0] == -1 && fds[1] == -1, "fds not taken");
	fds[0] = test_memfd(MEM_SIZE);
	EXPECT(vnet_netdev_mem_set(dev, d, fds, 0, 0) == -EINVAL, "empty table");
	close(fds[0]);
	/* a region that wraps */
	d[0].gpa = ~0ull - 4095;
	EXPECT(vnet_netdev_mem_add(dev, &d[0], test_memfd(MEM_SIZE), 0) == -EINVAL, "wraps");
	vnet_netdev_destroy(dev);
	EXPECT(test_count_fds() == before, "fds %d -> %d", before, test_count_fds());
}

/* An IOTLB invalidation drops what it overlaps, whatever the references. */
static void test_invalidate(void)
{
	struct vnet_netdev *dev = make_dev();
	struct vnet_mem_desc a = one_mb, b = one_mb, c = one_mb;

	b.gpa = MEM_GPA + 2 * MEM_SIZE;
	c.gpa = ~0ull - 2 * MEM_SIZE;	/* near the top of the space */
	vnet_netdev_mem_add(dev, &a, test_memfd(MEM_SIZE), 0);
	vnet_netdev_mem_add(dev, &a, test_memfd(MEM_SIZE), 0);	/* 2 references */
	vnet_netdev_mem_add(dev, &b, test_memfd(MEM_SIZE), 0);
	EXPECT(vnet_netdev_mem_add(dev, &c, test_memfd(MEM_SIZE), 0) == 0, "top of the space");
	EXPECT(dev->mem.nregions == 3, "%u regions", dev->mem.nregions);
	EXPECT(vnet_netdev_mem_invalidate(dev, 0, 0) == 0, "empty range");
	/* the byte before a and the one after it touch nothing */
	EXPECT(vnet_netdev_mem_invalidate(dev, MEM_GPA - 1, 1) == 0, "byte before");
	EXPECT(vnet_netdev_mem_invalidate(dev, MEM_GPA + MEM_SIZE, 1) == 0, "byte after");
	EXPECT(vnet_netdev_mem_invalidate(dev, MEM_GPA + MEM_SIZE - 1, 1) == 1, "last byte");
	EXPECT(dev->mem.nregions == 2 && !vnet_gpa_to_hva(&dev->mem, MEM_GPA, &(__u64){ 1 }, 0),
	       "a survived");
	/* up to the end of the address space, without wrapping */
	EXPECT(vnet_netdev_mem_invalidate(dev, b.gpa + 1, ~0ull) == 2, "to the end");
	EXPECT(dev->mem.nregions == 0, "%u regions", dev->mem.nregions);
	vnet_netdev_destroy(dev);
}

/* Unused slots of a table hold no fd: clearing it must not close fd 0. */
static void test_table_keeps_fd0(void)
{
	struct vnet_netdev *dev = make_dev();
	int fds[1] = { test_memfd(MEM_SIZE) };

	if (fcntl(0, F_GETFD) < 0)
		EXPECT(open("/dev/null", O_RDONLY) == 0, "cannot open fd 0");
	EXPECT(vnet_netdev_mem_set(dev, &one_mb, fds, 1, VNET_MEM_FILE) == 0, "table");
	vnet_netdev_mem_clear(dev);
	EXPECT(fd_open(0), "fd 0 closed with the table");
	vnet_netdev_destroy(dev);
}

/* An IOTLB entry's permission (VDUSE): mapped so, and the engine told. */
static void test_permissions(void)
{
	struct vnet_netdev *dev = make_dev();
	struct vnet_mem_desc b = one_mb;
	__u64 len = 64;

	b.gpa = MEM_GPA + 2 * MEM_SIZE;
	EXPECT(vnet_netdev_mem_add(dev, &one_mb, test_memfd(MEM_SIZE), VNET_MEM_NO_WRITE) == 0,
	       "read-only region");
	EXPECT(vnet_gpa_to_hva(&dev->mem, MEM_GPA, &len, VNET_MEM_READ), "read refused");
	len = 64;
	EXPECT(!vnet_gpa_to_hva(&dev->mem, MEM_GPA, &len, VNET_MEM_WRITE),
	       "write into a read-only mapping handed out");
	EXPECT(vnet_netdev_mem_add(dev, &b, test_memfd(MEM_SIZE),
				   VNET_MEM_NO_WRITE | VNET_MEM_NO_READ) == -EINVAL,
	       "a region without any access");
	len = 64;
	EXPECT(vnet_netdev_mem_add(dev, &b, test_memfd(MEM_SIZE), 0) == 0 &&
	       vnet_gpa_to_hva(&dev->mem, b.gpa, &len, VNET_MEM_WRITE), "read-write region");
	vnet_netdev_destroy(dev);
}

int main(void)
{
	RUN(test_bad_index);
	RUN(test_num);
	RUN(test_addresses);
	RUN(test_base);
	RUN(test_packed);
	RUN(test_fds_replaced);
	RUN(test_ready_and_enable);
	RUN(test_regions_refcounted);
	RUN(test_table_checks);
	RUN(test_invalidate);
	RUN(test_table_keeps_fd0);
	RUN(test_permissions);
	return test_summary();
}
