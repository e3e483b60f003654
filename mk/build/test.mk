# Tests: C unit programs (TAP) in tests/unit, bats files in tests/bats, fuzz targets in tests/fuzz.
UNIT_SRCS := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(UNIT_SRCS:.c=)
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS := $(FUZZ_SRCS:.c=)
SANITIZERS := address,undefined

tests/unit/%_test: tests/unit/%_test.c tests/unit/harness.h $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(SK_LIBS)

-include $(UNIT_BINS:=.d)

.PHONY: unit-bins unit bats test check fuzz

unit-bins: $(UNIT_BINS)

# make unit [UNIT=sigv4_test]: build and run the unit programs.
unit: unit-bins
	@tests/run --unit-only $(if $(UNIT),--only $(UNIT))

# make bats [BATS=ssm-put]: run bats files against the local stack (started and stopped here).
bats: tools
	@tests/run --bats-only $(if $(BATS),--only $(BATS))

check: tools unit-bins
	@tests/run

# make test: everything, built with ASan+UBSan. Ends with "N passed, N failed".
test:
	@$(MAKE) --no-print-directory SANITIZE=$(SANITIZERS) tools unit-bins hygiene-bins
	@tests/run

# make fuzz [FUZZ_SECONDS=30]: libFuzzer targets (clang), each for a short fixed time.
FUZZ_SECONDS ?= 20
tests/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(LIB_OBJS:.o=.c)
	$(QUIET_LINK)clang -g -O1 -fsanitize=fuzzer,address,undefined $(SK_CPPFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS)) \
		-o $@ $< $(LIB_OBJS:.o=.c) $(SK_LIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		n=$$(basename $$f); mkdir -p build/fuzz/$$n; \
		echo "fuzz $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build/fuzz/$$n tests/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 \
			|| { tail -40 build/fuzz/$$n.log; exit 1; }; \
	done

# make reliability [SHORT=1]: fault-injection tests, the soak, fuzzing and secret-hygiene scans,
# their figures written to docs/reliability.md (tests/reliability/run).
.PHONY: reliability
reliability:
	@$(MAKE) --no-print-directory SANITIZE=$(SANITIZERS) tools unit-bins
	@tests/reliability/run $(if $(SHORT),--short)
