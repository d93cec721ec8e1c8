# vnet — one Makefile mechanism.
#
# This top part only *lists* things; the rules below build them all.
# Adding a program, a unit test, a BPF object or a fuzz target is one line.
#
#   make              build everything into build/
#   make check        install deps, build, run every test (closing line: N passed, N failed)
#   make check SANITIZE=1   the same with ASan/UBSan on the userspace code
#   make demo         show vnet at work
#   make bench        all benchmarks (bench-*), never run by `make check`
#   make V=1          show full commands

# --- what we build -----------------------------------------------------------

# libvnet.a: code shared by vnetd, the CLI, the tools and the tests.
LIB_SRCS := \
	daemon/log.c \
	daemon/netutil.c \
	daemon/classify.c \
	daemon/toeplitz.c \
	daemon/json.c \
	daemon/guest_mem.c \
	daemon/virtq_split.c \
	daemon/csum.c \
	daemon/gso.c \
	daemon/net_tx.c \
	daemon/net_rx.c

# The virtio-net device model and the vhost-user transport.
LIB_SRCS += daemon/device.c daemon/cvq.c daemon/vhost_user.c daemon/vhost_user_msg.c \
	daemon/sim.c
# The device's queues as a worker sees them (sim.c and uplink_dp.c).
LIB_SRCS += daemon/devq.c

# The control plane: registry, persistence, netlink server, uplink watch.
LIB_SRCS += daemon/registry.c daemon/backend_netdev.c daemon/state.c \
	daemon/nl_request.c daemon/nl_server.c daemon/uplink.c

# The XDP uplink datapath (map API) and the C reference of its decisions.
LIB_SRCS += daemon/datapath.c daemon/rx_filter.c
# loading and attaching the XDP program (libxdp, else the program alone)
LIB_SRCS += daemon/xdp_attach.c
# The uplink datapath wiring: AF_XDP sockets and the uplink worker.
LIB_SRCS += daemon/xsk.c daemon/uplink_dp.c daemon/uplink_pkt.c
# host <-> devices on the uplink without the wire: TAP + TC programs
LIB_SRCS += daemon/host_port.c

# Programs: NAME_SRCS lists the sources of build/bin/NAME (linked with libvnet.a).
PROGS := vnet-classify
vnet-classify_SRCS := tests/tools/vnet-classify.c
PROGS += vnet-sim
vnet-sim_SRCS := tests/tools/vnet-sim.c
PROGS += vnet-guest
vnet-guest_SRCS := guest/vnet-guest.c guest/vu_front.c guest/driver.c guest/ctrl.c \
	guest/tap.c guest/stats.c
PROGS += vnetd
vnetd_SRCS := daemon/vnetd.c
PROGS += vnetctl
vnetctl_SRCS := cli/vnetctl.c cli/ctl_print.c cli/nl_client.c
PROGS += vnet-nlraw
vnet-nlraw_SRCS := tests/tools/vnet-nlraw.c cli/nl_client.c
# Shared libraries: build/lib/NAME.so from NAME_SRCS (-fPIC, without libvnet.a).
SHLIBS := libvnet-vdpa
libvnet-vdpa_SRCS := cli/vdpa_preload.c
# Scripts: cli/NAME.sh -> build/bin/NAME
SCRIPTS := vnet-vdpa
PROGS += vnet-xsk-recv
vnet-xsk-recv_SRCS := tests/tools/vnet-xsk-recv.c
# the live-frames traffic generator of make bench-e2e
PROGS += vnet-gen
vnet-gen_SRCS := tests/tools/vnet-gen.c

# Unit tests: tests/unit/NAME.c, no root, linked with libvnet.a.
# Support code of the tests (frame builder, harness, JSON reader).
TESTLIB_SRCS := tests/lib/test.c tests/lib/frame.c tests/lib/json_read.c \
	tests/lib/toeplitz_vectors.c \
	tests/lib/vdriver.c
TESTLIB_SRCS += tests/lib/test_xsk.c
TESTLIB_SRCS += tests/lib/backend_stub.c

UNIT_TESTS := \
	test_guest_mem \
	test_virtq \
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

# BPF objects: bpf/NAME.bpf.c -> build/bpf/NAME.bpf.o + build/skel/NAME.skel.h
BPF_OBJS := vnet_xdp vnet_xdp_bitloop
# vnet-gen's XDP_TX program (run with BPF_PROG_RUN, never attached)
BPF_OBJS += vnet_gen
# the host port's TC programs (daemon/host_port.c)
BPF_OBJS += vnet_host_tc

# BPF program tests: tests/bpf/NAME.c (root; BPF_PROG_TEST_RUN).
BPF_TESTS := test_xdp_hash test_xdp_filter test_xdp_rss_race
# the host port against the kernel, in a network namespace of its own
BPF_TESTS += test_host_port
# how the XDP program gets onto an uplink (libxdp, else the program alone)
BPF_TESTS += test_xdp_attach

