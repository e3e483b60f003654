/*
 * ecs-roll - roll new images out on an ECS service: register a task-definition revision, update
 * the service, watch the deployment it started, and say plainly whether it worked and why not.
 *
 * The flow: options, calls, output. The rules are the library's: the verdict on a deployment, the
 * stall rule and why a deployment failed (lib/svc/deploy.h, lib/svc/explain.h), the service and its tasks
 * (lib/svc/ecs.h), the task-definition revision to register (sk_ecs_taskdef_with_images), the log lines
 * (lib/svc/logs.h). On failure: the stopped tasks and their last log lines, then a rollback to the
 * task definition that ran before.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/client.h"
#include "aws/config.h"
#include "svc/deploy.h"
#include "svc/ecs.h"
#include "svc/explain.h"
#include "svc/fleet.h"
#include "core/json.h"
#include "svc/logs.h"
#include "core/mem.h"
#include "aws/pace.h"
#include "core/cache.h"
#include "core/text.h"
#include "core/yamljv.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "svc/ecr.h"
#include "svc/preflight.h"
#include "svc/sdeploy.h"
#include "tool.h"

static const char usage_text[] =
    "usage: ecs-roll --cluster C --service S [--image [CONTAINER=]IMAGE]... [--task-def FILE]\n"
    "                [--desired-count N] [--timeout DURATION] [--no-rollback] [--no-wait] [--wait-healthy]\n"
    "                [--force] [--dry-run] [--keep-revisions N] [--no-verify] [--wait-until STAGE] [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --rollback [DEPLOY OPTIONS] [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --abort [--timeout DURATION] [OPTIONS]\n"
    "       ecs-roll --cluster C [--image [CONTAINER=]IMAGE]... (--service S [--image [CONTAINER=]IMAGE]...)...\n"
    "                [--plan FILE] [--max-parallel N] [--fail-fast] [DEPLOY OPTIONS] [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --verify [--image [CONTAINER=]IMAGE]... [--task-def FILE] [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --status [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --logs [--follow] [--since DURATION] [OPTIONS]\n"
    "       ecs-roll --cluster C --service S --logs --stopped [OPTIONS]\n";

static const char help_text[] =
    "\n"
    "Deploy new images to an ECS service and wait for the verdict; roll back if it fails.\n"
    "\n"
    "  --cluster C             the cluster\n"
    "  --service S             the service; several: a fleet, deployed together (below)\n"
    "  --image [NAME=]IMAGE    new image for container NAME (NAME may be left out with one container);\n"
    "                          after a --service, for that service; before any, for every service\n"
    "  --task-def FILE         start from this task definition (JSON or YAML; describe output accepted)\n"
    "  --desired-count N       also set the desired count\n"
    "  --timeout DURATION      give up waiting after this long: 90s, 15m, 1h (default 15m; exit 6)\n"
    "  --no-rollback           on failure, leave the service as it is\n"
    "  --no-wait               update the service and exit\n"
    "  --wait-healthy          also wait for the new tasks' targets to be healthy\n"
    "  --force                 deploy even when the service already runs exactly these images\n"
    "  --dry-run               show the task-definition diff and the calls; change nothing\n"
    "  --no-verify             skip the checks made before anything is registered (images, roles,\n"
    "                          secrets, log groups, load balancers)\n"
    "  --verify                only make those checks: exit 0 when all pass, 1 when one fails\n"
    "  --keep-revisions N      after a deploy succeeds, deregister the family's ACTIVE revisions\n"
    "                          beyond the newest N (never one the service runs)\n"
    "  --wait-until STAGE      blue/green, linear, canary: exit 0 once the deployment has passed\n"
    "                          STAGE (e.g. PRODUCTION_TRAFFIC_SHIFT); ECS goes on with the rest\n"
    "  --rollback              deploy the task definition of the last successful deployment\n"
    "  --abort                 stop the deployment in progress, roll it back, and wait for that\n"
    "  --status                show the service, its deployments and recent events\n"
    "  --logs                  print the service's recent CloudWatch Logs lines\n"
    "  --follow                with --logs: keep following\n"
    "  --since DURATION        with --logs: how far back (default 10m)\n"
    "  --stopped               with --logs: the service's last stopped tasks, why each stopped and\n"
    "                          its containers' last log lines\n"
    "\n"
    "Fleets: several --service, or --plan FILE (YAML or JSON: services, each with its images).\n"
    "  --plan FILE             the services to deploy and their images\n"
    "  --max-parallel N        deploy at most N services at a time (default 50)\n"
    "  --fail-fast             after the first service that fails, start no more\n"
    "  Each service is deployed, watched and rolled back on its own; one DescribeServices watches 10.\n"
    "  Lines name their service; a table (or --output json) sums up; the exit code is the highest.\n"
    "  A throttled call is retried until --timeout, in every mode.\n"
    "\n";

enum mode { MODE_DEPLOY, MODE_STATUS, MODE_LOGS, MODE_ABORT };

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
    OPT_SINCE,
    OPT_KEEP_REVISIONS,
    OPT_STOPPED,
    OPT_VERIFY,
    OPT_NO_VERIFY,
    OPT_PLAN,
    OPT_MAX_PARALLEL,
    OPT_FAIL_FAST,
    OPT_WAIT_UNTIL,
    OPT_ABORT,
    OPT_ROLLBACK
};

#define MAX_IMAGES 32

struct opts {
    struct common_opts c;
    const char *cluster, *service, *task_def;
    const char *images[MAX_IMAGES];
    int nimages;
    long desired, timeout, since, keep; /* keep: --keep-revisions (0: off) */
    int no_rollback, no_wait, wait_healthy, dry_run, follow, force, stopped;
    int verify_only, no_verify; /* --verify, --no-verify */
    const char *wait_until;     /* --wait-until STAGE */
    int rollback;               /* --rollback */
    enum mode mode;
    /* fleets: every --service (with the --image values after it) and --plan's services */
    struct sk_fleet_plan plan;
    struct sk_fleet_item *last; /* the service the next --image is for; NULL: every service */
    const char *plan_file;
    long max_parallel;
    int fail_fast;
    /* one deploy of a fleet: where its result goes, the poller it waits through */
    jv *result_out;
    struct sk_fleet_poll *poll;
};

/* ---- arguments ------------------------------------------------------------------------------- */

/* One tool option (not a common one). */
static void take_opt(struct opts *o, int opt, char **argv, int *deploy_opts)
{
    switch (opt) {
    case OPT_CLUSTER: o->cluster = optarg; break;
    case OPT_DESIRED:
        if (tool_parse_long(optarg, 0, 100000, &o->desired) < 0)
            tool_usage("--desired-count must be a whole number, not '%s'", optarg);
        (*deploy_opts)++;
        break;
    case OPT_DRY_RUN: o->dry_run = 1; break;
    case OPT_FOLLOW: o->follow = 1; break;
    case OPT_FORCE:
        o->force = 1;
        (*deploy_opts)++;
        break;
    case OPT_IMAGE:
        if (o->nimages == MAX_IMAGES)
            tool_usage("at most %d --image options", MAX_IMAGES);
        if (!*optarg || strpbrk(optarg, " \t\r\n") || optarg[strlen(optarg) - 1] == '=')
            tool_usage("--image needs [CONTAINER=]IMAGE, not '%s'", optarg);
        if (o->last) {
            struct sk_err err;
            sk_err_clear(&err);
            if (sk_fleet_item_image(o->last, optarg, &err) < 0)
                tool_usage("%s", err.msg);
        } else {
            o->images[o->nimages++] = optarg;
        }
        (*deploy_opts)++;
        break;
    case OPT_PLAN: o->plan_file = optarg; break;
    case OPT_MAX_PARALLEL:
        if (tool_parse_long(optarg, 1, 1000, &o->max_parallel) < 0)
            tool_usage("--max-parallel must be a whole number from 1 to 1000, not '%s'", optarg);
        break;
    case OPT_FAIL_FAST: o->fail_fast = 1; break;
    case OPT_KEEP_REVISIONS:
        if (tool_parse_long(optarg, 1, 10000, &o->keep) < 0)
            tool_usage("--keep-revisions must be a whole number from 1 to 10000, not '%s'", optarg);
        (*deploy_opts)++;
        break;
    case OPT_LOGS: o->mode = MODE_LOGS; break;
    case OPT_NO_ROLLBACK: o->no_rollback = 1; break;
    case OPT_NO_WAIT: o->no_wait = 1; break;
    case OPT_SERVICE: {
        struct sk_err err;
        sk_err_clear(&err);
        if (!(o->last = sk_fleet_plan_add(&o->plan, optarg, &err)))
            tool_usage("--service: %s", err.msg);
        o->service = optarg;
        break;
    }
    case OPT_SINCE:
        if (tool_parse_duration(optarg, &o->since) < 0)
            tool_usage("--since must look like 90s, 15m or 1h, not '%s'", optarg);
        break;
    case OPT_STATUS: o->mode = MODE_STATUS; break;
    case OPT_STOPPED: o->stopped = 1; break;
    case OPT_TASK_DEF:
        o->task_def = optarg;
        (*deploy_opts)++;
        break;
    case OPT_TIMEOUT:
        if (tool_parse_duration(optarg, &o->timeout) < 0)
            tool_usage("--timeout must look like 90s, 15m or 1h, not '%s'", optarg);
        break;
    case OPT_WAIT_HEALTHY: o->wait_healthy = 1; break;
    case OPT_VERIFY: o->verify_only = 1; break;
    case OPT_WAIT_UNTIL:
        if (sk_sd_stage_index(optarg) < 0 || sk_sd_stage_index(optarg) == sk_sd_stage_index("CLEAN_UP"))
            tool_usage("--wait-until takes a lifecycle stage before CLEAN_UP (RECONCILE_SERVICE, PRE_SCALE_UP, "
                       "SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, "
                       "PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME), not '%s'",
                       optarg);
        o->wait_until = optarg;
        (*deploy_opts)++;
        break;
    case OPT_ABORT: o->mode = MODE_ABORT; break;
    case OPT_ROLLBACK:
        o->rollback = 1;
        (*deploy_opts)++;
        break;
    case OPT_NO_VERIFY: o->no_verify = 1; break;
    default: tool_bad_option(argv, opt);
    }
}

/* Several services, or a plan: the fleet mode. */
static int is_fleet(const struct opts *o)
{
    return o->plan.n > 1 || o->plan_file;
}

/* --plan FILE: its services join the plan; its cluster is --cluster's when that is not given. */
static void read_plan(struct opts *o)
{
    struct sk_buf text = SK_BUF_INIT;
    struct sk_err err;

    sk_err_clear(&err);
    if (tool_read_input(o->plan_file, &text, SK_YAML_MAX, &err) < 0 ||
        sk_fleet_plan_parse(text.p, text.len, o->plan_file, &o->plan, &err) < 0) {
        sk_buf_release(&text);
        sk_fleet_plan_release(&o->plan);
        exit(tool_fail(&o->c, &err));
    }
    sk_buf_release(&text);
    if (o->plan.cluster && !o->cluster)
        o->cluster = o->plan.cluster;
    else if (o->plan.cluster && strcmp(o->plan.cluster, o->cluster) != 0)
        tool_usage("--cluster %s and the plan's cluster %s differ", o->cluster, o->plan.cluster);
}

/* The images of one service: its own, then every image given before the first --service whose
 * container it does not name itself. */
static void item_opts(const struct opts *o, const struct sk_fleet_item *it, struct opts *out)
{
    int i, k, n = 0;

    *out = *o;
    out->service = it->service;
    for (i = 0; i < it->nimages && n < MAX_IMAGES; i++)
        out->images[n++] = it->images[i];
    for (k = 0; k < o->nimages && n < MAX_IMAGES; k++) {
        const char *g = o->images[k], *eq = strchr(g, '=');
        size_t gl = eq ? (size_t)(eq - g) : 0;
        for (i = 0; i < it->nimages; i++) {
            const char *e = strchr(it->images[i], '=');
            size_t il = e ? (size_t)(e - it->images[i]) : 0;
            /* the same container; or either names none (the only container): the service's wins */
            if (!il || !gl || (il == gl && strncmp(g, it->images[i], gl) == 0))
                break;
        }
        if (i == it->nimages)
            out->images[n++] = g;
    }
    out->nimages = n;
    if (it->desired >= 0)
        out->desired = it->desired;
}

