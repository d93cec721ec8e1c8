// SPDX-License-Identifier: MIT
/*
 * The virtio-net device model: feature-dependency rules (spec 5.1.3.1),
 * FEATURES_OK, config space (5.1.4), reset, link/announce notifications and
 * every control-queue class (5.1.6.5), good and bad commands: a bad one gets
 * VIRTIO_NET_ERR and leaves the state exactly as it was.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/device.h"
#include "test.h"

#define BIT(n) (1ull << (n))

static int config_notifies;

/* the transport's config change notification, as the device calls it */
static void on_config(struct vnet_transport *t)
{
	config_notifies++;
}

/* the feature calls with a 64-bit word, as most cases write features */
static int check_word(__u64 word, const char **why)
{
	return vnet_net_features_check(&(struct vnet_features){ .w = { word } }, why);
}

static int set_driver_word(struct vnet_netdev *dev, __u64 word)
{
	return vnet_netdev_set_driver_features(dev, &(struct vnet_features){ .w = { word } });
}

/* negotiated driver features, bits 0-63 */
static __u64 driver_word(struct vnet_netdev *dev)
{
	struct vnet_features f;

	vnet_netdev_features(dev, &f, NULL);
	return vnet_features_u64(&f);
}

static struct vnet_netdev *make_dev(__u16 max_vqp)
{
	struct vnet_netdev_params p = {
		.name = "t0", .mac = { 0x02, 0, 0, 0, 0, 1 }, .max_vqp = max_vqp,
		.mtu = 1500, .speed = 10000, .duplex = 1,
	};
	struct vnet_netdev *dev = NULL;

	if (vnet_netdev_create(&p, &dev))
		return NULL;
	vnet_netdev_bind_transport(dev, NULL, NULL, on_config);
	return dev;
}

/* negotiate everything offered, as a well-behaved driver */
static struct vnet_netdev *ready_dev(__u16 max_vqp)
{
	struct vnet_netdev *dev = make_dev(max_vqp);

	if (!dev)
		return NULL;
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vnet_netdev_set_driver_features(dev, &dev->offered_set);
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	return dev;
}

static void test_feature_rules(void)
{
	const char *why = NULL;
	struct vnet_features all = vnet_netdev_default_features();

	EXPECT(vnet_net_features_check(&all, NULL) == 0, "offered set keeps the rules");
	EXPECT(check_word(BIT(VIRTIO_NET_F_GUEST_TSO4), &why) == -EINVAL,
	       "GUEST_TSO4 without GUEST_CSUM");
	EXPECT(why && strstr(why, "GUEST_TSO4"), "why: %s", why ? why : "-");
	EXPECT(check_word(BIT(VIRTIO_NET_F_GUEST_ECN) |
				       BIT(VIRTIO_NET_F_GUEST_CSUM), NULL) == -EINVAL,
	       "GUEST_ECN without TSO");
	EXPECT(check_word(BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
				       BIT(VIRTIO_NET_F_GUEST_CSUM), NULL) == 0,
	       "GUEST_ECN with TSO6");
	EXPECT(check_word(BIT(VIRTIO_NET_F_HOST_TSO6), NULL) == -EINVAL, "HOST_TSO6");
	EXPECT(check_word(BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_CSUM), NULL),
	       "HOST_ECN without TSO");
	EXPECT(check_word(BIT(61) | BIT(VIRTIO_NET_F_CSUM), NULL), "RSC_EXT");
	static const int need_cvq[] = { VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VLAN,
		VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_MAC_ADDR,
		VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_RSS };
	for (unsigned int i = 0; i < sizeof(need_cvq) / sizeof(need_cvq[0]); i++) {
		EXPECT(check_word(BIT(need_cvq[i]), NULL) == -EINVAL,
		       "bit %d without CTRL_VQ", need_cvq[i]);
		EXPECT(check_word(BIT(need_cvq[i]) | BIT(VIRTIO_NET_F_CTRL_VQ) |
					       BIT(VIRTIO_NET_F_CTRL_RX), NULL) == 0,
		       "bit %d with CTRL_VQ", need_cvq[i]);
	}
}

