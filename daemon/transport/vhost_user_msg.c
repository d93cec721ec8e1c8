// SPDX-License-Identifier: MIT
/*
 * vhost-user message handlers (QEMU docs/interop/vhost-user.rst, "Front-end
 * message types"). Each request has one row in 'handlers': payload size,
 * how many fds it carries, the protocol feature it needs. Those are checked
 * before the handler runs; the handler checks values (ring index, sizes,
 * addresses inside the memory table). Every fd passed in is either stored
 * or closed, on every path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "vhost_user_int.h"

#define BIT(n)	(1ull << (n))

__u64 vnet_vu_protocol_features(void)
{
	return BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_RARP) |
	       BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | BIT(VHOST_USER_PROTOCOL_F_NET_MTU) |
	       BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | BIT(VHOST_USER_PROTOCOL_F_CONFIG) |
	       BIT(VHOST_USER_PROTOCOL_F_RESET_DEVICE) |
	       BIT(VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS) |
	       BIT(VHOST_USER_PROTOCOL_F_STATUS);
}

static void close_fds(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void reply_u64(struct vhost_user_msg *reply, __u64 v)
{
	reply->hdr.size = sizeof(__u64);
	reply->payload.u64 = v;
}

/* --- memory table ------------------------------------------------------------ */

static void region_unmap(struct vnet_mem_region *r)
{
	if (r->mmap_base)
		munmap(r->mmap_base, r->mmap_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* The engine's queues hold pointers into guest memory: make the worker
 * rebuild every ring before it runs again (it checks 'gen' under the lock). */
static void mem_changed(struct vnet_netdev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nvrings; i++)
		vnet_netdev_vring_update(dev, i);
}

void vnet_vu_mem_clear(struct vnet_netdev *dev);
void vnet_vu_mem_clear(struct vnet_netdev *dev)
{
	unsigned int i;

	for (i = 0; i < VNET_MAX_MEM_REGIONS; i++)
		region_unmap(&dev->mem.regions[i]);
	dev->mem.nregions = 0;
}

static bool ranges_overlap(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* Check a region against overflow and the regions already in 'mem'. */
static int region_check(const struct vnet_guest_mem *mem,
			const struct vhost_user_mem_region *r)
{
	unsigned int i;

	if (!r->size || r->guest_addr + r->size < r->guest_addr ||
	    r->user_addr + r->size < r->user_addr ||
	    r->mmap_offset + r->size < r->mmap_offset ||
	    r->mmap_offset + r->size > (__u64)SIZE_MAX)
		return -EINVAL;
	for (i = 0; i < mem->nregions; i++) {
		const struct vnet_mem_region *o = &mem->regions[i];

		if (ranges_overlap(o->gpa, o->size, r->guest_addr, r->size) ||
		    ranges_overlap(o->uaddr, o->size, r->user_addr, r->size))
			return -EINVAL;
	}
	return 0;
}

/* Map one region; takes ownership of fd (closed on success and failure:
 * the mapping keeps the memory alive, one fd fewer per region). */
static int region_map(struct vnet_mem_region *out,
		      const struct vhost_user_mem_region *r, int fd)
{
	size_t len = (size_t)(r->mmap_offset + r->size);
	struct stat st;
	void *p;

	/* a file shorter than the mapping would SIGBUS us on access */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (__u64)st.st_size < len) {
		close(fd);
		return -EINVAL;
	}
	/*
	 * ...and so would one the front-end shrinks later. Seal it against
	 * shrinking where the front-end allows sealing (memfd with
	 * MFD_ALLOW_SEALING, QEMU's default memfd backend); other memory
	 * (hugetlbfs, unsealable memfds) keeps that risk, as with every
	 * vhost-user back-end.
	 */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		pr_debug("vhost-user: memory region fd cannot be sealed against shrinking\n");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	out->gpa = r->guest_addr;
	out->size = r->size;
	out->uaddr = r->user_addr;
	out->hva = (__u8 *)p + r->mmap_offset;
	out->mmap_base = p;
	out->mmap_len = len;
	out->fd = -1;
	out->refs = 1;
	return 0;
}

static int set_mem_table(struct vnet_vu *vu, const struct vhost_user_msg *m,
			 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	const struct vhost_user_memory *vm = &m->payload.memory;
	struct vnet_guest_mem mem = { 0 };
	unsigned int i;
	int err = 0;

	if (vm->nregions < 1 || vm->nregions > VHOST_USER_MAX_FDS || nfds != vm->nregions) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	for (i = 0; i < vm->nregions; i++) {
		err = region_check(&mem, &vm->regions[i]);
		if (!err)
			err = region_map(&mem.regions[i], &vm->regions[i], fds[i]);
		else
			close(fds[i]);
		fds[i] = -1;
		if (err)
			goto undo;
		mem.nregions = i + 1;
	}
	vnet_vu_mem_clear(vu->dev);
	vu->dev->mem = mem;
	mem_changed(vu->dev);
	return 0;
undo:
	close_fds(fds + i + 1, nfds - i - 1);
	for (i = 0; i < mem.nregions; i++)
		region_unmap(&mem.regions[i]);
	return err;
}

/* The region 'r' describes, if 'mem' has it already: same guest and
 * front-end addresses, size and file offset. */
static struct vnet_mem_region *region_find(struct vnet_guest_mem *mem,
					   const struct vhost_user_mem_region *r)
{
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		struct vnet_mem_region *o = &mem->regions[i];

		if (o->gpa == r->guest_addr && o->size == r->size &&
		    o->uaddr == r->user_addr &&
		    (__u64)(o->hva - (__u8 *)o->mmap_base) == r->mmap_offset)
			return o;
	}
	return NULL;
}

