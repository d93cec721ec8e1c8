/* SPDX-License-Identifier: MIT */
/*
 * The Toeplitz verification vectors (shared/testdata/toeplitz-ms.json), read
 * once for every test that checks a Toeplitz implementation against them.
 * The shared copy beside the checkout is the authority; VNET_TOEPLITZ_JSON
 * overrides it; tests/data/ holds a copy for checkouts without shared/.
 */
#ifndef VNET_TEST_TOEPLITZ_VECTORS_H
#define VNET_TEST_TOEPLITZ_VECTORS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#define TV_MAX 32

struct toeplitz_vector {
	int ip;				/* 4 or 6 */
	__u8 src[16], dst[16];		/* network order */
	__u16 sport, dport;		/* host order */
	__u32 hash_ip, hash_l4;		/* expected values */
};

struct toeplitz_vectors {
	const char *path;
	__u8 key[64];
	size_t key_len;
	unsigned int count;
	struct toeplitz_vector v[TV_MAX];
};

/* 0, or -errno after printing what is wrong with the file. */
int toeplitz_vectors_load(struct toeplitz_vectors *tv);

/* Hash input src || dst [|| sport || dport]; returns its length. */
size_t toeplitz_vector_input(const struct toeplitz_vector *v, bool with_ports,
			     __u8 *in);

#endif
