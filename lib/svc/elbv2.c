#include "svc/elbv2.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/mem.h"

/* An XML list element ({"member": [...]}, or "" when empty) as a plain array (owned); v is consumed. */
static jv member_list(jv v)
{
    jv m = sk_json_get(v, "member");

    jv_free(v);
    if (jv_get_kind(m) != JV_KIND_ARRAY) {
        jv_free(m);
        return jv_array();
    }
    return m;
}

/* obj[key] turned from the XML's decimal string into a number, in place; obj is consumed. */
static jv port_to_number(jv obj, const char *key)
{
    const char *s = sk_json_str(obj, key);
    char *end;
    long v;

    if (!s)
        return obj;
    v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 65535)
        return obj;
    return jv_object_set(obj, jv_string(key), jv_number((double)v));
}

int sk_elbv2_describe_target_group(struct sk_client *c, const char *name_or_arn, jv *out, struct sk_err *err)
{
    struct sk_form f;
    jv res, list, tg;
    int by_arn = strncmp(name_or_arn, "arn:", 4) == 0, rc;

    sk_form_init(&f);
    sk_form_add(&f, by_arn ? "TargetGroupArns.member.1" : "Names.member.1", name_or_arn);
    rc = sk_client_query(c, &sk_svc_elbv2, "DescribeTargetGroups", &f, NULL, 0, &res, err);
    sk_form_release(&f);
    if (rc < 0) {
        if (strcmp(err->aws_code, "TargetGroupNotFound") == 0)
            sk_errf(err, SK_E_AWS, by_arn ? "target group '%s' not found" : "no target group named '%s'", name_or_arn);
        return -1;
    }
    list = member_list(sk_json_get(res, "TargetGroups"));
    jv_free(res);
    tg = jv_array_length(jv_copy(list)) > 0 ? jv_array_get(jv_copy(list), 0) : jv_invalid();
    jv_free(list);
    if (jv_get_kind(tg) != JV_KIND_OBJECT) {
        /* AWS answers TargetGroupNotFound; an empty list means the same. */
        jv_free(tg);
        sk_err_clear(err);
        snprintf(err->aws_code, sizeof(err->aws_code), "TargetGroupNotFound");
        return sk_errf(err, SK_E_AWS, by_arn ? "target group '%s' not found" : "no target group named '%s'",
                       name_or_arn);
    }
    *out = port_to_number(tg, "Port");
    return 0;
}

int sk_elbv2_describe_target_health(struct sk_client *c, const char *tg_arn, const struct sk_elbv2_target *targets,
                                    size_t n, jv *out, struct sk_err *err)
{
    struct sk_form f;
    jv res, list, all = jv_array();
    size_t i;
    int j, m, rc;

    sk_form_init(&f);
    sk_form_add(&f, "TargetGroupArn", tg_arn);
    /* Query-protocol list flattening: Targets.member.N.Id / .Port, N from 1. */
    for (i = 0; i < n; i++) {
        sk_form_addf(&f, targets[i].id, "Targets.member.%zu.Id", i + 1);
        if (targets[i].port > 0) {
            char port[24];
            snprintf(port, sizeof(port), "%ld", targets[i].port);
            sk_form_addf(&f, port, "Targets.member.%zu.Port", i + 1);
        }
    }
    rc = sk_client_query(c, &sk_svc_elbv2, "DescribeTargetHealth", &f, NULL, 0, &res, err);
    sk_form_release(&f);
    if (rc < 0) {
        jv_free(all);
        return -1;
    }
    list = member_list(sk_json_get(res, "TargetHealthDescriptions"));
    jv_free(res);
    m = jv_array_length(jv_copy(list));
    for (j = 0; j < m; j++) {
        jv d = jv_array_get(jv_copy(list), j), t;
        if (jv_get_kind(d) != JV_KIND_OBJECT) {
            jv_free(d);
            continue;
        }
        t = sk_json_get(d, "Target");
        if (jv_get_kind(t) == JV_KIND_OBJECT)
            d = jv_object_set(d, jv_string("Target"), port_to_number(t, "Port"));
        else
            jv_free(t);
        all = jv_array_append(all, d);
    }
    jv_free(list);
    *out = all;
    return 0;
}

