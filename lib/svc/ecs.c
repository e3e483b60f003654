#include "svc/ecs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/yamljv.h"

static int describe_service(struct sk_client *c, const char *cluster, const char *service, int tags, jv *out,
                            struct sk_err *err)
{
    jv in = jv_object(), res, list, svc;

    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    in = jv_object_set(in, jv_string("services"), jv_array_append(jv_array(), jv_string(service)));
    if (tags)
        in = jv_object_set(in, jv_string("include"), jv_array_append(jv_array(), jv_string("TAGS")));
    if (sk_client_json(c, &sk_svc_ecs, "DescribeServices", in, 0, &res, err) < 0)
        return -1;
    list = sk_json_get(res, "services");
    svc = jv_get_kind(list) == JV_KIND_ARRAY && jv_array_length(jv_copy(list)) > 0 ? jv_array_get(jv_copy(list), 0)
                                                                                   : jv_invalid();
    jv_free(list);
    jv_free(res);
    if (jv_get_kind(svc) != JV_KIND_OBJECT) {
        jv_free(svc);
        sk_err_clear(err);
        snprintf(err->aws_code, sizeof(err->aws_code), "ServiceNotFoundException");
        return sk_errf(err, SK_E_AWS, "service '%s' not found in cluster '%s'", service, cluster);
    }
    *out = svc;
    return 0;
}

int sk_ecs_describe_service(struct sk_client *c, const char *cluster, const char *service, jv *out, struct sk_err *err)
{
    return describe_service(c, cluster, service, 0, out, err);
}

int sk_ecs_describe_service_tags(struct sk_client *c, const char *cluster, const char *service, jv *out,
                                 struct sk_err *err)
{
    return describe_service(c, cluster, service, 1, out, err);
}

int sk_ecs_describe_services(struct sk_client *c, const char *cluster, const char *const *services, size_t n, jv *found,
                             struct sk_err *err)
{
    jv in = jv_object(), names = jv_array(), res, list;
    int i, m;
    size_t k;

    if (n == 0 || n > SK_ECS_DESCRIBE_MAX)
        return sk_errf(err, SK_E_INTERNAL, "DescribeServices takes 1 to %d services, not %zu", SK_ECS_DESCRIBE_MAX, n);
    for (k = 0; k < n; k++)
        names = jv_array_append(names, jv_string(services[k]));
    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    in = jv_object_set(in, jv_string("services"), names);
    if (sk_client_json(c, &sk_svc_ecs, "DescribeServices", in, 0, &res, err) < 0)
        return -1;
    *found = jv_object();
    list = sk_json_get(res, "services");
    m = sk_json_len(list);
    for (i = 0; i < m; i++) {
        jv svc = jv_array_get(jv_copy(list), i);
        const char *name = sk_json_str(svc, "serviceName"), *arn = sk_json_str(svc, "serviceArn");
        if (jv_get_kind(svc) == JV_KIND_OBJECT && name)
            *found = jv_object_set(*found, jv_string(name), jv_copy(svc));
        if (jv_get_kind(svc) == JV_KIND_OBJECT && arn)
            *found = jv_object_set(*found, jv_string(arn), jv_copy(svc));
        jv_free(svc);
    }
    jv_free(list);
    jv_free(res);
    return 0;
}

/* An ARN list being read page by page (sk_client_json_pages): each answer's key array, appended to
 * all; with family set, only the task definitions of that family, never one it prefixes. */
struct arn_pages {
    const char *key, *family;
    jv all;
};

static int of_family(jv arn, const char *family)
{
    char fam[256];

    if (jv_get_kind(arn) != JV_KIND_STRING)
        return 0;
    sk_ecs_td_family(jv_string_value(arn), fam, sizeof(fam));
    return strcmp(fam, family) == 0;
}

static int add_arns(void *ctx, jv answer, struct sk_err *err)
{
    struct arn_pages *p = ctx;
    jv page = sk_json_get(answer, p->key);
    int i, n = sk_json_len(page);

    (void)err;
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(page), i);
        if (p->family && !of_family(a, p->family))
            jv_free(a);
        else
            p->all = jv_array_append(p->all, a);
    }
    jv_free(page);
    return 0;
}