static void check_args(const struct opts *o, int argc, char **argv, int deploy_opts)
{
    size_t i;

    if (optind < argc)
        tool_usage("unexpected argument '%s'", argv[optind]);
    if (!o->cluster || !*o->cluster)
        tool_usage("missing --cluster");
    if (o->plan.n == 0)
        tool_usage("missing --service");
    if (is_fleet(o)) {
        if (o->mode != MODE_DEPLOY)
            tool_usage("--status, --logs and --abort look at one service");
        if (o->rollback || o->wait_until)
            tool_usage("%s is for one service, not a fleet", o->rollback ? "--rollback" : "--wait-until");
        if (o->task_def)
            tool_usage("--task-def is for one service, not a fleet");
        for (i = 0; i < o->plan.n; i++) {
            const struct sk_fleet_item *it = &o->plan.v[i];
            if (!it->nimages && !o->nimages && it->desired < 0 && o->desired < 0 && !o->force)
                tool_usage("service %s gets no image: an --image after a --service is for that service only; "
                           "one for every service goes before the first --service",
                           it->service);
        }
    } else if (o->max_parallel || o->fail_fast) {
        tool_usage("%s goes with several services (--service more than once, or --plan)",
                   o->fail_fast ? "--fail-fast" : "--max-parallel");
    }
    if (o->mode != MODE_DEPLOY && (deploy_opts || o->dry_run || o->no_wait || o->no_rollback || o->wait_healthy ||
                                   o->verify_only || o->no_verify))
        tool_usage("--status, --logs and --abort take no deploy options");
    if (o->rollback) {
        int images = o->nimages || (o->plan.n && o->plan.v[0].nimages);
        if (images || o->task_def || o->verify_only || o->force)
            tool_usage("--rollback deploys a revision that ran before: not with %s", images           ? "--image"
                                                                                     : o->task_def    ? "--task-def"
                                                                                     : o->verify_only ? "--verify"
                                                                                                      : "--force");
    }
    if (o->wait_until && (o->no_wait || o->keep))
        tool_usage("--wait-until returns before the deployment ends: not with %s",
                   o->no_wait ? "--no-wait" : "--keep-revisions");
    if (o->mode != MODE_LOGS && (o->follow || o->stopped))
        tool_usage("%s goes with --logs", o->follow ? "--follow" : "--stopped");
    if (o->stopped && o->follow)
        tool_usage("--stopped shows what has stopped: not with --follow");
    if (o->no_wait && o->wait_healthy)
        tool_usage("--no-wait and --wait-healthy exclude each other");
    if (o->no_wait && o->keep)
        tool_usage("--keep-revisions waits for the verdict: not with --no-wait");
    if (o->verify_only && o->no_verify)
        tool_usage("--verify and --no-verify exclude each other");
    if (o->verify_only &&
        (o->dry_run || o->no_wait || o->no_rollback || o->wait_healthy || o->keep || o->force || o->desired >= 0))
        tool_usage("--verify changes nothing: it takes only --image and --task-def");
}

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
        { "keep-revisions", required_argument, NULL, OPT_KEEP_REVISIONS },
        { "logs", no_argument, NULL, OPT_LOGS },
        { "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
        { "no-verify", no_argument, NULL, OPT_NO_VERIFY },
        { "no-wait", no_argument, NULL, OPT_NO_WAIT },
        { "service", required_argument, NULL, OPT_SERVICE },
        { "since", required_argument, NULL, OPT_SINCE },
        { "status", no_argument, NULL, OPT_STATUS },
        { "stopped", no_argument, NULL, OPT_STOPPED },
        { "task-def", required_argument, NULL, OPT_TASK_DEF },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "verify", no_argument, NULL, OPT_VERIFY },
        { "wait-healthy", no_argument, NULL, OPT_WAIT_HEALTHY },
        { "plan", required_argument, NULL, OPT_PLAN },
        { "max-parallel", required_argument, NULL, OPT_MAX_PARALLEL },
        { "fail-fast", no_argument, NULL, OPT_FAIL_FAST },
        { "wait-until", required_argument, NULL, OPT_WAIT_UNTIL },
        { "abort", no_argument, NULL, OPT_ABORT },
        { "rollback", no_argument, NULL, OPT_ROLLBACK },
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
        take_opt(o, opt, argv, &deploy_opts);
    }
    if (o->plan_file)
        read_plan(o);
    check_args(o, argc, argv, deploy_opts);
    if (!is_fleet(o)) {
        struct opts one;
        item_opts(o, &o->plan.v[0], &one);
        memcpy(o->images, one.images, sizeof(o->images));
        o->nimages = one.nimages;
        o->service = one.service;
    }
}
/* ---- small helpers --------------------------------------------------------------------------- */

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
            const char *qa = pa, *qb = pb;
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

#define td_name sk_ecs_arn_name

static long count_or(long v, long dflt)
{
    return v == SK_ECS_ABSENT ? dflt : v;
}

static void clock_time(double epoch, char out[16])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 16, "%H:%M:%S", &tm);
}

/* The task definition of --task-def FILE (JSON or YAML; describe output accepted). */
static int load_task_def_file(const char *path, jv *td, jv *tags, struct sk_err *err)
{
    struct sk_buf text = SK_BUF_INIT;
    int rc;

    if (tool_read_input(path, &text, (size_t)4 << 20, err) < 0)
        return -1;
    rc = sk_ecs_taskdef_parse(text.p, text.len, path, td, tags, err);
    sk_buf_release(&text);
    return rc;
}

/* ---- watching a deployment --------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted; /* Ctrl-C while watching one deploy */

struct watch {
    const struct opts *o;
    struct sk_client *c;
    char *seen_events[256]; /* ids already printed (ring) */
    int nseen;
    struct sk_buf last_table;
    struct sk_deploy_watch d;       /* the rules' state, and the count of AWS calls */
    struct sk_ecs_service last_svc; /* the last DescribeServices answer */
    struct sk_logs logs;
    int interrupted; /* Ctrl-C ended the wait */
};

static void watch_init(struct watch *w, const struct opts *o, struct sk_client *c)
{
    memset(w, 0, sizeof(*w));
    w->o = o;
    w->c = c;
    sk_buf_init(&w->last_table);
    sk_deploy_watch_init(&w->d, c, o->cluster, o->service, tool_poll_scale());
    sk_logs_init(&w->logs, c, tool_region_client, (void *)&o->c);
}

static void watch_release(struct watch *w)
{
    int i;
    for (i = 0; i < 256; i++)
        free(w->seen_events[i]);
    sk_buf_release(&w->last_table);
    sk_ecs_service_release(&w->last_svc);
    sk_deploy_watch_release(&w->d);
    sk_logs_release(&w->logs);
}

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

/* Print service events we have not printed (oldest first); first_pass only marks them. */
static int print_events(struct watch *w, const struct sk_ecs_service *svc, int first_pass)
{
    size_t i;
    int news = 0;

    for (i = svc->nevents; i-- > 0;) {
        const struct sk_ecs_event *e = &svc->events[i];
        char hms[16];
        if (e->id && e->message && !seen(w, e->id) && !first_pass) {
            news++;
            if (w->o->c.quiet)
                continue;
            clock_time(e->created_at, hms);
            tool_line(stderr, "%s: %s %s", progname, hms, e->message);
        }
    }
    return news;
}

static void deployment_table(const struct sk_ecs_service *svc, struct sk_buf *out)
{
    size_t i;

    for (i = 0; i < svc->ndeployments; i++) {
        const struct sk_ecs_deployment *d = &svc->deployments[i];
        struct sk_buf st = SK_BUF_INIT, td = SK_BUF_INIT, rs = SK_BUF_INIT;
        /* ECS's words, escaped (lib/core/text.h) */
        sk_text_escapes(&st, tool_or(d->status, "?"));
        sk_text_escapes(&td, td_name(d->task_definition));
        sk_text_escapes(&rs, tool_or(d->rollout_state, ""));
        sk_buf_addf(out, "  %-8s %-28s desired %ld pending %ld running %ld failed %ld %s\n", st.p, td.p,
                    count_or(d->desired_count, 0), count_or(d->pending_count, 0), count_or(d->running_count, 0),
                    count_or(d->failed_tasks, 0), rs.p);
        sk_buf_release(&st);
        sk_buf_release(&td);
        sk_buf_release(&rs);
    }
}

/* 1 when the table changed. */
static int print_table_if_changed(struct watch *w, const struct sk_ecs_service *svc)
{
    struct sk_buf t = SK_BUF_INIT;
    int changed;

    deployment_table(svc, &t);
    /* a fleet's tables only with -v: its lines are one per event, each naming its service */
    if (strcmp(t.p, w->last_table.p) != 0 && !w->o->c.quiet && (!tool_tag() || w->o->c.verbose))
        fprintf(stderr, "%s: deployments:\n%s", progname, t.p);
    changed = strcmp(t.p, w->last_table.p) != 0;
    sk_buf_release(&w->last_table);
    w->last_table = t;
    return changed;
}

/* One look at the service: the verdict on deployment dep_id (of td_arn), with --wait-healthy's
 * targets and the stall rule. -1 when the look cannot be judged (err set). */
static int judge_now(struct watch *w, const struct sk_ecs_service *svc, const char *dep_id, const char *td_arn,
                     const char *prev_td, int healthy, struct sk_deploy_outcome *oc, struct sk_err *err)
{
    enum sk_deploy_verdict v = sk_deploy_judge(svc, dep_id, td_arn, prev_td, oc);

    if (v == SK_DEPLOY_DONE && healthy) {
        int h = sk_deploy_targets_healthy(&w->d, svc, dep_id, oc, err);
        if (h < 0)
            return -1;
        if (h == 2)
            v = oc->v = SK_DEPLOY_FAILED;
        else if (h == 0)
            v = oc->v = SK_DEPLOY_WAIT;
    }
    if (v == SK_DEPLOY_WAIT && sk_deploy_stalled(&w->d, svc, dep_id, tool_now_s(), oc))
        v = SK_DEPLOY_STALLED;
    return 0;
}

/* Poll until deployment dep_id (of td_arn) is judged, or the deadline. */
#define WAIT_MAX_FAILED 3 /* polls in a row that failed (after their retries) before the wait gives up */

static int wait_deployment(struct watch *w, const char *dep_id, const char *td_arn, const char *prev_td,
                           double deadline, int healthy, struct sk_deploy_outcome *oc, struct sk_err *err)
{
    double interval = 2.0 * tool_poll_scale(), backoff = 1.0; /* exits within ~2.4 s of completion */
    double pace = 0; /* a fleet's: how long this service sits out the poller's rounds */
    int failed = 0, moved = 1;

    sk_deploy_stall_reset(&w->d);
    for (;;) {
        struct sk_ecs_service svc;
        int rc;
        w->d.calls++;
        rc = w->o->poll ? sk_fleet_poll_get(w->o->poll, w->o->service, &svc, err)
                        : sk_ecs_get_service(w->c, w->o->cluster, w->o->service, &svc, NULL, err);
        if (rc < 0) {
            /* Each poll already had its retries. Throttling only slows us down; other transient
             * failures (5xx, resets, timeouts) end the wait after WAIT_MAX_FAILED polls in a row,
             * anything else at once. */
            sk_ecs_service_release(&svc);
            if (err->retryable == SK_RETRY_NO || (err->retryable != SK_RETRY_THROTTLE && ++failed >= WAIT_MAX_FAILED))
                return -1;
            backoff = backoff < 8 ? backoff * 2 : backoff;
        } else {
            failed = 0;
            backoff = 1.0;
            moved = print_events(w, &svc, 0) > 0;
            moved = print_table_if_changed(w, &svc) || moved;
            if (judge_now(w, &svc, dep_id, td_arn, prev_td, healthy, oc, err) < 0) {
                sk_ecs_service_release(&svc);
                return -1;
            }
            sk_ecs_service_release(&w->last_svc);
            w->last_svc = svc;
            if (oc->v != SK_DEPLOY_WAIT)
                return 0;
        }
        if (tool_now_s() >= deadline) {
            oc->v = SK_DEPLOY_TIMEOUT;
            return 0;
        }
        if (w->o->poll && !failed && backoff == 1.0) {
            /* The poller's rounds pace the fleet; a service whose deployment did not move since the
             * last look sits out up to one round more (each half a round longer), so slow rollouts
             * (draining, baking) cost fewer calls while a moving one is looked at every round. */
            pace = moved ? 0 : pace < interval ? pace + interval / 2 : interval;
            if (pace > 0)
                tool_sleep_s(pace);
            continue;
        }
        /* A few seconds, with jitter so many deploys do not poll in step. */
        tool_sleep_s(interval * backoff * (0.8 + 0.4 * ((double)rand() / RAND_MAX)));
        if (interrupted && !w->o->poll) {
            w->interrupted = 1;
            oc->v = SK_DEPLOY_TIMEOUT;
            return 0;
        }
    }
}

/* ---- explaining a failure ----------------------------------------------------------------------- */

/* One stopped task in detail (lib/svc/deploy.h): stop code, reason, its containers' exit codes and
 * last log lines. */
static void print_stopped_task(struct watch *w, const struct sk_ecs_task *t, const struct sk_ecs_log_config *logs,
                               size_t nlogs)
{
    char **lines;
    size_t i, n;

    sk_deploy_task_lines(&w->logs, t, logs, nlogs, 10, &lines, &n, &w->d.calls);
    for (i = 0; i < n; i++)
        tool_line(stderr, "%s: %s", progname, lines[i]);
    sk_logs_lines_free(lines, n);
}

