/* SPDX-License-Identifier: MIT */
/*
 * A set of virtio feature bits, every bit the spec defines: virtio-net has
 * bits above 63 since v1.4 (VIRTIO_NET_F_RSS_CONTEXT is 64, the UDP tunnel
 * GSO bits 65-68, OUT_NET_HEADER 69, IPSEC 70), so one __u64 no longer holds
 * a device's features.
 *
 * Who uses what: the device model, the registry and the netlink layer keep
 * sets. A protocol that carries 64-bit words (vhost-user GET/SET_FEATURES,
 * vdpa netlink's u64 attributes) converts at its boundary with
 * vnet_features_from_u64() / vnet_features_u64(); the engine and the
 * workers only ever test bits below 64 and read the first word.
 */
#ifndef VNET_FEATURES_H
#define VNET_FEATURES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define VNET_FEATURE_BITS	128
#define VNET_FEATURE_WORDS	(VNET_FEATURE_BITS / 64)

/* virtio-net v1.4 bits the build host's linux/virtio_net.h may lack */
#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4	54
#endif
#ifndef VIRTIO_NET_F_GUEST_USO6
#define VIRTIO_NET_F_GUEST_USO6	55
#endif
#ifndef VIRTIO_NET_F_HOST_USO
#define VIRTIO_NET_F_HOST_USO	56
#endif
#ifndef VIRTIO_NET_F_HASH_TUNNEL
#define VIRTIO_NET_F_HASH_TUNNEL	51
#endif
#ifndef VIRTIO_NET_F_VQ_NOTF_COAL
#define VIRTIO_NET_F_VQ_NOTF_COAL	52
#endif
#ifndef VIRTIO_NET_F_RSS_CONTEXT
#define VIRTIO_NET_F_RSS_CONTEXT	64
#endif
#ifndef VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO
#define VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO	65
#define VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM	66
#define VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO	67
#define VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO_CSUM	68
#endif

/* Bit n is bit n % 64 of w[n / 64]. */
struct vnet_features {
	__u64 w[VNET_FEATURE_WORDS];
};

static inline bool vnet_features_has(const struct vnet_features *f, unsigned int bit)
{
	return bit < VNET_FEATURE_BITS && (f->w[bit / 64] >> (bit % 64) & 1);
}

/* 0, or -ERANGE for a bit the type cannot hold (nothing changes) */
static inline int vnet_features_set(struct vnet_features *f, unsigned int bit)
{
	if (bit >= VNET_FEATURE_BITS)
		return -ERANGE;
	f->w[bit / 64] |= 1ull << (bit % 64);
	return 0;
}

static inline int vnet_features_clear(struct vnet_features *f, unsigned int bit)
{
	if (bit >= VNET_FEATURE_BITS)
		return -ERANGE;
	f->w[bit / 64] &= ~(1ull << (bit % 64));
	return 0;
}

/* a ∩ b */
static inline struct vnet_features vnet_features_and(const struct vnet_features *a,
						     const struct vnet_features *b)
{
	struct vnet_features r;

	for (unsigned int i = 0; i < VNET_FEATURE_WORDS; i++)
		r.w[i] = a->w[i] & b->w[i];
	return r;
}

/* a \ b: the bits of a that b lacks */
static inline struct vnet_features vnet_features_andnot(const struct vnet_features *a,
							const struct vnet_features *b)
{
	struct vnet_features r;

	for (unsigned int i = 0; i < VNET_FEATURE_WORDS; i++)
		r.w[i] = a->w[i] & ~b->w[i];
	return r;
}

static inline bool vnet_features_empty(const struct vnet_features *f)
{
	for (unsigned int i = 0; i < VNET_FEATURE_WORDS; i++)
		if (f->w[i])
			return false;
	return true;
}

/* a ⊆ b: every bit of a is in b */
static inline bool vnet_features_subset(const struct vnet_features *a,
					const struct vnet_features *b)
{
	for (unsigned int i = 0; i < VNET_FEATURE_WORDS; i++)
		if (a->w[i] & ~b->w[i])
			return false;
	return true;
}

static inline bool vnet_features_equal(const struct vnet_features *a,
				       const struct vnet_features *b)
{
	return vnet_features_subset(a, b) && vnet_features_subset(b, a);
}

/* a 64-bit protocol word (bits 0-63) as a set */
static inline struct vnet_features vnet_features_from_u64(__u64 word)
{
	struct vnet_features f = { .w = { word } };

	return f;
}

/* bits 0-63, what a 64-bit protocol word carries (the rest is dropped) */
static inline __u64 vnet_features_u64(const struct vnet_features *f)
{
	return f->w[0];
}

/*
 * Text form, for the state file and messages: "0x" and hexadecimal digits,
 * most significant first, no leading zeros ("0x0" for the empty set). A set
 * within 64 bits reads exactly like a %#llx of its word. Returns the length
 * or -ENOSPC.
 */
int vnet_features_format(const struct vnet_features *f, char *buf, size_t len);
/* The same (the "0x" optional); -EINVAL for anything else or too many bits. */
int vnet_features_parse(const char *s, struct vnet_features *f);

#endif
