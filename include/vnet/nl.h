/* SPDX-License-Identifier: MIT */
/*
 * vnetd's control protocol: the kernel's "vdpa" generic netlink family
 * (linux/vdpa.h) carried over an AF_UNIX SOCK_SEQPACKET socket, one record
 * per send, plus what vdpa has no word for. Shared by vnetd, vnetctl, the
 * vdpa preload library and the tests.
 *
 * Framing: a record holds one or more whole netlink messages (nlmsghdr +
 * genlmsghdr + attributes), exactly the bytes a NETLINK_GENERIC socket would
 * carry. Replies are packed into records of at most VNET_NL_RECORD_MAX bytes
 * because libmnl clients read with a page-sized buffer.
 */
#ifndef VNET_NL_H
#define VNET_NL_H

#include <linux/types.h>
#include <linux/vdpa.h>

#include "vnet/transport.h"	/* enum vnet_transport_id, vnet_sock_mode, vnet_bind */

#define VNET_NL_DEFAULT_SOCK	"/run/vnetd/vnetd.sock"
#define VNET_NL_SOCK_ENV	"VNET_SOCK"	/* overrides the default path */

/* the family id vnetd hands out for "vdpa" (any id >= GENL_MIN_ID works) */
#define VNET_VDPA_FAMILY_ID	0x20
/* largest request record vnetd accepts; bigger ones get -EMSGSIZE */
#define VNET_NL_REQ_MAX		16384
/* largest reply record (libmnl's MNL_SOCKET_BUFFER_SIZE on 4 KiB pages) */
#define VNET_NL_RECORD_MAX	4096

/*
 * Linux 6.12 added VDPA_CMD_DEV_ATTR_SET (value 8) after the build host's
 * linux/vdpa.h (6.1) was cut; we name it ourselves.
 */
#define VNET_VDPA_CMD_DEV_ATTR_SET	8
#define VNET_VDPA_CMD_MAX		VNET_VDPA_CMD_DEV_ATTR_SET
/*
 * Kernel attributes we understand are those up to VDPA_ATTR_DEV_FEATURES
 * (25); the ids after it differ between kernel versions (6.1 briefly had
 * VDPA_ATTR_VDPA_DEV_SUPPORTED_FEATURES there, later kernels the block
 * attributes), so vnetd neither sends nor accepts them.
 */
#define VNET_VDPA_ATTR_LAST	VDPA_ATTR_DEV_FEATURES

/*
 * Vendor attributes: far above any kernel vdpa attribute so a newer kernel
 * header never collides, and ignored by iproute2's vdpa (it skips types
 * above its VDPA_ATTR_MAX).
 */