static void test_features_ok(void)
{
	struct vnet_netdev *dev = make_dev(2);
	__u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	EXPECT(dev, "create");
	if (!dev)
		return;
	/* not offered: refused */
	EXPECT(set_driver_word(dev, BIT(VIRTIO_F_VERSION_1) | BIT(41)) == -EINVAL,
	       "unoffered bit accepted");
	/* breaking a rule: refused, FEATURES_OK does not stick */
	EXPECT(set_driver_word(dev, BIT(VIRTIO_F_VERSION_1) |
					       BIT(VIRTIO_NET_F_MQ)) == -EINVAL, "MQ w/o CTRL_VQ");
	dev->driver_set = vnet_features_from_u64(BIT(VIRTIO_F_VERSION_1) |
						 BIT(VIRTIO_NET_F_MQ));	/* forced */
	vnet_netdev_set_status(dev, s | VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT(!(vnet_netdev_status(dev) & VIRTIO_CONFIG_S_FEATURES_OK), "FEATURES_OK stuck");
	/* a good set */
	EXPECT(set_driver_word(dev, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) |
					       BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_MQ)) == 0,
	       "good set");
	vnet_netdev_set_status(dev, s | VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT(vnet_netdev_status(dev) & VIRTIO_CONFIG_S_FEATURES_OK, "FEATURES_OK refused");
	EXPECT(driver_word(dev) & BIT(VIRTIO_NET_F_MQ), "negotiated");
	/* features are frozen after FEATURES_OK */
	EXPECT(set_driver_word(dev, BIT(VIRTIO_F_VERSION_1)) == -EBUSY, "frozen");
	/* reset: status 0, features forgotten */
	vnet_netdev_set_status(dev, 0);
	EXPECT(vnet_netdev_status(dev) == 0 && driver_word(dev) == 0, "reset");
	vnet_netdev_destroy(dev);
}

static void test_config_space(void)
{
	struct vnet_netdev *dev = make_dev(4);
	struct vnet_netdev_config cfg;
	__u16 mtu;

	EXPECT(dev, "create");
	if (!dev)
		return;
	EXPECT(vnet_netdev_read_config(dev, &cfg) == 24, "size");
	EXPECT(cfg.mac[0] == 2 && cfg.mac[5] == 1, "mac");
	EXPECT(le16toh(cfg.status) == VIRTIO_NET_S_LINK_UP, "status %#x", le16toh(cfg.status));
	EXPECT(le16toh(cfg.max_virtqueue_pairs) == 4, "max_vqp");
	EXPECT(le16toh(cfg.mtu) == 1500, "mtu");
	EXPECT(le32toh(cfg.speed) == 10000 && cfg.duplex == 1, "speed/duplex");
	EXPECT(cfg.rss_max_key_size >= 40, "rss_max_key_size %u", cfg.rss_max_key_size);
	EXPECT(le16toh(cfg.rss_max_indirection_table_length) >= 128, "indir len");
	EXPECT(le32toh(cfg.supported_hash_types) == 0x1ff, "hash types");
	/* partial reads by offset (vhost-user GET_CONFIG), bounds checked */
	EXPECT(vnet_netdev_config_read(dev, 10, &mtu, 2) == 0 && le16toh(mtu) == 1500, "mtu@10");
	EXPECT(vnet_netdev_config_read(dev, 23, &mtu, 2) == -EINVAL, "past the end");
	EXPECT(vnet_netdev_config_read(dev, 0xffffffff, &mtu, 2) == -EINVAL, "wrap");
	vnet_netdev_destroy(dev);

	/* bad parameters are refused */
	struct vnet_netdev_params p = { .name = "x", .max_vqp = 0 };
	EXPECT(vnet_netdev_create(&p, &dev) == -EINVAL, "max_vqp 0");
	p.max_vqp = 1, p.mtu = 60;
	EXPECT(vnet_netdev_create(&p, &dev) == -EINVAL, "mtu 60");
	p.mtu = 1500, p.mac[0] = 1;
	EXPECT(vnet_netdev_create(&p, &dev) == -EINVAL, "multicast mac");
}

