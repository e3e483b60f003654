/*
 * The SDKs' standard retry mode (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html)
 * and the one loop that applies it.
 */
#include "aws/pace.h"
#include "aws/retry.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* botocore retries/standard.py and aws-sdk-go-v2 retry/standard.go agree on these lists. */
static const char *const throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};
static const char *const transient_codes[] = {
    "RequestTimeout",          "RequestTimeoutException",
    "PriorRequestNotComplete", "IDPCommunicationError", /* STS web identity (botocore retries/special.py) */
    "InvalidIdentityToken", /* STS web identity, retried by aws-c-auth (a token just issued) */
};

int sk_code_in(const char *code, const char *const *list, size_t n)
{
    size_t i;

    if (!code || !*code)
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return 1;
    return 0;
}

enum sk_retry_class sk_retry_classify(long http_status, const char *aws_code)
{
    if (sk_code_in(aws_code, throttling_codes, NELEM(throttling_codes)))
        return SK_RETRY_THROTTLE;
    if (sk_code_in(aws_code, transient_codes, NELEM(transient_codes)))
        return SK_RETRY_TRANSIENT;
    if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
        return SK_RETRY_TRANSIENT;
    if (http_status == 429)
        return SK_RETRY_THROTTLE;
    return SK_RETRY_NO;
}

static int parse_positive(const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 100)
        return -1;
    *out = (int)v;
    return 0;
}