enum vnet_attr {
	VNET_ATTR_BASE = 0x100,
	VNET_ATTR_TRANSPORT = VNET_ATTR_BASE,	/* u32 enum vnet_transport_id */
	VNET_ATTR_SOCKET_PATH,			/* string, vhost-user socket */
	VNET_ATTR_SOCKET_MODE,			/* u32 enum vnet_sock_mode */
	VNET_ATTR_UPLINK,			/* string, uplink ifname */
	VNET_ATTR_UPLINK_STATE,			/* u32 enum vnet_uplink_state */
	VNET_ATTR_UPLINK_MTU,			/* u32 */
	VNET_ATTR_TRUSTED,			/* u8 0/1 */
	VNET_ATTR_SPOOFCHK,			/* u8 0/1 */
	VNET_ATTR_DEV_STATUS,			/* u8 virtio device status */
	VNET_ATTR_RX_MODE,			/* u32 VNET_RX_MODE_* bits */
	VNET_ATTR_MAC_TABLE_LEN,		/* u32 unicast+multicast */
	VNET_ATTR_VLAN_COUNT,			/* u32 VLANs in the filter */
	VNET_ATTR_RSS_HASH_TYPES,		/* u32 VIRTIO_NET_RSS_HASH_TYPE_* */
	VNET_ATTR_RSS_INDIR_LEN,		/* u32 indirection table size */
	VNET_ATTR_ACTIVE_VQP,			/* u32 queue pairs in use */
	VNET_ATTR_DATAPATH,			/* u32 enum vnet_datapath */
	/* uplink devices: the port's counters (u64 each, dev show only) */
	VNET_ATTR_PORT_RX_FRAMES,		/* from the wire into receive queues */
	VNET_ATTR_PORT_RX_DROPPED,		/* no receive queue / no buffer */
	VNET_ATTR_PORT_TX_WIRE,			/* sent to the wire */
	VNET_ATTR_PORT_TX_LOCAL,		/* offered to the other devices */
	VNET_ATTR_PORT_TX_HOST,			/* handed to the host (host port) */
	VNET_ATTR_PORT_TX_SPOOFED,		/* dropped: foreign source MAC */
	VNET_ATTR_PORT_TX_DROPPED,		/* runts, host port refusals */
	VNET_ATTR_PORT_TX_RARP,			/* SEND_RARP announces */
	VNET_ATTR_UPLINK_DATAPATH,		/* string: "native dispatcher",
						 * "skb single", "detached", "none"
						 * (mgmtdev show) */
	VNET_ATTR_UPLINK_CARRIER_CHANGES,	/* u64: carrier transitions the
						 * kernel counted (mgmtdev show) */
	VNET_ATTR_PORT_LEARNED_MACS,		/* binary, 6 bytes a MAC: a trusted
						 * device's learned source MACs
						 * (dev show) */
	/* transport vduse: the kernel's vdpa bus */
	VNET_ATTR_BIND,				/* u32 enum vnet_bind */
	VNET_ATTR_NETNS,			/* string: the namespace the kernel
						 * netdev goes into (bind virtio) */
	VNET_ATTR_KERNEL_NETDEV,		/* string: that netdev (dev show) */
	VNET_ATTR_VHOST_DEV,			/* string: /dev/vhost-vdpa-N (dev show) */
	VNET_ATTR_VDUSE_REFUSED,		/* u64: vnet's features the kernel's
						 * VDUSE refuses (dev show) */
	VNET_ATTR_MIGRATION,			/* u32 enum vnet_migration (dev show) */
	VNET_ATTR_UPLINK_WORKERS,		/* u32: the uplink's worker threads
						 * (mgmtdev show) */
	VNET_ATTR_UPLINK_QUEUES,		/* binary, 4 u64 a queue: queue,
						 * worker, frames received, frames
						 * sent (its AF_XDP socket; mgmtdev
						 * show) */
	VNET_ATTR_UPLINK_QUEUE_DROPS,		/* binary, VNET_UPLINK_QDROPS u64 a
						 * queue, only queues that dropped:
						 * queue, rx_too_long, then the
						 * socket's XDP_STATISTICS (struct
						 * vnet_xsk_kstats order; mgmtdev
						 * show) */
	VNET_ATTR_UPLINK_WORKER_DROPS,		/* binary, VNET_UPLINK_WDROPS u64 a
						 * worker: worker, rx_bad_meta,
						 * rx_no_port, rx_over_mtu (mgmtdev
						 * show) */
	VNET_ATTR_VSTATS_UPLINK,		/* nested (dev vstats of a device on
						 * an uplink): VNET_ATTR_UPLINK, the
						 * device's port drops (_PORT_RX_DROPPED,
						 * _TX_SPOOFED, _TX_DROPPED) and the
						 * uplink's _QUEUE_DROPS, _WORKER_DROPS
						 * as in mgmtdev show: the uplink's
						 * queues carry every device's frames */
	VNET_ATTR_PORT_RX_KGRO,			/* u64: frames the uplink's GRO
						 * coalesced delivered (vnetd -K;
						 * dev show) */
	VNET_ATTR_PORT_RX_KGRO_PARKED,		/* u64: such frames copied out of
						 * the packet ring, the guest
						 * without buffers and others'
						 * frames behind them (dev show) */
	__VNET_ATTR_END,
};
#define VNET_ATTR_LAST		(__VNET_ATTR_END - 1)
/* fields of a VNET_ATTR_UPLINK_QUEUE_DROPS / _WORKER_DROPS entry */
#define VNET_UPLINK_QDROPS	8
#define VNET_UPLINK_WDROPS	4

/* What happens to the frames of a device (dev show). */
enum vnet_datapath {
	VNET_DATAPATH_NONE = 0,		/* uplink without a datapath (XDP
					 * refused at start): frames the
					 * driver sends are counted and
					 * dropped, nothing is received */
	VNET_DATAPATH_LOOPBACK = 1,	/* vnet/sim: tx comes back as rx */
	VNET_DATAPATH_UPLINK = 2,	/* XDP + AF_XDP on the uplink */
};

/* Live migration of a device's guest (dev show). */
enum vnet_migration {
	VNET_MIGRATION_UNSUPPORTED = 0,	/* its worker cannot log dirty pages */
	VNET_MIGRATION_IDLE = 1,	/* can migrate; nothing is being logged */
	VNET_MIGRATION_LOGGING = 2,	/* the front-end migrates it: every
					 * write into guest memory is logged */
};

enum vnet_uplink_state {
	VNET_UPLINK_ABSENT = 0,
	VNET_UPLINK_NO_CARRIER = 1,
	VNET_UPLINK_UP = 2,
	VNET_UPLINK_NONE = 3,		/* vnet/sim has no uplink */
};

#define VNET_RX_MODE_PROMISC	(1u << 0)
#define VNET_RX_MODE_ALLMULTI	(1u << 1)
#define VNET_RX_MODE_ALLUNI	(1u << 2)
#define VNET_RX_MODE_NOMULTI	(1u << 3)
#define VNET_RX_MODE_NOUNI	(1u << 4)
#define VNET_RX_MODE_NOBCAST	(1u << 5)

/*
 * A socket option for the AF_UNIX connection, since SOL_NETLINK options
 * cannot be set on it: NETLINK_CAP_ACK / NETLINK_EXT_ACK are sent to vnetd
 * as a message of this type (a reserved netlink control type below
 * NLMSG_MIN_TYPE, which the kernel ignores and no family can own). Payload:
 * struct vnet_nl_sockopt. Acked like any message when NLM_F_ACK is set.
 */
#define VNET_NLMSG_SOCKOPT	0x0f

struct vnet_nl_sockopt {
	__u32 optname;		/* NETLINK_CAP_ACK or NETLINK_EXT_ACK */
	__u32 value;		/* 0 or 1 */
};

#endif
