// SPDX-License-Identifier: MIT
/*
 * vnet's XDP program onto an uplink: include/vnet/xdp_attach.h. libxdp
 * first (its dispatcher lets other XDP programs share the uplink); when
 * libxdp fails, the program alone through libbpf, before giving up on a
 * mode -- so a dispatcher that refuses vnet's program never leaves the
 * uplink without a datapath while a direct attach works.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>

#include "vnet/log.h"
#include "vnet/xdp_attach.h"

#define PROG_NAME	"vnet_xdp_rx"

static __u32 xdp_flags_of(enum xdp_attach_mode m)
{
	return m == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE :
	       m == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : 0;
}

const char *vnet_xdp_mode_name(enum xdp_attach_mode m)
{
	switch (m) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB: return "skb";
	default: return "none";
	}
}

const char *vnet_xdp_kind_name(enum vnet_xdp_kind k)
{
	switch (k) {
	case VNET_XDP_DISPATCHER: return "dispatcher";
	case VNET_XDP_SINGLE: return "single";
	case VNET_XDP_DIRECT: return "direct";
	default: return "none";
	}
}

static int obj_open(struct vnet_xdp_link *l)
{
	l->obj = l->src.open(l->src.ctx);
	return l->obj ? 0 : -(errno ?: ENOMEM);
}

static void obj_close(struct vnet_xdp_link *l)
{
	if (l->xprog)
		xdp_program__close(l->xprog);	/* leaves our bpf_object alone */
	l->xprog = NULL;
	if (l->obj)
		l->src.close(l->src.ctx, l->obj);
	l->obj = NULL;
	l->prog_fd = -1;
	l->kind = VNET_XDP_NONE;
}

/* The object loaded as plain XDP: its program's fd, or -errno. */
static int obj_load(struct vnet_xdp_link *l)
{
	struct bpf_program *prog;
	int err = bpf_object__load(l->obj);

	if (err)
		return err;
	prog = bpf_object__find_program_by_name(l->obj, PROG_NAME);
	return prog ? bpf_program__fd(prog) : -ENOENT;
}

/*
 * A program the object's opener made frags-aware (BPF_F_XDP_HAS_FRAGS):
 * libxdp keeps its own note of it, and loads its dispatcher frags-aware
 * only when every program it runs is (libxdp >= 1.3).
 */
static int frags_sync(struct vnet_xdp_link *l)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(l->obj, PROG_NAME);

	if (!prog || !(bpf_program__flags(prog) & BPF_F_XDP_HAS_FRAGS))
		return 0;
	return xdp_program__set_xdp_frags_support(l->xprog, true);
}

static int try_libxdp(struct vnet_xdp_link *l, enum xdp_attach_mode mode, unsigned int fault)
{
	struct xdp_multiprog *mp;
	int err;

	l->xprog = xdp_program__from_bpf_obj(l->obj, "xdp");
	err = libxdp_get_error(l->xprog);
	if (err) {
		l->xprog = NULL;
		return err;
	}
	err = frags_sync(l);
	if (err)
		return err;
	if (fault & VNET_XDP_FAULT_LIBXDP) {
		/* what a refused extension load leaves behind: an object
		 * libbpf will not load a second time */
		bpf_object__load(l->obj);
		pr_info("datapath: libxdp attach refused (test hook %s=libxdp)\n",
			VNET_DP_FAULT_ENV);
		return -EINVAL;
	}
	err = xdp_program__attach(l->xprog, l->ifindex, mode, 0);
	if (err)
		return err;
	l->prog_fd = xdp_program__fd(l->xprog);
	l->kind = VNET_XDP_SINGLE;
	mp = xdp_multiprog__get_from_ifindex(l->ifindex);
	if (!libxdp_get_error(mp) && mp) {
		if (!xdp_multiprog__is_legacy(mp))
			l->kind = VNET_XDP_DISPATCHER;
		xdp_multiprog__close(mp);
	}
	return 0;
}

/* The program alone, as iproute2 would attach it; never over another's. */
static int try_direct(struct vnet_xdp_link *l, enum xdp_attach_mode mode)
{
	int fd = obj_load(l), err;

	if (fd < 0)
		return fd;
	err = bpf_xdp_attach(l->ifindex, fd, xdp_flags_of(mode) | XDP_FLAGS_UPDATE_IF_NOEXIST,
			     NULL);
	if (err)
		return err;
	l->prog_fd = fd;
	l->kind = VNET_XDP_DIRECT;
	return 0;
}

