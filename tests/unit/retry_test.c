/* lib/aws/retry.c: the standard mode's rules and the driver every retried request goes through. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/hdr.h"
#include "aws/retry.h"

struct rec {
    long sleeps[16];
    int nsleeps;
    int waits; /* calls of the waiting hook */
    long waited[16];
    int max_seen;
};

static void rec_sleep(void *ctx, long ms)
{
    struct rec *r = ctx;

    if (r->nsleeps < 16)
        r->sleeps[r->nsleeps] = ms;
    r->nsleeps++;
}

static void init(struct sk_retry *r, struct rec *rec)
{
    struct sk_err err;

    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_RETRY_MODE");
    unsetenv("SK_RETRY_SCALE");
    memset(rec, 0, sizeof(*rec));
    ASSERT_OK(sk_retry_init(r, NULL, &err), &err);
    r->sleep = rec_sleep;
    r->sleep_ctx = rec;
}

/* A scripted job: attempt n returns script[n-1] with err->retryable = cls[n-1], asks ask[n-1]. */
struct script {
    const enum sk_attempt *res;
    const int *cls;
    const long *ask;
    int n;
    int calls;
    struct rec *rec;
};

static enum sk_attempt scripted(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct script *s = ctx;
    int i = s->calls < s->n ? s->calls : s->n - 1;

    (void)n;
    s->calls++;
    if (err->kind != SK_E_NONE || *asked != 0)
        return SK_ATTEMPT_FINAL; /* the driver must hand a clear err and no ask */
    if (s->res[i] == SK_ATTEMPT_DONE || s->res[i] == SK_ATTEMPT_AGAIN)
        return s->res[i];
    sk_errf(err, SK_E_AWS, "failure %d", s->calls);
    err->retryable = s->cls ? s->cls[i] : SK_RETRY_TRANSIENT;
    *asked = s->ask ? s->ask[i] : 0;
    return s->res[i];
}

static void waiting(void *ctx, int n, int max, long delay, const struct sk_err *err)
{
    struct script *s = ctx;

    (void)n;
    (void)err;
    if (s->rec->waits < 16)
        s->rec->waited[s->rec->waits] = delay;
    s->rec->waits++;
    s->rec->max_seen = max;
}

TEST(backoff_bounds_full_jitter)
{
    struct sk_retry r;
    struct rec rec;
    int attempt, i, small = 0;

    init(&r, &rec);
    for (attempt = 2; attempt < 12; attempt++) {
        long cap = 1000L << (attempt - 2 < 5 ? attempt - 2 : 5);
        if (cap > SK_RETRY_MAX_BACKOFF_MS)
            cap = SK_RETRY_MAX_BACKOFF_MS;
        for (i = 0; i < 200; i++) {
            long d = sk_retry_backoff_ms(&r, attempt);
            if (d < 0 || d >= cap)
                H_FAIL("attempt %d: delay %ld outside [0,%ld)", attempt, d, cap);
            small += d < cap / 2;
        }
    }
    /* full jitter: about half of the delays are under half the cap, not all at the cap */
    ASSERT(small > 500 && small < 1500);
}

TEST(classify)
{
    ASSERT(sk_retry_classify(429, NULL) == SK_RETRY_THROTTLE);
    ASSERT(sk_retry_classify(400, "SlowDown") == SK_RETRY_THROTTLE);
    ASSERT(sk_retry_classify(400, "ThrottlingException") == SK_RETRY_THROTTLE);
    ASSERT(sk_retry_classify(400, "RequestTimeout") == SK_RETRY_TRANSIENT);
    ASSERT(sk_retry_classify(504, NULL) == SK_RETRY_TRANSIENT);
    ASSERT(sk_retry_classify(501, NULL) == SK_RETRY_NO);
    ASSERT(sk_retry_classify(400, "ValidationException") == SK_RETRY_NO);
}

