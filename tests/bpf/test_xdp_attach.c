// SPDX-License-Identifier: MIT
/*
 * How vnet_dp_open() attaches the XDP program (daemon/uplink/xdp_attach.c)
 * against the real kernel, in a network namespace of its own (veth up0,
 * far end wire0). Shown: the normal attach (libxdp: dispatcher or single
 * program) runs and detaches on close; when libxdp refuses -- the test
 * hook plays the dispatcher that will not take vnet's program as its
 * extension, as Debian 12's 6.12 does -- the program is attached directly
 * in the same mode, frames reach it, close detaches it; generic mode the
 * same; a direct attach never replaces someone else's program; a netdev
 * that went away is not "attached" any more and close does not fail.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>

#include "test.h"
#include "vnet/datapath.h"
#include "vnet/xdp_attach.h"

static int up_ifindex;

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int make_veth(void)
{
	if (sh("ip link add up0 type veth peer name wire0 && ip link set up0 up &&"
	       " ip link set wire0 up"))
		return -EIO;
	up_ifindex = (int)if_nametoindex("up0");
	return up_ifindex ? 0 : -ENODEV;
}

/* The id of the program the netdev runs in 'flags' mode (0: none). */
static __u32 xdp_id(__u32 flags)
{
	__u32 id = 0;

	if (bpf_xdp_query_id(up_ifindex, (int)flags, &id))
		return 0;
	return id;
}

static bool prog_is_ours(__u32 id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);
	bool ours;

	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, "vnet_xdp_rx");
	close(fd);
	return ours;
}

/* n frames from wire0 to a MAC nobody has: up0's program passes them. */
static void send_frames(int n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	__u8 f[60] = { 0x02, 0, 0, 0, 0x77, 0x01, 0x02, 0, 0, 0, 0x77, 0x02, 0x88, 0xb5 };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	sll.sll_ifindex = (int)if_nametoindex("wire0");
	for (int i = 0; fd >= 0 && i < n; i++)
		if (sendto(fd, f, sizeof(f), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
			break;
	if (fd >= 0)
		close(fd);
	usleep(100000);
}

static __u64 filtered(struct vnet_dp *dp)
{
	struct vnet_dp_counters c;

	if (vnet_dp_read_counters(dp, VNET_DP_UPLINK_SLOT, &c))
		return 0;
	return c.c[VNET_CNT_FILTER_MAC];
}

static void test_libxdp_attach(void)
{
	struct vnet_dp_opts o = { .ifindex = up_ifindex, .mode = VNET_DP_ATTACH_NATIVE };
	struct vnet_dp *dp = NULL;
	const char *kind;

	EXPECT(vnet_dp_open(&o, &dp) == 0, "open");
	if (!dp)
		return;
	kind = vnet_dp_attach_kind_name(dp);
	EXPECT(!strcmp(kind, "dispatcher") || !strcmp(kind, "single"), "kind %s", kind);
	EXPECT(!strcmp(vnet_dp_attach_mode_name(dp), "native"), "mode %s",
	       vnet_dp_attach_mode_name(dp));
	EXPECT(vnet_dp_is_attached(dp), "not attached");
	vnet_dp_close(dp);
	EXPECT(!xdp_id(XDP_FLAGS_DRV_MODE), "still attached after close");
}

/* The refusal path: libxdp fails, the program alone attaches, same mode. */
static void refused(enum vnet_dp_attach_mode mode, __u32 flags, const char *mode_name)
{
	struct vnet_dp_opts o = { .ifindex = up_ifindex, .mode = mode,
				  .fault = VNET_XDP_FAULT_LIBXDP };
	struct vnet_dp *dp = NULL;
	__u64 before;

	EXPECT(vnet_dp_open(&o, &dp) == 0, "no datapath although a direct attach works");
	if (!dp)
		return;
	EXPECT(!strcmp(vnet_dp_attach_kind_name(dp), "direct"), "kind %s",
	       vnet_dp_attach_kind_name(dp));
	EXPECT(!strcmp(vnet_dp_attach_mode_name(dp), mode_name), "mode %s, want %s",
	       vnet_dp_attach_mode_name(dp), mode_name);
	EXPECT(!vnet_dp_uses_dispatcher(dp), "says dispatcher");
	EXPECT(prog_is_ours(xdp_id(flags)), "up0 does not run vnet_xdp_rx in %s mode", mode_name);
	EXPECT(vnet_dp_is_attached(dp), "not attached");
	/* the program runs and its maps are the ones we read */
	before = filtered(dp);
	send_frames(5);
	EXPECT(filtered(dp) >= before + 5, "program did not see the frames: %llu -> %llu",
	       (unsigned long long)before, (unsigned long long)filtered(dp));
	vnet_dp_close(dp);
	EXPECT(!xdp_id(flags), "still attached after close");
}

static void test_refused_native(void)
{
	refused(VNET_DP_ATTACH_NATIVE, XDP_FLAGS_DRV_MODE, "native");
}

static void test_refused_generic(void)
{
	refused(VNET_DP_ATTACH_SKB, XDP_FLAGS_SKB_MODE, "skb");
}

/* Someone else's program on the uplink: the direct attach does not replace it. */
static void test_direct_never_replaces(void)
{
	struct vnet_dp_opts o = { .ifindex = up_ifindex, .mode = VNET_DP_ATTACH_NATIVE,
				  .fault = VNET_XDP_FAULT_LIBXDP };
	struct vnet_dp *first = NULL, *second = NULL;
	__u32 id;

	EXPECT(vnet_dp_open(&o, &first) == 0, "first open");
	if (!first)
		return;
	id = xdp_id(XDP_FLAGS_DRV_MODE);
	EXPECT(vnet_dp_open(&o, &second) != 0, "a second program took the uplink");
	vnet_dp_close(second);
	EXPECT(xdp_id(XDP_FLAGS_DRV_MODE) == id, "the first program was replaced");
	vnet_dp_close(first);
	EXPECT(!xdp_id(XDP_FLAGS_DRV_MODE) && !xdp_id(XDP_FLAGS_SKB_MODE), "left attached");
}

/* The netdev goes: not attached any more; close has nothing to detach. */
static void test_netdev_gone(void)
{
	struct vnet_dp_opts o = { .ifindex = up_ifindex, .mode = VNET_DP_ATTACH_NATIVE,
				  .fault = VNET_XDP_FAULT_LIBXDP };
	struct vnet_dp *dp = NULL;

	EXPECT(vnet_dp_open(&o, &dp) == 0, "open");
	if (!dp)
		return;
	EXPECT(!sh("ip link del up0"), "cannot delete up0");
	EXPECT(!vnet_dp_is_attached(dp), "attached to a netdev that is gone");
	vnet_dp_close(dp);
	EXPECT(make_veth() == 0, "cannot re-create up0");
}

int main(void)
{
	if (geteuid() != 0) {
		printf("TEST: %-50s [SKIP]\n  needs root\n", "test_xdp_attach");
		return 4;
	}
	if (unshare(CLONE_NEWNET) || sh("ip link set lo up") || make_veth()) {
		printf("TEST: %-50s [FAIL]\n  setup: %s\n", "test_xdp_attach_setup",
		       strerror(errno));
		return 1;
	}
	RUN(test_libxdp_attach);
	RUN(test_refused_native);
	RUN(test_refused_generic);
	RUN(test_direct_never_replaces);
	RUN(test_netdev_gone);
	return test_summary();
}
