/*
 * ecs-roll - roll new images out on an ECS service: register a task-definition revision, update
 * the service, watch the deployment it started, and say plainly whether it worked and why not.
 *
 * The verdict (docs/ecs-simulator.md; the ECS API reference's Deployment: status, rolloutState,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html): success only when
 * *our* deployment is still PRIMARY, runs
 * the new task definition and is COMPLETED; failure as soon as it is FAILED, gone, or no longer
 * PRIMARY (a circuit-breaker rollback or somebody else's deploy, told apart). On failure: the
 * stopped tasks and their last log lines, then a rollback to the task definition that ran before.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "ecs.h"
#include "elbv2.h"
#include "explain.h"
#include "json.h"
#include "mem.h"
#include "pace.h"
#include "text.h"
#include "tool.h"
#include "yamljv.h"

static const char usage_text[] =
    "usage: ecs-roll --cluster C --service S [--image [CONTAINER=]IMAGE]... [--task-def FILE]\n"
    "                [--desired-count N] [--timeout DURATION] [--no-rollback] [--no-wait] [--wait-healthy]\n"
    "                [--force] [--dry-run] [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --status [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --logs [--follow] [--since DURATION] [OPTIONS]\n";

static const char help_text[] =
    "\n"
    "Deploy new images to an ECS service and wait for the verdict; roll back if it fails.\n"
    "\n"
    "  --cluster C             the cluster\n"
    "  --service S             the service\n"
    "  --image [NAME=]IMAGE    new image for container NAME (NAME may be left out with one container)\n"
    "  --task-def FILE         start from this task definition (JSON or YAML; describe output accepted)\n"
    "  --desired-count N       also set the desired count\n"
    "  --timeout DURATION      give up waiting after this long: 90s, 15m, 1h (default 15m; exit 6)\n"
    "  --no-rollback           on failure, leave the service as it is\n"
    "  --no-wait               update the service and exit\n"
    "  --wait-healthy          also wait for the new tasks' targets to be healthy\n"
    "  --force                 deploy even when the service already runs exactly these images\n"
    "  --dry-run               show the task-definition diff and the calls; change nothing\n"
    "  --status                show the service, its deployments and recent events\n"
    "  --logs                  print the service's recent CloudWatch Logs lines\n"
    "  --follow                with --logs: keep following\n"
    "  --since DURATION        with --logs: how far back (default 10m)\n"
    "\n";

enum mode { MODE_DEPLOY, MODE_STATUS, MODE_LOGS };

enum {
    OPT_CLUSTER = OPT_TOOL_BASE,
    OPT_SERVICE,
    OPT_IMAGE,
    OPT_TASK_DEF,
    OPT_DESIRED,
    OPT_TIMEOUT,
    OPT_NO_ROLLBACK,
    OPT_NO_WAIT,
    OPT_WAIT_HEALTHY,
    OPT_DRY_RUN,
    OPT_FORCE,
    OPT_STATUS,
    OPT_LOGS,
    OPT_FOLLOW,
    OPT_SINCE
};

#define MAX_IMAGES 32

struct opts {
    struct common_opts c;
    const char *cluster, *service, *task_def;
    const char *images[MAX_IMAGES];
    int nimages;
    long desired, timeout, since;
    int no_rollback, no_wait, wait_healthy, dry_run, follow, force;
    enum mode mode;
};

/* The output-only fields of DescribeTaskDefinition, which RegisterTaskDefinition refuses (the
 * TaskDefinition data type: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html). */
static const char *const output_only[] = {
    "taskDefinitionArn", "revision",     "status",         "requiresAttributes", "compatibilities",
    "registeredAt",      "registeredBy", "deregisteredAt", "deleteRequestedAt",
};

