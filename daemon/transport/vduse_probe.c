// SPDX-License-Identifier: MIT
/*
 * Which device features the running kernel accepts for a VDUSE net device
 * (include/vnet/vduse.h). The kernel has no query for it: VDUSE_CREATE_DEV
 * refuses a feature set it does not like with EINVAL and says no more
 * (Linux 6.12 refuses the control queue and everything built on it:
 * CTRL_VQ, CTRL_RX, CTRL_VLAN, CTRL_MAC_ADDR, GUEST_ANNOUNCE, MQ, RSS).
 * So we ask with throw-away devices: the whole set first (a kernel that
 * takes everything costs one device), else every bit on its own, then the
 * survivors together.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "vduse_int.h"

#define BIT64(n)	(1ULL << (n))

__u64 vnet_vduse_required_features(void)
{
	/* VDUSE: addresses are IOVAs; net devices: a modern driver only */
	return BIT64(VIRTIO_F_ACCESS_PLATFORM) | BIT64(VIRTIO_F_VERSION_1);
}

/* 'f' less the bits whose dependency is missing (5.1.3.1) */
static __u64 closure64(__u64 f)
{
	struct vnet_features s = vnet_features_from_u64(f);

	s = vnet_net_features_closure(&s);
	return vnet_features_u64(&s);
}

/* the survivors one at a time on top of what holds together so far */
static int probe_greedy(__u64 bits, __u64 must, vnet_vduse_try_fn try_create, void *ctx,
			__u64 *accepted)
{
	__u64 acc = must;
	int err;

	for (int b = 0; b < 64; b++) {
		if (!(bits & BIT64(b)))
			continue;
		err = try_create(acc | BIT64(b), ctx);
		if (!err)
			acc |= BIT64(b);
		else if (err != -EINVAL)
			return err;
	}
	*accepted = closure64(acc) | must;
	return 0;
}

int vnet_vduse_probe_with(__u64 want, __u64 must, vnet_vduse_try_fn try_create,
			  void *ctx, __u64 *accepted)
{
	__u64 acc = must;
	int err;

	want |= must;
	err = try_create(want, ctx);
	if (err != -EINVAL) {
		if (!err)
			*accepted = want;
		return err;
	}
	err = try_create(must, ctx);
	if (err)
		return err;	/* not even the minimum: nothing to offer */
	for (int b = 0; b < 64; b++) {
		if (!(want & ~must & BIT64(b)))
			continue;
		err = try_create(must | BIT64(b), ctx);
		if (!err)
			acc |= BIT64(b);
		else if (err != -EINVAL)
			return err;
	}
	/* a bit whose dependency was refused goes too (spec 5.1.3.1) */
	acc = closure64(acc) | must;
	err = try_create(acc, ctx);
	if (err == -EINVAL)	/* fine alone, not together */
		return probe_greedy(acc & ~must, must, try_create, ctx, accepted);
	if (!err)
		*accepted = acc;
	return err;
}

struct kernel_probe {
	int ctl;
	unsigned int n;
};

