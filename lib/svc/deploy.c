#include "svc/deploy.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "svc/elbv2.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"

static const char * or (const char *s, const char *dflt)
{
    return s ? s : dflt;
}

static long count_or(long v, long dflt)
{
    return v == SK_ECS_ABSENT ? dflt : v;
}

static int str_is(const char *s, const char *want)
{
    return strcmp(or (s, ""), want) == 0;
}

/* ---- the verdict --------------------------------------------------------------------------------- */

/* Ours is gone or demoted: ECS rolled back to what ran before, or someone else deployed. */
static enum sk_deploy_verdict judge_gone(const struct sk_ecs_deployment *mine, const struct sk_ecs_deployment *primary,
                                         const char *prev_td, struct sk_deploy_outcome *oc)
{
    const char *ptd = primary ? primary->task_definition : NULL;
    const char *why = mine ? mine->rollout_state_reason : NULL;

    snprintf(oc->other_td, sizeof(oc->other_td), "%s", or (ptd, ""));
    snprintf(oc->other_dep, sizeof(oc->other_dep), "%s", primary ? or (primary->id, "") : "");
    if (ptd && prev_td && strcmp(ptd, prev_td) == 0) {
        snprintf(oc->reason, sizeof(oc->reason),
                 "ECS rolled the deployment back to %s (deployment circuit breaker)%s%s", sk_ecs_arn_name(ptd),
                 why ? ": " : "", or (why, ""));
        return SK_DEPLOY_ROLLED_BACK;
    }
    snprintf(oc->reason, sizeof(oc->reason), "another deployment replaced ours: %s now runs %s",
             primary ? or (primary->id, "?") : "?", sk_ecs_arn_name(ptd));
    return SK_DEPLOY_REPLACED;
}

enum sk_deploy_verdict sk_deploy_judge(const struct sk_ecs_service *svc, const char *dep_id, const char *td_arn,
                                       const char *prev_td, struct sk_deploy_outcome *oc)
{
    const struct sk_ecs_deployment *mine = sk_ecs_find_deployment(svc, dep_id, NULL),
                                   *primary = sk_ecs_find_deployment(svc, NULL, "PRIMARY");
    const char *st = or (svc->status, "?");
    enum sk_deploy_verdict v = SK_DEPLOY_WAIT;

    if (strcmp(st, "ACTIVE") != 0) {
        snprintf(oc->reason, sizeof(oc->reason), "the service is %s", st);
        v = SK_DEPLOY_FAILED;
    } else if (!mine || !str_is(mine->status, "PRIMARY")) {
        v = judge_gone(mine, primary, prev_td, oc);
    } else if (str_is(mine->rollout_state, "FAILED")) {
        snprintf(oc->reason, sizeof(oc->reason), "%s", or (mine->rollout_state_reason, "the rollout failed"));
        v = SK_DEPLOY_FAILED;
    } else if (!str_is(mine->task_definition, td_arn)) {
        snprintf(oc->reason, sizeof(oc->reason), "our deployment runs %s, not %s",
                 sk_ecs_arn_name(mine->task_definition), sk_ecs_arn_name(td_arn));
        v = SK_DEPLOY_FAILED;
    } else if (mine->rollout_state
                   ? strcmp(mine->rollout_state, "COMPLETED") == 0
                   : mine->running_count != SK_ECS_ABSENT && mine->running_count == mine->desired_count &&
                         count_or(mine->pending_count, 0) == 0) {
        v = SK_DEPLOY_DONE;
    }
    oc->v = v;
    return v;
}

int sk_deploy_steady_on(const struct sk_ecs_service *svc, const char *td)
{
    const struct sk_ecs_deployment *d = svc->ndeployments == 1 ? &svc->deployments[0] : NULL;

    return d && str_is(d->status, "PRIMARY") && str_is(d->task_definition, td) &&
           str_is(d->rollout_state, "COMPLETED") && svc->running_count != SK_ECS_ABSENT &&
           svc->running_count == svc->desired_count;
}