static void test_link_and_announce(void)
{
	struct vnet_netdev *dev = ready_dev(1);
	struct vnet_netdev_config cfg;

	EXPECT(dev, "create");
	if (!dev)
		return;
	config_notifies = 0;
	vnet_netdev_set_link(dev, false);
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(!(le16toh(cfg.status) & VIRTIO_NET_S_LINK_UP), "link down");
	EXPECT(config_notifies == 1, "notified %d", config_notifies);
	vnet_netdev_set_link(dev, false);
	EXPECT(config_notifies == 1, "no change, no notification");
	vnet_netdev_set_link(dev, true);
	EXPECT(config_notifies == 2, "link up notified");

	EXPECT(vnet_netdev_announce(dev) == 0, "announce");
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(le16toh(cfg.status) & VIRTIO_NET_S_ANNOUNCE, "S_ANNOUNCE set");
	__u8 ack[2] = { VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK };
	EXPECT(vnet_netdev_cvq_command(dev, ack, 2) == VIRTIO_NET_OK, "ack");
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(!(le16toh(cfg.status) & VIRTIO_NET_S_ANNOUNCE), "S_ANNOUNCE cleared");
	vnet_netdev_destroy(dev);
}

/*
 * SPEED_DUPLEX (spec 5.1.4.2): a new speed is not shown while LINK_UP is
 * set; it is there when the link comes back, with one notification.
 */
static void test_speed_duplex(void)
{
	struct vnet_netdev *dev = ready_dev(1);
	struct vnet_netdev_config cfg;

	EXPECT(dev, "create");
	if (!dev)
		return;
	config_notifies = 0;
	vnet_netdev_set_speed(dev, 25000, 0);
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(le32toh(cfg.speed) == 10000 && cfg.duplex == 1, "link up: still %u/%u",
	       le32toh(cfg.speed), cfg.duplex);
	EXPECT(config_notifies == 0, "nothing to notify yet (%d)", config_notifies);
	vnet_netdev_set_link(dev, false);
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(le32toh(cfg.speed) == 25000 && cfg.duplex == 0, "link down: shown (%u/%u)",
	       le32toh(cfg.speed), cfg.duplex);
	EXPECT(config_notifies == 1, "one notification for link and speed (%d)", config_notifies);
	/* while down a change shows at once */
	vnet_netdev_set_speed(dev, 0x80000000u, 7);
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(le32toh(cfg.speed) == 0xffffffff && cfg.duplex == 0xff,
	       "out of range: unknown (%#x/%#x)", le32toh(cfg.speed), cfg.duplex);
	EXPECT(config_notifies == 2, "speed change while down notified (%d)", config_notifies);
	/* nd_link_change's order: speed while down (shown at once), then up */
	vnet_netdev_set_speed(dev, 10000, 1);
	vnet_netdev_set_link(dev, true);
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(le32toh(cfg.speed) == 10000 && cfg.duplex == 1 &&
	       (le16toh(cfg.status) & VIRTIO_NET_S_LINK_UP), "back up at 10000/full");
	/* the same speed again: no notification */
	vnet_netdev_set_speed(dev, 10000, 1);
	EXPECT(config_notifies == 4, "notified %d", config_notifies);
	vnet_netdev_destroy(dev);
}

/* --- control queue --------------------------------------------------------- */

static int cmd(struct vnet_netdev *dev, const void *b, size_t len)
{
	return vnet_netdev_cvq_command(dev, b, len);
}

/* run a command that must fail and check nothing changed */
static void expect_err(struct vnet_netdev *dev, const void *b, size_t len, const char *what)
{
	struct vnet_net_state before = *vnet_netdev_state(dev);

	EXPECT(cmd(dev, b, len) == VIRTIO_NET_ERR, "%s accepted", what);
	EXPECT(!memcmp(&before, vnet_netdev_state(dev), sizeof(before)), "%s changed state", what);
}

