/* SPDX-License-Identifier: MIT */
/*
 * Loading vnet's XDP object and attaching its program to an uplink, for
 * datapath.c: the attach strategy and its fallbacks in one place.
 *
 *   1. libxdp: its dispatcher where the kernel takes it (vnet then shares
 *      the uplink with other XDP programs), libxdp's own single-program
 *      attach where the kernel cannot load a dispatcher at all;
 *   2. when libxdp fails although the program alone would attach -- a
 *      dispatcher that loaded and then refused vnet's program as its
 *      extension ("Extension program changes packet data, while original
 *      does not": vnet_xdp_rx calls bpf_xdp_adjust_meta, which libxdp
 *      1.3.1's dispatcher does not declare; Debian 12's 6.12 kernel) --
 *      the program is attached directly (bpf_xdp_attach), logged once
 *      with the reason;
 *   native first (libxdp, then direct), generic after (libxdp, then
 *   direct). A failed attempt may leave the BPF object loaded (libbpf
 *   loads an object once), so each retry starts from a fresh one.
 *
 * Test hook: VNET_XDP_FAULT_LIBXDP (or VNET_DP_FAULT=libxdp in the
 * environment) makes every libxdp attempt fail like such a refusal, after
 * consuming the object as a refused extension load does, so this machine
 * (whose kernel refuses the dispatcher earlier, and libxdp falls back by
 * itself) runs the direct path too.
 */
#ifndef VNET_XDP_ATTACH_H
#define VNET_XDP_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <xdp/libxdp.h>

#include "vnet/datapath.h"

enum vnet_xdp_kind {
	VNET_XDP_NONE = 0,		/* loaded, not attached */
	VNET_XDP_DISPATCHER,		/* libxdp's dispatcher (multiprog) */
	VNET_XDP_SINGLE,		/* libxdp, the program alone */
	VNET_XDP_DIRECT,		/* bpf_xdp_attach: libxdp refused */
};

#define VNET_XDP_FAULT_LIBXDP	(1u << 0)	/* tests: libxdp attach refused */
#define VNET_DP_FAULT_ENV	"VNET_DP_FAULT"	/* "libxdp": the same, for vnetd */

/*
 * Where the object comes from: each attempt opens a fresh one (libbpf
 * loads an object once). open returns it configured and not loaded (a
 * skeleton opened, its rodata set), or NULL with errno set; close frees
 * what open made.
 */
struct vnet_xdp_obj {
	struct bpf_object *(*open)(void *ctx);
	void (*close)(void *ctx, struct bpf_object *obj);
	void *ctx;
};

struct vnet_xdp_link {
	struct vnet_xdp_obj src;
	struct bpf_object *obj;
	struct xdp_program *xprog;	/* libxdp kinds only */
	int ifindex;
	int prog_fd;
	enum xdp_attach_mode mode;	/* XDP_MODE_UNSPEC: not attached */
	enum vnet_xdp_kind kind;
	__u32 attached_id;		/* what the netdev ran right after attach */
};

/* Load (VNET_DP_ATTACH_NONE) or load and attach; all or nothing. */
int vnet_xdp_link_open(struct vnet_xdp_link *l, const struct vnet_xdp_obj *o, int ifindex,
		       enum vnet_dp_attach_mode mode, unsigned int fault);
/* Detaches (if the netdev still runs it) and closes the object. */
void vnet_xdp_link_close(struct vnet_xdp_link *l);
bool vnet_xdp_link_is_attached(const struct vnet_xdp_link *l);
const char *vnet_xdp_mode_name(enum xdp_attach_mode m);	/* "native", "skb", "none" */
const char *vnet_xdp_kind_name(enum vnet_xdp_kind k);	/* "dispatcher", "single", "direct" */

#endif