/* ---- arguments ------------------------------------------------------------------------------- */

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "cluster", required_argument, NULL, OPT_CLUSTER },
        { "desired-count", required_argument, NULL, OPT_DESIRED },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "follow", no_argument, NULL, OPT_FOLLOW },
        { "force", no_argument, NULL, OPT_FORCE },
        { "image", required_argument, NULL, OPT_IMAGE },
        { "logs", no_argument, NULL, OPT_LOGS },
        { "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
        { "no-wait", no_argument, NULL, OPT_NO_WAIT },
        { "service", required_argument, NULL, OPT_SERVICE },
        { "since", required_argument, NULL, OPT_SINCE },
        { "status", no_argument, NULL, OPT_STATUS },
        { "task-def", required_argument, NULL, OPT_TASK_DEF },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "wait-healthy", no_argument, NULL, OPT_WAIT_HEALTHY },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    int opt, deploy_opts = 0;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    o->desired = -1;
    o->timeout = 15 * 60;
    o->since = 10 * 60;
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS, longopts);
    while ((opt = getopt_long(argc, argv, ":" COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        switch (opt) {
        case OPT_CLUSTER: o->cluster = optarg; break;
        case OPT_DESIRED:
            if (tool_parse_long(optarg, 0, 100000, &o->desired) < 0)
                tool_usage("--desired-count must be a whole number, not '%s'", optarg);
            deploy_opts++;
            break;
        case OPT_DRY_RUN: o->dry_run = 1; break;
        case OPT_FOLLOW: o->follow = 1; break;
        case OPT_FORCE:
            o->force = 1;
            deploy_opts++;
            break;
        case OPT_IMAGE:
            if (o->nimages == MAX_IMAGES)
                tool_usage("at most %d --image options", MAX_IMAGES);
            if (!*optarg || strpbrk(optarg, " \t\r\n") || optarg[strlen(optarg) - 1] == '=')
                tool_usage("--image needs [CONTAINER=]IMAGE, not '%s'", optarg);
            o->images[o->nimages++] = optarg;
            deploy_opts++;
            break;
        case OPT_LOGS: o->mode = MODE_LOGS; break;
        case OPT_NO_ROLLBACK: o->no_rollback = 1; break;
        case OPT_NO_WAIT: o->no_wait = 1; break;
        case OPT_SERVICE: o->service = optarg; break;
        case OPT_SINCE:
            if (tool_parse_duration(optarg, &o->since) < 0)
                tool_usage("--since must look like 90s, 15m or 1h, not '%s'", optarg);
            break;
        case OPT_STATUS: o->mode = MODE_STATUS; break;
        case OPT_TASK_DEF:
            o->task_def = optarg;
            deploy_opts++;
            break;
        case OPT_TIMEOUT:
            if (tool_parse_duration(optarg, &o->timeout) < 0)
                tool_usage("--timeout must look like 90s, 15m or 1h, not '%s'", optarg);
            break;
        case OPT_WAIT_HEALTHY: o->wait_healthy = 1; break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (optind < argc)
        tool_usage("unexpected argument '%s'", argv[optind]);
    if (!o->cluster || !*o->cluster)
        tool_usage("missing --cluster");
    if (!o->service || !*o->service)
        tool_usage("missing --service");
    if (o->mode != MODE_DEPLOY && (deploy_opts || o->dry_run || o->no_wait || o->no_rollback || o->wait_healthy))
        tool_usage("--status and --logs take no deploy options");
    if (o->mode != MODE_LOGS && (o->follow))
        tool_usage("--follow goes with --logs");
    if (o->no_wait && o->wait_healthy)
        tool_usage("--no-wait and --wait-healthy exclude each other");
}

/* ---- small helpers --------------------------------------------------------------------------- */

/* SK_POLL_SCALE (lib/pace.h: 0.001 to 1): main checks it before anything else, so here it is valid. */
static double poll_scale(void)
{
    double v;

    return sk_scale_env("SK_POLL_SCALE", &v, NULL) == 0 ? v : 1.0;
}

/* "arn:aws:ecs:...:task-definition/family:12" -> "family:12" (borrowed). */
static const char *td_name(const char *arn)
{
    const char *s = arn ? strrchr(arn, '/') : NULL;
    return s ? s + 1 : (arn ? arn : "?");
}

static int jlen(jv a)
{
    return jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_length(jv_copy(a)) : 0;
}

static const char *str_or(jv obj, const char *key, const char *dflt)
{
    const char *s = sk_json_str(obj, key);
    return s ? s : dflt;
}

static long num_or(jv obj, const char *key, long dflt)
{
    double d;
    return sk_json_num(obj, key, &d) == 0 ? (long)d : dflt;
}

static void clock_time(double epoch, char out[16])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%H:%M:%S", &tm);
}

/* ---- the task definition to register --------------------------------------------------------- */

static int load_task_def_file(const char *path, jv *td, jv *tags, struct sk_err *err)
{
    struct sk_buf text = SK_BUF_INIT;
    jv doc = jv_invalid(), inner;
    size_t i = 0;
    int rc = -1;

    if (tool_read_input(path, &text, (size_t)4 << 20, err) < 0)
        return -1;
    while (i < text.len && isspace((unsigned char)text.p[i]))
        i++;
    if (i < text.len && text.p[i] == '{') {
        if (sk_json_parse(text.p, text.len, &doc, err) < 0) {
            err->kind = SK_E_USAGE;
            sk_err_prefix(err, "%s", path);
            goto out;
        }
    } else if (sk_yaml_to_jv(text.p, text.len, path, &doc, err) < 0) {
        goto out;
    }
    if (jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_USAGE, "%s: a task definition must be an object", path);
        goto out;
    }
    /* `aws ecs describe-task-definition` output: {"taskDefinition": {...}, "tags": [...]}. */
    inner = sk_json_get(doc, "taskDefinition");
    if (jv_get_kind(inner) == JV_KIND_OBJECT) {
        *tags = sk_json_get(doc, "tags");
        *td = inner;
    } else {
        jv_free(inner);
        *tags = jv_invalid();
        *td = jv_copy(doc);
    }
    rc = 0;
out:
    jv_free(doc);
    sk_buf_release(&text);
    return rc;
}

static int describe_task_def(struct sk_client *c, const char *arn, jv *td, jv *tags, struct sk_err *err)
{
    jv in = jv_object(), res;

    in = jv_object_set(in, jv_string("taskDefinition"), jv_string(arn));
    in = jv_object_set(in, jv_string("include"), jv_array_append(jv_array(), jv_string("TAGS")));
    if (sk_client_json(c, &sk_svc_ecs, "DescribeTaskDefinition", in, 0, &res, err) < 0)
        return -1;
    *td = sk_json_get(res, "taskDefinition");
    *tags = sk_json_get(res, "tags");
    jv_free(res);
    if (jv_get_kind(*td) != JV_KIND_OBJECT) {
        jv_free(*td);
        jv_free(*tags);
        return sk_errf(err, SK_E_PARSE, "ecs DescribeTaskDefinition: no taskDefinition in the response");
    }
    return 0;
}

/* Strip what RegisterTaskDefinition refuses, keep every other field as it is (an allowlist loses
 * fields AWS adds later), carry the tags over, substitute images. Consumes td and tags. */
static int build_register_input(const struct opts *o, int with_images, jv td, jv tags, jv *out, struct sk_err *err)
{
    jv conts;
    size_t i;
    int k, n;

    for (i = 0; i < sizeof(output_only) / sizeof(output_only[0]); i++)
        td = jv_object_delete(td, jv_string(output_only[i]));
    if (jv_get_kind(tags) == JV_KIND_ARRAY && jv_array_length(jv_copy(tags)) > 0)
        td = jv_object_set(td, jv_string("tags"), tags); /* empty tags are refused: leave them out */
    else
        jv_free(tags);
    /* YAML users write cpu: 256; the API wants the task-level sizes as strings. */
    for (k = 0; k < 2; k++) {
        const char *key = k ? "memory" : "cpu";
        jv v = sk_json_get(td, key);
        if (jv_get_kind(v) == JV_KIND_NUMBER) {
            char b[32];
            snprintf(b, sizeof(b), "%.0f", jv_number_value(v));
            td = jv_object_set(td, jv_string(key), jv_string(b));
        }
        jv_free(v);
    }
    if (!sk_json_str(td, "family")) {
        jv_free(td);
        return sk_errf(err, SK_E_USAGE, "the task definition has no family");
    }
    conts = sk_json_get(td, "containerDefinitions");
    n = jlen(conts);
    if (n == 0) {
        jv_free(conts);
        jv_free(td);
        return sk_errf(err, SK_E_USAGE, "the task definition has no containerDefinitions");
    }
    for (k = 0; with_images && k < o->nimages; k++) {
        const char *spec = o->images[k], *eq = strchr(spec, '='), *image = eq ? eq + 1 : spec;
        int j, found = -1;
        /* "repo@sha256:..." contains no '=', "NAME=IMAGE" names a container. */
        if (!eq && n > 1) {
            jv_free(conts);
            jv_free(td);
            return sk_errf(err, SK_E_USAGE, "the task definition has %d containers: use --image NAME=IMAGE", n);
        }
        for (j = 0; j < n; j++) {
            jv ct = jv_array_get(jv_copy(conts), j);
            const char *name = sk_json_str(ct, "name");
            if (!eq || (name && strlen(name) == (size_t)(eq - spec) && strncmp(name, spec, (size_t)(eq - spec)) == 0))
                found = j;
            jv_free(ct);
            if (found >= 0)
                break;
        }
        if (found < 0) {
            jv_free(conts);
            jv_free(td);
            return sk_errf(err, SK_E_USAGE, "no container named '%.*s' in the task definition", (int)(eq - spec), spec);
        }
        conts = jv_array_set(conts, found,
                             jv_object_set(jv_array_get(jv_copy(conts), found), jv_string("image"), jv_string(image)));
    }
    td = jv_object_set(td, jv_string("containerDefinitions"), conts);
    *out = td;
    return 0;
}

/* A readable diff: line by line over the pretty JSON of both (they share most lines). */
static void print_diff(jv before, jv after)
{
    struct sk_buf a = SK_BUF_INIT, b = SK_BUF_INIT;
    const char *pa, *pb;

    sk_json_dump(before, 1, &a);
    sk_json_dump(after, 1, &b);
    sk_text_json_safe(&a); /* the running definition is what ECS says it is */
    sk_text_json_safe(&b);
    pa = a.p;
    pb = b.p;
    printf("--- running task definition\n+++ new task definition\n");
    while (*pa || *pb) {
        size_t la = strcspn(pa, "\n"), lb = strcspn(pb, "\n");
        if (la == lb && strncmp(pa, pb, la) == 0) {
            pa += la + (pa[la] ? 1 : 0);
            pb += lb + (pb[lb] ? 1 : 0);
            continue;
        }
        /* Look ahead a little for a resynchronisation point. */
        {
            const char *qa = pa, *qb;
            int found = 0, da, db;
            for (da = 0; da < 40 && *qa && !found; da++) {
                size_t lqa = strcspn(qa, "\n");
                qb = pb;
                for (db = 0; db < 40 && *qb; db++) {
                    size_t lqb = strcspn(qb, "\n");
                    if (lqa == lqb && strncmp(qa, qb, lqa) == 0 && (da || db)) {
                        found = 1;
                        break;
                    }
                    qb += lqb + (qb[lqb] ? 1 : 0);
                }
                if (!found)
                    qa += lqa + (qa[lqa] ? 1 : 0);
            }
            if (!found) {
                qa = pa + strlen(pa);
                qb = pb + strlen(pb);
            }
            while (pa < qa) {
                size_t l = strcspn(pa, "\n");
                printf("-%.*s\n", (int)l, pa);
                pa += l + (pa[l] ? 1 : 0);
            }
            while (pb < qb) {
                size_t l = strcspn(pb, "\n");
                printf("+%.*s\n", (int)l, pb);
                pb += l + (pb[l] ? 1 : 0);
            }
        }
    }
    sk_buf_release(&a);
    sk_buf_release(&b);
}

/* ---- CloudWatch Logs, in the region each container logs to ------------------------------------ */

/* The awslogs driver sends a container's lines to its awslogs-region, which may not be the
 * client's (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html): they
 * are read there, with a client of that region (endpoint overrides apply as to any client). */
#define MAX_LOG_REGIONS 4

struct log_regions {
    const struct opts *o;
    struct sk_client *home;
    char *name[MAX_LOG_REGIONS];
    struct sk_client c[MAX_LOG_REGIONS];
    int n;
};

static int region_name_ok(const char *r)
{
    size_t i, n = strlen(r);

    for (i = 0; i < n; i++)
        if (!islower((unsigned char)r[i]) && !isdigit((unsigned char)r[i]) && r[i] != '-')
            return 0;
    return n > 0 && n <= 32;
}

/* The client that reads CloudWatch Logs in region (NULL or empty: the tool's own region). */
static struct sk_client *logs_client(struct log_regions *lr, const char *region, struct sk_err *err)
{
    struct common_opts co;
    int i;

    if (!region || !*region || strcmp(region, lr->home->region) == 0)
        return lr->home;
    for (i = 0; i < lr->n; i++)
        if (strcmp(lr->name[i], region) == 0)
            return &lr->c[i];
    if (!region_name_ok(region)) {
        sk_errf(err, SK_E_USAGE, "awslogs-region '%s' is not a region name", region);
        return NULL;
    }
    if (lr->n == MAX_LOG_REGIONS) {
        sk_errf(err, SK_E_USAGE, "logs in more than %d other regions", MAX_LOG_REGIONS);
        return NULL;
    }
    co = lr->o->c;
    co.region = region;
    if (tool_client_init(&lr->c[lr->n], &co, err) < 0)
        return NULL;
    lr->name[lr->n] = xstrdup(region);
    return &lr->c[lr->n++];
}

static void log_regions_release(struct log_regions *lr)
{
    int i;

    for (i = 0; i < lr->n; i++) {
        sk_client_release(&lr->c[i]);
        free(lr->name[i]);
    }
    lr->n = 0;
}

/* ---- watching a deployment --------------------------------------------------------------------- */

/* When a deployment has stalled (the rule: src/ecs-roll.1, "NO PROGRESS"). */
struct stall {
    int ready;         /* settings read for this wait */
    double settings_s; /* grace + 2 x target health check + 60 (+ 300), in AWS seconds */
    double start_s;    /* the longest start of its tasks seen (createdAt -> startedAt), real seconds */
    double period;     /* real seconds without progress that make a stall */
    double since;      /* tool_now_s() of the last progress (or the start of the wait) */
    double last_check; /* tool_now_s() of the last look at its tasks */
    int healthy;       /* its tasks seen RUNNING and healthy */
    int healthy_now;   /* of them, in the last look */
    jv seen;           /* their ids */
    char rule[160];    /* how period was made, for the message */
};

struct watch {
    const struct opts *o;
    struct sk_client *c;
    char *seen_events[256]; /* ids already printed (ring) */
    int nseen;
    struct sk_buf last_table;
    int calls;
    jv last_svc; /* the last DescribeServices answer */
    struct log_regions logs;
    struct stall st;
};

static int seen(struct watch *w, const char *id)
{
    int i;
    for (i = 0; i < w->nseen && i < 256; i++)
        if (w->seen_events[i] && strcmp(w->seen_events[i], id) == 0)
            return 1;
    free(w->seen_events[w->nseen % 256]);
    w->seen_events[w->nseen % 256] = xstrdup(id);
    w->nseen++;
    return 0;
}

static void watch_release(struct watch *w)
{
    int i;
    for (i = 0; i < 256; i++)
        free(w->seen_events[i]);
    sk_buf_release(&w->last_table);
    jv_free(w->last_svc);
    jv_free(w->st.seen);
    log_regions_release(&w->logs);
}

/* The tasks deployment dep_id started, of desired status `status`. ListTasks takes startedBy only
 * as its one filter (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html),
 * so the service's tasks are listed and those of the deployment kept. */
static int deployment_tasks(struct watch *w, const char *dep_id, const char *status, jv *out, struct sk_err *err)
{
    jv arns = jv_invalid(), tasks = jv_invalid(), mine = jv_array();
    int i, n, rc = -1;

    w->calls++;
    if (sk_ecs_list_tasks(w->c, w->o->cluster, w->o->service, status, NULL, &arns, err) < 0)
        goto out;
    n = jlen(arns);
    w->calls += (n + 99) / 100;
    if (n > 0 && sk_ecs_describe_tasks(w->c, w->o->cluster, arns, &tasks, err) < 0)
        goto out;
    n = jlen(tasks);
    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(tasks), i);
        const char *by = sk_json_str(t, "startedBy");
        if (by && strcmp(by, dep_id) == 0)
            mine = jv_array_append(mine, t);
        else
            jv_free(t);
    }
    *out = mine;
    mine = jv_invalid();
    rc = 0;