# libFuzzer targets: tests/fuzz/NAME.c, seed corpus in tests/fuzz/corpus/NAME/.
FUZZERS := fuzz_classify fuzz_virtq
FUZZERS += fuzz_vhost_user
FUZZERS += fuzz_nl

# Selftests: every selftests/*.sh is run by `make check` (listed, not globbed,
# so an unfinished script cannot sneak in).
SELFTESTS := \
	selftests/vhost_testpmd.sh \
	selftests/veth_basic.sh
SELFTESTS += selftests/xdp_uplink.sh
SELFTESTS += selftests/ctl_vdpa.sh selftests/ctl_sim.sh
SELFTESTS += selftests/e2e_uplink.sh selftests/uplink_group.sh
SELFTESTS += selftests/uplink_lifecycle.sh
SELFTESTS += selftests/install.sh
SELFTESTS += selftests/guest_ping.sh selftests/guest_ctrl.sh selftests/guest_faults.sh
# real QEMU guests (Linux's virtio_net) on vnet devices: selftests/vm_lib.sh
SELFTESTS += selftests/vm_qemu.sh
# the XDP/AF_XDP selftests inside guests booted with Debian's 6.1 and 6.12
SELFTESTS += selftests/kernel_matrix.sh

# Libraries each link needs (pkg-config names).
PKGS := libbpf libxdp libmnl libnl-3.0 libnl-route-3.0

# --- toolchain and flags -----------------------------------------------------

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
AR      ?= ar
BUILD   ?= build
O       := $(BUILD)
ifeq ($(SANITIZE),1)
O       := $(BUILD)/asan
endif

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2)
endif

ARCH_INC := -I/usr/include/$(shell $(CC) -dumpmachine)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	   -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -D_GNU_SOURCE -Iinclude -I$(O)/skel $(PKG_CFLAGS) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lpthread -lelf -lz
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(SANITIZE),1)
CFLAGS  += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
endif

BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Iinclude $(ARCH_INC) \
	      -D__TARGET_ARCH_x86

# Fuzzing: every library object instrumented once (fuzzer-no-link), each
# target linked from its own file and that archive.
FUZZ_SAN    := address,undefined
FUZZ_CFLAGS := -O1 -g -std=gnu11 -D_GNU_SOURCE -DVNET_FUZZ -Iinclude -I$(O)/skel \
	       -Itests/lib -fno-omit-frame-pointer

# --- derived names -----------------------------------------------------------

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))
LIB      := $(O)/libvnet.a
LIB_OBJS := $(call obj,$(LIB_SRCS))
TESTLIB  := $(O)/libvnet-test.a
TESTLIB_OBJS := $(call obj,$(TESTLIB_SRCS))
BINS     := $(addprefix $(O)/bin/,$(PROGS))
UNIT_BINS := $(addprefix $(O)/tests/unit/,$(UNIT_TESTS))
BPF_OBJ_FILES := $(addprefix $(O)/bpf/,$(addsuffix .bpf.o,$(BPF_OBJS)))
SKELS    := $(addprefix $(O)/skel/,$(addsuffix .skel.h,$(BPF_OBJS)))
BPF_TEST_BINS := $(addprefix $(O)/tests/bpf/,$(BPF_TESTS))
FUZZ_BINS := $(addprefix $(O)/fuzz/,$(FUZZERS))
SHLIB_FILES := $(patsubst %,$(O)/lib/%.so,$(SHLIBS))
SCRIPT_FILES := $(addprefix $(O)/bin/,$(SCRIPTS))

.PHONY: all deps check unit demo bench fuzz clean help install bench-vhost bench-e2e
.DELETE_ON_ERROR:

# Every object is named in a rule so make never treats one as an
# intermediate file (it would delete it, or, under .SECONDARY, fail to
# rebuild it when a list grows). This target is never built.
.objects-named: $(BPF_OBJ_FILES) $(call obj,$(foreach p,$(PROGS),$($(p)_SRCS))) \
	$(patsubst %,$(O)/obj/tests/unit/%.o,$(UNIT_TESTS)) \
	$(patsubst %,$(O)/obj/tests/bpf/%.o,$(BPF_TESTS)) \
	$(patsubst %,$(O)/obj/tests/bench/bench_%.o,$(BENCHES))

all: $(SKELS) $(LIB) $(BINS) $(UNIT_BINS) $(BPF_TEST_BINS) $(SHLIB_FILES) $(SCRIPT_FILES)

help:
	@sed -n '3,12p' Makefile | sed 's/^# \{0,1\}//'

# --- rules -------------------------------------------------------------------

# Userspace objects wait for every skeleton so `#include "x.skel.h"` always works.
$(O)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(TESTLIB): $(TESTLIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# tests and test tools also see tests/lib/
$(O)/obj/tests/%.o: CFLAGS += -Itests/lib

# build/bin/NAME from NAME_SRCS
define PROG_RULE
$(O)/bin/$(1): $(call obj,$($(1)_SRCS)) $(TESTLIB) $(LIB)
	$$(call msg,LD,$$@)
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach p,$(PROGS),$(eval $(call PROG_RULE,$(p))))

