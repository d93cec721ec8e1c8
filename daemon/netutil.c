// SPDX-License-Identifier: MIT
/* include/vnet/netutil.h */
#include <errno.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "vnet/netutil.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vnet_mac_parse(const char *s, __u8 mac[6])
{
	__u8 m[6];

	if (!s)
		return -EINVAL;
	/* by hand: sscanf's %x would take spaces, signs and "0x" too */
	for (int i = 0; i < 6; i++) {
		int n, d, v = 0;

		for (n = 0; n < 2 && (d = hex_digit(*s)) >= 0; n++, s++)
			v = v * 16 + d;
		if (!n)
			return -EINVAL;
		m[i] = (__u8)v;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = m[i];
	return 0;
}

int vnet_if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr))
		err = -errno;
	close(s);
	return err;
}