/* The causes as the result's "why": [{kind, reason, hint, subject, tasks}]. */
static jv why_json(const struct sk_deploy_failure *f)
{
    jv why = jv_array();
    int i;

    for (i = 0; i < f->nwhy; i++) {
        const struct sk_explain *e = &f->why[i];
        jv o = jv_object();
        o = jv_object_set(o, jv_string("kind"), jv_string(sk_explain_kind_name(e->kind)));
        o = jv_object_set(o, jv_string("reason"), jv_string(e->reason));
        if (e->hint)
            o = jv_object_set(o, jv_string("hint"), jv_string(e->hint));
        if (e->subject)
            o = jv_object_set(o, jv_string("subject"), jv_string(e->subject));
        o = jv_object_set(o, jv_string("tasks"), jv_number(f->why_tasks[i]));
        why = jv_array_append(why, o);
    }
    return why;
}

/* Why deployment dep_id failed, as people otherwise dig it out of the console: one line per distinct
 * cause (lib/svc/deploy.h) with what to do; then the first failed tasks with their stop code, reason,
 * container exit codes and last log lines (logs: the new task definition's). Returns the causes as
 * the result's "why". */
static jv explain_failure(struct watch *w, const char *dep_id, const struct sk_ecs_log_config *logs, size_t nlogs)
{
    struct sk_deploy_failure f;
    struct sk_err err;
    jv why;
    int i;

    sk_err_clear(&err);
    if (sk_deploy_explain(&w->d, &w->last_svc, dep_id, &f, &err) < 0)
        tool_line(stderr, "%s: cannot list the stopped tasks: %s", progname, err.msg);
    for (i = 0; i < f.nwhy; i++) {
        if (f.why_tasks[i] > 1)
            tool_line(stderr, "%s: why: %s (%d tasks)", progname, f.why[i].reason, f.why_tasks[i]);
        else
            tool_line(stderr, "%s: why: %s", progname, f.why[i].reason);
        if (f.why[i].hint)
            tool_line(stderr, "%s:   fix: %s", progname, f.why[i].hint);
    }
    for (i = 0; i < f.nshown; i++)
        print_stopped_task(w, &f.tasks[f.shown[i]], logs, nlogs);
    if (f.ntasks > (size_t)f.nshown)
        tool_line(stderr, "%s: (%d more stopped tasks)", progname, (int)f.ntasks - f.nshown);
    if (f.ntasks == 0 && f.nwhy == 0)
        tool_line(stderr, "%s: no stopped tasks for deployment %s", progname, dep_id);
    why = why_json(&f);
    sk_deploy_failure_release(&f);
    return why;
}

/* ---- the deploy ---------------------------------------------------------------------------------- */

/* After a failure past RegisterTaskDefinition, say in err which task definition the service is on
 * now: a failed UpdateService may have been applied (a reset after ECS acted), a lost wait leaves a
 * deployment in progress. One more DescribeServices (with its own retries) finds out. */
static int primary_is_new(const struct sk_ecs_service *svc, const char *new_arn)
{
    size_t i;

    for (i = 0; i < svc->ndeployments; i++)
        if (svc->deployments[i].task_definition && strcmp(svc->deployments[i].task_definition, new_arn) == 0)
            return 1;
    return 0;
}

static void tell_state(struct sk_client *c, const struct opts *o, const char *new_arn, const char *prev_td,
                       struct sk_err *err)
{
    struct sk_ecs_service svc;
    const struct sk_ecs_deployment *primary;
    const char *now, *what;
    struct sk_err e;

    sk_err_clear(&e);
    if (sk_ecs_get_service(c, o->cluster, o->service, &svc, NULL, &e) < 0) {
        tool_err_append(err, "; cannot tell which task definition the service is on (%s)", e.msg);
        sk_ecs_service_release(&svc);
        return;
    }
    now = tool_or(svc.task_definition, "?");
    primary = sk_ecs_find_deployment(&svc, NULL, "PRIMARY");
    what = new_arn && strcmp(now, new_arn) == 0   ? "the new revision"
           : prev_td && strcmp(now, prev_td) == 0 ? "unchanged, the revision from before"
                                                  : "neither the new nor the previous revision";
    tool_err_append(err, "; the service is on %s (%s), deployment %s %s", td_name(now), what,
                    primary ? tool_or(primary->id, "?") : "?", primary ? tool_or(primary->rollout_state, "?") : "?");
    if (new_arn && prev_td && strcmp(now, prev_td) == 0 && !primary_is_new(&svc, new_arn))
        tool_err_append(err, ": new revision %s registered, service not updated", td_name(new_arn));
    sk_ecs_service_release(&svc);
}

static void print_result(jv result, FILE *out)
{
    double secs = 0;
    const char *verdict = sk_json_str(result, "verdict"), *arn = sk_json_str(result, "taskDefinitionArn"),
               *dep = sk_json_str(result, "deploymentId");

    sk_json_num(result, "durationSeconds", &secs);
    fprintf(out, "%s %s deployment %s in %.0fs\n", tool_or(verdict, "?"), tool_or(arn, "?"), tool_or(dep, "?"), secs);
}

/* One deploy: what it knows as it goes. */
struct roll {
    const struct opts *o;
    struct sk_client *c;
    struct watch w;
    struct sk_ecs_service svc;                 /* before the deploy */
    jv base_td, base_tags, shown, reg_in, why; /* the payloads; the causes of a failure */
    jv pruned;                                 /* --keep-revisions: the revisions deregistered */
    struct sk_preflight pf;                    /* the checks before registering */
    int verified;                              /* pf was run */
    char *prev_td, *new_arn;                   /* what ran before; what we registered */
    char dep_id[128], rb_dep[128];             /* our deployment; the rollback's */
    const char *verdict;                       /* the result's verdict */
    struct sk_deploy_outcome oc;               /* ours */
    struct sk_ecs_log_config *logs;            /* the new revision's log settings */
    size_t nlogs;
    double start, deadline;
    long calls0;          /* the client's calls before this deploy (apiCalls counts every one) */
    int throttled0;       /* its throttled attempts before */
    char *sd_arn;         /* the service deployment followed (blue/green, linear, canary; --abort) */
    struct sk_sdeploy sd; /* its last look */
};

static int ask_abort(struct roll *r);
static void tell_detached(struct roll *r);
static int staged(const struct sk_ecs_service *svc);
static void catch_sigint(void);
static int roll_follow(struct roll *r, struct sk_err *err);
static void roll_sd_after(struct roll *r);

/* A call before anything changed failed: name it when the failure is the service's or the
 * network's (not an answer such as "no such service"), and say that nothing changed. -1. */
static int call_failed(struct sk_err *err, const char *call)
{
    if (err->retryable || err->kind == SK_E_TIMEOUT || err->kind == SK_E_NET) {
        sk_err_prefix(err, "%s", call);
        tool_err_append(err, "; nothing changed");
    }
    return -1;
}

/* 1. What runs now: the rollback target, and the base of the new revision, with and without the
 * new images (the same transformation both ways: the diff shows only real changes). */
static int roll_prepare(struct roll *r, struct sk_err *err)
{
    const struct opts *o = r->o;

    r->w.d.calls++;
    if (sk_ecs_get_service(r->c, o->cluster, o->service, &r->svc, NULL, err) < 0)
        return call_failed(err, "DescribeServices");
    if (strcmp(tool_or(r->svc.status, ""), "ACTIVE") != 0)
        return sk_errf(err, SK_E_AWS, "service '%s' is %s, not ACTIVE", o->service, tool_or(r->svc.status, "?"));
    if (r->svc.deployment_controller && strcmp(r->svc.deployment_controller, "ECS") != 0)
        return sk_errf(err, SK_E_USAGE,
                       "service '%s' uses the %s deployment controller; ecs-roll drives ECS rolling deployments",
                       o->service, r->svc.deployment_controller);
    if (o->wait_until && !staged(&r->svc))
        return sk_errf(err, SK_E_USAGE,
                       "service '%s' deploys with the ROLLING strategy: --wait-until needs BLUE_GREEN, LINEAR or "
                       "CANARY",
                       o->service);
    r->prev_td = xstrdup(tool_or(r->svc.task_definition, ""));
    print_events(&r->w, &r->svc, 1); /* what happened before this deploy is not news */
    if (o->task_def) {
        if (load_task_def_file(o->task_def, &r->base_td, &r->base_tags, err) < 0)
            return -1;
    } else if (sk_ecs_describe_task_def(r->c, r->prev_td, &r->base_td, &r->base_tags, err) < 0) {
        return call_failed(err, "DescribeTaskDefinition");
    }
    if (sk_ecs_taskdef_with_images(jv_copy(r->base_td), jv_copy(r->base_tags), NULL, 0, &r->shown, err) < 0 ||
        sk_ecs_taskdef_with_images(jv_copy(r->base_td), jv_copy(r->base_tags), o->images, o->nimages, &r->reg_in, err) <
            0)
        return -1;
    return 0;
}

/* Nothing to do: the service runs, steadily, exactly what we would register (a re-run of a deploy
 * whose image did not change). Registering it again would only make a new revision and restart
 * every task. 1 when so (the verdict set). */
static int roll_unchanged(struct roll *r)
{
    const struct opts *o = r->o;

    if (o->force || o->task_def || !jv_equal(jv_copy(r->shown), jv_copy(r->reg_in)) ||
        !sk_deploy_steady_on(&r->svc, r->prev_td) ||
        (o->desired >= 0 && o->desired != count_or(r->svc.desired_count, -1)))
        return 0;
    snprintf(r->dep_id, sizeof(r->dep_id), "%s", tool_or(r->svc.deployments[0].id, ""));
    r->new_arn = xstrdup(r->prev_td);
    r->verdict = "unchanged";
    tool_note(&o->c,
              "%s already runs %s with these images (deployment %s, completed); nothing was changed "
              "(--force deploys anyway)",
              o->service, td_name(r->prev_td), r->dep_id);
    return 1;
}

/* The revisions --keep-revisions would deregister now, or -1 (err set). The service is looked at
 * afresh: a deploy somebody started since runs a revision too. extra counts revisions not yet
 * registered (the dry run's new one) toward the N kept. */
static int prune_plan(struct roll *r, const char *family, long extra, jv *drop, struct sk_err *err)
{
    const char *protect[] = { r->new_arn, r->prev_td };
    struct sk_ecs_service now;
    jv arns;

    memset(&now, 0, sizeof(now));
    r->w.d.calls++;
    if (sk_ecs_get_service(r->c, r->o->cluster, r->o->service, &now, NULL, err) < 0)
        return -1;
    r->w.d.calls++;
    if (sk_ecs_list_task_defs(r->c, family, "ACTIVE", &arns, err) < 0) {
        sk_ecs_service_release(&now);
        return -1;
    }
    /* the revision that ran before stays while it still runs; once the deploy succeeded it does not */
    *drop = sk_deploy_prune(arns, r->o->keep - extra, &now, protect, r->new_arn ? 1 : 2);
    jv_free(arns);
    sk_ecs_service_release(&now);
    return 0;
}

/* ---- the checks before registering (lib/svc/preflight.h) ---------------------------------------- */

/* The registry of an image and the credentials for it: the ECR token for the account's ECR (an ECR
 * host, whose token goes to the registry GetAuthorizationToken names), or for a registry that
 * GetAuthorizationToken's proxyEndpoint names; 0 and *host NULL for any other registry (no
 * credentials: not checked), -1 (err set) when the token cannot be had for an ECR host. */
static int image_registry(struct roll *r, const struct sk_ref *ref, struct sk_ecr_token *tok, char **host,
                          struct sk_err *err)
{
    char *account = NULL, *region = NULL, *cache_dir = sk_cache_dir();
    struct sk_client *c = r->c;
    struct sk_err terr;
    int rc = -1;

    *host = NULL;
    sk_err_clear(&terr);
    if (sk_ecr_parse_host(ref->registry, &account, &region)) {
        if (!(c = sk_logs_client(&r->w.logs, region, err)) || sk_ecr_token_get(c, account, cache_dir, tok, err) < 0)
            goto out;
        *host = sk_ecr_proxy_host(tok->proxy_endpoint);
    } else if (sk_ecr_token_get(c, NULL, cache_dir, tok, &terr) == 0 &&
               sk_ecr_token_for_host(tok->proxy_endpoint, ref->registry)) {
        *host = xstrdup(ref->registry);
    }
    rc = 0;
out:
    free(account);
    free(region);
    free(cache_dir);
    return rc;
}

