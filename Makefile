# SPDX-License-Identifier: GPL-2.0-only
# exfilmon build: BPF objects -> linked object -> skeleton; userspace library,
# daemon, CLI and unit tests. Everything generated goes under build/.

# SAN=address,undefined builds everything with those sanitizers into its own tree
# (build-san unless OUT is given), so sanitized and plain objects never mix.
SAN      ?=
ifneq ($(SAN),)
OUT      ?= build-san
else
OUT      ?= build
endif
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_H ?=

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-9s %s\n' "$(1)" "$(2)";
endif

PKGS     := libbpf libelf zlib liblz4 yaml-0.1 jansson libcrypto libssl libsystemd libnats
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# The fleet side: exfilmon-central (NATS JetStream consumer, PostgreSQL) and the fleet
# simulator; exfilctl reads the central store with libpq (--db).
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
PQ_LIBS   := $(shell pkg-config --libs libpq 2>/dev/null || echo -lpq)
NATS_CFLAGS := $(shell pkg-config --cflags libnats 2>/dev/null)
NATS_LIBS := $(shell pkg-config --libs libnats 2>/dev/null || echo -lnats)

HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS   ?= -O2 -g
VERSION  := 0.1.0
WARNINGS := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wmissing-prototypes \
            -Wstrict-prototypes -Wformat=2
XCFLAGS  := -std=gnu11 $(WARNINGS) -DEXFILMON_VERSION=\"$(VERSION)\" \
            -Iinclude -Iuser -I$(OUT) $(HARDEN) $(PKG_CFLAGS) $(PQ_CFLAGS) $(NATS_CFLAGS) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now
ifneq ($(SAN),)
SAN_FLAGS := -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
XCFLAGS  += $(SAN_FLAGS)
LDFLAGS  += $(SAN_FLAGS)
endif
LIBS     := $(PKG_LIBS) -lm

CLANG_SYS_INC := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              -Iinclude -Ibpf -I$(OUT) $(CLANG_SYS_INC) -MMD -MP

# maps.bpf.c defines the shared maps; it links first so the linker sees definitions
# before the extern declarations that refer to them.
BPF_SRCS  := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS  := $(patsubst %.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))