static void test_cvq_rx_mode(void)
{
	struct vnet_netdev *dev = ready_dev(1);
	__u8 b[4] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };

	if (!dev)
		return;
	EXPECT(cmd(dev, b, 3) == VIRTIO_NET_OK && vnet_netdev_state(dev)->promisc, "promisc");
	b[1] = VIRTIO_NET_CTRL_RX_NOBCAST;
	EXPECT(cmd(dev, b, 3) == VIRTIO_NET_OK && vnet_netdev_state(dev)->nobcast, "nobcast");
	b[2] = 2;
	expect_err(dev, b, 3, "value 2");
	b[2] = 1;
	expect_err(dev, b, 4, "long");
	expect_err(dev, b, 2, "short");
	b[1] = 6;
	expect_err(dev, b, 3, "command 6");
	b[0] = 9;
	expect_err(dev, b, 3, "class 9");
	expect_err(dev, b, 1, "1 byte");
	vnet_netdev_destroy(dev);

	/* CTRL_RX without RX_EXTRA: only PROMISC/ALLMULTI */
	dev = make_dev(1);
	set_driver_word(dev, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_VQ) |
					BIT(VIRTIO_NET_F_CTRL_RX));
	__u8 c[3] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1 };
	EXPECT(cmd(dev, c, 3) == VIRTIO_NET_OK, "allmulti");
	c[1] = VIRTIO_NET_CTRL_RX_ALLUNI;
	expect_err(dev, c, 3, "alluni without RX_EXTRA");
	vnet_netdev_destroy(dev);

	/* nothing without CTRL_VQ */
	dev = make_dev(1);
	set_driver_word(dev, BIT(VIRTIO_F_VERSION_1));
	c[1] = VIRTIO_NET_CTRL_RX_PROMISC;
	expect_err(dev, c, 3, "no CTRL_VQ");
	vnet_netdev_destroy(dev);
}

static void test_cvq_mac(void)
{
	struct vnet_netdev *dev = ready_dev(1);
	__u8 b[64] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET };
	size_t n = 2;

	if (!dev)
		return;
	/* 2 unicast, 1 multicast */
	b[n] = 2, n += 4;
	memcpy(b + n, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x03", 12), n += 12;
	b[n] = 1, n += 4;
	memcpy(b + n, "\x01\x00\x5e\x00\x00\x01", 6), n += 6;
	EXPECT(cmd(dev, b, n) == VIRTIO_NET_OK, "table set");
	EXPECT(vnet_netdev_state(dev)->n_uc == 2 && vnet_netdev_state(dev)->n_mc == 1, "counts");
	EXPECT(vnet_netdev_state(dev)->macs[2][0] == 1, "mc entry");
	expect_err(dev, b, n - 1, "table cut");
	expect_err(dev, b, n + 1, "table long");
	b[2] = 200;
	expect_err(dev, b, n, "uc count too big");
	b[2] = 2;
	b[6] = 0x03;	/* multicast in the unicast list */
	expect_err(dev, b, n, "multicast as unicast");
	b[6] = 0x02;
	/* empty table */
	__u8 e[10] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET };
	EXPECT(cmd(dev, e, 10) == VIRTIO_NET_OK && vnet_netdev_state(dev)->n_uc == 0, "empty");

	config_notifies = 0;
	__u8 a[8] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, 2, 1, 2, 3, 4, 5 };
	EXPECT(cmd(dev, a, 8) == VIRTIO_NET_OK, "addr set");
	struct vnet_netdev_config cfg;
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(cfg.mac[1] == 1 && cfg.mac[5] == 5, "config mac follows");
	EXPECT(config_notifies == 1, "config change on MAC_ADDR_SET");
	a[2] = 3;
	expect_err(dev, a, 8, "multicast addr");
	memset(a + 2, 0, 6);
	expect_err(dev, a, 8, "zero addr");
	expect_err(dev, a, 7, "short addr");
	vnet_netdev_destroy(dev);
}

