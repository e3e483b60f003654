# make install [PREFIX=/usr/local] [DESTDIR=]: the seven tools, their man pages, and the make
# fragments users include (mk/*.mk -> $(PREFIX)/share/shipkit/mk). PREFIX is set in config.mk.
FRAGMENTS := $(wildcard mk/*.mk)

.PHONY: install uninstall
install: tools
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/shipkit/mk
	install -m 755 $(TOOLS:%=bin/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(TOOLS:%=src/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(FRAGMENTS) $(DESTDIR)$(PREFIX)/share/shipkit/mk/

uninstall:
	$(RM) $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%) $(TOOLS:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1)
	$(RM) $(FRAGMENTS:mk/%=$(DESTDIR)$(PREFIX)/share/shipkit/mk/%)
	@rmdir $(DESTDIR)$(PREFIX)/share/shipkit/mk $(DESTDIR)$(PREFIX)/share/shipkit 2>/dev/null || true
