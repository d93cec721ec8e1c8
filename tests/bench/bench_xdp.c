// SPDX-License-Identifier: MIT
/*
 * bench-xdp: ns per packet of the XDP program (BPF_PROG_TEST_RUN with
 * repeat) for IPv4/TCP and IPv6/TCP frames to an RSS device, the per-byte
 * table Toeplitz against the bit-serial loop (the same program with its
 * rodata knob toeplitz_bitloop set: opts.bitloop), in the same run. Goal (issue 3): <= 25 ns/packet, >= 8x faster than the bit loop;
 * each is reported for the total and net of the empty program's cost (the
 * test-run overhead, measured in the same run), the ratio also for the
 * Toeplitz part alone. The floor program shows what the two helper calls
 * every conforming program needs cost on this machine by themselves.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "frame.h"
#include "../bpf/xdp_util.h"

#define REPEAT	2000000

static const __u8 mac_dev[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* The bit-loop datapath shares the table one's socket (one per lo queue). */
static int setup(struct xdp_env *e, int bitloop, const struct xdp_env *first)
{
	struct vnet_rss_config rss = {
		.hash_types = VNET_HASH_TYPE_ALL, .table_len = 128, .key_len = 40,
	};
	struct vnet_dp_opts o = { .mode = VNET_DP_ATTACH_NONE, .bitloop = bitloop };
	int err;

	if (!first) {
		err = xdp_env_open(e, bitloop);
	} else {
		memset(e, 0, sizeof(*e));
		err = vnet_dp_open(&o, &e->dp);
		if (!err) {
			e->prog_fd = vnet_dp_prog_fd(e->dp);
			err = vnet_dp_set_xsk(e->dp, 0, xsk_reader_fd(&first->xsk));
		}
	}
	if (err)
		return err;
	for (int i = 0; i < 128; i++)
		rss.table[i] = (__u16)(i % 4);
	for (int i = 0; i < 40; i++)
		rss.key[i] = (__u8)(i * 37 + 11);
	return vnet_dp_dev_add(e->dp, 0, mac_dev, 4) ?: vnet_dp_set_rss(e->dp, 0, &rss);
}

/* XDP_PASS and nothing else: what BPF_PROG_TEST_RUN itself costs per run */
static int empty_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "vnet_empty", "GPL", insns, 2, NULL);
}

/*
 * The floor: what every program meeting the issue must do, and nothing
 * else. Ask for the redirect to the queue's socket, size the metadata
 * area to 16 bytes, write it, return XDP_REDIRECT: the two helper calls
 * without parsing, lookups or hashing. On a CPU whose kernel returns
 * through a "safe RET" thunk (SRSO without microcode) each call costs a
 * mispredicted return; this shows what that leaves for the rest.
 */
#define INSN(c, d, s_, o, i) \
	{ .code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i) }
#define LDX_CTX(d, field) \
	INSN(BPF_LDX | BPF_MEM | BPF_W, d, BPF_REG_6, offsetof(struct xdp_md, field), 0)
#define ALU_X(op, d, s_)	INSN(BPF_ALU64 | (op) | BPF_X, d, s_, 0, 0)
#define ALU_K(op, d, k)		INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, k)
#define CALL(fn)		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_##fn)
#define EXIT()			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int floor_prog(int xsk_map_fd)
{
	enum { PASS = 23 };	/* index of the XDP_PASS exit */
	const struct bpf_insn insns[] = {
		/* 0 */ ALU_X(BPF_MOV, BPF_REG_6, BPF_REG_1),
		/* redirect_map(xsks, rx_queue_index, XDP_PASS) */
		/* 1 */ INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, xsk_map_fd),
		/* 2 */ INSN(0, 0, 0, 0, 0),
		/* 3 */ LDX_CTX(BPF_REG_2, rx_queue_index),
		/* 4 */ ALU_K(BPF_MOV, BPF_REG_3, XDP_PASS),
		/* 5 */ CALL(redirect_map),
		/* 6 */ INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, PASS - 7, XDP_REDIRECT),
		/* adjust_meta(ctx, (data - data_meta) - 16) */
		/* 7 */ LDX_CTX(BPF_REG_2, data),
		/* 8 */ LDX_CTX(BPF_REG_3, data_meta),
		/* 9 */ ALU_X(BPF_SUB, BPF_REG_2, BPF_REG_3),
		/* 10 */ ALU_K(BPF_ADD, BPF_REG_2, -16),
		/* 11 */ ALU_X(BPF_MOV, BPF_REG_1, BPF_REG_6),
		/* 12 */ CALL(xdp_adjust_meta),
		/* 13 */ INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, PASS - 14, 0),
		/* the 16 bytes, behind the bounds check the verifier wants */
		/* 14 */ LDX_CTX(BPF_REG_2, data_meta),
		/* 15 */ LDX_CTX(BPF_REG_3, data),
		/* 16 */ ALU_X(BPF_MOV, BPF_REG_4, BPF_REG_2),
		/* 17 */ ALU_K(BPF_ADD, BPF_REG_4, 16),
		/* 18 */ INSN(BPF_JMP | BPF_JGT | BPF_X, BPF_REG_4, BPF_REG_3, PASS - 19, 0),
		/* 19 */ INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_2, 0, 0, 0x1234),
		/* 20 */ INSN(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_2, 0, 8, 0x5678),
		/* 21 */ ALU_K(BPF_MOV, BPF_REG_0, XDP_REDIRECT),
		/* 22 */ EXIT(),
		/* 23 */ ALU_K(BPF_MOV, BPF_REG_0, XDP_PASS),
		/* 24 */ EXIT(),
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "vnet_floor", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
}