/* An image's manifest in its registry; an index's for the task's platform. 0 (verdict set) or -1. */
static int image_manifest(struct roll *r, struct sk_pf_check *ck, const char *host, const struct sk_ref *ref,
                          const char *token, const char *platform, struct sk_err *err)
{
    struct sk_registry reg;
    struct sk_buf body = SK_BUF_INIT;
    char *ca = NULL, mt[128], digest[SK_DIGEST_MAX], there[SK_DIGEST_MAX]; /* the index's choice; the HEAD's */
    const char *want = ref->digest ? ref->digest : ref->tag ? ref->tag : SK_REF_DEFAULT_TAG;
    int rc = -1, found = 0, have_reg = 0, pick;

    memset(&reg, 0, sizeof(reg));
    if (sk_client_ca_bundle(&r->c->conf, r->o->c.profile, r->o->c.ca_bundle, &ca, err) < 0 ||
        sk_registry_init(&reg, host, token, ca, NULL, NULL, err) < 0)
        goto out;
    have_reg = 1;
    if (sk_registry_manifest_get(&reg, ref->repository, want, &body, mt, &found, err) < 0) {
        rc = sk_preflight_judge(ck, -1, 0, "ecr:BatchGetImage", err);
        goto out;
    }
    if (!found) {
        sk_preflight_set(ck, SK_PF_FAIL, "not found in registry %s", host);
    } else if (strcmp(mt, SK_MT_OCI_INDEX) != 0 && strcmp(mt, SK_MT_DOCKER_LIST) != 0) {
        sk_preflight_set(ck, SK_PF_OK, "found");
    } else if ((pick = sk_preflight_index_pick(body.p, body.len, platform, digest, sizeof(digest), err)) < 0) {
        goto out;
    } else if (pick == 0) {
        sk_preflight_set(ck, SK_PF_FAIL, "the image index has no %s image", platform);
    } else if (sk_registry_manifest_head(&reg, ref->repository, digest, there, err) < 0) {
        rc = sk_preflight_judge(ck, -1, 0, "ecr:BatchGetImage", err);
        goto out;
    } else if (!there[0]) {
        sk_preflight_set(ck, SK_PF_FAIL, "the image index's %s manifest is not in registry %s", platform, host);
    } else {
        sk_preflight_set(ck, SK_PF_OK, "found (%s)", platform);
    }
    rc = 0;
out:
    if (have_reg)
        sk_registry_release(&reg);
    sk_buf_release(&body);
    free(ca);
    return rc;
}

/* One image check: 0 (verdict set) or -1 (err set). */
static int verify_image(struct roll *r, struct sk_pf_check *ck, struct sk_err *err)
{
    struct sk_ref ref;
    struct sk_ecr_token tok;
    char *host = NULL;
    int rc = -1;

    memset(&tok, 0, sizeof(tok));
    sk_ref_split(ck->target, &ref);
    if (sk_ref_check(&ref, err) < 0) {
        sk_preflight_set(ck, SK_PF_FAIL, "not an image reference: %s", err->msg);
        sk_err_clear(err);
        rc = 0;
    } else if (!ref.registry) {
        sk_preflight_set(ck, SK_PF_UNCHECKED, "not checked: Docker Hub, no credentials for it");
        rc = 0;
    } else if (image_registry(r, &ref, &tok, &host, err) < 0) {
        rc = sk_preflight_judge(ck, -1, 0, "ecr:GetAuthorizationToken", err);
    } else if (!host) {
        sk_preflight_set(ck, SK_PF_UNCHECKED, "not checked: no credentials for registry %s", ref.registry);
        rc = 0;
    } else {
        rc = image_manifest(r, ck, host, &ref, tok.token, r->pf.platform, err);
    }
    sk_ecr_token_release(&tok);
    sk_ref_release(&ref);
    free(host);
    return rc;
}

/* The checks on the revision about to be registered, one line each: EXIT_OK when all pass, EXIT_NO
 * when one fails, -1 (err set) when one cannot be made for another reason than a denied read. */
static int roll_verify(struct roll *r, struct sk_err *err)
{
    static const char *const words[] = { "todo", "ok", "FAIL", "note" };
    size_t i, failed;

    sk_preflight_plan(r->reg_in, &r->svc, &r->pf);
    r->verified = 1;
    for (i = 0; i < r->pf.n; i++)
        if (r->pf.v[i].kind == SK_PF_IMAGE && r->pf.v[i].state == SK_PF_TODO && verify_image(r, &r->pf.v[i], err) < 0)
            return sk_err_prefix(err, "verify: cannot check image %s", r->pf.v[i].target);
    if (sk_preflight_run(&r->pf, r->c, &r->w.logs, err) < 0)
        return sk_err_prefix(err, "verify: a check could not be made (--no-verify skips them)");
    for (i = 0; i < r->pf.n; i++) {
        const struct sk_pf_check *ck = &r->pf.v[i];
        if (ck->state == SK_PF_FAIL)
            tool_line(stderr, "%s: verify: FAIL %s %s: %s", progname, sk_preflight_kind_name(ck->kind), ck->subject,
                      ck->reason ? ck->reason : "");
        else if (tool_tag() && !r->o->verify_only) /* a fleet's: only with -v, a line per service is plenty */
            tool_verbose(&r->o->c, "verify: %s %s %s: %s", words[ck->state], sk_preflight_kind_name(ck->kind),
                         ck->subject, ck->reason ? ck->reason : "");
        else
            tool_note(&r->o->c, "verify: %s %s %s: %s", words[ck->state], sk_preflight_kind_name(ck->kind), ck->subject,
                      ck->reason ? ck->reason : "");
    }
    failed = sk_preflight_failed(&r->pf);
    if (failed)
        tool_line(stderr,
                  "%s: verify: %zu check%s failed; nothing was registered or updated (--no-verify skips the checks)",
                  progname, failed, failed == 1 ? "" : "s");
    return failed ? EXIT_NO : EXIT_OK;
}

/* The names of a JSON array of task definition ARNs, ", "-separated, into out. */
static void td_names(jv arns, struct sk_buf *out)
{
    int i, n = jv_array_length(jv_copy(arns));

    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(arns), i);
        sk_buf_addf(out, "%s%s", i ? ", " : "", td_name(jv_string_value(a)));
        jv_free(a);
    }
}

/* The dry run: the diff and the calls. -1 (err set) when --keep-revisions cannot list the revisions. */
static int roll_dry_run(struct roll *r, struct sk_err *err)
{
    const struct opts *o = r->o;
    const char *family = tool_or(sk_json_str(r->reg_in, "family"), "?");
    struct sk_buf names = SK_BUF_INIT;
    jv drop;

    print_diff(r->shown, r->reg_in);
    tool_line(stdout, "would call: ecs RegisterTaskDefinition (family %s)", family);
    tool_line(stdout, "would call: ecs UpdateService (cluster %s, service %s, new revision%s)", o->cluster, o->service,
              o->desired >= 0 ? ", desired count" : "");
    if (o->keep) {
        /* the new revision will be the newest: it counts as one of the N; what runs now still runs */
        if (prune_plan(r, family, 1, &drop, err) < 0)
            return -1;
        td_names(drop, &names);
        if (names.len)
            tool_line(stdout, "would deregister, once the deploy succeeds: %s", names.p);
        else
            tool_line(stdout, "would deregister nothing (--keep-revisions %ld)", o->keep);
        sk_buf_release(&names);
        jv_free(drop);
    }
    tool_line(stdout, "running now: %s; nothing was changed", td_name(r->prev_td));
    return 0;
}

/* 2. Register the new revision; 3. point the service at it: our deployment is the PRIMARY of the
 * response. */
static int roll_start(struct roll *r, struct sk_err *err)
{
    const struct opts *o = r->o;

    r->w.d.calls++;
    if (o->rollback) {
        tool_note(&o->c, "rolling back to %s (was %s)", td_name(r->new_arn), td_name(r->prev_td));
    } else if (sk_ecs_register_task_def(r->c, r->reg_in, &r->new_arn, &r->logs, &r->nlogs, err) < 0) {
        if (err->kind != SK_E_USAGE) {
            sk_err_prefix(err, "RegisterTaskDefinition");
            tool_err_append(err, "; nothing changed");
        }
        return -1;
    } else {
        tool_note(&o->c, "registered %s (was %s)", td_name(r->new_arn), td_name(r->prev_td));
    }
    r->w.d.calls++;
    if (sk_ecs_update_service(r->c, o->cluster, o->service, r->new_arn, o->desired, r->dep_id, sizeof(r->dep_id), err) <
        0) {
        sk_err_prefix(err, "UpdateService to %s", td_name(r->new_arn));
        tell_state(r->c, o, r->new_arn, r->prev_td, err);
        return -1;
    }
    tool_note(&o->c, "deployment %s started", r->dep_id);
    return 0;
}

/* Wait for the rollback deployment r->rb_dep to what ran before; ecs is "ECS's " for its own. */
static int roll_back_wait(struct roll *r, const char *ecs, int *code, struct sk_err *err)
{
    struct sk_deploy_outcome rb;

    memset(&rb, 0, sizeof(rb));
    if (wait_deployment(&r->w, r->rb_dep, r->prev_td, NULL, r->deadline, 0, &rb, err) < 0) {
        if (*ecs)
            sk_err_prefix(err, "deploy of %s failed; watching ECS's rollback %s failed", td_name(r->new_arn),
                          r->rb_dep);
        else
            sk_err_prefix(err, "deploy of %s failed; rollback %s to %s started, then watching it failed",
                          td_name(r->new_arn), r->rb_dep, td_name(r->prev_td));
        tell_state(r->c, r->o, r->new_arn, r->prev_td, err);
        return -1;
    }
    r->verdict = rb.v == SK_DEPLOY_DONE ? "rolled-back" : "rollback-incomplete";
    if (rb.v == SK_DEPLOY_TIMEOUT)
        *code = EXIT_TIMEOUT;
    else if (rb.v != SK_DEPLOY_DONE)
        tool_note(&r->o->c, "%s did not finish: %s", *ecs ? "ECS's rollback" : "the rollback", rb.reason);
    return 0;
}

/* 5. It failed: say why, then get back to what ran before. The exit code, or -1. */
static int roll_failed(struct roll *r, struct sk_err *err)
{
    const struct opts *o = r->o;
    int code = EXIT_NO;

    tool_note(&o->c, "deploy failed: %s", r->oc.reason);
    r->why = explain_failure(&r->w, r->dep_id, r->logs, r->nlogs);
    if (r->oc.v == SK_DEPLOY_ROLLED_BACK) {
        snprintf(r->rb_dep, sizeof(r->rb_dep), "%s", r->oc.other_dep);
        tool_note(&o->c, "waiting for ECS's rollback (deployment %s) to finish", r->rb_dep);
        return roll_back_wait(r, "ECS's ", &code, err) < 0 ? -1 : code;
    }
    if (o->no_rollback) {
        r->verdict = "failed";
        tool_note(&o->c, "--no-rollback: the service is left on %s", td_name(r->new_arn));
        return code;
    }
    tool_note(&o->c, "rolling back to %s", td_name(r->prev_td));
    r->w.d.calls++;
    if (sk_ecs_update_service(r->c, o->cluster, o->service, r->prev_td, -1, r->rb_dep, sizeof(r->rb_dep), err) < 0) {
        sk_err_prefix(err, "deploy of %s failed; UpdateService back to %s", td_name(r->new_arn), td_name(r->prev_td));
        tell_state(r->c, o, r->new_arn, r->prev_td, err);
        return -1;
    }
    return roll_back_wait(r, "", &code, err) < 0 ? -1 : code;
}

/* 4. Watch it: the exit code, or -1. */
static int roll_watch(struct roll *r, struct sk_err *err)
{
    for (;;) {
        if (wait_deployment(&r->w, r->dep_id, r->new_arn, r->prev_td, r->deadline, r->o->wait_healthy, &r->oc, err) <
            0) {
            sk_err_prefix(err, "deployment %s of %s started, then watching it failed", r->dep_id, td_name(r->new_arn));
            tell_state(r->c, r->o, r->new_arn, r->prev_td, err);
            return -1;
        }
        if (!r->w.interrupted)
            break;
        r->w.interrupted = 0;
        if (!r->sd_arn) {
            struct sk_err e;
            sk_err_clear(&e);
            if (sk_sd_find(r->c, r->o->cluster, r->o->service, r->dep_id, &r->sd_arn, &e) != 0)
                r->sd_arn = NULL;
        }
        if (!ask_abort(r)) {
            r->verdict = "detached";
            tell_detached(r);
            return EXIT_TIMEOUT;
        }
    }
    switch (r->oc.v) {
    case SK_DEPLOY_DONE: r->verdict = "deployed"; return EXIT_OK;
    case SK_DEPLOY_TIMEOUT:
        r->verdict = "timed-out";
        tool_note(&r->o->c, "timed out after %lds: deployment %s is still in progress; the service is left as it is",
                  r->o->timeout, r->dep_id);
        return EXIT_TIMEOUT;
    case SK_DEPLOY_REPLACED:
        r->verdict = "replaced";
        tool_note(&r->o->c, "deploy failed: %s", r->oc.reason);
        return EXIT_NO; /* somebody else's deploy: not ours to roll back */
    default: return roll_failed(r, err);
    }
}

