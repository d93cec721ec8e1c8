// SPDX-License-Identifier: MIT
/*
 * vnet-classify: run the reference classifier on frames and show what a vnet
 * device would do with them: parse result, hash type chosen for the enabled
 * types, the Toeplitz value (both forms, which must agree) and the receive
 * queue an RSS indirection table picks.
 *
 *   vnet-classify [-j] [-k KEYHEX] [-t TYPES] [-q QUEUES] [HEXFRAME ...]
 *
 * Without frames it classifies a built-in set of sample frames.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/classify.h"
#include "vnet/json.h"
#include "vnet/log.h"
#include "frame.h"

#define INDIR_LEN 128

/* The Microsoft verification key: also what the spec's examples assume. */
static const char default_key[] =
	"6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa";

struct sample {
	const char *what;
	struct frame_spec spec;
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vnet-classify [OPTIONS] [HEXFRAME ...]\n"
"Classify frames with vnet's reference classifier (no frames: built-in samples).\n"
"\n"
"  -t, --types LIST   enabled hash types: comma list of ipv4,tcpv4,udpv4,ipv6,\n"
"                     tcpv6,udpv6,ip_ex,tcp_ex,udp_ex, or 'all', or a hex mask\n"
"                     (default: all)\n"
"  -k, --key HEX      Toeplitz key, up to 40 bytes (default: the Microsoft key)\n"
"  -q, --queues N     receive queues behind the indirection table (default 4)\n"
"  -j, --json         JSON output; -p pretty JSON\n"
"  -v, --verbose      more messages\n"
"  -h, --help         this text\n");
}

static int parse_types(const char *arg, __u32 *out)
{
	static const char *const names[] = { "ipv4", "tcpv4", "udpv4", "ipv6", "tcpv6",
					     "udpv6", "ip_ex", "tcp_ex", "udp_ex" };
	char *copy, *tok, *save = NULL, *end;
	__u32 mask = 0;

	if (!strcmp(arg, "all")) {
		*out = VNET_HASH_TYPE_ALL;
		return 0;
	}
	if (!strncmp(arg, "0x", 2)) {
		unsigned long v = strtoul(arg, &end, 16);

		if (*end || v > VNET_HASH_TYPE_ALL)
			return -EINVAL;
		*out = (__u32)v;
		return 0;
	}
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < 9 && strcmp(tok, names[i]); i++)
			;
		if (i == 9) {
			pr_warn("unknown hash type \"%s\"\n", tok);
			free(copy);
			return -EINVAL;
		}
		mask |= 1u << i;
	}
	free(copy);
	*out = mask;
	return 0;
}

static int parse_hex(const char *hex, __u8 *out, size_t max, size_t *len)
{
	size_t n = 0;

	for (; *hex; hex++) {
		unsigned int b;

		if (*hex == ':' || *hex == ' ')
			continue;
		if (n == max || sscanf(hex, "%2x", &b) != 1 || !hex[1])
			return -EINVAL;
		out[n++] = (__u8)b;
		hex++;
	}
	*len = n;
	return 0;
}

static int build_samples(struct sample *s, int max)
{
	int n = 0;

#define ADD(desc) (frame_spec_default(&s[n].spec), s[n].what = desc, &s[n++].spec)
	struct frame_spec *f;

	f = ADD("IPv4/TCP 66.9.149.187:2794 > 161.142.100.80:1766");
	f->l4 = IPPROTO_TCP;
	memcpy(f->src, (__u8[]){ 66, 9, 149, 187 }, 4);
	memcpy(f->dst, (__u8[]){ 161, 142, 100, 80 }, 4);
	f->sport = 2794, f->dport = 1766;

	f = ADD("IPv4/UDP in an 802.1Q tag (VID 100)");
	f->vlan_tags = 1, f->vid[0] = 100;

	f = ADD("IPv4/TCP first fragment (addresses only)");
	f->l4 = IPPROTO_TCP, f->frag = FRAG_FIRST;

	f = ADD("IPv6/UDP in QinQ (802.1ad 10 / 802.1Q 20)");
	f->ip = 6, f->vlan_tags = 2;
	f->tpid[0] = 0x88a8, f->vid[0] = 10, f->tpid[1] = 0x8100, f->vid[1] = 20;
	f->src[0] = 0x20, f->src[1] = 0x01, f->src[15] = 1;
	f->dst[0] = 0x20, f->dst[1] = 0x01, f->dst[15] = 2;

	f = ADD("IPv6/TCP with Home Address + type-2 routing header");
	f->ip = 6, f->l4 = IPPROTO_TCP, f->n_ext = 2;
	f->ext[0] = (struct frame_ext){ .type = IPPROTO_DSTOPTS, .hao = 1 };
	f->ext[1] = (struct frame_ext){ .type = IPPROTO_ROUTING, .rh2 = 1 };
	f->src[0] = 0x20, f->src[15] = 1;
	f->dst[0] = 0x20, f->dst[15] = 2;
	f->ex_src[0] = 0x20, f->ex_src[15] = 0xa;
	f->ex_dst[0] = 0x20, f->ex_dst[15] = 0xb;

	f = ADD("IPv6 fragment");
	f->ip = 6, f->n_ext = 1, f->frag = FRAG_LATER;
	f->ext[0] = (struct frame_ext){ .type = IPPROTO_FRAGMENT };

	f = ADD("ARP (not IP: no hash)");
	f->ip = 0, f->ethertype = 0x0806;
#undef ADD
	return n <= max ? n : max;
}

