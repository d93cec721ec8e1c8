// SPDX-License-Identifier: MIT
/*
 * Toeplitz: the Microsoft RSS verification vectors (read from
 * shared/testdata/toeplitz-ms.json) for the bit-serial and the table form,
 * and agreement of the two forms on random keys and inputs.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnet/toeplitz.h"
#include "frame.h"
#include "toeplitz_vectors.h"
#include "test.h"

static void test_ms_vectors(void)
{
	static struct vnet_toeplitz_table tbl;
	static struct toeplitz_vectors tv;
	int checked = 0;

	EXPECT(toeplitz_vectors_load(&tv) == 0, "cannot read %s", tv.path);
	printf("  vectors from %s\n", tv.path);
	EXPECT(tv.key_len == 40, "key length %zu", tv.key_len);
	if (!tv.count)
		return;
	vnet_toeplitz_expand(tv.key, tv.key_len, &tbl);

	for (unsigned int i = 0; i < tv.count; i++) {
		for (int l4 = 0; l4 < 2; l4++) {
			__u8 in[VNET_HASH_INPUT_MAX];
			size_t len = toeplitz_vector_input(&tv.v[i], l4, in);
			__u32 want = l4 ? tv.v[i].hash_l4 : tv.v[i].hash_ip;
			__u32 bits = vnet_toeplitz_bits(tv.key, tv.key_len, in, len);
			__u32 table = vnet_toeplitz_table(&tbl, in, len);

			EXPECT(bits == want, "vector %u %s: bit-serial 0x%08x, want 0x%08x",
			       i, l4 ? "l4" : "ip", bits, want);
			EXPECT(table == want, "vector %u %s: table 0x%08x, want 0x%08x",
			       i, l4 ? "l4" : "ip", table, want);
			checked++;
		}
	}
	printf("  %d hash values checked in both forms\n", checked);
	EXPECT(checked == 16, "expected 16 values, checked %d", checked);
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

/*
 * The check above can fail: a copy of the vectors file with one digit of one
 * expected value changed must give exactly one mismatch per form.
 */
static void test_changed_digit_is_caught(void)
{
	static struct vnet_toeplitz_table tbl;
	static struct toeplitz_vectors tv;
	char tmpl[] = "/tmp/vnet-tv-XXXXXX", cmd[512];
	int fd, mismatches = 0;

	if (toeplitz_vectors_load(&tv) || !tv.count)
		SKIP("vectors not readable");
	fd = mkstemp(tmpl);
	EXPECT(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	close(fd);
	/* 0x51ccc178 (vector 0, hash_l4) -> 0x51ccc179 */
	snprintf(cmd, sizeof(cmd), "sed 's/0x51ccc178/0x51ccc179/' '%s' > '%s'", tv.path, tmpl);
	EXPECT(system(cmd) == 0, "%s", cmd);
	setenv("VNET_TOEPLITZ_JSON", tmpl, 1);
	EXPECT(toeplitz_vectors_load(&tv) == 0, "load changed copy");
	unsetenv("VNET_TOEPLITZ_JSON");
	unlink(tmpl);
	vnet_toeplitz_expand(tv.key, tv.key_len, &tbl);
	for (unsigned int i = 0; i < tv.count; i++) {
		__u8 in[VNET_HASH_INPUT_MAX];
		size_t len = toeplitz_vector_input(&tv.v[i], true, in);

		mismatches += vnet_toeplitz_bits(tv.key, tv.key_len, in, len) != tv.v[i].hash_l4;
		mismatches += vnet_toeplitz_table(&tbl, in, len) != tv.v[i].hash_l4;
	}
	EXPECT(mismatches == 2, "%d mismatches, want 2 (one per form)", mismatches);
}

int main(void)
{
	RUN(test_ms_vectors);
	RUN(test_changed_digit_is_caught);
	RUN(test_forms_agree_random);
	RUN(test_key_edges);
	return test_summary();
}
