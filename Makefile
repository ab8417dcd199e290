# SPDX-License-Identifier: GPL-2.0-only
# exfilmon build: BPF objects -> linked object -> skeleton; userspace library,
# daemon, CLI and unit tests. Everything generated goes under build/.

OUT      ?= build
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

PKGS     := libbpf libelf zlib liblz4 yaml-0.1 jansson libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
CFLAGS   ?= -O2 -g
VERSION  := 0.1.0
XCFLAGS  := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -DEXFILMON_VERSION=\"$(VERSION)\" \
            -Iinclude -Iuser -I$(OUT) $(HARDEN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now
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

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))

.DELETE_ON_ERROR:
.PHONY: all test check integration clean install bench

all: $(OUT)/exfilmond $(OUT)/exfilctl $(OUT)/libexfilmon.a

$(OUT)/vmlinux.h.new:
	$(Q)mkdir -p $(OUT)
ifeq ($(VMLINUX_H),)
	$(call msg,VMLINUX,$@)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@
else
	$(Q)cp $(VMLINUX_H) $@
endif

# Only replace vmlinux.h when its content changed, so BPF objects do not rebuild needlessly.
$(OUT)/vmlinux.h: $(OUT)/vmlinux.h.new
	$(Q)cmp -s $< $@ || cp $< $@
.INTERMEDIATE: $(OUT)/vmlinux.h.new

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
$(OUT)/user/agent/loader.o: $(OUT)/exfilmon.skel.h

.SECONDEXPANSION:
$(OUT)/user/lib%.a: $$(call layer_objs,$$*)
	$(call msg,AR,$@)rm -f $@ && ar rcs $@ $^

# One archive holding every layer, for the benchmark and fuzz programs.
$(OUT)/libexfilmon.a: $(LIB_OBJS)
	$(call msg,AR,$@)rm -f $@ && ar rcs $@ $^

$(OUT)/layers.ok: scripts/check-layers.sh $(shell find user -name '*.[ch]')
	$(call msg,LAYERS,user/)scripts/check-layers.sh && touch $@

$(OUT)/exfilmond: $(OUT)/user/daemon/exfilmond.o $(LAYER_LIBS) | $(OUT)/layers.ok
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(LINK_LIBS) $(LIBS) -o $@

$(OUT)/exfilctl: $(OUT)/user/ctl/exfilctl.o $(CTL_OBJS) $(LAYER_LIBS) | $(OUT)/layers.ok
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(CTL_OBJS) $(LINK_LIBS) $(LIBS) -o $@

$(OUT)/tests/%.o: tests/unit/%.c
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) $(XCFLAGS) -Itests/lib -c $< -o $@

$(OUT)/tests/%: $(OUT)/tests/%.o $(LAYER_LIBS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) $< $(LINK_LIBS) $(LIBS) $(CMOCKA_LIBS) -o $@

# Unit tests: no root needed.
test: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; exit $$fail

# Root integration tests against the real BPF programs.
integration: all
	$(Q)tests/integration/run.sh

check: test integration

bench: all
	$(Q)bench/run.sh

install: all
	install -D -m 0755 $(OUT)/exfilmond $(DESTDIR)/usr/sbin/exfilmond
	install -D -m 0755 $(OUT)/exfilctl $(DESTDIR)/usr/sbin/exfilctl
	install -D -m 0644 scripts/exfilmond.service $(DESTDIR)/lib/systemd/system/exfilmond.service
	install -D -m 0600 examples/exfilmon.yaml $(DESTDIR)/etc/exfilmon/exfilmon.yaml

clean:
	rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
