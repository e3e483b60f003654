#include "svc/sdeploy.h"

#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/service.h"
#include "core/json.h"
#include "core/mem.h"

/* https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html, lifecycleStage */
static const char *const stages[] = {
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
};
#define NSTAGES (int)(sizeof(stages) / sizeof(stages[0]))

int sk_sd_stage_index(const char *stage)
{
    int i;

    for (i = 0; stage && i < NSTAGES; i++)
        if (strcmp(stages[i], stage) == 0)
            return i;
    return -1;
}

const char *sk_sd_stage_name(int i)
{
    return i >= 0 && i < NSTAGES ? stages[i] : NULL;
}

static char *dup_str(jv obj, const char *key)
{
    return xstrdup_or_null(sk_json_str(obj, key));
}

static long num_or(jv obj, const char *key, long dflt)
{
    double d;
    return sk_json_num(obj, key, &d) == 0 ? (long)d : dflt;
}

void sk_sd_parse(jv sd, struct sk_sdeploy *out)
{
    jv dc = sk_json_get(sd, "deploymentConfiguration"), t = sk_json_get(sd, "targetServiceRevision");
    jv rb = sk_json_get(sd, "rollback"), al = sk_json_get(sd, "alarms"),
       cb = sk_json_get(sd, "deploymentCircuitBreaker");
    jv names = sk_json_get(al, "triggeredAlarmNames"), hooks = sk_json_get(sd, "lifecycleHookDetails");
    int i, n;

    memset(out, 0, sizeof(*out));
    out->arn = dup_str(sd, "serviceDeploymentArn");
    out->status = dup_str(sd, "status");
    out->status_reason = dup_str(sd, "statusReason");
    out->stage = dup_str(sd, "lifecycleStage");
    out->strategy = dup_str(dc, "strategy");
    out->bake_minutes = num_or(dc, "bakeTimeInMinutes", -1);
    out->target_rev = dup_str(t, "arn");
    out->prod_weight = sk_json_num_any(t, "requestedProductionTrafficWeight", -1);
    out->test_weight = sk_json_num_any(t, "requestedTestTrafficWeight", -1);
    out->rollback_reason = dup_str(rb, "reason");
    out->rollback_rev = dup_str(rb, "serviceRevisionArn");
    out->alarms_status = dup_str(al, "status");
    out->cb_status = dup_str(cb, "status");
    out->cb_failures = num_or(cb, "failureCount", -1);
    out->cb_threshold = num_or(cb, "threshold", -1);
    n = sk_json_len(names);
    out->triggered = n ? xcalloc((size_t)n, sizeof(char *)) : NULL;
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(names), i);
        if (jv_get_kind(a) == JV_KIND_STRING)
            out->triggered[out->ntriggered++] = xstrdup(jv_string_value(a));
        jv_free(a);
    }
    n = sk_json_len(hooks);
    out->hooks = n ? xcalloc((size_t)n, sizeof(*out->hooks)) : NULL;
    for (i = 0; i < n; i++) {
        jv h = jv_array_get(jv_copy(hooks), i);
        struct sk_sd_hook *p = &out->hooks[out->nhooks++];
        p->id = dup_str(h, "hookId");
        p->type = dup_str(h, "targetType");
        p->target = dup_str(h, "targetArn");
        p->status = dup_str(h, "status");
        jv_free(h);
    }
    jv_free(hooks);
    jv_free(names);
    jv_free(cb);
    jv_free(al);
    jv_free(rb);
    jv_free(t);
    jv_free(dc);
}

void sk_sd_release(struct sk_sdeploy *sd)
{
    size_t i;

    for (i = 0; i < sd->ntriggered; i++)
        free(sd->triggered[i]);
    for (i = 0; i < sd->nhooks; i++) {
        free(sd->hooks[i].id);
        free(sd->hooks[i].type);
        free(sd->hooks[i].target);
        free(sd->hooks[i].status);
    }
    free(sd->triggered);
    free(sd->hooks);
    free(sd->arn);
    free(sd->status);
    free(sd->status_reason);
    free(sd->stage);
    free(sd->strategy);
    free(sd->target_rev);
    free(sd->rollback_reason);
    free(sd->rollback_rev);
    free(sd->alarms_status);
    free(sd->cb_status);
    memset(sd, 0, sizeof(*sd));
}

int sk_sd_describe(struct sk_client *c, const char *arn, struct sk_sdeploy *out, struct sk_err *err)
{
    jv in = jv_object(), res, list, sd;

    memset(out, 0, sizeof(*out));
    in = jv_object_set(in, jv_string("serviceDeploymentArns"), jv_array_append(jv_array(), jv_string(arn)));
    if (sk_client_json(c, &sk_svc_ecs, "DescribeServiceDeployments", in, 0, &res, err) < 0)
        return -1;
    list = sk_json_get(res, "serviceDeployments");
    sd = sk_json_len(list) > 0 ? jv_array_get(jv_copy(list), 0) : jv_invalid();
    jv_free(list);
    jv_free(res);
    if (jv_get_kind(sd) != JV_KIND_OBJECT) {
        jv_free(sd);
        return sk_errf(err, SK_E_AWS, "service deployment %s not found (DescribeServiceDeployments: MISSING)", arn);
    }
    sk_sd_parse(sd, out);
    jv_free(sd);
    return 0;
}