/* Read the key arrays of op's pages into *arns (family: see struct arn_pages); in is consumed. */
static int arn_pages(struct sk_client *c, const char *op, jv in, int max_pages, const char *key, const char *family,
                     jv *arns, struct sk_err *err)
{
    struct arn_pages p = { key, family, jv_array() };

    if (sk_client_json_pages(c, &sk_svc_ecs, op, in, max_pages, add_arns, &p, err) < 0) {
        jv_free(p.all);
        return -1;
    }
    *arns = p.all;
    return 0;
}

/* ListTasks, all pages, filtered by service and desired status (either may be NULL). */
static int list_task_pages(struct sk_client *c, const char *cluster, const char *service, const char *desired_status,
                           jv *arns, struct sk_err *err)
{
    jv in = jv_object();

    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    if (service)
        in = jv_object_set(in, jv_string("serviceName"), jv_string(service));
    if (desired_status)
        in = jv_object_set(in, jv_string("desiredStatus"), jv_string(desired_status));
    return arn_pages(c, "ListTasks", in, 100, "taskArns", NULL, arns, err);
}

/*
 * ListTasks takes startedBy only as its sole filter: "When you specify startedBy as the filter, it
 * must be the only filter that you use" (ECS answers "cannot specify startedBy with other
 * arguments"), https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html.
 * So a deployment's tasks are the service's tasks in that desired status whose DescribeTasks
 * startedBy is the deployment id.
 */
int sk_ecs_list_tasks(struct sk_client *c, const char *cluster, const char *service, const char *desired_status,
                      const char *started_by, jv *arns, struct sk_err *err)
{
    jv all, tasks, mine;
    int i, n;

    if (list_task_pages(c, cluster, service, desired_status, &all, err) < 0)
        return -1;
    if (!started_by) {
        *arns = all;
        return 0;
    }
    if (sk_ecs_describe_tasks(c, cluster, all, &tasks, err) < 0) {
        jv_free(all);
        return -1;
    }
    jv_free(all);
    mine = jv_array();
    n = jv_array_length(jv_copy(tasks));
    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(tasks), i);
        const char *by = sk_json_str(t, "startedBy"), *arn = sk_json_str(t, "taskArn");
        if (by && arn && strcmp(by, started_by) == 0)
            mine = jv_array_append(mine, jv_string(arn));
        jv_free(t);
    }
    jv_free(tasks);
    *arns = mine;
    return 0;
}

int sk_ecs_describe_tasks(struct sk_client *c, const char *cluster, jv arns, jv *tasks, struct sk_err *err)
{
    jv all = jv_array();
    int i, n = jv_get_kind(arns) == JV_KIND_ARRAY ? jv_array_length(jv_copy(arns)) : 0;

    for (i = 0; i < n; i += 100) {
        jv in = jv_object(), batch = jv_array(), res, got;
        int j, m;
        for (j = i; j < n && j < i + 100; j++)
            batch = jv_array_append(batch, jv_array_get(jv_copy(arns), j));
        in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
        in = jv_object_set(in, jv_string("tasks"), batch);
        if (sk_client_json(c, &sk_svc_ecs, "DescribeTasks", in, 0, &res, err) < 0) {
            jv_free(all);
            return -1;
        }
        got = sk_json_get(res, "tasks");
        m = jv_get_kind(got) == JV_KIND_ARRAY ? jv_array_length(jv_copy(got)) : 0;
        for (j = 0; j < m; j++)
            all = jv_array_append(all, jv_array_get(jv_copy(got), j));
        jv_free(got);
        jv_free(res);
    }
    *tasks = all;
    return 0;
}