/* ---- following a service deployment (blue/green, linear, canary; --abort) ------------------------ */

static void roll_release(struct roll *r);

static void print_abort(jv result, FILE *out)
{
    double secs = 0;

    sk_json_num(result, "durationSeconds", &secs);
    fprintf(out, "%s %s %s in %.0fs\n", tool_or(sk_json_str(result, "verdict"), "?"),
            tool_or(sk_json_str(result, "serviceDeploymentArn"), "?"), tool_or(sk_json_str(result, "status"), "?"),
            secs);
}

/* Ctrl-C while watching (interrupted, above): on a terminal, ask whether to abort; otherwise stop
 * watching and say how. */
static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the tool at once */
}

static void catch_sigint(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/* Does the service deploy with a strategy only the service-deployment API follows? */
static int staged(const struct sk_ecs_service *svc)
{
    return svc->strategy && strcmp(svc->strategy, "ROLLING") != 0;
}

/* What one look at a service deployment printed last: the stage, the split, the hooks, the bake. */
struct follow {
    int stage;           /* index of the last stage printed; -2 none yet */
    double prod, test;   /* the last split printed */
    double bake_until;   /* tool_now_s() when the bake time ends; 0 not baking */
    double bake_said;    /* when the bake time left was last said */
    int rolling_back;    /* said that ECS is rolling back */
    char hooks[16][160]; /* "hookId status" said */
    int nhooks;
};

static int hook_said(struct follow *f, const struct sk_sd_hook *h)
{
    char key[160];
    int i;

    snprintf(key, sizeof(key), "%s %s", tool_or(h->id, "?"), tool_or(h->status, "?"));
    for (i = 0; i < f->nhooks; i++)
        if (strcmp(f->hooks[i], key) == 0)
            return 1;
    snprintf(f->hooks[f->nhooks % 16], sizeof(f->hooks[0]), "%s", key);
    f->nhooks = f->nhooks < 16 ? f->nhooks + 1 : 16;
    return 0;
}

/* Say what changed since the last look: every stage entered (those the polls did not see too,
 * in ECS's order), the traffic split, each hook's new status, the bake time left. */
static void tell_progress(struct watch *w, struct follow *f, const struct sk_sdeploy *sd)
{
    const struct common_opts *c = &w->o->c;
    int now = sk_sd_stage_index(sd->stage), i;
    size_t k;

    if (now >= 0 && f->stage == -2)
        f->stage = now - 1;
    for (i = f->stage + 1; now >= 0 && i <= now && sd->status && strcmp(sd->status, "IN_PROGRESS") == 0; i++) {
        const char *name = sk_sd_stage_name(i);
        if (strcmp(name, "BAKE_TIME") == 0 && sd->bake_minutes >= 0) {
            f->bake_until = tool_now_s() + 60.0 * (double)sd->bake_minutes * tool_poll_scale();
            f->bake_said = tool_now_s();
            tool_note(c, "stage %s: %ld min (both revisions run; ECS rolls back on an alarm)", name, sd->bake_minutes);
        } else {
            tool_note(c, "stage %s", name);
        }
        f->stage = i;
    }
    if (sd->prod_weight >= 0 && (sd->prod_weight != f->prod || sd->test_weight != f->test) &&
        (sd->prod_weight > 0 || sd->test_weight > 0 || f->prod > 0 || f->test > 0)) {
        tool_note(c, "traffic: production %g%% new, %g%% old; test %g%% new", sd->prod_weight, 100 - sd->prod_weight,
                  sd->test_weight < 0 ? 0 : sd->test_weight);
        f->prod = sd->prod_weight;
        f->test = sd->test_weight;
    }
    for (k = 0; k < sd->nhooks; k++) {
        const struct sk_sd_hook *h = &sd->hooks[k];
        if (hook_said(f, h))
            continue;
        if (h->status && strcmp(h->status, "AWAITING_ACTION") == 0)
            tool_note(c,
                      "hook %s in %s: paused; continue or roll back with ContinueServiceDeployment "
                      "(service deployment %s, hookId %s)",
                      tool_or(h->id, "?"), tool_or(sd->stage, "?"), tool_or(sd->arn, "?"), tool_or(h->id, "?"));
        else
            tool_note(c, "hook %s in %s: %s", tool_or(h->target, tool_or(h->type, "?")), tool_or(sd->stage, "?"),
                      tool_or(h->status, "?"));
    }
    if (f->bake_until > 0 && now == sk_sd_stage_index("BAKE_TIME") && tool_now_s() - f->bake_said >= 60 &&
        f->bake_until > tool_now_s()) {
        tool_verbose(c, "bake time: %.0f s left", (f->bake_until - tool_now_s()) / tool_poll_scale());
        f->bake_said = tool_now_s();
    }
    if (!f->rolling_back && sd->status && strcmp(sd->status, "ROLLBACK_IN_PROGRESS") == 0) {
        tool_note(c, "ECS is rolling back: %s", tool_or(sd->rollback_reason, tool_or(sd->status_reason, "?")));
        f->rolling_back = 1;
    }
}

/* Ctrl-C: 1 to go on watching (the deployment was stopped, to roll back), 0 to stop watching. */
static int ask_abort(struct roll *r)
{
    char line[16] = "";
    struct sk_err err;

    interrupted = 0;
    if (!r->sd_arn || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
        return 0;
    fprintf(stderr, "%s: abort deployment %s and roll back? [y/N] ", progname, r->dep_id);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
        return 0;
    sk_err_clear(&err);
    if (sk_sd_stop(r->c, r->sd_arn, &err) < 0) {
        tool_note(&r->o->c, "could not stop the deployment: %s", err.msg);
        return 0;
    }
    tool_note(&r->o->c, "stopping service deployment %s: ECS rolls it back", r->sd_arn);
    catch_sigint();
    return 1;
}

/* Poll r->sd_arn until ECS's verdict, --wait-until's stage (*passed set), the deadline or Ctrl-C
 * (*detached set). Each look: DescribeServices (its events) and DescribeServiceDeployments. */
static int follow_sd(struct roll *r, int *passed, int *detached, struct sk_err *err)
{
    struct watch *w = &r->w;
    struct follow f;
    double interval = 2.0 * tool_poll_scale(); /* a verdict is seen within ~2.4 s */
    int failed = 0;

    memset(&f, 0, sizeof(f));
    f.stage = -2;
    f.prod = f.test = 0;
    *passed = *detached = 0;
    for (;;) {
        struct sk_ecs_service svc;
        struct sk_sdeploy sd;
        int rc = sk_ecs_get_service(w->c, w->o->cluster, w->o->service, &svc, NULL, err);
        if (rc == 0) {
            print_events(w, &svc, 0);
            sk_ecs_service_release(&w->last_svc);
            w->last_svc = svc;
            rc = sk_sd_describe(w->c, r->sd_arn, &sd, err);
        } else {
            sk_ecs_service_release(&svc);
        }
        if (rc < 0) {
            if (err->retryable == SK_RETRY_NO || (err->retryable != SK_RETRY_THROTTLE && ++failed >= WAIT_MAX_FAILED))
                return -1;
        } else {
            failed = 0;
            tell_progress(w, &f, &sd);
            sk_sd_release(&r->sd);
            r->sd = sd;
            if (sk_sd_judge(&r->sd, &r->oc) != SK_DEPLOY_WAIT)
                return 0;
            if (r->o->wait_until && sk_sd_passed(&r->sd, r->o->wait_until)) {
                *passed = 1;
                return 0;
            }
        }
        if (tool_now_s() >= r->deadline) {
            r->oc.v = SK_DEPLOY_TIMEOUT;
            return 0;
        }
        tool_sleep_s(interval * (0.8 + 0.4 * ((double)rand() / RAND_MAX)));
        if (interrupted && !ask_abort(r)) {
            *detached = 1;
            return 0;
        }
    }
}

/* The alarms that rolled a deployment back, with their state reasons (CloudWatch DescribeAlarms). */
static void tell_alarms(struct roll *r)
{
    size_t i;

    for (i = 0; i < r->sd.ntriggered; i++) {
        struct sk_err err;
        char *why;
        sk_err_clear(&err);
        why = sk_sd_alarm_reason(r->c, r->sd.triggered[i], &err);
        if (why)
            tool_note(&r->o->c, "alarm %s: %s", r->sd.triggered[i], why);
        else
            tool_note(&r->o->c, "alarm %s in ALARM (its state reason could not be read: %s)", r->sd.triggered[i],
                      err.msg[0] ? err.msg : "no such alarm");
        free(why);
    }
}

static void tell_detached(struct roll *r)
{
    tool_note(&r->o->c,
              "stopped watching; deployment %s goes on. To stop it and roll back: ecs-roll --cluster %s --service %s "
              "--abort",
              r->dep_id[0] ? r->dep_id : tool_or(r->sd_arn, "?"), r->o->cluster, r->o->service);
}

/* 4b. Watch a blue/green, linear or canary deployment through its service deployment: the exit code,
 * or -1. */
static int roll_follow(struct roll *r, struct sk_err *err)
{
    const struct opts *o = r->o;
    int i, rc = 1, passed, detached;

    for (i = 0; i < 10 && rc == 1; i++) { /* ListServiceDeployments may lag UpdateService a little */
        rc = sk_sd_find(r->c, o->cluster, o->service, r->dep_id, &r->sd_arn, err);
        if (rc == 1)
            tool_sleep_s(tool_poll_scale());
    }
    if (rc < 0) {
        sk_err_prefix(err, "deployment %s of %s started, then ListServiceDeployments failed", r->dep_id,
                      td_name(r->new_arn));
        return -1;
    }
    if (rc == 1) {
        tool_note(&o->c, "no service deployment lists deployment %s: watching its rollout instead", r->dep_id);
        return -2;
    }
    tool_note(&o->c, "%s deployment: following service deployment %s", r->svc.strategy, r->sd_arn);
    if (follow_sd(r, &passed, &detached, err) < 0) {
        sk_err_prefix(err, "deployment %s of %s started, then watching it failed", r->dep_id, td_name(r->new_arn));
        tell_state(r->c, o, r->new_arn, r->prev_td, err);
        return -1;
    }
    if (detached) {
        r->verdict = "detached";
        tell_detached(r);
        return EXIT_TIMEOUT;
    }
    if (passed) {
        r->verdict = "stage-passed";
        tool_note(&o->c,
                  "deployment %s passed %s (now %s); ECS goes on with the rest (bake time, clean-up) and rolls back "
                  "on an alarm: watch with --status, stop with --abort",
                  r->dep_id, o->wait_until, tool_or(r->sd.stage, "?"));
        return EXIT_OK;
    }
    switch (r->oc.v) {
    case SK_DEPLOY_DONE: r->verdict = "deployed"; return EXIT_OK;
    case SK_DEPLOY_TIMEOUT:
        r->verdict = "timed-out";
        tool_note(&o->c, "timed out after %lds: deployment %s is still in progress (%s); the service is left as it is",
                  o->timeout, r->dep_id, tool_or(r->sd.stage, "?"));
        return EXIT_TIMEOUT;
    case SK_DEPLOY_REPLACED:
        r->verdict = "replaced";
        tool_note(&o->c, "deploy failed: %s", r->oc.reason);
        return EXIT_NO;
    case SK_DEPLOY_ROLLED_BACK: r->verdict = "rolled-back"; break;
    default: r->verdict = strcmp(tool_or(r->sd.status, ""), "ROLLBACK_FAILED") == 0 ? "rollback-incomplete" : "failed";
    }
    tool_note(&o->c, "deploy failed: %s", r->oc.reason);
    tell_alarms(r);
    /* the new tasks say why only when they failed (the circuit breaker, or ECS gave up on them); after
     * a hook or an alarm they were stopped by the rollback itself */
    if ((r->sd.cb_status && strcmp(r->sd.cb_status, "TRIGGERED") == 0) || !r->sd.rollback_reason)
        r->why = explain_failure(&r->w, r->dep_id, r->logs, r->nlogs);
    return EXIT_NO;
}

/* After a rolling deployment failed (its verdict comes from deployments[], which the stall rule and
 * --wait-healthy need): its service deployment, where ECS has the API, for the result and for the
 * alarms that failed it. Not after a success: two more calls a deploy (40 in a fleet) would tell
 * nothing new. Silent when there is none (an older ECS, a deployment ECS has not listed yet). */
static void roll_sd_after(struct roll *r)
{
    struct sk_err e;

    sk_err_clear(&e);
    if (r->oc.v == SK_DEPLOY_DONE || !r->dep_id[0] ||
        (!r->sd_arn && sk_sd_find(r->c, r->o->cluster, r->o->service, r->dep_id, &r->sd_arn, &e) != 0))
        return;
    sk_sd_release(&r->sd);
    if (sk_sd_describe(r->c, r->sd_arn, &r->sd, &e) == 0)
        tell_alarms(r);
}

/* --abort: stop the service's deployment in progress with a rollback, follow the rollback. */
static int abort_deploy(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    struct roll r;
    int code = -1, rc, passed, detached;
    jv result;

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.c = c;
    r.start = tool_now_s();
    r.deadline = r.start + (double)o->timeout;
    r.base_td = r.base_tags = r.shown = r.reg_in = r.why = r.pruned = jv_invalid();
    watch_init(&r.w, o, c);
    if (sk_ecs_get_service(c, o->cluster, o->service, &r.svc, NULL, err) < 0)
        goto out;
    print_events(&r.w, &r.svc, 1);
    if ((rc = sk_sd_in_progress(c, o->cluster, o->service, &r.sd_arn, err)) < 0)
        goto out;
    if (rc == 1) {
        tool_note(&o->c, "no deployment of %s is in progress; nothing to abort", o->service);
        code = EXIT_NO;
        goto out;
    }
    if (sk_sd_stop(c, r.sd_arn, err) < 0) {
        sk_err_prefix(err, "StopServiceDeployment %s", r.sd_arn);
        goto out;
    }
    tool_note(&o->c, "stopped service deployment %s; ECS rolls it back", r.sd_arn);
    if (follow_sd(&r, &passed, &detached, err) < 0)
        goto out;
    result = jv_object();
    result = jv_object_set(result, jv_string("serviceDeploymentArn"), jv_string(r.sd_arn));
    result = jv_object_set(result, jv_string("status"), jv_string(tool_or(r.sd.status, "")));
    if (detached) {
        r.verdict = "detached";
        code = EXIT_TIMEOUT;
    } else if (r.oc.v == SK_DEPLOY_TIMEOUT) {
        r.verdict = "timed-out";
        tool_note(&o->c, "timed out after %lds: the rollback of %s is still in progress", o->timeout, r.sd_arn);
        code = EXIT_TIMEOUT;
    } else if (strcmp(tool_or(r.sd.status, ""), "ROLLBACK_SUCCESSFUL") == 0) {
        r.verdict = "aborted";
        code = EXIT_OK;
    } else {
        r.verdict = "abort-failed";
        tool_note(&o->c, "the rollback did not succeed: %s", r.oc.reason[0] ? r.oc.reason : tool_or(r.sd.status, "?"));
        code = EXIT_NO;
    }
    if (r.sd.rollback_rev)
        result = jv_object_set(result, jv_string("rolledBackTo"), jv_string(r.sd.rollback_rev));
    result = jv_object_set(result, jv_string("verdict"), jv_string(r.verdict));
    result = jv_object_set(result, jv_string("durationSeconds"), jv_number(floor(tool_now_s() - r.start + 0.5)));
    if (tool_emit(&o->c, result, print_abort, err) < 0)
        code = -1;
out:
    if (code < 0 && err->kind != SK_E_USAGE && strcmp(err->aws_code, "ServiceNotFoundException") != 0)
        sk_err_prefix(err, "service %s", o->service);
    roll_release(&r);
    return code;
}

/* 6. --keep-revisions after a deploy that succeeded: deregister the family's older ACTIVE revisions.
 * Cleanup after the verdict: a failure is told (and is in the result) but the deploy stands, and
 * so does its exit code. */
static void roll_prune(struct roll *r)
{
    const struct opts *o = r->o;
    struct sk_buf names = SK_BUF_INIT;
    struct sk_err err;
    char family[256];
    jv drop;
    int i, n;

    sk_err_clear(&err);
    sk_ecs_td_family(r->new_arn, family, sizeof(family));
    r->pruned = jv_array();
    if (prune_plan(r, family, 0, &drop, &err) < 0) {
        tool_note(&o->c, "--keep-revisions: could not list the revisions of %s: %s; nothing was deregistered", family,
                  err.msg);
        return;
    }
    n = jv_array_length(jv_copy(drop));
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(drop), i);
        r->w.d.calls++;
        if (sk_ecs_deregister_task_def(r->c, jv_string_value(a), &err) < 0) {
            tool_note(&o->c, "--keep-revisions: could not deregister %s: %s", td_name(jv_string_value(a)), err.msg);
            jv_free(a);
            break;
        }
        r->pruned = jv_array_append(r->pruned, a);
    }
    jv_free(drop);
    if (jv_array_length(jv_copy(r->pruned)) > 0) {
        td_names(r->pruned, &names);
        tool_note(&o->c, "deregistered %d old revision%s of %s (keeping the newest %ld): %s",
                  jv_array_length(jv_copy(r->pruned)), jv_array_length(jv_copy(r->pruned)) == 1 ? "" : "s", family,
                  o->keep, names.p);
    } else if (i == n) {
        tool_verbose(&o->c, "--keep-revisions %ld: no revision of %s to deregister", o->keep, family);
    }
    sk_buf_release(&names);
}