/* ---- the watch ------------------------------------------------------------------------------------ */

void sk_deploy_watch_init(struct sk_deploy_watch *w, struct sk_client *c, const char *cluster, const char *service,
                          double scale)
{
    memset(w, 0, sizeof(*w));
    w->c = c;
    w->cluster = cluster;
    w->service = service;
    w->scale = scale;
}

void sk_deploy_stall_reset(struct sk_deploy_watch *w)
{
    size_t i;

    for (i = 0; i < w->st.nseen; i++)
        free(w->st.seen[i]);
    free(w->st.seen);
    memset(&w->st, 0, sizeof(w->st));
}

void sk_deploy_watch_release(struct sk_deploy_watch *w)
{
    sk_deploy_stall_reset(w);
}

/* The service's load balancer lb's targets for tasks (those with an IP yet), borrowed from tasks:
 * how many, into out (room for n). */
static size_t lb_targets(const struct sk_ecs_load_balancer *lb, const struct sk_ecs_task *tasks, size_t n,
                         struct sk_elbv2_target *out)
{
    size_t j, nt = 0;

    for (j = 0; j < n; j++)
        if (tasks[j].ip) {
            out[nt].id = tasks[j].ip;
            out[nt++].port = lb->container_port;
        }
    return nt;
}

/* One TargetHealthDescription: its target's id and state (borrowed from d). */
static void target_state(jv d, const char **id, const char **state, const char **reason, const char **desc)
{
    jv th = sk_json_get(d, "TargetHealth"), tgt = sk_json_get(d, "Target");

    /* Borrowed: th and tgt share d's storage. */
    *id = sk_json_str(tgt, "Id");
    *state = sk_json_str(th, "State");
    *reason = sk_json_str(th, "Reason");
    *desc = sk_json_str(th, "Description");
    jv_free(th);
    jv_free(tgt);
}

/* One target group's answer for targets_healthy: 1, 0 or 2 as there. */
static int group_healthy(jv descs, size_t ntasks, const char *tg, struct sk_deploy_outcome *oc)
{
    int j, m = jv_get_kind(descs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(descs)) : 0, rc = 1;

    if ((size_t)m < ntasks)
        rc = 0;
    for (j = 0; j < m && rc == 1; j++) {
        jv d = jv_array_get(jv_copy(descs), j);
        const char *id, *state, *reason, *desc;
        target_state(d, &id, &state, &reason, &desc);
        if (strcmp(or (state, "?"), "unhealthy") == 0) {
            snprintf(oc->reason, sizeof(oc->reason), "target %s is unhealthy in %s: %s: %s", or (id, "?"),
                     sk_ecs_arn_name(tg), or (reason, "?"), or (desc, ""));
            rc = 2;
        } else if (strcmp(or (state, "?"), "healthy") != 0) {
            rc = 0;
        }
        jv_free(d);
    }
    return rc;
}

int sk_deploy_targets_healthy(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id,
                              struct sk_deploy_outcome *oc, struct sk_err *err)
{
    struct sk_ecs_task *tasks = NULL;
    size_t i, ntasks = 0;
    int rc = 1;

    if (svc->nload_balancers == 0)
        return 1; /* nothing to be healthy in */
    if (sk_ecs_deployment_tasks(w->c, w->cluster, w->service, "RUNNING", dep_id, &tasks, &ntasks, &w->calls, err) < 0)
        return -1;
    if (ntasks == 0)
        rc = 0;
    for (i = 0; i < svc->nload_balancers && rc == 1; i++) {
        const struct sk_ecs_load_balancer *lb = &svc->load_balancers[i];
        struct sk_elbv2_target *targets;
        size_t nt;
        jv descs;
        if (!lb->target_group_arn)
            continue;
        targets = xcalloc(ntasks, sizeof(*targets));
        nt = lb_targets(lb, tasks, ntasks, targets);
        if (nt < ntasks)
            rc = 0; /* no IP yet: not registered yet */
        w->calls++;
        if (sk_elbv2_describe_target_health(w->c, lb->target_group_arn, targets, nt, &descs, err) < 0) {
            rc = -1;
        } else {
            int g = group_healthy(descs, ntasks, lb->target_group_arn, oc);
            if (rc == 1)
                rc = g;
            jv_free(descs);
        }
        free(targets);
    }
    sk_ecs_tasks_free(tasks, ntasks);
    return rc;
}

