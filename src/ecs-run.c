/*
 * ecs-run - run one-off ECS tasks (a migration, a training or evaluation job) and make their exit
 * code the verdict: start them with RunTask, follow them to STOPPED with their log lines, say why a
 * failed one failed, and stop them on a timeout or an interrupt.
 *
 * The flow: options, calls, output. The rules are the library's: what RunTask is asked and the
 * verdict on a task (lib/svc/runtask.h), why a task stopped and what is said about it
 * (lib/svc/explain.h, lib/svc/deploy.h: the same words as ecs-roll's), the log lines (lib/svc/logs.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/client.h"
#include "aws/pace.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/text.h"
#include "svc/deploy.h"
#include "svc/ecs.h"
#include "svc/explain.h"
#include "svc/logs.h"
#include "svc/runtask.h"
#include "tool.h"

static const char usage_text[] =
    "usage: ecs-run --cluster C (--service S | --task-def FAMILY[:REV] | --task-def FILE)\n"
    "               [--container NAME] [--image [NAME=]IMAGE]... [--env NAME=VALUE]... [--cpu N --memory N]\n"
    "               [--count N] [--timeout DURATION] [--no-wait] [--no-logs] [--started-by TEXT]\n"
    "               [--tag K=V]... [--launch-type T] [--subnet ID]... [--security-group ID]...\n"
    "               [OPTIONS] [-- COMMAND ARGS...]\n";

static const char help_text[] =
    "\n"
    "Run one-off ECS tasks and wait for them: exit 0 when every essential container exited 0.\n"
    "\n"
    "  --cluster C             the cluster\n"
    "  --service S             run what service S runs: its task definition, network, launch type, tags\n"
    "  --task-def FAMILY[:REV] run this task definition (an ARN too)\n"
    "  --task-def FILE         register this task definition (JSON or YAML) and run it\n"
    "  --container NAME        the container COMMAND and --env go to (default: the first essential one)\n"
    "  --image [NAME=]IMAGE    run with this image (registers a revision of the task definition)\n"
    "  --env NAME=VALUE        set an environment variable in the container (not for secrets)\n"
    "  --cpu N, --memory N     task-level CPU units and MiB\n"
    "  --count N               start N tasks, 1 to 10 (default 1)\n"
    "  --timeout DURATION      stop the tasks after this long: 90s, 15m, 1h (default 1h; exit 6)\n"
    "  --no-wait               print the task ARNs and exit\n"
    "  --no-logs               do not stream the containers' log lines\n"
    "  --started-by TEXT       the tasks' startedBy (default ecs-run)\n"
    "  --tag K=V               tag the tasks (after the service's tags)\n"
    "  --launch-type T         FARGATE, EC2 or EXTERNAL, instead of the service's\n"
    "  --subnet ID, --security-group ID   the awsvpc network, instead of the service's\n"
    "  -- COMMAND ARGS...      the command, passed to ECS word for word\n"
    "\n";

enum {
    OPT_CLUSTER = OPT_TOOL_BASE,
    OPT_SERVICE,
    OPT_TASK_DEF,
    OPT_CONTAINER,
    OPT_IMAGE,
    OPT_ENV,
    OPT_CPU,
    OPT_MEMORY,
    OPT_COUNT,
    OPT_TIMEOUT,
    OPT_NO_WAIT,
    OPT_NO_LOGS,
    OPT_STARTED_BY,
    OPT_TAG,
    OPT_LAUNCH_TYPE,
    OPT_SUBNET,
    OPT_SECURITY_GROUP
};

#define MAX_LIST 32

struct opts {
    struct common_opts c;
    const char *cluster, *service, *task_def, *container, *started_by, *launch_type, *cpu, *memory;
    const char *images[MAX_LIST], *env[MAX_LIST], *tags[MAX_LIST], *subnets[16], *sgs[16];
    int nimages, nenv, ntags, nsubnets, nsgs;
    long count, timeout;
    int no_wait, no_logs;
    char **command; /* after --; NULL: none given */
    int ncommand;
};

/* ---- arguments ------------------------------------------------------------------------------- */

static void add_to(const char **list, int *n, int max, const char *what, const char *arg)
{
    if (*n == max)
        tool_usage("at most %d %s options", max, what);
    list[(*n)++] = arg;
}

/* NAME=VALUE with a NAME: an environment variable's is letters, digits and '_', not first a digit;
 * a tag key is anything but empty. */
