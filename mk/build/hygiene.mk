# Secret hygiene (docs/secret-hygiene.md, tests/hygiene/): make hygiene.
#
#   build/hygiene/argv-watch    samples every process's argv for registered secrets
#   build/hygiene/freescan.so   LD_PRELOAD: reports freed heap blocks still holding a secret
#   build/plain/bin/TOOL        the tools without sanitizers (ASan brings its own allocator, which
#                               freescan cannot interpose), linked -rdynamic so dladdr names our
#                               functions in freescan's report
#
# make hygiene-bins builds them; make hygiene also runs tests/hygiene/run-with-watch over the
# secret-hygiene bats file (HYGIENE_BATS="ssm-put secret-put" adds others) on the local stack.
HYGIENE_DIR := build/hygiene
PLAIN_DIR := build/plain
HYGIENE_BINS := $(HYGIENE_DIR)/argv-watch $(HYGIENE_DIR)/freescan.so $(TOOLS:%=$(PLAIN_DIR)/bin/%)

# The project's flags minus the sanitizers, whatever SANITIZE says.
PLAIN_CFLAGS = $(SK_CPPFLAGS) $(CPPFLAGS) $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(SK_CFLAGS)) $(CFLAGS)
PLAIN_LIB_OBJS := $(LIB_OBJS:lib/%.o=$(PLAIN_DIR)/lib/%.o)
PLAIN_LIB := $(PLAIN_DIR)/lib/libshipkit.a
PLAIN_FLAGS_NOW = $(CC) $(PLAIN_CFLAGS) $(LDFLAGS)

.PHONY: hygiene hygiene-bins

hygiene-bins: $(HYGIENE_BINS)

hygiene: tools hygiene-bins
	@tests/hygiene/run-with-watch $(HYGIENE_BATS)

$(PLAIN_DIR)/.build-flags: FORCE
	@mkdir -p $(addprefix $(PLAIN_DIR)/lib/,core aws svc oci) $(PLAIN_DIR)/src $(PLAIN_DIR)/bin
	@echo '$(PLAIN_FLAGS_NOW)' | cmp -s - $@ || echo '$(PLAIN_FLAGS_NOW)' > $@

$(PLAIN_DIR)/lib/%.o: lib/%.c $(PLAIN_DIR)/.build-flags
	$(QUIET_CC)$(CC) $(PLAIN_CFLAGS) -c -o $@ $<

$(PLAIN_DIR)/src/%.o: src/%.c $(PLAIN_DIR)/.build-flags
	$(QUIET_CC)$(CC) $(PLAIN_CFLAGS) -c -o $@ $<

$(PLAIN_LIB): $(PLAIN_LIB_OBJS)
	$(QUIET_AR)$(RM) $@ && $(AR) rcs $@ $^

$(PLAIN_DIR)/bin/%: $(PLAIN_DIR)/src/%.o $(PLAIN_DIR)/src/tool.o $(PLAIN_LIB)
	$(QUIET_LINK)$(CC) $(PLAIN_CFLAGS) -rdynamic $(LDFLAGS) -o $@ $^ $(SK_LIBS)

$(HYGIENE_DIR)/argv-watch: tests/hygiene/argv-watch.c
	@mkdir -p $(HYGIENE_DIR)
	$(QUIET_LINK)$(CC) $(SK_CPPFLAGS) $(SK_WARN) -O2 -g -o $@ $<

$(HYGIENE_DIR)/freescan.so: tests/hygiene/freescan.c
	@mkdir -p $(HYGIENE_DIR)
	$(QUIET_LINK)$(CC) -std=c11 -Wall -Wextra -Werror -O1 -g -shared -fPIC -o $@ $< -ldl

-include $(wildcard $(PLAIN_DIR)/lib/*/*.d $(PLAIN_DIR)/src/*.d)
.SECONDARY: $(PLAIN_LIB_OBJS) $(TOOLS:%=$(PLAIN_DIR)/src/%.o) $(PLAIN_DIR)/src/tool.o
