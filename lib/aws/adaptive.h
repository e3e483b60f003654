/*
 * adaptive.h - the SDKs' "adaptive" retry mode's client-side rate limiter
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): a token bucket that
 * every attempt, the first included, takes a token from once the service has throttled a call; its
 * fill rate follows CUBIC (beta 0.7, scale 0.4) from the send rate measured over 0.5 s buckets
 * (smoothing 0.8), at least 0.5 per second, at most twice the measured rate. The numbers and the
 * order of the steps are botocore's (retries/adaptive.py, bucket.py, throttling.py); retry_test
 * replays a sequence botocore computed. Time is passed in (seconds), so it can be tested.
 */
#ifndef SK_ADAPTIVE_H
#define SK_ADAPTIVE_H

#define SK_RATE_MIN 0.5        /* tokens a second, at least */
#define SK_RATE_BETA 0.7       /* CUBIC: the rate after a throttle, times the rate before */
#define SK_RATE_SCALE 0.4      /* CUBIC's scale constant */
#define SK_RATE_SMOOTHING 0.8  /* weight of the newest measured send rate */
#define SK_RATE_BUCKET_S 0.5   /* the send rate is measured over buckets this long */
#define SK_RATE_MAX_ADJUST 2.0 /* the fill rate is at most this times the measured send rate */

struct sk_rate_limiter {
    int enabled; /* a throttle was seen: attempts take tokens from now on */
    /* token bucket */
    double fill_rate, max_capacity, capacity, last_refill; /* last_refill < 0: never */
    /* CUBIC */
    double w_max, k, last_fail;
    /* send rate */
    double measured, last_bucket;
    long count;
};

void sk_rate_init(struct sk_rate_limiter *l, double now);
/* Before an attempt at time now: 0 when it may go (a token taken, or the limiter is not enabled),
 * else the seconds to wait before asking again. */
double sk_rate_acquire(struct sk_rate_limiter *l, double now);
/* After a response at time now (any response: throttled 1 for a throttling error). */
void sk_rate_update(struct sk_rate_limiter *l, double now, int throttled);

#endif