/* What state the service was left in, in words, for a deploy that did not succeed (NULL when it
 * did, or did nothing). */
static void roll_state(const struct roll *r, struct sk_buf *out)
{
    const char *v = r->verdict;

    if (strcmp(v, "rolled-back") == 0)
        sk_buf_addf(out, "update started, rolled back to %s", td_name(r->prev_td));
    else if (strcmp(v, "rollback-incomplete") == 0)
        sk_buf_addf(out, "update started, the rollback to %s did not finish (deployment %s)", td_name(r->prev_td),
                    r->rb_dep);
    else if (strcmp(v, "failed") == 0 && r->new_arn)
        sk_buf_addf(out, "update started, left on %s (--no-rollback)", td_name(r->new_arn));
    else if (strcmp(v, "timed-out") == 0)
        sk_buf_addf(out, "update started, deployment %s of %s still in progress, left as it is", r->dep_id,
                    td_name(r->new_arn));
    else if (strcmp(v, "replaced") == 0)
        sk_buf_addf(out, "update started, then replaced by another deployment of %s", td_name(r->oc.other_td));
    else if (strcmp(v, "refused") == 0)
        sk_buf_addf(out, "nothing changed (a check failed)");
    else if (strcmp(v, "stage-passed") == 0)
        sk_buf_addf(out, "update started, deployment %s of %s passed %s and goes on (now %s)", r->dep_id,
                    td_name(r->new_arn), r->o->wait_until, tool_or(r->sd.stage, "?"));
    else if (strcmp(v, "detached") == 0)
        sk_buf_addf(out, "update started, deployment %s of %s goes on unwatched", r->dep_id, td_name(r->new_arn));
}

/* The result: code, or -1 when it cannot be written. */
static int roll_report(struct roll *r, int code, struct sk_err *err)
{
    jv result = jv_object();
    struct sk_buf state = SK_BUF_INIT;

    roll_state(r, &state);
    if (state.len)
        result = jv_object_set(result, jv_string("state"), jv_string(state.p));
    sk_buf_release(&state);

    result = jv_object_set(result, jv_string("verdict"), jv_string(r->verdict));
    result = jv_object_set(result, jv_string("taskDefinitionArn"), jv_string(r->new_arn ? r->new_arn : ""));
    result = jv_object_set(result, jv_string("previousTaskDefinitionArn"), jv_string(r->prev_td));
    result = jv_object_set(result, jv_string("deploymentId"), jv_string(r->dep_id));
    if (r->rb_dep[0])
        result = jv_object_set(result, jv_string("rollbackDeploymentId"), jv_string(r->rb_dep));
    if (r->sd.arn) {
        result = jv_object_set(result, jv_string("strategy"), jv_string(tool_or(r->sd.strategy, "ROLLING")));
        result = jv_object_set(result, jv_string("serviceDeploymentArn"), jv_string(r->sd.arn));
        result = jv_object_set(result, jv_string("serviceDeploymentStatus"), jv_string(tool_or(r->sd.status, "")));
        if (r->sd.stage)
            result = jv_object_set(result, jv_string("lifecycleStage"), jv_string(r->sd.stage));
        if (r->sd.ntriggered) {
            jv names = jv_array();
            size_t i;
            for (i = 0; i < r->sd.ntriggered; i++)
                names = jv_array_append(names, jv_string(r->sd.triggered[i]));
            result = jv_object_set(result, jv_string("triggeredAlarms"), names);
        }
    }
    if (r->oc.reason[0] && r->oc.v != SK_DEPLOY_DONE)
        result = jv_object_set(result, jv_string("reason"), jv_string(r->oc.reason));
    if (jv_get_kind(r->why) == JV_KIND_ARRAY)
        result = jv_object_set(result, jv_string("why"), jv_copy(r->why));
    if (jv_get_kind(r->pruned) == JV_KIND_ARRAY)
        result = jv_object_set(result, jv_string("deregistered"), jv_copy(r->pruned));
    if (r->verified)
        result = jv_object_set(result, jv_string("verify"), sk_preflight_json(&r->pf));
    result = jv_object_set(result, jv_string("durationSeconds"), jv_number(floor(tool_now_s() - r->start + 0.5)));
    result = jv_object_set(result, jv_string("apiCalls"), jv_number((double)(r->c->retry.calls - r->calls0)));
    result = jv_object_set(result, jv_string("throttled"), jv_number(r->c->retry.throttled - r->throttled0));
    if (r->o->result_out) {
        result = jv_object_set(result, jv_string("exitCode"), jv_number(code));
        jv_free(*r->o->result_out);
        *r->o->result_out = result;
        return code;
    }
    return tool_emit(&r->o->c, result, print_result, err) < 0 ? -1 : code;
}

static void roll_release(struct roll *r)
{
    watch_release(&r->w);
    sk_ecs_service_release(&r->svc);
    jv_free(r->base_td);
    jv_free(r->base_tags);
    jv_free(r->reg_in);
    jv_free(r->shown);
    jv_free(r->why);
    jv_free(r->pruned);
    sk_preflight_release(&r->pf);
    sk_ecs_log_configs_free(r->logs, r->nlogs);
    free(r->prev_td);
    free(r->new_arn);
    free(r->sd_arn);
    sk_sd_release(&r->sd);
}

/* The deploy: the exit code, or -1 with err set. */
static int deploy(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    struct roll r;
    int code = -1;

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.c = c;
    r.start = tool_now_s();
    r.deadline = r.start + (double)o->timeout;
    r.base_td = r.base_tags = r.shown = r.reg_in = r.why = r.pruned = jv_invalid();
    r.verdict = "failed";
    r.calls0 = c->retry.calls;
    r.throttled0 = c->retry.throttled;
    /* ECS refused a throttled call before acting on it: waited out until --timeout (exit 6) */
    c->retry.throttle_until = r.deadline;
    watch_init(&r.w, o, c);
    if (roll_prepare(&r, err) < 0)
        goto out;
    if (o->rollback) {
        /* the revision of the last successful service deployment that ran another task definition */
        char *skipped = NULL;
        int rc = sk_sd_rollback_target(c, o->cluster, o->service, r.prev_td, &r.new_arn, &r.sd_arn, &skipped, err);
        if (skipped)
            tool_note(&o->c, "%s ran in an earlier successful deployment but is INACTIVE (deregistered): passed over",
                      td_name(skipped));
        free(skipped);
        if (rc < 0) {
            call_failed(err, "ListServiceDeployments");
            goto out;
        }
        if (rc == 1) {
            tool_note(&o->c,
                      "no earlier successful deployment of %s runs another task definition than %s; nothing "
                      "to roll back to (nothing changed)",
                      o->service, td_name(r.prev_td));
            r.verdict = "refused";
            code = roll_report(&r, EXIT_NO, err);
            goto out;
        }
        tool_note(&o->c, "the last successful deployment before this one ran %s (service deployment %s)",
                  td_name(r.new_arn), r.sd_arn);
        free(r.sd_arn);
        r.sd_arn = NULL;
        if (o->dry_run) {
            tool_note(&o->c, "--dry-run: would UpdateService %s to %s", o->service, td_name(r.new_arn));
            code = EXIT_OK;
            goto out;
        }
    }
    if (o->verify_only) {
        if ((code = roll_verify(&r, err)) >= 0) {
            r.verdict = code == EXIT_OK ? "verified" : "refused";
            code = roll_report(&r, code, err);
        }
        goto out;
    }
    if (!o->rollback && !roll_unchanged(&r) && !o->no_verify && (code = roll_verify(&r, err)) != EXIT_OK) {
        if (code == EXIT_NO) {
            r.verdict = "refused";
            code = roll_report(&r, code, err);
        }
        goto out;
    }
    code = -1;
    if (strcmp(r.verdict, "unchanged") == 0) {
        if (o->keep)
            roll_prune(&r);
        code = roll_report(&r, EXIT_OK, err);
    } else if (o->dry_run) {
        code = roll_dry_run(&r, err) < 0 ? -1 : EXIT_OK;
    } else if (roll_start(&r, err) == 0) {
        if (o->no_wait) {
            r.verdict = "started";
            code = EXIT_OK;
        } else {
            if (!o->result_out)
                catch_sigint();
            code = staged(&r.svc) ? roll_follow(&r, err) : -2;
            if (code == -2 && (code = roll_watch(&r, err)) >= 0)
                roll_sd_after(&r);
            if (code == EXIT_OK && o->keep && strcmp(r.verdict, "deployed") == 0)
                roll_prune(&r);
        }
        if (code >= 0)
            code = roll_report(&r, code, err);
    }
out:
    if (code < 0 && !o->result_out && err->kind != SK_E_USAGE && strcmp(err->aws_code, "ServiceNotFoundException") != 0)
        sk_err_prefix(err, "service %s", o->service); /* a fleet's lines name it already */
    c->retry.throttle_until = 0;
    roll_release(&r);
    return code;
}