/* ---- no progress ------------------------------------------------------------------------------------ */

/* The settings' part of the stall period, in AWS seconds: the service's healthCheckGracePeriodSeconds,
 * twice the longest a target group takes to call a new target healthy (HealthCheckIntervalSeconds x
 * HealthyThresholdCount + HealthCheckTimeoutSeconds; ELB's defaults 30 x 5 + 5 when it cannot be read),
 * a minute, and ELB's default deregistration delay (300 s) when maximumPercent leaves no room to start
 * new tasks before old ones have stopped. */
static void stall_settings(struct sk_deploy_watch *w, const struct sk_ecs_service *svc)
{
    double grace = svc->grace_period_s, hc = 0, drain = 0;
    size_t i;

    for (i = 0; i < svc->nload_balancers; i++) {
        const char *arn = svc->load_balancers[i].target_group_arn;
        jv tg = jv_invalid();
        double t = 30 * 5 + 5;
        struct sk_err e;
        sk_err_clear(&e);
        w->calls++;
        if (arn && sk_elbv2_describe_target_group(w->c, arn, &tg, &e) == 0)
            t = sk_json_num_any(tg, "HealthCheckIntervalSeconds", 30) *
                    sk_json_num_any(tg, "HealthyThresholdCount", 5) +
                sk_json_num_any(tg, "HealthCheckTimeoutSeconds", 5);
        if (t > hc)
            hc = t;
        jv_free(tg);
    }
    if (svc->maximum_percent <= 100)
        drain = 300;
    w->st.settings_s = grace + 2 * hc + 60 + drain;
    snprintf(w->st.rule, sizeof(w->st.rule), "grace %.0fs + 2 x health check %.0fs + 60s%s", grace, hc,
             drain > 0 ? " + deregistration 300s" : "");
    w->st.ready = 1;
}

/* The period in real seconds: the settings' part (scaled, as the simulator's clock is in tests) plus
 * twice the longest start seen (a minute, scaled, until one has started). */
static void stall_period(struct sk_deploy_watch *w)
{
    double start = w->st.start_s > 0 ? w->st.start_s : 60 * w->scale;

    w->st.period = w->st.settings_s * w->scale + 2 * start;
}

static int seen_healthy(struct sk_deploy_stall *st, const char *arn)
{
    size_t i;

    for (i = 0; i < st->nseen; i++)
        if (strcmp(st->seen[i], arn) == 0)
            return 1;
    st->seen = xrealloc(st->seen, (st->nseen + 1) * sizeof(*st->seen));
    st->seen[st->nseen++] = xstrdup(arn);
    return 0;
}