/* The same socket in a map of the floor program's own. */
static int floor_map(int xsk_fd)
{
	__u32 k = 0;
	int fd = bpf_map_create(BPF_MAP_TYPE_XSKMAP, "vnet_floor", 4, 4, 1, NULL);

	if (fd >= 0 && bpf_map_update_elem(fd, &k, &xsk_fd, 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static double run_ns(int prog_fd, const __u8 *frame, size_t len, int want)
{
	struct xdp_md ctx_in = { .data_end = (__u32)len };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = REPEAT);
	double best = 1e9;

	/* best of 5: the machine is noisy, the minimum is the program's cost */
	for (int i = 0; i < 5; i++) {
		if (bpf_prog_test_run_opts(prog_fd, &o) || (int)o.retval != want)
			return -1;
		if (o.duration < best)
			best = o.duration;
	}
	return best;
}

/* A difference of two noisy minima can be ~0: keep ratios finite. */
static double net_floor(double ns)
{
	return ns > 0.5 ? ns : 0.5;
}

int main(void)
{
	struct xdp_env table, bits;
	struct frame_spec s;
	__u8 f4[256], f6[256], fx[256];
	size_t l4, l6, lx;
	double t4, t6, b4, b6, tx, n4, n6, e0, fl = -1;
	int ok, empty, fmap, floor = -1;

	if (geteuid() != 0) {
		fprintf(stderr, "bench-xdp needs root\n");
		return 4;
	}
	if (setup(&table, 0, NULL) || setup(&bits, 1, &table)) {
		fprintf(stderr, "bench-xdp: datapath setup failed\n");
		return 1;
	}
	frame_spec_default(&s);
	memcpy(s.dst_mac, mac_dev, 6);
	s.l4 = IPPROTO_TCP;
	l4 = frame_build(&s, f4, sizeof(f4));
	s.ip = 6;
	for (int i = 0; i < 16; i++)
		s.src[i] = (__u8)(0x20 + i), s.dst[i] = (__u8)(0x40 + i);
	l6 = frame_build(&s, f6, sizeof(f6));
	/* host traffic: the early XDP_PASS, no parse past L2 */
	memcpy(s.dst_mac, "\x02\x00\x00\x00\x00\x77", 6);
	lx = frame_build(&s, fx, sizeof(fx));

	empty = empty_prog();
	e0 = empty >= 0 ? run_ns(empty, f4, l4, XDP_PASS) : -1;
	fmap = floor_map(xsk_reader_fd(&table.xsk));
	if (fmap >= 0)
		floor = floor_prog(fmap);
	if (floor >= 0)
		fl = run_ns(floor, f4, l4, XDP_REDIRECT);
	tx = run_ns(table.prog_fd, fx, lx, XDP_PASS);
	t4 = run_ns(table.prog_fd, f4, l4, XDP_REDIRECT);
	t6 = run_ns(table.prog_fd, f6, l6, XDP_REDIRECT);
	b4 = run_ns(bits.prog_fd, f4, l4, XDP_REDIRECT);
	b6 = run_ns(bits.prog_fd, f6, l6, XDP_REDIRECT);
	/* the same frames with hashing off: everything but the Toeplitz part */
	vnet_dp_set_queue_pairs(table.dp, 0, 1);
	n4 = run_ns(table.prog_fd, f4, l4, XDP_REDIRECT);
	n6 = run_ns(table.prog_fd, f6, l6, XDP_REDIRECT);

	printf("bench-xdp: BPF_PROG_TEST_RUN, repeat %d, best of 5, ns/packet;"
	       " net = minus the empty program of this run\n", REPEAT);
	printf("  %-24s %8.1f   (the test-run overhead itself)\n", "empty XDP program", e0);
	printf("  %-24s %8.1f   net %5.1f  (redirect + 16 B metadata, nothing else)\n",
	       "floor", fl, fl - e0);
	printf("  %-24s %8.1f   net %5.1f\n", "not ours (XDP_PASS)", tx, tx - e0);
	printf("  %-24s %8s %8s %8s %8s %8s %7s %7s\n", "frame to an RSS device",
	       "no hash", "table", "net", "bitloop", "net", "ratio", "net");
	printf("  %-24s %8.1f %8.1f %8.1f %8.1f %8.1f %6.1fx %6.1fx\n", "IPv4/TCP (tcpv4)",
	       n4, t4, t4 - e0, b4, b4 - e0, b4 / t4, (b4 - e0) / net_floor(t4 - e0));
	printf("  %-24s %8.1f %8.1f %8.1f %8.1f %8.1f %6.1fx %6.1fx\n", "IPv6/TCP (tcpv6)",
	       n6, t6, t6 - e0, b6, b6 - e0, b6 / t6, (b6 - e0) / net_floor(t6 - e0));
	printf("  Toeplitz part (minus 'no hash'): IPv4 table %.1f bitloop %.1f (%.1fx),"
	       " IPv6 table %.1f bitloop %.1f (%.1fx)\n",
	       t4 - n4, b4 - n4, (b4 - n4) / net_floor(t4 - n4),
	       t6 - n6, b6 - n6, (b6 - n6) / net_floor(t6 - n6));
	ok = t4 > 0 && t6 > 0 && b4 > 0 && b6 > 0 && e0 > 0;
	printf("  goal <= 25 ns/packet, total:      %s (IPv4 %.1f, IPv6 %.1f)\n",
	       ok && t4 <= 25 && t6 <= 25 ? "met" : "NOT met", t4, t6);
	printf("  goal <= 25 ns/packet, net:        %s (IPv4 %.1f, IPv6 %.1f)\n",
	       ok && t4 - e0 <= 25 && t6 - e0 <= 25 ? "met" : "NOT met", t4 - e0, t6 - e0);
	printf("  goal >= 8x the bit loop, whole program: %s (IPv4 %.1fx, IPv6 %.1fx)\n",
	       ok && b4 / t4 >= 8 && b6 / t6 >= 8 ? "met" : "NOT met", b4 / t4, b6 / t6);
	printf("  goal >= 8x the bit loop, net:     %s (IPv4 %.1fx, IPv6 %.1fx)\n",
	       ok && (b4 - e0) / net_floor(t4 - e0) >= 8 && (b6 - e0) / net_floor(t6 - e0) >= 8 ?
	       "met" : "NOT met", (b4 - e0) / net_floor(t4 - e0), (b6 - e0) / net_floor(t6 - e0));
	printf("  goal >= 8x the bit loop, Toeplitz part: %s (IPv4 %.1fx, IPv6 %.1fx)\n",
	       ok && (b4 - n4) / net_floor(t4 - n4) >= 8 && (b6 - n6) / net_floor(t6 - n6) >= 8 ?
	       "met" : "NOT met", (b4 - n4) / net_floor(t4 - n4), (b6 - n6) / net_floor(t6 - n6));
	if (fl > 0)
		printf("  above the floor: IPv4 %.1f, IPv6 %.1f ns%s\n", t4 - fl, t6 - fl,
		       fl > 25 ? "; the floor alone is over 25 ns: <= 25 ns total cannot be met"
			     " on this machine" : "");
	if (empty >= 0)
		close(empty);
	if (floor >= 0)
		close(floor);
	if (fmap >= 0)
		close(fmap);
	xdp_env_close(&bits);
	xdp_env_close(&table);
	return 0;
}
