#include "aws/adaptive.h"

#include <math.h>
#include <string.h>

static void refill(struct sk_rate_limiter *l, double now)
{
    double c;

    if (l->last_refill < 0) {
        l->last_refill = now;
        return;
    }
    c = l->capacity + (now - l->last_refill) * l->fill_rate;
    l->capacity = c < l->max_capacity ? c : l->max_capacity;
    l->last_refill = now;
}

/* The bucket's new rate (botocore TokenBucket.max_rate's setter). */
static void set_rate(struct sk_rate_limiter *l, double now, double rate)
{
    refill(l, now);
    l->fill_rate = rate > SK_RATE_MIN ? rate : SK_RATE_MIN;
    l->max_capacity = rate >= 1 ? rate : 1;
    if (l->capacity > l->max_capacity)
        l->capacity = l->max_capacity;
}

static double zero_point(double w_max)
{
    return cbrt(w_max * (1 - SK_RATE_BETA) / SK_RATE_SCALE);
}

void sk_rate_init(struct sk_rate_limiter *l, double now)
{
    memset(l, 0, sizeof(*l));
    l->last_refill = -1;
    l->w_max = 0;
    l->k = zero_point(0);
    l->last_fail = now;
    l->last_bucket = floor(now);
    set_rate(l, now, 1);
}

double sk_rate_acquire(struct sk_rate_limiter *l, double now)
{
    if (!l->enabled)
        return 0;
    refill(l, now);
    /* (a token is whole up to rounding: a refill that lands a hair below 1 would ask for a wait
     * shorter than the clock can tell) */
    if (l->capacity >= 1 - 1e-9) {
        l->capacity -= 1;
        return 0;
    }
    return (1 - l->capacity) / l->fill_rate;
}

/* The smoothed send rate, counting this response (botocore RateClocker.record). */
static double record(struct sk_rate_limiter *l, double now)
{
    double bucket = floor(now / SK_RATE_BUCKET_S) * SK_RATE_BUCKET_S;

    l->count++;
    if (bucket > l->last_bucket) {
        double current = (double)l->count / (bucket - l->last_bucket);
        l->measured = current * SK_RATE_SMOOTHING + l->measured * (1 - SK_RATE_SMOOTHING);
        l->count = 0;
        l->last_bucket = bucket;
    }
    return l->measured;
}

void sk_rate_update(struct sk_rate_limiter *l, double now, int throttled)
{
    double measured = record(l, now), rate;

    if (!throttled) {
        double dt = now - l->last_fail - l->k;
        rate = SK_RATE_SCALE * dt * dt * dt + l->w_max;
    } else {
        double use = !l->enabled ? measured : (measured < l->fill_rate ? measured : l->fill_rate);
        l->w_max = use;
        l->k = zero_point(use);
        l->last_fail = now;
        rate = use * SK_RATE_BETA;
        l->enabled = 1;
    }
    set_rate(l, now, rate < SK_RATE_MAX_ADJUST * measured ? rate : SK_RATE_MAX_ADJUST * measured);
}