/* Count, per task, the target groups of the service it is healthy in (groups[] has n entries). */
static int healthy_groups(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const struct sk_ecs_task *tasks,
                          size_t n, int *groups, struct sk_err *err)
{
    size_t i, j;

    for (i = 0; i < svc->nload_balancers; i++) {
        const struct sk_ecs_load_balancer *lb = &svc->load_balancers[i];
        struct sk_elbv2_target *targets = xcalloc(n + 1, sizeof(*targets));
        size_t nt = lb_targets(lb, tasks, n, targets);
        jv descs = jv_invalid();
        int k, m;
        w->calls += lb->target_group_arn && nt ? 1 : 0;
        if (lb->target_group_arn && nt &&
            sk_elbv2_describe_target_health(w->c, lb->target_group_arn, targets, nt, &descs, err) < 0) {
            free(targets);
            return -1;
        }
        free(targets);
        m = jv_get_kind(descs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(descs)) : 0;
        for (k = 0; k < m; k++) {
            jv d = jv_array_get(jv_copy(descs), k);
            const char *id, *state, *reason, *desc;
            target_state(d, &id, &state, &reason, &desc);
            for (j = 0; id && state && strcmp(state, "healthy") == 0 && j < n; j++)
                groups[j] += tasks[j].ip && strcmp(tasks[j].ip, id) == 0;
            jv_free(d);
        }
        jv_free(descs);
    }
    return 0;
}

/* Look at tasks (RUNNING, of the deployment): note how long they took to start, and count those that
 * are healthy (every target in the service's target groups healthy; without target groups, RUNNING
 * and not UNHEALTHY by its container health check). A task seen healthy for the first time is
 * progress. */
static int note_healthy(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const struct sk_ecs_task *tasks,
                        size_t n, double now, struct sk_err *err)
{
    int *groups = xcalloc(n + 1, sizeof(*groups));
    size_t j;

    w->st.healthy_now = 0;
    for (j = 0; j < n; j++)
        if (tasks[j].has_created_at && tasks[j].has_started_at &&
            tasks[j].started_at - tasks[j].created_at > w->st.start_s)
            w->st.start_s = tasks[j].started_at - tasks[j].created_at;
    if (healthy_groups(w, svc, tasks, n, groups, err) < 0) {
        free(groups);
        return -1;
    }
    for (j = 0; j < n; j++) {
        int ok = str_is(tasks[j].last_status, "RUNNING");
        if (svc->nload_balancers > 0)
            ok = ok && tasks[j].ip && groups[j] >= (int)svc->nload_balancers;
        else
            ok = ok && strcmp(or (tasks[j].health_status, "UNKNOWN"), "UNHEALTHY") != 0;
        w->st.healthy_now += ok;
        if (ok && tasks[j].arn && !seen_healthy(&w->st, tasks[j].arn)) {
            w->st.healthy++;
            w->st.since = now;
        }
    }
    free(groups);
    return 0;
}

/* A look at the deployment's tasks: progress noted; -1 when it could not be made. */
static int look(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id, double now)
{
    struct sk_ecs_task *tasks = NULL;
    size_t n = 0;
    struct sk_err e;
    int rc;

    sk_err_clear(&e);
    if (sk_ecs_deployment_tasks(w->c, w->cluster, w->service, "RUNNING", dep_id, &tasks, &n, &w->calls, &e) < 0)
        return -1;
    rc = note_healthy(w, svc, tasks, n, now, &e);
    sk_ecs_tasks_free(tasks, n);
    return rc;
}

int sk_deploy_stalled(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id, double now,
                      struct sk_deploy_outcome *oc)
{
    const struct sk_ecs_deployment *dep = sk_ecs_find_deployment(svc, dep_id, NULL);
    long running = dep ? count_or(dep->running_count, 0) : 0, desired = dep ? count_or(dep->desired_count, 0) : 0;

    if (!w->st.ready) {
        stall_settings(w, svc);
        w->st.since = now;
        stall_period(w);
    }
    if (!(now - w->st.since >= w->st.period || (running > w->st.healthy && now - w->st.last_check >= w->st.period / 6)))
        return 0;
    w->st.last_check = now;
    if (look(w, svc, dep_id, now) < 0)
        return 0;
    /* All its tasks healthy: what is left is ECS's (old tasks draining), not a stall. */
    if (w->st.healthy_now > 0 && w->st.healthy_now >= desired)
        w->st.since = now;
    stall_period(w);
    if (now - w->st.since < w->st.period)
        return 0;
    snprintf(oc->reason, sizeof(oc->reason),
             "no progress for %.0fs: no new task of deployment %s became RUNNING and healthy, and ECS gave no "
             "verdict (stall period %.0fs: %s, 2 x start %.0fs)",
             now - w->st.since, dep_id, w->st.period, w->st.rule, w->st.start_s > 0 ? w->st.start_s : 60 * w->scale);
    oc->v = SK_DEPLOY_STALLED;
    return 1;
}

