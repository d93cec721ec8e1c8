/* SPDX-License-Identifier: MIT */
/*
 * vnet-guest: a userspace virtio-net driver behind a TAP interface.
 *
 *   vu_front.c  vhost-user front-end: socket, messages, memory table, rings
 *   driver.c    the virtio-net driver: feature negotiation (spec 3.1.1,
 *               5.1.3.1), memfd memory, receive buffers, rx/tx paths, hash
 *               verification against the C reference, counters
 *   ctrl.c      control queue (spec 5.1.6.5) and the TAP's rx-mode mirror
 *   tap.c       the TAP device (IFF_VNET_HDR, multi-queue, offloads, carrier)
 *               (none with --sink: received frames are counted and dropped)
 *   stats.c     counters as text or JSON
 *   vnet-guest.c  options, event loop, signals, reconnect
 *
 * One thread runs everything from one epoll set. Directions are the
 * guest's: "tx" = TAP -> device, "rx" = device -> TAP.
 */
#ifndef VNET_GUEST_H
#define VNET_GUEST_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "vnet/classify.h"
#include "vnet/cvq.h"
#include "vnet/toeplitz.h"
#include "vdriver.h"

#define GUEST_MAX_QP		16
#define GUEST_RX_RING		256	/* default; --rx-ring */
#define GUEST_RX_RING_MIN	8
#define GUEST_RX_RING_MAX	1024
#define GUEST_TX_RING		256
#define GUEST_CVQ_RING		64
/* tx slot: the largest header, a 64 KiB GSO frame and its L2 header */
#define GUEST_TX_SLOT		(65536 + 128)
#define GUEST_RX_BUF_MRG	1024	/* small on purpose: big frames merge */
#define GUEST_RX_BUF_TSO	4096	/* with GUEST_TSO: 64 KiB frames in 17 */
#define GUEST_RX_MAX_BUFS	80	/* buffers of one frame: 65562 / 1024 + */
#define GUEST_RX_BUF		2048	/* spec 5.1.6.3.1: >= 1526 without TSO */
#define GUEST_CVQ_BUF		4096
#define GUEST_BURST		64

struct guest_opts {
	const char *socket;
	const char *tap_name;
	const char *netns;
	unsigned int queues;		/* pairs to use; 0: all the device has */
	bool no_mrg, no_csum, no_tso, no_ctrl, no_mq, no_event;
	bool no_guest_tso;		/* refuse GUEST_TSO4/TSO6/ECN */
	bool rss, hash_report;
	bool packed;			/* --packed: VIRTIO_F_RING_PACKED */
	__u32 hash_types;
	__u8 key[VNET_TOEPLITZ_KEY_MAX];
	__u8 key_len;
	__u16 indir_len;		/* 0: rss_max_indirection_table_length */
	bool nobcast, nomulti, nouni, alluni;
	__u32 vlans[VNET_VLAN_N / 32];	/* --vlan: always in the VLAN filter */
	const char *vlan_file;		/* --vlan-file: more VIDs, re-read on SIGHUP */
	unsigned int resync_ms;		/* periodic rx-mode re-sync (safety net) */
	bool json;
	bool sink;			/* --sink: no TAP, count and drop receives */
	bool no_reconnect;
	unsigned int wait_s;		/* give up connecting after this; 0: forever */
	unsigned int rx_ring;		/* receive queue size (--rx-ring) */
	unsigned int cmd_timeout_ms;
	bool verbose;
};

/* per receive queue */
struct guest_rxq_stats {
	__u64 packets, bytes, merged, hash_checked, hash_mismatch, queue_mismatch;
	__u64 gso;			/* coalesced frames (gso_type set) */
	__u64 csum;			/* NEEDS_CSUM or DATA_VALID */
	__u64 report[VNET_HASH_REPORT_MAX + 1];	/* hash types seen */
	__u64 tap_errors;
	__u64 calls;			/* used-buffer notifications taken */
};

struct guest_txq_stats {
	__u64 packets, bytes, csum, gso, full;
	__u64 publishes, kicks;		/* batches made available; of them kicked */
};

struct guest_rxq {
	struct vdriver vd;
	__u8 *bufs;			/* o.rx_ring buffers */
	__u32 buf_size;
	int kick_fd, call_fd;
	int tap_fd;
	struct guest_rxq_stats st;
};

struct guest_txq {
	struct vdriver vd;
	__u8 *slots;			/* GUEST_TX_RING slots, slot i <-> head i */
	int kick_fd, call_fd;
	int tap_fd;
	bool blocked;			/* ring full: TAP fd out of epoll */
	struct guest_txq_stats st;
};

