#include "rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"

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
    static const char *const items[] = { "DBInstance", NULL };
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