int vnet_xdp_link_open(struct vnet_xdp_link *l, const struct vnet_xdp_obj *o, int ifindex,
		       enum vnet_dp_attach_mode mode, unsigned int fault)
{
	/* best first: native beats generic, whatever carries it */
	static const struct {
		enum xdp_attach_mode mode;
		bool direct;
	} steps[] = {
		{ XDP_MODE_NATIVE, false }, { XDP_MODE_NATIVE, true },
		{ XDP_MODE_SKB, false }, { XDP_MODE_SKB, true },
	};
	const char *env = getenv(VNET_DP_FAULT_ENV);
	int err = -EINVAL, libxdp_err = 0, native_err = 0;
	unsigned int i;

	memset(l, 0, sizeof(*l));
	l->src = *o;
	l->ifindex = ifindex;
	l->prog_fd = -1;
	if (env && !strcmp(env, "libxdp"))
		fault |= VNET_XDP_FAULT_LIBXDP;
	if (mode == VNET_DP_ATTACH_NONE) {
		err = obj_open(l);
		if (!err) {
			l->prog_fd = obj_load(l);
			err = l->prog_fd < 0 ? l->prog_fd : 0;
		}
		if (err)
			obj_close(l);
		return err;
	}
	for (i = mode == VNET_DP_ATTACH_SKB ? 2 : 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		/* a failed attempt may have loaded the object: start afresh */
		err = obj_open(l);
		if (err)
			return err;
		err = steps[i].direct ? try_direct(l, steps[i].mode) :
					try_libxdp(l, steps[i].mode, fault);
		if (!err)
			break;
		if (!steps[i].direct)
			libxdp_err = err;
		else if (steps[i].mode == XDP_MODE_NATIVE)
			native_err = err;
		obj_close(l);
	}
	if (err) {
		pr_warn("datapath: ifindex %d refused XDP in every mode (libxdp: %s; the program "
			"alone: %s)\n", ifindex, strerror(-(libxdp_err ?: err)), strerror(-err));
		return err;
	}
	l->mode = steps[i].mode;
	/* the dispatcher's id, or our program's: what is_attached() compares */
	bpf_xdp_query_id(ifindex, (int)xdp_flags_of(l->mode), &l->attached_id);
	if (l->mode == XDP_MODE_SKB && mode == VNET_DP_ATTACH_NATIVE)
		pr_info("datapath: native XDP refused (%s), generic mode instead\n",
			strerror(-(native_err ?: libxdp_err)));
	if (l->kind == VNET_XDP_DIRECT)
		pr_info("datapath: libxdp could not attach the program (%s) but the program "
			"alone attaches: libxdp's dispatcher refused it as its extension (kernel "
			"log, or vnetd -vv, tells why); attached directly, other XDP programs "
			"cannot share ifindex %d\n", strerror(-libxdp_err), ifindex);
	pr_info("datapath: attached to ifindex %d, %s mode, %s\n", ifindex,
		vnet_xdp_mode_name(l->mode),
		l->kind == VNET_XDP_DISPATCHER ? "libxdp dispatcher" :
		l->kind == VNET_XDP_SINGLE ? "single program (no dispatcher)" :
		"program attached directly (libxdp refused it)");
	return 0;
}

/*
 * Does the netdev still run what we attached? No when it was unregistered
 * (deleted, moved away) -- also when a new netdev got the same ifindex --
 * or when someone else detached or replaced the program.
 */
bool vnet_xdp_link_is_attached(const struct vnet_xdp_link *l)
{
	__u32 id = 0;

	if (l->mode == XDP_MODE_UNSPEC)
		return false;
	if (!l->attached_id)	/* not known: trust the attach */
		return true;
	if (bpf_xdp_query_id(l->ifindex, (int)xdp_flags_of(l->mode), &id))
		return false;
	return id == l->attached_id;
}

void vnet_xdp_link_close(struct vnet_xdp_link *l)
{
	int err = 0;

	/* a netdev that went away took the program with it */
	if (l->mode != XDP_MODE_UNSPEC && vnet_xdp_link_is_attached(l)) {
		if (l->kind == VNET_XDP_DIRECT) {
			/* only if it is still ours (REPLACE + expected fd) */
			LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = l->prog_fd);

			err = bpf_xdp_detach(l->ifindex, xdp_flags_of(l->mode) | XDP_FLAGS_REPLACE,
					     &ao);
		} else {
			err = xdp_program__detach(l->xprog, l->ifindex, l->mode, 0);
		}
		if (err)
			pr_warn("datapath: detach from ifindex %d failed: %s\n", l->ifindex,
				strerror(-err));
	}
	l->mode = XDP_MODE_UNSPEC;
	obj_close(l);
}