static void check_pair(const char *opt, const char *arg, int env)
{
    const char *eq = strchr(arg, '=');

    if (!eq || eq == arg)
        tool_usage("%s needs NAME=VALUE, not '%s'", opt, arg);
    if (env && (strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != (size_t)(eq - arg) ||
                (arg[0] >= '0' && arg[0] <= '9')))
        tool_usage("--env: '%.*s' is not an environment variable name", (int)(eq - arg), arg);
}

static void take_opt(struct opts *o, int opt, char **argv)
{
    long n;

    switch (opt) {
    case OPT_CLUSTER: o->cluster = optarg; break;
    case OPT_CONTAINER: o->container = optarg; break;
    case OPT_COUNT:
        if (tool_parse_long(optarg, 1, SK_RUN_MAX_COUNT, &o->count) < 0)
            tool_usage("--count must be 1 to %d, not '%s'", SK_RUN_MAX_COUNT, optarg);
        break;
    case OPT_CPU:
    case OPT_MEMORY:
        if (tool_parse_long(optarg, 1, 1000000, &n) < 0)
            tool_usage("--%s must be a whole number, not '%s'", opt == OPT_CPU ? "cpu" : "memory", optarg);
        *(opt == OPT_CPU ? &o->cpu : &o->memory) = optarg;
        break;
    case OPT_ENV:
        check_pair("--env", optarg, 1);
        add_to(o->env, &o->nenv, MAX_LIST, "--env", optarg);
        break;
    case OPT_IMAGE:
        if (!*optarg || strpbrk(optarg, " \t\r\n") || optarg[strlen(optarg) - 1] == '=')
            tool_usage("--image needs [CONTAINER=]IMAGE, not '%s'", optarg);
        add_to(o->images, &o->nimages, MAX_LIST, "--image", optarg);
        break;
    case OPT_LAUNCH_TYPE:
        if (strcmp(optarg, "FARGATE") && strcmp(optarg, "EC2") && strcmp(optarg, "EXTERNAL"))
            tool_usage("--launch-type is FARGATE, EC2 or EXTERNAL, not '%s'", optarg);
        o->launch_type = optarg;
        break;
    case OPT_NO_LOGS: o->no_logs = 1; break;
    case OPT_NO_WAIT: o->no_wait = 1; break;
    case OPT_SECURITY_GROUP: add_to(o->sgs, &o->nsgs, 16, "--security-group", optarg); break;
    case OPT_SERVICE: o->service = optarg; break;
    case OPT_STARTED_BY:
        if (!sk_run_started_by_ok(optarg))
            tool_usage("--started-by is 1 to %d letters, digits, '-', '/' or '_', not '%s'", SK_RUN_STARTED_BY_MAX,
                       optarg);
        o->started_by = optarg;
        break;
    case OPT_SUBNET: add_to(o->subnets, &o->nsubnets, 16, "--subnet", optarg); break;
    case OPT_TAG:
        check_pair("--tag", optarg, 0);
        add_to(o->tags, &o->ntags, MAX_LIST, "--tag", optarg);
        break;
    case OPT_TASK_DEF: o->task_def = optarg; break;
    case OPT_TIMEOUT:
        if (tool_parse_duration(optarg, &o->timeout) < 0)
            tool_usage("--timeout must look like 90s, 15m or 1h, not '%s'", optarg);
        break;
    default: tool_bad_option(argv, opt);
    }
}

