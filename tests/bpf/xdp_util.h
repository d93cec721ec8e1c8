/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the XDP program tests: load the datapath without
 * attaching it, give it a real AF_XDP socket (bound to lo, queue 0, the
 * queue BPF_PROG_TEST_RUN reports), run one frame through the program and
 * read back the verdict and the metadata it wrote.
 */
#ifndef VNET_TEST_XDP_UTIL_H
#define VNET_TEST_XDP_UTIL_H

#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "vnet/datapath.h"
#include "vnet/rx_filter.h"
#include "xsk_reader.h"

struct xdp_env {
	struct vnet_dp *dp;
	struct xsk_reader xsk;
	int prog_fd;
};

static inline int xdp_env_open(struct xdp_env *e, int bitloop)
{
	struct vnet_dp_opts o = { .mode = VNET_DP_ATTACH_NONE, .bitloop = bitloop };
	int err;

	memset(e, 0, sizeof(*e));
	err = vnet_dp_open(&o, &e->dp);
	if (err)
		return err;
	e->prog_fd = vnet_dp_prog_fd(e->dp);
	err = xsk_reader_open(&e->xsk, "lo", 0);
	if (!err)
		err = vnet_dp_set_xsk(e->dp, 0, xsk_reader_fd(&e->xsk));
	if (err) {
		vnet_dp_close(e->dp);
		e->dp = NULL;
	}
	return err;
}

static inline void xdp_env_close(struct xdp_env *e)
{
	vnet_dp_close(e->dp);
	if (e->xsk.xsk)
		xsk_reader_close(&e->xsk);
	e->dp = NULL;
}

struct xdp_out {
	int verdict;			/* XDP_PASS, XDP_REDIRECT, ... */
	int has_meta;
	struct vnet_xdp_meta meta;
};

/* One frame through the program (BPF_PROG_TEST_RUN). 0 or -errno. */
static inline int xdp_run(int prog_fd, const void *frame, size_t len,
			  struct xdp_out *out)
{
	__u8 data_out[4096];
	struct xdp_md ctx_in = { .data_end = (__u32)len }, ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = data_out, .data_size_out = sizeof(data_out),
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out),
		    .repeat = 1);

	memset(out, 0, sizeof(*out));
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	out->verdict = (int)o.retval;
	/* data_out starts at data_meta; ctx_out.data is the metadata length */
	if (ctx_out.data == sizeof(out->meta)) {
		out->has_meta = 1;
		memcpy(&out->meta, data_out, sizeof(out->meta));
	} else if (ctx_out.data) {
		return -EPROTO;
	}
	return 0;
}

/* The XDP verdict the C reference implies (a socket is registered). */
static inline int ref_verdict(const struct vnet_rx_result *r)
{
	return r->verdict == VNET_RX_PASS ? XDP_PASS : XDP_REDIRECT;
}

static inline int meta_eq(const struct vnet_xdp_meta *a, const struct vnet_xdp_meta *b)
{
	return a->hash == b->hash && a->dev == b->dev && a->queue == b->queue &&
	       a->report == b->report && a->flags == b->flags &&
	       a->vlan_id == b->vlan_id && a->magic == b->magic;
}

#endif