static double now_s(struct sk_retry *r)
{
    struct timespec ts;

    if (r->clock)
        return r->clock(r->sleep_ctx);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sk_retry_init(struct sk_retry *r, const struct sk_config *conf, struct sk_err *err)
{
    const char *mode = sk_getenv("AWS_RETRY_MODE"), *max = sk_getenv("AWS_MAX_ATTEMPTS");

    memset(r, 0, sizeof(*r));
    r->max_attempts = 3;
    r->quota = SK_RETRY_QUOTA_MAX;
    r->seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
    if (!mode && conf)
        mode = sk_config_get(conf, NULL, "retry_mode");
    if (!max && conf)
        max = sk_config_get(conf, NULL, "max_attempts");
    /* "legacy" runs as standard: the same retryable set and backoff. "adaptive" adds the client-side
     * rate limiter. */
    if (mode && strcmp(mode, "standard") != 0 && strcmp(mode, "legacy") != 0 && strcmp(mode, "adaptive") != 0)
        return sk_errf(err, SK_E_CONFIG, "invalid retry mode '%s': use standard, adaptive or legacy", mode);
    if (mode && strcmp(mode, "adaptive") == 0) {
        r->adaptive = 1;
        sk_rate_init(&r->rate, now_s(r));
    }
    if (max && parse_positive(max, &r->max_attempts) < 0)
        return sk_errf(err, SK_E_CONFIG, "invalid max attempts '%s': use a whole number from 1 to 100", max);
    return sk_scale_env("SK_RETRY_SCALE", &r->scale, err);
}

/* xorshift64*: jitter only, not security. */
static unsigned long long next_random(struct sk_retry *r)
{
    unsigned long long x = r->seed ? r->seed : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->seed = (unsigned long)x;
    return x * 2685821657736338717ULL;
}

static double rand01(struct sk_retry *r)
{
    return (double)(next_random(r) >> 11) / 9007199254740992.0;
}

void sk_retry_split(struct sk_retry *from, struct sk_retry *to)
{
    *to = *from;
    to->quota = SK_RETRY_QUOTA_MAX;
    to->seed = (unsigned long)next_random(from);
}

long sk_retry_backoff_ms(struct sk_retry *r, int attempt)
{
    double cap = SK_RETRY_BASE_MS;
    int i;

    for (i = 2; i < attempt && cap < SK_RETRY_MAX_BACKOFF_MS; i++)
        cap *= 2;
    if (cap > SK_RETRY_MAX_BACKOFF_MS)
        cap = SK_RETRY_MAX_BACKOFF_MS;
    return (long)(rand01(r) * cap * (r->scale > 0 ? r->scale : 1.0));
}

long sk_retry_after_ms(const struct sk_headers *h)
{
    const char *v;
    char *end;
    double d;

    if ((v = sk_headers_get(h, "x-amz-retry-after")) != NULL) {
        errno = 0;
        d = strtod(v, &end);
        if (errno || end == v || *end || !(d > 0))
            return 0;
    } else if ((v = sk_headers_get(h, "Retry-After")) != NULL) {
        errno = 0;
        d = strtod(v, &end);
        if (errno || end == v || *end || !(d > 0))
            return 0; /* also an HTTP-date: the clocks of client and server need not agree */
        d *= 1000;
    } else {
        return 0;
    }
    return d >= SK_RETRY_MAX_BACKOFF_MS ? SK_RETRY_MAX_BACKOFF_MS : (long)d;
}

void sk_retry_sleep(struct sk_retry *r, long ms)
{
    struct timespec ts;

    if (r->sleep) {
        r->sleep(r->sleep_ctx, ms);
        return;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long next_wait(struct sk_retry *r, struct sk_err *err, int attempt, int max, long asked_ms, int *last_cost)
{
    int cost;
    long delay;

    if (err->retryable == SK_RETRY_THROTTLE)
        r->throttled++;
    if (err->retryable == SK_RETRY_THROTTLE && r->throttle_until > 0) {
        double now = now_s(r), left_ms = (r->throttle_until - now) * 1000;
        if (left_ms <= 0) {
            err->kind = SK_E_TIMEOUT;
            sk_err_prefix(err, "still throttled at the deadline");
            return -1;
        }
        /* the backoff's exponent stops growing at its cap; Retry-After is honoured up to it */
        delay = sk_retry_backoff_ms(r, attempt < 16 ? attempt + 1 : 17);
        if (delay < asked_ms)
            delay = asked_ms > SK_RETRY_MAX_BACKOFF_MS ? SK_RETRY_MAX_BACKOFF_MS : asked_ms;
        if (delay < 1)
            delay = 1;
        return (double)delay < left_ms ? delay : (long)ceil(left_ms);
    }
    if (!err->retryable || attempt >= max)
        return -1;
    cost = err->retryable == SK_RETRY_TIMEOUT ? SK_RETRY_TIMEOUT_COST : SK_RETRY_COST;
    if (r->quota < cost) {
        sk_err_prefix(err, "retry quota exhausted");
        return -1;
    }
    r->quota -= cost;
    *last_cost = cost;
    delay = sk_retry_backoff_ms(r, attempt + 1);
    if (asked_ms > SK_RETRY_MAX_BACKOFF_MS)
        asked_ms = SK_RETRY_MAX_BACKOFF_MS;
    return delay < asked_ms ? asked_ms : delay; /* Retry-After: the service said when to come back */
}

long sk_retry_next(struct sk_retry *r, struct sk_err *err, int attempt, long asked_ms, int *last_cost)
{
    return next_wait(r, err, attempt, r->max_attempts, asked_ms, last_cost);
}

void sk_retry_success(struct sk_retry *r, int last_cost)
{
    r->quota += last_cost ? last_cost : SK_RETRY_NO_RETRY_REFUND;
    if (r->quota > SK_RETRY_QUOTA_MAX)
        r->quota = SK_RETRY_QUOTA_MAX;
}

void sk_retry_gave_up(struct sk_err *err, int attempts)
{
    size_t used;

    if (attempts <= 1 || err->kind == SK_E_NONE)
        return;
    used = strlen(err->msg);
    snprintf(err->msg + used, sizeof(err->msg) - used, " (after %d attempts)", attempts);
}

int sk_retry_run(struct sk_retry *r, struct sk_retry_job *job, struct sk_err *err)
{
    int n, max = job->max_attempts > 0 ? job->max_attempts : r->max_attempts, last_cost = 0;

    job->attempts = 0;
    job->final = 0;
    r->calls++;
    for (n = 1;; n++) {
        enum sk_attempt a;
        long asked = 0, delay;

        sk_err_clear(err);
        if (r->adaptive) {
            double wait;
            while ((wait = sk_rate_acquire(&r->rate, now_s(r))) > 0)
                sk_retry_sleep(r, (long)ceil(wait * 1000));
        }
        a = job->attempt(job->ctx, n, &asked, err);
        if (r->adaptive && a != SK_ATTEMPT_AGAIN)
            sk_rate_update(&r->rate, now_s(r), a != SK_ATTEMPT_DONE && err->retryable == SK_RETRY_THROTTLE);
        if (a == SK_ATTEMPT_AGAIN) {
            n--;
            continue;
        }
        job->attempts = n;
        if (a == SK_ATTEMPT_DONE) {
            sk_retry_success(r, last_cost);
            return 0;
        }
        if (a == SK_ATTEMPT_FINAL) {
            job->final = 1;
            return -1;
        }
        if ((delay = next_wait(r, err, n, max, asked, &last_cost)) < 0)
            return -1;
        if (job->waiting)
            job->waiting(job->ctx, n, max, delay, err);
        sk_retry_sleep(r, delay);
    }
}