out:
    jv_free(arns);
    jv_free(tasks);
    jv_free(mine);
    return rc;
}

/* Print service events we have not printed (oldest first); first_pass only marks them. */
static void print_events(struct watch *w, jv svc, int first_pass)
{
    jv ev = sk_json_get(svc, "events");
    int i, n = jlen(ev);

    for (i = n - 1; i >= 0; i--) {
        jv e = jv_array_get(jv_copy(ev), i);
        const char *id = sk_json_str(e, "id"), *msg = sk_json_str(e, "message");
        double t = 0;
        char hms[16];
        if (id && msg && !seen(w, id) && !first_pass && !w->o->c.quiet) {
            sk_json_num(e, "createdAt", &t);
            clock_time(t, hms);
            tool_line(stderr, "%s: %s %s", progname, hms, msg);
        }
        jv_free(e);
    }
    jv_free(ev);
}

static void deployment_table(jv svc, struct sk_buf *out)
{
    jv deps = sk_json_get(svc, "deployments");
    int i, n = jlen(deps);

    for (i = 0; i < n; i++) {
        jv d = jv_array_get(jv_copy(deps), i);
        struct sk_buf st = SK_BUF_INIT, td = SK_BUF_INIT, rs = SK_BUF_INIT;
        /* ECS's words, escaped (lib/text.h) */
        sk_text_escapes(&st, str_or(d, "status", "?"));
        sk_text_escapes(&td, td_name(sk_json_str(d, "taskDefinition")));
        sk_text_escapes(&rs, str_or(d, "rolloutState", ""));
        sk_buf_addf(out, "  %-8s %-28s desired %ld pending %ld running %ld failed %ld %s\n", st.p, td.p,
                    num_or(d, "desiredCount", 0), num_or(d, "pendingCount", 0), num_or(d, "runningCount", 0),
                    num_or(d, "failedTasks", 0), rs.p);
        sk_buf_release(&st);
        sk_buf_release(&td);
        sk_buf_release(&rs);
        jv_free(d);
    }
    jv_free(deps);
}

static void print_table_if_changed(struct watch *w, jv svc)
{
    struct sk_buf t = SK_BUF_INIT;

    deployment_table(svc, &t);
    if (strcmp(t.p, w->last_table.p) != 0 && !w->o->c.quiet)
        fprintf(stderr, "%s: deployments:\n%s", progname, t.p);
    sk_buf_release(&w->last_table);
    w->last_table = t;
}

static jv find_deployment(jv svc, const char *id, const char *status)
{
    jv deps = sk_json_get(svc, "deployments");
    int i, n = jlen(deps);

    for (i = 0; i < n; i++) {
        jv d = jv_array_get(jv_copy(deps), i);
        const char *did = sk_json_str(d, "id"), *st = sk_json_str(d, "status");
        if ((id && did && strcmp(did, id) == 0) || (!id && status && st && strcmp(st, status) == 0)) {
            jv_free(deps);
            return d;
        }
        jv_free(d);
    }
    jv_free(deps);
    return jv_invalid();
}

enum verdict { V_WAIT, V_DONE, V_FAILED, V_ROLLED_BACK_BY_ECS, V_REPLACED, V_TIMEOUT, V_STALLED };

struct outcome {
    enum verdict v;
    char reason[512];
    char other_td[512]; /* the task definition that replaced ours */
    char other_dep[128];
};

/* Judge one DescribeServices result against deployment dep_id of task definition td_arn. */
static enum verdict judge(jv svc, const char *dep_id, const char *td_arn, const char *prev_td, struct outcome *oc)
{
    jv mine = find_deployment(svc, dep_id, NULL), primary = find_deployment(svc, NULL, "PRIMARY");
    const char *st = str_or(svc, "status", "?");
    enum verdict v = V_WAIT;

    if (strcmp(st, "ACTIVE") != 0) {
        snprintf(oc->reason, sizeof(oc->reason), "the service is %s", st);
        v = V_FAILED;
    } else if (jv_get_kind(mine) != JV_KIND_OBJECT || strcmp(str_or(mine, "status", ""), "PRIMARY") != 0) {
        /* Ours is gone or demoted: ECS rolled back to what ran before, or someone else deployed. */
        const char *ptd = sk_json_str(primary, "taskDefinition");
        snprintf(oc->other_td, sizeof(oc->other_td), "%s", ptd ? ptd : "");
        snprintf(oc->other_dep, sizeof(oc->other_dep), "%s", str_or(primary, "id", ""));
        if (ptd && prev_td && strcmp(ptd, prev_td) == 0) {
            v = V_ROLLED_BACK_BY_ECS;
            snprintf(oc->reason, sizeof(oc->reason),
                     "ECS rolled the deployment back to %s (deployment circuit breaker)%s%s", td_name(ptd),
                     jv_get_kind(mine) == JV_KIND_OBJECT && sk_json_str(mine, "rolloutStateReason") ? ": " : "",
                     jv_get_kind(mine) == JV_KIND_OBJECT ? str_or(mine, "rolloutStateReason", "") : "");
        } else {
            v = V_REPLACED;
            snprintf(oc->reason, sizeof(oc->reason), "another deployment replaced ours: %s now runs %s",
                     str_or(primary, "id", "?"), td_name(ptd));
        }
    } else if (strcmp(str_or(mine, "rolloutState", ""), "FAILED") == 0) {
        snprintf(oc->reason, sizeof(oc->reason), "%s", str_or(mine, "rolloutStateReason", "the rollout failed"));
        v = V_FAILED;
    } else if (strcmp(str_or(mine, "taskDefinition", ""), td_arn) != 0) {
        snprintf(oc->reason, sizeof(oc->reason), "our deployment runs %s, not %s",
                 td_name(sk_json_str(mine, "taskDefinition")), td_name(td_arn));
        v = V_FAILED;
    } else {
        const char *rs = sk_json_str(mine, "rolloutState");
        if (rs ? strcmp(rs, "COMPLETED") == 0
               : num_or(mine, "runningCount", -1) == num_or(mine, "desiredCount", -2) &&
                     num_or(mine, "pendingCount", 0) == 0)
            v = V_DONE;
    }
    jv_free(mine);
    jv_free(primary);
    oc->v = v;
    return v;
}

