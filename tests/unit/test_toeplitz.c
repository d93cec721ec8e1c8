// SPDX-License-Identifier: MIT
/*
 * Toeplitz: the Microsoft RSS verification vectors (read from
 * shared/testdata/toeplitz-ms.json) for the bit-serial and the table form,
 * and agreement of the two forms on random keys and inputs.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnet/toeplitz.h"
#include "frame.h"
#include "json_read.h"
#include "test.h"

static const char *vectors_path(void)
{
	const char *env = getenv("VNET_TOEPLITZ_JSON");

	if (env && *env)
		return env;
	/* the shared copy beside the checkout is the authority */
	if (access("../shared/testdata/toeplitz-ms.json", R_OK) == 0)
		return "../shared/testdata/toeplitz-ms.json";
	return "tests/data/toeplitz-ms.json";
}

static int parse_hex(const char *hex, __u8 *out, size_t max)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (__u8)b;
	}
	return (int)(n / 2);
}

/* src || dst [|| sport || dport], network order; returns the length */
static size_t vector_input(const struct jr_value *v, int with_ports, __u8 *in)
{
	const char *src = jr_get_str(v, "src"), *dst = jr_get_str(v, "dst");
	const struct jr_value *sp = jr_get(v, "sport"), *dp = jr_get(v, "dport");
	int fam = src && strchr(src, ':') ? AF_INET6 : AF_INET;
	size_t alen = fam == AF_INET6 ? 16 : 4;
	__u16 ports[2];

	if (!src || !dst || !sp || !dp ||
	    inet_pton(fam, src, in) != 1 || inet_pton(fam, dst, in + alen) != 1)
		return 0;
	if (!with_ports)
		return 2 * alen;
	ports[0] = htons((__u16)sp->num);
	ports[1] = htons((__u16)dp->num);
	memcpy(in + 2 * alen, ports, 4);
	return 2 * alen + 4;
}

static void test_ms_vectors(void)
{
	const char *path = vectors_path();
	struct jr_value *doc = jr_parse_file(path);
	const struct jr_value *vecs = jr_get(doc, "vectors");
	static struct vnet_toeplitz_table tbl;
	__u8 key[64];
	int key_len, checked = 0;

	printf("  vectors from %s\n", path);
	EXPECT(doc != NULL, "cannot read %s", path);
	if (!doc)
		return;
	key_len = parse_hex(jr_get_str(doc, "key") ? jr_get_str(doc, "key") : "", key, sizeof(key));
	EXPECT(key_len == 40, "key length %d", key_len);
	EXPECT(vecs && vecs->type == JR_ARR && vecs->count > 0, "no vectors");
	if (key_len <= 0 || !vecs) {
		jr_free(doc);
		return;
	}
	vnet_toeplitz_expand(key, (size_t)key_len, &tbl);

	for (size_t i = 0; i < vecs->count; i++) {
		for (int l4 = 0; l4 < 2; l4++) {
			const char *want_s = jr_get_str(vecs->items[i], l4 ? "hash_l4" : "hash_ip");
			__u8 in[VNET_HASH_INPUT_MAX];
			size_t len = vector_input(vecs->items[i], l4, in);
			__u32 want, bits, table;

			EXPECT(want_s && len, "vector %zu malformed", i);
			if (!want_s || !len)
				continue;
			want = (__u32)strtoul(want_s, NULL, 16);
			bits = vnet_toeplitz_bits(key, (size_t)key_len, in, len);
			table = vnet_toeplitz_table(&tbl, in, len);
			EXPECT(bits == want, "vector %zu %s: bit-serial 0x%08x, want 0x%08x",
			       i, l4 ? "l4" : "ip", bits, want);
			EXPECT(table == want, "vector %zu %s: table 0x%08x, want 0x%08x",
			       i, l4 ? "l4" : "ip", table, want);
			checked++;
		}
	}
	printf("  %d hash values checked in both forms\n", checked);
	EXPECT(checked == 16, "expected 16 values, checked %d", checked);
	jr_free(doc);
}

/* The two forms agree for any key length (short keys pad with zeros). */
static void test_forms_agree_random(void)
{
	static struct vnet_toeplitz_table tbl;
	unsigned int seed = 12345;

	for (int round = 0; round < 200; round++) {
		__u8 key[52], in[VNET_HASH_INPUT_MAX];
		size_t key_len = test_rand(&seed) % sizeof(key);

		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (__u8)test_rand(&seed);
		vnet_toeplitz_expand(key, key_len, &tbl);
		for (int j = 0; j < 50; j++) {
			size_t len = test_rand(&seed) % (VNET_HASH_INPUT_MAX + 1);

			for (size_t i = 0; i < len; i++)
				in[i] = (__u8)test_rand(&seed);
			__u32 a = vnet_toeplitz_bits(key, key_len, in, len);
			__u32 b = vnet_toeplitz_table(&tbl, in, len);

			EXPECT(a == b, "key_len %zu len %zu: 0x%08x != 0x%08x",
			       key_len, len, a, b);
		}
	}
}

/* Bytes of the key past the 40th never matter; a zero key hashes to 0. */
static void test_key_edges(void)
{
	__u8 key[60], in[VNET_HASH_INPUT_MAX];
	unsigned int seed = 99;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (__u8)test_rand(&seed);
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (__u8)test_rand(&seed);
	EXPECT(vnet_toeplitz_bits(key, 40, in, 36) == vnet_toeplitz_bits(key, 60, in, 36),
	       "bytes past 40 changed the hash");
	memset(key, 0, sizeof(key));
	EXPECT(vnet_toeplitz_bits(key, 40, in, 36) == 0, "zero key");
	EXPECT(vnet_toeplitz_bits(key, 0, in, 0) == 0, "empty input");
}

int main(void)
{
	RUN(test_ms_vectors);
	RUN(test_forms_agree_random);
	RUN(test_key_edges);
	return test_summary();
}
