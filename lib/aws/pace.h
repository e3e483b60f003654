/*
 * pace.h - pacing a wait: the validated SK_*_SCALE test multipliers, and a poll pacer (a jittered
 * interval between looks, times the scale, doubled after failed looks, clipped to a deadline).
 *
 * Jitter keeps many waiters from polling in step, for the reason the AWS SDKs jitter their retries
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). A tool reads its
 * scale once at the start, before it changes anything, so a bad value stops it early (exit 3).
 */
#ifndef SK_PACE_H
#define SK_PACE_H

#include "core/err.h"

#define SK_SCALE_MIN 0.001
#define SK_SCALE_MAX 1.0
#define SK_PACE_MAX_BACKOFF 8.0 /* a failed look doubles the interval, up to this many times */

/* A test multiplier from the environment variable name (SK_POLL_SCALE, SK_RETRY_SCALE): unset or
 * empty -> 1; a number from SK_SCALE_MIN to SK_SCALE_MAX -> it; anything else fails with
 * SK_E_CONFIG "invalid NAME '...': use a number from 0.001 to 1" (*out is then 1). */
int sk_scale_env(const char *name, double *out, struct sk_err *err);

struct sk_pace {
    double min_s, max_s;    /* one interval before scale and backoff: uniform in [min_s, max_s] */
    double scale;           /* SK_POLL_SCALE */
    double backoff;         /* 1; sk_pace_failed doubles it up to SK_PACE_MAX_BACKOFF */
    double start, deadline; /* sk_pace_now() seconds; deadline 0: none */
    unsigned long seed;     /* jitter PRNG state (not security) */
    /* Sleep for s seconds. NULL: nanosleep. Tests install a recorder. */
    void (*sleep)(void *ctx, double s);
    void *sleep_ctx;
};

/* Monotonic seconds. */
double sk_pace_now(void);
/* Start pacing now: intervals of min_s to max_s seconds, times scale; a deadline timeout_s seconds
 * from now (timeout_s <= 0: none). */
void sk_pace_start(struct sk_pace *p, double min_s, double max_s, double scale, double timeout_s);
/* Seconds since sk_pace_start. */
double sk_pace_elapsed(const struct sk_pace *p);
/* True once the deadline has passed (never without one). */
int sk_pace_expired(const struct sk_pace *p);
/* A look failed: the following intervals are twice as long (up to SK_PACE_MAX_BACKOFF times). */
void sk_pace_failed(struct sk_pace *p);
/* A look answered: back to the plain interval. */
void sk_pace_ok(struct sk_pace *p);
/* The next interval in seconds: jittered, times the backoff and the scale, and no later than the
 * deadline (so the last look is at the deadline; 0 once it has passed). */
double sk_pace_next(struct sk_pace *p);
/* Sleep s seconds (p->sleep when set; a signal does not cut it short). */
void sk_pace_sleep(struct sk_pace *p, double s);
/* Sleep the next interval; returns it. */
double sk_pace_wait(struct sk_pace *p);

#endif
