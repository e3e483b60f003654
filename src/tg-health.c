/*
 * tg-health - show, judge and wait for the health of the targets of an ELBv2 target group: named by
 * ARN, by name, or as the target groups of an ECS service, whose current tasks are the targets judged.
 *
 * Judging (target states:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html): an empty set of
 * judged targets is never healthy ("not registered yet"); initial, draining, unused and unavailable mean "keep
 * waiting"; unhealthy fails fast once the grace period is over. Unlike the botocore TargetInService waiter,
 * InvalidTarget is an error, not a retry, and old tasks draining out of an ECS service's target group do not block.
 */
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/config.h"
#include "svc/ecs.h"
#include "svc/elbv2.h"
#include "core/json.h"
#include "core/mem.h"
#include "aws/pace.h"
#include "tool.h"

static const char usage_text[] =
    "usage: tg-health (TARGET_GROUP_ARN | --name NAME | --service CLUSTER/SERVICE) [--target ID[:PORT]]...\n"
    "                 [--wait] [--timeout DURATION] [--grace DURATION] [OPTIONS]\n";

static const char help_text[] =
    "\n"
    "Show the health of a target group's targets and judge it: exit 0 when every judged target is\n"
    "healthy, 1 when not (no targets at all is not healthy).\n"
    "\n"
    "  TARGET_GROUP_ARN          the target group; every registered target is judged\n"
    "  --name NAME               the target group named NAME\n"
    "  --service CLUSTER/SERVICE the target groups of an ECS service; only the targets of its current\n"
    "                            tasks (RUNNING, of the PRIMARY deployment) are judged\n"
    "  --target ID[:PORT]        ask for and judge only this target (repeatable; [IPv6]:PORT)\n"
    "  --wait                    poll until every judged target is healthy (exit 0), one turns\n"
    "                            unhealthy after the grace period (exit 1), or the timeout (exit 6)\n"
    "  --timeout DURATION        how long --wait waits (default 10m; 90s, 15m, 1h30m)\n"
    "  --grace DURATION          unhealthy is tolerated this long after the start (default 0s)\n"
    "\n";

#define DEFAULT_TIMEOUT 600
#define MAX_TARGETS 100
/* Each poll waits 2.5 to 4 s (times SK_POLL_SCALE). */
#define POLL_MIN_S 2.5
#define POLL_MAX_S 4.0

enum { OPT_GRACE = OPT_TOOL_BASE, OPT_NAME, OPT_SERVICE, OPT_TARGET, OPT_TIMEOUT, OPT_WAIT };

enum verdict { V_HEALTHY, V_WAITING, V_UNHEALTHY };
static const char *const verdict_names[] = { "healthy", "waiting", "unhealthy" };

struct opts {
    struct common_opts c;
    const char *arn, *name;
    char *cluster, *service; /* --service, split */
    struct sk_elbv2_target targets[MAX_TARGETS];
    char *target_ids[MAX_TARGETS]; /* owned copies the targets point into */
    size_t ntargets;
    int wait;
    long timeout, grace; /* seconds */
    int have_timeout, have_grace;
};

static void opts_release(struct opts *o)
{
    size_t i;

    free(o->cluster);
    free(o->service);
    for (i = 0; i < o->ntargets; i++)
        free(o->target_ids[i]);
}

/* "ID", "ID:PORT" or "[IPv6]:PORT". A port is split off only when ID has no other colon, so IPv6
 * addresses and Lambda ARNs stay whole. */
static void parse_target(struct opts *o, const char *arg)
{
    const char *colon = strrchr(arg, ':'), *id = arg;
    size_t idlen = strlen(arg);
    long port = 0;

    if (o->ntargets == MAX_TARGETS)
        tool_usage("at most %d --target options", MAX_TARGETS);
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close == arg + 1 || (close[1] && close[1] != ':'))
            tool_usage("--target needs ID, ID:PORT or [IPv6]:PORT, not '%s'", arg);
        id = arg + 1;
        idlen = (size_t)(close - id);
        colon = close[1] ? close + 1 : NULL;
    } else if (colon && strchr(arg, ':') != colon) {
        colon = NULL; /* IPv6 address or ARN: no port */
    } else if (colon) {
        idlen = (size_t)(colon - arg);
    }
    if (colon && tool_parse_long(colon + 1, 1, 65535, &port) < 0)
        tool_usage("--target port must be 1 to 65535, not '%s'", colon + 1);
    if (idlen == 0)
        tool_usage("--target needs ID, ID:PORT or [IPv6]:PORT, not '%s'", arg);
    o->target_ids[o->ntargets] = xstrndup(id, idlen);
    o->targets[o->ntargets].id = o->target_ids[o->ntargets];
    o->targets[o->ntargets].port = port;
    o->ntargets++;
}

