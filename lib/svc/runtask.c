#include "svc/runtask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"

int sk_run_started_by_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= SK_RUN_STARTED_BY_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/_") == n;
}

/* "NAME=VALUE" strings as [{KEY: NAME, VAL: VALUE}] (each already checked to hold '='). */
static jv pairs(const char *const *kv, int n, const char *key, const char *val)
{
    jv a = jv_array();
    int i;

    for (i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        jv o = jv_object();
        o = jv_object_set(o, jv_string(key), jv_string_sized(kv[i], (int)(eq - kv[i])));
        o = jv_object_set(o, jv_string(val), jv_string(eq + 1));
        a = jv_array_append(a, o);
    }
    return a;
}

static jv strings(const char *const *s, int n)
{
    jv a = jv_array();
    int i;

    for (i = 0; i < n; i++)
        a = jv_array_append(a, jv_string(s[i]));
    return a;
}

/* The service's tags, but those of AWS's own prefix (which nobody may set: "aws:" is reserved,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html), then ours. */
static jv all_tags(const struct sk_run_req *r)
{
    jv tags = jv_array(), svc = sk_json_get(r->service, "tags"), mine;
    int i, n = sk_json_len(svc);

    for (i = 0; i < n; i++) {
        jv t = jv_array_get(jv_copy(svc), i);
        const char *k = sk_json_str(t, "key");
        if (k && strncmp(k, "aws:", 4) != 0)
            tags = jv_array_append(tags, jv_copy(t));
        jv_free(t);
    }
    jv_free(svc);
    mine = pairs(r->tags, r->ntags, "key", "value");
    return jv_array_concat(tags, mine);
}

/* Where the tasks run: the service's network configuration and launch type or capacity-provider
 * strategy and platform version, then what the request names instead. */
static jv placement(jv in, const struct sk_run_req *r)
{
    jv net = sk_json_get(r->service, "networkConfiguration"), cps = sk_json_get(r->service, "capacityProviderStrategy");
    const char *lt = sk_json_str(r->service, "launchType"), *pv = sk_json_str(r->service, "platformVersion");

    if (r->nsubnets) {
        jv vpc = jv_object();
        vpc = jv_object_set(vpc, jv_string("subnets"), strings(r->subnets, r->nsubnets));
        if (r->nsecurity_groups)
            vpc = jv_object_set(vpc, jv_string("securityGroups"), strings(r->security_groups, r->nsecurity_groups));
        jv_free(net);
        net = jv_object_set(jv_object(), jv_string("awsvpcConfiguration"), vpc);
    }
    if (jv_get_kind(net) == JV_KIND_OBJECT)
        in = jv_object_set(in, jv_string("networkConfiguration"), jv_copy(net));
    if (r->launch_type)
        in = jv_object_set(in, jv_string("launchType"), jv_string(r->launch_type));
    else if (sk_json_len(cps) > 0)
        in = jv_object_set(in, jv_string("capacityProviderStrategy"), jv_copy(cps));
    else if (lt)
        in = jv_object_set(in, jv_string("launchType"), jv_string(lt));
    if (pv)
        in = jv_object_set(in, jv_string("platformVersion"), jv_string(pv));
    jv_free(net);
    jv_free(cps);
    return in;
}

static jv overrides(const struct sk_run_req *r)
{
    jv ov = jv_object();

    if (r->container && (r->command || r->nenv)) {
        jv co = jv_object_set(jv_object(), jv_string("name"), jv_string(r->container));
        if (r->command)
            co = jv_object_set(co, jv_string("command"), strings(r->command, r->ncommand));
        if (r->nenv)
            co = jv_object_set(co, jv_string("environment"), pairs(r->env, r->nenv, "name", "value"));
        ov = jv_object_set(ov, jv_string("containerOverrides"), jv_array_append(jv_array(), co));
    }
    if (r->cpu)
        ov = jv_object_set(ov, jv_string("cpu"), jv_string(r->cpu));
    if (r->memory)
        ov = jv_object_set(ov, jv_string("memory"), jv_string(r->memory));
    return ov;
}

jv sk_run_input(const struct sk_run_req *r)
{
    unsigned char rnd[16];
    char token[33];
    jv in = jv_object(), tags, ov;
    size_t i;

    in = jv_object_set(in, jv_string("cluster"), jv_string(r->cluster));
    in = jv_object_set(in, jv_string("taskDefinition"), jv_string(r->task_definition));
    in = jv_object_set(in, jv_string("count"), jv_number((double)(r->count > 0 ? r->count : 1)));
    if (r->started_by)
        in = jv_object_set(in, jv_string("startedBy"), jv_string(r->started_by));
    if (RAND_bytes(rnd, sizeof(rnd)) == 1) {
        for (i = 0; i < sizeof(rnd); i++)
            snprintf(token + 2 * i, 3, "%02x", rnd[i]);
        in = jv_object_set(in, jv_string("clientToken"), jv_string(token));
    }
    in = placement(in, r);
    ov = overrides(r);
    if (jv_object_length(jv_copy(ov)) > 0)
        in = jv_object_set(in, jv_string("overrides"), ov);
    else
        jv_free(ov);
    tags = all_tags(r);
    if (sk_json_len(tags) > 0)
        in = jv_object_set(in, jv_string("tags"), tags);
    else
        jv_free(tags);
    return in;
}