# build/lib/NAME.so from NAME_SRCS, position-independent objects in pic/
# Never sanitized: the library is preloaded into programs that are not.
$(O)/pic/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(filter-out $(SAN_FLAGS),$(CFLAGS)) -fPIC -c $< -o $@

define SHLIB_RULE
$(O)/lib/$(1).so: $(patsubst %.c,$(O)/pic/%.o,$($(1)_SRCS))
	$$(call msg,LD,$$@)
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(filter-out $$(SAN_FLAGS),$$(LDFLAGS)) -shared $$^ -ldl -o $$@
endef
$(foreach l,$(SHLIBS),$(eval $(call SHLIB_RULE,$(l))))

$(O)/bin/%: cli/%.sh
	$(call msg,GEN,$@)
	@mkdir -p $(@D)
	$(Q)install -m 0755 $< $@

$(O)/tests/unit/%: $(O)/obj/tests/unit/%.o $(TESTLIB) $(LIB)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(O)/tests/bpf/%: $(O)/obj/tests/bpf/%.o $(TESTLIB) $(LIB)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(O)/bpf/%.bpf.o: bpf/%.bpf.c
	$(call msg,CLANG,$<)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

# The same XDP program with the bit-serial Toeplitz loop (bench-xdp's peer).
$(O)/bpf/vnet_xdp_bitloop.bpf.o: bpf/vnet_xdp.bpf.c
	$(call msg,CLANG,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DVNET_TOEPLITZ_BITLOOP -MMD -MP -c $< -o $@

$(O)/skel/%.skel.h: $(O)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	@mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

FUZZ_OBJS := $(patsubst %.c,$(O)/fuzzobj/%.o,$(LIB_SRCS) $(TESTLIB_SRCS))

$(O)/fuzzobj/%.o: %.c | $(SKELS)
	$(call msg,CC-FUZZ,$<)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) \
		-MMD -MP -c $< -o $@

$(O)/libvnet-fuzz.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(O)/fuzz/%: tests/fuzz/%.c $(O)/libvnet-fuzz.a
	$(call msg,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) $^ $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)

# --- running -----------------------------------------------------------------

deps:
	$(Q)scripts/deps.sh

# The one test command. It builds the normal and the sanitized tree, then runs
# unit tests (both builds), BPF program tests, fuzzers (short) and selftests.
check: deps
	$(Q)$(MAKE) --no-print-directory all fuzz
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 BUILD=$(BUILD) unit-bins
	$(Q)O=$(O) UNIT_TESTS="$(UNIT_TESTS)" BPF_TESTS="$(BPF_TESTS)" \
		FUZZERS="$(FUZZERS)" SELFTESTS="$(SELFTESTS)" SANITIZE="$(SANITIZE)" \
		scripts/run-tests.sh

unit-bins: $(UNIT_BINS)

# Benchmarks: tests/bench/bench_NAME.c, run by `make bench-NAME` (never by
# check; not .PHONY, which would skip the pattern rule).
BENCHES := engine
BENCHES += xdp
$(O)/tests/bench/%: $(O)/obj/tests/bench/%.o $(TESTLIB) $(LIB)
	$(call msg,LD,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

bench-%: $(O)/tests/bench/bench_%
	$(Q)$<

bench: $(addprefix bench-,$(BENCHES))

bench-vhost: $(O)/bin/vnet-sim
	$(Q)O=$(O) scripts/bench-vhost.sh

# the whole receive path, wire -> guest, against DPDK and an AF_XDP ceiling
bench-e2e: $(O)/bin/vnetd $(O)/bin/vnetctl $(O)/bin/vnet-guest $(O)/bin/vnet-gen \
		$(O)/bin/vnet-xsk-recv
	$(Q)O=$(O) scripts/bench-e2e.sh

# Installation (DESTDIR for staging, PREFIX default /usr/local).
PREFIX  ?= /usr/local
INSTALL_SBIN := vnetd vnetctl vnet-guest
INSTALL_BIN  := vnet-sim vnet-classify vnet-vdpa

install: all
	$(Q)install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/lib/systemd/system
	$(Q)install -m 0755 $(addprefix $(O)/bin/,$(INSTALL_SBIN)) $(DESTDIR)$(PREFIX)/sbin/
	$(Q)install -m 0755 $(addprefix $(O)/bin/,$(INSTALL_BIN)) $(DESTDIR)$(PREFIX)/bin/
	$(Q)install -m 0644 $(SHLIB_FILES) $(DESTDIR)$(PREFIX)/lib/
	$(Q)install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	$(Q)install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(PREFIX)/share/man/man8/
	$(Q)sed 's|/usr/sbin/vnetd|$(PREFIX)/sbin/vnetd|' scripts/vnetd.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/vnetd.service
	@echo "installed into $(DESTDIR)$(PREFIX)"

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)O=$(O) scripts/demo.sh

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