/* Like tool_parse_duration, but "0", "0s", "0m"... mean zero. */
static int parse_duration0(const char *s, long *seconds)
{
    if (s[0] == '0' && strspn(s, "0hms") == strlen(s)) {
        *seconds = 0;
        return 0;
    }
    return tool_parse_duration(s, seconds);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "grace", required_argument, NULL, OPT_GRACE },
        { "name", required_argument, NULL, OPT_NAME },
        { "service", required_argument, NULL, OPT_SERVICE },
        { "target", required_argument, NULL, OPT_TARGET },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "wait", no_argument, NULL, OPT_WAIT },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    const char *service = NULL, *slash;
    int opt, sources;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    o->timeout = DEFAULT_TIMEOUT;
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS, longopts);
    while ((opt = getopt_long(argc, argv, ":" COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        switch (opt) {
        case OPT_GRACE:
            if (parse_duration0(optarg, &o->grace) < 0)
                tool_usage("--grace needs a duration such as 0s, 30s, 2m, not '%s'", optarg);
            o->have_grace = 1;
            break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_SERVICE: service = optarg; break;
        case OPT_TARGET: parse_target(o, optarg); break;
        case OPT_TIMEOUT:
            if (tool_parse_duration(optarg, &o->timeout) < 0)
                tool_usage("--timeout needs a duration such as 90s, 15m, 1h (at most 7 days), not '%s'", optarg);
            o->have_timeout = 1;
            break;
        case OPT_WAIT: o->wait = 1; break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (optind < argc)
        o->arn = argv[optind++];
    if (optind < argc)
        tool_usage("unexpected argument '%s' (one TARGET_GROUP_ARN)", argv[optind]);
    sources = (o->arn != NULL) + (o->name != NULL) + (service != NULL);
    if (sources == 0)
        tool_usage("missing TARGET_GROUP_ARN, --name NAME or --service CLUSTER/SERVICE");
    if (sources > 1)
        tool_usage("give one of TARGET_GROUP_ARN, --name NAME and --service CLUSTER/SERVICE");
    if (o->arn && (strncmp(o->arn, "arn:", 4) != 0 || !strstr(o->arn, ":targetgroup/")))
        tool_usage("'%s' is not a target group ARN (arn:...:targetgroup/NAME/ID); for a name use --name", o->arn);
    if (o->name && !o->name[0])
        tool_usage("--name needs a target group name");
    if (service) {
        /* The last '/' splits: a cluster ARN (…:cluster/NAME) has one of its own, a service name none. */
        slash = strrchr(service, '/');
        if (!slash || slash == service || !slash[1])
            tool_usage("--service needs CLUSTER/SERVICE, not '%s'", service);
        o->cluster = xstrndup(service, (size_t)(slash - service));
        o->service = xstrdup(slash + 1);
        if (o->ntargets)
            tool_usage("--target cannot be combined with --service (its current tasks are the targets)");
    }
    if ((o->have_timeout || o->have_grace) && !o->wait)
        tool_usage("--timeout and --grace apply only with --wait");
}

/* ---- one look at the targets -------------------------------------------------------------- */

static jv str_or_null(const char *s)
{
    return s ? jv_string(s) : jv_null();
}

/* The output object of one target's health. */
static jv target_row(const struct sk_elbv2_target_health *th)
{
    jv row = jv_object();

    row = jv_object_set(row, jv_string("id"), str_or_null(th->id));
    row = jv_object_set(row, jv_string("port"), th->port > 0 ? jv_number((double)th->port) : jv_null());
    row = jv_object_set(row, jv_string("zone"), str_or_null(th->zone));
    row = jv_object_set(row, jv_string("state"), str_or_null(th->state));
    row = jv_object_set(row, jv_string("reason"), str_or_null(th->reason));
    row = jv_object_set(row, jv_string("description"), str_or_null(th->description));
    return row;
}

static jv group_object(const char *arn, jv targets)
{
    jv g = jv_object_set(jv_object(), jv_string("arn"), jv_string(arn));
    return jv_object_set(g, jv_string("targets"), targets);
}

/* DescribeTargetHealth of one target group as output rows, all judged. */
static int look_target_group(struct sk_client *c, const struct opts *o, const char *arn, jv *group, struct sk_err *err)
{
    struct sk_elbv2_health h;
    jv rows = jv_array();
    size_t i;

    if (sk_elbv2_target_health_get(c, arn, o->targets, o->ntargets, &h, err) < 0) {
        jv_free(rows);
        if (strcmp(err->aws_code, "TargetGroupNotFound") == 0)
            return sk_errf(err, SK_E_AWS, "target group '%s' not found", arn);
        if (strcmp(err->aws_code, "InvalidTarget") == 0)
            return sk_err_prefix(err, "--target refused (a target must exist, be of the target group's type and "
                                      "be in its VPC)");
        return -1;
    }
    for (i = 0; i < h.n; i++)
        rows = jv_array_append(rows, jv_object_set(target_row(&h.v[i]), jv_string("judged"), jv_true()));
    sk_elbv2_health_release(&h);
    *group = group_object(arn, rows);
    return 0;
}

/* The service's tasks: [{"id","ip"|null,"current":bool}], and how many are current. */
static int service_tasks(struct sk_client *c, const struct opts *o, const char *primary_id, jv *out, int *ncurrent,
                         struct sk_err *err)
{
    jv arns, tasks, list = jv_array();
    int i, n;

    *ncurrent = 0;
    if (sk_ecs_list_tasks(c, o->cluster, o->service, "RUNNING", NULL, &arns, err) < 0) {
        jv_free(list);
        return -1;
    }
    if (jv_array_length(jv_copy(arns)) == 0) {
        jv_free(arns);
        *out = list;
        return 0;
    }
    if (sk_ecs_describe_tasks(c, o->cluster, arns, &tasks, err) < 0) {
        jv_free(arns);
        jv_free(list);
        return -1;
    }
    jv_free(arns);
    n = jv_array_length(jv_copy(tasks));
    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(tasks), i), info;
        const char *arn = sk_json_str(t, "taskArn"), *desired = sk_json_str(t, "desiredStatus");
        const char *by = sk_json_str(t, "startedBy");
        int current;
        if (!arn || (desired && strcmp(desired, "RUNNING") != 0)) {
            jv_free(t);
            continue;
        }
        /* The PRIMARY deployment's tasks carry its id in startedBy; without one, every task counts. */
        current = !by || !primary_id || strcmp(by, primary_id) == 0;
        *ncurrent += current;
        info = jv_object_set(jv_object(), jv_string("id"), jv_string(sk_ecs_task_id(arn)));
        info = jv_object_set(info, jv_string("ip"), str_or_null(sk_ecs_task_ip(t)));
        info = jv_object_set(info, jv_string("current"), jv_bool(current));
        list = jv_array_append(list, info);
        jv_free(t);
    }
    jv_free(tasks);
    *out = list;
    return 0;
}

/* One target group of the service: every registered target, each matched to a task by IP (and the
 * container port); the targets of current tasks are judged, and a current task with no target yet
 * gets a row of its own ("not registered yet"), so it too must turn healthy. */
static int look_service_group(struct sk_client *c, const struct opts *o, const char *arn, double cport, jv tasks,
                              jv *group, struct sk_err *err)
{
    struct sk_elbv2_health h;
    jv rows = jv_array();
    size_t i;
    int j, nt = jv_array_length(jv_copy(tasks));
    char *seen = xcalloc((size_t)nt + 1, 1);

    if (sk_elbv2_target_health_get(c, arn, NULL, 0, &h, err) < 0) {
        free(seen);
        jv_free(rows);
        if (strcmp(err->aws_code, "TargetGroupNotFound") == 0)
            return sk_errf(err, SK_E_AWS, "target group '%s' of service '%s/%s' not found", arn, o->cluster,
                           o->service);
        return -1;
    }
    for (i = 0; i < h.n; i++) {
        const struct sk_elbv2_target_health *th = &h.v[i];
        jv row = target_row(th);
        int judged = 0;
        for (j = 0; j < nt && th->id; j++) {
            jv t = jv_array_get(jv_copy(tasks), j);
            const char *ip = sk_json_str(t, "ip");
            if (ip && strcmp(ip, th->id) == 0 && (th->port <= 0 || cport <= 0 || (double)th->port == cport)) {
                jv cur = sk_json_get(t, "current");
                judged = jv_get_kind(cur) == JV_KIND_TRUE;
                jv_free(cur);
                seen[j] = 1;
                row = jv_object_set(row, jv_string("task"), jv_string(sk_json_str(t, "id")));
                jv_free(t);
                break;
            }
            jv_free(t);
        }
        rows = jv_array_append(rows, jv_object_set(row, jv_string("judged"), jv_bool(judged)));
    }
    sk_elbv2_health_release(&h);
    for (j = 0; j < nt; j++) {
        jv t = jv_array_get(jv_copy(tasks), j), cur = sk_json_get(t, "current"), row;
        const char *ip = sk_json_str(t, "ip");
        if (!seen[j] && jv_get_kind(cur) == JV_KIND_TRUE) {
            row = jv_object_set(jv_object(), jv_string("id"), str_or_null(ip));
            row = jv_object_set(row, jv_string("port"), cport > 0 ? jv_number(cport) : jv_null());
            row = jv_object_set(row, jv_string("zone"), jv_null());
            row = jv_object_set(row, jv_string("state"), jv_string("unused"));
            row = jv_object_set(row, jv_string("reason"), jv_string("Target.NotRegistered"));
            row = jv_object_set(
                row, jv_string("description"),
                jv_string(ip ? "task is not registered in the target group yet" : "task has no IP address yet"));
            row = jv_object_set(row, jv_string("task"), jv_string(sk_json_str(t, "id")));
            rows = jv_array_append(rows, jv_object_set(row, jv_string("judged"), jv_true()));
        }
        jv_free(cur);
        jv_free(t);
    }
    free(seen);
    *group = group_object(arn, rows);
    return 0;
}

/* Results of one look that are not in the output object. */
struct look {
    int no_groups;          /* --service: the service has no target groups */
    char service_why[256];  /* --service: why the service cannot turn healthy, or "" */
    long desired, ncurrent; /* --service: PRIMARY deployment's desired count, current tasks */
};

static int look_service(struct sk_client *c, const struct opts *o, jv *groups, jv *svcinfo, struct look *lk,
                        struct sk_err *err)
{
    jv svc, lbs, deps, tasks = jv_invalid(), out = jv_array();
    const char *status, *primary_id = NULL;
    double desired = 0;
    int i, n, ncurrent = 0, rc = -1;

    if (sk_ecs_describe_service(c, o->cluster, o->service, &svc, err) < 0) {
        jv_free(out);
        return -1;
    }
    lbs = sk_json_get(svc, "loadBalancers");
    deps = sk_json_get(svc, "deployments");
    status = sk_json_str(svc, "status");
    if (status && strcmp(status, "ACTIVE") != 0)
        snprintf(lk->service_why, sizeof(lk->service_why), "service '%s/%s' is %s", o->cluster, o->service, status);
    sk_json_num(svc, "desiredCount", &desired);
    n = jv_get_kind(deps) == JV_KIND_ARRAY ? jv_array_length(jv_copy(deps)) : 0;
    for (i = 0; i < n && !primary_id; i++) {
        jv d = jv_array_get(jv_copy(deps), i);
        const char *st = sk_json_str(d, "status");
        if (st && strcmp(st, "PRIMARY") == 0) {
            primary_id = sk_json_str(d, "id"); /* borrowed from svc */
            sk_json_num(d, "desiredCount", &desired);
        }
        jv_free(d);
    }
    n = jv_get_kind(lbs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(lbs)) : 0;
    for (i = 0; i < n; i++) {
        jv lb = jv_array_get(jv_copy(lbs), i);
        int has_tg = sk_json_str(lb, "targetGroupArn") != NULL;
        jv_free(lb);
        if (has_tg)
            break;
    }
    if (i == n) {
        lk->no_groups = 1;
        rc = 0;
        goto out;
    }
    if (service_tasks(c, o, primary_id, &tasks, &ncurrent, err) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        jv lb = jv_array_get(jv_copy(lbs), i), g;
        const char *arn = sk_json_str(lb, "targetGroupArn");
        double cport = 0;
        sk_json_num(lb, "containerPort", &cport);
        if (arn && look_service_group(c, o, arn, cport, tasks, &g, err) < 0) {
            jv_free(lb);
            goto out;
        }
        if (arn)
            out = jv_array_append(out, g);
        jv_free(lb);
    }
    lk->desired = (long)desired;
    lk->ncurrent = ncurrent;
    {
        jv info = jv_object_set(jv_object(), jv_string("cluster"), jv_string(o->cluster));
        info = jv_object_set(info, jv_string("service"), jv_string(o->service));
        info = jv_object_set(info, jv_string("deployment"), str_or_null(primary_id));
        info = jv_object_set(info, jv_string("desiredCount"), jv_number(desired));
        info = jv_object_set(info, jv_string("currentTasks"), jv_number(ncurrent));
        {
            double grace = 0;
            info = jv_object_set(info, jv_string("healthCheckGracePeriodSeconds"),
                                 sk_json_num(svc, "healthCheckGracePeriodSeconds", &grace) == 0 ? jv_number(grace)
                                                                                                : jv_number(0));
        }
        *svcinfo = info;
    }
    *groups = out;
    out = jv_invalid();
    rc = 0;
out:
    jv_free(out);
    jv_free(tasks);
    jv_free(lbs);
    jv_free(deps);
    jv_free(svc);
    return rc;
}

/* One look: *result = {"targetGroups": [...], ["service": {...}]} without the verdict yet. */
static int look(struct sk_client *c, const struct opts *o, const char *arn, jv *result, struct look *lk,
                struct sk_err *err)
{
    jv groups = jv_invalid(), svcinfo = jv_invalid(), g;

    memset(lk, 0, sizeof(*lk));
    if (o->service) {
        if (look_service(c, o, &groups, &svcinfo, lk, err) < 0)
            return -1;
        if (lk->no_groups)
            return 0;
    } else {
        if (look_target_group(c, o, arn, &g, err) < 0)
            return -1;
        groups = jv_array_append(jv_array(), g);
    }
    *result = jv_object_set(jv_object(), jv_string("targetGroups"), groups);
    if (jv_is_valid(svcinfo))
        *result = jv_object_set(*result, jv_string("service"), svcinfo);
    else
        jv_free(svcinfo);
    return 0;
}

/* ---- the health-check settings, and what each reason code says about them ---------------------- */

#define MAX_GROUPS 16

/* The settings of the target groups seen, read once a run (DescribeTargetGroups and its attributes). */
struct settings {
    struct sk_elbv2_target_group tg[MAX_GROUPS];
    int ok[MAX_GROUPS]; /* 1: read; -1: could not be read */
    size_t n;
};

static const struct sk_elbv2_target_group *settings_of(struct sk_client *c, struct settings *st, const char *arn)
{
    struct sk_err err;
    size_t i;

    for (i = 0; i < st->n; i++)
        if (st->tg[i].arn && strcmp(st->tg[i].arn, arn) == 0)
            return st->ok[i] > 0 ? &st->tg[i] : NULL;
    if (st->n == MAX_GROUPS)
        return NULL;
    i = st->n++;
    sk_err_clear(&err);
    if (sk_elbv2_target_group_get(c, arn, &st->tg[i], &err) < 0) {
        st->tg[i].arn = xstrdup(arn);
        st->ok[i] = -1;
        return NULL;
    }
    st->ok[i] = 1;
    sk_err_clear(&err);
    (void)sk_elbv2_target_group_attrs(c, &st->tg[i], &err); /* the delay stays unknown (-1) if refused */
    return &st->tg[i];
}

static void settings_release(struct settings *st)
{
    size_t i;

    for (i = 0; i < st->n; i++)
        sk_elbv2_target_group_release(&st->tg[i]);
    st->n = 0;
}

static jv num_or_null(long v, long unknown)
{
    return v == unknown ? jv_null() : jv_number((double)v);
}

static jv health_check_json(const struct sk_elbv2_target_group *tg, long grace)
{
    struct sk_buf notes = SK_BUF_INIT;
    jv o = jv_object(), arr = jv_array();
    char *line, *save = NULL;

    o = jv_object_set(o, jv_string("protocol"), str_or_null(tg->hc_protocol));
    o = jv_object_set(o, jv_string("port"), str_or_null(tg->hc_port));
    o = jv_object_set(o, jv_string("path"), str_or_null(tg->hc_path));
    o = jv_object_set(o, jv_string("matcher"), str_or_null(tg->matcher));
    o = jv_object_set(o, jv_string("intervalSeconds"), jv_number((double)tg->hc_interval_s));
    o = jv_object_set(o, jv_string("timeoutSeconds"), jv_number((double)tg->hc_timeout_s));
    o = jv_object_set(o, jv_string("healthyThreshold"), jv_number((double)tg->healthy_threshold));
    o = jv_object_set(o, jv_string("unhealthyThreshold"), jv_number((double)tg->unhealthy_threshold));
    o = jv_object_set(o, jv_string("deregistrationDelaySeconds"), num_or_null(tg->dereg_delay_s, -1));
    o = jv_object_set(o, jv_string("earliestHealthySeconds"), jv_number((double)sk_elbv2_earliest_healthy_s(tg)));
    sk_elbv2_notes(tg, grace, &notes);
    for (line = notes.len ? strtok_r(notes.p, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
        arr = jv_array_append(arr, jv_string(line));
    sk_buf_release(&notes);
    return jv_object_set(o, jv_string("notes"), arr);
}

/* Each target group of result gets "healthCheck" (its settings and notes), each target with a reason
 * code its "diagnosis" (consumes result). */
static jv explain(struct sk_client *c, struct settings *st, jv result)
{
    jv groups = sk_json_get(result, "targetGroups"), svc = sk_json_get(result, "service"), out = jv_array();
    int g, ng = jv_get_kind(groups) == JV_KIND_ARRAY ? jv_array_length(jv_copy(groups)) : 0, i, n;
    double grace = -1;

    if (jv_get_kind(svc) == JV_KIND_OBJECT)
        sk_json_num(svc, "healthCheckGracePeriodSeconds", &grace);
    for (g = 0; g < ng; g++) {
        jv grp = jv_array_get(jv_copy(groups), g), rows = sk_json_get(grp, "targets"), newrows = jv_array();
        const char *arn = sk_json_str(grp, "arn");
        const struct sk_elbv2_target_group *tg = arn ? settings_of(c, st, arn) : NULL;
        n = jv_get_kind(rows) == JV_KIND_ARRAY ? jv_array_length(jv_copy(rows)) : 0;
        for (i = 0; i < n; i++) {
            jv row = jv_array_get(jv_copy(rows), i);
            struct sk_buf d = SK_BUF_INIT;
            if (tg)
                sk_elbv2_diagnose(tg, sk_json_str(row, "reason"), &d);
            if (d.len)
                row = jv_object_set(row, jv_string("diagnosis"), jv_string(d.p));
            sk_buf_release(&d);
            newrows = jv_array_append(newrows, row);
        }
        jv_free(rows);
        grp = jv_object_set(grp, jv_string("targets"), newrows);
        grp = jv_object_set(grp, jv_string("healthCheck"), tg ? health_check_json(tg, (long)grace) : jv_null());
        out = jv_array_append(out, grp);
    }
    jv_free(groups);
    jv_free(svc);
    return jv_object_set(result, jv_string("targetGroups"), out);
}

/* ---- judging ------------------------------------------------------------------------------- */

static int is_unhealthy(const char *state)
{
    /* "unhealthy.draining" too: the target failed its checks and is on its way out. */
    return state && strncmp(state, "unhealthy", 9) == 0;
}

/* "10.0.1.23:8080", "[2001:db8::1]:8080", "i-0abc" into b. */
static void target_name(jv row, struct sk_buf *b)
{
    const char *id = sk_json_str(row, "id");
    double port;

    if (!id)
        id = "-";
    if (strncmp(id, "arn:", 4) == 0 || sk_json_num(row, "port", &port) < 0)
        sk_buf_adds(b, id); /* a Lambda ARN: no port */
    else if (strchr(id, ':'))
        sk_buf_addf(b, "[%s]:%.0f", id, port);
    else
        sk_buf_addf(b, "%s:%.0f", id, port);
}

/* A target for a message: "10.0.1.5:8080 (task abc) unhealthy (Target.Timeout: Request timed out)". */
static void describe_target(jv row, struct sk_buf *b)
{
    const char *task = sk_json_str(row, "task"), *state = sk_json_str(row, "state");
    const char *reason = sk_json_str(row, "reason"), *desc = sk_json_str(row, "description");

    target_name(row, b);
    if (task)
        sk_buf_addf(b, " (task %s)", task);
    sk_buf_addf(b, " %s", state ? state : "unknown");
    if (reason || desc)
        sk_buf_addf(b, " (%s%s%s)", reason ? reason : "", reason && desc ? ": " : "", desc ? desc : "");
}

/* The verdict of one look; why (if not healthy) names what is not healthy: every unhealthy target
 * for V_UNHEALTHY, every target not healthy yet for V_WAITING. general gets the part that is about
 * no target in particular ("no targets registered yet", tasks not started), or stays empty. */
static enum verdict judge(jv result, const struct look *lk, struct sk_buf *why, struct sk_buf *general)
{
    jv groups = sk_json_get(result, "targetGroups");
    int g, ng = jv_array_length(jv_copy(groups)), i, n, judged = 0, unhealthy = 0, waiting = 0;
    struct sk_buf unh = SK_BUF_INIT, wait = SK_BUF_INIT;
    enum verdict v;

    for (g = 0; g < ng; g++) {
        jv grp = jv_array_get(jv_copy(groups), g), rows = sk_json_get(grp, "targets");
        n = jv_array_length(jv_copy(rows));
        for (i = 0; i < n; i++) {
            jv row = jv_array_get(jv_copy(rows), i), j = sk_json_get(row, "judged");
            const char *state = sk_json_str(row, "state");
            if (jv_get_kind(j) == JV_KIND_TRUE) {
                judged++;
                if (is_unhealthy(state)) {
                    sk_buf_adds(&unh, unhealthy++ ? ", " : "");
                    describe_target(row, &unh);
                } else if (!state || strcmp(state, "healthy") != 0) {
                    sk_buf_adds(&wait, waiting++ ? ", " : "");
                    describe_target(row, &wait);
                }
            }
            jv_free(j);
            jv_free(row);
        }
        jv_free(rows);
        jv_free(grp);
    }
    jv_free(groups);
    sk_buf_reset(why);
    sk_buf_reset(general);
    if (lk->service_why[0])
        sk_buf_adds(general, lk->service_why);
    else if (judged == 0)
        sk_buf_adds(general, "no targets registered yet");
    if (lk->ncurrent < lk->desired)
        sk_buf_addf(general, "%s%ld of %ld desired tasks of the PRIMARY deployment started", general->len ? "; " : "",
                    lk->ncurrent, lk->desired);
    if (unhealthy) {
        v = V_UNHEALTHY;
        sk_buf_add(why, unh.p, unh.len);
    } else if (lk->service_why[0]) {
        v = V_WAITING;
        sk_buf_adds(why, lk->service_why);
    } else if (judged == 0) {
        v = V_WAITING;
        sk_buf_adds(why, "no targets registered yet");
    } else if (waiting) {
        v = V_WAITING;
        sk_buf_add(why, wait.p, wait.len);
    } else {
        v = V_HEALTHY;
    }
    if (v != V_UNHEALTHY && lk->ncurrent < lk->desired) {
        if (v == V_HEALTHY)
            v = V_WAITING;
        sk_buf_addf(why, "%s%ld of %ld desired tasks of the PRIMARY deployment started", why->len ? "; " : "",
                    lk->ncurrent, lk->desired);
    }
    sk_buf_release(&unh);
    sk_buf_release(&wait);
    return v;
}

/* ---- output -------------------------------------------------------------------------------- */

#define NCOLS 7
enum { COL_TARGET, COL_PORT, COL_TASK, COL_ZONE, COL_STATE, COL_REASON, COL_DESC };
static const char *const col_names[NCOLS] = { "TARGET", "PORT", "TASK", "ZONE", "STATE", "REASON", "DESCRIPTION" };

static const char *cell(jv row, int col, char *num, size_t numsz)
{
    static const char *const keys[NCOLS] = { "id", "port", "task", "zone", "state", "reason", "description" };
    const char *s;
    double port;

    if (col == COL_PORT) {
        if (sk_json_num(row, "port", &port) < 0)
            return "-";
        snprintf(num, numsz, "%.0f", port);
        return num;
    }
    s = sk_json_str(row, keys[col]);
    return s && s[0] ? s : "-";
}

/* One aligned table per target group (TASK only for --service), titled when there are several. */
/* Under a group's table: its health-check settings, one "why" line per reason code its targets show
 * (tied to the settings), and with_notes (--service: a deploy's view) the notes on slow or fragile
 * settings. */
static void print_checks(jv grp, jv rows, int with_notes, FILE *out)
{
    jv hc = sk_json_get(grp, "healthCheck"), notes = sk_json_get(hc, "notes");
    struct sk_buf seen = SK_BUF_INIT;
    double iv = 0, to = 0, ht = 0, ut = 0, dd = -1;
    int i, n = jv_array_length(jv_copy(rows));

    if (jv_get_kind(hc) == JV_KIND_OBJECT) {
        sk_json_num(hc, "intervalSeconds", &iv);
        sk_json_num(hc, "timeoutSeconds", &to);
        sk_json_num(hc, "healthyThreshold", &ht);
        sk_json_num(hc, "unhealthyThreshold", &ut);
        fprintf(out,
                "health check  %s %s on port %s, matcher %s, every %.0fs (timeout %.0fs), healthy after %.0f, "
                "unhealthy after %.0f",
                tool_or(sk_json_str(hc, "protocol"), "?"), tool_or(sk_json_str(hc, "path"), "-"),
                tool_or(sk_json_str(hc, "port"), "?"), tool_or(sk_json_str(hc, "matcher"), "-"), iv, to, ht, ut);
        if (sk_json_num(hc, "deregistrationDelaySeconds", &dd) == 0)
            fprintf(out, "; deregistration delay %.0fs", dd);
        fputc('\n', out);
    }
    for (i = 0; i < n; i++) {
        jv row = jv_array_get(jv_copy(rows), i);
        const char *reason = sk_json_str(row, "reason"), *d = sk_json_str(row, "diagnosis");
        if (reason && d && !strstr(seen.p ? seen.p : "", reason)) {
            fprintf(out, "why  %s: %s\n", reason, d);
            sk_buf_addf(&seen, "%s;", reason);
        }
        jv_free(row);
    }
    n = with_notes && jv_get_kind(notes) == JV_KIND_ARRAY ? jv_array_length(jv_copy(notes)) : 0;
    for (i = 0; i < n; i++) {
        jv line = jv_array_get(jv_copy(notes), i);
        fprintf(out, "note  %s\n", jv_string_value(line));
        jv_free(line);
    }
    sk_buf_release(&seen);
    jv_free(notes);
    jv_free(hc);
}

static void print_text(jv result, FILE *out)
{
    jv groups = sk_json_get(result, "targetGroups"), svc = sk_json_get(result, "service");
    int g, ng = jv_array_length(jv_copy(groups)), with_task = jv_get_kind(svc) == JV_KIND_OBJECT;
    char num[32];

    for (g = 0; g < ng; g++) {
        jv grp = jv_array_get(jv_copy(groups), g), rows = sk_json_get(grp, "targets");
        int i, n = jv_array_length(jv_copy(rows)), col;
        size_t width[NCOLS];
        if (ng > 1)
            fprintf(out, "%starget group %s\n", g ? "\n" : "", sk_json_str(grp, "arn"));
        for (col = 0; col < NCOLS; col++)
            width[col] = strlen(col_names[col]);
        for (i = 0; i < n; i++) {
            jv row = jv_array_get(jv_copy(rows), i);
            for (col = 0; col < NCOLS; col++) {
                size_t w = strlen(cell(row, col, num, sizeof(num)));
                if (w > width[col])
                    width[col] = w;
            }
            jv_free(row);
        }
        for (i = -1; i < n; i++) {
            jv row = i < 0 ? jv_invalid() : jv_array_get(jv_copy(rows), i), j;
            const char *sep = "";
            for (col = 0; col < NCOLS; col++) {
                const char *s = i < 0 ? col_names[col] : cell(row, col, num, sizeof(num));
                if (col == COL_TASK && !with_task)
                    continue;
                if (col == COL_DESC)
                    fprintf(out, "%s%s", sep, s);
                else
                    fprintf(out, "%s%-*s", sep, (int)width[col], s);
                sep = "  ";
            }
            j = sk_json_get(row, "judged");
            if (i >= 0 && jv_get_kind(j) == JV_KIND_FALSE)
                fputs(sk_json_str(row, "task") ? "  (not judged: task of an older deployment)"
                                               : "  (not judged: not a current task)",
                      out);
            jv_free(j);
            fputc('\n', out);
            jv_free(row);
        }
        print_checks(grp, rows, with_task, out);
        jv_free(rows);
        jv_free(grp);
    }
    jv_free(svc);
    jv_free(groups);
}

/* The result object to print: the look plus its verdict (consumes result). */
static jv with_verdict(jv result, enum verdict v)
{
    return jv_object_set(result, jv_string("verdict"), jv_string(verdict_names[v]));
}

/* ---- waiting ------------------------------------------------------------------------------- */

/* Print "ID:PORT old -> new" on stderr for every judged target whose state changed since the last
 * look (seen maps "arn ID:PORT" to the last state; updated). */
static void note_changes(const struct opts *o, jv result, jv *seen)
{
    jv groups = sk_json_get(result, "targetGroups");
    int g, ng = jv_array_length(jv_copy(groups)), i, n;

    for (g = 0; g < ng; g++) {
        jv grp = jv_array_get(jv_copy(groups), g), rows = sk_json_get(grp, "targets");
        const char *arn = sk_json_str(grp, "arn");
        n = jv_array_length(jv_copy(rows));
        for (i = 0; i < n; i++) {
            jv row = jv_array_get(jv_copy(rows), i), j = sk_json_get(row, "judged"), old;
            struct sk_buf key = SK_BUF_INIT, name = SK_BUF_INIT;
            const char *state = sk_json_str(row, "state"), *reason = sk_json_str(row, "reason");
            const char *task = sk_json_str(row, "task");
            if (!state)
                state = "unknown";
            target_name(row, &name);
            sk_buf_addf(&key, "%s %s", arn ? arn : "", name.p);
            old = jv_object_has(jv_copy(*seen), jv_string(key.p)) ? jv_object_get(jv_copy(*seen), jv_string(key.p))
                                                                  : jv_invalid();
            if (jv_get_kind(j) == JV_KIND_TRUE && (!jv_is_valid(old) || strcmp(jv_string_value(old), state) != 0)) {
                struct sk_buf line = SK_BUF_INIT;
                sk_buf_add(&line, name.p, name.len);
                if (task)
                    sk_buf_addf(&line, " (task %s)", task);
                if (jv_is_valid(old))
                    sk_buf_addf(&line, " %s ->", jv_string_value(old));
                sk_buf_addf(&line, " %s", state);
                if (reason && strcmp(state, "healthy") != 0)
                    sk_buf_addf(&line, " (%s%s%s)", reason, sk_json_str(row, "diagnosis") ? ": " : "",
                                sk_json_str(row, "diagnosis") ? sk_json_str(row, "diagnosis") : "");
                tool_note(&o->c, "%s", line.p);
                sk_buf_release(&line);
                *seen = jv_object_set(*seen, jv_string(key.p), jv_string(state));
            }
            jv_free(old);
            jv_free(j);
            jv_free(row);
            sk_buf_release(&key);
            sk_buf_release(&name);
        }
        jv_free(rows);
        jv_free(grp);
    }
    jv_free(groups);
}

/* "10m", "1h30m", "45s" for messages. */
static void fmt_duration(long s, char *out, size_t n)
{
    size_t used = 0;

    out[0] = '\0';
    if (s >= 3600)
        used += (size_t)snprintf(out + used, n - used, "%ldh", s / 3600);
    if (s % 3600 >= 60 && used < n)
        used += (size_t)snprintf(out + used, n - used, "%ldm", s % 3600 / 60);
    if ((s % 60 || s == 0) && used < n)
        snprintf(out + used, n - used, "%lds", s % 60);
}

/* "prog: LABEL: WHAT" on stderr, -q or not: the reason for exit status 1. */
static void say_no(const char *label, const char *what)
{
    tool_line(stderr, "%s: %s: %s", progname, label, what); /* what quotes target health descriptions */
}

#define WAIT_MAX_FAILED 3 /* failed looks in a row (after their retries) before --wait gives up */

/* The target group to look at: --name resolved to its ARN, or the ARN given (owned; NULL with
 * --service). */
static int target_group_arn(struct sk_client *c, const struct opts *o, char **arn, struct sk_err *err)
{
    struct sk_elbv2_target_group tg;

    *arn = NULL;
    if (!o->name) {
        *arn = o->arn ? xstrdup(o->arn) : NULL;
        return 0;
    }
    if (sk_elbv2_target_group_get(c, o->name, &tg, err) < 0)
        return -1;
    *arn = tg.arn;
    tg.arn = NULL;
    sk_elbv2_target_group_release(&tg);
    if (!*arn)
        return sk_errf(err, SK_E_PARSE, "DescribeTargetGroups returned no TargetGroupArn for '%s'", o->name);
    tool_verbose(&o->c, "target group %s is %s", o->name, *arn);
    return 0;
}

static int run(const struct opts *o, struct sk_err *err)
{
    struct sk_client c;
    struct sk_buf why = SK_BUF_INIT, general = SK_BUF_INIT, last_general = SK_BUF_INIT;
    jv seen = jv_object(), result = jv_invalid();
    char *arn = NULL, dur[32];
    double scale;
    struct sk_pace pace;
    enum verdict v = V_WAITING;
    struct look lk;
    struct settings st;
    int have_client = 0, timed_out = 0, failed = 0, rc = -1;

    memset(&st, 0, sizeof(st));

    if (sk_scale_env("SK_POLL_SCALE", &scale, err) < 0 || tool_client_init(&c, &o->c, err) < 0)
        goto out;
    have_client = 1;
    if (target_group_arn(&c, o, &arn, err) < 0)
        goto out;
    sk_pace_start(&pace, POLL_MIN_S, POLL_MAX_S, scale, o->wait ? (double)o->timeout : 0);
    for (;;) {
        if (look(&c, o, arn, &result, &lk, err) < 0) {
            /* --wait: a look that failed after its retries is repeated, throttling until the
             * deadline, other transient failures (5xx, resets, timeouts) up to WAIT_MAX_FAILED
             * looks in a row; anything else ends the wait. */
            if (!o->wait || err->retryable == SK_RETRY_NO || sk_pace_expired(&pace) ||
                (err->retryable != SK_RETRY_THROTTLE && ++failed >= WAIT_MAX_FAILED))
                goto out;
            tool_note(&o->c, "waiting: %s; looking again", err->msg);
            sk_err_clear(err);
            sk_pace_wait(&pace); /* at most until the deadline */
            continue;
        }
        failed = 0;
        if (lk.no_groups) {
            /* Nothing to wait for: no target group will appear by itself. */
            fprintf(stderr, "%s: service '%s/%s' has no target groups (no load balancer with a targetGroupArn)\n",
                    progname, o->cluster, o->service);
            rc = EXIT_NO;
            goto out;
        }
        result = explain(&c, &st, result);
        v = judge(result, &lk, &why, &general);
        if (!o->wait)
            break;
        note_changes(o, result, &seen);
        if (general.len && strcmp(general.p, last_general.p) != 0)
            tool_note(&o->c, "waiting: %s", general.p);
        sk_buf_reset(&last_general);
        sk_buf_add(&last_general, general.p, general.len);
        if (v == V_HEALTHY || lk.service_why[0])
            break;
        if (v == V_UNHEALTHY && sk_pace_elapsed(&pace) >= (double)o->grace)
            break;
        if (sk_pace_expired(&pace)) {
            timed_out = 1;
            break;
        }
        jv_free(result);
        result = jv_invalid();
        sk_pace_wait(&pace); /* the last one ends at the deadline: one last look then */
    }
    rc = tool_emit(&o->c, with_verdict(result, v), print_text, err);
    result = jv_invalid();
    if (rc < 0)
        goto out;
    if (v == V_HEALTHY) {
        rc = EXIT_OK;
    } else if (timed_out) {
        fmt_duration(o->timeout, dur, sizeof(dur));
        sk_errf(err, SK_E_TIMEOUT, "timed out after %s; not healthy: %s", dur, why.p);
        rc = -1;
    } else {
        say_no(v == V_UNHEALTHY ? "unhealthy" : "not healthy", why.p);
        rc = EXIT_NO;
    }
out:
    settings_release(&st);
    jv_free(result);
    jv_free(seen);
    free(arn);
    sk_buf_release(&why);
    sk_buf_release(&general);
    sk_buf_release(&last_general);
    if (have_client)
        sk_client_release(&c);
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("tg-health");
    parse_args(argc, argv, &o);
    code = run(&o, &err);
    opts_release(&o);
    return tool_finish(code);
}
