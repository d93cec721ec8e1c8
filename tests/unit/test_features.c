// SPDX-License-Identifier: MIT
/*
 * Feature sets (include/vnet/features.h): bits on both sides of the 64-bit
 * word boundary, subset and intersection, the text form of the state file,
 * the 64-bit protocol words, and the spec 5.1.3.1 dependency rules on bits
 * above 63 (virtio-net v1.4: RSS_CONTEXT, the UDP tunnel GSO bits).
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/device.h"
#include "vnet/features.h"
#include "test.h"

static struct vnet_features set_of(const unsigned int *bits, unsigned int n)
{
	struct vnet_features f = { 0 };

	for (unsigned int i = 0; i < n; i++)
		vnet_features_set(&f, bits[i]);
	return f;
}

#define SET(...) set_of((const unsigned int[]){ __VA_ARGS__ }, \
			sizeof((const unsigned int[]){ __VA_ARGS__ }) / sizeof(unsigned int))

static void test_bits_across_words(void)
{
	static const unsigned int bits[] = { 0, 63, 64, 100, VNET_FEATURE_BITS - 1 };
	struct vnet_features f = { 0 };

	for (unsigned int i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		EXPECT(!vnet_features_has(&f, bits[i]), "bit %u set in an empty set", bits[i]);
		EXPECT(vnet_features_set(&f, bits[i]) == 0, "set %u", bits[i]);
		EXPECT(vnet_features_has(&f, bits[i]), "bit %u not set", bits[i]);
	}
	EXPECT(f.w[0] == (1ull | 1ull << 63), "word 0: %llx", (unsigned long long)f.w[0]);
	EXPECT(f.w[1] == (1ull | 1ull << 36 | 1ull << 63), "word 1: %llx",
	       (unsigned long long)f.w[1]);
	/* neighbours stay clear */
	EXPECT(!vnet_features_has(&f, 1) && !vnet_features_has(&f, 62) &&
	       !vnet_features_has(&f, 65) && !vnet_features_has(&f, 99), "neighbour set");
	EXPECT(vnet_features_clear(&f, 64) == 0 && !vnet_features_has(&f, 64) &&
	       vnet_features_has(&f, 63) && vnet_features_has(&f, 100), "clear 64");
	/* beyond the type: refused, nothing changes */
	struct vnet_features before = f;

	EXPECT(vnet_features_set(&f, VNET_FEATURE_BITS) == -ERANGE, "set past the end");
	EXPECT(vnet_features_clear(&f, 1000) == -ERANGE, "clear past the end");
	EXPECT(!vnet_features_has(&f, VNET_FEATURE_BITS), "has past the end");
	EXPECT(vnet_features_equal(&f, &before), "a refused bit changed the set");
}

static void test_subset_and(void)
{
	struct vnet_features a = SET(0, 63, 64), b = SET(0, 5, 63, 64, 100), e = { 0 };
	struct vnet_features x, y, lo = SET(0, 63), hi = SET(64);

	EXPECT(vnet_features_subset(&a, &b), "a in b");
	EXPECT(!vnet_features_subset(&b, &a), "b in a");
	EXPECT(vnet_features_subset(&e, &a) && vnet_features_subset(&a, &a), "empty, self");
	/* a bit above 63 alone decides */
	EXPECT(!vnet_features_subset(&hi, &lo), "bit 64 ignored by subset");
	x = vnet_features_and(&b, &a);
	EXPECT(vnet_features_equal(&x, &a), "and");
	x = vnet_features_and(&lo, &hi);
	EXPECT(vnet_features_empty(&x), "and of disjoint words");
	x = vnet_features_andnot(&b, &a);
	y = SET(5, 100);
	EXPECT(vnet_features_equal(&x, &y), "andnot");
	EXPECT(!vnet_features_empty(&hi) && vnet_features_empty(&e), "empty");
}

static void test_u64_boundary(void)
{
	struct vnet_features f = vnet_features_from_u64(1ull << 63 | 1);

	EXPECT(vnet_features_has(&f, 0) && vnet_features_has(&f, 63) && !f.w[1], "from u64");
	vnet_features_set(&f, 64);
	/* a 64-bit protocol word carries bits 0-63 only */
	EXPECT(vnet_features_u64(&f) == (1ull << 63 | 1), "to u64: %llx",
	       (unsigned long long)vnet_features_u64(&f));
}

