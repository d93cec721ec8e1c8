// SPDX-License-Identifier: MIT
/*
 * vhost-user message handlers (QEMU docs/interop/vhost-user.rst, "Front-end
 * message types"). Each request has one row in 'handlers': payload size,
 * how many fds it carries, the protocol feature it needs. Those are checked
 * before the handler runs; the handler decodes the payload and hands it
 * to the device model's setters (vnet_netdev_vring_*, vnet_netdev_mem_*),
 * which check values (ring index, sizes, addresses inside the memory table)
 * and own the ring state. Every fd passed in is either stored or closed,
 * on every path.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "vhost_user_int.h"

#define BIT(n)	(1ull << (n))

__u64 vnet_vu_protocol_features(void)
{
	return BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD) |
	       BIT(VHOST_USER_PROTOCOL_F_RARP) |
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

/* What this device may be offered: no logging without a worker that logs. */
static __u64 protocol_features(const struct vnet_vu *vu)
{
	__u64 f = vnet_vu_protocol_features();

	if (!vnet_netdev_log_capable(vu->dev))
		f &= ~BIT(VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	return f;
}

static void reply_u64(struct vhost_user_msg *reply, __u64 v)
{
	reply->hdr.size = sizeof(__u64);
	reply->payload.u64 = v;
}

/* --- memory table ------------------------------------------------------------ */

/* front-end memory is an untrusted file mapped at its virtual address too */
#define VU_MEM_FLAGS	(VNET_MEM_UVA | VNET_MEM_FILE)

static struct vnet_mem_desc mem_desc(const struct vhost_user_mem_region *r)
{
	return (struct vnet_mem_desc){
		.gpa = r->guest_addr, .size = r->size,
		.uaddr = r->user_addr, .mmap_offset = r->mmap_offset,
	};
}

static int set_mem_table(struct vnet_vu *vu, const struct vhost_user_msg *m,
			 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	const struct vhost_user_memory *vm = &m->payload.memory;
	struct vnet_mem_desc d[VHOST_USER_MAX_FDS];
	unsigned int i;

	if (vm->nregions < 1 || vm->nregions > VHOST_USER_MAX_FDS || nfds != vm->nregions) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	for (i = 0; i < vm->nregions; i++)
		d[i] = mem_desc(&vm->regions[i]);
	return vnet_netdev_mem_set(vu->dev, d, fds, nfds, VU_MEM_FLAGS);
}

static int add_mem_reg(struct vnet_vu *vu, const struct vhost_user_msg *m,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_mem_desc d = mem_desc(&m->payload.mem_reg.region);
	int fd = fds[0];

	fds[0] = -1;
	return vnet_netdev_mem_add(vu->dev, &d, fd, VU_MEM_FLAGS);
}

static int rem_mem_reg(struct vnet_vu *vu, const struct vhost_user_msg *m,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	struct vnet_mem_desc d = mem_desc(&m->payload.mem_reg.region);

	/* older front-ends send the region's fd along; we do not need it */
	close_fds(fds, nfds);
	return vnet_netdev_mem_remove(vu->dev, &d);
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

/*
 * vhost-user carries bits 0-63: the device's first word, and ours. LOG_ALL
 * (QEMU refuses to migrate without it) only when the device can log.
 */
static __u64 vu_features(struct vnet_vu *vu)
{
	return vnet_features_u64(&vu->dev->offered_set) | BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
	       (vnet_netdev_log_capable(vu->dev) ? BIT(VHOST_F_LOG_ALL) : 0);
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
	struct vnet_features drv;
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
	/*
	 * LOG_ALL is not a virtio feature: the front-end sets it on a running
	 * device to start a migration and clears it when done (the virtio
	 * features stay what they were, so FEATURES_OK does not object).
	 */
	drv = vnet_features_from_u64(f & ~(BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
					   BIT(VHOST_F_LOG_ALL)));
	err = vnet_netdev_set_driver_features(vu->dev, &drv);
	if (!err)
		err = vnet_netdev_log_all(vu->dev, f & BIT(VHOST_F_LOG_ALL));
	if (err)
		return err;
	vu->features_set = true;
	vu->proto_features = !!(f & BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	/* without protocol features rings start enabled (vhost-user.rst
	 * "Ring states"); with them they wait for SET_VRING_ENABLE */
	if (!vu->proto_features)
		for (i = 0; i < vu->dev->nvrings; i++)
			vnet_netdev_vring_enable(vu->dev, i, true);
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
		vu->protocol_offer = protocol_features(vu);
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
	if (m->payload.u64 & ~(vu->protocol_offer ?: protocol_features(vu)))
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

static int set_vring_num(struct vnet_vu *vu, const struct vhost_user_msg *m,
			 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	return vnet_netdev_vring_set_num(vu->dev, m->payload.state.index, m->payload.state.num);
}

static int set_vring_addr(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	const struct vhost_user_vring_addr *a = &m->payload.addr;
	/* no IOMMU: the front-end's virtual addresses */
	struct vnet_vring_addr ra = {
		.desc = a->desc, .avail = a->avail, .used = a->used,
		.uva = true, .log = a->log,
		/* migration: used-ring writes logged at log_guest_addr */
		.flags = a->flags & BIT(VHOST_VRING_F_LOG) ? VNET_VRING_F_LOG : 0,
	};

	return vnet_netdev_vring_set_addr(vu->dev, a->index, &ra);
}

static int set_vring_base(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 num = m->payload.state.num;
	struct vnet_vring_base b = { .last_avail_idx = (__u16)num };

	if (vnet_netdev_packed(vu->dev)) {
		/*
		 * vhost-user.rst, packed rings: bits 0-14 the next descriptor
		 * to read, bit 15 the driver's wrap counter there; bits 16-30
		 * and 31 the same for the next used descriptor (QEMU sends
		 * both). DPDK's virtio-user sends the avail half only (a new
		 * ring: 1 << 15): then the used position is the avail one, as
		 * on any ring stopped with nothing in flight.
		 */
		b.last_used_idx = num >> 16 ? (__u16)(num >> 16) : (__u16)num;
	} else if (num > 0xffff) {
		return -EINVAL;	/* split rings: a 16-bit index */
	}
	return vnet_netdev_vring_set_base(vu->dev, m->payload.state.index, &b);
}

static int get_vring_base(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index = m->payload.state.index;
	struct vnet_vring_base b;
	int err;

	/* vhost-user.rst: GET_VRING_BASE stops the ring */
	err = vnet_netdev_vring_stop(vu->dev, index);
	if (!err)
		err = vnet_netdev_vring_get_base(vu->dev, index, &b);
	if (err)
		return err;
	reply->hdr.size = sizeof(reply->payload.state);
	reply->payload.state.index = index;
	reply->payload.state.num = b.last_avail_idx;
	/* packed: both positions, as SET_VRING_BASE takes them */
	if (vnet_netdev_packed(vu->dev))
		reply->payload.state.num |= (__u32)b.last_used_idx << 16;
	return 0;
}

/* KICK/CALL/ERR: u64 with the index in bits 0-7 and "no fd" in bit 8. */
static int vring_fd_msg(struct vnet_vu *vu, const struct vhost_user_msg *m,
			int *fds, unsigned int nfds, enum vnet_vring_fd which, __u32 *index)
{
	__u64 v = m->payload.u64;
	bool nofd = v & VHOST_USER_VRING_NOFD_MASK;
	int fd;

	*index = v & VHOST_USER_VRING_IDX_MASK;
	if ((v & ~(__u64)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK)) ||
	    nfds != (nofd ? 0u : 1u)) {
		close_fds(fds, nfds);
		return -EINVAL;
	}
	fd = nofd ? -1 : fds[0];
	if (nfds)
		fds[0] = -1;
	return vnet_netdev_vring_set_fd(vu->dev, *index, which, fd);
}

static int set_vring_kick(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index;
	int err;

	err = vring_fd_msg(vu, m, fds, nfds, VNET_VRING_KICK, &index);
	if (err)
		return err;
	/* the kick starts the ring (no fd: the back-end polls it) */
	if (!vu->proto_features)
		vnet_netdev_vring_enable(vu->dev, index, true);
	return vnet_netdev_vring_start(vu->dev, index);
}

static int set_vring_call(struct vnet_vu *vu, const struct vhost_user_msg *m,
			  int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index;

	return vring_fd_msg(vu, m, fds, nfds, VNET_VRING_CALL, &index);
}

static int set_vring_err(struct vnet_vu *vu, const struct vhost_user_msg *m,
			 int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	__u32 index;

	return vring_fd_msg(vu, m, fds, nfds, VNET_VRING_ERR, &index);
}

static int set_vring_enable(struct vnet_vu *vu, const struct vhost_user_msg *m,
			    int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	if (m->payload.state.num > 1)
		return -EINVAL;
	return vnet_netdev_vring_enable(vu->dev, m->payload.state.index, m->payload.state.num);
}

/* --- migration ---------------------------------------------------------------- */

/*
 * The dirty log (vhost-user.rst "Migration"): with LOG_SHMFD its memfd comes
 * along, and the reply is mandatory (a u64 status, as REPLY_ACK's). QEMU
 * 7.2 sends it once per queue pair's vhost device, and again with a new
 * fd when guest memory grows: each replaces the mapping.
 */
static int set_log_base(struct vnet_vu *vu, const struct vhost_user_msg *m,
			int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	int fd = fds[0];

	fds[0] = -1;
	return vnet_netdev_log_set_base(vu->dev, fd, m->payload.log.mmap_size,
					m->payload.log.mmap_offset);
}

/* --- net specifics, config, status ------------------------------------------- */

static int send_rarp(struct vnet_vu *vu, const struct vhost_user_msg *m,
		     int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	return vnet_netdev_request_rarp(vu->dev, (const __u8 *)&m->payload.u64);
}

static int net_set_mtu(struct vnet_vu *vu, const struct vhost_user_msg *m,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply)
{
	return vnet_netdev_set_front_mtu(vu->dev, m->payload.u64);
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

/* How a request is answered. */
enum {
	NO_REPLY = 0,	/* only with NEED_REPLY under REPLY_ACK: a u64 status */
	OWN_REPLY = 1,	/* its own reply payload (GET_*) */
	ACK_REPLY = 2,	/* always a u64 status, as if NEED_REPLY was set */
};

typedef int (*vu_handler)(struct vnet_vu *, const struct vhost_user_msg *,
			  int *, unsigned int, struct vhost_user_msg *);

static const struct {
	vu_handler fn;
	__u32 size;		/* payload bytes (| MIN_SIZE) */
	int nfds;		/* exact fd count, or ANY_FDS (handler checks) */
	int proto;		/* protocol feature needed, -1 none */
	__u8 reply;		/* NO_REPLY, OWN_REPLY, ACK_REPLY */
	const char *name;
} handlers[VHOST_USER_MAX_REQUEST] = {
#define H(req, f, sz, n, pf, r) [VHOST_USER_##req] = { f, sz, n, pf, r, #req }
	H(GET_FEATURES, get_features, 0, 0, -1, OWN_REPLY),
	H(SET_FEATURES, set_features, 8, 0, -1, NO_REPLY),
	H(SET_OWNER, set_owner, 0, 0, -1, NO_REPLY),
	H(RESET_OWNER, reset_device, 0, 0, -1, NO_REPLY),
	H(SET_MEM_TABLE, set_mem_table, 8 | MIN_SIZE, ANY_FDS, -1, NO_REPLY),
	H(SET_LOG_BASE, set_log_base, sizeof(struct vhost_user_log), 1,
	  VHOST_USER_PROTOCOL_F_LOG_SHMFD, ACK_REPLY),
	H(SET_VRING_NUM, set_vring_num, 8, 0, -1, NO_REPLY),
	H(SET_VRING_ADDR, set_vring_addr, sizeof(struct vhost_user_vring_addr), 0, -1,
	  NO_REPLY),
	H(SET_VRING_BASE, set_vring_base, 8, 0, -1, NO_REPLY),
	H(GET_VRING_BASE, get_vring_base, 8, 0, -1, OWN_REPLY),
	H(SET_VRING_KICK, set_vring_kick, 8, ANY_FDS, -1, NO_REPLY),
	H(SET_VRING_CALL, set_vring_call, 8, ANY_FDS, -1, NO_REPLY),
	H(SET_VRING_ERR, set_vring_err, 8, ANY_FDS, -1, NO_REPLY),
	H(GET_PROTOCOL_FEATURES, get_protocol_features, 0, 0, -1, OWN_REPLY),
	H(SET_PROTOCOL_FEATURES, set_protocol_features, 8, 0, -1, NO_REPLY),
	H(GET_QUEUE_NUM, get_queue_num, 0, 0, VHOST_USER_PROTOCOL_F_MQ, OWN_REPLY),
	H(SET_VRING_ENABLE, set_vring_enable, 8, 0, -1, NO_REPLY),
	H(SEND_RARP, send_rarp, 8, 0, VHOST_USER_PROTOCOL_F_RARP, NO_REPLY),
	H(NET_SET_MTU, net_set_mtu, 8, 0, VHOST_USER_PROTOCOL_F_NET_MTU, NO_REPLY),
	H(SET_BACKEND_REQ_FD, set_backend_req_fd, 0, 1, VHOST_USER_PROTOCOL_F_BACKEND_REQ,
	  NO_REPLY),
	H(GET_CONFIG, get_config, 12 | MIN_SIZE, 0, VHOST_USER_PROTOCOL_F_CONFIG, OWN_REPLY),
	H(SET_CONFIG, set_config, 12 | MIN_SIZE, 0, VHOST_USER_PROTOCOL_F_CONFIG, NO_REPLY),
	H(RESET_DEVICE, reset_device, 0, 0, VHOST_USER_PROTOCOL_F_RESET_DEVICE, NO_REPLY),
	H(GET_MAX_MEM_SLOTS, get_max_mem_slots, 0, 0,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, OWN_REPLY),
	H(ADD_MEM_REG, add_mem_reg, sizeof(struct vhost_user_mem_single), 1,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NO_REPLY),
	H(REM_MEM_REG, rem_mem_reg, sizeof(struct vhost_user_mem_single), ANY_FDS,
	  VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS, NO_REPLY),
	H(SET_STATUS, set_status, 8, 0, VHOST_USER_PROTOCOL_F_STATUS, NO_REPLY),
	H(GET_STATUS, get_status, 0, 0, VHOST_USER_PROTOCOL_F_STATUS, OWN_REPLY),
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
	/* answered always, once its protocol feature is negotiated */
	if (handlers[req].reply == ACK_REPLY &&
	    (handlers[req].proto < 0 || (vu->protocol & BIT(handlers[req].proto))))
		need_reply = true;
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
	if (handlers[req].reply == OWN_REPLY || need_reply)
		goto send;
	return 0;

bad:
	vu->stats.bad_messages++;
	pr_info("vhost-user: %s (%u, %u bytes, %u fds) rejected: %s\n",
		req_name(req), req, size, nfds, strerror(-err));
	/* an error goes back when the front-end waits for an ack; otherwise
	 * (and for requests that carry their own reply) we close */
	if (!need_reply || handlers[req < VHOST_USER_MAX_REQUEST ? req : 0].reply == OWN_REPLY)
		return err;
	reply_u64(reply, (__u64)-err);
send:
	if (handlers[req].reply != OWN_REPLY && need_reply && !err)
		reply_u64(reply, 0);
	reply->hdr.request = req;
	reply->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	return 0;
}
