/* SPDX-License-Identifier: MIT */
/*
 * The rx-mode truth table, written from the spec ("Packet Receive
 * Filtering", "Setting MAC Address Filtering") and not from our code: which
 * destination classes reach a device for each rx-mode setting. Shared by
 * the XDP program test (tests/bpf/test_xdp_filter.c) and the C reference's
 * unit test (tests/unit/test_rx_filter.c), so both answer to one table.
 *
 * With VNET_DP_CFG_HOST_SHARED the group classes go to the host (XDP_PASS)
 * and this table says which of them the device gets a copy of.
 *
 * The device's primary MAC is mac_a; its unicast table holds mac_u1, its
 * multicast table mac_m1 (and, for BC_IN, ff:ff:ff:ff:ff:ff as well).
 */
#ifndef VNET_TEST_RX_MODE_MATRIX_H
#define VNET_TEST_RX_MODE_MATRIX_H

#include <linux/types.h>

#include "vnet/datapath.h"

static const __u8 mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xaa };	/* primary */
static const __u8 mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xbb };	/* 2nd device */
static const __u8 mac_u1[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x11 };	/* uc table */
static const __u8 mac_u9[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };	/* nobody's */
static const __u8 mac_m1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };	/* mc table */
static const __u8 mac_m9[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x09 };	/* nobody's */
static const __u8 mac_bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const __u8 mac_host[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x42 };

enum cls { UC_PRIMARY, UC_IN, UC_OUT, MC_IN, MC_OUT, BC_IN, BC_OUT, N_CLS };

static const char *const cls_name[N_CLS] = {
	"uc primary", "uc in table", "uc not in table", "mc in table",
	"mc not in table", "bc in table", "bc not in table",
};

static inline const __u8 *cls_dst(enum cls c)
{
	static const __u8 *const dst[N_CLS] = {
		mac_a, mac_u1, mac_u9, mac_m1, mac_m9, mac_bc, mac_bc,
	};
	return dst[c];
}

/* Group address (IEEE 802 I/G bit): multicast and broadcast classes. */
static inline int cls_group(enum cls c)
{
	return cls_dst(c)[0] & 1;
}

/* Which classes reach the device, per rx-mode setting: '1' delivered. */
static const struct {
	const char *name;
	unsigned int modes;		/* bit = enum vnet_rx_mode_cmd */
	const char *want;		/* N_CLS characters, in enum cls order */
} matrix[] = {
	{ "reset state",	0,				"1101011" },
	{ "PROMISC",		1 << VNET_RX_PROMISC,		"1111111" },
	{ "ALLMULTI",		1 << VNET_RX_ALLMULTI,		"1101111" },
	{ "ALLUNI",		1 << VNET_RX_ALLUNI,		"1111011" },
	{ "NOMULTI",		1 << VNET_RX_NOMULTI,		"1100011" },
	{ "NOUNI",		1 << VNET_RX_NOUNI,		"0001011" },
	{ "NOBCAST",		1 << VNET_RX_NOBCAST,		"1101000" },
	/* spec: PROMISC takes effect even with the other modes on */
	{ "PROMISC+NOUNI+NOMULTI+NOBCAST",
	  1 << VNET_RX_PROMISC | 1 << VNET_RX_NOUNI | 1 << VNET_RX_NOMULTI | 1 << VNET_RX_NOBCAST,
								"1111111" },
	/* spec: NOMULTI even with ALLMULTI; NOUNI even with ALLUNI; NOBCAST even with ALLMULTI */
	{ "ALLMULTI+NOMULTI",	1 << VNET_RX_ALLMULTI | 1 << VNET_RX_NOMULTI,	"1100011" },
	{ "ALLUNI+NOUNI",	1 << VNET_RX_ALLUNI | 1 << VNET_RX_NOUNI,	"0001011" },
	{ "ALLMULTI+NOBCAST",	1 << VNET_RX_ALLMULTI | 1 << VNET_RX_NOBCAST,	"1101100" },
};

#endif