static void test_text(void)
{
	struct vnet_features f = { 0 }, g, seven = SET(7);
	char buf[64];

	EXPECT(vnet_features_format(&f, buf, sizeof(buf)) > 0 && !strcmp(buf, "0x0"), "%s", buf);
	f = vnet_features_from_u64(0x1234abcdull);
	vnet_features_format(&f, buf, sizeof(buf));
	/* within 64 bits: what the state file always said (%#llx) */
	EXPECT(!strcmp(buf, "0x1234abcd"), "%s", buf);
	f = SET(0, 64, 100);
	vnet_features_format(&f, buf, sizeof(buf));
	EXPECT(!strcmp(buf, "0x10000000010000000000000001"), "%s", buf);
	EXPECT(vnet_features_parse(buf, &g) == 0 && vnet_features_equal(&f, &g), "round trip");
	EXPECT(vnet_features_parse("0x0000000000000000000000000000000000001", &g) == 0 &&
	       vnet_features_u64(&g) == 1, "leading zeros");
	EXPECT(vnet_features_parse("ff", &g) == 0 && vnet_features_u64(&g) == 0xff, "no 0x");
	EXPECT(vnet_features_format(&f, buf, 8) == -ENOSPC, "short buffer");
	/* bad input: an error, nothing written */
	g = seven;
	EXPECT(vnet_features_parse("0x", &g) == -EINVAL, "empty");
	EXPECT(vnet_features_parse("0x12g4", &g) == -EINVAL, "not hex");
	EXPECT(vnet_features_parse("0x1ffffffffffffffffffffffffffffffff", &g) == -EINVAL,
	       "129 bits");
	EXPECT(vnet_features_parse("-1", &g) == -EINVAL, "negative");
	EXPECT(vnet_features_equal(&g, &seven), "a refused parse wrote");
}

/* spec 5.1.3.1 in virtio-net v1.4, with the rules on bits above 63 */
static void test_dependencies_above_63(void)
{
	struct vnet_features f;
	const char *why = NULL;

	f = SET(VIRTIO_NET_F_RSS_CONTEXT);
	EXPECT(vnet_net_features_check(&f, &why) == -EINVAL, "RSS_CONTEXT alone");
	EXPECT(why && strstr(why, "RSS_CONTEXT"), "why: %s", why ? why : "-");
	f = SET(VIRTIO_NET_F_RSS_CONTEXT, VIRTIO_NET_F_CTRL_VQ);
	EXPECT(vnet_net_features_check(&f, NULL) == -EINVAL, "RSS_CONTEXT without RSS");
	f = SET(VIRTIO_NET_F_RSS_CONTEXT, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_RSS);
	EXPECT(vnet_net_features_check(&f, NULL) == 0, "RSS_CONTEXT with CTRL_VQ and RSS");
	/* "requires all of": three of four is not enough */
	f = SET(VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO, VIRTIO_NET_F_GUEST_CSUM,
		VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_USO4);
	EXPECT(vnet_net_features_check(&f, NULL) == -EINVAL, "tunnel GSO without USO6");
	vnet_features_set(&f, VIRTIO_NET_F_GUEST_USO6);
	EXPECT(vnet_net_features_check(&f, NULL) == 0, "tunnel GSO with all four");
	vnet_features_set(&f, VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM);
	EXPECT(vnet_net_features_check(&f, NULL) == 0, "tunnel GSO CSUM");
	vnet_features_clear(&f, VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO);
	EXPECT(vnet_net_features_check(&f, NULL) == -EINVAL, "tunnel GSO CSUM alone");
	f = SET(VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4,
		VIRTIO_NET_F_HOST_TSO6);
	EXPECT(vnet_net_features_check(&f, NULL) == -EINVAL, "host tunnel GSO without USO");
	/* below 64 the rules hold as before, "one of" included */
	f = SET(VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_CTRL_VQ);
	EXPECT(vnet_net_features_check(&f, NULL) == -EINVAL, "HASH_TUNNEL without RSS/report");
	vnet_features_set(&f, VIRTIO_NET_F_HASH_REPORT);
	EXPECT(vnet_net_features_check(&f, NULL) == 0, "HASH_TUNNEL with HASH_REPORT");
	f = SET(VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO6);
	EXPECT(vnet_net_features_check(&f, NULL) == 0, "GUEST_ECN with one of TSO4/6");
}

/* A driver may not take a bit above 63 the device did not offer. */
static void test_device_offer_above_63(void)
{
	struct vnet_netdev_params p = { .name = "f0", .mac = { 2, 0, 0, 0, 0, 1 }, .max_vqp = 1 };
	struct vnet_features drv, got;
	struct vnet_netdev *dev;

	p.features = SET(VIRTIO_F_VERSION_1, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_RSS,
			 VIRTIO_NET_F_RSS_CONTEXT);
	EXPECT(vnet_netdev_create(&p, &dev) == 0, "create with bit 64 offered");
	drv = SET(VIRTIO_F_VERSION_1, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_RSS,
		  VIRTIO_NET_F_RSS_CONTEXT);
	EXPECT(vnet_netdev_set_driver_features(dev, &drv) == 0, "driver takes bit 64");
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK);
	vnet_netdev_features(dev, &got, NULL);
	EXPECT(vnet_features_has(&got, VIRTIO_NET_F_RSS_CONTEXT), "bit 64 negotiated");
	vnet_netdev_set_status(dev, 0);
	vnet_features_set(&drv, 100);
	EXPECT(vnet_netdev_set_driver_features(dev, &drv) == -EINVAL, "bit 100 not offered");
	vnet_netdev_destroy(dev);
	/* an offer that breaks a rule above 63 is refused at creation */
	vnet_features_clear(&p.features, VIRTIO_NET_F_RSS);
	EXPECT(vnet_netdev_create(&p, &dev) == -EINVAL, "RSS_CONTEXT offered without RSS");
}

int main(void)
{
	RUN(test_bits_across_words);
	RUN(test_subset_and);
	RUN(test_u64_boundary);
	RUN(test_text);
	RUN(test_dependencies_above_63);
	RUN(test_device_offer_above_63);
	return test_summary();
}