/* obj[key] as a whole number, given as a number or as the XML's decimal string; 0 when absent or
 * not one. */
static long long_field(jv obj, const char *key)
{
    const char *s = sk_json_str(obj, key);
    double d;
    char *end;
    long v;

    if (sk_json_num(obj, key, &d) == 0)
        return d >= 0 && d <= 2147483647.0 ? (long)d : 0;
    if (!s || !*s)
        return 0;
    v = strtol(s, &end, 10);
    return *end || v < 0 ? 0 : v;
}

/* obj[key] as a port that port_to_number made a number, 0 when absent or out of range. */
static long port_field(jv obj, const char *key)
{
    double d;

    return sk_json_num(obj, key, &d) == 0 && d >= 1 && d <= 65535 ? (long)d : 0;
}

int sk_elbv2_target_group_get(struct sk_client *c, const char *name_or_arn, struct sk_elbv2_target_group *out,
                              struct sk_err *err)
{
    jv tg, lbs;
    int i, n;

    memset(out, 0, sizeof(*out));
    if (sk_elbv2_describe_target_group(c, name_or_arn, &tg, err) < 0)
        return -1;
    out->arn = xstrdup_or_null(sk_json_str(tg, "TargetGroupArn"));
    out->name = xstrdup_or_null(sk_json_str(tg, "TargetGroupName"));
    out->target_type = xstrdup_or_null(sk_json_str(tg, "TargetType"));
    out->protocol = xstrdup_or_null(sk_json_str(tg, "Protocol"));
    out->vpc_id = xstrdup_or_null(sk_json_str(tg, "VpcId"));
    out->port = port_field(tg, "Port");
    out->hc_interval_s = long_field(tg, "HealthCheckIntervalSeconds");
    out->hc_timeout_s = long_field(tg, "HealthCheckTimeoutSeconds");
    out->healthy_threshold = long_field(tg, "HealthyThresholdCount");
    out->unhealthy_threshold = long_field(tg, "UnhealthyThresholdCount");
    out->hc_protocol = xstrdup_or_null(sk_json_str(tg, "HealthCheckProtocol"));
    out->hc_port = xstrdup_or_null(sk_json_str(tg, "HealthCheckPort"));
    out->hc_path = xstrdup_or_null(sk_json_str(tg, "HealthCheckPath"));
    {
        jv m = sk_json_get(tg, "Matcher"), en = sk_json_get(tg, "HealthCheckEnabled");
        const char *code = sk_json_str(m, "HttpCode");
        out->matcher = xstrdup_or_null(code ? code : sk_json_str(m, "GrpcCode"));
        out->hc_enabled = jv_get_kind(en) == JV_KIND_TRUE ? 1 : jv_get_kind(en) == JV_KIND_FALSE ? 0 : -1;
        if (jv_get_kind(en) == JV_KIND_STRING)
            out->hc_enabled = strcmp(jv_string_value(en), "true") == 0 ? 1 : 0;
        jv_free(m);
        jv_free(en);
    }
    out->dereg_delay_s = -1;
    lbs = member_list(sk_json_get(tg, "LoadBalancerArns"));
    n = jv_array_length(jv_copy(lbs));
    out->lb_arns = xcalloc((size_t)n + 1, sizeof(*out->lb_arns));
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(lbs), i);
        if (jv_get_kind(a) == JV_KIND_STRING)
            out->lb_arns[out->nlb_arns++] = xstrdup(jv_string_value(a));
        jv_free(a);
    }
    jv_free(lbs);
    jv_free(tg);
    return 0;
}

void sk_elbv2_target_group_release(struct sk_elbv2_target_group *tg)
{
    size_t i;

    if (!tg)
        return;
    free(tg->arn);
    free(tg->name);
    free(tg->target_type);
    free(tg->protocol);
    free(tg->vpc_id);
    free(tg->hc_protocol);
    free(tg->hc_port);
    free(tg->hc_path);
    free(tg->matcher);
    for (i = 0; i < tg->nlb_arns; i++)
        free(tg->lb_arns[i]);
    free(tg->lb_arns);
    memset(tg, 0, sizeof(*tg));
}

