// SPDX-License-Identifier: MIT
/*
 * vnet_xsk_gather (include/vnet/xsk.h): a received frame of several AF_XDP
 * descriptors (multi-buffer, XDP_PKT_CONTD on all but the last) made flat;
 * one of one descriptor left where it is; a frame that does not fit, has a
 * bad piece or no end yet is dropped whole, never cut short.
 */
#include <string.h>

#include "test.h"
#include "vnet/xsk.h"

#define PIECE	VNET_XSK_RX_FRAME_MAX

static __u8 umem[8][PIECE];
static __u8 buf[VNET_XSK_SG_FRAME_MAX];

/* descriptors 0..n-1 over umem[], lens[i] bytes each, the last without 'more' */
static void pieces(struct vnet_xsk_rx *rx, const __u32 *lens, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		for (__u32 k = 0; k < PIECE; k++)
			umem[i][k] = (__u8)(i * 31 + k);
		rx[i] = (struct vnet_xsk_rx){
			.addr = i * VNET_XSK_FRAME_SIZE + XDP_PACKET_HEADROOM,
			.data = umem[i], .len = lens[i], .more = i + 1 < n,
		};
	}
}

static void test_single(void)
{
	struct vnet_xsk_rx rx[2];
	const __u32 lens[] = { 60 };
	const __u8 *data;
	__u32 len;

	pieces(rx, lens, 1);
	EXPECT(vnet_xsk_gather(rx, 1, buf, sizeof(buf), &data, &len) == 1, "took more than one");
	EXPECT(data == umem[0] && len == 60, "a one-descriptor frame was copied or cut (%u)", len);
}

static void test_jumbo(void)
{
	/* a 9022-byte frame: five full pieces and the rest */
	const __u32 lens[] = { PIECE, PIECE, PIECE, PIECE, PIECE, 9022 - 5 * PIECE, 100 };
	struct vnet_xsk_rx rx[7];
	const __u8 *data;
	__u32 len, off = 0;
	unsigned int i;

	pieces(rx, lens, 6);
	/* a second frame behind it: gather stops at the first one's end */
	rx[6] = (struct vnet_xsk_rx){ .data = umem[6], .len = lens[6] };
	EXPECT(vnet_xsk_gather(rx, 7, buf, sizeof(buf), &data, &len) == 6,
	       "the frame's descriptors not counted right");
	EXPECT(data == buf && len == 9022, "gathered %u bytes, want 9022", len);
	for (i = 0; i < 6; i++) {
		EXPECT(!memcmp(buf + off, umem[i], lens[i]), "piece %u not in place", i);
		off += lens[i];
	}
	EXPECT(vnet_xsk_gather(rx + 6, 1, buf, sizeof(buf), &data, &len) == 1 &&
	       data == umem[6] && len == 100, "the next frame was not its own");
}

static void test_too_long(void)
{
	const __u32 lens[] = { PIECE, PIECE, PIECE, PIECE, PIECE, PIECE };
	struct vnet_xsk_rx rx[6];
	const __u8 *data;
	__u32 len;

	/* 6 * 1792 = 10752 bytes, more than the 9238 the buffer takes */
	pieces(rx, lens, 6);
	EXPECT(vnet_xsk_gather(rx, 6, buf, sizeof(buf), &data, &len) == 6 && len == 0,
	       "a frame longer than the buffer: %u bytes, not dropped whole", len);
	/* the first two of them: the end is missing */
	EXPECT(vnet_xsk_gather(rx, 2, buf, 2 * PIECE, &data, &len) == 2 && len == 0,
	       "a frame without its end was taken");
	/* ended there: exactly the buffer fits, a byte less does not */
	rx[1].more = false;
	EXPECT(vnet_xsk_gather(rx, 2, buf, 2 * PIECE, &data, &len) == 2 && len == 2 * PIECE,
	       "a frame of exactly the buffer's size refused (%u)", len);
	EXPECT(vnet_xsk_gather(rx, 2, buf, 2 * PIECE - 1, &data, &len) == 2 && len == 0,
	       "a frame one byte over the buffer taken (%u)", len);
}

static void test_bad_piece(void)
{
	const __u32 lens[] = { PIECE, 0, 300 };
	struct vnet_xsk_rx rx[3];
	const __u8 *data;
	__u32 len;

	/* a descriptor xsk.c found outside its UMEM frame (len 0) */
	pieces(rx, lens, 3);
	EXPECT(vnet_xsk_gather(rx, 3, buf, sizeof(buf), &data, &len) == 3 && len == 0,
	       "a frame with a bad piece taken (%u bytes)", len);
	EXPECT(vnet_xsk_gather(rx, 0, buf, sizeof(buf), &data, &len) == 0 && len == 0,
	       "nothing gathered something");
}

int main(void)
{
	RUN(test_single);
	RUN(test_jumbo);
	RUN(test_too_long);
	RUN(test_bad_piece);
	return test_summary();
}