/* ---- why it failed ------------------------------------------------------------------------------------ */

int sk_deploy_task_ran(const struct sk_ecs_task *t)
{
    size_t i;

    for (i = 0; i < t->ncontainers; i++)
        if (t->containers[i].has_exit_code || t->containers[i].runtime_id)
            return 1;
    return 0;
}

/* Keep e (taken over) unless an explanation with its reason is there already. */
static void why_add(struct sk_deploy_failure *f, struct sk_explain *e, int tasks)
{
    int i;

    for (i = 0; i < f->nwhy; i++)
        if (strcmp(f->why[i].reason, e->reason) == 0) {
            f->why_tasks[i] += tasks;
            sk_explain_release(e);
            return;
        }
    if (f->nwhy == SK_DEPLOY_MAX_WHY) {
        sk_explain_release(e);
        return;
    }
    f->why[f->nwhy] = *e;
    f->why_tasks[f->nwhy++] = tasks;
    sk_explain_init(e);
}

/* Placement failures leave no task, only events: those since the deployment began (none when the
 * service no longer shows it), unless a stopped task told the same kind already. */
static void why_from_events(struct sk_deploy_failure *f, const struct sk_ecs_service *svc, const char *dep_id)
{
    const struct sk_ecs_deployment *dep = sk_ecs_find_deployment(svc, dep_id, NULL);
    struct sk_explain ev[4];
    size_t k, nev;
    int i;

    nev = dep && dep->has_created_at ? sk_explain_events(svc->events, svc->nevents, dep->created_at, ev, 4) : 0;
    for (k = 0; k < nev; k++) {
        int told = 0;
        for (i = 0; i < f->nwhy && !told; i++)
            told = f->why[i].kind == ev[k].kind && f->why_tasks[i] > 0;
        if (told)
            sk_explain_release(&ev[k]);
        else
            why_add(f, &ev[k], 0);
    }
}

int sk_deploy_explain(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id,
                      struct sk_deploy_failure *f, struct sk_err *err)
{
    struct sk_explain e;
    size_t i;
    int pass, rc = 0;

    memset(f, 0, sizeof(*f));
    sk_explain_init(&e);
    if (sk_ecs_deployment_tasks(w->c, w->cluster, w->service, "STOPPED", dep_id, &f->tasks, &f->ntasks, &w->calls,
                                err) < 0)
        rc = -1;
    for (i = 0; i < f->ntasks; i++) {
        sk_explain_task(&f->tasks[i], &e);
        if (e.kind != SK_EXPLAIN_NONE)
            why_add(f, &e, 1);
        sk_explain_release(&e);
    }
    why_from_events(f, svc, dep_id);
    /* The first tasks that failed (then any) are the ones to show. */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < f->ntasks && f->nshown < SK_DEPLOY_MAX_SHOWN; i++) {
            sk_explain_task(&f->tasks[i], &e);
            if ((pass == 0) == (e.failure != 0))
                f->shown[f->nshown++] = i;
            sk_explain_release(&e);
        }
    return rc;
}

void sk_deploy_failure_release(struct sk_deploy_failure *f)
{
    int i;

    for (i = 0; i < f->nwhy; i++)
        sk_explain_release(&f->why[i]);
    sk_ecs_tasks_free(f->tasks, f->ntasks);
    memset(f, 0, sizeof(*f));
}

/* ---- what is said about a stopped task ----------------------------------------------------------- */

