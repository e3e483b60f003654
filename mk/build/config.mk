# Compiler, flags and libraries. Override in config.mak (git-ignored) or on the command line.
-include config.mak

CC ?= cc
CFLAGS ?= -O2 -g
PREFIX ?= /usr/local
PKG_CONFIG ?= pkg-config

# SANITIZE=address,undefined builds everything with those sanitizers (make test does this).
SANITIZE ?=

SK_CPPFLAGS := -Ilib -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
SK_WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wwrite-strings -Wformat=2 -Wvla -fno-common -fstack-protector-strong
PKGS := libcurl libcrypto yaml-0.1 expat zlib libdeflate libpq
SK_CFLAGS := $(SK_WARN) $(shell $(PKG_CONFIG) --cflags $(PKGS)) -MMD -MP
# libjq ships no .pc file on Debian 12: link it directly.
SK_LIBS := -Wl,--as-needed $(shell $(PKG_CONFIG) --libs $(PKGS)) -ljq -lpthread -lm

ifneq ($(SANITIZE),)
SK_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
SK_LDFLAGS += -fsanitize=$(SANITIZE)
endif

ALL_CFLAGS = $(SK_CPPFLAGS) $(CPPFLAGS) $(SK_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SK_LDFLAGS) $(LDFLAGS)

# Rebuild everything when the effective flags change.
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
.build-flags: FORCE
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
.PHONY: FORCE
