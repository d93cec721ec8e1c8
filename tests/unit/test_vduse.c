// SPDX-License-Identifier: MIT
/*
 * The VDUSE feature probe's search (transport/vduse_probe.c) against fake
 * kernels: one that takes everything, Linux 6.12 (no control queue for
 * VDUSE net devices), one that takes two bits alone but not together, and
 * refusals that must stop the probe. The kernel itself is exercised by
 * selftests/vduse.sh in a 6.12 guest.
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vnet/device.h"
#include "vnet/transport.h"
#include "vnet/vduse.h"

#include "test.h"

#define BIT64(n)	(1ULL << (n))

/* vnet's default features as VDUSE carries them (bits 0-63) */
static __u64 default_word(void)
{
	struct vnet_features f = vnet_netdev_default_features();

	return vnet_features_u64(&f);
}

static __u64 closure64(__u64 w)
{
	struct vnet_features f = vnet_features_from_u64(w);

	f = vnet_net_features_closure(&f);
	return vnet_features_u64(&f);
}

static int check64(__u64 w, const char **why)
{
	struct vnet_features f = vnet_features_from_u64(w);

	return vnet_net_features_check(&f, why);
}

struct fake_kernel {
	__u64 refused;		/* any of these: EINVAL */
	__u64 not_together;	/* all of these at once: EINVAL */
	int other_err;		/* != 0: every try fails so */
	unsigned int tries;
};

static int fake_try(__u64 features, void *opaque)
{
	struct fake_kernel *k = opaque;

	k->tries++;
	if (k->other_err)
		return k->other_err;
	if (features & k->refused)
		return -EINVAL;
	if (k->not_together && (features & k->not_together) == k->not_together)
		return -EINVAL;
	return 0;
}