const char *sk_ecs_task_ip(jv task)
{
    jv atts = sk_json_get(task, "attachments"), conts;
    const char *ip = NULL;
    int i, j, n, m;

    n = jv_get_kind(atts) == JV_KIND_ARRAY ? jv_array_length(jv_copy(atts)) : 0;
    for (i = 0; i < n && !ip; i++) {
        jv a = jv_array_get(jv_copy(atts), i), det = sk_json_get(a, "details");
        m = jv_get_kind(det) == JV_KIND_ARRAY ? jv_array_length(jv_copy(det)) : 0;
        for (j = 0; j < m && !ip; j++) {
            jv d = jv_array_get(jv_copy(det), j);
            const char *name = sk_json_str(d, "name");
            if (name && strcmp(name, "privateIPv4Address") == 0)
                ip = sk_json_str(d, "value"); /* borrowed from task: d shares its storage */
            jv_free(d);
        }
        jv_free(det);
        jv_free(a);
    }
    jv_free(atts);
    if (ip)
        return ip;
    conts = sk_json_get(task, "containers");
    n = jv_get_kind(conts) == JV_KIND_ARRAY ? jv_array_length(jv_copy(conts)) : 0;
    for (i = 0; i < n && !ip; i++) {
        jv ct = jv_array_get(jv_copy(conts), i), nis = sk_json_get(ct, "networkInterfaces");
        if (jv_get_kind(nis) == JV_KIND_ARRAY && jv_array_length(jv_copy(nis)) > 0) {
            jv ni = jv_array_get(jv_copy(nis), 0);
            ip = sk_json_str(ni, "privateIpv4Address");
            jv_free(ni);
        }
        jv_free(nis);
        jv_free(ct);
    }
    jv_free(conts);
    return ip;
}

const char *sk_ecs_task_id(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash ? slash + 1 : arn;
}

/* ---- the answers as C structs -------------------------------------------------------------------- */

static char *dup_str(jv obj, const char *key)
{
    return xstrdup_or_null(sk_json_str(obj, key));
}

static long count(jv obj, const char *key)
{
    double d;
    return sk_json_num(obj, key, &d) == 0 ? (long)d : SK_ECS_ABSENT;
}

static int when(jv obj, const char *key, double *out)
{
    *out = 0;
    return sk_json_num(obj, key, out) == 0;
}

/* The n elements of array key of obj, each parsed by fn into an array of size elements. */
static void *parse_array(jv obj, const char *key, size_t size, void (*fn)(jv, void *), size_t *n)
{
    jv a = sk_json_get(obj, key);
    int i, m = sk_json_len(a);
    char *out = m ? xcalloc((size_t)m, size) : NULL;

    for (i = 0; i < m; i++) {
        jv el = jv_array_get(jv_copy(a), i);
        fn(el, out + (size_t)i * size);
        jv_free(el);
    }
    jv_free(a);
    *n = (size_t)m;
    return out;
}

static void parse_deployment(jv d, void *out)
{
    struct sk_ecs_deployment *p = out;

    p->id = dup_str(d, "id");
    p->status = dup_str(d, "status");
    p->rollout_state = dup_str(d, "rolloutState");
    p->rollout_state_reason = dup_str(d, "rolloutStateReason");
    p->task_definition = dup_str(d, "taskDefinition");
    p->desired_count = count(d, "desiredCount");
    p->pending_count = count(d, "pendingCount");
    p->running_count = count(d, "runningCount");
    p->failed_tasks = count(d, "failedTasks");
    p->has_created_at = when(d, "createdAt", &p->created_at);
    when(d, "updatedAt", &p->updated_at);
}

static void parse_event(jv e, void *out)
{
    struct sk_ecs_event *p = out;

    p->id = dup_str(e, "id");
    p->message = dup_str(e, "message");
    p->has_created_at = when(e, "createdAt", &p->created_at);
}

static void parse_lb(jv lb, void *out)
{
    struct sk_ecs_load_balancer *p = out;
    long port = count(lb, "containerPort");

    p->target_group_arn = dup_str(lb, "targetGroupArn");
    p->container_name = dup_str(lb, "containerName");
    p->container_port = port == SK_ECS_ABSENT ? 0 : port;
}