/* ---- fleets: several services, each deployed as above, one thread each ------------------------ */

#define FLEET_PARALLEL 50 /* --max-parallel's default */

struct fleet_job {
    struct opts o; /* the run's options with this service's name and images */
    jv result;     /* its deploy's result, or invalid */
    char error[1024];
    int code; /* its exit code; -1 not run */
    double seconds;
};

struct fleet {
    const struct opts *o;
    struct fleet_job *jobs;
    size_t n, next;
    int failed; /* a service failed: --fail-fast starts no more */
    pthread_mutex_t lock;
};

struct fleet_worker {
    struct fleet *f;
    struct sk_client c;
};

static void fleet_run_job(struct fleet_worker *wk, struct fleet_job *j)
{
    struct sk_err err;
    double t0 = tool_now_s();
    int code;

    sk_err_clear(&err);
    tool_set_tag(j->o.service);
    if (j->o.dry_run && !j->o.c.quiet)
        tool_line(stdout, "== %s", j->o.service);
    code = deploy(&j->o, &wk->c, &err);
    if (code < 0) {
        code = tool_fail(&j->o.c, &err); /* the line names the service (the thread's tag) */
        snprintf(j->error, sizeof(j->error), "%s", err.msg);
    } else if (code != EXIT_OK && jv_is_valid(j->result)) {
        const char *v = sk_json_str(j->result, "verdict"), *st = sk_json_str(j->result, "state");
        tool_line(stderr, "%s: %s%s%s", progname, tool_or(v, "failed"), st ? ": " : "", st ? st : "");
    }
    tool_set_tag(NULL);
    j->code = code;
    j->seconds = tool_now_s() - t0;
}

static void *fleet_worker_main(void *arg)
{
    struct fleet_worker *wk = arg;
    struct fleet *f = wk->f;

    for (;;) {
        struct fleet_job *j;
        pthread_mutex_lock(&f->lock);
        if (f->next >= f->n || (f->o->fail_fast && f->failed)) {
            pthread_mutex_unlock(&f->lock);
            return NULL;
        }
        j = &f->jobs[f->next++];
        pthread_mutex_unlock(&f->lock);
        fleet_run_job(wk, j);
        pthread_mutex_lock(&f->lock);
        if (j->code != EXIT_OK)
            f->failed = 1;
        pthread_mutex_unlock(&f->lock);
    }
}

/* One service's entry of the result. */
static jv fleet_entry(const struct fleet_job *j)
{
    jv e = jv_is_valid(j->result) ? jv_copy(j->result) : jv_object();

    e = jv_object_set(e, jv_string("service"), jv_string(j->o.service));
    if (j->code < 0) {
        e = jv_object_set(e, jv_string("verdict"), jv_string("not-started"));
        return e;
    }
    if (!jv_is_valid(j->result)) {
        e = jv_object_set(e, jv_string("verdict"), jv_string(j->o.dry_run && !j->error[0] ? "dry-run" : "error"));
        e = jv_object_set(e, jv_string("durationSeconds"), jv_number(floor(j->seconds + 0.5)));
    }
    if (j->error[0])
        e = jv_object_set(e, jv_string("error"), jv_string(j->error));
    e = jv_object_set(e, jv_string("exitCode"), jv_number(j->code));
    return e;
}

/* The summary table: service, verdict, time, task definition. */
static void print_fleet(jv result, FILE *out)
{
    jv list = sk_json_get(result, "services");
    int i, n = sk_json_len(list);
    size_t w = 7;

    for (i = 0; i < n; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        const char *name = sk_json_str(e, "service");
        if (name && strlen(name) > w)
            w = strlen(name) < 60 ? strlen(name) : 60;
        jv_free(e);
    }
    fprintf(out, "%-*s  %-19s %6s  %s\n", (int)w, "SERVICE", "VERDICT", "TIME", "TASK DEFINITION");
    for (i = 0; i < n; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        struct sk_buf name = SK_BUF_INIT, td = SK_BUF_INIT;
        const char *arn = sk_json_str(e, "taskDefinitionArn");
        double secs = -1;
        char t[32] = "-";
        sk_json_num(e, "durationSeconds", &secs);
        if (secs >= 0)
            snprintf(t, sizeof(t), "%.0fs", secs);
        sk_text_escapes(&name, tool_or(sk_json_str(e, "service"), "?"));
        sk_text_escapes(&td, arn && *arn ? td_name(arn) : "-");
        if (strncmp(tool_or(sk_json_str(e, "verdict"), ""), "rolled-back", 11) == 0) { /* what runs now */
            struct sk_buf now = SK_BUF_INIT;
            sk_text_escapes(&now, td_name(tool_or(sk_json_str(e, "previousTaskDefinitionArn"), "?")));
            sk_buf_addf(&now, " (rolled back from %s)", td.p);
            sk_buf_release(&td);
            td = now;
        }
        fprintf(out, "%-*s  %-19s %6s  %s\n", (int)w, name.p, tool_or(sk_json_str(e, "verdict"), "?"), t, td.p);
        sk_buf_release(&name);
        sk_buf_release(&td);
        jv_free(e);
    }
    jv_free(list);
}

/* Deploy every service of the plan: each as a one-service deploy, at most --max-parallel at a time,
 * their waits answered by one poller (10 services a DescribeServices). The highest exit code. */
static int fleet(const struct opts *o, struct sk_err *err)
{
    struct fleet f;
    struct fleet_worker *wk;
    pthread_t *th;
    struct sk_client pc;
    struct sk_fleet_poll *poll = NULL;
    pthread_attr_t attr;
    size_t i, nw, started = 0;
    long calls = 0;
    int throttled = 0, worst = EXIT_OK, code = -1;
    double t0 = tool_now_s();
    jv result, list, poller = jv_invalid();

    memset(&f, 0, sizeof(f));
    f.o = o;
    f.n = o->plan.n;
    nw = o->dry_run ? 1 : (size_t)(o->max_parallel ? o->max_parallel : FLEET_PARALLEL);
    if (nw > f.n)
        nw = f.n;
    if (tool_client_init(&pc, &o->c, err) < 0)
        return -1;
    wk = xcalloc(nw, sizeof(*wk));
    th = xcalloc(nw, sizeof(*th));
    f.jobs = xcalloc(f.n, sizeof(*f.jobs));
    pthread_mutex_init(&f.lock, NULL);
    for (i = 0; i < nw; i++) {
        wk[i].f = &f;
        if (tool_client_init(&wk[i].c, &o->c, err) < 0)
            goto out;
        started = i + 1;
    }
    if (!o->dry_run && !o->verify_only && sk_fleet_poll_start(&poll, &pc, o->cluster, 2.0 * tool_poll_scale(), err) < 0)
        goto out;
    for (i = 0; i < f.n; i++) {
        item_opts(o, &o->plan.v[i], &f.jobs[i].o);
        f.jobs[i].o.result_out = &f.jobs[i].result;
        f.jobs[i].o.poll = poll;
        f.jobs[i].result = jv_invalid();
        f.jobs[i].code = -1;
    }
    tool_note(&o->c, "deploying %zu services of cluster %s, %zu at a time", f.n, o->cluster, nw);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)8 << 20);
    for (i = 0; i < nw; i++)
        if (pthread_create(&th[i], &attr, fleet_worker_main, &wk[i]) != 0) {
            fleet_worker_main(&wk[i]); /* no thread: this one works in ours */
            th[i] = 0;
        }
    pthread_attr_destroy(&attr);
    for (i = 0; i < nw; i++)
        if (th[i])
            pthread_join(th[i], NULL);
    list = jv_array();
    for (i = 0; i < f.n; i++) {
        struct fleet_job *j = &f.jobs[i];
        double v = 0;
        list = jv_array_append(list, fleet_entry(j));
        if (jv_is_valid(j->result) && sk_json_num(j->result, "apiCalls", &v) == 0)
            calls += (long)v;
        if (jv_is_valid(j->result) && sk_json_num(j->result, "throttled", &v) == 0)
            throttled += (int)v;
        worst = sk_fleet_worst(worst, j->code < 0 ? EXIT_NO : j->code);
    }
    if (poll) {
        long answers = 0, pcalls = sk_fleet_poll_calls(poll, &answers);
        jv pj = jv_object();
        calls += pcalls;
        pj = jv_object_set(pj, jv_string("describeServicesCalls"), jv_number((double)pcalls));
        pj = jv_object_set(pj, jv_string("answers"), jv_number((double)answers));
        poller = pj;
    }
    throttled += pc.retry.throttled;
    result = jv_object();
    result = jv_object_set(result, jv_string("verdict"), jv_string(worst == EXIT_OK ? "deployed" : "failed"));
    result = jv_object_set(result, jv_string("exitCode"), jv_number(worst));
    result = jv_object_set(result, jv_string("cluster"), jv_string(o->cluster));
    result = jv_object_set(result, jv_string("services"), list);
    result = jv_object_set(result, jv_string("durationSeconds"), jv_number(floor(tool_now_s() - t0 + 0.5)));
    result = jv_object_set(result, jv_string("apiCalls"), jv_number((double)calls));
    result = jv_object_set(result, jv_string("throttled"), jv_number(throttled));
    if (jv_is_valid(poller))
        result = jv_object_set(result, jv_string("polls"), poller);
    code = tool_emit(&o->c, result, print_fleet, err) < 0 ? -1 : worst;
out:
    sk_fleet_poll_stop(poll);
    for (i = 0; i < f.n; i++)
        jv_free(f.jobs[i].result);
    for (i = 0; i < started; i++)
        sk_client_release(&wk[i].c);
    sk_client_release(&pc);
    pthread_mutex_destroy(&f.lock);
    free(f.jobs);
    free(wk);
    free(th);
    return code;
}

/* ---- --status and --logs ------------------------------------------------------------------------- */

/* The targets line of --status, one per target group: how many targets are in each state, the
 * reasons of those not healthy ("targets  web/0123: 2 healthy, 1 unhealthy (Target.Timeout)");
 * tg-health shows each target. */
static void print_targets(jv s, FILE *out)
{
    static const char *const states[] = {
        "healthy", "initial", "unhealthy", "unused", "draining", "unavailable", NULL
    };
    jv groups = sk_json_get(s, "targetHealth");
    int i, j, k, n = jv_get_kind(groups) == JV_KIND_ARRAY ? jv_array_length(jv_copy(groups)) : 0;

    for (i = 0; i < n; i++) {
        jv g = jv_array_get(jv_copy(groups), i), ts = sk_json_get(g, "targets");
        int m = jv_get_kind(ts) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ts)) : 0, count[8] = { 0 }, shown = 0;
        const char *tg = sk_json_str(g, "targetGroupArn"), *e = sk_json_str(g, "error"),
                   *name = tg ? strchr(tg, '/') : NULL;
        struct sk_buf reasons = SK_BUF_INIT;
        for (j = 0; j < m; j++) {
            jv t = jv_array_get(jv_copy(ts), j);
            const char *st = sk_json_str(t, "state"), *reason = sk_json_str(t, "reason");
            for (k = 0; states[k] && (!st || strcmp(states[k], st) != 0); k++)
                ;
            count[k]++;
            if (reason && !strstr(reasons.p ? reasons.p : "", reason))
                sk_buf_addf(&reasons, "%s%s", reasons.len ? ", " : "", reason);
            jv_free(t);
        }
        fprintf(out, "targets  %s:", name ? name + 1 : tool_or(tg, "?"));
        if (e)
            fprintf(out, " %s", e);
        for (k = 0; !e && k < 7; k++)
            if (count[k])
                fprintf(out, "%s %d %s", shown++ ? "," : "", count[k], states[k] ? states[k] : "other");
        if (!e && m == 0)
            fprintf(out, " no targets");
        if (reasons.len)
            fprintf(out, " (%s)", reasons.p);
        fputc('\n', out);
        sk_buf_release(&reasons);
        jv_free(ts);
        jv_free(g);
    }
    jv_free(groups);
}

