/* SPDX-License-Identifier: MIT */
/*
 * vhost-user back-end for one vnet device (QEMU docs/interop/vhost-user.rst).
 *
 * One socket per device. Server mode (default): vnet listens on the path and
 * serves one front-end at a time. Client mode: vnet connects to the path and
 * reconnects every second after a failure or a disconnect.
 *
 * The front-end is untrusted: every message is checked for its size, its
 * payload, its number of file descriptors, ring indexes and that ring
 * addresses lie in the memory table. A bad message gets an error reply when
 * the front-end asked for one (REPLY_ACK), otherwise the connection is
 * closed. Closing a connection resets the device and releases every fd and
 * mapping it brought; the device then waits for the next front-end.
 *
 * The control plane reaches it as a transport (vnet_vhost_user_transport,
 * include/vnet/transport.h); the vnet_vu_* calls below are that
 * transport's own, for its tests and the fuzzer. Event loop: vnet_vu_fd()
 * is one pollable fd (an epoll fd inside); call vnet_vu_process() when it
 * is readable.
 */
#ifndef VNET_VHOST_USER_H
#define VNET_VHOST_USER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "vnet/device.h"
#include "vnet/transport.h"

/* --- protocol (vhost-user.rst) ------------------------------------------ */

enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_MAX_REQUEST = 41,
};

enum vhost_user_backend_request {
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
};

/* protocol feature bits */
#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_NET_MTU		4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ	5
#define VHOST_USER_PROTOCOL_F_CONFIG		9
#define VHOST_USER_PROTOCOL_F_RESET_DEVICE	13
#define VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15
#define VHOST_USER_PROTOCOL_F_STATUS		16

#define VHOST_USER_F_PROTOCOL_FEATURES	30
/* vhost feature: the front-end migrates, the back-end logs its writes */
#define VHOST_F_LOG_ALL			26
/* SET_VRING_ADDR flags: log writes to the used ring at 'log' */
#define VHOST_VRING_F_LOG		0

#define VHOST_USER_VERSION		0x1
#define VHOST_USER_VERSION_MASK		0x3
#define VHOST_USER_REPLY_MASK		(1u << 2)
#define VHOST_USER_NEED_REPLY_MASK	(1u << 3)

#define VHOST_USER_MAX_FDS		8	/* VHOST_MEMORY_BASELINE_NREGIONS */
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD_MASK	(1u << 8)
#define VHOST_USER_MAX_CONFIG_SIZE	256

struct vhost_user_hdr {
	__u32 request;
	__u32 flags;
	__u32 size;		/* payload bytes after this header */
} __attribute__((packed));

struct vhost_user_vring_state {
	__u32 index;
	__u32 num;
};

struct vhost_user_vring_addr {
	__u32 index;
	__u32 flags;
	__u64 desc, used, avail, log;
};

struct vhost_user_mem_region {
	__u64 guest_addr;
	__u64 size;
	__u64 user_addr;
	__u64 mmap_offset;
};

struct vhost_user_memory {
	__u32 nregions;
	__u32 padding;
	struct vhost_user_mem_region regions[VHOST_USER_MAX_FDS];
};

struct vhost_user_mem_single {
	__u64 padding;
	struct vhost_user_mem_region region;
};

/* SET_LOG_BASE: the log is mmap_size bytes at mmap_offset of the fd */
struct vhost_user_log {
	__u64 mmap_size;
	__u64 mmap_offset;
};

struct vhost_user_config {
	__u32 offset;
	__u32 size;
	__u32 flags;
	__u8 payload[VHOST_USER_MAX_CONFIG_SIZE];
};

union vhost_user_payload {
	__u64 u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_mem_single mem_reg;
	struct vhost_user_log log;
	struct vhost_user_config config;
};

#define VHOST_USER_PAYLOAD_MAX	sizeof(union vhost_user_payload)

/* In memory the payload is 8-byte aligned (4 bytes of padding after the
 * header); on the wire it follows the header directly: send and receive
 * the two parts separately. */
struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
};

/* --- back-end ------------------------------------------------------------ */

struct vnet_vu;

/* Protocol features vnet offers (LOG_SHMFD only to a device that can log). */
__u64 vnet_vu_protocol_features(void);

/* Bind (server) or start connecting (client) for 'dev' on 'path'; the
 * back-end is bound to the device as its transport. */
int vnet_vu_create(struct vnet_netdev *dev, const char *path, bool client,
		   struct vnet_vu **out);
/* Close the connection (resetting the device) and the socket. */
void vnet_vu_destroy(struct vnet_vu *vu);

int vnet_vu_fd(const struct vnet_vu *vu);
/* Handle whatever is pending (accept, messages, reconnect); never blocks
 * for long. 0, or -errno for a failure of the back-end itself. */
int vnet_vu_process(struct vnet_vu *vu);
bool vnet_vu_connected(const struct vnet_vu *vu);

/*
 * The message handler without a socket (fuzzing, unit tests): handle one
 * message whose payload holds hdr.size bytes, with 'fds' (ownership passes:
 * each is kept or closed). Returns 0 with *reply filled (reply->hdr.request
 * == 0 when there is nothing to send), or -errno when the connection must be
 * closed. vnet_vu_create_detached() makes a back-end with no socket.
 */
int vnet_vu_create_detached(struct vnet_netdev *dev, struct vnet_vu **out);
int vnet_vu_handle_msg(struct vnet_vu *vu, const struct vhost_user_msg *msg,
		       int *fds, unsigned int nfds, struct vhost_user_msg *reply);
/* What a disconnect does: reset the device, unmap, close fds. */
void vnet_vu_disconnect_state(struct vnet_vu *vu);

#endif