int sk_ecs_service_parse(jv svc, struct sk_ecs_service *out, struct sk_err *err)
{
    jv ctl, dc;

    memset(out, 0, sizeof(*out));
    if (jv_get_kind(svc) != JV_KIND_OBJECT)
        return sk_errf(err, SK_E_PARSE, "ecs DescribeServices: the service is not an object");
    out->name = dup_str(svc, "serviceName");
    out->arn = dup_str(svc, "serviceArn");
    out->cluster_arn = dup_str(svc, "clusterArn");
    out->status = dup_str(svc, "status");
    out->task_definition = dup_str(svc, "taskDefinition");
    ctl = sk_json_get(svc, "deploymentController");
    out->deployment_controller = dup_str(ctl, "type");
    jv_free(ctl);
    out->desired_count = count(svc, "desiredCount");
    out->running_count = count(svc, "runningCount");
    out->pending_count = count(svc, "pendingCount");
    out->grace_period_s = sk_json_num_any(svc, "healthCheckGracePeriodSeconds", 0);
    dc = sk_json_get(svc, "deploymentConfiguration");
    out->maximum_percent = sk_json_num_any(dc, "maximumPercent", 200);
    out->strategy = dup_str(dc, "strategy");
    jv_free(dc);
    out->deployments = parse_array(svc, "deployments", sizeof(*out->deployments), parse_deployment, &out->ndeployments);
    out->events = parse_array(svc, "events", sizeof(*out->events), parse_event, &out->nevents);
    out->load_balancers =
        parse_array(svc, "loadBalancers", sizeof(*out->load_balancers), parse_lb, &out->nload_balancers);
    return 0;
}

void sk_ecs_service_release(struct sk_ecs_service *s)
{
    size_t i;

    for (i = 0; i < s->ndeployments; i++) {
        struct sk_ecs_deployment *d = &s->deployments[i];
        free(d->id);
        free(d->status);
        free(d->rollout_state);
        free(d->rollout_state_reason);
        free(d->task_definition);
    }
    for (i = 0; i < s->nevents; i++) {
        free(s->events[i].id);
        free(s->events[i].message);
    }
    for (i = 0; i < s->nload_balancers; i++) {
        free(s->load_balancers[i].target_group_arn);
        free(s->load_balancers[i].container_name);
    }
    free(s->deployments);
    free(s->events);
    free(s->load_balancers);
    free(s->name);
    free(s->arn);
    free(s->cluster_arn);
    free(s->status);
    free(s->task_definition);
    free(s->deployment_controller);
    free(s->strategy);
    memset(s, 0, sizeof(*s));
}

static void parse_container(jv ct, void *out)
{
    struct sk_ecs_container *p = out;
    double code;

    p->name = dup_str(ct, "name");
    p->reason = dup_str(ct, "reason");
    p->image = dup_str(ct, "image");
    p->runtime_id = dup_str(ct, "runtimeId");
    p->has_exit_code = sk_json_num(ct, "exitCode", &code) == 0;
    p->exit_code = p->has_exit_code ? code : -1;
}

void sk_ecs_task_parse(jv task, struct sk_ecs_task *out)
{
    memset(out, 0, sizeof(*out));
    out->arn = dup_str(task, "taskArn");
    out->last_status = dup_str(task, "lastStatus");
    out->desired_status = dup_str(task, "desiredStatus");
    out->health_status = dup_str(task, "healthStatus");
    out->stop_code = dup_str(task, "stopCode");
    out->stopped_reason = dup_str(task, "stoppedReason");
    out->started_by = dup_str(task, "startedBy");
    out->task_definition_arn = dup_str(task, "taskDefinitionArn");
    out->ip = xstrdup_or_null(sk_ecs_task_ip(task));
    out->has_created_at = when(task, "createdAt", &out->created_at);
    out->has_started_at = when(task, "startedAt", &out->started_at);
    out->has_stopped_at = when(task, "stoppedAt", &out->stopped_at);
    out->containers = parse_array(task, "containers", sizeof(*out->containers), parse_container, &out->ncontainers);
}

void sk_ecs_task_release(struct sk_ecs_task *t)
{
    size_t i;

    for (i = 0; i < t->ncontainers; i++) {
        free(t->containers[i].name);
        free(t->containers[i].reason);
        free(t->containers[i].image);
        free(t->containers[i].runtime_id);
    }
    free(t->containers);
    free(t->arn);
    free(t->last_status);
    free(t->desired_status);
    free(t->health_status);
    free(t->stop_code);
    free(t->stopped_reason);
    free(t->started_by);
    free(t->task_definition_arn);
    free(t->ip);
    memset(t, 0, sizeof(*t));
}