/* The text of --status, from the service (its strings escaped by tool_emit). */
/* --status's line for a blue/green, linear or canary service: its newest service deployment. */
static void print_sd_status(jv s, FILE *out)
{
    jv sd = sk_json_get(s, "serviceDeployment");
    struct sk_buf line = SK_BUF_INIT, esc = SK_BUF_INIT;
    double w;

    if (jv_get_kind(sd) == JV_KIND_OBJECT) {
        if (sk_json_str(sd, "error")) {
            sk_buf_addf(&line, "service deployment: %s", sk_json_str(sd, "error"));
        } else {
            sk_buf_addf(&line, "%s %s", tool_or(sk_json_str(sd, "strategy"), "?"),
                        tool_or(sk_json_str(sd, "status"), "?"));
            if (sk_json_str(sd, "lifecycleStage"))
                sk_buf_addf(&line, ", stage %s", sk_json_str(sd, "lifecycleStage"));
            if (sk_json_num(sd, "requestedProductionTrafficWeight", &w) == 0)
                sk_buf_addf(&line, ", production traffic %g%% new", w);
            if (sk_json_str(sd, "statusReason"))
                sk_buf_addf(&line, ": %s", sk_json_str(sd, "statusReason"));
        }
        sk_text_escapes(&esc, line.p);
        fprintf(out, "rollout  %s\n", esc.p);
    }
    sk_buf_release(&line);
    sk_buf_release(&esc);
    jv_free(sd);
}

static void print_status(jv s, FILE *out)
{
    struct sk_buf t = SK_BUF_INIT;
    struct sk_ecs_service svc;
    struct sk_err err;
    size_t i;

    sk_err_clear(&err);
    sk_ecs_service_parse(s, &svc, &err);
    fprintf(out, "service  %s (%s) in %s\n", tool_or(svc.name, "?"), tool_or(svc.status, "?"),
            td_name(svc.cluster_arn));
    fprintf(out, "tasks    desired %ld, running %ld, pending %ld\n", count_or(svc.desired_count, 0),
            count_or(svc.running_count, 0), count_or(svc.pending_count, 0));
    fprintf(out, "runs     %s\n", td_name(svc.task_definition));
    deployment_table(&svc, &t);
    fprintf(out, "deployments\n%s", t.p);
    print_sd_status(s, out);
    fprintf(out, "recent events\n");
    for (i = 0; i < svc.nevents && i < 10; i++) {
        char hms[16];
        clock_time(svc.events[i].created_at, hms);
        fprintf(out, "  %s %s\n", hms, tool_or(svc.events[i].message, ""));
    }
    print_targets(s, out);
    sk_buf_release(&t);
    sk_ecs_service_release(&svc);
}

/* The service's newest service deployment, for --status of a blue/green, linear or canary service:
 * {serviceDeploymentArn, status, lifecycleStage, strategy, statusReason, the target revision's
 * requested traffic weights}, or {"error": MESSAGE}. */
static jv newest_sd_json(struct sk_client *c, const struct opts *o)
{
    struct sk_sdeploy sd;
    struct sk_err e;
    jv list, out = jv_object();
    char *arn = NULL;

    sk_err_clear(&e);
    if (sk_sd_list(c, o->cluster, o->service, NULL, &list, &e) < 0)
        return jv_object_set(out, jv_string("error"), jv_string(e.msg));
    if (sk_json_len(list) > 0) {
        jv first = jv_array_get(jv_copy(list), 0);
        arn = xstrdup_or_null(sk_json_str(first, "serviceDeploymentArn"));
        jv_free(first);
    }
    jv_free(list);
    if (!arn)
        return jv_object_set(out, jv_string("error"), jv_string("no service deployment listed"));
    if (sk_sd_describe(c, arn, &sd, &e) < 0) {
        free(arn);
        return jv_object_set(out, jv_string("error"), jv_string(e.msg));
    }
    free(arn);
    out = jv_object_set(out, jv_string("serviceDeploymentArn"), jv_string(tool_or(sd.arn, "")));
    out = jv_object_set(out, jv_string("status"), jv_string(tool_or(sd.status, "")));
    out = jv_object_set(out, jv_string("strategy"), jv_string(tool_or(sd.strategy, "ROLLING")));
    if (sd.stage)
        out = jv_object_set(out, jv_string("lifecycleStage"), jv_string(sd.stage));
    if (sd.status_reason)
        out = jv_object_set(out, jv_string("statusReason"), jv_string(sd.status_reason));
    if (sd.prod_weight >= 0)
        out = jv_object_set(out, jv_string("requestedProductionTrafficWeight"), jv_number(sd.prod_weight));
    if (sd.test_weight >= 0)
        out = jv_object_set(out, jv_string("requestedTestTrafficWeight"), jv_number(sd.test_weight));
    sk_sd_release(&sd);
    return out;
}

/* --status: the service as DescribeServices describes it (deployments, events, task counts), and
 * "targetHealth", its target groups' targets as DescribeTargetHealth describes them. */
static int status(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    struct sk_ecs_service parsed;
    jv svc;

    if (sk_ecs_describe_service(c, o->cluster, o->service, &svc, err) < 0)
        return -1;
    if (sk_ecs_service_parse(svc, &parsed, err) < 0) {
        jv_free(svc);
        return -1;
    }
    svc = jv_object_set(svc, jv_string("targetHealth"), sk_deploy_target_health(c, &parsed));
    if (staged(&parsed))
        svc = jv_object_set(svc, jv_string("serviceDeployment"), newest_sd_json(c, o));
    sk_ecs_service_release(&parsed);
    return tool_emit(&o->c, svc, print_status, err) < 0 ? -1 : EXIT_OK;
}

/* One log line of --logs: its time, the task id (the stream's last part) and the message. */
static void print_log_event(void *ctx, const struct sk_log_event *ev)
{
    const char *task = strrchr(ev->stream, '/');
    char hms[16];

    (void)ctx;
    clock_time(ev->timestamp / 1000, hms);
    tool_line(stdout, "%s %s %s", hms, task ? task + 1 : ev->stream, ev->message);
}

/* One round of --logs over the awslogs containers of logs[]. */
static int logs_round(struct sk_logs *lr, struct sk_logs_tail *tail, const struct sk_ecs_log_config *logs, size_t nlogs,
                      struct sk_err *err)
{
    size_t i;

    for (i = 0; i < nlogs; i++) {
        const struct sk_ecs_log_config *l = &logs[i];
        struct sk_client *client;
        struct sk_buf prefix = SK_BUF_INIT;
        int rc;
        if (!l->group || !l->stream_prefix)
            continue;
        if (!(client = sk_logs_client(lr, l->region, err)))
            return -1;
        sk_buf_addf(&prefix, "%s/%s/", l->stream_prefix, l->container);
        rc = sk_logs_tail_read(tail, client, l->group, prefix.p, print_log_event, NULL, err);
        sk_buf_release(&prefix);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The service's log lines: every awslogs container of the running task definition, like
 * `aws logs tail GROUP --follow`, with the task id in front of each line. */
static int logs(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    struct sk_ecs_service svc;
    struct sk_ecs_log_config *lc = NULL;
    struct sk_logs lr;
    struct sk_logs_tail tail;
    jv td = jv_invalid(), tags = jv_invalid();
    size_t nlc = 0;
    int rc = -1;

    sk_logs_init(&lr, c, tool_region_client, (void *)&o->c);
    sk_logs_tail_init(&tail, ((long long)time(NULL) - o->since) * 1000);
    if (sk_ecs_get_service(c, o->cluster, o->service, &svc, NULL, err) < 0 ||
        sk_ecs_describe_task_def(c, tool_or(svc.task_definition, ""), &td, &tags, err) < 0)
        goto out;
    sk_ecs_taskdef_logs(td, &lc, &nlc);
    for (;;) {
        if (logs_round(&lr, &tail, lc, nlc, err) < 0)
            goto out;
        fflush(stdout);
        if (!o->follow || ferror(stdout))
            break;
        sk_logs_tail_next(&tail);
        tool_sleep_s(2.0 * tool_poll_scale());
    }
    rc = EXIT_OK;
out:
    sk_logs_tail_release(&tail);
    sk_logs_release(&lr);
    sk_ecs_log_configs_free(lc, nlc);
    sk_ecs_service_release(&svc);
    jv_free(td);
    jv_free(tags);
    return rc;
}

#define STOPPED_SHOWN 5 /* --logs --stopped: the newest stopped tasks shown */

static int newest_stop_first(const void *a, const void *b)
{
    const struct sk_ecs_task *x = a, *y = b;

    return x->stopped_at < y->stopped_at ? 1 : x->stopped_at > y->stopped_at ? -1 : 0;
}

/* --logs --stopped: the service's newest stopped tasks (ECS shows stopped tasks for a while after
 * they stop), each as a failed deploy explains it: stop code and reason, each container's exit code
 * and reason, its last log lines (read with its own task definition's log settings). */
static int logs_stopped(const struct opts *o, struct sk_client *c, struct sk_err *err)
{
    struct sk_ecs_task *tasks = NULL;
    struct sk_ecs_log_config *lc = NULL;
    struct sk_logs lr;
    jv arns = jv_invalid(), descs = jv_invalid(), td = jv_invalid(), tags = jv_invalid();
    char *lc_td = NULL;
    size_t i, j, n = 0, nlc = 0, nlines;
    char **lines;
    int rc = -1;

    sk_logs_init(&lr, c, tool_region_client, (void *)&o->c);
    if (sk_ecs_list_tasks(c, o->cluster, o->service, "STOPPED", NULL, &arns, err) < 0 ||
        sk_ecs_describe_tasks(c, o->cluster, arns, &descs, err) < 0)
        goto out;
    n = (size_t)jv_array_length(jv_copy(descs));
    tasks = xcalloc(n ? n : 1, sizeof(*tasks));
    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(descs), (int)i);
        sk_ecs_task_parse(t, &tasks[i]);
        jv_free(t);
    }
    qsort(tasks, n, sizeof(*tasks), newest_stop_first);
    if (n == 0)
        tool_note(&o->c, "%s has no stopped tasks (ECS shows a stopped task for about an hour)", o->service);
    for (i = 0; i < n && i < STOPPED_SHOWN; i++) {
        const char *arn = tool_or(tasks[i].task_definition_arn, "");
        if (!lc_td || strcmp(lc_td, arn) != 0) { /* its own revision's log settings */
            sk_ecs_log_configs_free(lc, nlc);
            lc = NULL, nlc = 0;
            jv_free(td);
            jv_free(tags);
            td = tags = jv_invalid();
            free(lc_td);
            lc_td = xstrdup(arn);
            if (*arn && sk_ecs_describe_task_def(c, arn, &td, &tags, err) < 0)
                goto out;
            if (*arn)
                sk_ecs_taskdef_logs(td, &lc, &nlc);
        }
        sk_deploy_task_lines(&lr, &tasks[i], lc, nlc, 10, &lines, &nlines, NULL);
        for (j = 0; j < nlines; j++)
            tool_line(stdout, "%s", lines[j]);
        sk_logs_lines_free(lines, nlines);
    }
    if (n > STOPPED_SHOWN)
        tool_line(stdout, "(%zu older stopped tasks)", n - STOPPED_SHOWN);
    rc = EXIT_OK;
out:
    if (tasks)
        sk_ecs_tasks_free(tasks, n);
    sk_ecs_log_configs_free(lc, nlc);
    sk_logs_release(&lr);
    free(lc_td);
    jv_free(arns);
    jv_free(descs);
    jv_free(td);
    jv_free(tags);
    return rc;
}

/* The exit code: 0, 1 (the deploy answered "no"), 6 (timed out), or the error's (src/tool.c). */
static int run(const struct opts *o)
{
    struct sk_err err;
    struct sk_client c;
    int code = -1;

    sk_err_clear(&err);
    if (sk_scale_env("SK_POLL_SCALE", &(double){ 1 }, &err) == 0 && tool_client_init(&c, &o->c, &err) == 0) {
        switch (o->mode) {
        case MODE_DEPLOY: code = is_fleet(o) ? fleet(o, &err) : deploy(o, &c, &err); break;
        case MODE_STATUS: code = status(o, &c, &err); break;
        case MODE_LOGS: code = o->stopped ? logs_stopped(o, &c, &err) : logs(o, &c, &err); break;
        case MODE_ABORT: code = abort_deploy(o, &c, &err); break;
        }
        sk_client_release(&c);
    }
    return code < 0 ? tool_fail(&o->c, &err) : code;
}

int main(int argc, char **argv)
{
    static struct opts o; /* static: what a usage error leaves allocated stays reachable at exit */
    int code;

    memset(&o, 0, sizeof(o));
    tool_init("ecs-roll");
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    parse_args(argc, argv, &o);
    code = run(&o);
    sk_fleet_plan_release(&o.plan);
    return tool_finish(code);
}