/* ELBv2 health of the deployment's tasks, for --wait-healthy: 1 all healthy, 0 not yet, -1 error,
 * 2 a target is unhealthy (reason in oc). */
static int targets_healthy(struct watch *w, jv svc, const char *dep_id, struct outcome *oc, struct sk_err *err)
{
    jv lbs = sk_json_get(svc, "loadBalancers"), tasks = jv_invalid();
    int i, j, n = jlen(lbs), ntasks, rc = 1;

    if (n == 0) {
        jv_free(lbs);
        return 1; /* nothing to be healthy in */
    }
    if (deployment_tasks(w, dep_id, "RUNNING", &tasks, err) < 0) {
        rc = -1;
        goto out;
    }
    ntasks = jlen(tasks);
    if (ntasks == 0) {
        rc = 0;
        goto out;
    }
    for (i = 0; i < n && rc == 1; i++) {
        jv lb = jv_array_get(jv_copy(lbs), i), descs;
        const char *tg = sk_json_str(lb, "targetGroupArn");
        struct sk_elbv2_target *targets = xcalloc((size_t)ntasks, sizeof(*targets));
        int nt = 0, m;
        if (!tg) {
            free(targets);
            jv_free(lb);
            continue;
        }
        for (j = 0; j < ntasks; j++) {
            jv t = jv_array_get(jv_copy(tasks), j);
            const char *ip = sk_ecs_task_ip(t); /* borrowed from tasks, which outlives this loop */
            if (ip) {
                targets[nt].id = ip;
                targets[nt++].port = num_or(lb, "containerPort", 0);
            } else {
                rc = 0; /* no IP yet: not registered yet */
            }
            jv_free(t);
        }
        w->calls++;
        if (sk_elbv2_describe_target_health(w->c, tg, targets, (size_t)nt, &descs, err) < 0) {
            rc = -1;
        } else {
            m = jlen(descs);
            if (m < ntasks)
                rc = 0;
            for (j = 0; j < m && rc == 1; j++) {
                jv d = jv_array_get(jv_copy(descs), j), th = sk_json_get(d, "TargetHealth"),
                   tgt = sk_json_get(d, "Target");
                const char *state = str_or(th, "State", "?");
                if (strcmp(state, "unhealthy") == 0) {
                    snprintf(oc->reason, sizeof(oc->reason), "target %s is unhealthy in %s: %s: %s",
                             str_or(tgt, "Id", "?"), td_name(tg), str_or(th, "Reason", "?"),
                             str_or(th, "Description", ""));
                    rc = 2;
                } else if (strcmp(state, "healthy") != 0) {
                    rc = 0;
                }
                jv_free(tgt);
                jv_free(th);
                jv_free(d);
            }
            jv_free(descs);
        }
        free(targets);
        jv_free(lb);
    }
out:
    jv_free(lbs);
    jv_free(tasks);
    return rc;
}

/* ---- no progress ------------------------------------------------------------------------------- */

/* A number of an answer, given as a number or (awsQuery) as a numeric string; dflt otherwise. */
static double num_any(jv obj, const char *key, double dflt)
{
    const char *s = sk_json_str(obj, key);
    double d;
    char *end;

    if (sk_json_num(obj, key, &d) == 0)
        return d;
    if (s && *s) {
        d = strtod(s, &end);
        if (*end == '\0')
            return d;
    }
    return dflt;
}

/* The settings' part of the stall period, in AWS seconds: the service's healthCheckGracePeriodSeconds,
 * twice the longest a target group takes to call a new target healthy (HealthCheckIntervalSeconds x
 * HealthyThresholdCount + HealthCheckTimeoutSeconds; ELB's defaults 30 x 5 + 5 when it cannot be read),
 * a minute, and ELB's default deregistration delay (300 s) when maximumPercent leaves no room to start
 * new tasks before old ones have stopped. */
static void stall_settings(struct watch *w, jv svc)
{
    jv lbs = sk_json_get(svc, "loadBalancers"), dc = sk_json_get(svc, "deploymentConfiguration");
    double grace = num_any(svc, "healthCheckGracePeriodSeconds", 0), hc = 0, drain = 0;
    int i, n = jlen(lbs);

    for (i = 0; i < n; i++) {
        jv lb = jv_array_get(jv_copy(lbs), i), tg = jv_invalid();
        const char *arn = sk_json_str(lb, "targetGroupArn");
        double t = 30 * 5 + 5;
        struct sk_err e;
        sk_err_clear(&e);
        w->calls++;
        if (arn && sk_elbv2_describe_target_group(w->c, arn, &tg, &e) == 0)
            t = num_any(tg, "HealthCheckIntervalSeconds", 30) * num_any(tg, "HealthyThresholdCount", 5) +
                num_any(tg, "HealthCheckTimeoutSeconds", 5);
        if (t > hc)
            hc = t;
        jv_free(tg);
        jv_free(lb);
    }
    if (num_any(dc, "maximumPercent", 200) <= 100)
        drain = 300;
    w->st.settings_s = grace + 2 * hc + 60 + drain;
    snprintf(w->st.rule, sizeof(w->st.rule), "grace %.0fs + 2 x health check %.0fs + 60s%s", grace, hc,
             drain > 0 ? " + deregistration 300s" : "");
    w->st.ready = 1;
    jv_free(lbs);
    jv_free(dc);
}

/* The period in real seconds: the settings' part (scaled by SK_POLL_SCALE, as the simulator's clock
 * is in tests) plus twice the longest start seen (a minute, scaled, until one has started). */
static void stall_period(struct watch *w)
{
    double k = poll_scale(), start = w->st.start_s > 0 ? w->st.start_s : 60 * k;

    w->st.period = w->st.settings_s * k + 2 * start;
}

static void stall_reset(struct watch *w)
{
    jv_free(w->st.seen);
    memset(&w->st, 0, sizeof(w->st));
    w->st.seen = jv_object();
}

/* Look at tasks (RUNNING, of the deployment): note how long they took to start, and count those that
 * are healthy (every target in the service's target groups healthy; without target groups, RUNNING
 * and not UNHEALTHY by its container health check). A task seen healthy for the first time is
 * progress. */
static int note_healthy(struct watch *w, jv svc, jv tasks, struct sk_err *err)
{
    jv lbs = sk_json_get(svc, "loadBalancers"), healthy_ips = jv_object();
    int i, j, n = jlen(tasks), nlb = jlen(lbs), rc = -1;

    w->st.healthy_now = 0;
    for (j = 0; j < n; j++) {
        jv t = jv_array_get(jv_copy(tasks), j);
        double created, started;
        if (sk_json_num(t, "createdAt", &created) == 0 && sk_json_num(t, "startedAt", &started) == 0 &&
            started - created > w->st.start_s)
            w->st.start_s = started - created;
        jv_free(t);
    }
    /* Per target group, the task IPs healthy in it (ip -> number of groups). */
    for (i = 0; i < nlb; i++) {
        jv lb = jv_array_get(jv_copy(lbs), i), descs = jv_invalid();
        const char *tg = sk_json_str(lb, "targetGroupArn");
        struct sk_elbv2_target *targets = xcalloc((size_t)n + 1, sizeof(*targets));
        int nt = 0, k, m;
        for (j = 0; j < n; j++) {
            jv t = jv_array_get(jv_copy(tasks), j);
            const char *ip = sk_ecs_task_ip(t); /* borrowed from tasks */
            if (ip) {
                targets[nt].id = ip;
                targets[nt++].port = num_or(lb, "containerPort", 0);
            }
            jv_free(t);
        }
        w->calls += tg && nt ? 1 : 0;
        if (tg && nt && sk_elbv2_describe_target_health(w->c, tg, targets, (size_t)nt, &descs, err) < 0) {
            free(targets);
            jv_free(lb);
            goto out;
        }
        m = jlen(descs);
        for (k = 0; k < m; k++) {
            jv d = jv_array_get(jv_copy(descs), k), th = sk_json_get(d, "TargetHealth"), tgt = sk_json_get(d, "Target");
            const char *id = sk_json_str(tgt, "Id");
            if (id && strcmp(str_or(th, "State", ""), "healthy") == 0) {
                jv was = jv_object_get(jv_copy(healthy_ips), jv_string(id));
                double c = jv_get_kind(was) == JV_KIND_NUMBER ? jv_number_value(was) : 0;
                jv_free(was);
                healthy_ips = jv_object_set(healthy_ips, jv_string(id), jv_number(c + 1));
            }
            jv_free(tgt);
            jv_free(th);
            jv_free(d);
        }
        jv_free(descs);
        free(targets);
        jv_free(lb);
    }
    for (j = 0; j < n; j++) {
        jv t = jv_array_get(jv_copy(tasks), j), was;
        const char *arn = sk_json_str(t, "taskArn"), *ip = sk_ecs_task_ip(t);
        int ok = strcmp(str_or(t, "lastStatus", ""), "RUNNING") == 0;
        if (nlb > 0) {
            jv c = ip ? jv_object_get(jv_copy(healthy_ips), jv_string(ip)) : jv_invalid();
            ok = ok && jv_get_kind(c) == JV_KIND_NUMBER && jv_number_value(c) >= nlb;
            jv_free(c);
        } else {
            ok = ok && strcmp(str_or(t, "healthStatus", "UNKNOWN"), "UNHEALTHY") != 0;
        }
        w->st.healthy_now += ok;
        if (ok && arn) {
            was = jv_object_get(jv_copy(w->st.seen), jv_string(arn));
            if (jv_get_kind(was) == JV_KIND_INVALID) {
                w->st.seen = jv_object_set(w->st.seen, jv_string(arn), jv_true());
                w->st.healthy++;
                w->st.since = tool_now_s();
            }
            jv_free(was);
        }
        jv_free(t);
    }
    rc = 0;
out:
    jv_free(lbs);
    jv_free(healthy_ips);
    return rc;
}