void sk_ecs_tasks_free(struct sk_ecs_task *tasks, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        sk_ecs_task_release(&tasks[i]);
    free(tasks);
}

void sk_ecs_taskdef_logs(jv td, struct sk_ecs_log_config **out, size_t *n)
{
    jv conts = sk_json_get(td, "containerDefinitions");
    int i, m = sk_json_len(conts);

    *out = m ? xcalloc((size_t)m, sizeof(**out)) : NULL;
    *n = 0;
    for (i = 0; i < m; i++) {
        jv ct = jv_array_get(jv_copy(conts), i), lc = sk_json_get(ct, "logConfiguration"),
           opt = sk_json_get(lc, "options");
        struct sk_ecs_log_config *l = &(*out)[*n];
        if (sk_json_str(ct, "name")) {
            l->container = dup_str(ct, "name");
            l->driver = dup_str(lc, "logDriver");
            l->group = dup_str(opt, "awslogs-group");
            l->stream_prefix = dup_str(opt, "awslogs-stream-prefix");
            l->region = dup_str(opt, "awslogs-region");
            (*n)++;
        }
        jv_free(opt);
        jv_free(lc);
        jv_free(ct);
    }
    jv_free(conts);
}

void sk_ecs_log_configs_free(struct sk_ecs_log_config *l, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(l[i].container);
        free(l[i].driver);
        free(l[i].group);
        free(l[i].stream_prefix);
        free(l[i].region);
    }
    free(l);
}

int sk_ecs_get_service(struct sk_client *c, const char *cluster, const char *service, struct sk_ecs_service *out,
                       jv *raw, struct sk_err *err)
{
    jv svc;
    int rc;

    memset(out, 0, sizeof(*out));
    if (sk_ecs_describe_service(c, cluster, service, &svc, err) < 0)
        return -1;
    rc = sk_ecs_service_parse(svc, out, err);
    if (rc == 0 && raw)
        *raw = svc;
    else
        jv_free(svc);
    return rc;
}

const struct sk_ecs_deployment *sk_ecs_find_deployment(const struct sk_ecs_service *s, const char *id,
                                                       const char *status)
{
    size_t i;

    for (i = 0; i < s->ndeployments; i++) {
        const struct sk_ecs_deployment *d = &s->deployments[i];
        if ((id && d->id && strcmp(d->id, id) == 0) || (!id && status && d->status && strcmp(d->status, status) == 0))
            return d;
    }
    return NULL;
}

int sk_ecs_deployment_tasks(struct sk_client *c, const char *cluster, const char *service, const char *desired_status,
                            const char *started_by, struct sk_ecs_task **tasks, size_t *n, int *calls,
                            struct sk_err *err)
{
    jv arns = jv_invalid(), got = jv_invalid();
    int i, m, rc = -1;

    *tasks = NULL;
    *n = 0;
    if (calls)
        (*calls)++;
    if (list_task_pages(c, cluster, service, desired_status, &arns, err) < 0)
        goto out;
    m = sk_json_len(arns);
    if (calls)
        *calls += (m + 99) / 100;
    if (m > 0 && sk_ecs_describe_tasks(c, cluster, arns, &got, err) < 0)
        goto out;
    m = sk_json_len(got);
    *tasks = m ? xcalloc((size_t)m, sizeof(**tasks)) : NULL;
    for (i = 0; i < m; i++) {
        jv t = jv_array_get(jv_copy(got), i);
        const char *by = sk_json_str(t, "startedBy");
        if (by && started_by && strcmp(by, started_by) == 0)
            sk_ecs_task_parse(t, &(*tasks)[(*n)++]);
        jv_free(t);
    }
    rc = 0;
out:
    jv_free(arns);
    jv_free(got);
    return rc;
}

const char *sk_ecs_arn_name(const char *arn)
{
    const char *s = arn ? strrchr(arn, '/') : NULL;
    return s ? s + 1 : (arn ? arn : "?");
}

/* ---- task definitions and the service update ---------------------------------------------------------- */