/*
 * QEMU keeps one vhost device per queue pair on the same socket, and each
 * sends ADD_MEM_REG (and later REM_MEM_REG) for the same regions: a repeat
 * of a region we have is a reference, not an overlap. A region that overlaps
 * another without being it is still refused.
 */
static int add_mem_reg(struct vnet_vu *vu, const struct vhost_user_msg *m,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_guest_mem *mem = &vu->dev->mem;
	const struct vhost_user_mem_region *r = &m->payload.mem_reg.region;
	struct vnet_mem_region *have = region_find(mem, r);
	int err;

	if (have) {
		close_fds(fds, nfds);
		have->refs++;
		return 0;
	}
	if (mem->nregions >= VNET_MAX_MEM_REGIONS || region_check(mem, r)) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	err = region_map(&mem->regions[mem->nregions], r, fds[0]);
	fds[0] = -1;
	if (err)
		return err;
	mem->nregions++;
	mem_changed(vu->dev);
	return 0;
}

static int rem_mem_reg(struct vnet_vu *vu, const struct vhost_user_msg *m,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_guest_mem *mem = &vu->dev->mem;
	const struct vhost_user_mem_region *r = &m->payload.mem_reg.region;
	unsigned int i;

	/* older front-ends send the region's fd along; we do not need it */
	close_fds(fds, nfds);
	for (i = 0; i < mem->nregions; i++) {
		if (mem->regions[i].gpa == r->guest_addr && mem->regions[i].size == r->size)
			break;
	}
	if (i == mem->nregions)
		return -EINVAL;
	/* the other vhost devices of the front-end still use it */
	if (mem->regions[i].refs > 1) {
		mem->regions[i].refs--;
		return 0;
	}
	region_unmap(&mem->regions[i]);
	mem->regions[i] = mem->regions[mem->nregions - 1];
	memset(&mem->regions[mem->nregions - 1], 0, sizeof(mem->regions[0]));
	mem->regions[mem->nregions - 1].fd = -1;
	mem->nregions--;
	mem_changed(vu->dev);
	return 0;
}