struct lines {
    char **v;
    size_t n, cap;
};

static void line_add(struct lines *ls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(struct lines *ls, const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 16;
        ls->v = xrealloc(ls->v, ls->cap * sizeof(*ls->v));
    }
    ls->v[ls->n++] = sk_buf_detach(&b, NULL);
}

static const char *or_str(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

/* The last log lines of container of task task_id, from its awslogs settings in logs[]. */
static void log_tail(struct sk_logs *l, const struct sk_ecs_log_config *logs, size_t nlogs, const char *task_id,
                     const char *container, int limit, struct lines *ls, int *calls)
{
    size_t i, k, n;

    for (i = 0; i < nlogs; i++) {
        const struct sk_ecs_log_config *lc = &logs[i];
        struct sk_client *used;
        struct sk_err e;
        char **got, *stream;
        if (!lc->container || strcmp(lc->container, container) != 0 || !lc->driver ||
            strcmp(lc->driver, "awslogs") != 0 || !lc->group || !lc->stream_prefix)
            continue;
        sk_err_clear(&e);
        if (calls)
            (*calls)++;
        if (sk_logs_last_lines(l, lc, task_id, limit, &got, &n, &used, &e) < 0) {
            line_add(ls, "    (no log lines: %s)", e.msg);
            continue;
        }
        stream = sk_logs_stream(lc, task_id);
        if (n)
            line_add(ls, "    last log lines (%s %s%s%s):", lc->group, stream, used != l->home ? " in " : "",
                     used != l->home ? used->region : "");
        for (k = 0; k < n; k++)
            line_add(ls, "      %s", got[k]);
        free(stream);
        sk_logs_lines_free(got, n);
    }
}

void sk_deploy_task_lines(struct sk_logs *l, const struct sk_ecs_task *t, const struct sk_ecs_log_config *logs,
                          size_t nlogs, int limit, char ***lines, size_t *n, int *calls)
{
    const char *id = sk_ecs_task_id(or_str(t->arn, "?"));
    struct lines ls = { NULL, 0, 0 };
    int ran = sk_deploy_task_ran(t);
    size_t j;

    line_add(&ls, "stopped task %s: %s: %s", id, or_str(t->stop_code, "?"),
             or_str(t->stopped_reason, "no reason given"));
    for (j = 0; j < t->ncontainers; j++) {
        const struct sk_ecs_container *ct = &t->containers[j];
        if (ct->has_exit_code)
            line_add(&ls, "  container %s exited with code %.0f%s%s", or_str(ct->name, "?"), ct->exit_code,
                     ct->reason ? ": " : "", or_str(ct->reason, ""));
        else if (ct->reason && strcmp(ct->reason, or_str(t->stopped_reason, "")))
            line_add(&ls, "  container %s: %s", or_str(ct->name, "?"), ct->reason);
        if (ran && ct->name)
            log_tail(l, logs, nlogs, id, ct->name, limit, &ls, calls);
    }
    if (!ran)
        line_add(&ls, "  no container ran (no exit code, no log lines)");
    *lines = ls.v;
    *n = ls.n;
}

/* ---- --keep-revisions ---------------------------------------------------------------------------- */

static int newest_first(const void *a, const void *b)
{
    long x = sk_ecs_td_revision(*(const char *const *)a), y = sk_ecs_td_revision(*(const char *const *)b);

    return x < y ? 1 : x > y ? -1 : 0;
}

/* The same revision of the same family (an ARN and FAMILY:REV name the same one). */
static int same_td(const char *a, const char *b)
{
    char fa[256], fb[256];

    if (!a || !b || sk_ecs_td_revision(a) != sk_ecs_td_revision(b))
        return 0;
    sk_ecs_td_family(a, fa, sizeof(fa));
    sk_ecs_td_family(b, fb, sizeof(fb));
    return strcmp(fa, fb) == 0;
}

static int in_use(const char *arn, const struct sk_ecs_service *svc, const char *const *protect, size_t nprotect)
{
    size_t i;

    if (svc && same_td(arn, svc->task_definition))
        return 1;
    for (i = 0; svc && i < svc->ndeployments; i++)
        if (same_td(arn, svc->deployments[i].task_definition))
            return 1;
    for (i = 0; i < nprotect; i++)
        if (same_td(arn, protect[i]))
            return 1;
    return 0;
}

jv sk_deploy_prune(jv arns, long keep, const struct sk_ecs_service *svc, const char *const *protect, size_t nprotect)
{
    jv out = jv_array();
    const char **v;
    int i, n = jv_get_kind(arns) == JV_KIND_ARRAY ? jv_array_length(jv_copy(arns)) : 0, m = 0;

    if (n == 0)
        return out;
    v = xcalloc((size_t)n, sizeof(*v));
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(arns), i);
        const char *s = jv_get_kind(a) == JV_KIND_STRING ? jv_string_value(a) : NULL;
        jv_free(a); /* arns holds the string: s stays valid while it lives */
        if (s && sk_ecs_td_revision(s) > 0)
            v[m++] = s;
    }
    qsort(v, (size_t)m, sizeof(*v), newest_first);
    for (i = keep < 1 ? 1 : (int)(keep < m ? keep : m); i < m; i++)
        if (!in_use(v[i], svc, protect, nprotect))
            out = jv_array_append(out, jv_string(v[i]));
    free(v);
    return out;
}