static void check_args(const struct opts *o)
{
    if (!o->cluster || !*o->cluster)
        tool_usage("missing --cluster");
    if (!o->service == !o->task_def)
        tool_usage(o->service ? "--service and --task-def exclude each other" : "missing --service or --task-def");
    if ((o->service && !*o->service) || (o->task_def && !*o->task_def))
        tool_usage("--service and --task-def need a name");
    if (o->nsgs && !o->nsubnets)
        tool_usage("--security-group goes with --subnet");
    if (o->ncommand == 0 && o->command)
        tool_usage("nothing after --: give the command, or leave -- out to run the task definition's");
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "cluster", required_argument, NULL, OPT_CLUSTER },
        { "container", required_argument, NULL, OPT_CONTAINER },
        { "count", required_argument, NULL, OPT_COUNT },
        { "cpu", required_argument, NULL, OPT_CPU },
        { "env", required_argument, NULL, OPT_ENV },
        { "image", required_argument, NULL, OPT_IMAGE },
        { "launch-type", required_argument, NULL, OPT_LAUNCH_TYPE },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "no-logs", no_argument, NULL, OPT_NO_LOGS },
        { "no-wait", no_argument, NULL, OPT_NO_WAIT },
        { "security-group", required_argument, NULL, OPT_SECURITY_GROUP },
        { "service", required_argument, NULL, OPT_SERVICE },
        { "started-by", required_argument, NULL, OPT_STARTED_BY },
        { "subnet", required_argument, NULL, OPT_SUBNET },
        { "tag", required_argument, NULL, OPT_TAG },
        { "task-def", required_argument, NULL, OPT_TASK_DEF },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    int opt;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    o->count = 1;
    o->timeout = 60 * 60;
    o->started_by = "ecs-run";
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS, longopts);
    /* "+": options end at the first word that is not one, so the command after -- is never read as
     * options of ours, and a stray word is an error rather than moved aside. */
    while ((opt = getopt_long(argc, argv, "+:" COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        take_opt(o, opt, argv);
    }
    if (optind > 1 && strcmp(argv[optind - 1], "--") == 0) {
        o->command = argv + optind;
        o->ncommand = argc - optind;
    } else if (optind < argc) {
        tool_usage("unexpected argument '%s' (the command goes after --)", argv[optind]);
    }
    check_args(o);
}

/* ---- small helpers --------------------------------------------------------------------------- */

/* A task definition named by reference rather than by a file: an ARN, or FAMILY[:REVISION] (a
 * family is up to 255 letters, digits, '-' and '_'). A file by such a name is written ./NAME. */
static int is_task_def_ref(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    if (strncmp(s, "arn:", 4) == 0)
        return 1;
    if (n == 0 || n > 255)
        return 0;
    if (s[n] == '\0')
        return 1;
    return s[n] == ':' && s[n + 1] && strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

/* SIGINT and SIGTERM: stop the tasks, then die of the signal (the shell sees 128+N). */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Sleep up to seconds, in short steps, waking for a signal. */
static void nap(double seconds)
{
    double end = tool_now_s() + seconds;

    while (!got_signal && tool_now_s() < end) {
        double left = end - tool_now_s();
        tool_sleep_s(left < 0.1 ? left : 0.1);
    }
}

/* ---- the run --------------------------------------------------------------------------------- */

/* One task we started, as we follow it. */
struct job {
    char *arn;
    const char *id;            /* borrowed from arn */
    char *last_status;         /* as last printed */
    struct sk_ecs_task t;      /* the last DescribeTasks answer */
    struct sk_logs_tail *tail; /* one per log config */
    enum sk_run_verdict v;
    int exit_code, stopped_by_us, told;
    struct sk_explain why;
};

struct run {
    const struct opts *o;
    struct sk_client *c;
    char *td_arn;
    jv service, td;
    struct sk_run_container *defs;
    size_t ndefs;
    struct sk_ecs_log_config *logs;
    size_t nlogs;
    const char *container;
    struct sk_logs lr;
    struct job *jobs;
    size_t njobs;
    double start;
};

static void run_release(struct run *r)
{
    size_t i, k;

    for (i = 0; i < r->njobs; i++) {
        struct job *j = &r->jobs[i];
        free(j->arn);
        free(j->last_status);
        sk_ecs_task_release(&j->t);
        for (k = 0; j->tail && k < r->nlogs; k++)
            sk_logs_tail_release(&j->tail[k]);
        free(j->tail);
        sk_explain_release(&j->why);
    }
    free(r->jobs);
    free(r->td_arn);
    jv_free(r->service);
    jv_free(r->td);
    sk_run_containers_free(r->defs, r->ndefs);
    sk_ecs_log_configs_free(r->logs, r->nlogs);
    sk_logs_release(&r->lr);
}

/* The task definition to run: the service's, the one named, or one registered from --task-def FILE
 * or with --image; then its containers and log settings. */
static int prepare(struct run *r, struct sk_err *err)
{
    const struct opts *o = r->o;
    jv td = jv_invalid(), tags = jv_invalid(), in;
    int rc = -1;

    if (o->service) {
        if (sk_ecs_describe_service_tags(r->c, o->cluster, o->service, &r->service, err) < 0)
            return -1;
        r->td_arn = xstrdup_or_null(sk_json_str(r->service, "taskDefinition"));
        if (!r->td_arn)
            return sk_errf(err, SK_E_AWS, "service '%s' has no task definition", o->service);
    } else if (is_task_def_ref(o->task_def)) {
        r->td_arn = xstrdup(o->task_def);
    } else {
        struct sk_buf text = SK_BUF_INIT;
        if (tool_read_input(o->task_def, &text, (size_t)4 << 20, err) < 0)
            return -1;
        rc = sk_ecs_taskdef_parse(text.p, text.len, o->task_def, &td, &tags, err);
        sk_buf_release(&text);
        if (rc < 0)
            return -1;
        rc = -1;
    }
    if (jv_get_kind(td) == JV_KIND_INVALID && o->nimages &&
        sk_ecs_describe_task_def(r->c, r->td_arn, &td, &tags, err) < 0)
        goto out;
    if (jv_get_kind(td) != JV_KIND_INVALID) {
        /* a new revision: the file's, or the running one with the new images */
        if (sk_ecs_taskdef_with_images(td, tags, o->images, o->nimages, &in, err) < 0) {
            td = tags = jv_invalid(); /* consumed */
            goto out;
        }
        td = tags = jv_invalid();
        free(r->td_arn);
        r->td_arn = NULL;
        rc = sk_ecs_register_task_def(r->c, in, &r->td_arn, NULL, NULL, err);
        jv_free(in);
        if (rc < 0)
            goto out;
        rc = -1;
        tool_note(&o->c, "registered %s", sk_ecs_arn_name(r->td_arn));
    }
    if (sk_ecs_describe_task_def(r->c, r->td_arn, &r->td, &tags, err) < 0)
        goto out;
    if (sk_json_str(r->td, "taskDefinitionArn")) { /* the very revision looked at is the one run */
        free(r->td_arn);
        r->td_arn = xstrdup(sk_json_str(r->td, "taskDefinitionArn"));
    }
    sk_run_containers(r->td, &r->defs, &r->ndefs);
    sk_ecs_taskdef_logs(r->td, &r->logs, &r->nlogs);
    r->container = sk_run_pick_container(r->defs, r->ndefs, o->container);
    if (!r->container && (o->container || o->command || o->nenv)) {
        sk_errf(err, SK_E_USAGE,
                o->container ? "task definition %s has no container '%s'"
                             : "task definition %s has no essential container",
                sk_ecs_arn_name(r->td_arn), tool_or(o->container, ""));
        goto out;
    }
    rc = 0;
out:
    jv_free(td);
    jv_free(tags);
    return rc;
}

/* Stop every task that is not STOPPED yet, saying why; failures are told, not fatal. */
static void stop_all(struct run *r, const char *reason)
{
    size_t i;

    for (i = 0; i < r->njobs; i++) {
        struct job *j = &r->jobs[i];
        struct sk_err e;
        if (j->v != SK_RUN_RUNNING)
            continue;
        sk_err_clear(&e);
        if (sk_run_stop(r->c, r->o->cluster, j->arn, reason, &e) < 0)
            tool_line(stderr, "%s: could not stop task %s: %s", progname, j->id, e.msg);
        else
            j->stopped_by_us = 1;
    }
}

static int start(struct run *r, struct sk_err *err)
{
    const struct opts *o = r->o;
    struct sk_run_req q;
    struct sk_ecs_task *tasks;
    size_t n, i, k;
    jv in;
    int rc;

    memset(&q, 0, sizeof(q));
    q.cluster = o->cluster;
    q.task_definition = r->td_arn;
    q.started_by = o->started_by;
    q.container = r->container;
    q.command = (const char *const *)o->command;
    q.ncommand = o->ncommand;
    q.env = o->env;
    q.nenv = o->nenv;
    q.cpu = o->cpu;
    q.memory = o->memory;
    q.tags = o->tags;
    q.ntags = o->ntags;
    q.count = o->count;
    q.service = r->service;
    q.launch_type = o->launch_type;
    q.subnets = o->subnets;
    q.nsubnets = o->nsubnets;
    q.security_groups = o->sgs;
    q.nsecurity_groups = o->nsgs;
    in = sk_run_input(&q);
    rc = sk_run_task(r->c, in, &tasks, &n, err);
    r->jobs = n ? xcalloc(n, sizeof(*r->jobs)) : NULL;
    for (i = 0; i < n; i++) {
        struct job *j = &r->jobs[r->njobs++];
        j->arn = xstrdup(tool_or(tasks[i].arn, "?"));
        j->id = sk_ecs_task_id(j->arn);
        j->last_status = xstrdup_or_null(tasks[i].last_status);
        j->exit_code = -1;
        sk_explain_init(&j->why);
        j->tail = r->nlogs ? xcalloc(r->nlogs, sizeof(*j->tail)) : NULL;
        /* its streams are its own: from a minute before it was created on (clocks differ) */
        for (k = 0; k < r->nlogs; k++)
            sk_logs_tail_init(&j->tail[k],
                              ((long long)(tasks[i].has_created_at ? tasks[i].created_at : (double)time(NULL)) - 60) *
                                  1000);
        tool_note(&o->c, "started task %s (%s)", j->id, sk_ecs_arn_name(r->td_arn));
    }
    sk_ecs_tasks_free(tasks, n);
    if (rc < 0 && r->njobs) {
        /* never half a run: the tasks that did start are stopped again */
        for (i = 0; i < r->njobs; i++)
            r->jobs[i].v = SK_RUN_RUNNING;
        stop_all(r, "ecs-run: RunTask could not start all the tasks asked for");
        tool_err_append(err, "; stopped the %zu that started", r->njobs);
    }
    return rc;
}

/* ---- following the tasks ------------------------------------------------------------------------ */

struct log_ctx {
    const struct job *j;
    const char *container;
};

static void print_log_event(void *ctx, const struct sk_log_event *ev)
{
    const struct log_ctx *lc = ctx;

    tool_line(stderr, "%s: [%s %s] %s", progname, lc->j->id, lc->container, ev->message ? ev->message : "");
}

/* New log lines of every container of task j that logs with awslogs. A stream that is not there yet
 * is no error: the container may not have written anything. */
static void read_logs(struct run *r, struct job *j)
{
    size_t k;

    for (k = 0; k < r->nlogs; k++) {
        const struct sk_ecs_log_config *l = &r->logs[k];
        struct log_ctx lc = { j, l->container };
        struct sk_client *c;
        struct sk_err e;
        char *stream;
        if (!l->driver || strcmp(l->driver, "awslogs") != 0 || !l->group || !l->stream_prefix || !l->container)
            continue;
        sk_err_clear(&e);
        c = sk_logs_client(&r->lr, l->region, &e);
        stream = sk_logs_stream(l, j->id);
        if (!c || sk_logs_tail_read(&j->tail[k], c, l->group, stream, print_log_event, &lc, &e) < 0) {
            if (strcmp(e.aws_code, "ResourceNotFoundException") != 0)
                tool_verbose(&r->o->c, "log lines of task %s: %s", j->id, e.msg);
        } else {
            sk_logs_tail_next(&j->tail[k]);
        }
        free(stream);
    }
}

/* The verdict on a task that has just stopped, told: its exit code, or why it failed in detail. */
static void tell_verdict(struct run *r, struct job *j)
{
    char **lines;
    size_t i, n;

    j->told = 1;
    if (j->v == SK_RUN_OK) {
        tool_note(&r->o->c, "task %s succeeded: exit code 0", j->id);
        return;
    }
    if (j->exit_code >= 0)
        tool_line(stderr, "%s: task %s failed: exit code %d", progname, j->id, j->exit_code);
    else
        tool_line(stderr, "%s: task %s failed", progname, j->id);
    tool_line(stderr, "%s: why: %s", progname, tool_or(j->why.reason, "no reason given"));
    if (j->why.hint)
        tool_line(stderr, "%s:   fix: %s", progname, j->why.hint);
    sk_deploy_task_lines(&r->lr, &j->t, r->logs, r->nlogs, 10, &lines, &n, NULL);
    for (i = 0; i < n; i++)
        tool_line(stderr, "%s: %s", progname, lines[i]);
    sk_logs_lines_free(lines, n);
}

/* One look at the tasks: state changes and log lines told, verdicts taken. The number still running. */
static int look(struct run *r, struct sk_err *err)
{
    char **arns = xcalloc(r->njobs, sizeof(*arns));
    struct sk_ecs_task *tasks;
    size_t i, k, n, running = 0;

    for (i = 0; i < r->njobs; i++)
        arns[i] = r->jobs[i].arn;
    if (sk_run_describe(r->c, r->o->cluster, arns, r->njobs, &tasks, &n, err) < 0) {
        free(arns);
        return -1;
    }
    free(arns);
    for (i = 0; i < r->njobs; i++) {
        struct job *j = &r->jobs[i];
        for (k = 0; k < n && (!tasks[k].arn || strcmp(tasks[k].arn, j->arn) != 0); k++)
            ;
        if (j->v != SK_RUN_RUNNING || k == n) {
            running += j->v == SK_RUN_RUNNING;
            continue;
        }
        sk_ecs_task_release(&j->t);
        j->t = tasks[k];
        memset(&tasks[k], 0, sizeof(tasks[k]));
        if (j->t.last_status && (!j->last_status || strcmp(j->last_status, j->t.last_status) != 0)) {
            tool_note(&r->o->c, "task %s: %s", j->id, j->t.last_status);
            free(j->last_status);
            j->last_status = xstrdup(j->t.last_status);
        }
        if (!r->o->no_logs && !r->o->c.quiet && (j->t.has_started_at || sk_deploy_task_ran(&j->t)))
            read_logs(r, j);
        j->v = sk_run_judge(&j->t, r->defs, r->ndefs, &j->why, &j->exit_code);
        if (j->v != SK_RUN_RUNNING)
            tell_verdict(r, j);
        else
            running++;
    }
    sk_ecs_tasks_free(tasks, n);
    return (int)running;
}

#define WAIT_MAX_FAILED 3 /* looks in a row that failed (after their retries) before the wait gives up */

/* Follow the tasks until all have stopped, the deadline, or a signal. 0 all stopped; 1 timed out;
 * 2 a signal; -1 an error. */
static int follow(struct run *r, struct sk_err *err)
{
    double interval = 2.0 * tool_poll_scale(), deadline = r->start + (double)r->o->timeout;
    int failed = 0, left;

    for (;;) {
        if (got_signal)
            return 2;
        left = look(r, err);
        if (left == 0)
            return 0;
        if (left < 0) {
            if (err->retryable == SK_RETRY_NO || (err->retryable != SK_RETRY_THROTTLE && ++failed >= WAIT_MAX_FAILED))
                return -1;
        } else {
            failed = 0;
        }
        if (tool_now_s() >= deadline)
            return 1;
        /* at most 2.4 s between looks: the verdict follows the stop within 3 s */
        nap(interval * (0.8 + 0.4 * ((double)rand() / RAND_MAX)));
    }
}

/* ---- output ---------------------------------------------------------------------------------- */

static const char *verdict_name(const struct job *j)
{
    if (j->v == SK_RUN_OK)
        return "succeeded";
    if (j->v == SK_RUN_FAILED)
        return "failed";
    return j->stopped_by_us ? "stopped" : "running";
}

static jv task_json(const struct job *j)
{
    jv o = jv_object(), conts = jv_array();
    size_t i;

    o = jv_object_set(o, jv_string("taskArn"), jv_string(j->arn));
    o = jv_object_set(o, jv_string("verdict"), jv_string(verdict_name(j)));
    if (j->t.last_status)
        o = jv_object_set(o, jv_string("lastStatus"), jv_string(j->t.last_status));
    o = jv_object_set(o, jv_string("exitCode"),
                      j->exit_code >= 0 || j->v == SK_RUN_OK ? jv_number(j->exit_code < 0 ? 0 : j->exit_code)
                                                             : jv_null());
    if (j->t.stop_code)
        o = jv_object_set(o, jv_string("stopCode"), jv_string(j->t.stop_code));
    if (j->t.stopped_reason)
        o = jv_object_set(o, jv_string("stoppedReason"), jv_string(j->t.stopped_reason));
    for (i = 0; i < j->t.ncontainers; i++) {
        const struct sk_ecs_container *ct = &j->t.containers[i];
        jv c = jv_object_set(jv_object(), jv_string("name"), jv_string(tool_or(ct->name, "")));
        c = jv_object_set(c, jv_string("exitCode"), ct->has_exit_code ? jv_number(ct->exit_code) : jv_null());
        if (ct->reason)
            c = jv_object_set(c, jv_string("reason"), jv_string(ct->reason));
        conts = jv_array_append(conts, c);
    }
    o = jv_object_set(o, jv_string("containers"), conts);
    if (j->t.has_created_at)
        o = jv_object_set(o, jv_string("createdAt"), jv_number(j->t.created_at));
    if (j->t.has_started_at)
        o = jv_object_set(o, jv_string("startedAt"), jv_number(j->t.started_at));
    if (j->t.has_stopped_at)
        o = jv_object_set(o, jv_string("stoppedAt"), jv_number(j->t.stopped_at));
    if (j->v == SK_RUN_FAILED && j->why.reason) {
        jv w = jv_object_set(jv_object(), jv_string("kind"), jv_string(sk_explain_kind_name(j->why.kind)));
        w = jv_object_set(w, jv_string("reason"), jv_string(j->why.reason));
        if (j->why.hint)
            w = jv_object_set(w, jv_string("hint"), jv_string(j->why.hint));
        o = jv_object_set(o, jv_string("why"), w);
    }
    return o;
}

/* Text: one line per task, "ARN VERDICT EXIT-CODE" ("-" when it has none). */
static void print_text(jv result, FILE *out)
{
    int i, n = jv_array_length(jv_copy(result));

    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(result), i), code = sk_json_get(t, "exitCode");
        const char *v = sk_json_str(t, "verdict");
        if (jv_get_kind(code) == JV_KIND_NUMBER)
            tool_line(out, "%s %s %.0f", sk_json_str(t, "taskArn"), v ? v : "?", jv_number_value(code));
        else
            tool_line(out, "%s %s -", sk_json_str(t, "taskArn"), v ? v : "?");
        jv_free(code);
        jv_free(t);
    }
}