/* Has deployment dep_id (IN_PROGRESS, PRIMARY) stalled? 1 with the reason in oc; 0: not, or cannot
 * tell (a failed look is no verdict). Its tasks are looked at when it runs more tasks than were seen
 * healthy (at most six times a period), and always before a stall is called. */
static int stalled(struct watch *w, jv svc, const char *dep_id, struct outcome *oc)
{
    jv dep = find_deployment(svc, dep_id, NULL), tasks = jv_invalid();
    double now = tool_now_s();
    struct sk_err e;
    int rc = 0;

    if (!w->st.ready) {
        stall_settings(w, svc);
        w->st.since = now;
        stall_period(w);
    }
    if (!(now - w->st.since >= w->st.period ||
          (num_or(dep, "runningCount", 0) > w->st.healthy && now - w->st.last_check >= w->st.period / 6)))
        goto out;
    w->st.last_check = now;
    sk_err_clear(&e);
    if (deployment_tasks(w, dep_id, "RUNNING", &tasks, &e) < 0 || note_healthy(w, svc, tasks, &e) < 0)
        goto out;
    /* All its tasks healthy: what is left is ECS's (old tasks draining), not a stall. */
    if (w->st.healthy_now > 0 && w->st.healthy_now >= num_or(dep, "desiredCount", 0))
        w->st.since = now;
    stall_period(w);
    if (now - w->st.since >= w->st.period) {
        snprintf(oc->reason, sizeof(oc->reason),
                 "no progress for %.0fs: no new task of deployment %s became RUNNING and healthy, and ECS gave no "
                 "verdict (stall period %.0fs: %s, 2 x start %.0fs)",
                 now - w->st.since, dep_id, w->st.period, w->st.rule,
                 w->st.start_s > 0 ? w->st.start_s : 60 * poll_scale());
        oc->v = V_STALLED;
        rc = 1;
    }
out:
    jv_free(dep);
    jv_free(tasks);
    return rc;
}

/* Poll until deployment dep_id (of td_arn) is judged, or the deadline. */
#define WAIT_MAX_FAILED 3 /* polls in a row that failed (after their retries) before the wait gives up */

static int wait_deployment(struct watch *w, const char *dep_id, const char *td_arn, const char *prev_td,
                           double deadline, int healthy, struct outcome *oc, struct sk_err *err)
{
    struct sk_pace pace;
    int failed = 0;

    sk_pace_start(&pace, 1.6, 2.4, poll_scale(), 0); /* 2 s +-20%: exits within ~2.4 s of completion */
    stall_reset(w);
    for (;;) {
        jv svc;
        w->calls++;
        if (sk_ecs_describe_service(w->c, w->o->cluster, w->o->service, &svc, err) < 0) {
            /* Each poll already had its retries. Throttling only slows us down; other transient
             * failures (5xx, resets, timeouts) end the wait after WAIT_MAX_FAILED polls in a row,
             * anything else at once. */
            if (err->retryable == SK_RETRY_NO || (err->retryable != SK_RETRY_THROTTLE && ++failed >= WAIT_MAX_FAILED))
                return -1;
            sk_pace_failed(&pace);
        } else {
            enum verdict v;
            failed = 0;
            sk_pace_ok(&pace);
            print_events(w, svc, 0);
            print_table_if_changed(w, svc);
            v = judge(svc, dep_id, td_arn, prev_td, oc);
            if (v == V_DONE && healthy) {
                int h = targets_healthy(w, svc, dep_id, oc, err);
                if (h < 0) {
                    jv_free(svc);
                    return -1;
                }
                if (h == 2)
                    v = oc->v = V_FAILED;
                else if (h == 0)
                    v = oc->v = V_WAIT;
            }
            if (v == V_WAIT && stalled(w, svc, dep_id, oc))
                v = V_STALLED;
            jv_free(w->last_svc);
            w->last_svc = svc;
            if (v != V_WAIT)
                return 0;
        }
        if (tool_now_s() >= deadline) {
            oc->v = V_TIMEOUT;
            return 0;
        }
        sk_pace_wait(&pace); /* a few seconds, with jitter so many deploys do not poll in step */
    }
}

/* ---- explaining a failure ----------------------------------------------------------------------- */

static void print_log_tail(struct watch *w, jv td, const char *task_id, const char *container)
{
    jv conts = sk_json_get(td, "containerDefinitions");
    int i, n = jlen(conts);

    for (i = 0; i < n; i++) {
        jv ct = jv_array_get(jv_copy(conts), i), lc = sk_json_get(ct, "logConfiguration"),
           opts = sk_json_get(lc, "options");
        const char *name = sk_json_str(ct, "name"), *driver = sk_json_str(lc, "logDriver");
        const char *group = sk_json_str(opts, "awslogs-group"), *prefix = sk_json_str(opts, "awslogs-stream-prefix");
        if (name && strcmp(name, container) == 0 && driver && strcmp(driver, "awslogs") == 0 && group && prefix) {
            struct sk_buf stream = SK_BUF_INIT;
            jv in = jv_object(), res;
            struct sk_err e;
            struct sk_client *lc_client;
            sk_err_clear(&e);
            sk_buf_addf(&stream, "%s/%s/%s", prefix, name, task_id);
            in = jv_object_set(in, jv_string("logGroupName"), jv_string(group));
            in = jv_object_set(in, jv_string("logStreamName"), jv_string(stream.p));
            in = jv_object_set(in, jv_string("limit"), jv_number(10));
            in = jv_object_set(in, jv_string("startFromHead"), jv_false());
            lc_client = logs_client(&w->logs, sk_json_str(opts, "awslogs-region"), &e);
            w->calls++;
            if (lc_client && sk_client_json(lc_client, &sk_svc_logs, "GetLogEvents", in, 0, &res, &e) == 0) {
                jv evs = sk_json_get(res, "events");
                int k, m = jlen(evs);
                if (m)
                    tool_line(stderr, "%s:     last log lines (%s %s%s%s):", progname, group, stream.p,
                              lc_client != w->c ? " in " : "", lc_client != w->c ? lc_client->region : "");
                for (k = 0; k < m; k++) {
                    jv ev = jv_array_get(jv_copy(evs), k);
                    tool_line(stderr, "%s:       %s", progname, str_or(ev, "message", ""));
                    jv_free(ev);
                }
                jv_free(evs);
                jv_free(res);
            } else {
                if (!lc_client)
                    jv_free(in);
                tool_line(stderr, "%s:     (no log lines: %s)", progname, e.msg);
            }
            sk_buf_release(&stream);
        }
        jv_free(opts);
        jv_free(lc);
        jv_free(ct);
    }
    jv_free(conts);
}

/* The distinct explanations of a failed deployment, each with how many tasks said it. */
#define MAX_WHY 6

struct whys {
    struct sk_explain e[MAX_WHY];
    int tasks[MAX_WHY];
    int n;
};

/* Keep e (taken over) unless an explanation with its reason is there already. */
static void whys_add(struct whys *ws, struct sk_explain *e, int tasks)
{
    int i;

    for (i = 0; i < ws->n; i++)
        if (strcmp(ws->e[i].reason, e->reason) == 0) {
            ws->tasks[i] += tasks;
            sk_explain_release(e);
            return;
        }
    if (ws->n == MAX_WHY) {
        sk_explain_release(e);
        return;
    }
    ws->e[ws->n] = *e;
    ws->tasks[ws->n++] = tasks;
    sk_explain_init(e);
}

