#include "svc/rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "core/hdr.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/uri.h"

#define MAX_PAGES 100

/* The list element named item inside v ({"<item>": [...]}, or "" when empty) as a plain array
 * (owned); v is consumed. */
static jv item_list(jv v, const char *item)
{
    jv m = sk_json_get(v, item);

    jv_free(v);
    if (jv_get_kind(m) != JV_KIND_ARRAY) {
        jv_free(m);
        return jv_array();
    }
    return m;
}

/* obj[key] turned from the XML's decimal string into a number, in place; obj is consumed. */
static jv to_number(jv obj, const char *key)
{
    const char *s = sk_json_str(obj, key);
    char *end;
    long v;

    if (!s || !*s)
        return obj;
    v = strtol(s, &end, 10);
    if (end == s || *end)
        return obj;
    return jv_object_set(obj, jv_string(key), jv_number((double)v));
}

/* obj[key] turned from "true"/"false" into a boolean, in place; obj is consumed. */
static jv to_bool(jv obj, const char *key)
{
    const char *s = sk_json_str(obj, key);

    if (!s || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
        return obj;
    return jv_object_set(obj, jv_string(key), jv_bool(strcmp(s, "true") == 0));
}

static jv shape_instance(jv db)
{
    static const char *const numbers[] = { "AllocatedStorage", "BackupRetentionPeriod", "DbInstancePort" };
    static const char *const bools[] = { "StorageEncrypted",        "PubliclyAccessible",
                                         "DeletionProtection",      "MultiAZ",
                                         "AutoMinorVersionUpgrade", "IAMDatabaseAuthenticationEnabled" };
    jv ep = sk_json_get(db, "Endpoint");
    size_t i;

    for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        db = to_number(db, numbers[i]);
    for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
        db = to_bool(db, bools[i]);
    if (jv_get_kind(ep) == JV_KIND_OBJECT)
        db = jv_object_set(db, jv_string("Endpoint"), to_number(ep, "Port"));
    else
        jv_free(ep);
    return db;
}

int sk_rds_describe_db_instance(struct sk_client *c, const char *id, jv *out, struct sk_err *err)
{
    static const char *const items[] = { "DBInstance", "DBParameterGroup", "VpcSecurityGroupMembership", "Subnet",
                                         NULL };
    struct sk_form f;
    jv res, list, db;
    int rc;

    sk_form_init(&f);
    sk_form_add(&f, "DBInstanceIdentifier", id);
    rc = sk_client_query(c, &sk_svc_rds, "DescribeDBInstances", &f, items, 0, &res, err);
    sk_form_release(&f);
    if (rc < 0) {
        if (strcmp(err->aws_code, "DBInstanceNotFound") == 0)
            sk_errf(err, SK_E_AWS, "DB instance '%s' not found", id);
        return -1;
    }
    list = item_list(sk_json_get(res, "DBInstances"), "DBInstance");
    jv_free(res);
    db = jv_array_length(jv_copy(list)) > 0 ? jv_array_get(jv_copy(list), 0) : jv_invalid();
    jv_free(list);
    if (jv_get_kind(db) != JV_KIND_OBJECT) {
        jv_free(db);
        sk_err_clear(err);
        snprintf(err->aws_code, sizeof(err->aws_code), "DBInstanceNotFound");
        return sk_errf(err, SK_E_AWS, "DB instance '%s' not found", id);
    }
    *out = shape_instance(db);
    return 0;
}

int sk_rds_pending_maintenance(struct sk_client *c, const char *id, jv *out, struct sk_err *err)
{
    static const char *const items[] = { "ResourcePendingMaintenanceActions", "PendingMaintenanceAction", NULL };
    jv all = jv_array();
    char *marker = NULL;
    int page, i, n, j, m;

    for (page = 0; page < MAX_PAGES; page++) {
        struct sk_form f;
        jv res, list;
        const char *next;
        int rc;

        sk_form_init(&f);
        /* RDS lists flatten with their locationName: Filters.Filter.N, Values.Value.N. */
        sk_form_add(&f, "Filters.Filter.1.Name", "db-instance-id");
        sk_form_add(&f, "Filters.Filter.1.Values.Value.1", id);
        if (marker)
            sk_form_add(&f, "Marker", marker);
        rc = sk_client_query(c, &sk_svc_rds, "DescribePendingMaintenanceActions", &f, items, 0, &res, err);
        sk_form_release(&f);
        if (rc < 0) {
            free(marker);
            jv_free(all);
            return -1;
        }
        list = item_list(sk_json_get(res, "PendingMaintenanceActions"), "ResourcePendingMaintenanceActions");
        n = jv_array_length(jv_copy(list));
        for (i = 0; i < n; i++) {
            jv r = jv_array_get(jv_copy(list), i);
            jv acts = item_list(sk_json_get(r, "PendingMaintenanceActionDetails"), "PendingMaintenanceAction");
            m = jv_array_length(jv_copy(acts));
            for (j = 0; j < m; j++) {
                jv a = jv_array_get(jv_copy(acts), j);
                if (jv_get_kind(a) == JV_KIND_OBJECT)
                    all = jv_array_append(all, a);
                else
                    jv_free(a);
            }
            jv_free(acts);
            jv_free(r);
        }
        jv_free(list);
        next = sk_json_str(res, "Marker");
        free(marker);
        marker = next && *next ? xstrdup(next) : NULL;
        jv_free(res);
        if (!marker)
            break;
    }
    free(marker);
    *out = all;
    return 0;
}

/* obj[key] (made a boolean by shape_instance) as 1, 0 or SK_RDS_UNSET. */
static int flag(jv obj, const char *key)
{
    jv v = sk_json_get(obj, key);
    jv_kind k = jv_get_kind(v);

    jv_free(v);
    return k == JV_KIND_TRUE ? 1 : k == JV_KIND_FALSE ? 0 : SK_RDS_UNSET;
}

/* The strings list[i][key], NULL-terminated (owned), their count in *n; list is consumed. */
static char **strings(jv list, const char *key, size_t *n)
{
    int i, len = jv_array_length(jv_copy(list));
    char **v = xcalloc((size_t)len + 1, sizeof(*v));

    *n = 0;
    for (i = 0; i < len; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        const char *s = sk_json_str(e, key);
        if (s && *s)
            v[(*n)++] = xstrdup(s);
        jv_free(e);
    }
    jv_free(list);
    return v;
}

int sk_rds_instance_get(struct sk_client *c, const char *id, struct sk_rds_instance *out, struct sk_err *err)
{
    jv db, ep, pgs, sub;
    double num;
    int i, n;

    memset(out, 0, sizeof(*out));
    if (sk_rds_describe_db_instance(c, id, &db, err) < 0)
        return -1;
    out->id = xstrdup_or_null(sk_json_str(db, "DBInstanceIdentifier"));
    out->status = xstrdup_or_null(sk_json_str(db, "DBInstanceStatus"));
    out->engine = xstrdup_or_null(sk_json_str(db, "Engine"));
    out->engine_version = xstrdup_or_null(sk_json_str(db, "EngineVersion"));
    out->db_name = xstrdup_or_null(sk_json_str(db, "DBName"));
    ep = sk_json_get(db, "Endpoint");
    out->address = xstrdup_or_null(sk_json_str(ep, "Address"));
    out->port = sk_json_num(ep, "Port", &num) == 0 ? (long)num : 0;
    jv_free(ep);
    out->storage_encrypted = flag(db, "StorageEncrypted");
    out->kms_key_id = xstrdup_or_null(sk_json_str(db, "KmsKeyId"));
    out->publicly_accessible = flag(db, "PubliclyAccessible");
    out->multi_az = flag(db, "MultiAZ");
    out->secondary_az = xstrdup_or_null(sk_json_str(db, "SecondaryAvailabilityZone"));
    out->backup_retention = sk_json_num(db, "BackupRetentionPeriod", &num) == 0 ? (long)num : SK_RDS_UNSET;
    out->deletion_protection = flag(db, "DeletionProtection");
    out->ca_cert_id = xstrdup_or_null(sk_json_str(db, "CACertificateIdentifier"));
    pgs = item_list(sk_json_get(db, "DBParameterGroups"), "DBParameterGroup");
    n = jv_array_length(jv_copy(pgs));
    out->param_groups = xcalloc((size_t)n + 1, sizeof(*out->param_groups));
    for (i = 0; i < n; i++) {
        jv g = jv_array_get(jv_copy(pgs), i);
        const char *name = sk_json_str(g, "DBParameterGroupName");
        if (name)
            out->param_groups[out->nparam_groups++] = xstrdup(name);
        jv_free(g);
    }
    jv_free(pgs);
    sub = sk_json_get(db, "DBSubnetGroup");
    out->vpc_id = xstrdup_or_null(sk_json_str(sub, "VpcId"));
    out->subnet_ids = strings(item_list(sk_json_get(sub, "Subnets"), "Subnet"), "SubnetIdentifier", &out->nsubnet_ids);
    jv_free(sub);
    out->sg_ids = strings(item_list(sk_json_get(db, "VpcSecurityGroups"), "VpcSecurityGroupMembership"),
                          "VpcSecurityGroupId", &out->nsg_ids);
    jv_free(db);
    return 0;
}

void sk_rds_instance_release(struct sk_rds_instance *db)
{
    size_t i;

    if (!db)
        return;
    free(db->id);
    free(db->status);
    free(db->engine);
    free(db->engine_version);
    free(db->db_name);
    free(db->address);
    free(db->kms_key_id);
    free(db->secondary_az);
    free(db->ca_cert_id);
    for (i = 0; i < db->nparam_groups; i++)
        free(db->param_groups[i]);
    free(db->param_groups);
    free(db->vpc_id);
    for (i = 0; i < db->nsg_ids; i++)
        free(db->sg_ids[i]);
    free(db->sg_ids);
    for (i = 0; i < db->nsubnet_ids; i++)
        free(db->subnet_ids[i]);
    free(db->subnet_ids);
    memset(db, 0, sizeof(*db));
}

int sk_rds_actions_get(struct sk_client *c, const char *id, struct sk_rds_actions *out, struct sk_err *err)
{
    jv acts;
    int i, n;

    memset(out, 0, sizeof(*out));
    if (sk_rds_pending_maintenance(c, id, &acts, err) < 0)
        return -1;
    n = jv_array_length(jv_copy(acts));
    out->v = xcalloc((size_t)n + 1, sizeof(*out->v));
    for (i = 0; i < n; i++) {
        jv a = jv_array_get(jv_copy(acts), i);
        struct sk_rds_action *ra = &out->v[out->n++];
        ra->action = xstrdup_or_null(sk_json_str(a, "Action"));
        ra->description = xstrdup_or_null(sk_json_str(a, "Description"));
        ra->auto_applied_after = xstrdup_or_null(sk_json_str(a, "AutoAppliedAfterDate"));
        ra->forced_apply = xstrdup_or_null(sk_json_str(a, "ForcedApplyDate"));
        ra->current_apply = xstrdup_or_null(sk_json_str(a, "CurrentApplyDate"));
        ra->opt_in_status = xstrdup_or_null(sk_json_str(a, "OptInStatus"));
        jv_free(a);
    }
    jv_free(acts);
    return 0;
}

void sk_rds_actions_release(struct sk_rds_actions *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->n; i++) {
        free(a->v[i].action);
        free(a->v[i].description);
        free(a->v[i].auto_applied_after);
        free(a->v[i].forced_apply);
        free(a->v[i].current_apply);
        free(a->v[i].opt_in_status);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* ---- IAM database authentication ---------------------------------------------------------------- */

#define RDS_TOKEN_EXPIRES 900 /* "the authentication token has a lifetime of 15 minutes" */

int sk_rds_auth_token(const char *host, long port, const char *user, const char *region, const struct sk_creds *creds,
                      time_t when, struct sk_buf *out, struct sk_err *err)
{
    struct sk_buf query = SK_BUF_INIT, hostport = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_params p;
    struct sk_sigv4_req req;
    struct sk_sigv4_result sig;
    int rc = -1;

    sk_sigv4_result_init(&sig);
    if (!host || !*host || !user || !*user || !region || !*region || port < 1 || port > 65535) {
        sk_errf(err, SK_E_USAGE, "an IAM authentication token needs a host, a port, a user and a region");
        goto done;
    }
    sk_buf_addf(&hostport, "%s:%ld", host, port);
    sk_buf_adds(&query, "Action=connect&DBUser=");
    sk_uri_encodes(&query, user, 0);
    sk_headers_add(&h, "Host", hostport.p);
    sk_sigv4_params_init(&p, "rds-db", region, when);
    p.mode = SK_SIGV4_QUERY;
    p.expires = RDS_TOKEN_EXPIRES; /* the payload is signed as empty, not UNSIGNED-PAYLOAD (that is S3's) */
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.path = "/";
    req.query = query.p;
    req.headers = &h;
    if (sk_sigv4_sign(&req, &p, creds, &sig, err) < 0)
        goto done;
    /* botocore's order: the operation's parameters, then Algorithm, Credential, Date, Expires,
     * SignedHeaders, Security-Token, and the Signature last (the signature is the same in any order:
     * the canonical query is sorted). */
    sk_buf_addf(out, "%s/?%s&X-Amz-Algorithm=%s&X-Amz-Credential=", hostport.p, query.p, SK_SIGV4_ALGORITHM);
    sk_uri_encodes(out, creds->access_key_id, 0);
    sk_buf_adds(out, "%2F");
    {
        struct sk_buf scope = SK_BUF_INIT;
        sk_sigv4_scope(sig.amz_date, region, "rds-db", &scope);
        sk_uri_encodes(out, scope.p, 0);
        sk_buf_release(&scope);
    }
    sk_buf_addf(out, "&X-Amz-Date=%s&X-Amz-Expires=%d&X-Amz-SignedHeaders=", sig.amz_date, RDS_TOKEN_EXPIRES);
    sk_uri_encodes(out, sig.signed_headers.p, 0);
    if (creds->session_token && *creds->session_token) {
        sk_buf_adds(out, "&X-Amz-Security-Token=");
        sk_uri_encodes(out, creds->session_token, 0);
    }
    sk_buf_addf(out, "&X-Amz-Signature=%s", sig.signature);
    rc = 0;
done:
    sk_sigv4_result_release(&sig);
    sk_headers_release(&h);
    sk_buf_release(&query);
    sk_buf_release(&hostport);
    return rc;
}