int sk_ecs_taskdef_parse(const char *text, size_t len, const char *name, jv *td, jv *tags, struct sk_err *err)
{
    jv doc = jv_invalid(), inner;
    size_t i = 0;

    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '{') {
        if (sk_json_parse(text, len, &doc, err) < 0) {
            err->kind = SK_E_USAGE;
            sk_err_prefix(err, "%s", name);
            return -1;
        }
    } else if (sk_yaml_to_jv(text, len, name, &doc, err) < 0) {
        return -1;
    }
    if (jv_get_kind(doc) != JV_KIND_OBJECT) {
        jv_free(doc);
        return sk_errf(err, SK_E_USAGE, "%s: a task definition must be an object", name);
    }
    /* `aws ecs describe-task-definition` output: {"taskDefinition": {...}, "tags": [...]}. */
    inner = sk_json_get(doc, "taskDefinition");
    if (jv_get_kind(inner) == JV_KIND_OBJECT) {
        *tags = sk_json_get(doc, "tags");
        *td = inner;
        jv_free(doc);
    } else {
        jv_free(inner);
        *tags = jv_invalid();
        *td = doc;
    }
    return 0;
}

int sk_ecs_describe_task_def(struct sk_client *c, const char *arn, jv *td, jv *tags, struct sk_err *err)
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
        *td = *tags = jv_invalid();
        return sk_errf(err, SK_E_PARSE, "ecs DescribeTaskDefinition: no taskDefinition in the response");
    }
    return 0;
}

/* https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html: familyPrefix
 * is "the full family name", maxResults 1 to 100, then nextToken; sort DESC lists the newest first. */
int sk_ecs_list_task_defs(struct sk_client *c, const char *family, const char *status, jv *arns, struct sk_err *err)
{
    jv in = jv_object();

    in = jv_object_set(in, jv_string("familyPrefix"), jv_string(family));
    in = jv_object_set(in, jv_string("status"), jv_string(status));
    in = jv_object_set(in, jv_string("sort"), jv_string("DESC"));
    in = jv_object_set(in, jv_string("maxResults"), jv_number(100));
    return arn_pages(c, "ListTaskDefinitions", in, 1000, "taskDefinitionArns", family, arns, err);
}

int sk_ecs_deregister_task_def(struct sk_client *c, const char *arn, struct sk_err *err)
{
    jv in = jv_object(), res;

    in = jv_object_set(in, jv_string("taskDefinition"), jv_string(arn));
    if (sk_client_json(c, &sk_svc_ecs, "DeregisterTaskDefinition", in, 0, &res, err) < 0)
        return -1;
    jv_free(res);
    return 0;
}

long sk_ecs_td_revision(const char *arn)
{
    const char *colon = arn ? strrchr(arn, ':') : NULL, *slash = arn ? strrchr(arn, '/') : NULL;
    char *end;
    long rev;

    if (!colon || (slash && colon < slash) || !colon[1] || (strncmp(arn, "arn:", 4) == 0 && !slash))
        return -1;
    errno = 0;
    rev = strtol(colon + 1, &end, 10);
    if (*end || errno || rev < 1 || colon[1] < '0' || colon[1] > '9')
        return -1;
    return rev;
}

void sk_ecs_td_family(const char *arn, char *out, size_t n)
{
    const char *name = arn ? arn : "", *slash = strrchr(name, '/'), *colon;
    size_t len;

    if (strncmp(name, "arn:", 4) == 0)
        name = slash ? slash + 1 : "";
    colon = strchr(name, ':');
    len = colon ? (size_t)(colon - name) : strlen(name);
    if (n == 0)
        return;
    if (len >= n)
        len = n - 1;
    memcpy(out, name, len);
    out[len] = '\0';
}

/* The output-only fields of DescribeTaskDefinition, which RegisterTaskDefinition refuses (the
 * TaskDefinition data type: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html). */
static const char *const output_only[] = {
    "taskDefinitionArn", "revision",     "status",         "requiresAttributes", "compatibilities",
    "registeredAt",      "registeredBy", "deregisteredAt", "deleteRequestedAt",
};

