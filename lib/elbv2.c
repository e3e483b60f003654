#include "elbv2.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

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