static void test_cvq_vlan(void)
{
	struct vnet_netdev *dev = ready_dev(1);
	__u8 b[4] = { VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, 100, 0 };

	if (!dev)
		return;
	EXPECT(cmd(dev, b, 4) == VIRTIO_NET_OK && vnet_net_state_vlan_ok(vnet_netdev_state(dev), 100),
	       "add 100");
	b[1] = VIRTIO_NET_CTRL_VLAN_DEL;
	EXPECT(cmd(dev, b, 4) == VIRTIO_NET_OK && !vnet_net_state_vlan_ok(vnet_netdev_state(dev), 100),
	       "del 100");
	b[1] = VIRTIO_NET_CTRL_VLAN_ADD;
	b[2] = 0, b[3] = 0x10;	/* 4096 */
	expect_err(dev, b, 4, "vid 4096");
	expect_err(dev, b, 3, "short");
	vnet_netdev_destroy(dev);
}

static size_t rss_cmd(__u8 *b, __u32 types, __u16 entries, __u16 q, __u16 max_tx, __u8 key_len)
{
	size_t n = 2, i;

	b[0] = VIRTIO_NET_CTRL_MQ, b[1] = VIRTIO_NET_CTRL_MQ_RSS_CONFIG;
	memcpy(b + n, &types, 4), n += 4;
	__u16 mask = (__u16)(entries - 1);
	memcpy(b + n, &mask, 2), n += 2;
	memcpy(b + n, &(__u16){ 0 }, 2), n += 2;
	for (i = 0; i < entries; i++) {
		__u16 v = (__u16)(i % q);

		memcpy(b + n, &v, 2), n += 2;
	}
	memcpy(b + n, &max_tx, 2), n += 2;
	b[n++] = key_len;
	for (i = 0; i < key_len; i++)
		b[n++] = (__u8)(0x6d + i);
	return n;
}

static void test_cvq_mq_rss(void)
{
	struct vnet_netdev *dev = ready_dev(4);
	__u8 b[600];
	size_t n;

	if (!dev)
		return;
	EXPECT(vnet_netdev_state(dev)->vq_pairs == 1, "one pair after reset");
	__u8 p[4] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 4, 0 };
	EXPECT(cmd(dev, p, 4) == VIRTIO_NET_OK && vnet_netdev_state(dev)->vq_pairs == 4, "4 pairs");
	EXPECT(vnet_netdev_state(dev)->steering == VNET_STEER_AUTO, "auto steering");
	p[2] = 5;
	expect_err(dev, p, 4, "5 pairs of 4");
	p[2] = 0;
	expect_err(dev, p, 4, "0 pairs");

	n = rss_cmd(b, 0x3f, 128, 4, 4, 40);
	EXPECT(cmd(dev, b, n) == VIRTIO_NET_OK, "rss 128 entries");
	const struct vnet_net_state *st = vnet_netdev_state(dev);
	EXPECT(st->steering == VNET_STEER_RSS && st->indir_mask == 127 && st->indir[5] == 1 &&
	       st->key_len == 40 && st->key[0] == 0x6d && st->hash_types == 0x3f, "rss state");
	n = rss_cmd(b, 0x3f, 256, 4, 4, 40);
	expect_err(dev, b, n, "256 entries > max 128");
	n = rss_cmd(b, 0x3f, 128, 4, 4, 40);
	b[4 + 2 + 4] = 3;	/* mask 3 stays, now 0x7f -> 0x..: not a power of two */
	b[6] = 5, b[7] = 0;
	expect_err(dev, b, n, "mask 5");
	n = rss_cmd(b, 0x3f, 8, 5, 4, 40);
	expect_err(dev, b, n, "queue index 4 of 4");
	n = rss_cmd(b, 0x3ff, 8, 4, 4, 40);
	expect_err(dev, b, n, "unsupported hash type");
	n = rss_cmd(b, 0x3f, 8, 4, 4, 41);
	expect_err(dev, b, n, "key 41 > 40");
	n = rss_cmd(b, 0x3f, 8, 4, 4, 40);
	expect_err(dev, b, n - 1, "cut key");
	expect_err(dev, b, 12, "cut table");
	n = rss_cmd(b, 0x3f, 8, 4, 5, 40);
	expect_err(dev, b, n, "max_tx_vq 5");
	n = rss_cmd(b, 0x3f, 8, 4, 0, 40);
	expect_err(dev, b, n, "max_tx_vq 0");

	/* HASH_CONFIG: reserved must be zero */
	__u8 h[2 + 4 + 8 + 1 + 40] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, 0x1f };
	h[14] = 40;
	EXPECT(cmd(dev, h, sizeof(h)) == VIRTIO_NET_OK, "hash config");
	EXPECT(vnet_netdev_state(dev)->hash_types == 0x1f &&
	       vnet_netdev_state(dev)->steering != VNET_STEER_RSS, "hash config state");
	h[7] = 1;
	expect_err(dev, h, sizeof(h), "reserved set");
	vnet_netdev_destroy(dev);

	/* RSS not negotiated */
	dev = make_dev(4);
	set_driver_word(dev, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_VQ) |
					BIT(VIRTIO_NET_F_MQ));
	n = rss_cmd(b, 0x3f, 8, 4, 4, 40);
	expect_err(dev, b, n, "rss without RSS");
	vnet_netdev_destroy(dev);
}