struct guest_cvq {
	struct vdriver vd;
	__u8 *buf;
	int kick_fd, call_fd;
	__u64 ok, err;
};

/* what the TAP asks for, mirrored into the control queue */
struct guest_rxmode {
	bool promisc, allmulti;
	__u8 mac[6];
	unsigned int n_mc;
	__u8 mc[VNET_MAC_TABLE_MAX][6];
	__u32 vlans[VNET_VLAN_N / 32];
	bool gro;			/* the TAP's GRO: GUEST_TSO4/TSO6/ECN on */
};

struct guest {
	struct guest_opts o;
	/* vhost-user */
	int sock, backend_fd;
	__u64 dev_features, features, protocol;
	unsigned int dev_max_qp;	/* GET_QUEUE_NUM / config */
	unsigned int nqp;		/* pairs in use */
	__u8 config[24];		/* struct vnet_netdev_config layout */
	__u16 mtu, hdr_len;
	__u8 rss_max_key;
	__u16 rss_max_indir;
	__u32 supported_hash;
	bool link_up;
	/* memory: one memfd */
	int mem_fd;
	__u8 *mem;
	size_t mem_size, mem_off;
	struct guest_rxq rxq[GUEST_MAX_QP];
	struct guest_txq txq[GUEST_MAX_QP];
	struct guest_cvq cvq;
	bool has_cvq;
	/* RSS / hash state the device was given: what every report is checked with */
	__u32 hash_types;
	__u16 indir[VNET_RSS_INDIR_MAX], indir_len, unclassified;
	struct vnet_toeplitz_table key_tbl;
	/* TAP */
	int tap_fds[GUEST_MAX_QP];
	unsigned int ntap;
	int tap_ifindex;
	char tap_name[16];
	int nl_fd;			/* rtnetlink events: mirror at once */
	__u32 file_vlans[VNET_VLAN_N / 32];	/* from --vlan-file */
	__u8 cfg_mac[6];		/* config-space MAC last seen */
	struct guest_rxmode sent;	/* last state the device accepted */
	bool sent_valid;
	/* event loop */
	int epfd;
	__u64 connects, disconnects, config_changes, announces, announce_frames;
	__u64 rarps_sent;		/* SEND_RARP requests the back-end took (SIGUSR2) */
	__u64 nl_events, syncs, vlan_reloads;
	__u64 guest_offloads;		/* CTRL_GUEST_OFFLOADS state of the device */
	__u64 offload_changes;		/* CTRL_GUEST_OFFLOADS_SET sent */
	__u8 scratch[65536 + 64];
};

#include <signal.h>
extern volatile sig_atomic_t guest_stop;

/* vu_front.c */
int vu_connect(struct guest *g, unsigned int wait_s);
int vu_send_rarp(struct guest *g, const __u8 mac[6]);
void vu_close(struct guest *g);
int vu_negotiate(struct guest *g);
int vu_setup_rings(struct guest *g);
int vu_start(struct guest *g);
int vu_get_config(struct guest *g);
int vu_check_status(struct guest *g);
int vu_backend_event(struct guest *g, bool *config_changed);

/* driver.c */
__u64 guest_driver_features(const struct guest *g, __u64 offered);
int guest_mem_init(struct guest *g);
void guest_mem_fini(struct guest *g);
int guest_rings_init(struct guest *g);
void guest_rings_fini(struct guest *g);
void guest_rx_fill(struct guest *g, unsigned int q);
int guest_rx_poll(struct guest *g, unsigned int q);
int guest_rx_sink(struct guest *g, unsigned int q);
int guest_tx_poll(struct guest *g, unsigned int q);
void guest_tx_reclaim(struct guest *g, unsigned int q);
void guest_kick(int fd);

/* ctrl.c */
int ctrl_command(struct guest *g, __u8 cls, __u8 cmd, const void *data, size_t len);
int ctrl_setup_queues(struct guest *g);
int ctrl_sync_rxmode(struct guest *g, bool force);
int ctrl_announce_ack(struct guest *g);

/* tap.c */
int tap_open(struct guest *g);
void tap_close(struct guest *g);
int tap_set_offloads(struct guest *g);
int tap_set_carrier(struct guest *g, bool up);
int tap_set_mac(struct guest *g, const __u8 mac[6]);
int tap_get_mac(struct guest *g, __u8 mac[6]);
int tap_read_rxmode(struct guest *g, struct guest_rxmode *m);
int tap_get_gro(struct guest *g, bool *on);
int tap_events_open(struct guest *g);
bool tap_events_drain(struct guest *g);
int tap_announce(struct guest *g);
int tap_load_vlan_file(struct guest *g);
int enter_netns(const char *name);

/* stats.c */
void stats_print(const struct guest *g, bool json);

#endif
