# make install [PREFIX=/usr/local] [DESTDIR=]: the tools, their man pages, and the make fragments
# users include (mk/*.mk -> $(PREFIX)/share/shipkit/mk). PREFIX is set in config.mk. The install
# root reaches the shell through the environment ("$$SK_ROOT"), never pasted into its text.
FRAGMENTS := $(wildcard mk/*.mk)

.PHONY: install uninstall
install uninstall: export SK_ROOT := $(value DESTDIR)$(value PREFIX)

install: tools
	install -d "$$SK_ROOT/bin" "$$SK_ROOT/share/man/man1" "$$SK_ROOT/share/shipkit/mk"
	install -m 755 $(TOOLS:%=bin/%) "$$SK_ROOT/bin/"
	install -m 644 $(TOOLS:%=src/%.1) "$$SK_ROOT/share/man/man1/"
	install -m 644 $(FRAGMENTS) "$$SK_ROOT/share/shipkit/mk/"

uninstall:
	cd "$$SK_ROOT/bin" 2>/dev/null && $(RM) $(TOOLS) || true
	cd "$$SK_ROOT/share/man/man1" 2>/dev/null && $(RM) $(TOOLS:%=%.1) || true
	cd "$$SK_ROOT/share/shipkit/mk" 2>/dev/null && $(RM) $(FRAGMENTS:mk/%=%) || true
	@rmdir "$$SK_ROOT/share/shipkit/mk" "$$SK_ROOT/share/shipkit" 2>/dev/null || true
