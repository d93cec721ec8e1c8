# vnet — one Makefile mechanism.
#
# This file only *lists* things; mk/rules.mk (included at the end) holds
# every rule. Adding a program, a unit test, a BPF object, a fuzz target, a
# benchmark or a selftest is one line here.
#
#   make              build everything into build/
#   make check        install deps, build, run every test (closing line: N passed, N failed)
#   make check ONLY=REGEX   a subset (regex on the test labels)
#   make check SANITIZE=1   the same with ASan/UBSan on the userspace code
#   make demo         show vnet at work
#   make bench        all benchmarks (bench-*), never run by `make check`
#   make bench-vhost, make bench-e2e   against DPDK (root)
#   make bench-tcp     iperf3 through vnet against a plain veth pair (root)
#   make bench-compare BASE=REV   this tree against an older one, same run
#   make install      into $(DESTDIR)$(PREFIX), PREFIX=/usr/local by default
#   make V=1          show full commands

# --- what we build -----------------------------------------------------------

# libvnet.a: everything of vnetd but main(), by layer (docs/ARCHITECTURE.md
# "The tree"); a layer uses only the layers listed before it
# (scripts/check-layers.sh, part of make check).
# util: logging, small helpers, JSON output
LIB_SRCS := daemon/util/log.c daemon/util/netutil.c daemon/util/json.c
# classify: the C reference of every receive decision (parse, hash, filter)
LIB_SRCS += daemon/classify/classify.c daemon/classify/toeplitz.c \
	daemon/classify/rx_filter.c
# engine: guest memory, virtqueues, the virtio-net header, csum/GSO in software
LIB_SRCS += daemon/engine/guest_mem.c daemon/engine/virtq.c \
	daemon/engine/virtq_split.c daemon/engine/virtq_packed.c \
	daemon/engine/csum.c daemon/engine/gso.c daemon/engine/gro.c \
	daemon/engine/net_tx.c \
	daemon/engine/net_rx.c daemon/engine/dirty_log.c
# device: the virtio-net device model, its control queue, its queues as a
# worker sees them, the receive configuration its state makes
LIB_SRCS += daemon/device/device.c daemon/device/features.c daemon/device/vring.c \
	daemon/device/dev_mem.c daemon/device/cvq.c daemon/device/devq.c \
	daemon/device/rx_conf.c daemon/device/dev_log.c
# transport: how a driver reaches the device (the table; vhost-user; VDUSE:
# the kernel's vdpa bus)
LIB_SRCS += daemon/transport/transport.c daemon/transport/vhost_user.c \
	daemon/transport/vhost_user_msg.c
LIB_SRCS += daemon/transport/vduse.c daemon/transport/vduse_bus.c \
	daemon/transport/vduse_iotlb.c daemon/transport/vduse_probe.c \
	daemon/transport/kvdpa.c
# worker: the threads that run a device's queues: the loop they share,
# vnet/sim's loopback
LIB_SRCS += daemon/worker/worker.c daemon/worker/sim.c
# uplink: the XDP program's maps and attach, AF_XDP, the uplink worker (life
# cycle, round, maps, receive, transmit), the host's share of the uplink
# (packet socket, host port), learned MACs, jumbo frames
LIB_SRCS += daemon/uplink/datapath.c daemon/uplink/dp_uplink.c daemon/uplink/dp_mac_cache.c \
	daemon/uplink/xdp_attach.c daemon/uplink/xsk.c \
	daemon/uplink/uplink_dp.c daemon/uplink/uplink_worker.c \
	daemon/uplink/uplink_push.c daemon/uplink/uplink_rx.c daemon/uplink/uplink_tx.c \
	daemon/uplink/uplink_gso.c daemon/uplink/uplink_jumbo.c daemon/uplink/uplink_hold.c \
	daemon/uplink/uplink_pkt.c daemon/uplink/host_port.c daemon/uplink/mac_learn.c \
	daemon/uplink/uplink_kgro.c daemon/uplink/pkt_ring.c
