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
# pkg-config runs once, when a compile first needs its answer, and quietly: a missing library is
# reported by the prerequisites check (.build-flags below, mk/build/prereqs), not as pkg-config
# noise while the Makefile is read.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)
SK_CFLAGS = $(SK_WARN) $(PKG_CFLAGS) -MMD -MP
# libjq ships no .pc file on Debian 12: link it directly.
SK_LIBS = -Wl,--as-needed $(PKG_LIBS) -ljq -lpthread -lm

ifneq ($(SANITIZE),)
SK_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
SK_LDFLAGS += -fsanitize=$(SANITIZE)
endif

ALL_CFLAGS = $(SK_CPPFLAGS) $(CPPFLAGS) $(SK_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SK_LDFLAGS) $(LDFLAGS)

# Rebuild everything when the effective flags change. Every compile depends on .build-flags, so this
# is where a machine without the libraries hears which packages to install (exit 3), once.
FLAGS_NOW = $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
.build-flags: FORCE
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || mk/build/prereqs --check build
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
.PHONY: FORCE

# The local stack's moto_server (make test, make demo, make bench): on PATH already, in a pyenv's
# shims, or in the venv mk/build/prereqs installs it into. Appended, so the user's PATH wins.
SK_MOTO_VENV ?= /opt/shipkit-moto
PYENV_ROOT ?= $(HOME)/.pyenv
SK_EXTRA_PATH := $(wildcard $(SK_MOTO_VENV)/bin $(PYENV_ROOT)/shims)
$(foreach d,$(SK_EXTRA_PATH),$(if $(findstring :$(d):,:$(PATH):),,$(eval export PATH := $(PATH):$(d))))