static void test_cvq_offloads_coal(void)
{
	struct vnet_netdev *dev = make_dev(1);
	__u8 b[10] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET };
	__u64 f = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_VQ) |
		  BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
		  BIT(VIRTIO_NET_F_NOTF_COAL);

	if (!dev)
		return;
	EXPECT(set_driver_word(dev, f) == 0, "features");
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT(vnet_netdev_state(dev)->guest_offloads == BIT(VIRTIO_NET_F_GUEST_CSUM),
	       "negotiated offloads start enabled");
	b[2] = 0;
	EXPECT(cmd(dev, b, 10) == VIRTIO_NET_OK && vnet_netdev_state(dev)->guest_offloads == 0, "off");
	b[2] = 1u << VIRTIO_NET_F_GUEST_TSO4 | 1u << VIRTIO_NET_F_GUEST_CSUM;
	b[3] = 1;	/* TSO4 is bit 7 of byte 0 ... */
	expect_err(dev, b, 10, "offload not negotiated");
	expect_err(dev, b, 9, "short");

	__u8 c[10] = { VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, 15, 0, 0, 0, 10 };
	EXPECT(cmd(dev, c, 10) == VIRTIO_NET_OK && vnet_netdev_state(dev)->rx_max_packets == 15 &&
	       vnet_netdev_state(dev)->rx_usecs == 10, "rx coal");
	c[1] = VIRTIO_NET_CTRL_NOTF_COAL_TX_SET;
	EXPECT(cmd(dev, c, 10) == VIRTIO_NET_OK && vnet_netdev_state(dev)->tx_max_packets == 15, "tx");
	c[1] = 2;	/* VQ_SET: VQ_NOTF_COAL is not offered */
	expect_err(dev, c, 10, "VQ_SET");

	/* reset: coalescing back to 0 (5.1.6.5.9.2), MAC table empty */
	vnet_netdev_reset(dev);
	EXPECT(vnet_netdev_state(dev)->rx_max_packets == 0 && vnet_netdev_state(dev)->n_uc == 0,
	       "reset state");
	vnet_netdev_destroy(dev);
}

/* the published state never changes in place: the flip leaves the old copy */
static void test_state_double_buffer(void)
{
	struct vnet_netdev *dev = ready_dev(2);
	const struct vnet_net_state *old;
	__u8 b[3] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	__u32 v;

	if (!dev)
		return;
	old = vnet_netdev_state(dev);
	v = old->version;
	EXPECT(cmd(dev, b, 3) == VIRTIO_NET_OK, "promisc");
	EXPECT(vnet_netdev_state(dev) != old && !old->promisc, "new copy published");
	EXPECT(vnet_netdev_state(dev)->version == v + 1, "version bumped");
	vnet_netdev_destroy(dev);
}

/*
 * The uplink worker pushes a device's state into the BPF maps only when
 * its version moved (uplink_dp.c push_state): every path that publishes a
 * new state must bump it, resets included, and never return to an old one.
 */