/* Did any container of the task run (it has an exit code, or a runtime id)? */
static int task_ran(jv task)
{
    jv conts = sk_json_get(task, "containers");
    int i, n = jlen(conts), ran = 0;
    double code;

    for (i = 0; i < n && !ran; i++) {
        jv ct = jv_array_get(jv_copy(conts), i);
        ran = sk_json_num(ct, "exitCode", &code) == 0 || sk_json_str(ct, "runtimeId") != NULL;
        jv_free(ct);
    }
    jv_free(conts);
    return ran;
}

/* Why deployment dep_id failed, as people otherwise dig it out of the console: one line per distinct
 * cause (lib/explain.h) from its stopped tasks and the service's events since it started, with what
 * to do; then the first failed tasks with their stop code, reason, container exit codes and last log
 * lines. *why (if not NULL) gets [{kind, reason, hint, tasks}]. */
static void explain_failure(struct watch *w, const char *dep_id, jv td, jv *why)
{
    jv tasks = jv_invalid(), dep = find_deployment(w->last_svc, dep_id, NULL), events;
    struct whys ws;
    struct sk_explain e, ev[4];
    struct sk_err err;
    double since = 0;
    int i, n, pass, shown = 0;
    size_t k, nev;

    memset(&ws, 0, sizeof(ws));
    sk_explain_init(&e);
    sk_err_clear(&err);
    if (deployment_tasks(w, dep_id, "STOPPED", &tasks, &err) < 0) {
        tool_line(stderr, "%s: cannot list the stopped tasks: %s", progname, err.msg);
        tasks = jv_array();
    }
    n = jlen(tasks);
    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(tasks), i);
        sk_explain_task(t, &e);
        if (e.kind != SK_EXPLAIN_NONE)
            whys_add(&ws, &e, 1);
        sk_explain_release(&e);
        jv_free(t);
    }
    /* Placement failures leave no task, only events: those since the deployment began (none when
     * the service no longer shows it). */
    events = sk_json_get(w->last_svc, "events");
    nev = sk_json_num(dep, "createdAt", &since) == 0 ? sk_explain_events(events, since, ev, 4) : 0;
    for (k = 0; k < nev; k++) {
        int told = 0; /* a stopped task told it already, with more to say */
        for (i = 0; i < ws.n && !told; i++)
            told = ws.e[i].kind == ev[k].kind && ws.tasks[i] > 0;
        if (told)
            sk_explain_release(&ev[k]);
        else
            whys_add(&ws, &ev[k], 0);
    }
    jv_free(events);

    for (i = 0; i < ws.n; i++) {
        if (ws.tasks[i] > 1)
            tool_line(stderr, "%s: why: %s (%d tasks)", progname, ws.e[i].reason, ws.tasks[i]);
        else
            tool_line(stderr, "%s: why: %s", progname, ws.e[i].reason);
        if (ws.e[i].hint)
            tool_line(stderr, "%s:   fix: %s", progname, ws.e[i].hint);
    }
    /* The first two tasks that failed (then any), in detail. */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < n && shown < 2; i++) {
            jv t = jv_array_get(jv_copy(tasks), i), conts;
            const char *arn = str_or(t, "taskArn", "?");
            int j, m, ran = task_ran(t);
            sk_explain_task(t, &e);
            if ((pass == 0) != (e.failure != 0)) {
                sk_explain_release(&e);
                jv_free(t);
                continue;
            }
            sk_explain_release(&e);
            shown++;
            tool_line(stderr, "%s: stopped task %s: %s: %s", progname, sk_ecs_task_id(arn), str_or(t, "stopCode", "?"),
                      str_or(t, "stoppedReason", "no reason given"));
            conts = sk_json_get(t, "containers");
            m = jlen(conts);
            for (j = 0; j < m; j++) {
                jv ct = jv_array_get(jv_copy(conts), j);
                double code;
                if (sk_json_num(ct, "exitCode", &code) == 0)
                    tool_line(stderr, "%s:   container %s exited with code %.0f%s%s", progname, str_or(ct, "name", "?"),
                              code, sk_json_str(ct, "reason") ? ": " : "", str_or(ct, "reason", ""));
                else if (sk_json_str(ct, "reason") && strcmp(sk_json_str(ct, "reason"), str_or(t, "stoppedReason", "")))
                    tool_line(stderr, "%s:   container %s: %s", progname, str_or(ct, "name", "?"),
                              sk_json_str(ct, "reason"));
                if (ran && jv_get_kind(td) == JV_KIND_OBJECT && sk_json_str(ct, "name"))
                    print_log_tail(w, td, sk_ecs_task_id(arn), sk_json_str(ct, "name"));
                jv_free(ct);
            }
            if (!ran)
                tool_line(stderr, "%s:   no container ran (no exit code, no log lines)", progname);
            jv_free(conts);
            jv_free(t);
        }
    if (n > shown)
        tool_line(stderr, "%s: (%d more stopped tasks)", progname, n - shown);
    if (n == 0 && ws.n == 0)
        tool_line(stderr, "%s: no stopped tasks for deployment %s", progname, dep_id);
    if (why) {
        *why = jv_array();
        for (i = 0; i < ws.n; i++) {
            jv o = jv_object();
            o = jv_object_set(o, jv_string("kind"), jv_string(sk_explain_kind_name(ws.e[i].kind)));
            o = jv_object_set(o, jv_string("reason"), jv_string(ws.e[i].reason));
            if (ws.e[i].hint)
                o = jv_object_set(o, jv_string("hint"), jv_string(ws.e[i].hint));
            if (ws.e[i].subject)
                o = jv_object_set(o, jv_string("subject"), jv_string(ws.e[i].subject));
            o = jv_object_set(o, jv_string("tasks"), jv_number(ws.tasks[i]));
            *why = jv_array_append(*why, o);
        }
    }
    for (i = 0; i < ws.n; i++)
        sk_explain_release(&ws.e[i]);
    jv_free(tasks);
    jv_free(dep);
}

/* ---- the deploy ---------------------------------------------------------------------------------- */

static int update_service(struct sk_client *c, const struct opts *o, const char *td_arn, long desired, char *dep_id,
                          size_t dep_sz, struct sk_err *err)
{
    jv in = jv_object(), res, svc, primary;

    in = jv_object_set(in, jv_string("cluster"), jv_string(o->cluster));
    in = jv_object_set(in, jv_string("service"), jv_string(o->service));
    in = jv_object_set(in, jv_string("taskDefinition"), jv_string(td_arn));
    if (desired >= 0)
        in = jv_object_set(in, jv_string("desiredCount"), jv_number((double)desired));
    if (sk_client_json(c, &sk_svc_ecs, "UpdateService", in, 0, &res, err) < 0)
        return -1;
    /* The new deployment's id comes from the response itself (a DescribeServices right after may
     * not show it yet: aws-cli#9275). */
    svc = sk_json_get(res, "service");
    primary = find_deployment(svc, NULL, "PRIMARY");
    snprintf(dep_id, dep_sz, "%s", str_or(primary, "id", ""));
    jv_free(primary);
    jv_free(svc);
    jv_free(res);
    if (!*dep_id)
        return sk_errf(err, SK_E_PARSE, "ecs UpdateService: no PRIMARY deployment in the response");
    return 0;
}

/* After a failure past RegisterTaskDefinition, say in err which task definition the service is on
 * now: a failed UpdateService may have been applied (a reset after ECS acted), a lost wait leaves a
 * deployment in progress. One more DescribeServices (with its own retries) finds out. */
static void tell_state(struct sk_client *c, const struct opts *o, const char *new_arn, const char *prev_td,
                       struct sk_err *err)
{
    struct sk_err e;
    jv svc;

    sk_err_clear(&e);
    if (sk_ecs_describe_service(c, o->cluster, o->service, &svc, &e) < 0) {
        tool_err_append(err, "; cannot tell which task definition the service is on (%s)", e.msg);
        return;
    }
    {
        const char *now = str_or(svc, "taskDefinition", "?");
        jv primary = find_deployment(svc, NULL, "PRIMARY");
        const char *what = new_arn && strcmp(now, new_arn) == 0   ? "the new revision"
                           : prev_td && strcmp(now, prev_td) == 0 ? "unchanged, the revision from before"
                                                                  : "neither the new nor the previous revision";
        tool_err_append(err, "; the service is on %s (%s), deployment %s %s", td_name(now), what,
                        str_or(primary, "id", "?"), str_or(primary, "rolloutState", "?"));
        jv_free(primary);
    }
    jv_free(svc);
}

/* Does the service run TD steadily: one deployment, PRIMARY on TD, its rollout COMPLETED, and as
 * many tasks running as desired? */