static int get_max_mem_slots(struct vnet_vu *vu, const struct vhost_user_msg *m,
			     int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	reply_u64(reply, VNET_MAX_MEM_REGIONS);
	return 0;
}

/* --- features and owner ------------------------------------------------------ */

/* features that only mean something through the control queue */
#define CVQ_ONLY_FEATURES (BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_CTRL_VLAN) | \
			   BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | \
			   BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | \
			   BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | BIT(VIRTIO_NET_F_NOTF_COAL) | \
			   BIT(VIRTIO_NET_F_RSS))

static __u64 vu_features(struct vnet_vu *vu)
{
	return vu->dev->offered | BIT(VHOST_USER_F_PROTOCOL_FEATURES);
}

static int get_features(struct vnet_vu *vu, const struct vhost_user_msg *m,
			int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	reply_u64(reply, vu_features(vu));
	return 0;
}

static int set_features(struct vnet_vu *vu, const struct vhost_user_msg *m,
			int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u64 f = m->payload.u64;
	unsigned int i;
	int err;

	if (f & ~vu_features(vu))
		return -EINVAL;
	/*
	 * A front-end that keeps the control queue to itself (QEMU, DPDK's
	 * virtio-user) strips CTRL_VQ but passes the bits that depend on it:
	 * those commands never reach us, so the bits say nothing to this
	 * device and are dropped from its view. Every other rule of spec
	 * 5.1.3.1 is checked as for any driver.
	 */
	if (!(f & BIT(VIRTIO_NET_F_CTRL_VQ)))
		f &= ~CVQ_ONLY_FEATURES;
	err = vnet_netdev_set_driver_features(vu->dev, f & ~BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	if (err)
		return err;
	vu->features_set = true;
	vu->proto_features = !!(f & BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	/* without protocol features rings start enabled (vhost-user.rst
	 * "Ring states"); with them they wait for SET_VRING_ENABLE */
	if (!vu->proto_features) {
		for (i = 0; i < vu->dev->nvrings; i++) {
			vu->dev->vrings[i].enabled = true;
			vnet_netdev_vring_update(vu->dev, i);
		}
	}
	/* vhost-user has no FEATURES_OK without STATUS: the front-end's
	 * SET_FEATURES is its final word */
	if (!(vu->protocol & BIT(VHOST_USER_PROTOCOL_F_STATUS)))
		vnet_netdev_set_status(vu->dev, vu->dev->status | VIRTIO_CONFIG_S_ACKNOWLEDGE |
				    VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return 0;
}

/*
 * Offer CONFIG (GET_CONFIG, config-change messages) only to front-ends that
 * can use it. QEMU's virtio-net has no use for a back-end's config space: it
 * warns "backend supports VHOST_USER_PROTOCOL_F_CONFIG but QEMU does not"
 * and masks it. QEMU asks for protocol features before SET_OWNER; the
 * front-ends that read the config space from the back-end (DPDK's
 * virtio-user, vnet-guest) take ownership first. Decided once per
 * connection: QEMU's vhost device of every queue pair asks again, after
 * the first one owned the connection.
 */
static int get_protocol_features(struct vnet_vu *vu, const struct vhost_user_msg *m,
				 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	if (!vu->protocol_offer) {
		vu->protocol_offer = vnet_vu_protocol_features();
		if (!vu->owner)
			vu->protocol_offer &= ~BIT(VHOST_USER_PROTOCOL_F_CONFIG);
	}
	reply_u64(reply, vu->protocol_offer);
	return 0;
}

static int set_protocol_features(struct vnet_vu *vu, const struct vhost_user_msg *m,
				 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	/* what was offered; a front-end that never asked gets the full set */
	if (m->payload.u64 & ~(vu->protocol_offer ?: vnet_vu_protocol_features()))
		return -EINVAL;
	vu->protocol = m->payload.u64;
	return 0;
}

static int set_owner(struct vnet_vu *vu, const struct vhost_user_msg *m,
		     int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	vu->owner = true;
	return 0;
}

static int reset_device(struct vnet_vu *vu, const struct vhost_user_msg *m,
			int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	vnet_netdev_reset(vu->dev);
	vu->features_set = false;
	return 0;
}

static int get_queue_num(struct vnet_vu *vu, const struct vhost_user_msg *m,
			 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	/* queue pairs, as QEMU's vhost-net and DPDK read it */
	reply_u64(reply, vu->dev->params.max_vqp);
	return 0;
}

/* --- vrings ------------------------------------------------------------------ */

static struct vnet_vring *vring_get(struct vnet_vu *vu, __u32 index)
{
	return index < vu->dev->nvrings ? &vu->dev->vrings[index] : NULL;
}

static int set_vring_num(struct vnet_vu *vu, const struct vhost_user_msg *m,
			 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_vring *vr = vring_get(vu, m->payload.state.index);
	__u32 num = m->payload.state.num;

	/* spec 2.7: a split queue size is a power of two, at most 32768 */
	if (!vr || !num || num > 32768 || (num & (num - 1)))
		return -EINVAL;
	vr->num = (__u16)num;
	vnet_netdev_vring_update(vu->dev, m->payload.state.index);
	return 0;
}

/* [addr, addr + len) must be one contiguous piece of the memory table */
static bool uva_range_ok(const struct vnet_guest_mem *mem, __u64 addr, __u64 len)
{
	__u64 got = len;

	return vnet_uva_to_hva(mem, addr, &got) && got == len;
}

static int set_vring_addr(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	const struct vhost_user_vring_addr *a = &m->payload.addr;
	struct vnet_vring *vr = vring_get(vu, a->index);
	const struct vnet_guest_mem *mem = &vu->dev->mem;
	__u64 num;

	if (!vr)
		return -EINVAL;
	num = vr->num ? vr->num : 1;
	/* spec 2.7.2 alignment: descriptors 16, available 2, used 4 */
	if ((a->desc & 15) || (a->avail & 1) || (a->used & 3))
		return -EINVAL;
	if (!uva_range_ok(mem, a->desc, 16 * num) ||
	    !uva_range_ok(mem, a->avail, 6 + 2 * num) ||
	    !uva_range_ok(mem, a->used, 6 + 8 * num)) {
		pr_info("vhost-user: ring %u addresses outside the memory table\n", a->index);
		return -EFAULT;
	}
	vr->desc = a->desc;
	vr->avail = a->avail;
	vr->used = a->used;
	vr->addr_flags = a->flags;
	vr->uva = true;
	vr->addr_set = true;
	vnet_netdev_vring_update(vu->dev, a->index);
	return 0;
}

static int set_vring_base(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_vring *vr = vring_get(vu, m->payload.state.index);

	/* split rings: a 16-bit index */
	if (!vr || m->payload.state.num > 0xffff)
		return -EINVAL;
	vr->last_avail_idx = (__u16)m->payload.state.num;
	vnet_netdev_vring_update(vu->dev, m->payload.state.index);
	return 0;
}

static int get_vring_base(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index = m->payload.state.index;
	struct vnet_vring *vr = vring_get(vu, index);

	if (!vr)
		return -EINVAL;
	/* vhost-user.rst: GET_VRING_BASE stops the ring. The worker wrote
	 * its position back before it released the lock we hold. */
	vr->started = false;
	if (vr->kick_fd >= 0)
		close(vr->kick_fd);
	vr->kick_fd = -1;
	vnet_netdev_vring_update(vu->dev, index);
	reply->hdr.size = sizeof(reply->payload.state);
	reply->payload.state.index = index;
	reply->payload.state.num = vr->last_avail_idx;
	return 0;
}

/* KICK/CALL/ERR: u64 with the index in bits 0-7 and "no fd" in bit 8. */
static int vring_fd_msg(struct vnet_vu *vu, const struct vhost_user_msg *m,
			int *fds, unsigned int nfds, int **slot, __u32 *index)
{
	__u64 v = m->payload.u64;
	bool nofd = v & VHOST_USER_VRING_NOFD_MASK;
	struct vnet_vring *vr;

	*index = v & VHOST_USER_VRING_IDX_MASK;
	vr = vring_get(vu, *index);
	if (!vr || (v & ~(__u64)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) ||
	    nfds != (nofd ? 0u : 1u)) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	switch (m->hdr.request) {
	case VHOST_USER_SET_VRING_KICK: *slot = &vr->kick_fd; break;
	case VHOST_USER_SET_VRING_CALL: *slot = &vr->call_fd; break;
	default: *slot = &vr->err_fd; break;
	}
	if (**slot >= 0)
		close(**slot);
	**slot = nofd ? -1 : fds[0];
	if (nfds)
		fds[0] = -1;
	return 0;
}

static int set_vring_kick(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index;
	int *slot, err;

	err = vring_fd_msg(vu, m, fds, nfds, &slot, &index);
	if (err)
		return err;
	/* the kick starts the ring (no fd: the back-end polls it) */
	vu->dev->vrings[index].started = true;
	if (!vu->proto_features)
		vu->dev->vrings[index].enabled = true;
	vnet_netdev_vring_update(vu->dev, index);
	return 0;
}

static int set_vring_call_err(struct vnet_vu *vu, const struct vhost_user_msg *m,
			      int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index;
	int *slot, err;

	err = vring_fd_msg(vu, m, fds, nfds, &slot, &index);
	if (!err)
		vnet_netdev_vring_update(vu->dev, index);
	return err;
}

static int set_vring_enable(struct vnet_vu *vu, const struct vhost_user_msg *m,
			    int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_vring *vr = vring_get(vu, m->payload.state.index);

	if (!vr || m->payload.state.num > 1)
		return -EINVAL;
	vr->enabled = m->payload.state.num;
	vnet_netdev_vring_update(vu->dev, m->payload.state.index);
	return 0;
}

/* --- net specifics, config, status ------------------------------------------- */

static int send_rarp(struct vnet_vu *vu, const struct vhost_user_msg *m,
		     int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	const __u8 *mac = (const __u8 *)&m->payload.u64;

	if (mac[0] & 1)
		return -EINVAL;
	memcpy(vu->dev->rarp_mac, mac, 6);
	vu->dev->rarp_pending = true;
	return 0;
}

static int net_set_mtu(struct vnet_vu *vu, const struct vhost_user_msg *m,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u64 mtu = m->payload.u64;

	/* spec 5.1.4.1: 68 .. 65535, and not above what the device can do */
	if (mtu < 68 || mtu > vu->dev->params.mtu)
		return -EINVAL;
	vu->dev->front_mtu = (__u16)mtu;
	return 0;
}

static int set_backend_req_fd(struct vnet_vu *vu, const struct vhost_user_msg *m,
			      int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	if (vu->backend_fd >= 0)
		close(vu->backend_fd);
	vu->backend_fd = fds[0];
	fds[0] = -1;
	return 0;
}

static int get_config(struct vnet_vu *vu, const struct vhost_user_msg *m,
		      int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	const struct vhost_user_config *c = &m->payload.config;
	struct vhost_user_config *rc = &reply->payload.config;

	rc->offset = c->offset;
	rc->flags = 0;
	/* the payload must carry exactly 'size' bytes */
	if (c->size > VHOST_USER_MAX_CONFIG_SIZE || m->hdr.size != 12 + c->size ||
	    vnet_netdev_config_read(vu->dev, c->offset, rc->payload, c->size)) {
		/* vhost-user.rst: a failed GET_CONFIG is a reply of size 0 */
		rc->size = 0;
		reply->hdr.size = 12;
		vu->stats.bad_messages++;
		return 0;
	}
	rc->size = c->size;
	reply->hdr.size = 12 + c->size;
	return 0;
}

static int set_config(struct vnet_vu *vu, const struct vhost_user_msg *m,
		      int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	/* spec 5.1.4: every virtio-net config field is read-only */
	return -EPERM;
}

static int set_status(struct vnet_vu *vu, const struct vhost_user_msg *m,
		      int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	if (m->payload.u64 > 0xff)
		return -EINVAL;
	vnet_netdev_set_status(vu->dev, (__u8)m->payload.u64);
	/* spec 3.1.1: a driver that set FEATURES_OK and reads it back clear
	 * gives up; report the refusal to a front-end that asked, too */
	if ((m->payload.u64 & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(vu->dev->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return -EINVAL;
	return 0;
}

static int get_status(struct vnet_vu *vu, const struct vhost_user_msg *m,
		      int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	reply_u64(reply, vu->dev->status);
	return 0;
}

/* --- dispatch ---------------------------------------------------------------- */

#define ANY_FDS		(-1)
#define MIN_SIZE	(1u << 31)	/* flag on 'size': at least, not exact */

typedef int (*vu_handler)(struct vnet_vu *, const struct vhost_user_msg *,
			  int *, unsigned int, struct vhost_user_msg *);

static const struct {
	vu_handler fn;
	__u32 size;		/* payload bytes (| MIN_SIZE) */
	int nfds;		/* exact fd count, or ANY_FDS (handler checks) */
	int proto;		/* protocol feature needed, -1 none */
	bool has_reply;		/* the request is answered by itself */
	const char *name;
} handlers[VHOST_USER_MAX_REQUEST] = {
#define H(req, f, sz, n, pf, r) [VHOST_USER_##req] = { f, sz, n, pf, r, #req }
	H(GET_FEATURES, get_features, 0, 0, -1, true),
	H(SET_FEATURES, set_features, 8, 0, -1, false),
	H(SET_OWNER, set_owner, 0, 0, -1, false),
	H(RESET_OWNER, reset_device, 0, 0, -1, false),
	H(SET_MEM_TABLE, set_mem_table, 8 | MIN_SIZE, ANY_FDS, -1, false),
	H(SET_VRING_NUM, set_vring_num, 8, 0, -1, false),
	H(SET_VRING_ADDR, set_vring_addr, sizeof(struct vhost_user_vring_addr), 0, -1, false),
	H(SET_VRING_BASE, set_vring_base, 8, 0, -1, false),
	H(GET_VRING_BASE, get_vring_base, 8, 0, -1, true),
	H(SET_VRING_KICK, set_vring_kick, 8, ANY_FDS, -1, false),
	H(SET_VRING_CALL, set_vring_call_err, 8, ANY_FDS, -1, false),
	H(SET_VRING_ERR, set_vring_call_err, 8, ANY_FDS, -1, false),
	H(GET_PROTOCOL_FEATURES, get_protocol_features, 0, 0, -1, true),
	H(SET_PROTOCOL_FEATURES, set_protocol_features, 8, 0, -1, false),
	H(GET_QUEUE_NUM, get_queue_num, 0, 0, VHOST_USER_PROTOCOL_F_MQ, true),
	H(SET_VRING_ENABLE, set_vring_enable, 8, 0, -1, false),
	H(SEND_RARP, send_rarp, 8, 0, VHOST_USER_PROTOCOL_F_RARP, false),
	H(NET_SET_MTU, net_set_mtu, 8, 0, VHOST_USER_PROTOCOL_F_NET_MTU, false),
	H(SET_BACKEND_REQ_FD, set_backend_req_fd, 0, 1, VHOST_USER_PROTOCOL_F_BACKEND_REQ, false),
	H(GET_CONFIG, get_config, 12 | MIN_SIZE, 0, VHOST_USER_PROTOCOL_F_CONFIG, true),
	H(SET_CONFIG, set_config, 12 | MIN_SIZE, 0, VHOST_USER_PROTOCOL_F_CONFIG, false),
	H(RESET_DEVICE, reset_device, 0, 0, VHOST_USER_PROTOCOL_F_RESET_DEVICE, false),
	H(GET_MAX_MEM_SLOTS, get_max_mem_slots, 0, 0,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, true),
	H(ADD_MEM_REG, add_mem_reg, sizeof(struct vhost_user_mem_single), 1,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, false),
	H(REM_MEM_REG, rem_mem_reg, sizeof(struct vhost_user_mem_single), ANY_FDS,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, false),
	H(SET_STATUS, set_status, 8, 0, VHOST_USER_PROTOCOL_F_STATUS, false),
	H(GET_STATUS, get_status, 0, 0, VHOST_USER_PROTOCOL_F_STATUS, true),
#undef H
};

static const char *req_name(__u32 req)
{
	return req < VHOST_USER_MAX_REQUEST && handlers[req].name ? handlers[req].name : "?";
}

/*
 * Caller holds dev->lock. Returns 0 (reply filled or reply->hdr.request 0)
 * or -errno: close the connection.
 */
int vnet_vu_handle_msg(struct vnet_vu *vu, const struct vhost_user_msg *msg,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 req = msg->hdr.request, size = msg->hdr.size;
	bool need_reply;
	int err = -EINVAL;

	memset(&reply->hdr, 0, sizeof(reply->hdr));
	vu->stats.messages++;
	if (nfds > VHOST_USER_MAX_FDS) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	need_reply = (msg->hdr.flags & VHOST_USER_NEED_REPLY_MASK) &&
		     (vu->protocol & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK));
	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    (msg->hdr.flags & VHOST_USER_REPLY_MASK) || size > VHOST_USER_PAYLOAD_MAX) {
		close_fds(fds, nfds);
		goto bad;
	}
	if (req >= VHOST_USER_MAX_REQUEST || !handlers[req].fn) {
		close_fds(fds, nfds);
		err = -EOPNOTSUPP;
		goto bad;
	}
	if ((handlers[req].size & MIN_SIZE) ? size < (handlers[req].size & ~MIN_SIZE)
					     : size != handlers[req].size) {
		close_fds(fds, nfds);
		goto bad;
	}
	if ((handlers[req].nfds != ANY_FDS && nfds != (unsigned int)handlers[req].nfds) ||
	    (handlers[req].proto >= 0 && !(vu->protocol & BIT(handlers[req].proto)))) {
		close_fds(fds, nfds);
		goto bad;
	}
	/* SET_MEM_TABLE: the region array must fit the payload exactly */
	if (req == VHOST_USER_SET_MEM_TABLE &&
	    (msg->payload.memory.nregions > VHOST_USER_MAX_FDS ||
	     size != 8 + msg->payload.memory.nregions * sizeof(struct vhost_user_mem_region))) {
		close_fds(fds, nfds);
		goto bad;
	}

	err = handlers[req].fn(vu, msg, fds, nfds, reply);
	/* a handler that failed before taking its fds: they are closed */
	close_fds(fds, nfds);
	if (err)
		goto bad;
	if (handlers[req].has_reply || need_reply)
		goto send;
	return 0;

bad:
	vu->stats.bad_messages++;
	pr_info("vhost-user: %s (%u, %u bytes, %u fds) rejected: %s\n",
		req_name(req), req, size, nfds, strerror(-err));
	/* an error goes back when the front-end waits for an ack; otherwise
	 * (and for requests that carry their own reply) we close */
	if (!need_reply || handlers[req < VHOST_USER_MAX_REQUEST ? req : 0].has_reply)
		return err;
	reply_u64(reply, (__u64)-err);
send:
	if (!handlers[req].has_reply && need_reply && !err)
		reply_u64(reply, 0);
	reply->hdr.request = req;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	return 0;
}
