/*
 * The SK_*_SCALE multipliers and the poll pacer (pace.h).
 */
#include "aws/pace.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "aws/config.h"

int sk_scale_env(const char *name, double *out, struct sk_err *err)
{
    const char *s = sk_getenv(name);
    char *end;
    double v;

    *out = 1.0;
    if (!s)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= SK_SCALE_MIN && v <= SK_SCALE_MAX))
        return sk_errf(err, SK_E_CONFIG, "invalid %s '%s': use a number from 0.001 to 1", name, s);
    *out = v;
    return 0;
}

double sk_pace_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sk_pace_start(struct sk_pace *p, double min_s, double max_s, double scale, double timeout_s)
{
    p->min_s = min_s;
    p->max_s = max_s > min_s ? max_s : min_s;
    p->scale = scale;
    p->backoff = 1.0;
    p->start = sk_pace_now();
    p->deadline = timeout_s > 0 ? p->start + timeout_s : 0;
    p->seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^ (unsigned long)(p->start * 1e6);
    p->sleep = NULL;
    p->sleep_ctx = NULL;
}

double sk_pace_elapsed(const struct sk_pace *p)
{
    return sk_pace_now() - p->start;
}

int sk_pace_expired(const struct sk_pace *p)
{
    return p->deadline > 0 && sk_pace_now() >= p->deadline;
}

void sk_pace_failed(struct sk_pace *p)
{
    p->backoff = p->backoff * 2 < SK_PACE_MAX_BACKOFF ? p->backoff * 2 : SK_PACE_MAX_BACKOFF;
}

void sk_pace_ok(struct sk_pace *p)
{
    p->backoff = 1.0;
}

/* A uniform number in [0, 1]: a 64-bit LCG (Knuth's MMIX constants), its high bits. */
static double rand01(struct sk_pace *p)
{
    unsigned long long x = (unsigned long long)p->seed * 6364136223846793005ULL + 1442695040888963407ULL;

    p->seed = (unsigned long)x;
    return (double)(x >> 11) / 9007199254740991.0;
}

double sk_pace_next(struct sk_pace *p)
{
    double s = (p->min_s + (p->max_s - p->min_s) * rand01(p)) * p->backoff * p->scale, left;

    if (p->deadline > 0) {
        left = p->deadline - sk_pace_now();
        if (s > left)
            s = left > 0 ? left : 0;
    }
    return s;
}

void sk_pace_sleep(struct sk_pace *p, double s)
{
    struct timespec ts;

    if (p->sleep) {
        p->sleep(p->sleep_ctx, s);
        return;
    }
    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

double sk_pace_wait(struct sk_pace *p)
{
    double s = sk_pace_next(p);

    sk_pace_sleep(p, s);
    return s;
}
