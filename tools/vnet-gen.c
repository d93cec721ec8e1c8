// SPDX-License-Identifier: MIT
/*
 * vnet-gen: a traffic generator for benchmarks (make bench-e2e). It runs
 * bpf/vnet_gen.bpf.c with BPF_PROG_RUN and BPF_F_TEST_XDP_LIVE_FRAMES: the
 * kernel builds real frames from one template and the program sends each
 * with XDP_TX out of IF, i.e. into IF's veth peer. No pktgen (absent here),
 * no socket, no copy from userspace per frame: 6-9 Mpps of 64 B frames on
 * this machine class (DESIGN.md), ~4 Mpps when the same CPU also runs the
 * peer's XDP program and AF_XDP copy (veth receives where it was sent).
 * The peer must have an XDP program attached: veth drops XDP-transmitted
 * frames otherwise.
 *
 *   vnet-gen -i IF --dst-mac MAC [--src-mac MAC] [--src-ip A] [--dst-ip A]
 *            [-f FLOWS] [-s SECONDS | -n PACKETS] [-l LEN] [-b BATCH] [-j]
 *
 * Frames: IPv4/UDP, LEN bytes (default 64, without FCS, as DPDK's txpkts),
 * UDP checksum 0, source port 1024 + (k mod FLOWS) for the k-th frame so
 * that RSS spreads the flows. "sent" is the number of program runs that
 * returned XDP_TX: what the veth could not queue is dropped on the way
 * (the receiver's counters tell).
 *
 *   vnet-gen -i IF --count
 *
 * The other end, for the transmit direction of make bench-e2e: attaches
 * the counting program (vnet_gen_count: count per CPU, XDP_DROP) to IF
 * through a BPF link, so it goes away with the process however that ends;
 * prints {"ready":true,...}, then one {"counted":N,"ns":T} line per
 * SIGUSR1 (T: CLOCK_MONOTONIC) and a last one on SIGINT/SIGTERM. It sleeps
 * in between: the counting is the program's, in the veth's NAPI. With
 * --pass the program lets every frame on (XDP_PASS): make bench-tcp's
 * "veth+XDP" reference, the kernel's own path once a veth has an XDP
 * program (which turns off TSO on its peer, drivers/net/veth.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vnet/netutil.h"

#include "vnet_gen.skel.h"

#define GEN_MIN_LEN	(ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr))
#define GEN_MAX_LEN	1514
/*
 * Runs per BPF_PROG_RUN call. Each call sets up and tears down a page pool
 * and its memory model, ~20 ms here during which nothing is sent: calls of
 * 256 Ki frames (~85 ms at 3 Mpps) gave 3.05 Mpps, calls of 4 Mi 3.9 Mpps.
 * So the first call is short and every later one is sized to the rate seen
 * so far: about a second, or what is left of the time or the count.
 */
