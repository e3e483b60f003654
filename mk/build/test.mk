# Tests: C unit programs (TAP) in tests/unit, bats files in tests/bats, fuzz targets in tests/fuzz.
UNIT_SRCS := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(UNIT_SRCS:.c=)
FUZZ_SRCS := $(wildcard tests/fuzz/*_fuzz.c)
FUZZ_BINS := $(FUZZ_SRCS:.c=)
REPLAY_BINS := $(FUZZ_SRCS:_fuzz.c=_replay)
SANITIZERS := address,undefined

tests/unit/%_test: tests/unit/%_test.c tests/unit/harness.h $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(SK_LIBS)

-include $(UNIT_BINS:=.d)

.PHONY: unit-bins replay-bins unit lint bats test check

unit-bins: $(UNIT_BINS)
replay-bins: $(REPLAY_BINS)

# make unit [UNIT=sigv4_test]: the C unit programs and nothing else, the inner loop (seconds).
# UNIT and BATS reach tests/run through the environment, never pasted into the shell text.
unit: export SK_RUN_ONLY := $(value UNIT)
unit: unit-bins
	@tests/run --parts unit $${SK_RUN_ONLY:+--only "$$SK_RUN_ONLY"}

# make lint: the house format (fmt-check) and the repository checks in tests/lint/.
lint:
	@tests/run --parts lint

# make bats [BATS=ssm-put] [FILTER=REGEX]: run bats files (their tests matching REGEX) against the
# local stack (started and stopped here);
# without BATS, the short soak too.
bats: export SK_RUN_ONLY := $(value BATS)
bats: export SK_BATS_FILTER := $(value FILTER)
bats:
	@mk/build/prereqs test
	@$(MAKE) --no-print-directory tools
	@tests/run --parts bats,soak $${SK_RUN_ONLY:+--only "$$SK_RUN_ONLY"}

# make test: everything, built with ASan+UBSan: lint, unit, fuzz replay and a short fuzz pass,
# the infra checks, the bats files on the stack under the secret scans, the soak. Installs what
# is missing first (mk/build/prereqs). Ends with "N passed, N failed".
test:
	@mk/build/prereqs test
	@$(MAKE) --no-print-directory SANITIZE=$(SANITIZERS) tools unit-bins replay-bins hygiene-bins
	@tests/run

# make check: the same without sanitizers.
check:
	@mk/build/prereqs test
	@$(MAKE) --no-print-directory tools unit-bins replay-bins
	@tests/run

# Fuzzing (docs/fuzzing.md). Each tests/fuzz/NAME_fuzz.c is built two ways:
#  - tests/fuzz/NAME_fuzz: libFuzzer (clang), run by make fuzz / make fuzz-short;
#  - tests/fuzz/NAME_replay: tests/fuzz/replay.c with the normal compiler and flags (part of
#    unit-bins), replaying the committed corpus and regression inputs (tests/fuzz/run-replay).
# Targets call the library only; FUZZ_EXTRA_<name> / FUZZ_LDFLAGS_<name> add sources or link flags.
FUZZ_DEPS := tests/fuzz/fuzz_tar.h $(wildcard lib/*/*.h)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -g -O1 $(FUZZ_SAN) -std=c11 $(SK_CPPFLAGS) $(PKG_CFLAGS)
# The library compiled once for all fuzz targets, with coverage instrumentation (fuzzer-no-link).
FUZZ_OBJS := $(patsubst lib/%.o,build/fuzz-obj/%.o,$(LIB_OBJS))
# kept between builds (make would delete them as intermediate files of the pattern rule below)
.SECONDARY: $(FUZZ_OBJS)

build/fuzz-obj/%.o: lib/%.c $(wildcard lib/*/*.h)
	@mkdir -p $(@D)
	$(QUIET_CC)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

tests/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(FUZZ_OBJS) $(FUZZ_DEPS)
	$(QUIET_LINK)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_EXTRA_$*) $(FUZZ_OBJS) $(SK_LIBS) \
		$(FUZZ_LDFLAGS_$*)

tests/fuzz/%_replay: tests/fuzz/%_fuzz.c tests/fuzz/replay.c $(LIB) $(FUZZ_DEPS) .build-flags
	$(QUIET_LINK)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(ALL_LDFLAGS) -o $@ tests/fuzz/replay.c $< \
		$(FUZZ_EXTRA_$*) $(LIB) $(SK_LIBS) $(FUZZ_LDFLAGS_$*)

.PHONY: fuzz fuzz-run fuzz-short fuzz-short-run fuzz-bins fuzz-replay

fuzz-bins: $(FUZZ_BINS)

# make fuzz [FUZZ_SECONDS=120] [FUZZ=sigv4_fuzz]: each target for a fixed time, one at a time.
FUZZ_SECONDS ?= 60
fuzz:
	@mk/build/prereqs fuzz
	@$(MAKE) --no-print-directory fuzz-run
fuzz-run: $(if $(FUZZ),tests/fuzz/$(FUZZ),$(FUZZ_BINS))
	@tests/fuzz/run-fuzz $(FUZZ_SECONDS) $(FUZZ)

# make fuzz-short [TAP=1]: the pass make test runs, every target for FUZZ_SHORT_SECONDS (seeds and
# regression inputs first); non-zero on any crash. TAP=1 prints TAP lines for tests/run.
FUZZ_SHORT_SECONDS ?= 5
fuzz-short:
	@mk/build/prereqs fuzz
	@$(MAKE) --no-print-directory fuzz-short-run
fuzz-short-run: $(FUZZ_BINS)
	@tests/fuzz/run-fuzz $(if $(TAP),--tap) $(FUZZ_SHORT_SECONDS)

# make fuzz-replay: the committed corpora and regression inputs through the replay builds (TAP).
fuzz-replay: $(REPLAY_BINS)
	@tests/fuzz/run-replay

# make reliability [SHORT=1]: fault-injection tests, the soak, fuzzing and secret-hygiene scans,
# their figures written to docs/reliability.md (tests/reliability/run).
.PHONY: reliability
reliability:
	@mk/build/prereqs test
	@$(MAKE) --no-print-directory SANITIZE=$(SANITIZERS) tools unit-bins replay-bins hygiene-bins
	@tests/reliability/run $(if $(SHORT),--short) $(if $(REUSE_BATS),--reuse-bats)