/* --no-wait, text: the task ARNs, one per line. */
static void print_arns(jv result, FILE *out)
{
    int i, n = jv_array_length(jv_copy(result));

    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(result), i);
        tool_line(out, "%s", sk_json_str(t, "taskArn"));
        jv_free(t);
    }
}

static int emit(struct run *r, struct sk_err *err)
{
    jv result = jv_array();
    size_t i;

    for (i = 0; i < r->njobs; i++)
        result = jv_array_append(result, task_json(&r->jobs[i]));
    return tool_emit(&r->o->c, result, r->o->no_wait ? print_arns : print_text, err);
}

static int run(const struct opts *o, struct sk_err *err)
{
    struct sk_client c;
    struct run r;
    size_t i;
    int rc = -1, how = 0, have_client = 0, failed = 0, sig = 0;
    char reason[128];

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.c = &c;
    r.service = r.td = jv_invalid();
    r.start = tool_now_s();
    sk_logs_init(&r.lr, &c, tool_region_client, (void *)&o->c);
    if (sk_scale_env("SK_POLL_SCALE", &(double){ 1 }, err) < 0 || tool_client_init(&c, &o->c, err) < 0)
        goto out;
    have_client = 1;
    if (!o->no_wait)
        catch_signals();
    if (prepare(&r, err) < 0)
        goto out;
    if (got_signal) { /* before anything started: nothing to stop */
        sig = got_signal;
        rc = EXIT_NO;
        goto out;
    }
    if (start(&r, err) < 0)
        goto out;
    if (!o->no_wait) {
        how = follow(&r, err);
        if (how < 0) {
            tool_err_append(err, "; the tasks were left running");
            goto out;
        }
        if (how == 1) {
            snprintf(reason, sizeof(reason), "ecs-run: timed out after %lds", o->timeout);
            stop_all(&r, reason);
        } else if (how == 2) {
            sig = got_signal;
            snprintf(reason, sizeof(reason), "ecs-run: interrupted (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
            stop_all(&r, reason);
        }
    }
    if (emit(&r, err) < 0)
        goto out;
    for (i = 0; i < r.njobs; i++)
        failed += r.jobs[i].v == SK_RUN_FAILED;
    if (how == 1) {
        size_t stopped = 0;
        for (i = 0; i < r.njobs; i++)
            stopped += (size_t)r.jobs[i].stopped_by_us;
        sk_errf(err, SK_E_TIMEOUT, "timed out after %lds: stopped the %zu task%s still running", o->timeout, stopped,
                stopped == 1 ? "" : "s");
        goto out;
    }
    if (how == 2)
        tool_line(stderr, "%s: interrupted: stopped the tasks still running", progname);
    else if (failed)
        tool_line(stderr, "%s: %d of %zu task%s failed", progname, failed, r.njobs, r.njobs == 1 ? "" : "s");
    rc = failed || how == 2 ? EXIT_NO : EXIT_OK;
out:
    run_release(&r);
    if (have_client)
        sk_client_release(&c);
    if (sig) {
        fflush(stdout);
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("ecs-run");
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    parse_args(argc, argv, &o);
    return tool_finish(run(&o, &err));
}