/* One throw-away device with exactly these features, destroyed at once. */
static int try_kernel(__u64 features, void *opaque)
{
	struct kernel_probe *p = opaque;
	struct vnet_netdev_config cfg = { .mac = { 0x02 } };
	char name[VDUSE_NAME_MAX] = { 0 };
	__u32 nvqs = 2 + (features & BIT64(VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
	int err;

	snprintf(name, sizeof(name), "vnet-probe-%d-%u", (int)getpid(), p->n++);
	err = vduse_dev_config_create(p->ctl, name, features, nvqs, &cfg, sizeof(cfg));
	if (err)
		return err;
	if (ioctl(p->ctl, VDUSE_DESTROY_DEV, name))
		pr_warn("VDUSE feature probe: device %s left behind: %s\n", name, strerror(errno));
	return 0;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static bool cache_valid;
static __u64 cache_want, cache_accepted;

int vnet_vduse_probe(__u64 want, __u64 *accepted, const char **why)
{
	struct kernel_probe p = { .ctl = -1 };
	int err;

	err = vnet_vduse_available(why);
	if (err)
		return err;
	pthread_mutex_lock(&cache_lock);
	if (cache_valid && cache_want == want) {
		*accepted = cache_accepted;
		pthread_mutex_unlock(&cache_lock);
		return 0;
	}
	p.ctl = vduse_control_open();
	if (p.ctl < 0) {
		err = p.ctl;
		*why = "cannot open " VNET_VDUSE_CONTROL;
		goto out;
	}
	err = vnet_vduse_probe_with(want, vnet_vduse_required_features(), try_kernel, &p,
				    accepted);
	/*
	 * Without a control queue Linux's virtio_net refuses HASH_REPORT
	 * (virtnet_validate_features: "device advertises feature
	 * VIRTIO_NET_F_HASH_REPORT but not VIRTIO_NET_F_CTRL_VQ", the probe
	 * fails), though the spec does not tie them; CTRL_GUEST_OFFLOADS is a
	 * control-queue command. Neither is worth offering then.
	 */
	if (!err && !(*accepted & BIT64(VIRTIO_NET_F_CTRL_VQ)))
		*accepted &= ~(BIT64(VIRTIO_NET_F_HASH_REPORT) |
			       BIT64(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	if (err) {
		*why = err == -EINVAL ? "the kernel's VDUSE refuses even a minimal net device" :
		       err == -EPERM ? "VDUSE net devices need CAP_NET_ADMIN" :
		       "the VDUSE feature probe failed";
		goto out;
	}
	pr_info("VDUSE accepts features %#llx of %#llx (refused %#llx)\n",
		(unsigned long long)*accepted, (unsigned long long)want,
		(unsigned long long)(want & ~*accepted));
	cache_valid = true;
	cache_want = want;
	cache_accepted = *accepted;
out:
	if (p.ctl >= 0)
		close(p.ctl);
	pthread_mutex_unlock(&cache_lock);
	return err;
}

/* texts that name features (the control thread's) */
static char errbuf[192];

/*
 * What the engine runs but vnet's VDUSE transport does not carry: a packed
 * ring's state comes from the kernel as counters beside the indexes
 * (VDUSE_VQ_GET_INFO, VDUSE_GET_VQ_STATE), which ring_start() and
 * handle() read in the split form only; offering RING_PACKED would start
 * such rings at the wrong positions. Never offered, refused by name.
 */
#define VDUSE_NOT_CARRIED	BIT64(VIRTIO_F_RING_PACKED)

int vduse_features(struct vnet_netdev_params *p, bool named, struct vnet_features *refused,
		   const char **errmsg)
{
	struct vnet_features all = vnet_netdev_default_features(), accepted, want, lost;
	__u64 word;
	char hex[64];
	int err;

	if (named && (p->features.w[0] & VDUSE_NOT_CARRIED)) {
		*errmsg = "packed virtqueues (VIRTIO_F_RING_PACKED) are not carried over VDUSE";
		return -EOPNOTSUPP;
	}
	all.w[0] &= ~VDUSE_NOT_CARRIED;
	err = vnet_vduse_probe(vnet_features_u64(&all), &word, errmsg);
	if (err)
		return err;
	/* a VDUSE device carries bits 0-63 only: the rest is refused too */
	accepted = vnet_features_from_u64(word);
	if (refused)
		*refused = vnet_features_andnot(&all, &accepted);
	want = vnet_features_empty(&p->features) ? all : p->features;
	lost = vnet_features_andnot(&want, &accepted);
	if (named && !vnet_features_empty(&lost)) {
		/* asked for by name: say no rather than offer less */
		vnet_features_format(&lost, hex, sizeof(hex));
		snprintf(errbuf, sizeof(errbuf),
			 "the kernel's VDUSE refuses provisioned features %s (dev show of a "
			 "device without device_features lists them: vduse_refused)", hex);
		*errmsg = errbuf;
		return -EOPNOTSUPP;
	}
	p->features = vnet_features_and(&want, &accepted);
	p->features.w[0] |= vnet_vduse_required_features();
	if (p->max_vqp > 1 && !vnet_features_has(&p->features, VIRTIO_NET_F_MQ) &&
	    !vnet_features_has(&p->features, VIRTIO_NET_F_RSS)) {
		*errmsg = "max_vqp above 1 needs MQ, which the kernel's VDUSE refuses";
		return -EOPNOTSUPP;
	}
	return 0;
}
