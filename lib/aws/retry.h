/*
 * retry.h - the SDKs' "standard" retry mode
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): which failures
 * are retried, full-jitter exponential backoff, the retry quota, Retry-After, and one driver loop
 * that every retried request goes through (AWS API calls, aws-sign's send mode, registry pushes).
 */
#ifndef SK_RETRY_H
#define SK_RETRY_H

#include "aws/adaptive.h"
#include "aws/config.h"
#include "core/err.h"
#include "core/hdr.h"

#define SK_RETRY_MAX_BACKOFF_MS 20000 /* cap of the exponential backoff, and of a Retry-After */
#define SK_RETRY_BASE_MS 1000         /* base delay */
#define SK_RETRY_QUOTA_MAX 500        /* retry quota bucket size */
#define SK_RETRY_COST 5               /* quota taken by a retry */
#define SK_RETRY_TIMEOUT_COST 10      /* quota taken by a retry after a timeout */
#define SK_RETRY_NO_RETRY_REFUND 1    /* quota returned by a success that needed no retry */

/* One retry state: not shared between threads (sk_retry_split gives each its own). */
struct sk_retry {
    int max_attempts;   /* total attempts including the first; >= 1 */
    int quota;          /* current retry quota */
    unsigned long seed; /* jitter PRNG state */
    double scale;       /* backoff multiplier: 1, or SK_RETRY_SCALE (tests); Retry-After is not scaled */
    /* Sleep for ms milliseconds. NULL: nanosleep. Tests install a recorder. */
    void (*sleep)(void *ctx, long ms);
    void *sleep_ctx;
    /* retry_mode adaptive: every attempt first waits for the rate limiter (aws/adaptive.h). */
    int adaptive;
    struct sk_rate_limiter rate;
    /* The time in seconds for the limiter. NULL: CLOCK_MONOTONIC. Tests install a fake (sleep_ctx). */
    double (*clock)(void *ctx);
    /* > 0: waiting out throttling until this time (the clock's seconds; a deploy's --timeout). A
     * throttled attempt did nothing (the service refused it before acting), so it is retried past
     * max_attempts and without taking from the quota, with the usual backoff, until then; a
     * throttled attempt at or past it fails with SK_E_TIMEOUT ("still throttled at the deadline").
     * Other failures keep the standard mode's rules. 0: off (the SDKs' behaviour). */
    double throttle_until;
    int throttled; /* throttled attempts seen (a count for the tools' results) */
    long calls;    /* jobs run through this state: the AWS calls a tool made (its results' apiCalls) */
};

/* Resolve mode and attempts: AWS_RETRY_MODE / profile retry_mode ("standard"; "legacy" runs as
 * standard; "adaptive" is standard plus the client-side rate limiter of aws/adaptive.h, one per
 * retry state), AWS_MAX_ATTEMPTS / profile max_attempts (default 3),
 * and SK_RETRY_SCALE (0.001 to 1, default 1: a multiplier of the backoff, so tests that inject
 * faults need not sleep whole seconds). conf may be NULL. Invalid values fail with SK_E_CONFIG. */
int sk_retry_init(struct sk_retry *r, const struct sk_config *conf, struct sk_err *err);
/* A retry state for another thread: from's settings and sleep hook, a full quota, a jitter sequence
 * of its own (seeded from from's, which moves on), and a copy of from's rate limiter. */
void sk_retry_split(struct sk_retry *from, struct sk_retry *to);
/* 1 when the AWS error code is one of list[0..n) (an empty or NULL code is none). */
int sk_code_in(const char *code, const char *const *list, size_t n);
/* Classify an AWS error code / HTTP status (sets err->retryable). Exposed for tests. */
enum sk_retry_class sk_retry_classify(long http_status, const char *aws_code);
/* Delay before attempt number `attempt` (2 = first retry): rand[0,1) * min(base * 2^(attempt-2), cap),
 * times r->scale. */
long sk_retry_backoff_ms(struct sk_retry *r, int attempt);
/* The wait a failed response asks for, in ms, capped at SK_RETRY_MAX_BACKOFF_MS; 0 when it asks for
 * none: x-amz-retry-after (milliseconds), else Retry-After (delay-seconds; an HTTP-date is ignored).
 * A retry after such a response waits at least this long (botocore ignores Retry-After). */
long sk_retry_after_ms(const struct sk_headers *h);
/* The standard-mode step after attempt number `attempt` failed with err: when it may be retried
 * (retryable, attempts left, quota enough), takes the retry's cost from the quota (kept in
 * *last_cost for sk_retry_success) and returns the wait in ms, at least asked_ms (what Retry-After
 * asked for, capped at SK_RETRY_MAX_BACKOFF_MS); otherwise returns -1 (err says "retry quota
 * exhausted" when that was why). */
long sk_retry_next(struct sk_retry *r, struct sk_err *err, int attempt, long asked_ms, int *last_cost);
/* A success: the quota gets back the last retry's cost, or SK_RETRY_NO_RETRY_REFUND. */
void sk_retry_success(struct sk_retry *r, int last_cost);
/* Wait ms milliseconds (r->sleep when set). */
void sk_retry_sleep(struct sk_retry *r, long ms);
/* The final error of a call that took `attempts` attempts: " (after N attempts)" appended when N > 1. */
void sk_retry_gave_up(struct sk_err *err, int attempts);

/* ---- the driver ---------------------------------------------------------------------------- */

/* What one attempt of a job returns. */
enum sk_attempt {
    SK_ATTEMPT_DONE = 0, /* it succeeded: the job is done */
    SK_ATTEMPT_FAILED,   /* it failed (err): retried when err->retryable and the standard mode allows */
    SK_ATTEMPT_AGAIN,    /* try again at once, not counted as an attempt (a corrected clock skew) */
    SK_ATTEMPT_FINAL,    /* it failed (err) in a way no retry mends: the job fails at once */
};

struct sk_retry_job {
    /* Attempt number n (1-based). err is clear on entry. On a failure, *asked_ms may be set to the
     * least wait the server asked for (sk_retry_after_ms; 0 on entry). */
    enum sk_attempt (*attempt)(void *ctx, int n, long *asked_ms, struct sk_err *err);
    /* Told before each wait (NULL: nothing): attempt n of max failed with err; retrying in delay_ms. */
    void (*waiting)(void *ctx, int n, int max, long delay_ms, const struct sk_err *err);
    void *ctx;
    int max_attempts; /* 0: r->max_attempts; else this job's own limit */
    /* Out: the attempts made, and whether the last failure was SK_ATTEMPT_FINAL. */
    int attempts;
    int final;
};

/* Run job->attempt until it succeeds (0) or fails for good (-1, err from the last attempt; the
 * caller adds its context, e.g. sk_retry_gave_up(err, job->attempts)). Between attempts: the
 * standard mode's wait (sk_retry_next), then r->sleep. In adaptive mode each attempt first waits for
 * a token of the rate limiter, and each response (throttled or not) adjusts its rate. */
int sk_retry_run(struct sk_retry *r, struct sk_retry_job *job, struct sk_err *err);

#endif
