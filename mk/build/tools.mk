# One tool = src/<tool>.c + src/<tool>.1, linked with src/tool.o and the library.
tools: $(TOOLS:%=bin/%)

src/%.o: src/%.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

bin/%: src/%.o src/tool.o $(LIB)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(SK_LIBS)

-include $(TOOLS:%=src/%.d) src/tool.d
.SECONDARY: $(TOOLS:%=src/%.o) src/tool.o