/* what 6.12's drivers/vdpa/vdpa_user/vduse_dev.c refuses for a net device */
static __u64 refused_612(void)
{
	return BIT64(VIRTIO_NET_F_CTRL_VQ) | BIT64(VIRTIO_NET_F_MQ) |
	       BIT64(VIRTIO_NET_F_CTRL_RX) | BIT64(VIRTIO_NET_F_CTRL_VLAN) |
	       BIT64(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT64(VIRTIO_NET_F_GUEST_ANNOUNCE) |
	       BIT64(VIRTIO_NET_F_RSS);
}

static void test_all_accepted_one_try(void)
{
	struct fake_kernel k = { 0 };
	__u64 want = default_word(), acc = 0;
	__u64 must = vnet_vduse_required_features();

	EXPECT(vnet_vduse_probe_with(want, must, fake_try, &k, &acc) == 0, "probe failed");
	EXPECT(acc == (want | must), "accepted %#llx", (unsigned long long)acc);
	EXPECT(k.tries == 1, "a kernel that takes everything costs one device, not %u", k.tries);
}

static void test_612_refusals_and_dependencies(void)
{
	struct fake_kernel k = { .refused = refused_612() };
	__u64 want = default_word(), acc = 0;
	__u64 must = vnet_vduse_required_features();
	const char *why = NULL;

	EXPECT(vnet_vduse_probe_with(want, must, fake_try, &k, &acc) == 0, "probe failed");
	EXPECT(!(acc & refused_612()), "refused bits kept: %#llx",
	       (unsigned long long)(acc & refused_612()));
	/* accepted alone but useless without the control queue (5.1.3.1) */
	EXPECT(!(acc & (BIT64(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT64(VIRTIO_NET_F_NOTF_COAL))),
	       "dependants of CTRL_VQ kept: %#llx", (unsigned long long)acc);
	EXPECT(check64(acc, &why) == 0, "result breaks a rule: %s", why);
	EXPECT((acc & must) == must, "required bits lost");
	EXPECT(acc & BIT64(VIRTIO_NET_F_MRG_RXBUF) && acc & BIT64(VIRTIO_NET_F_HOST_TSO4) &&
	       acc & BIT64(VIRTIO_NET_F_STATUS) && acc & BIT64(VIRTIO_NET_F_MTU),
	       "lost what 6.12 accepts: %#llx", (unsigned long long)acc);
	EXPECT(fake_try(acc, &(struct fake_kernel){ .refused = refused_612() }) == 0,
	       "the kernel would refuse the result");
}

static void test_fine_alone_not_together(void)
{
	__u64 pair = BIT64(VIRTIO_NET_F_MTU) | BIT64(VIRTIO_NET_F_SPEED_DUPLEX);
	struct fake_kernel k = { .not_together = pair };
	__u64 want = default_word(), acc = 0;
	__u64 must = vnet_vduse_required_features();

	EXPECT(vnet_vduse_probe_with(want, must, fake_try, &k, &acc) == 0, "probe failed");
	EXPECT((acc & pair) != pair, "both kept: the kernel refuses that");
	EXPECT(acc & pair, "neither kept: each alone is fine");
	k.tries = 0;
	EXPECT(fake_try(acc, &k) == 0, "the kernel refuses the result");
}

static void test_stops_on_other_errors(void)
{
	struct fake_kernel k = { .other_err = -EPERM };
	__u64 acc = 0x1234;

	EXPECT(vnet_vduse_probe_with(default_word(),
				     vnet_vduse_required_features(), fake_try, &k,
				     &acc) == -EPERM, "EPERM not passed on");
	EXPECT(k.tries == 1 && acc == 0x1234, "went on after EPERM (%u tries)", k.tries);
}

static void test_minimum_refused(void)
{
	struct fake_kernel k = { .refused = BIT64(VIRTIO_F_ACCESS_PLATFORM) };
	__u64 acc = 0;

	EXPECT(vnet_vduse_probe_with(default_word(),
				     vnet_vduse_required_features(), fake_try, &k,
				     &acc) == -EINVAL, "a kernel refusing the minimum");
	EXPECT(k.tries == 2, "whole set, then the minimum: %u tries", k.tries);
}

static void test_closure(void)
{
	__u64 f = BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_NET_F_HOST_ECN) |
		  BIT64(VIRTIO_NET_F_HOST_TSO4) | BIT64(VIRTIO_NET_F_CTRL_RX_EXTRA) |
		  BIT64(VIRTIO_NET_F_CTRL_RX);

	/* TSO4 needs CSUM, ECN needs a TSO, RX_EXTRA needs RX needs CTRL_VQ */
	EXPECT(closure64(f) == BIT64(VIRTIO_F_VERSION_1),
	       "closure %#llx", (unsigned long long)closure64(f));
	f |= BIT64(VIRTIO_NET_F_CSUM);
	EXPECT(closure64(f) ==
	       (BIT64(VIRTIO_F_VERSION_1) | BIT64(VIRTIO_NET_F_CSUM) |
		BIT64(VIRTIO_NET_F_HOST_TSO4) | BIT64(VIRTIO_NET_F_HOST_ECN)),
	       "closure with CSUM %#llx", (unsigned long long)closure64(f));
}

/*
 * Packed rings are not carried over VDUSE (vduse_probe.c): asked for by
 * name, the device is refused before the kernel is asked, on any machine,
 * and the request is left as it was.
 */
static void test_packed_refused_by_name(void)
{
	struct vnet_netdev_params p = { .max_vqp = 1 };
	const struct vnet_transport_ops *ops;
	const char *why = NULL;
	int err = 0;

	ops = vnet_transport_find(VNET_TRANSPORT_VDUSE, &err, &why);
	EXPECT(ops && ops->features, "no VDUSE transport: %d %s", err, why ? why : "");
	if (!ops || !ops->features)
		return;
	p.features = vnet_features_from_u64(BIT64(VIRTIO_F_VERSION_1) |
					    BIT64(VIRTIO_F_RING_PACKED));
	err = ops->features(&p, true, NULL, &why);
	EXPECT(err == -EOPNOTSUPP, "packed by name over VDUSE: %d", err);
	EXPECT(why && strstr(why, "RING_PACKED"), "error text: %s", why ? why : "(none)");
	EXPECT(vnet_features_has(&p.features, VIRTIO_F_RING_PACKED), "request changed");
}

int main(void)
{
	RUN(test_all_accepted_one_try);
	RUN(test_612_refusals_and_dependencies);
	RUN(test_fine_alone_not_together);
	RUN(test_stops_on_other_errors);
	RUN(test_minimum_refused);
	RUN(test_closure);
	RUN(test_packed_refused_by_name);
	return test_summary();
}