static int steady_on(jv svc, const char *td)
{
    jv deps = sk_json_get(svc, "deployments"), d;
    int ok;

    if (jlen(deps) != 1) {
        jv_free(deps);
        return 0;
    }
    d = jv_array_get(deps, 0);
    ok = strcmp(str_or(d, "status", ""), "PRIMARY") == 0 && strcmp(str_or(d, "taskDefinition", ""), td) == 0 &&
         strcmp(str_or(d, "rolloutState", ""), "COMPLETED") == 0 &&
         num_or(svc, "runningCount", -1) == num_or(svc, "desiredCount", -2);
    jv_free(d);
    return ok;
}

static void print_result(jv result, FILE *out)
{
    double secs = 0;

    sk_json_num(result, "durationSeconds", &secs);
    fprintf(out, "%s %s deployment %s in %.0fs\n", str_or(result, "verdict", "?"),
            str_or(result, "taskDefinitionArn", "?"), str_or(result, "deploymentId", "?"), secs);
}

static int deploy(const struct opts *o, struct sk_client *c, int *code, struct sk_err *err)
{
    jv svc = jv_invalid(), base_td = jv_invalid(), base_tags = jv_invalid(), reg_in = jv_invalid(),
       reg_res = jv_invalid(), shown = jv_invalid(), new_td = jv_invalid(), why = jv_invalid(), result;
    char *prev_td = NULL, *new_arn = NULL;
    char dep_id[128] = "", rb_dep[128] = "";
    const char *verdict = "failed";
    struct watch w;
    struct outcome oc;
    double start = tool_now_s(), deadline = start + (double)o->timeout;
    int rc = -1;

    memset(&w, 0, sizeof(w));
    memset(&oc, 0, sizeof(oc));
    w.o = o;
    w.c = c;
    w.last_svc = jv_invalid();
    w.st.seen = jv_invalid();
    w.logs.o = o;
    w.logs.home = c;
    sk_buf_init(&w.last_table);

    /* 1. What runs now: the rollback target, and the base of the new revision. */
    w.calls++;
    if (sk_ecs_describe_service(c, o->cluster, o->service, &svc, err) < 0)
        goto out;
    if (strcmp(str_or(svc, "status", ""), "ACTIVE") != 0) {
        sk_errf(err, SK_E_AWS, "service '%s' is %s, not ACTIVE", o->service, str_or(svc, "status", "?"));
        goto out;
    }
    {
        jv ctl = sk_json_get(svc, "deploymentController");
        const char *type = sk_json_str(ctl, "type");
        if (type && strcmp(type, "ECS") != 0) {
            sk_errf(err, SK_E_USAGE,
                    "service '%s' uses the %s deployment controller; ecs-roll drives ECS rolling "
                    "deployments",
                    o->service, type);
            jv_free(ctl);
            goto out;
        }
        jv_free(ctl);
    }
    prev_td = xstrdup(str_or(svc, "taskDefinition", ""));
    print_events(&w, svc, 1); /* what happened before this deploy is not news */
    if (o->task_def) {
        if (load_task_def_file(o->task_def, &base_td, &base_tags, err) < 0)
            goto out;
    } else if (describe_task_def(c, prev_td, &base_td, &base_tags, err) < 0) {
        goto out;
    }
    /* The same transformation with and without the new images: the diff shows only real changes. */
    if (build_register_input(o, 0, jv_copy(base_td), jv_copy(base_tags), &shown, err) < 0 ||
        build_register_input(o, 1, jv_copy(base_td), jv_copy(base_tags), &reg_in, err) < 0)
        goto out;

    /* Nothing to do: the service runs, steadily, exactly what we would register (a re-run of a deploy
     * whose image did not change). Registering it again would only make a new revision and restart
     * every task. */
    if (!o->force && !o->task_def && jv_equal(jv_copy(shown), jv_copy(reg_in)) && steady_on(svc, prev_td) &&
        (o->desired < 0 || o->desired == num_or(svc, "desiredCount", -1))) {
        jv deps = sk_json_get(svc, "deployments"), d0 = jv_array_get(deps, 0);
        snprintf(dep_id, sizeof(dep_id), "%s", str_or(d0, "id", ""));
        jv_free(d0);
        new_arn = xstrdup(prev_td);
        verdict = "unchanged";
        tool_note(&o->c,
                  "%s already runs %s with these images (deployment %s, completed); nothing was changed "
                  "(--force deploys anyway)",
                  o->service, td_name(prev_td), dep_id);
        *code = EXIT_OK;
        goto report;
    }

    if (o->dry_run) {
        print_diff(shown, reg_in);
        tool_line(stdout, "would call: ecs RegisterTaskDefinition (family %s)", str_or(reg_in, "family", "?"));
        tool_line(stdout, "would call: ecs UpdateService (cluster %s, service %s, new revision%s)", o->cluster,
                  o->service, o->desired >= 0 ? ", desired count" : "");
        tool_line(stdout, "running now: %s; nothing was changed", td_name(prev_td));
        *code = EXIT_OK;
        rc = 0;
        goto out;
    }

    /* 2. Register the new revision. */
    w.calls++;
    if (sk_client_json(c, &sk_svc_ecs, "RegisterTaskDefinition", jv_copy(reg_in), 0, &reg_res, err) < 0)
        goto out;
    new_td = sk_json_get(reg_res, "taskDefinition");
    if (!sk_json_str(new_td, "taskDefinitionArn")) {
        sk_errf(err, SK_E_PARSE, "ecs RegisterTaskDefinition: no taskDefinitionArn in the response");
        goto out;
    }
    new_arn = xstrdup(sk_json_str(new_td, "taskDefinitionArn"));
    tool_note(&o->c, "registered %s (was %s)", td_name(new_arn), td_name(prev_td));

    /* 3. Point the service at it; our deployment is the PRIMARY of the response. */
    w.calls++;
    if (update_service(c, o, new_arn, o->desired, dep_id, sizeof(dep_id), err) < 0) {
        sk_err_prefix(err, "UpdateService to %s", td_name(new_arn));
        tell_state(c, o, new_arn, prev_td, err);
        goto out;
    }
    tool_note(&o->c, "deployment %s started", dep_id);
    if (o->no_wait) {
        verdict = "started";
        *code = EXIT_OK;
        goto report;
    }

    /* 4. Watch it. */
    if (wait_deployment(&w, dep_id, new_arn, prev_td, deadline, o->wait_healthy, &oc, err) < 0) {
        sk_err_prefix(err, "deployment %s of %s started, then watching it failed", dep_id, td_name(new_arn));
        tell_state(c, o, new_arn, prev_td, err);
        goto out;
    }
    switch (oc.v) {
    case V_DONE:
        verdict = "deployed";
        *code = EXIT_OK;
        goto report;
    case V_TIMEOUT:
        verdict = "timed-out";
        tool_note(&o->c, "timed out after %lds: deployment %s is still in progress; the service is left as it is",
                  o->timeout, dep_id);
        *code = EXIT_TIMEOUT;
        goto report;
    case V_REPLACED:
        verdict = "replaced";
        tool_note(&o->c, "deploy failed: %s", oc.reason);
        *code = EXIT_NO;
        goto report; /* somebody else's deploy: not ours to roll back */
    default: break;
    }

    /* 5. It failed: say why, then get back to what ran before. */
    tool_note(&o->c, "deploy failed: %s", oc.reason);
    explain_failure(&w, dep_id, new_td, &why);
    *code = EXIT_NO;
    if (oc.v == V_ROLLED_BACK_BY_ECS) {
        struct outcome rb = { 0 };
        snprintf(rb_dep, sizeof(rb_dep), "%s", oc.other_dep);
        tool_note(&o->c, "waiting for ECS's rollback (deployment %s) to finish", rb_dep);
        if (wait_deployment(&w, rb_dep, prev_td, NULL, deadline, 0, &rb, err) < 0) {
            sk_err_prefix(err, "deploy of %s failed; watching ECS's rollback %s failed", td_name(new_arn), rb_dep);
            tell_state(c, o, new_arn, prev_td, err);
            goto out;
        }
        verdict = rb.v == V_DONE ? "rolled-back" : "rollback-incomplete";
        if (rb.v == V_TIMEOUT)
            *code = EXIT_TIMEOUT;
        else if (rb.v != V_DONE)
            tool_note(&o->c, "ECS's rollback did not finish: %s", rb.reason);
    } else if (o->no_rollback) {
        verdict = "failed";
        tool_note(&o->c, "--no-rollback: the service is left on %s", td_name(new_arn));
    } else {
        struct outcome rb = { 0 };
        tool_note(&o->c, "rolling back to %s", td_name(prev_td));
        w.calls++;
        if (update_service(c, o, prev_td, -1, rb_dep, sizeof(rb_dep), err) < 0) {
            sk_err_prefix(err, "deploy of %s failed; UpdateService back to %s", td_name(new_arn), td_name(prev_td));
            tell_state(c, o, new_arn, prev_td, err);
            goto out;
        }
        if (wait_deployment(&w, rb_dep, prev_td, NULL, deadline, 0, &rb, err) < 0) {
            sk_err_prefix(err, "deploy of %s failed; rollback %s to %s started, then watching it failed",
                          td_name(new_arn), rb_dep, td_name(prev_td));
            tell_state(c, o, new_arn, prev_td, err);
            goto out;
        }
        verdict = rb.v == V_DONE ? "rolled-back" : "rollback-incomplete";
        if (rb.v == V_TIMEOUT)
            *code = EXIT_TIMEOUT;
        else if (rb.v != V_DONE)
            tool_note(&o->c, "the rollback did not finish: %s", rb.reason);
    }

report:
    result = jv_object();
    result = jv_object_set(result, jv_string("verdict"), jv_string(verdict));
    result = jv_object_set(result, jv_string("taskDefinitionArn"), jv_string(new_arn ? new_arn : ""));
    result = jv_object_set(result, jv_string("previousTaskDefinitionArn"), jv_string(prev_td));
    result = jv_object_set(result, jv_string("deploymentId"), jv_string(dep_id));
    if (rb_dep[0])
        result = jv_object_set(result, jv_string("rollbackDeploymentId"), jv_string(rb_dep));
    if (oc.reason[0] && oc.v != V_DONE)
        result = jv_object_set(result, jv_string("reason"), jv_string(oc.reason));
    if (jv_get_kind(why) == JV_KIND_ARRAY)
        result = jv_object_set(result, jv_string("why"), jv_copy(why));
    result = jv_object_set(result, jv_string("durationSeconds"), jv_number(floor(tool_now_s() - start + 0.5)));
    result = jv_object_set(result, jv_string("apiCalls"), jv_number(w.calls));
    if (tool_emit(&o->c, result, print_result, err) < 0)
        goto out;
    rc = 0;
out:
    watch_release(&w);
    jv_free(svc);
    jv_free(base_td);
    jv_free(base_tags);
    jv_free(reg_in);
    jv_free(reg_res);
    jv_free(shown);
    jv_free(new_td);
    jv_free(why);
    free(prev_td);
    free(new_arn);
    return rc;
}