int sk_sd_list(struct sk_client *c, const char *cluster, const char *service, const char *status, jv *out,
               struct sk_err *err)
{
    jv in = jv_object(), res;

    *out = jv_invalid();
    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    in = jv_object_set(in, jv_string("service"), jv_string(service));
    if (status)
        in = jv_object_set(in, jv_string("status"), jv_array_append(jv_array(), jv_string(status)));
    if (sk_client_json(c, &sk_svc_ecs, "ListServiceDeployments", in, 0, &res, err) < 0)
        return -1;
    *out = sk_json_get(res, "serviceDeployments");
    jv_free(res);
    if (jv_get_kind(*out) != JV_KIND_ARRAY) {
        jv_free(*out);
        *out = jv_array();
    }
    return 0;
}

int sk_sd_find(struct sk_client *c, const char *cluster, const char *service, const char *dep_id, char **arn,
               struct sk_err *err)
{
    const char *num = strrchr(dep_id, '/');
    jv list;
    int i, n, rc = 1;

    *arn = NULL;
    num = num ? num + 1 : dep_id;
    if (sk_sd_list(c, cluster, service, NULL, &list, err) < 0)
        return -1;
    n = sk_json_len(list);
    for (i = 0; i < n && rc == 1; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        const char *rev = sk_json_str(e, "targetServiceRevisionArn"), *a = sk_json_str(e, "serviceDeploymentArn");
        const char *tail = rev ? strrchr(rev, '/') : NULL;
        if (a && tail && strcmp(tail + 1, num) == 0) {
            *arn = xstrdup(a);
            rc = 0;
        }
        jv_free(e);
    }
    jv_free(list);
    return rc;
}

int sk_sd_in_progress(struct sk_client *c, const char *cluster, const char *service, char **arn, struct sk_err *err)
{
    static const char *const open[] = { "IN_PROGRESS", "PENDING" };
    size_t k;

    *arn = NULL;
    for (k = 0; k < sizeof(open) / sizeof(open[0]); k++) {
        jv list;
        const char *a;
        if (sk_sd_list(c, cluster, service, open[k], &list, err) < 0)
            return -1;
        if (sk_json_len(list) > 0) {
            jv e = jv_array_get(jv_copy(list), 0);
            a = sk_json_str(e, "serviceDeploymentArn");
            *arn = xstrdup_or_null(a);
            jv_free(e);
        }
        jv_free(list);
        if (*arn)
            return 0;
    }
    return 1;
}

int sk_sd_stop(struct sk_client *c, const char *arn, struct sk_err *err)
{
    jv in = jv_object(), res;

    in = jv_object_set(in, jv_string("serviceDeploymentArn"), jv_string(arn));
    in = jv_object_set(in, jv_string("stopType"), jv_string("ROLLBACK"));
    if (sk_client_json(c, &sk_svc_ecs, "StopServiceDeployment", in, 0, &res, err) < 0)
        return -1;
    jv_free(res);
    return 0;
}

int sk_sd_revision_td(struct sk_client *c, const char *rev_arn, char **td, struct sk_err *err)
{
    jv in = jv_object(), res, list, rev;
    const char *t;

    *td = NULL;
    in = jv_object_set(in, jv_string("serviceRevisionArns"), jv_array_append(jv_array(), jv_string(rev_arn)));
    if (sk_client_json(c, &sk_svc_ecs, "DescribeServiceRevisions", in, 0, &res, err) < 0)
        return -1;
    list = sk_json_get(res, "serviceRevisions");
    rev = sk_json_len(list) > 0 ? jv_array_get(jv_copy(list), 0) : jv_invalid();
    t = sk_json_str(rev, "taskDefinition");
    *td = xstrdup_or_null(t);
    jv_free(rev);
    jv_free(list);
    jv_free(res);
    if (!*td)
        return sk_errf(err, SK_E_AWS, "service revision %s not found (DescribeServiceRevisions)", rev_arn);
    return 0;
}

/* 1 when the task definition is INACTIVE (deregistered), 0 when not, -1 on error. */
static int td_inactive(struct sk_client *c, const char *arn, struct sk_err *err)
{
    jv in = jv_object(), res, td;
    int inactive;

    in = jv_object_set(in, jv_string("taskDefinition"), jv_string(arn));
    if (sk_client_json(c, &sk_svc_ecs, "DescribeTaskDefinition", in, 0, &res, err) < 0)
        return -1;
    td = sk_json_get(res, "taskDefinition");
    inactive = sk_json_str(td, "status") && strcmp(sk_json_str(td, "status"), "INACTIVE") == 0;
    jv_free(td);
    jv_free(res);
    return inactive;
}

