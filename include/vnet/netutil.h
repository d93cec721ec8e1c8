/* SPDX-License-Identifier: MIT */
/*
 * Small helpers every program of the tree needs the same way: reading a
 * MAC address the user typed, one interface ioctl.
 */
#ifndef VNET_NETUTIL_H
#define VNET_NETUTIL_H

#include <stddef.h>
#include <linux/types.h>

/* <net/if.h> or <linux/if.h>: whichever the caller uses (they clash) */
struct ifreq;

/* The value of one hexadecimal digit, or -1. */
int vnet_hex_digit(char c);

/*
 * "xx:xx:xx:xx:xx:xx" (each byte one or two hex digits, nothing before or
 * after) into mac: 0, or -EINVAL with mac unchanged.
 */
int vnet_mac_parse(const char *s, __u8 mac[6]);

/*
 * A RARP request "who am I" from mac, as QEMU's self-announce sends it
 * (vhost-user SEND_RARP): 60 bytes (the minimum frame, no FCS) into f.
 */
#define VNET_RARP_LEN	60
size_t vnet_rarp_build(__u8 f[VNET_RARP_LEN], const __u8 mac[6]);

/* One SIOC* request on a throw-away socket: 0 or -errno. */
int vnet_if_ioctl(unsigned long req, struct ifreq *ifr);

/*
 * The link's speed (Mbit/s, 0xffffffff unknown) and duplex (1 full, 0 half,
 * 0xff unknown) as ethtool reports them; both unknown when the driver says
 * nothing (no get_link_ksettings) or the netdev is gone.
 */
void vnet_if_speed(const char *ifname, __u32 *speed, __u8 *duplex);

struct nlmsghdr;

/*
 * An NLMSG_ERROR message (an ack or an error, capped or not): its error
 * (0 or -errno; -EBADMSG when it is too short) and, when it carries
 * extended-ack attributes (NLM_F_ACK_TLVS), the message text into 'msg'
 * (left alone otherwise) and the offending attribute's offset into *off.
 */
int vnet_nl_ack_parse(const struct nlmsghdr *nlh, char *msg, size_t msglen, __u32 *off);

#endif
