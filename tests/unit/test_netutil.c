// SPDX-License-Identifier: MIT
/* vnet_mac_parse (include/vnet/netutil.h): what users type as a MAC. */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "vnet/netutil.h"

static void test_mac_parse_good(void)
{
	static const struct { const char *s; __u8 mac[6]; } ok[] = {
		{ "02:00:00:00:00:01", { 2, 0, 0, 0, 0, 1 } },
		{ "ff:FF:fF:Ff:ff:ff", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "2:0:0:a:b:c", { 2, 0, 0, 0xa, 0xb, 0xc } },
	};
	__u8 mac[6];

	for (unsigned int i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		EXPECT(vnet_mac_parse(ok[i].s, mac) == 0, "%s refused", ok[i].s);
		EXPECT(!memcmp(mac, ok[i].mac, 6), "%s parsed wrong", ok[i].s);
	}
}

static void test_mac_parse_bad(void)
{
	static const char *const bad[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:01x",
		"02:00:00:00:00:001", "002:00:00:00:00:01", " 02:00:00:00:00:01",
		"02-00-00-00-00-01", "0x2:00:00:00:00:01", "+2:00:00:00:00:01",
		"02:00:00:00:00:0g", "02::00:00:00:01", "02:00:00:00:00:01 ",
	};
	__u8 mac[6] = { 1, 2, 3, 4, 5, 6 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(vnet_mac_parse(bad[i], mac) == -EINVAL, "\"%s\" accepted", bad[i]);
	EXPECT(vnet_mac_parse(NULL, mac) == -EINVAL, "NULL accepted");
	/* bad input changes nothing */
	EXPECT(!memcmp(mac, "\1\2\3\4\5\6", 6), "a refused MAC wrote the output");
}

int main(void)
{
	RUN(test_mac_parse_good);
	RUN(test_mac_parse_bad);
	return test_summary();
}