/* ---- --status: target health ---------------------------------------------------------------------- */

static jv health_json(jv descs)
{
    jv out = jv_array();
    int i, n = jv_get_kind(descs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(descs)) : 0;

    for (i = 0; i < n; i++) {
        jv d = jv_array_get(jv_copy(descs), i), t = sk_json_get(d, "Target"), h = sk_json_get(d, "TargetHealth");
        jv o = jv_object();
        double port = 0;
        const char *id = sk_json_str(t, "Id"), *state = sk_json_str(h, "State"), *reason = sk_json_str(h, "Reason"),
                   *desc = sk_json_str(h, "Description");
        o = jv_object_set(o, jv_string("id"), id ? jv_string(id) : jv_null());
        o = jv_object_set(o, jv_string("port"), sk_json_num(t, "Port", &port) == 0 ? jv_number(port) : jv_null());
        o = jv_object_set(o, jv_string("state"), state ? jv_string(state) : jv_null());
        if (reason)
            o = jv_object_set(o, jv_string("reason"), jv_string(reason));
        if (desc)
            o = jv_object_set(o, jv_string("description"), jv_string(desc));
        out = jv_array_append(out, o);
        jv_free(t);
        jv_free(h);
        jv_free(d);
    }
    return out;
}

jv sk_deploy_target_health(struct sk_client *c, const struct sk_ecs_service *svc)
{
    jv out = jv_array();
    size_t i, j;

    for (i = 0; i < svc->nload_balancers; i++) {
        const char *arn = svc->load_balancers[i].target_group_arn;
        jv descs, o;
        struct sk_err err;
        int dup = 0;
        if (!arn)
            continue;
        for (j = 0; j < i; j++)
            dup = dup || (svc->load_balancers[j].target_group_arn &&
                          strcmp(svc->load_balancers[j].target_group_arn, arn) == 0);
        if (dup)
            continue;
        sk_err_clear(&err);
        o = jv_object_set(jv_object(), jv_string("targetGroupArn"), jv_string(arn));
        if (sk_elbv2_describe_target_health(c, arn, NULL, 0, &descs, &err) < 0) {
            o = jv_object_set(o, jv_string("error"), jv_string(err.msg));
        } else {
            o = jv_object_set(o, jv_string("targets"), health_json(descs));
            jv_free(descs);
        }
        out = jv_array_append(out, o);
    }
    return out;
}
