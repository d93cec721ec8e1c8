/* SPDX-License-Identifier: MIT */
/*
 * Network byte order reads and writes at any alignment, for the engine's
 * packet code (gso.c, gro.c): headers in frames are never aligned.
 */
#ifndef VNET_ENGINE_BE_H
#define VNET_ENGINE_BE_H

#include <linux/types.h>

static inline __u16 get16(const __u8 *p) { return (__u16)(p[0] << 8 | p[1]); }
static inline __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}
static inline void put16(__u8 *p, __u16 v) { p[0] = v >> 8; p[1] = v & 0xff; }
static inline void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v & 0xff;
}

#endif
