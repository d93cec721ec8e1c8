// SPDX-License-Identifier: MIT
/*
 * Jumbo frames on an uplink (uplink_int.h): whether its datapath runs in
 * multi-buffer mode, its sockets, and the frame bound every device's
 * receive obeys.
 *
 * Multi-buffer (AF_XDP XDP_USE_SG, Linux 6.6; a frags-aware XDP program)
 * only where the uplink's MTU needs it: a frame of more than one UMEM
 * frame. An uplink of MTU 1500 keeps one descriptor per frame and all of
 * its transmit buffers; one of MTU 9000 gets transmit buffers of five
 * contiguous UMEM frames (xsk.c), fewer of them. The uplink's MTU is read
 * when the datapath attaches; when it changes so that the datapath would
 * be made differently, the uplink watch's next look re-attaches it
 * (vnet_updp_set_link).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uplink_int.h"
#include "vnet/log.h"

static unsigned int uplink_mtu(const char *ifname)
{
	char path[128];
	unsigned int mtu = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%u", &mtu) != 1)
		mtu = 0;
	fclose(f);
	return mtu;
}

__u32 updp_frame_max(const char *ifname, bool verbose)
{
	unsigned int mtu = uplink_mtu(ifname);

	if (mtu <= VNET_XSK_MTU_MAX)
		return 0;
	if (!vnet_xsk_sg_supported()) {
		if (verbose)
			pr_warn("%s: MTU %u needs AF_XDP multi-buffer (Linux 6.6), which this "
				"kernel lacks: frames over %u bytes are dropped, devices get "
				"MTU %u at most\n", ifname, mtu, VNET_XSK_RX_FRAME_MAX,
				VNET_XSK_MTU_MAX);
		return 0;
	}
	if (mtu > VNET_XSK_SG_MTU_MAX)
		mtu = VNET_XSK_SG_MTU_MAX;
	return mtu + VNET_XSK_L2_MAX;
}

int updp_xsk_open(const char *ifname, __u32 queue, __u32 frame_max, struct vnet_xsk **x)
{
	int err;

	if (!frame_max)
		return vnet_xsk_open(ifname, queue, x);
	err = vnet_xsk_open_sg(ifname, queue, frame_max, x);
	if (err != -EINVAL && err != -EOPNOTSUPP)
		return err;
	pr_warn("%s: queue %u: multi-buffer socket refused (%s): one UMEM frame per "
		"packet, frames over %u bytes dropped\n", ifname, queue, strerror(-err),
		VNET_XSK_RX_FRAME_MAX);
	return vnet_xsk_open(ifname, queue, x);
}

/*
 * Spec 5.1.4.1 (device configuration layout): the device must not pass a
 * received packet longer than mtu plus the Ethernet header to the driver
 * (gso_type NONE); the header counts its VLAN tags (at most two, as the
 * classifier). A frame for a device whose MTU is below the uplink's, or a
 * GRO'd frame generic XDP hands over whole, is dropped (rx_dropped), never
 * cut short.
 */
/* The largest device MTU the attached datapath carries, and why. */
__u32 updp_mtu_max(const struct vnet_updp *up, const char **why)
{
	if (up->frame_max) {
		*why = "AF_XDP multi-buffer, up to the uplink's MTU";
		return up->frame_max - VNET_XSK_L2_MAX;
	}
	*why = vnet_xsk_sg_supported() ?
	       "one 2 KiB AF_XDP frame per packet: the uplink's MTU needs no more" :
	       VNET_XSK_NO_SG_WHY;
	return VNET_XSK_MTU_MAX;
}

bool updp_rx_fits(const struct up_port *p, const __u8 *data, __u32 len)
{
	__u32 mtu = p->dev->params.mtu ? p->dev->params.mtu : 1500, l2 = 14, i;

	for (i = 0; i < 2 && len >= l2 + 4; i++) {
		__u16 type = (__u16)(data[l2 - 2] << 8 | data[l2 - 1]);

		if (type != 0x8100 && type != 0x88a8)
			break;
		l2 += 4;
	}
	return len <= mtu + l2;
}