#define GEN_CHUNK_MIN	(64u * 1024)
#define GEN_CHUNK_FIRST	(256u * 1024)
#define GEN_CHUNK_MAX	(64u * 1024 * 1024)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int if_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static __u16 ip_csum(const void *p, size_t len)
{
	const __u8 *b = p;
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

/* the template every live frame starts from */
static void build_frame(__u8 *f, size_t len, const __u8 dst[6], const __u8 src[6],
			__u32 saddr, __u32 daddr)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	memset(f, 0, len);
	memcpy(eth->h_dest, dst, 6);
	memcpy(eth->h_source, src, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((__u16)(len - ETH_HLEN));
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = ip_csum(ip, sizeof(*ip));
	udp->source = htons(1024);
	udp->dest = htons(9);	/* discard */
	udp->len = htons((__u16)(len - ETH_HLEN - sizeof(*ip)));
	for (size_t i = GEN_MIN_LEN; i < len; i++)
		f[i] = (__u8)i;
}

/* frames the counting program saw so far, all CPUs */
static int count_read(int map_fd, __u64 *vals, int ncpu, unsigned long long *sum)
{
	__u32 k = 0;

	if (bpf_map_lookup_elem(map_fd, &k, vals))
		return -errno;
	*sum = 0;
	for (int i = 0; i < ncpu; i++)
		*sum += vals[i];
	return 0;
}

/* --count: attach the counter to ifindex, answer SIGUSR1 until told to stop */
static int count_mode(struct vnet_gen *skel, const char *ifname, int ifindex)
{
	unsigned long long sum = 0;
	struct bpf_link *link;
	struct timespec ts;
	__u64 *vals = NULL;
	sigset_t set;
	int ncpu, err, sig;

	ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	/* blocked before the link exists: no signal is lost between two waits */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL)) {
		err = -errno;
		goto out;
	}
	link = bpf_program__attach_xdp(skel->progs.vnet_gen_count, ifindex);
	if (!link) {
		err = -errno;
		fprintf(stderr, "vnet-gen: attach the counter to %s: %s\n", ifname,
			strerror(-err));
		goto out;
	}
	printf("{\"ready\":true,\"pid\":%d,\"ifname\":\"%s\"}\n", (int)getpid(), ifname);
	fflush(stdout);
	do {
		err = -sigwait(&set, &sig);	/* 0 or a positive errno */
		if (err)
			break;
		err = count_read(bpf_map__fd(skel->maps.counted), vals, ncpu, &sum);
		if (err) {
			fprintf(stderr, "vnet-gen: read the counter: %s\n", strerror(-err));
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("{\"counted\":%llu,\"ns\":%llu}\n", sum,
		       (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
		fflush(stdout);
	} while (sig == SIGUSR1);
	bpf_link__destroy(link);
out:
	free(vals);
	return err;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vnet-gen -i IF --dst-mac MAC [OPTIONS]\n"
"       vnet-gen -i IF --count [--pass]\n"
"  -i, --ifname IF      veth to send from (frames arrive at its peer)\n"
"  -d, --dst-mac MAC    destination MAC of every frame\n"
"      --src-mac MAC    source MAC (default: IF's own)\n"
"      --src-ip A.B.C.D source address (default 10.9.0.1)\n"
"      --dst-ip A.B.C.D destination address (default 10.9.0.2)\n"
"  -f, --flows N        UDP source ports 1024..1024+N-1 in turn (default 64)\n"
"  -s, --seconds S      send for S seconds (default 10)\n"
"  -n, --packets N      send N frames instead\n"
"  -l, --len LEN        frame length without FCS, %zu..%u (default 64)\n"
"  -b, --batch N        frames per kernel batch (default 64; 0: kernel default)\n"
"  -j, --json           print the result as JSON\n"
"  -c, --count          count and drop what arrives on IF instead (XDP); one\n"
"                       JSON line per SIGUSR1, a last one on SIGINT/SIGTERM\n"
"      --pass           with --count: count and let every frame on to IF's\n"
"                       stack (any XDP program on a veth turns off its peer's\n"
"                       TSO: the kernel's own path under XDP, for bench-tcp)\n"
"  -h, --help           this text\n", GEN_MIN_LEN, GEN_MAX_LEN);
}

int main(int argc, char **argv)
{
	enum { O_SRCMAC = 256, O_SRCIP, O_DSTIP, O_PASS };
	static const struct option lo[] = {
		{ "ifname", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'd' },
		{ "src-mac", required_argument, NULL, O_SRCMAC },
		{ "src-ip", required_argument, NULL, O_SRCIP },
		{ "dst-ip", required_argument, NULL, O_DSTIP },
		{ "flows", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 's' },
		{ "packets", required_argument, NULL, 'n' },
		{ "len", required_argument, NULL, 'l' },
		{ "batch", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", no_argument, NULL, 'c' },
		{ "pass", no_argument, NULL, O_PASS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *ifname = NULL;
	__u8 dst[6], src[6], frame[GEN_MAX_LEN];
	bool have_dst = false, have_src = false, json = false, count = false, pass = false;
	__u32 saddr = htonl(0x0a090001), daddr = htonl(0x0a090002);
	unsigned long long want = 0, sent = 0;
	unsigned int flows = 64, len = 64, batch = 64;
	double secs = 10, t0, t1, rate = 0, t;
	__u32 chunk = GEN_CHUNK_FIRST;
	struct xdp_md ctx = { 0 };
	struct vnet_gen *skel;
	int c, err, ifindex, fd;

	while ((c = getopt_long(argc, argv, "i:d:f:s:n:l:b:jch", lo, NULL)) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'd':
			if (vnet_mac_parse(optarg, dst))
				goto bad;
			have_dst = true;
			break;
		case O_SRCMAC:
			if (vnet_mac_parse(optarg, src))
				goto bad;
			have_src = true;
			break;
		case O_SRCIP:
			if (inet_pton(AF_INET, optarg, &saddr) != 1)
				goto bad;
			break;
		case O_DSTIP:
			if (inet_pton(AF_INET, optarg, &daddr) != 1)
				goto bad;
			break;
		case 'f': flows = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'n': want = strtoull(optarg, NULL, 0); break;
		case 'l': len = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'b': batch = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'j': json = true; break;
		case 'c': count = true; break;
		case O_PASS: pass = true; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (!ifname || (!have_dst && !count) || (pass && !count) || optind != argc || !flows || flows > 65536 - 1024 ||
	    len < GEN_MIN_LEN || len > GEN_MAX_LEN || (!want && secs <= 0))
		goto bad;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "vnet-gen: no interface %s\n", ifname);
		return 1;
	}
	if (!count && !have_src && (err = if_mac(ifname, src))) {
		fprintf(stderr, "vnet-gen: MAC of %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	if (!count)
		build_frame(frame, len, dst, src, saddr, daddr);

	skel = vnet_gen__open();
	if (!skel) {
		fprintf(stderr, "vnet-gen: open BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->nflows = flows;
	skel->rodata->count_pass = pass;
	err = vnet_gen__load(skel);
	if (err) {
		fprintf(stderr, "vnet-gen: load BPF program: %s\n", strerror(-err));
		goto out;
	}
	if (count) {
		err = count_mode(skel, ifname, ifindex);
		goto out;
	}
	fd = bpf_program__fd(skel->progs.vnet_gen);
	/* the program "received" the template on IF: XDP_TX sends it out there */
	ctx.ingress_ifindex = (__u32)ifindex;
	/* the kernel wants the context to describe data_in exactly (no meta) */
	ctx.data_end = len;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	t0 = now_s();
	t1 = t0;
	while (!stop && (want ? sent < want : t1 - t0 < secs)) {
		LIBBPF_OPTS(bpf_test_run_opts, o,
			.data_in = frame, .data_size_in = len,
			.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			.batch_size = batch, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
		double est;

		if (rate) {
			est = rate * (want ? 1.0 : secs - (t1 - t0) < 1.0 ? secs - (t1 - t0) : 1.0);
			chunk = est < GEN_CHUNK_MIN ? GEN_CHUNK_MIN :
				est > GEN_CHUNK_MAX ? GEN_CHUNK_MAX : (__u32)est;
		}
		if (want && want - sent < chunk)
			chunk = (__u32)(want - sent);
		o.repeat = chunk;
		t = now_s();
		err = bpf_prog_test_run_opts(fd, &o);
		t1 = now_s();
		if (err) {
			err = -errno;
			/* a signal cuts a call short: its frames are not counted */
			if (err == -EINTR) {
				err = 0;
				break;
			}
			fprintf(stderr, "vnet-gen: BPF_PROG_RUN (live frames) on %s: %s\n",
				ifname, strerror(-err));
			goto out;
		}
		sent += chunk;
		if (t1 > t)
			rate = chunk / (t1 - t);
	}
	if (json)
		printf("{\"ifname\":\"%s\",\"sent\":%llu,\"seconds\":%.3f,\"pps\":%.0f,"
		       "\"len\":%u,\"flows\":%u}\n", ifname, sent, t1 - t0,
		       t1 > t0 ? (double)sent / (t1 - t0) : 0.0, len, flows);
	else
		printf("%s: sent %llu frames of %u B (%u flows) in %.3f s: %.2f Mpps\n",
		       ifname, sent, len, flows, t1 - t0,
		       t1 > t0 ? (double)sent / (t1 - t0) / 1e6 : 0.0);
out:
	vnet_gen__destroy(skel);
	return err ? 1 : 0;

bad:
	usage(stderr);
	return 2;
}
