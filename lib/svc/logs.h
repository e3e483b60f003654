/*
 * logs.h - CloudWatch Logs lines of ECS tasks: the awslogs driver's streams
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html), read in the
 * region each container logs to, paged with FilterLogEvents and GetLogEvents
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html,
 * API_GetLogEvents.html).
 *
 * Log lines are the workload's text: untrusted, to be escaped (lib/core/text.h) before they are printed.
 */
#ifndef SK_LOGS_H
#define SK_LOGS_H

#include <stddef.h>

#include <jv.h>

#include "aws/api.h"
#include "svc/ecs.h"
#include "core/err.h"

/* The clients that read CloudWatch Logs: the caller's own (its region), and one per other
 * awslogs-region met (at most SK_LOGS_MAX_REGIONS), made by the caller's new_client (which sets a
 * client up as the caller's own is, in region). */
#define SK_LOGS_MAX_REGIONS 4

typedef int(sk_logs_client_fn)(void *ctx, const char *region, struct sk_client *out, struct sk_err *err);

struct sk_logs {
    struct sk_client *home;
    sk_logs_client_fn *new_client;
    void *ctx;
    char *name[SK_LOGS_MAX_REGIONS];
    struct sk_client c[SK_LOGS_MAX_REGIONS];
    int n;
};

void sk_logs_init(struct sk_logs *l, struct sk_client *home, sk_logs_client_fn *new_client, void *ctx);
void sk_logs_release(struct sk_logs *l);

/* The client that reads CloudWatch Logs in region (NULL or empty: the home client's). A region that
 * is not a region name, or one region too many: SK_E_USAGE. */
struct sk_client *sk_logs_client(struct sk_logs *l, const char *region, struct sk_err *err);

/* One log event, borrowed for the time of a callback. */
struct sk_log_event {
    const char *id, *stream, *message;
    double timestamp; /* milliseconds since the epoch, 0 when absent */
};

/* Reading a service's lines as `aws logs tail --follow` does: from start_ms on, each event once. */
struct sk_logs_tail {
    long long start_ms; /* where the next round starts */
    long long newest;   /* the newest timestamp seen this round */
    int rounds;
    jv seen; /* event ids of the last rounds */
};

void sk_logs_tail_init(struct sk_logs_tail *t, long long start_ms);
void sk_logs_tail_release(struct sk_logs_tail *t);

/* FilterLogEvents of group's streams starting with stream_prefix from t->start_ms on, up to 50
 * pages: fn is called for every event t has not seen yet, in the order the pages give them. */
int sk_logs_tail_read(struct sk_logs_tail *t, struct sk_client *c, const char *group, const char *stream_prefix,
                      void (*fn)(void *ctx, const struct sk_log_event *ev), void *ctx, struct sk_err *err);

/* End a round: the next starts at the newest event seen (the same millisecond again; ids
 * deduplicate); every 30 rounds the ids are forgotten, to bound memory when following for hours. */
void sk_logs_tail_next(struct sk_logs_tail *t);

/* The last lines of one container of one task: stream PREFIX/CONTAINER/TASK_ID of cfg's group,
 * GetLogEvents from the end, at most limit lines (messages, owned: free each and the array). The
 * client read from (home, or the one of cfg's awslogs-region) is in *used. */
int sk_logs_last_lines(struct sk_logs *l, const struct sk_ecs_log_config *cfg, const char *task_id, int limit,
                       char ***lines, size_t *n, struct sk_client **used, struct sk_err *err);
void sk_logs_lines_free(char **lines, size_t n);

/* The stream name of one container of one task (PREFIX/CONTAINER/TASK_ID), owned. */
char *sk_logs_stream(const struct sk_ecs_log_config *cfg, const char *task_id);

#endif
