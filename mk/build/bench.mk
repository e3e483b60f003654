# Benchmarks (make bench runs tests/bench/run): the C signer benchmark, linked like a unit test.
BENCH_BINS := tests/bench/sign_bench

tests/bench/sign_bench: tests/bench/sign_bench.c $(LIB) .build-flags
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(SK_LIBS)

-include $(BENCH_BINS:=.d)
