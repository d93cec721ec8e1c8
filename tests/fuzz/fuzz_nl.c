// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: vnetd's netlink request parser and dispatcher
 * (vnet_nl_handle) on arbitrary records, against a live registry with the
 * stub backend (tests/lib/backend_stub.c). The first byte picks the
 * connection's flags (admin, CAP_ACK, EXT_ACK); the rest is the record. Every reply must be a
 * well-formed sequence of netlink messages within the record limit.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>

#include "backend_stub.h"
#include "vnet/nl_server.h"

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size);

static void check_out(const struct vnet_nl_out *out)
{
	for (const struct vnet_nl_rec *rec = out->head; rec; rec = rec->next) {
		size_t off = 0;

		if (rec->len > VNET_NL_RECORD_MAX || !rec->len)
			abort();
		while (off < rec->len) {
			const struct nlmsghdr *nlh = (const void *)(rec->data + off);

			if (rec->len - off < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) ||
			    nlh->nlmsg_len > rec->len - off)
				abort();
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
	}
}

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size)
{
	static struct vnet_registry reg;
	static bool ready;
	struct vnet_nl_ctx ctx = { .reg = &reg };
	struct vnet_nl_out out = { 0 };

	if (!ready) {
		struct vnet_dev_params p = { .mask = VNET_P_MAX_VQP, .max_vqp = 2 };

		vnet_registry_init(&reg, &vnet_stub_backend, "/nonexistent", NULL);
		vnet_registry_add_mgmtdev(&reg, "eth0");
		strcpy(p.name, "vnet0");
		strcpy(p.mgmtdev, "sim");
		vnet_registry_dev_new(&reg, &p, NULL);
		ready = true;
	}
	if (size < 1 || size > VNET_NL_REQ_MAX + 1)
		return 0;
	ctx.admin = data[0] & 1;
	ctx.cap_ack = data[0] & 2;
	ctx.ext_ack = data[0] & 4;
	/* the server reads records into an aligned buffer; so do we */
	{
		static __u8 rec[VNET_NL_REQ_MAX] __attribute__((aligned(8)));

		memcpy(rec, data + 1, size - 1);
		vnet_nl_handle(&ctx, rec, size - 1, &out);
	}
	check_out(&out);
	vnet_nl_out_free(&out);
	/* keep the registry from filling up: at most a few devices survive */
	while (reg.n_devs > 8)
		vnet_registry_dev_del(&reg, reg.devs[reg.n_devs - 1]->p.name, NULL);
	return 0;
}