int sk_sd_rollback_target(struct sk_client *c, const char *cluster, const char *service, const char *current, char **td,
                          char **sd_arn, char **skipped, struct sk_err *err)
{
    jv list;
    int i, n, rc = 1;

    *td = *sd_arn = NULL;
    if (skipped)
        *skipped = NULL;
    if (sk_sd_list(c, cluster, service, "SUCCESSFUL", &list, err) < 0)
        return -1;
    n = sk_json_len(list);
    for (i = 0; i < n && rc == 1; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        const char *rev = sk_json_str(e, "targetServiceRevisionArn"), *a = sk_json_str(e, "serviceDeploymentArn");
        char *t = NULL;
        int inactive;
        if (rev && a && sk_sd_revision_td(c, rev, &t, err) < 0) {
            rc = -1;
        } else if (t && (!current || strcmp(t, current) != 0)) {
            /* ECS updates no service to an INACTIVE revision (API_DeregisterTaskDefinition.html) */
            if ((inactive = td_inactive(c, t, err)) < 0) {
                rc = -1;
            } else if (inactive) {
                if (skipped && !*skipped)
                    *skipped = xstrdup(t);
            } else {
                *td = t;
                *sd_arn = xstrdup(a);
                t = NULL;
                rc = 0;
            }
        }
        free(t);
        jv_free(e);
    }
    jv_free(list);
    return rc;
}

char *sk_sd_alarm_reason(struct sk_client *c, const char *alarm, struct sk_err *err)
{
    struct sk_form f;
    jv res, alarms, m, a;
    char *out = NULL;
    int rc;

    sk_form_init(&f);
    sk_form_add(&f, "AlarmNames.member.1", alarm);
    rc = sk_client_query(c, &sk_svc_cloudwatch, "DescribeAlarms", &f, NULL, 0, &res, err);
    sk_form_release(&f);
    if (rc < 0)
        return NULL;
    alarms = sk_json_get(res, "MetricAlarms");
    m = sk_json_get(alarms, "member");
    a = jv_get_kind(m) == JV_KIND_ARRAY && jv_array_length(jv_copy(m)) > 0 ? jv_array_get(jv_copy(m), 0)
        : jv_get_kind(m) == JV_KIND_OBJECT                                 ? jv_copy(m)
                                                                           : jv_invalid();
    out = xstrdup_or_null(sk_json_str(a, "StateReason"));
    jv_free(a);
    jv_free(m);
    jv_free(alarms);
    jv_free(res);
    return out;
}

int sk_sd_terminal(const char *status)
{
    static const char *const ends[] = { "SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED" };
    size_t i;

    for (i = 0; status && i < sizeof(ends) / sizeof(ends[0]); i++)
        if (strcmp(status, ends[i]) == 0)
            return 1;
    return 0;
}

static void why(const struct sk_sdeploy *sd, struct sk_deploy_outcome *oc, const char *what)
{
    const char *reason = sd->rollback_reason ? sd->rollback_reason : sd->status_reason;
    size_t i;
    int len;

    len = snprintf(oc->reason, sizeof(oc->reason), "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
    if (sd->ntriggered && len > 0 && (size_t)len < sizeof(oc->reason)) {
        len += snprintf(oc->reason + len, sizeof(oc->reason) - (size_t)len, " (alarm%s", sd->ntriggered > 1 ? "s" : "");
        for (i = 0; i < sd->ntriggered && (size_t)len < sizeof(oc->reason); i++)
            len +=
                snprintf(oc->reason + len, sizeof(oc->reason) - (size_t)len, "%s %s", i ? "," : "", sd->triggered[i]);
        if ((size_t)len < sizeof(oc->reason))
            snprintf(oc->reason + len, sizeof(oc->reason) - (size_t)len, " in ALARM)");
    }
}

enum sk_deploy_verdict sk_sd_judge(const struct sk_sdeploy *sd, struct sk_deploy_outcome *oc)
{
    const char *st = sd->status ? sd->status : "";

    oc->reason[0] = 0;
    if (strcmp(st, "SUCCESSFUL") == 0)
        return oc->v = SK_DEPLOY_DONE;
    if (strcmp(st, "ROLLBACK_SUCCESSFUL") == 0) {
        why(sd, oc, "ECS rolled the deployment back");
        return oc->v = SK_DEPLOY_ROLLED_BACK;
    }
    if (strcmp(st, "ROLLBACK_FAILED") == 0) {
        why(sd, oc, "ECS's rollback failed");
        return oc->v = SK_DEPLOY_FAILED;
    }
    if (strcmp(st, "STOPPED") == 0) {
        int newer = sd->status_reason && strstr(sd->status_reason, "newer service deployment");
        why(sd, oc, newer ? "replaced by a newer deployment" : "the deployment was stopped");
        return oc->v = newer ? SK_DEPLOY_REPLACED : SK_DEPLOY_FAILED;
    }
    return oc->v = SK_DEPLOY_WAIT;
}

int sk_sd_passed(const struct sk_sdeploy *sd, const char *stage)
{
    int want = sk_sd_stage_index(stage), now = sk_sd_stage_index(sd->stage);

    if (sd->status && strcmp(sd->status, "SUCCESSFUL") == 0)
        return 1;
    if (!sd->status || strcmp(sd->status, "IN_PROGRESS") != 0)
        return 0;
    return want >= 0 && now > want;
}