static void test_state_version_every_change(void)
{
	static const __u8 mac2[6] = { 0x02, 0, 0, 0, 0, 9 };
	__u8 b[3] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1 };
	struct vnet_netdev *dev = ready_dev(2);
	__u32 v;

	if (!dev)
		return;
	v = vnet_netdev_state(dev)->version;
	EXPECT(v > 0, "FEATURES_OK published version 0");
	EXPECT(cmd(dev, b, 3) == VIRTIO_NET_OK, "allmulti");
	EXPECT(vnet_netdev_state(dev)->version > v, "cvq command: version %u", v);
	v = vnet_netdev_state(dev)->version;
	vnet_netdev_set_mac(dev, mac2);
	EXPECT(vnet_netdev_state(dev)->version > v, "set_mac kept version %u", v);
	v = vnet_netdev_state(dev)->version;
	vnet_netdev_reset(dev);
	EXPECT(vnet_netdev_state(dev)->version > v, "reset went back to version %u",
	       vnet_netdev_state(dev)->version);
	v = vnet_netdev_state(dev)->version;
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vnet_netdev_set_driver_features(dev, &dev->offered_set);
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK);
	EXPECT(vnet_netdev_state(dev)->version > v, "FEATURES_OK kept version %u", v);
	/* a refused command publishes nothing */
	v = vnet_netdev_state(dev)->version;
	b[1] = 0x7f;
	EXPECT(cmd(dev, b, 3) == VIRTIO_NET_ERR, "unknown RX command accepted");
	EXPECT(vnet_netdev_state(dev)->version == v, "refused command bumped the version");
	vnet_netdev_destroy(dev);
}

/* Regression: reset after FEATURES_OK kept the MAC it copied from itself. */
static void test_features_ok_keeps_mac(void)
{
	struct vnet_netdev *dev = ready_dev(2);
	struct vnet_netdev_config cfg;
	static const __u8 mac[6] = { 0x02, 0, 0, 0, 0, 1 };

	EXPECT(dev, "create");
	if (!dev)
		return;
	EXPECT(!memcmp(vnet_netdev_state(dev)->mac, mac, 6), "state MAC lost at FEATURES_OK");
	vnet_netdev_read_config(dev, &cfg);
	EXPECT(!memcmp(cfg.mac, mac, 6), "config MAC %02x:..:%02x", cfg.mac[0], cfg.mac[5]);
	vnet_netdev_destroy(dev);
}

/* spec 5.1.2: controlq is queue 2N with MQ or RSS, else queue 2. */
static void test_cvq_index(void)
{
	struct vnet_netdev *dev = make_dev(4);
	__u64 base = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_VQ);

	EXPECT(dev, "create");
	if (!dev)
		return;
	EXPECT(set_driver_word(dev, base) == 0, "features");
	EXPECT(vnet_netdev_cvq_index(dev) == 2 && vnet_netdev_data_pairs(dev) == 1,
	       "no MQ: cvq %u pairs %u", vnet_netdev_cvq_index(dev), vnet_netdev_data_pairs(dev));
	EXPECT(set_driver_word(dev, base | BIT(VIRTIO_NET_F_MQ)) == 0, "MQ");
	EXPECT(vnet_netdev_cvq_index(dev) == 8 && vnet_netdev_data_pairs(dev) == 4,
	       "MQ: cvq %u pairs %u", vnet_netdev_cvq_index(dev), vnet_netdev_data_pairs(dev));
	/* a front-end keeping the control queue may use every pair */
	EXPECT(set_driver_word(dev, BIT(VIRTIO_F_VERSION_1)) == 0, "no cvq");
	EXPECT(vnet_netdev_data_pairs(dev) == 4, "no cvq: pairs %u", vnet_netdev_data_pairs(dev));
	vnet_netdev_destroy(dev);
}

int main(void)
{
	RUN(test_feature_rules);
	RUN(test_features_ok);
	RUN(test_config_space);
	RUN(test_link_and_announce);
	RUN(test_speed_duplex);
	RUN(test_cvq_rx_mode);
	RUN(test_cvq_mac);
	RUN(test_cvq_vlan);
	RUN(test_cvq_mq_rss);
	RUN(test_cvq_offloads_coal);
	RUN(test_state_double_buffer);
	RUN(test_state_version_every_change);
	RUN(test_features_ok_keeps_mac);
	RUN(test_cvq_index);
	return test_summary();
}