int sk_elbv2_target_health_get(struct sk_client *c, const char *tg_arn, const struct sk_elbv2_target *targets, size_t n,
                               struct sk_elbv2_health *out, struct sk_err *err)
{
    jv descs;
    int i, m;

    memset(out, 0, sizeof(*out));
    if (sk_elbv2_describe_target_health(c, tg_arn, targets, n, &descs, err) < 0)
        return -1;
    m = jv_array_length(jv_copy(descs));
    out->v = xcalloc((size_t)m + 1, sizeof(*out->v));
    for (i = 0; i < m; i++) {
        jv d = jv_array_get(jv_copy(descs), i); /* objects only: see sk_elbv2_describe_target_health */
        jv t = sk_json_get(d, "Target"), h = sk_json_get(d, "TargetHealth");
        struct sk_elbv2_target_health *th = &out->v[out->n++];
        th->id = xstrdup_or_null(sk_json_str(t, "Id"));
        th->port = port_field(t, "Port");
        th->zone = xstrdup_or_null(sk_json_str(t, "AvailabilityZone"));
        th->state = xstrdup_or_null(sk_json_str(h, "State"));
        th->reason = xstrdup_or_null(sk_json_str(h, "Reason"));
        th->description = xstrdup_or_null(sk_json_str(h, "Description"));
        jv_free(t);
        jv_free(h);
        jv_free(d);
    }
    jv_free(descs);
    return 0;
}

void sk_elbv2_health_release(struct sk_elbv2_health *h)
{
    size_t i;

    if (!h)
        return;
    for (i = 0; i < h->n; i++) {
        free(h->v[i].id);
        free(h->v[i].zone);
        free(h->v[i].state);
        free(h->v[i].reason);
        free(h->v[i].description);
    }
    free(h->v);
    memset(h, 0, sizeof(*h));
}

/* ---- health-check settings and what a reason code says about them ---------------------------------- */

int sk_elbv2_target_group_attrs(struct sk_client *c, struct sk_elbv2_target_group *tg, struct sk_err *err)
{
    struct sk_form f;
    jv res, list;
    int i, n, rc;

    sk_form_init(&f);
    sk_form_add(&f, "TargetGroupArn", tg->arn ? tg->arn : "");
    rc = sk_client_query(c, &sk_svc_elbv2, "DescribeTargetGroupAttributes", &f, NULL, 0, &res, err);
    sk_form_release(&f);
    if (rc < 0)
        return -1;
    list = member_list(sk_json_get(res, "Attributes"));
    jv_free(res);
    n = jv_array_length(jv_copy(list));
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(list), i);
        const char *k = sk_json_str(a, "Key");
        if (k && strcmp(k, "deregistration_delay.timeout_seconds") == 0)
            tg->dereg_delay_s = long_field(a, "Value");
        jv_free(a);
    }
    jv_free(list);
    return 0;
}

long sk_elbv2_earliest_healthy_s(const struct sk_elbv2_target_group *tg)
{
    return tg->hc_interval_s * tg->healthy_threshold;
}

/* "HTTP GET /health on the traffic port" and the like. */
static void check_what(const struct sk_elbv2_target_group *tg, struct sk_buf *out)
{
    const char *proto = tg->hc_protocol ? tg->hc_protocol : "?";
    int http = strncmp(proto, "HTTP", 4) == 0;

    sk_buf_addf(out, "%s", proto);
    if (http)
        sk_buf_addf(out, " %s", tg->hc_path ? tg->hc_path : "/");
    if (!tg->hc_port || strcmp(tg->hc_port, "traffic-port") == 0)
        sk_buf_adds(out, " on the traffic port");
    else
        sk_buf_addf(out, " on port %s", tg->hc_port);
}

