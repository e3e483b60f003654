/*
 * pace_test - the SK_*_SCALE parser (one range, one message, SK_E_CONFIG) and the poll pacer
 * (lib/aws/pace.c): jitter bounds, scale, backoff, the deadline.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "aws/pace.h"

/* Every value outside 0.001..1, and text that is not a number, is refused the same way. */
TEST(scale_env_values)
{
    static const char *const good[][2] = { { "1", "1" }, { "0.5", "0.5" }, { "0.001", "0.001" }, { "1e-2", "0.01" } };
    static const char *const bad[] = {
        "0", "0.0009", "1.0001", "2", "10", "100", "-0.5", "x", "0.5x", "nan", "inf", " "
    };
    struct sk_err err;
    double v;
    size_t i;

    unsetenv("SK_TEST_SCALE");
    v = 0;
    ASSERT_OK(sk_scale_env("SK_TEST_SCALE", &v, &err), &err);
    ASSERT(v == 1.0);
    setenv("SK_TEST_SCALE", "", 1); /* empty is unset */
    v = 0;
    ASSERT_OK(sk_scale_env("SK_TEST_SCALE", &v, &err), &err);
    ASSERT(v == 1.0);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        setenv("SK_TEST_SCALE", good[i][0], 1);
        ASSERT_OK(sk_scale_env("SK_TEST_SCALE", &v, &err), &err);
        if (v != strtod(good[i][1], NULL))
            H_FAIL("'%s' read as %g", good[i][0], v);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("SK_TEST_SCALE", bad[i], 1);
        v = 0;
        ASSERT_ERR(sk_scale_env("SK_TEST_SCALE", &v, &err), &err, SK_E_CONFIG);
        ASSERT(v == 1.0);
    }
    setenv("SK_TEST_SCALE", "10", 1);
    ASSERT_ERR(sk_scale_env("SK_TEST_SCALE", &v, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.msg, "invalid SK_TEST_SCALE '10': use a number from 0.001 to 1");
    unsetenv("SK_TEST_SCALE");
}

/* Intervals stay within [min, max] x scale, and do vary. */
TEST(jitter_bounds_and_scale)
{
    struct sk_pace p;
    double lo = 1e9, hi = 0, s;
    int i;

    sk_pace_start(&p, 2.5, 4.0, 0.1, 0);
    for (i = 0; i < 1000; i++) {
        s = sk_pace_next(&p);
        lo = s < lo ? s : lo;
        hi = s > hi ? s : hi;
    }
    ASSERT(lo >= 0.25 - 1e-9 && hi <= 0.4 + 1e-9);
    ASSERT(hi - lo > 0.1); /* spread over most of the range */
    sk_pace_start(&p, 2.0, 2.0, 1.0, 0);
    ASSERT(sk_pace_next(&p) == 2.0);
}

/* A failed look doubles the interval, up to SK_PACE_MAX_BACKOFF times; an answer resets it. */
TEST(backoff)
{
    struct sk_pace p;
    int i;

    sk_pace_start(&p, 1.0, 1.0, 0.5, 0);
    ASSERT(sk_pace_next(&p) == 0.5);
    sk_pace_failed(&p);
    ASSERT(sk_pace_next(&p) == 1.0);
    for (i = 0; i < 10; i++)
        sk_pace_failed(&p);
    ASSERT(sk_pace_next(&p) == 0.5 * SK_PACE_MAX_BACKOFF);
    sk_pace_ok(&p);
    ASSERT(sk_pace_next(&p) == 0.5);
}

/* The last interval ends at the deadline; none is left after it; no deadline never expires. */
TEST(deadline)
{
    struct sk_pace p;
    double s;

    sk_pace_start(&p, 10.0, 10.0, 1.0, 0.5);
    ASSERT(!sk_pace_expired(&p));
    s = sk_pace_next(&p);
    ASSERT(s > 0 && s <= 0.5);
    p.deadline = sk_pace_now() - 1;
    ASSERT(sk_pace_expired(&p));
    ASSERT(sk_pace_next(&p) == 0);
    sk_pace_start(&p, 10.0, 10.0, 1.0, 0);
    ASSERT(p.deadline == 0 && !sk_pace_expired(&p));
    p.start -= 1e6; /* long ago */
    ASSERT(!sk_pace_expired(&p) && sk_pace_elapsed(&p) >= 1e6);
}

static void record(void *ctx, double s)
{
    double *slept = ctx;

    *slept += s;
}

/* sk_pace_wait sleeps what sk_pace_next says, through the installed sleeper. */
TEST(wait_sleeps_the_interval)
{
    struct sk_pace p;
    double slept = 0, s;

    sk_pace_start(&p, 3.0, 3.0, 0.01, 0);
    p.sleep = record;
    p.sleep_ctx = &slept;
    s = sk_pace_wait(&p);
    ASSERT(s > 0.0299 && s < 0.0301 && slept == s);
    p.sleep = NULL; /* the real sleep: 30 ms */
    s = sk_pace_now();
    sk_pace_wait(&p);
    ASSERT(sk_pace_now() - s >= 0.029);
}

int main(void)
{
    RUN(scale_env_values);
    RUN(jitter_bounds_and_scale);
    RUN(backoff);
    RUN(deadline);
    RUN(wait_sleeps_the_interval);
    return DONE();
}
