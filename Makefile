# shipkit: top-level build. Project build logic lives in mk/build/; mk/*.mk are the fragments users include.
TOOLS := aws-sign ssm-put secret-put ecr-push ecs-roll tg-health rds-check ecs-run

all: tools

include mk/build/config.mk
include mk/build/quiet.mk
include mk/build/lib.mk
include mk/build/tools.mk
include mk/build/test.mk
include mk/build/hygiene.mk
include mk/build/install.mk
include mk/build/bench.mk
include mk/build/infra.mk

# The user fragment for parameters and secrets, so `make config-aws CONFIG_AWS=FILE` works here too.
include mk/config-aws.mk

.PHONY: all tools clean stack-up stack-down bench demo demo-down fmt fmt-check

stack-up:
	@tests/stack/up

stack-down:
	@tests/stack/down

# make demo, make test, make bench, make fuzz: each installs what it is missing first, or names the
# apt-get line and exits 3 (mk/build/prereqs).
demo:
	@examples/demo

demo-down:
	@SK_STACK_DIR=$${SK_STACK_DIR:-$(CURDIR)/.stack/demo} tests/stack/down

bench:
	@mk/build/prereqs bench
	@$(MAKE) --no-print-directory tools
	@tests/bench/run

FMT_FILES = $(wildcard lib/*/*.[ch] src/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/hygiene/*.c tests/bench/*.c examples/model-server/*.c)

fmt:
	clang-format -i $(FMT_FILES)

fmt-check:
	@clang-format --dry-run --Werror $(FMT_FILES)

clean:
	$(RM) lib/*/*.o lib/*/*.d lib/*.a src/*.o src/*.d tests/unit/*.o tests/unit/*.d .build-flags
	$(RM) $(TOOLS:%=bin/%) $(UNIT_BINS) $(FUZZ_BINS) $(REPLAY_BINS) $(BENCH_BINS)
	$(RM) -r build