static void describe(const struct vnet_parsed *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s",
		 p->l3 == VNET_L3_IPV4 ? "ipv4" : p->l3 == VNET_L3_IPV6 ? "ipv6" : "other",
		 p->l4 == VNET_L4_TCP ? "/tcp" : p->l4 == VNET_L4_UDP ? "/udp" : "",
		 p->flags & VNET_PF_IPV6_EXT ? " +ext" : "",
		 p->flags & VNET_PF_FRAGMENT ? " frag" : "",
		 p->flags & (VNET_PF_HOME_ADDR | VNET_PF_RH2) ? " hao/rh2" : "",
		 p->flags & VNET_PF_MALFORMED ? " malformed" : "");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "types", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "queues", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct vnet_toeplitz_table tbl;
	struct sample samples[16];
	__u8 key[VNET_TOEPLITZ_KEY_MAX];
	size_t key_len = 0;
	__u32 types = VNET_HASH_TYPE_ALL;
	unsigned long queues = 4;
	int json = 0, pretty = 0, verbose = 0, nframes, mismatches = 0, c;
	struct json_writer jw;
	char *end;

	while ((c = getopt_long(argc, argv, "t:k:q:jpvh", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (parse_types(optarg, &types)) {
				fprintf(stderr, "vnet-classify: bad hash types \"%s\"\n", optarg);
				return 1;
			}
			break;
		case 'k':
			if (parse_hex(optarg, key, sizeof(key), &key_len)) {
				fprintf(stderr, "vnet-classify: key must be at most 40 hex bytes\n");
				return 1;
			}
			break;
		case 'q':
			queues = strtoul(optarg, &end, 0);
			if (*end || queues < 1 || queues > 256) {
				fprintf(stderr, "vnet-classify: queues must be 1..256\n");
				return 1;
			}
			break;
		case 'j': json = 1; break;
		case 'p': json = pretty = 1; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	vnet_log_init(argv[0], verbose);
	if (!key_len)
		parse_hex(default_key, key, sizeof(key), &key_len);
	vnet_toeplitz_expand(key, key_len, &tbl);

	nframes = optind < argc ? argc - optind : build_samples(samples, 16);
	if (json) {
		jw_init(&jw, stdout, pretty);
		jw_obj_open(&jw, NULL);
		jw_uint(&jw, "enabled_hash_types", types);
		jw_uint(&jw, "queues", queues);
		jw_arr_open(&jw, "frames");
	} else {
		printf("enabled hash types 0x%03x, %lu queues, indirection table of %d\n\n",
		       types, queues, INDIR_LEN);
		printf("%-52s %-20s %-9s %-10s %s\n", "frame", "parsed", "hash", "value", "queue");
	}
	for (int i = 0; i < nframes; i++) {
		__u8 frame[2048];
		size_t len = 0;
		struct vnet_parsed p;
		struct vnet_hash_input in;
		char what[128], parsed[64];
		__u32 h_tbl = 0, h_bits = 0;
		int report = VNET_HASH_REPORT_NONE, rc;

		if (optind < argc) {
			if (parse_hex(argv[optind + i], frame, sizeof(frame), &len)) {
				fprintf(stderr, "vnet-classify: frame %d is not hex\n", i + 1);
				return 1;
			}
			snprintf(what, sizeof(what), "frame %d (%zu bytes)", i + 1, len);
		} else {
			len = frame_build(&samples[i].spec, frame, sizeof(frame));
			snprintf(what, sizeof(what), "%s", samples[i].what);
		}
		rc = vnet_parse_frame(frame, len, &p);
		if (rc) {
			snprintf(parsed, sizeof(parsed), "runt (L2 cut)");
		} else {
			describe(&p, parsed, sizeof(parsed));
			report = vnet_hash_input_build(&p, types, &in);
			if (report) {
				h_tbl = vnet_toeplitz_table(&tbl, in.data, in.len);
				h_bits = vnet_toeplitz_bits(key, key_len, in.data, in.len);
				mismatches += h_tbl != h_bits;
			}
		}
		/* indirection table filled round-robin, as drivers do by default */
		unsigned long queue = report ? (h_tbl & (INDIR_LEN - 1)) % queues : 0;

		if (json) {
			jw_obj_open(&jw, NULL);
			jw_str(&jw, "frame", what);
			jw_str(&jw, "parsed", parsed);
			jw_str(&jw, "hash_report", vnet_hash_report_name(report));
			if (report)
				jw_uint(&jw, "hash_value", h_tbl);
			else
				jw_null(&jw, "hash_value");
			jw_bool(&jw, "forms_agree", h_tbl == h_bits);
			jw_uint(&jw, "queue", queue);
			jw_obj_close(&jw);
		} else if (report) {
			printf("%-52s %-20s %-9s 0x%08x %lu%s\n", what, parsed,
			       vnet_hash_report_name(report), h_tbl, queue,
			       h_tbl == h_bits ? "" : "  FORMS DISAGREE");
		} else {
			printf("%-52s %-20s %-9s %-10s %lu (unclassified)\n", what, parsed,
			       "none", "-", queue);
		}
	}
	if (json) {
		jw_arr_close(&jw);
		jw_obj_close(&jw);
		jw_finish(&jw);
	}
	return mismatches ? 2 : 0;
}