# control: registry, the device backend, persistence, netlink server, uplink watch
LIB_SRCS += daemon/control/registry.c daemon/control/backend_netdev.c \
	daemon/control/state.c daemon/control/nl_request.c daemon/control/nl_reply.c \
	daemon/control/nl_server.c daemon/control/uplink.c
# lib/: not the device, shared by programs and tests: the driver half of a
# virtqueue, split or packed (vnet-guest), the frame builder (vnet-classify's samples), a
# blocking AF_XDP reader (vnet-xsk-recv, the BPF tests).
LIB_SRCS += lib/vdriver.c lib/vdriver_packed.c lib/frame.c lib/xsk_reader.c

# Programs: NAME_SRCS lists the sources of build/bin/NAME, linked with
# libvnet.a (never with the test library).
PROGS := vnetd
vnetd_SRCS := daemon/control/vnetd.c
PROGS += vnetctl
vnetctl_SRCS := cli/vnetctl.c cli/ctl_print.c cli/nl_client.c
PROGS += vnet-guest
vnet-guest_SRCS := guest/vnet-guest.c guest/vu_front.c guest/driver.c guest/ctrl.c \
	guest/tap.c guest/stats.c
# tools/: the reference classifier and a standalone vnet/sim device (installed)
PROGS += vnet-classify
vnet-classify_SRCS := tools/vnet-classify.c
PROGS += vnet-sim
vnet-sim_SRCS := tools/vnet-sim.c
# tools/: an AF_XDP receiver (xdp_uplink.sh; the ceilings of make bench-e2e)
PROGS += vnet-xsk-recv
vnet-xsk-recv_SRCS := tools/vnet-xsk-recv.c
# tools/: the live-frames traffic generator of make bench-e2e
PROGS += vnet-gen
vnet-gen_SRCS := tools/vnet-gen.c
# a test fixture: raw, malformed netlink requests (selftests/ctl_vdpa.sh)
PROGS += vnet-nlraw
vnet-nlraw_SRCS := tests/tools/vnet-nlraw.c cli/nl_client.c

# Shared libraries: build/lib/NAME.so from NAME_SRCS (-fPIC, without libvnet.a).
SHLIBS := libvnet-vdpa
libvnet-vdpa_SRCS := cli/vdpa_preload.c
# Scripts: cli/NAME.sh -> build/bin/NAME
SCRIPTS := vnet-vdpa

# The test library (libvnet-test.a): harness, JSON reader, Toeplitz
# vectors, a registry backend without sockets. Tests only.
TESTLIB_SRCS := tests/lib/test.c tests/lib/json_read.c tests/lib/toeplitz_vectors.c
TESTLIB_SRCS += tests/lib/backend_stub.c
# TCP streams and the independent reference of receive coalescing
TESTLIB_SRCS += tests/lib/tcp_stream.c tests/lib/gro_ref.c
# both ring layouts' tests: their fixture, the kick lost-wakeup race
TESTLIB_SRCS += tests/lib/kick_race.c tests/lib/vq_fixture.c

# Unit tests: tests/unit/NAME.c, no root, linked with the test library and libvnet.a.
UNIT_TESTS := \
	test_guest_mem \
	test_virtq \
	test_virtq_packed \
	test_net_rx \
	test_net_tx \
	test_device \
	test_vhost_user \
	test_toeplitz \
	test_classify \
	test_rx_filter \
	test_truncation
UNIT_TESTS += test_nl_request
UNIT_TESTS += test_netutil
UNIT_TESTS += test_mac_learn
UNIT_TESTS += test_features test_dev_setup test_transport
# every receive path (C reference, vnet/sim, device to device) decides alike
UNIT_TESTS += test_rx_agree
UNIT_TESTS += test_gro
# the Internet checksum against a word-by-word reference
UNIT_TESTS += test_csum
UNIT_TESTS += test_vduse test_xsk_gather
# uplink workers: who owns which queue (daemon/uplink/uplink_int.h)
UNIT_TESTS += test_uplink_queues
# frames held for a receive queue without buffers (uplink_hold.c)
UNIT_TESTS += test_uplink_hold
# dirty-page logging: every guest-memory write of the engine marks its pages
UNIT_TESTS += test_dirty_log