TEST(settings_from_env)
{
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;

    init(&r, &rec);
    ASSERT(r.max_attempts == 3 && r.quota == SK_RETRY_QUOTA_MAX && r.scale == 1.0);
    setenv("AWS_MAX_ATTEMPTS", "7", 1);
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    ASSERT(r.max_attempts == 7);
    setenv("AWS_MAX_ATTEMPTS", "101", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    unsetenv("AWS_MAX_ATTEMPTS");
    ASSERT(!r.adaptive);
    setenv("AWS_RETRY_MODE", "adaptive", 1);
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    ASSERT(r.adaptive && !r.rate.enabled && r.rate.fill_rate == 1);
    setenv("AWS_RETRY_MODE", "eager", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    unsetenv("AWS_RETRY_MODE");
}

TEST(scale)
{
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;
    int i;

    init(&r, &rec);
    setenv("SK_RETRY_SCALE", "0.01", 1);
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    ASSERT(r.scale == 0.01);
    for (i = 0; i < 50; i++)
        ASSERT(sk_retry_backoff_ms(&r, 2) < 10 && sk_retry_backoff_ms(&r, 20) < 200);
    setenv("SK_RETRY_SCALE", "0", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "SK_RETRY_SCALE") != NULL);
    setenv("SK_RETRY_SCALE", "1.5", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    setenv("SK_RETRY_SCALE", "0.1s", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    unsetenv("SK_RETRY_SCALE");
}

TEST(retry_after_headers)
{
    struct sk_headers h = SK_HEADERS_INIT;

    ASSERT(sk_retry_after_ms(&h) == 0);
    sk_headers_add(&h, "Retry-After", "3");
    ASSERT(sk_retry_after_ms(&h) == 3000);
    sk_headers_release(&h);
    sk_headers_add(&h, "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"); /* an HTTP-date: ignored */
    ASSERT(sk_retry_after_ms(&h) == 0);
    sk_headers_release(&h);
    sk_headers_add(&h, "Retry-After", "3600");
    ASSERT(sk_retry_after_ms(&h) == SK_RETRY_MAX_BACKOFF_MS);
    sk_headers_release(&h);
    sk_headers_add(&h, "Retry-After", "-1");
    ASSERT(sk_retry_after_ms(&h) == 0);
    sk_headers_release(&h);
    /* x-amz-retry-after (ms) wins over Retry-After */
    sk_headers_add(&h, "Retry-After", "9");
    sk_headers_add(&h, "x-amz-retry-after", "250");
    ASSERT(sk_retry_after_ms(&h) == 250);
    sk_headers_release(&h);
}

/* Fails twice (transient), then succeeds: three attempts, two waits, the quota back to full. */
TEST(driver_retries_then_succeeds)
{
    static const enum sk_attempt res[] = { SK_ATTEMPT_FAILED, SK_ATTEMPT_FAILED, SK_ATTEMPT_DONE };
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;
    struct script s = { res, NULL, NULL, 3, 0, &rec };
    struct sk_retry_job job = { scripted, waiting, &s, 0, 0, 0 };

    init(&r, &rec);
    ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
    ASSERT(s.calls == 3 && job.attempts == 3 && !job.final);
    ASSERT(rec.nsleeps == 2 && rec.waits == 2 && rec.max_seen == 3);
    ASSERT(rec.sleeps[0] == rec.waited[0] && rec.sleeps[0] < 1000 && rec.sleeps[1] < 2000);
    ASSERT(r.quota == SK_RETRY_QUOTA_MAX - SK_RETRY_COST); /* two taken, the last one given back */
}

/* Out of attempts: -1 with the last error; the job's own limit overrides max_attempts. */
TEST(driver_gives_up)
{
    static const enum sk_attempt res[] = { SK_ATTEMPT_FAILED };
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;
    struct script s = { res, NULL, NULL, 1, 0, &rec };
    struct sk_retry_job job = { scripted, waiting, &s, 0, 0, 0 };

    init(&r, &rec);
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(s.calls == 3 && job.attempts == 3 && rec.nsleeps == 2);
    ASSERT(strcmp(err.msg, "failure 3") == 0);
    sk_retry_gave_up(&err, job.attempts);
    ASSERT(strcmp(err.msg, "failure 3 (after 3 attempts)") == 0);
    s.calls = 0;
    job.max_attempts = 5;
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(s.calls == 5 && job.attempts == 5 && rec.max_seen == 5);
}

/* Not retryable, FINAL, and AGAIN (not counted, no wait). */
TEST(driver_final_again_and_not_retryable)
{
    static const enum sk_attempt fail[] = { SK_ATTEMPT_FAILED };
    static const int no[] = { SK_RETRY_NO };
    static const enum sk_attempt fin[] = { SK_ATTEMPT_FAILED, SK_ATTEMPT_FINAL };
    static const enum sk_attempt again[] = { SK_ATTEMPT_AGAIN, SK_ATTEMPT_FAILED, SK_ATTEMPT_DONE };
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;
    struct script s = { fail, no, NULL, 1, 0, &rec };
    struct sk_retry_job job = { scripted, NULL, &s, 0, 0, 0 };

    init(&r, &rec);
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(s.calls == 1 && job.attempts == 1 && !job.final && rec.nsleeps == 0);
    ASSERT(r.quota == SK_RETRY_QUOTA_MAX);
    s = (struct script){ fin, NULL, NULL, 2, 0, &rec };
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(s.calls == 2 && job.attempts == 2 && job.final && rec.nsleeps == 1);
    rec.nsleeps = 0;
    s = (struct script){ again, NULL, NULL, 3, 0, &rec };
    ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
    ASSERT(s.calls == 3 && job.attempts == 2 && rec.nsleeps == 1);
}

/* Retry-After: the wait is at least what the server asked, never more than the cap, not scaled. */
TEST(driver_honours_retry_after)
{
    static const enum sk_attempt res[] = { SK_ATTEMPT_FAILED, SK_ATTEMPT_FAILED, SK_ATTEMPT_DONE };
    static const long ask[] = { 2000, 60000, 0 };
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;
    struct script s = { res, NULL, ask, 3, 0, &rec };
    struct sk_retry_job job = { scripted, NULL, &s, 0, 0, 0 };

    init(&r, &rec);
    setenv("SK_RETRY_SCALE", "0.001", 1);
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    unsetenv("SK_RETRY_SCALE");
    r.sleep = rec_sleep;
    r.sleep_ctx = &rec;
    ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
    ASSERT(rec.nsleeps == 2 && rec.sleeps[0] == 2000 && rec.sleeps[1] == SK_RETRY_MAX_BACKOFF_MS);
}

/* The quota: retries cost 5 (10 after a timeout); when it is spent the job stops and says why. */
TEST(driver_quota)
{
    static const enum sk_attempt res[] = { SK_ATTEMPT_FAILED };
    static const int timeout[] = { SK_RETRY_TIMEOUT };
    struct sk_retry r;
    struct rec rec;
    struct sk_err err;
    struct script s = { res, timeout, NULL, 1, 0, &rec };
    struct sk_retry_job job = { scripted, NULL, &s, 0, 0, 0 };

    init(&r, &rec);
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(r.quota == SK_RETRY_QUOTA_MAX - 2 * SK_RETRY_TIMEOUT_COST);
    r.quota = SK_RETRY_TIMEOUT_COST - 1;
    s.calls = 0;
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(s.calls == 1 && strstr(err.msg, "retry quota exhausted") == err.msg);
    r.quota = SK_RETRY_COST;
    s.cls = NULL; /* transient: costs 5 */
    s.calls = 0;
    ASSERT_ERR(sk_retry_run(&r, &job, &err), &err, SK_E_AWS);
    ASSERT(s.calls == 2 && r.quota == 0);
    /* a success with no retry gives back 1, capped at the bucket size */
    {
        static const enum sk_attempt ok[] = { SK_ATTEMPT_DONE };
        struct script s2 = { ok, NULL, NULL, 1, 0, &rec };
        job.ctx = &s2;
        ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
        ASSERT(r.quota == SK_RETRY_NO_RETRY_REFUND);
        r.quota = SK_RETRY_QUOTA_MAX;
        ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
        ASSERT(r.quota == SK_RETRY_QUOTA_MAX);
    }
}

/* Each thread's own state: the same settings, a full quota, another jitter sequence. */
TEST(split)
{
    struct sk_retry a, b;
    struct rec rec;
    int i, same = 0;

    init(&a, &rec);
    a.max_attempts = 5;
    a.quota = 7;
    sk_retry_split(&a, &b);
    ASSERT(b.max_attempts == 5 && b.quota == SK_RETRY_QUOTA_MAX && b.sleep == rec_sleep && b.scale == a.scale);
    ASSERT(a.seed != b.seed);
    for (i = 0; i < 20; i++)
        same += sk_retry_backoff_ms(&a, 10) == sk_retry_backoff_ms(&b, 10);
    ASSERT(same < 3);
}

/* botocore's adaptive mode, replayed: after each response (dt seconds after the last one; throttled
 * or not), the seconds its attempt waited for a token, the bucket's fill rate and capacity, the
 * measured send rate, and whether the limiter is on. */
static const struct {
    double dt;
    int throttled;
    double waited, fill_rate, capacity, measured;
    int enabled;
} adaptive_vectors[] = {
    /* generated by botocore 1.43.11's retries/adaptive.py, bucket.py, throttling.py with a fake clock */
    { 0.100, 0, 0, 0.5, 0.10000000000002274, 0, 0 },
    { 0.100, 0, 0, 0.5, 0.15000000000003411, 0, 0 },
    { 0.200, 1, 0, 0.5, 0.25000000000005684, 0, 1 },
    { 0.050, 0, 1.4499999999999318, 1.3499999999996932, 0, 2.1333333333333333, 1 },
    { 0.300, 0, 0.44074074074092096, 2.4533333333333331, -4.5297099404706387e-14, 1.2266666666666666, 1 },
    { 0.400, 1, 0.0076086956522658511, 1.2917333333333332, 1.2434497875801753e-13, 1.8453333333333333, 1 },
    { 0.100, 1, 0.67415359207257097, 0.9042133333333332, 2.9309887850104133e-14, 1.9690666666666667, 1 },
    { 0.600, 0, 0.50593370296087414, 1.292364884948517, -2.1760371282653068e-14, 1.1938133333333334, 1 },
    { 1.000, 0, 0, 1.8483684021436348, 0.29236488494849522, 1.0387626666666667, 1 },
    { 0.250, 0, 0.13284311408415306, 2.6398088561962654, -8.5487172896137054e-14, 1.8077525333333333, 1 },
    { 2.000, 0, 0, 1.5231010133333331, 1.5231010133333331, 0.76155050666666657, 1 },
    { 0.500, 1, 0, 1.066170709333333, 0.52310101333333314, 1.7523101013333333, 1 },
    { 0.100, 0, 0.34730077696929129, 1.4375393591283296, 5.773159728050814e-14, 1.9504620202666667, 1 },
    { 3.000, 0, 0, 1.3135181414399999, 0.43753935912832964, 0.65675907071999995, 1 },
    { 0.200, 0, 0.22820926725455593, 3.4627036282880002, -2.2204460492503131e-14, 1.7313518141440001, 1 },
};

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

TEST(adaptive_matches_botocore)
{
    struct sk_rate_limiter l;
    double t = 1000.0;
    size_t i;

    sk_rate_init(&l, t);
    for (i = 0; i < sizeof(adaptive_vectors) / sizeof(adaptive_vectors[0]); i++) {
        double start, w;
        t += adaptive_vectors[i].dt;
        start = t;
        while ((w = sk_rate_acquire(&l, t)) > 0)
            t += w;
        sk_rate_update(&l, t, adaptive_vectors[i].throttled);
        if (!near(t - start, adaptive_vectors[i].waited) || !near(l.fill_rate, adaptive_vectors[i].fill_rate) ||
            !near(l.capacity, adaptive_vectors[i].capacity) || !near(l.measured, adaptive_vectors[i].measured) ||
            l.enabled != adaptive_vectors[i].enabled)
            H_FAIL("step %zu: waited %.17g rate %.17g capacity %.17g measured %.17g enabled %d", i, t - start,
                   l.fill_rate, l.capacity, l.measured, l.enabled);
    }
}

/* A fake clock the recorded sleeps move. */
struct fake_time {
    struct rec rec;
    double t;
};

static void fake_sleep(void *ctx, long ms)
{
    struct fake_time *f = ctx;

    rec_sleep(&f->rec, ms);
    f->t += (double)ms / 1000;
}

static double fake_clock(void *ctx)
{
    return ((struct fake_time *)ctx)->t;
}

TEST(driver_adaptive_waits_for_tokens_after_a_throttle)
{
    static const enum sk_attempt res[] = { SK_ATTEMPT_FAILED, SK_ATTEMPT_FAILED, SK_ATTEMPT_DONE };
    static const int cls[] = { SK_RETRY_THROTTLE, SK_RETRY_THROTTLE, 0 };
    struct fake_time f;
    struct sk_retry r;
    struct sk_err err;
    struct script sc;
    struct sk_retry_job job;
    long total = 0;
    int i;

    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("SK_RETRY_SCALE");
    setenv("AWS_RETRY_MODE", "adaptive", 1);
    memset(&f, 0, sizeof(f));
    f.t = 50;
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    unsetenv("AWS_RETRY_MODE");
    r.sleep = fake_sleep;
    r.clock = fake_clock;
    r.sleep_ctx = &f;
    sk_rate_init(&r.rate, f.t);
    memset(&sc, 0, sizeof(sc));
    sc.res = res;
    sc.cls = cls;
    sc.n = 3;
    sc.rec = &f.rec;
    memset(&job, 0, sizeof(job));
    job.attempt = scripted;
    job.ctx = &sc;
    ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
    ASSERT(job.attempts == 3 && r.rate.enabled);
    /* The first throttle turns the limiter on; the attempts after it also wait for tokens, so there
     * are more sleeps than the two backoffs. */
    ASSERT(f.rec.nsleeps > 2);
    for (i = 0; i < f.rec.nsleeps && i < 16; i++)
        total += f.rec.sleeps[i];
    ASSERT(total > 0);
}

/* A deploy's deadline: throttled attempts are retried past max_attempts and the quota until the
 * deadline, then fail as a timeout; other failures keep max_attempts. */
TEST(driver_waits_out_throttling_until_the_deadline)
{
    static const enum sk_attempt res[] = { SK_ATTEMPT_FAILED, SK_ATTEMPT_FAILED, SK_ATTEMPT_FAILED,
                                           SK_ATTEMPT_FAILED, SK_ATTEMPT_FAILED, SK_ATTEMPT_DONE };
    static const int cls[] = { SK_RETRY_THROTTLE, SK_RETRY_THROTTLE, SK_RETRY_THROTTLE,
                               SK_RETRY_THROTTLE, SK_RETRY_THROTTLE, 0 };
    static const enum sk_attempt always[] = { SK_ATTEMPT_FAILED };
    static const int thr[] = { SK_RETRY_THROTTLE }, tr[] = { SK_RETRY_TRANSIENT };
    struct fake_time f;
    struct sk_retry r;
    struct sk_err err;
    struct script sc;
    struct sk_retry_job job;
    int i;

    memset(&f, 0, sizeof(f));
    f.t = 100;
    init(&r, &f.rec);
    r.sleep = fake_sleep;
    r.clock = fake_clock;
    r.sleep_ctx = &f;
    r.throttle_until = 400;
    r.quota = 0; /* throttles waited out take nothing from it */
    memset(&sc, 0, sizeof(sc));
    sc.res = res;
    sc.cls = cls;
    sc.n = 6;
    sc.rec = &f.rec;
    memset(&job, 0, sizeof(job));
    job.attempt = scripted;
    job.ctx = &sc;
    ASSERT_OK(sk_retry_run(&r, &job, &err), &err);
    ASSERT(job.attempts == 6 && r.throttled == 5);
    for (i = 0; i < 5; i++)
        ASSERT(f.rec.sleeps[i] >= 1 && f.rec.sleeps[i] <= SK_RETRY_MAX_BACKOFF_MS);

    /* throttled for ever: it ends at the deadline, as a timeout, never sleeping past it */
    sc.res = always;
    sc.cls = thr;
    sc.n = 1;
    sc.calls = 0;
    f.rec.nsleeps = 0;
    r.throttle_until = f.t + 60;
    ASSERT(sk_retry_run(&r, &job, &err) < 0);
    ASSERT(err.kind == SK_E_TIMEOUT && strstr(err.msg, "still throttled at the deadline") != NULL);
    ASSERT(f.t >= r.throttle_until && f.t < r.throttle_until + 0.002);
    ASSERT(job.attempts > 3);

    /* a transient failure keeps the standard rules: three attempts */
    sc.cls = tr;
    sc.calls = 0;
    r.quota = SK_RETRY_QUOTA_MAX;
    r.throttle_until = f.t + 600;
    ASSERT(sk_retry_run(&r, &job, &err) < 0);
    ASSERT(job.attempts == 3 && err.kind == SK_E_AWS);
}

int main(void)
{
    RUN(backoff_bounds_full_jitter);
    RUN(classify);
    RUN(settings_from_env);
    RUN(scale);
    RUN(retry_after_headers);
    RUN(driver_retries_then_succeeds);
    RUN(driver_gives_up);
    RUN(driver_final_again_and_not_retryable);
    RUN(driver_honours_retry_after);
    RUN(driver_quota);
    RUN(split);
    RUN(adaptive_matches_botocore);
    RUN(driver_adaptive_waits_for_tokens_after_a_throttle);
    RUN(driver_waits_out_throttling_until_the_deadline);
    return DONE();
}