/* Put image spec ("[CONTAINER=]IMAGE") in its container of conts (n of them). */
static int set_image(jv *conts, int n, const char *spec, struct sk_err *err)
{
    const char *eq = strchr(spec, '='), *image = eq ? eq + 1 : spec;
    int j, found = -1;

    /* "repo@sha256:..." contains no '=', "NAME=IMAGE" names a container. */
    if (!eq && n > 1)
        return sk_errf(err, SK_E_USAGE, "the task definition has %d containers: use --image NAME=IMAGE", n);
    for (j = 0; j < n && found < 0; j++) {
        jv ct = jv_array_get(jv_copy(*conts), j);
        const char *name = sk_json_str(ct, "name");
        if (!eq || (name && strlen(name) == (size_t)(eq - spec) && strncmp(name, spec, (size_t)(eq - spec)) == 0))
            found = j;
        jv_free(ct);
    }
    if (found < 0)
        return sk_errf(err, SK_E_USAGE, "no container named '%.*s' in the task definition", (int)(eq - spec), spec);
    *conts = jv_array_set(*conts, found,
                          jv_object_set(jv_array_get(jv_copy(*conts), found), jv_string("image"), jv_string(image)));
    return 0;
}

int sk_ecs_taskdef_with_images(jv td, jv tags, const char *const *images, int nimages, jv *out, struct sk_err *err)
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
    n = sk_json_len(conts);
    if (n == 0) {
        jv_free(conts);
        jv_free(td);
        return sk_errf(err, SK_E_USAGE, "the task definition has no containerDefinitions");
    }
    for (k = 0; k < nimages; k++)
        if (set_image(&conts, n, images[k], err) < 0) {
            jv_free(conts);
            jv_free(td);
            return -1;
        }
    *out = jv_object_set(td, jv_string("containerDefinitions"), conts);
    return 0;
}

int sk_ecs_register_task_def(struct sk_client *c, jv in, char **arn, struct sk_ecs_log_config **logs, size_t *nlogs,
                             struct sk_err *err)
{
    jv res, td;
    int rc = -1;

    *arn = NULL;
    if (logs) {
        *logs = NULL;
        *nlogs = 0;
    }
    if (sk_client_json(c, &sk_svc_ecs, "RegisterTaskDefinition", jv_copy(in), 0, &res, err) < 0)
        return -1;
    td = sk_json_get(res, "taskDefinition");
    if (!sk_json_str(td, "taskDefinitionArn")) {
        sk_errf(err, SK_E_PARSE, "ecs RegisterTaskDefinition: no taskDefinitionArn in the response");
    } else {
        *arn = xstrdup(sk_json_str(td, "taskDefinitionArn"));
        if (logs)
            sk_ecs_taskdef_logs(td, logs, nlogs);
        rc = 0;
    }
    jv_free(td);
    jv_free(res);
    return rc;
}

int sk_ecs_update_service(struct sk_client *c, const char *cluster, const char *service, const char *td_arn,
                          long desired_count, char *dep_id, size_t dep_sz, struct sk_err *err)
{
    jv in = jv_object(), res, svc;
    struct sk_ecs_service s;
    const struct sk_ecs_deployment *primary;

    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    in = jv_object_set(in, jv_string("service"), jv_string(service));
    in = jv_object_set(in, jv_string("taskDefinition"), jv_string(td_arn));
    if (desired_count >= 0)
        in = jv_object_set(in, jv_string("desiredCount"), jv_number((double)desired_count));
    if (sk_client_json(c, &sk_svc_ecs, "UpdateService", in, 0, &res, err) < 0)
        return -1;
    /* The new deployment's id comes from the response itself (a DescribeServices right after may
     * not show it yet: aws-cli#9275). */
    svc = sk_json_get(res, "service");
    memset(&s, 0, sizeof(s));
    if (jv_get_kind(svc) == JV_KIND_OBJECT)
        sk_ecs_service_parse(svc, &s, err);
    primary = sk_ecs_find_deployment(&s, NULL, "PRIMARY");
    snprintf(dep_id, dep_sz, "%s", primary && primary->id ? primary->id : "");
    sk_ecs_service_release(&s);
    jv_free(svc);
    jv_free(res);
    if (!*dep_id)
        return sk_errf(err, SK_E_PARSE, "ecs UpdateService: no PRIMARY deployment in the response");
    return 0;
}
