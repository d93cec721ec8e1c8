// SPDX-License-Identifier: MIT
/* Feature sets as text (include/vnet/features.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vnet/features.h"
#include "vnet/netutil.h"

int vnet_features_format(const struct vnet_features *f, char *buf, size_t len)
{
	size_t off;
	int i, n;

	/* the highest non-zero word in full, the ones below zero-padded */
	for (i = VNET_FEATURE_WORDS - 1; i > 0 && !f->w[i]; i--)
		;
	n = snprintf(buf, len, "0x%llx", (unsigned long long)f->w[i]);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = (size_t)n;
	while (--i >= 0) {
		n = snprintf(buf + off, len - off, "%016llx", (unsigned long long)f->w[i]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	return (int)off;
}

int vnet_features_parse(const char *s, struct vnet_features *f)
{
	struct vnet_features r = { 0 };
	size_t n, i;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strlen(s);
	if (!n)
		return -EINVAL;
	/* leading zeros are no bits */
	while (n > 1 && *s == '0')
		s++, n--;
	if (n > VNET_FEATURE_BITS / 4)
		return -EINVAL;
	/* the last digit holds bits 0-3 */
	for (i = 0; i < n; i++) {
		int d = vnet_hex_digit(s[n - 1 - i]);

		if (d < 0)
			return -EINVAL;
		r.w[i / 16] |= (__u64)d << (4 * (i % 16));
	}
	*f = r;
	return 0;
}