int sk_run_task(struct sk_client *c, jv in, struct sk_ecs_task **tasks, size_t *n, struct sk_err *err)
{
    jv res, got, fails;
    int i, m, nf;
    struct sk_buf why = SK_BUF_INIT;

    *tasks = NULL;
    *n = 0;
    if (sk_client_json(c, &sk_svc_ecs, "RunTask", in, 0, &res, err) < 0)
        return -1;
    got = sk_json_get(res, "tasks");
    fails = sk_json_get(res, "failures");
    m = sk_json_len(got);
    *tasks = m ? xcalloc((size_t)m, sizeof(**tasks)) : NULL;
    for (i = 0; i < m; i++) {
        jv t = jv_array_get(jv_copy(got), i);
        sk_ecs_task_parse(t, &(*tasks)[(*n)++]);
        jv_free(t);
    }
    nf = sk_json_len(fails);
    for (i = 0; i < nf; i++) {
        jv f = jv_array_get(jv_copy(fails), i);
        const char *reason = sk_json_str(f, "reason"), *detail = sk_json_str(f, "detail"), *arn = sk_json_str(f, "arn");
        sk_buf_addf(&why, "%s%s%s%s%s%s%s", i ? "; " : "", reason ? reason : "no reason given", detail ? " (" : "",
                    detail ? detail : "", detail ? ")" : "", arn ? " for " : "", arn ? arn : "");
        jv_free(f);
    }
    jv_free(got);
    jv_free(fails);
    jv_free(res);
    if (nf == 0 && m == 0) {
        sk_buf_release(&why);
        return sk_errf(err, SK_E_AWS, "RunTask started no task and gave no reason");
    }
    if (nf > 0) {
        sk_err_clear(err);
        snprintf(err->aws_code, sizeof(err->aws_code), "RunTaskFailure");
        sk_errf(err, SK_E_AWS, "RunTask started %d of %d tasks: %s", m, m + nf, why.p);
        sk_buf_release(&why);
        return -1;
    }
    sk_buf_release(&why);
    return 0;
}

int sk_run_stop(struct sk_client *c, const char *cluster, const char *arn, const char *reason, struct sk_err *err)
{
    jv in = jv_object(), res;

    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    in = jv_object_set(in, jv_string("task"), jv_string(arn));
    if (reason)
        in = jv_object_set(in, jv_string("reason"), jv_string_sized(reason, (int)strnlen(reason, 255)));
    if (sk_client_json(c, &sk_svc_ecs, "StopTask", in, 0, &res, err) < 0)
        return -1;
    jv_free(res);
    return 0;
}

int sk_run_describe(struct sk_client *c, const char *cluster, char *const *arns, size_t n, struct sk_ecs_task **tasks,
                    size_t *ntasks, struct sk_err *err)
{
    jv in = jv_array(), got;
    size_t i;
    int j, m;

    *tasks = NULL;
    *ntasks = 0;
    for (i = 0; i < n; i++)
        in = jv_array_append(in, jv_string(arns[i]));
    if (sk_ecs_describe_tasks(c, cluster, in, &got, err) < 0) {
        jv_free(in);
        return -1;
    }
    jv_free(in);
    m = sk_json_len(got);
    *tasks = n ? xcalloc(n, sizeof(**tasks)) : NULL;
    for (i = 0; i < n; i++) {
        for (j = 0; j < m; j++) {
            jv t = jv_array_get(jv_copy(got), j);
            const char *arn = sk_json_str(t, "taskArn");
            int hit = arn && strcmp(arn, arns[i]) == 0;
            if (hit)
                sk_ecs_task_parse(t, &(*tasks)[(*ntasks)++]);
            jv_free(t);
            if (hit)
                break;
        }
    }
    jv_free(got);
    return 0;
}

void sk_run_containers(jv td, struct sk_run_container **out, size_t *n)
{
    jv conts = sk_json_get(td, "containerDefinitions");
    int i, m = sk_json_len(conts);

    *out = m ? xcalloc((size_t)m, sizeof(**out)) : NULL;
    *n = 0;
    for (i = 0; i < m; i++) {
        jv ct = jv_array_get(jv_copy(conts), i), ess = sk_json_get(ct, "essential");
        const char *name = sk_json_str(ct, "name");
        if (name) {
            (*out)[*n].name = xstrdup(name);
            (*out)[*n].essential = jv_get_kind(ess) != JV_KIND_FALSE;
            (*n)++;
        }
        jv_free(ess);
        jv_free(ct);
    }
    jv_free(conts);
}

void sk_run_containers_free(struct sk_run_container *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(c[i].name);
    free(c);
}

const char *sk_run_pick_container(const struct sk_run_container *defs, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (name ? strcmp(defs[i].name, name) == 0 : defs[i].essential)
            return defs[i].name;
    return NULL;
}

static int essential(const struct sk_run_container *defs, size_t n, const char *name)
{
    size_t i;

    for (i = 0; name && i < n; i++)
        if (strcmp(defs[i].name, name) == 0)
            return defs[i].essential;
    return 1;
}

enum sk_run_verdict sk_run_judge(const struct sk_ecs_task *t, const struct sk_run_container *defs, size_t n,
                                 struct sk_explain *why, int *exit_code)
{
    size_t i;
    int failed = 0, ran = 0;

    *exit_code = -1;
    if (!t->last_status || strcmp(t->last_status, "STOPPED") != 0)
        return SK_RUN_RUNNING;
    for (i = 0; i < t->ncontainers; i++) {
        const struct sk_ecs_container *ct = &t->containers[i];
        if (!essential(defs, n, ct->name))
            continue;
        ran |= ct->has_exit_code;
        if (ct->has_exit_code && ct->exit_code == 0)
            continue;
        if (!failed && ct->has_exit_code)
            *exit_code = (int)ct->exit_code;
        failed = 1;
    }
    if (!failed && ran)
        return SK_RUN_OK;
    sk_explain_task(t, why);
    return SK_RUN_FAILED;
}
