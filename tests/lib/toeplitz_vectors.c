// SPDX-License-Identifier: MIT
/* Reading the Toeplitz verification vectors: see toeplitz_vectors.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_read.h"
#include "toeplitz_vectors.h"

static const char *vectors_path(void)
{
	const char *env = getenv("VNET_TOEPLITZ_JSON");

	if (env && *env)
		return env;
	if (access("../shared/testdata/toeplitz-ms.json", R_OK) == 0)
		return "../shared/testdata/toeplitz-ms.json";
	return "tests/data/toeplitz-ms.json";
}

static int parse_hex(const char *hex, __u8 *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (__u8)b;
	}
	*len = n / 2;
	return 0;
}

static int parse_u32_hex(const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	if (!s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 16);
	if (errno || *end || end == s || v > 0xffffffffUL)
		return -EINVAL;
	*out = (__u32)v;
	return 0;
}

static int parse_vector(const struct jr_value *j, struct toeplitz_vector *v)
{
	const char *src = jr_get_str(j, "src"), *dst = jr_get_str(j, "dst");
	const struct jr_value *sp = jr_get(j, "sport"), *dp = jr_get(j, "dport");
	int fam;

	if (!src || !dst || !sp || !dp || sp->type != JR_NUM || dp->type != JR_NUM ||
	    sp->num < 0 || sp->num > 65535 || dp->num < 0 || dp->num > 65535)
		return -EINVAL;
	fam = strchr(src, ':') ? AF_INET6 : AF_INET;
	v->ip = fam == AF_INET6 ? 6 : 4;
	if (inet_pton(fam, src, v->src) != 1 || inet_pton(fam, dst, v->dst) != 1)
		return -EINVAL;
	v->sport = (__u16)sp->num;
	v->dport = (__u16)dp->num;
	if (parse_u32_hex(jr_get_str(j, "hash_ip"), &v->hash_ip) ||
	    parse_u32_hex(jr_get_str(j, "hash_l4"), &v->hash_l4))
		return -EINVAL;
	return 0;
}

int toeplitz_vectors_load(struct toeplitz_vectors *tv)
{
	struct jr_value *doc;
	const struct jr_value *vecs;
	const char *key;
	int err = -EINVAL;

	memset(tv, 0, sizeof(*tv));
	tv->path = vectors_path();
	doc = jr_parse_file(tv->path);
	if (!doc)
		return -EINVAL;
	vecs = jr_get(doc, "vectors");
	key = jr_get_str(doc, "key");
	if (!key || parse_hex(key, tv->key, sizeof(tv->key), &tv->key_len)) {
		fprintf(stderr, "%s: missing or malformed \"key\"\n", tv->path);
		goto out;
	}
	if (!vecs || vecs->type != JR_ARR || vecs->count > TV_MAX) {
		fprintf(stderr, "%s: \"vectors\" must be an array of at most %d\n",
			tv->path, TV_MAX);
		goto out;
	}
	for (size_t i = 0; i < vecs->count; i++) {
		if (parse_vector(vecs->items[i], &tv->v[i])) {
			fprintf(stderr, "%s: vector %zu is malformed\n", tv->path, i);
			goto out;
		}
	}
	tv->count = (unsigned int)vecs->count;
	err = 0;
out:
	jr_free(doc);
	return err;
}

size_t toeplitz_vector_input(const struct toeplitz_vector *v, bool with_ports,
			     __u8 *in)
{
	size_t alen = v->ip == 6 ? 16 : 4;
	__u16 ports[2] = { htons(v->sport), htons(v->dport) };

	memcpy(in, v->src, alen);
	memcpy(in + alen, v->dst, alen);
	if (!with_ports)
		return 2 * alen;
	memcpy(in + 2 * alen, ports, 4);
	return 2 * alen + 4;
}