void sk_elbv2_diagnose(const struct sk_elbv2_target_group *tg, const char *reason, struct sk_buf *out)
{
    struct sk_buf what = SK_BUF_INIT;

    if (!reason)
        return;
    check_what(tg, &what);
    if (strcmp(reason, "Target.ResponseCodeMismatch") == 0)
        sk_buf_addf(out,
                    "the health check (%s) got a status other than %s: make the application answer %s with %s, "
                    "or change the path or the matcher",
                    what.p, tg->matcher ? tg->matcher : "the matcher's", tg->hc_path ? tg->hc_path : "/",
                    tg->matcher ? tg->matcher : "it");
    else if (strcmp(reason, "Target.Timeout") == 0)
        sk_buf_addf(out,
                    "the health check (%s) got no answer within its %lds timeout (checks every %lds): the "
                    "application is slow to answer or not listening there, or a security group drops the load "
                    "balancer's traffic; raise the timeout only if the check is slow by design",
                    what.p, tg->hc_timeout_s, tg->hc_interval_s);
    else if (strcmp(reason, "Target.FailedHealthChecks") == 0)
        sk_buf_addf(out,
                    "the health check (%s) could not connect: nothing listens on that port in the task, or its "
                    "security group does not allow the load balancer",
                    what.p);
    else if (strcmp(reason, "Target.NotRegistered") == 0)
        sk_buf_adds(out, "not registered in the target group (yet): ECS registers a task once it runs");
    else if (strcmp(reason, "Target.NotInUse") == 0)
        sk_buf_adds(out, "no load balancer listener or rule forwards to this target group, or the target's "
                         "Availability Zone is not enabled for the load balancer");
    else if (strcmp(reason, "Target.DeregistrationInProgress") == 0) {
        if (tg->dereg_delay_s >= 0)
            sk_buf_addf(out, "being deregistered: it drains for up to %lds (the deregistration delay)",
                        tg->dereg_delay_s);
        else
            sk_buf_adds(out, "being deregistered: it drains for up to the deregistration delay");
    } else if (strcmp(reason, "Target.InvalidState") == 0)
        sk_buf_adds(out, "the target is stopped or terminated");
    else if (strcmp(reason, "Target.IpUnusable") == 0)
        sk_buf_adds(out, "the target's IP address cannot be used (the load balancer's own, or reserved)");
    else if (strcmp(reason, "Target.HealthCheckDisabled") == 0)
        sk_buf_adds(out, "health checks are off for this target group");
    else if (strcmp(reason, "Elb.InitialHealthChecking") == 0)
        sk_buf_addf(out, "initial health checks: healthy after %ld passing checks %lds apart, %lds at the earliest",
                    tg->healthy_threshold, tg->hc_interval_s, sk_elbv2_earliest_healthy_s(tg));
    else if (strcmp(reason, "Elb.RegistrationInProgress") == 0)
        sk_buf_addf(out,
                    "the target is being registered; then healthy after %ld passing checks %lds apart, %lds at "
                    "the earliest",
                    tg->healthy_threshold, tg->hc_interval_s, sk_elbv2_earliest_healthy_s(tg));
    else if (strcmp(reason, "Elb.InternalError") == 0)
        sk_buf_adds(out, "an internal error of the load balancer: look again");
    sk_buf_release(&what);
}

void sk_elbv2_notes(const struct sk_elbv2_target_group *tg, long grace_s, struct sk_buf *out)
{
    long first = sk_elbv2_earliest_healthy_s(tg);

    if (tg->dereg_delay_s > 60)
        sk_buf_addf(out,
                    "deregistration delay %lds: each deploy waits up to that long for every old target to drain; "
                    "lower deregistration_delay.timeout_seconds when requests are short\n",
                    tg->dereg_delay_s);
    if (first >= 60)
        sk_buf_addf(out, "a new target turns healthy %lds after registration at the earliest (%lds x %ld checks)\n",
                    first, tg->hc_interval_s, tg->healthy_threshold);
    if (grace_s == 0 && tg->hc_interval_s > 0 && tg->unhealthy_threshold > 0)
        sk_buf_addf(out,
                    "no health-check grace period: ECS stops a task that fails %ld checks (%lds) while it starts; "
                    "a service that loads a model first needs healthCheckGracePeriodSeconds\n",
                    tg->unhealthy_threshold, tg->unhealthy_threshold * tg->hc_interval_s);
}
