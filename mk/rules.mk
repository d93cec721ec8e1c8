# vnet — every rule of the build (included by the top Makefile, which only
# lists what there is to build: LIB_SRCS, PROGS + NAME_SRCS, SHLIBS, SCRIPTS,
# TESTLIB_SRCS, UNIT_TESTS, BPF_OBJS, BPF_TESTS, FUZZERS, SOURCE_CHECKS, BENCHES,
# SELFTESTS, INSTALL_SBIN, INSTALL_BIN, PKGS).

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
	       -Itests/lib -Ilib -fno-omit-frame-pointer

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

.PHONY: all deps check unit-bins demo bench fuzz clean help install bench-vhost bench-e2e \
	bench-compare bench-tcp
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
	@sed -n 's/^#   //p' Makefile

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

# Private headers beside their sources: the programs and the tests see
# lib/, only the tests see tests/lib/ (the daemon sees neither).
$(O)/obj/tests/%.o: CFLAGS += -Itests/lib -Ilib
$(O)/obj/tools/%.o $(O)/obj/guest/%.o: CFLAGS += -Ilib

# build/bin/NAME from NAME_SRCS and libvnet.a, never the test library
define PROG_RULE
$(O)/bin/$(1): $(call obj,$($(1)_SRCS)) $(LIB)
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
		FUZZERS="$(FUZZERS)" SOURCE_CHECKS="$(SOURCE_CHECKS)" SELFTESTS="$(SELFTESTS)" \
		SANITIZE="$(SANITIZE)" \
		scripts/run-tests.sh

unit-bins: $(UNIT_BINS)

# Benchmarks: bench-NAME builds and runs tests/bench/bench_NAME.c (not
# .PHONY, which would skip the pattern rule).
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

# this tree against an older revision, alternating rounds in one run:
# make bench-compare BASE=REV [BENCH="vhost e2e e2e-tx"] [ROUNDS=3]
bench-compare:
	$(Q)O=$(O) scripts/bench-compare.sh

# TCP through vnet (iperf3, both directions) against a plain veth pair
bench-tcp: $(O)/bin/vnetd $(O)/bin/vnetctl $(O)/bin/vnet-guest
	$(Q)O=$(O) scripts/bench-tcp.sh

# Installation (DESTDIR for staging, PREFIX default /usr/local).
PREFIX  ?= /usr/local

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