# user/ is one folder per layer, lowest first; each folder is a static library whose
# header(s) are its API. scripts/check-layers.sh (run by every build) refuses an
# include that reaches a layer the table there does not allow. The two mains
# (daemon/exfilmond.c, ctl/exfilctl.c) and the CLI subcommands stay out of the libraries.
LAYERS    := common model config evidence detect output agent daemon ctl
MAINS     := user/daemon/exfilmond.c user/ctl/exfilctl.c
CTL_SRCS  := $(wildcard user/ctl/ctl_*.c)
layer_srcs = $(filter-out $(MAINS) $(CTL_SRCS),$(wildcard user/$(1)/*.c))
layer_objs = $(patsubst %.c,$(OUT)/%.o,$(call layer_srcs,$(1)))
LAYER_LIBS := $(foreach l,$(LAYERS),$(if $(call layer_srcs,$(l)),$(OUT)/user/lib$(l).a))
# Highest layer first, so each library's references are resolved by the ones after it.
LINK_LIBS := $(shell echo $(LAYER_LIBS) | tr ' ' '\n' | tac)
LIB_SRCS  := $(foreach l,$(LAYERS),$(call layer_srcs,$(l)))
LIB_OBJS  := $(patsubst %.c,$(OUT)/%.o,$(LIB_SRCS))
CTL_OBJS  := $(patsubst %.c,$(OUT)/%.o,$(CTL_SRCS))

# central/: exfilmon-central, on common, model, config and evidence only (never on the
# agent's layers); its schema migrations are compiled in from central/schema/*.sql.
CENTRAL_SQL  := $(sort $(wildcard central/schema/*.sql))
CENTRAL_SRCS := $(filter-out central/central_main.c,$(wildcard central/*.c))
CENTRAL_OBJS := $(patsubst %.c,$(OUT)/%.o,$(CENTRAL_SRCS)) $(OUT)/central/schema_sql.o
CENTRAL_LIBS := $(OUT)/user/libevidence.a $(OUT)/user/libconfig.a $(OUT)/user/libmodel.a \
                $(OUT)/user/libcommon.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
# BPF tests (tests/bpf/, root): the real skeleton, one syscall, the map entry it wrote.
BPF_TEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BINS := $(patsubst tests/bpf/%.c,$(OUT)/tests/bpf/%,$(BPF_TEST_SRCS))

.DELETE_ON_ERROR:
.PHONY: all test bpf-test check integration clean install uninstall man deb bench fuzz FORCE print-libs

all: $(OUT)/exfilmond $(OUT)/exfilctl $(OUT)/libexfilmon.a $(OUT)/exfilmon-central $(OUT)/fleet_sim

# vmlinux.h follows the kernel's BTF (or VMLINUX_H): the source is copied into build/
# only when its bytes differ, so the header and the BPF objects are regenerated exactly
# when the running kernel's BTF changed, not merely when the header is missing.
VMLINUX_SRC := $(or $(VMLINUX_H),/sys/kernel/btf/vmlinux)
$(OUT)/vmlinux.src: FORCE
	$(Q)mkdir -p $(OUT)
	$(Q)cmp -s $(VMLINUX_SRC) $@ || cp $(VMLINUX_SRC) $@

$(OUT)/vmlinux.h: $(OUT)/vmlinux.src
ifeq ($(VMLINUX_H),)
	$(call msg,VMLINUX,$@)$(BPFTOOL) btf dump file $< format c > $@
else
	$(call msg,VMLINUX,$@)cp $< $@
endif

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(Q)mkdir -p $(@D)
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/bpf/%.bpf.i: bpf/%.bpf.c $(OUT)/vmlinux.h
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -E $< -o $@

$(OUT)/exfilmon.bpf.o: $(BPF_OBJS)
	$(call msg,BPF-LINK,$@)$(BPFTOOL) gen object $@ $^

$(OUT)/exfilmon.skel.h: $(OUT)/exfilmon.bpf.o
	$(call msg,GEN-SKEL,$@)$(BPFTOOL) gen skeleton $< name exfilmon_bpf > $@

$(OUT)/user/%.o: user/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -c $< -o $@

# Modules that include the skeleton must wait for it on a first build.
$(OUT)/user/agent/sensors.o: $(OUT)/exfilmon.skel.h

.SECONDEXPANSION:
$(OUT)/user/lib%.a: $$(call layer_objs,$$*)
	$(call msg,AR,$@)rm -f $@ && ar rcs $@ $^

# One archive holding every layer, for the benchmark and fuzz programs.
$(OUT)/libexfilmon.a: $(LIB_OBJS)
	$(call msg,AR,$@)rm -f $@ && ar rcs $@ $^

$(OUT)/layers.ok: scripts/check-layers.sh $(shell find user central -name '*.[ch]')
	$(call msg,LAYERS,user/)scripts/check-layers.sh && touch $@

$(OUT)/exfilmond: $(OUT)/user/daemon/exfilmond.o $(LAYER_LIBS) | $(OUT)/layers.ok
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(LINK_LIBS) $(LIBS) -o $@

$(OUT)/exfilctl: $(OUT)/user/ctl/exfilctl.o $(CTL_OBJS) $(LAYER_LIBS) | $(OUT)/layers.ok
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(CTL_OBJS) $(LINK_LIBS) $(LIBS) $(PQ_LIBS) -o $@

$(OUT)/central/schema_sql.c: scripts/embed-sql.sh $(CENTRAL_SQL)
	$(Q)mkdir -p $(@D)
	$(call msg,GEN-SQL,$@)scripts/embed-sql.sh $(CENTRAL_SQL) > $@

$(OUT)/central/schema_sql.o: $(OUT)/central/schema_sql.c
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -Icentral -c $< -o $@

$(OUT)/central/%.o: central/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -c $< -o $@

$(OUT)/central/libcentral.a: $(CENTRAL_OBJS)
	$(call msg,AR,$@)rm -f $@ && ar rcs $@ $^

$(OUT)/exfilmon-central: $(OUT)/central/central_main.o $(OUT)/central/libcentral.a $(CENTRAL_LIBS) | $(OUT)/layers.ok
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $^ $(LIBS) $(PQ_LIBS) $(NATS_LIBS) -o $@

# The fleet simulator: synthetic hosts' evidence (written by the real evidence writer),
# heartbeats and alerts published through JetStream, for tests and benchmarks.
$(OUT)/bench/fleet_sim.o: bench/fleet_sim.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -c $< -o $@

$(OUT)/fleet_sim: $(OUT)/bench/fleet_sim.o $(CENTRAL_LIBS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $^ $(LIBS) $(NATS_LIBS) -o $@

$(OUT)/tests/%.o: tests/unit/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -Itests/lib -c $< -o $@

$(OUT)/tests/%: $(OUT)/tests/%.o $(LAYER_LIBS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(LINK_LIBS) $(LIBS) $(CMOCKA_LIBS) -o $@

# central/'s unit tests link its library and client libraries too.
$(OUT)/tests/test_central_%: $(OUT)/tests/test_central_%.o $(OUT)/central/libcentral.a $(CENTRAL_LIBS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $^ $(LIBS) $(PQ_LIBS) $(NATS_LIBS) $(CMOCKA_LIBS) -o $@

# The fleet tests' JetStream helper (stream creation, read-back), built against libnats.
$(OUT)/tests/nats_tool: tests/lib/nats_tool.c $(LAYER_LIBS)
	$(Q)mkdir -p $(@D)
	$(call msg,LINK,$@)$(CC) $(CFLAGS) $(XCFLAGS) $(LDFLAGS) $< $(LINK_LIBS) $(LIBS) -o $@

# Unit tests, one cmocka binary per tests/unit/test_*.c. They run without root except
# test_policy, which creates BPF maps (no programs) and so needs CAP_BPF: root in CI.
test: $(UNIT_BINS)
	$(Q)scripts/check-architecture-doc.sh
	$(Q)fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

$(OUT)/tests/bpf/%.o: tests/bpf/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -Itests/lib -c $< -o $@

$(OUT)/tests/bpf/test_%: $(OUT)/tests/bpf/test_%.o $(OUT)/tests/bpf/harness.o $(LAYER_LIBS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(OUT)/tests/bpf/harness.o $(LINK_LIBS) $(LIBS) \
		$(CMOCKA_LIBS) -o $@

# BPF tests: root, each loads and attaches the sensors itself, once with the hooks this
# kernel allows (fexit fast path where it can) and once on the path kernels before 5.15
# take (syscall tracepoints, arguments saved by sys_enter programs).
BPF_TEST_OLD_PATH := EXFILMON_NO_FAST=1 EXFILMON_FORCE_ENTER_ARGS=1
bpf-test: $(BPF_TEST_BINS)
	$(Q)fail=0; for t in $(BPF_TEST_BINS); do \
		echo "== $$t"; $$t || fail=1; \
		echo "== $$t ($(BPF_TEST_OLD_PATH))"; $(BPF_TEST_OLD_PATH) $$t || fail=1; \
	done; exit $$fail

# Root integration tests against the real BPF programs.
integration: all $(OUT)/tests/nats_tool
	$(Q)tests/integration/run.sh

check: test bpf-test integration

# The evidence-reader fuzz target (fuzz/run.sh runs it) and the generator of its seed
# store, built with clang and libFuzzer from the layers the reader stands on.
FUZZ_CC    ?= clang
FUZZ_SRCS  := $(foreach l,common model evidence,$(call layer_srcs,$(l)))
FUZZ_LIBS  := $(shell pkg-config --cflags --libs zlib liblz4 libcrypto jansson 2>/dev/null)
FUZZ_FLAGS := -std=gnu11 -g -O1 -Iinclude -Iuser

$(OUT)/fuzz/evidence_reader_fuzz: fuzz/evidence_reader_fuzz.c $(FUZZ_SRCS)
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $^ $(FUZZ_LIBS) -o $@

$(OUT)/fuzz/gen_evidence: tests/lib/gen_evidence.c $(FUZZ_SRCS)
	$(Q)mkdir -p $(@D)
	$(call msg,LINK,$@)$(FUZZ_CC) $(FUZZ_FLAGS) $^ $(FUZZ_LIBS) -o $@

# The policy-bundle fuzz target: the parser, verifier and gate stand on config/.
BUNDLE_FUZZ_SRCS := $(foreach l,common model config,$(call layer_srcs,$(l)))
BUNDLE_FUZZ_LIBS := $(shell pkg-config --cflags --libs libcrypto yaml-0.1 jansson 2>/dev/null)

$(OUT)/fuzz/bundle_fuzz: fuzz/bundle_fuzz.c $(BUNDLE_FUZZ_SRCS)
	$(Q)mkdir -p $(@D)
	$(call msg,FUZZ,$@)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $^ $(BUNDLE_FUZZ_LIBS) -lm -o $@

fuzz: $(OUT)/fuzz/evidence_reader_fuzz $(OUT)/fuzz/gen_evidence $(OUT)/fuzz/bundle_fuzz

bench: all
	$(Q)bench/run.sh

# Installs under DESTDIR (packaging) or the root. A config that is already there is the
# site's: it is never overwritten; the example goes beside it as exfilmon.yaml.dist.
PREFIX   ?= /usr
MAN_PAGES := $(OUT)/man/exfilmond.8 $(OUT)/man/exfilctl.8 $(OUT)/man/exfilmon.yaml.5
CONFIG   := $(DESTDIR)/etc/exfilmon/exfilmon.yaml

man: $(MAN_PAGES)

$(MAN_PAGES) &: scripts/gen-man.py docs/config.md $(OUT)/exfilmond $(OUT)/exfilctl
	$(call msg,MAN,$(OUT)/man)python3 scripts/gen-man.py $(OUT) $(OUT)/man $(VERSION)

install: all man
	install -D -m 0755 $(OUT)/exfilmond $(DESTDIR)$(PREFIX)/sbin/exfilmond
	install -D -m 0755 $(OUT)/exfilctl $(DESTDIR)$(PREFIX)/sbin/exfilctl
	install -D -m 0644 scripts/exfilmond.service $(DESTDIR)/lib/systemd/system/exfilmond.service
	install -D -m 0644 $(OUT)/man/exfilmond.8 $(DESTDIR)$(PREFIX)/share/man/man8/exfilmond.8
	install -D -m 0644 $(OUT)/man/exfilctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/exfilctl.8
	install -D -m 0644 $(OUT)/man/exfilmon.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/exfilmon.yaml.5
	install -D -m 0644 scripts/completion/exfilctl \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/exfilctl
	@if [ -e $(CONFIG) ]; then \
		install -D -m 0600 examples/exfilmon.yaml $(CONFIG).dist; \
		echo "install: kept $(CONFIG); the example is $(CONFIG).dist"; \
	else \
		install -D -m 0600 examples/exfilmon.yaml $(CONFIG); \
	fi

# Removes what install put there; the config, the evidence and the logs stay (they are
# the site's and may be under legal hold).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/exfilmond $(DESTDIR)$(PREFIX)/sbin/exfilctl
	rm -f $(DESTDIR)/lib/systemd/system/exfilmond.service
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/exfilmond.8 $(DESTDIR)$(PREFIX)/share/man/man8/exfilctl.8
	rm -f $(DESTDIR)$(PREFIX)/share/man/man5/exfilmon.yaml.5
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/exfilctl $(CONFIG).dist
	@echo "uninstall: kept $(CONFIG), /var/lib/exfilmon and /var/log/exfilmon"

# The Debian package, built from a copy of the tracked files (the working tree's build/
# is left alone) into $(OUT)/deb/.
deb:
	$(Q)scripts/build-deb.sh $(OUT)/deb


# What a program linking build/libexfilmon.a needs (bench/Makefile asks here, so a new
# library is named once).
print-libs:
	@echo $(PKG_CFLAGS) $(LIBS)

clean:
	rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
