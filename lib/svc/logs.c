#include "svc/logs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "aws/service.h"

void sk_logs_init(struct sk_logs *l, struct sk_client *home, sk_logs_client_fn *new_client, void *ctx)
{
    memset(l, 0, sizeof(*l));
    l->home = home;
    l->new_client = new_client;
    l->ctx = ctx;
}

void sk_logs_release(struct sk_logs *l)
{
    int i;

    for (i = 0; i < l->n; i++) {
        sk_client_release(&l->c[i]);
        free(l->name[i]);
    }
    l->n = 0;
}

static int region_name_ok(const char *r)
{
    size_t i, n = strlen(r);

    for (i = 0; i < n; i++)
        if (!islower((unsigned char)r[i]) && !isdigit((unsigned char)r[i]) && r[i] != '-')
            return 0;
    return n > 0 && n <= 32;
}

/* The awslogs driver sends a container's lines to its awslogs-region, which may not be the
 * client's: they are read there, with a client of that region (endpoint overrides apply as to any
 * client). */
struct sk_client *sk_logs_client(struct sk_logs *l, const char *region, struct sk_err *err)
{
    int i;

    if (!region || !*region || strcmp(region, l->home->region) == 0)
        return l->home;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->name[i], region) == 0)
            return &l->c[i];
    if (!region_name_ok(region)) {
        sk_errf(err, SK_E_USAGE, "awslogs-region '%s' is not a region name", region);
        return NULL;
    }
    if (l->n == SK_LOGS_MAX_REGIONS) {
        sk_errf(err, SK_E_USAGE, "logs in more than %d other regions", SK_LOGS_MAX_REGIONS);
        return NULL;
    }
    if (!l->new_client) {
        sk_errf(err, SK_E_USAGE, "awslogs-region '%s': no client for other regions", region);
        return NULL;
    }
    if (l->new_client(l->ctx, region, &l->c[l->n], err) < 0)
        return NULL;
    l->name[l->n] = xstrdup(region);
    return &l->c[l->n++];
}

/* ---- following a service's lines ------------------------------------------------------------------ */

void sk_logs_tail_init(struct sk_logs_tail *t, long long start_ms)
{
    memset(t, 0, sizeof(*t));
    t->start_ms = start_ms;
    t->newest = start_ms;
    t->seen = jv_object();
}

void sk_logs_tail_release(struct sk_logs_tail *t)
{
    jv_free(t->seen);
    t->seen = jv_invalid();
}

static const char *str_or(jv obj, const char *key, const char *dflt)
{
    const char *s = sk_json_str(obj, key);
    return s ? s : dflt;
}

/* The events of one FilterLogEvents page that t has not seen, to fn. */
static void tail_page(struct sk_logs_tail *t, jv res, void (*fn)(void *ctx, const struct sk_log_event *ev), void *ctx)
{
    jv evs = sk_json_get(res, "events");
    int k, m = sk_json_len(evs);

    for (k = 0; k < m; k++) {
        jv e = jv_array_get(jv_copy(evs), k);
        struct sk_log_event ev;
        jv was;
        ev.id = str_or(e, "eventId", "");
        was = sk_json_get(t->seen, ev.id);
        if (jv_get_kind(was) == JV_KIND_INVALID) {
            ev.stream = str_or(e, "logStreamName", "");
            ev.message = str_or(e, "message", "");
            ev.timestamp = 0;
            sk_json_num(e, "timestamp", &ev.timestamp);
            fn(ctx, &ev);
            t->seen = jv_object_set(t->seen, jv_string(ev.id), jv_true());
            if ((long long)ev.timestamp > t->newest)
                t->newest = (long long)ev.timestamp;
        }
        jv_free(was);
        jv_free(e);
    }
    jv_free(evs);
}

struct tail_read {
    struct sk_logs_tail *t;
    void (*fn)(void *ctx, const struct sk_log_event *ev);
    void *ctx;
};

static int tail_read_page(void *ctx, jv answer, struct sk_err *err)
{
    struct tail_read *r = ctx;

    (void)err;
    tail_page(r->t, answer, r->fn, r->ctx);
    return 0;
}

int sk_logs_tail_read(struct sk_logs_tail *t, struct sk_client *c, const char *group, const char *stream_prefix,
                      void (*fn)(void *ctx, const struct sk_log_event *ev), void *ctx, struct sk_err *err)
{
    struct tail_read r = { t, fn, ctx };
    jv in = jv_object();

    in = jv_object_set(in, jv_string("logGroupName"), jv_string(group));
    in = jv_object_set(in, jv_string("logStreamNamePrefix"), jv_string(stream_prefix));
    in = jv_object_set(in, jv_string("startTime"), jv_number((double)t->start_ms));
    return sk_client_json_pages(c, &sk_svc_logs, "FilterLogEvents", in, 50, tail_read_page, &r, err);
}

void sk_logs_tail_next(struct sk_logs_tail *t)
{
    t->start_ms = t->newest; /* the same millisecond again: ids deduplicate */
    if (++t->rounds % 30 == 0) {
        jv_free(t->seen); /* bounded memory when following for hours */
        t->seen = jv_object();
        t->start_ms = t->newest + 1;
    }
}

/* ---- the last lines of a stopped task -------------------------------------------------------------- */

char *sk_logs_stream(const struct sk_ecs_log_config *cfg, const char *task_id)
{
    struct sk_buf b = SK_BUF_INIT;

    sk_buf_addf(&b, "%s/%s/%s", cfg->stream_prefix ? cfg->stream_prefix : "", cfg->container ? cfg->container : "",
                task_id);
    return sk_buf_detach(&b, NULL);
}

int sk_logs_last_lines(struct sk_logs *l, const struct sk_ecs_log_config *cfg, const char *task_id, int limit,
                       char ***lines, size_t *n, struct sk_client **used, struct sk_err *err)
{
    char *stream = sk_logs_stream(cfg, task_id);
    struct sk_client *c;
    jv in, res, evs;
    int k, m;

    *lines = NULL;
    *n = 0;
    *used = c = sk_logs_client(l, cfg->region, err);
    if (!c) {
        free(stream);
        return -1;
    }
    in = jv_object_set(jv_object(), jv_string("logGroupName"), jv_string(cfg->group ? cfg->group : ""));
    in = jv_object_set(in, jv_string("logStreamName"), jv_string(stream));
    in = jv_object_set(in, jv_string("limit"), jv_number(limit));
    in = jv_object_set(in, jv_string("startFromHead"), jv_false());
    free(stream);
    if (sk_client_json(c, &sk_svc_logs, "GetLogEvents", in, 0, &res, err) < 0)
        return -1;
    evs = sk_json_get(res, "events");
    m = sk_json_len(evs);
    *lines = m ? xcalloc((size_t)m, sizeof(**lines)) : NULL;
    for (k = 0; k < m; k++) {
        jv ev = jv_array_get(jv_copy(evs), k);
        (*lines)[(*n)++] = xstrdup(str_or(ev, "message", ""));
        jv_free(ev);
    }
    jv_free(evs);
    jv_free(res);
    return 0;
}

void sk_logs_lines_free(char **lines, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}