/* ---- --status and --logs ------------------------------------------------------------------------- */

static void print_status(jv s, FILE *out)
{
    struct sk_buf t = SK_BUF_INIT;
    jv ev = sk_json_get(s, "events");
    int i, n = jlen(ev);

    fprintf(out, "service  %s (%s) in %s\n", str_or(s, "serviceName", "?"), str_or(s, "status", "?"),
            td_name(sk_json_str(s, "clusterArn")));
    fprintf(out, "tasks    desired %ld, running %ld, pending %ld\n", num_or(s, "desiredCount", 0),
            num_or(s, "runningCount", 0), num_or(s, "pendingCount", 0));
    fprintf(out, "runs     %s\n", td_name(sk_json_str(s, "taskDefinition")));
    deployment_table(s, &t);
    fprintf(out, "deployments\n%s", t.p);
    fprintf(out, "recent events\n");
    for (i = 0; i < n && i < 10; i++) {
        jv e = jv_array_get(jv_copy(ev), i);
        double ts = 0;
        char hms[16];
        sk_json_num(e, "createdAt", &ts);
        clock_time(ts, hms);
        fprintf(out, "  %s %s\n", hms, str_or(e, "message", ""));
        jv_free(e);
    }
    sk_buf_release(&t);
    jv_free(ev);
}

static int status(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    jv svc;

    if (sk_ecs_describe_service(c, o->cluster, o->service, &svc, err) < 0)
        return -1;
    return tool_emit(&o->c, svc, print_status, err);
}

/* The service's log lines: every awslogs container of the running task definition, like
 * `aws logs tail GROUP --follow`, with the task id in front of each line. */
static int logs(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    jv svc = jv_invalid(), td = jv_invalid(), tags = jv_invalid(), conts, seen = jv_object();
    long long start_ms = ((long long)time(NULL) - o->since) * 1000;
    int rc = -1, i, n, rounds = 0;
    struct log_regions lr;

    memset(&lr, 0, sizeof(lr));
    lr.o = o;
    lr.home = c;

    if (sk_ecs_describe_service(c, o->cluster, o->service, &svc, err) < 0 ||
        describe_task_def(c, str_or(svc, "taskDefinition", ""), &td, &tags, err) < 0)
        goto out;
    conts = sk_json_get(td, "containerDefinitions");
    n = jlen(conts);
    for (;;) {
        long long newest = start_ms;
        for (i = 0; i < n; i++) {
            jv ct = jv_array_get(jv_copy(conts), i), lc = sk_json_get(ct, "logConfiguration"),
               opt = sk_json_get(lc, "options");
            const char *group = sk_json_str(opt, "awslogs-group"), *prefix = sk_json_str(opt, "awslogs-stream-prefix");
            struct sk_client *lc_client = NULL;
            if (group && prefix && sk_json_str(ct, "name") &&
                !(lc_client = logs_client(&lr, sk_json_str(opt, "awslogs-region"), err))) {
                jv_free(opt);
                jv_free(lc);
                jv_free(ct);
                jv_free(conts);
                goto out;
            }
            if (lc_client) {
                struct sk_buf sp = SK_BUF_INIT;
                jv next = jv_null();
                int pages;
                sk_buf_addf(&sp, "%s/%s/", prefix, sk_json_str(ct, "name"));
                for (pages = 0; pages < 50; pages++) {
                    jv in = jv_object(), res, evs;
                    int k, m;
                    in = jv_object_set(in, jv_string("logGroupName"), jv_string(group));
                    in = jv_object_set(in, jv_string("logStreamNamePrefix"), jv_string(sp.p));
                    in = jv_object_set(in, jv_string("startTime"), jv_number((double)start_ms));
                    if (jv_get_kind(next) == JV_KIND_STRING)
                        in = jv_object_set(in, jv_string("nextToken"), jv_copy(next));
                    if (sk_client_json(lc_client, &sk_svc_logs, "FilterLogEvents", in, 0, &res, err) < 0) {
                        jv_free(next);
                        sk_buf_release(&sp);
                        jv_free(opt);
                        jv_free(lc);
                        jv_free(ct);
                        jv_free(conts);
                        goto out;
                    }
                    evs = sk_json_get(res, "events");
                    m = jlen(evs);
                    for (k = 0; k < m; k++) {
                        jv e = jv_array_get(jv_copy(evs), k);
                        const char *id = str_or(e, "eventId", ""), *stream = str_or(e, "logStreamName", "");
                        double ts = 0;
                        char hms[16];
                        jv was = sk_json_get(seen, id);
                        if (jv_get_kind(was) == JV_KIND_INVALID) {
                            sk_json_num(e, "timestamp", &ts);
                            clock_time(ts / 1000, hms);
                            tool_line(stdout, "%s %s %s", hms, strrchr(stream, '/') ? strrchr(stream, '/') + 1 : stream,
                                      str_or(e, "message", ""));
                            seen = jv_object_set(seen, jv_string(id), jv_true());
                            if ((long long)ts > newest)
                                newest = (long long)ts;
                        }
                        jv_free(was);
                        jv_free(e);
                    }
                    jv_free(evs);
                    jv_free(next);
                    next = sk_json_get(res, "nextToken");
                    jv_free(res);
                    if (jv_get_kind(next) != JV_KIND_STRING)
                        break;
                }
                jv_free(next);
                sk_buf_release(&sp);
            }
            jv_free(opt);
            jv_free(lc);
            jv_free(ct);
        }
        fflush(stdout);
        if (!o->follow || ferror(stdout))
            break;
        start_ms = newest; /* the same millisecond again: ids deduplicate */
        if (++rounds % 30 == 0) {
            jv_free(seen); /* bounded memory when following for hours */
            seen = jv_object();
            start_ms = newest + 1;
        }
        tool_sleep_s(2.0 * poll_scale());
    }
    jv_free(conts);
    rc = 0;
out:
    log_regions_release(&lr);
    jv_free(seen);
    jv_free(svc);
    jv_free(td);
    jv_free(tags);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    struct sk_client c;
    int code = EXIT_OK, rc = -1;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("ecs-roll");
    parse_args(argc, argv, &o);
    if (sk_scale_env("SK_POLL_SCALE", &(double){ 1 }, &err) == 0 && tool_client_init(&c, &o.c, &err) == 0) {
        switch (o.mode) {
        case MODE_DEPLOY: rc = deploy(&o, &c, &code, &err); break;
        case MODE_STATUS: rc = status(&o, &c, &err); break;
        case MODE_LOGS: rc = logs(&o, &c, &err); break;
        }
        sk_client_release(&c);
    }
    if (rc < 0)
        code = tool_fail(&o.c, &err);
    return tool_finish(code);
}