# BPF objects: bpf/NAME.bpf.c -> build/bpf/NAME.bpf.o + build/skel/NAME.skel.h
BPF_OBJS := vnet_xdp
# vnet-gen's XDP_TX program (run with BPF_PROG_RUN, never attached)
BPF_OBJS += vnet_gen
# the host port's TC programs (daemon/uplink/host_port.c)
BPF_OBJS += vnet_host_tc
# TC ingress of the uplink: drops what vnetd took from the kernel's GRO
# (daemon/uplink/uplink_kgro.c)
BPF_OBJS += vnet_kgro_tc

# BPF program tests: tests/bpf/NAME.c (root; BPF_PROG_TEST_RUN).
BPF_TESTS := test_xdp_hash test_xdp_filter test_xdp_rss_race
# the host port against the kernel, in a network namespace of its own
BPF_TESTS += test_host_port
# how the XDP program gets onto an uplink (libxdp, else the program alone)
BPF_TESTS += test_xdp_attach
# the XDP program, the C reference, vnet/sim and device to device decide alike
BPF_TESTS += test_xdp_agree

# libFuzzer targets: tests/fuzz/NAME.c, seed corpus in tests/fuzz/corpus/NAME/.
FUZZERS := fuzz_classify fuzz_virtq fuzz_virtq_packed
FUZZERS += fuzz_vhost_user
FUZZERS += fuzz_nl
FUZZERS += fuzz_gro

# Benchmarks: tests/bench/bench_NAME.c, run by `make bench-NAME` (never by check).
BENCHES := engine
BENCHES += xdp

# Source checks: scripts that check the tree itself (and themselves, --self-test).
SOURCE_CHECKS := scripts/check-layers.sh

# Selftests: every selftests/*.sh is run by `make check` (listed, not globbed,
# so an unfinished script cannot sneak in).
SELFTESTS := \
	selftests/vhost_testpmd.sh \
	selftests/veth_basic.sh
SELFTESTS += selftests/xdp_uplink.sh
SELFTESTS += selftests/ctl_vdpa.sh selftests/ctl_sim.sh
SELFTESTS += selftests/e2e_uplink.sh selftests/uplink_group.sh
SELFTESTS += selftests/uplink_lifecycle.sh selftests/uplink_queues.sh
SELFTESTS += selftests/uplink_jumbo.sh selftests/uplink_kgro.sh
SELFTESTS += selftests/install.sh
SELFTESTS += selftests/guest_ping.sh selftests/guest_ctrl.sh selftests/guest_faults.sh
# real QEMU guests (Linux's virtio_net) on vnet devices: selftests/vm_lib.sh,
# whose agent and hang detection vm_harness.sh checks
SELFTESTS += selftests/vm_harness.sh selftests/vm_qemu.sh selftests/vm_qemu_xsk.sh
# live migration of a QEMU guest between two vnetd hosts (VM harness)
SELFTESTS += selftests/vm_migrate.sh
SELFTESTS += selftests/vnetd_log.sh selftests/runner.sh
# the XDP/AF_XDP selftests inside guests booted with Debian's 6.1 and 6.12
SELFTESTS += selftests/kernel_matrix.sh
# VDUSE devices on the kernel's vdpa bus, in a guest booted with Debian's 6.12
SELFTESTS += selftests/vduse.sh

# Installed by `make install`: programs into sbin/ and bin/ (man pages: man/*.[18]).
INSTALL_SBIN := vnetd vnetctl vnet-guest
INSTALL_BIN  := vnet-sim vnet-classify vnet-vdpa

# Libraries each link needs (pkg-config names).
PKGS := libbpf libxdp libmnl libnl-3.0 libnl-route-3.0

include mk/rules.mk

