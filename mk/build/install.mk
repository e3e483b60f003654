# make install [PREFIX=/usr/local] [DESTDIR=]: binaries and man pages.
.PHONY: install uninstall
install: tools
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(TOOLS:%=bin/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(TOOLS:%=src/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	$(RM) $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%) $(TOOLS:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1)
