#include "ecs.h"

#include <string.h>

#include "buf.h"
#include "json.h"
#include "jsonw.h"

int sk_ecs_describe_service(struct sk_client *c, const char *cluster, const char *service, jv *out, struct sk_err *err)
{
    jv in = jv_object(), res, list, svc;

    in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
    in = jv_object_set(in, jv_string("services"), jv_array_append(jv_array(), jv_string(service)));
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

/* ListTasks, all pages, filtered by service and desired status (either may be NULL). */
static int list_task_pages(struct sk_client *c, const char *cluster, const char *service, const char *desired_status,
                           jv *arns, struct sk_err *err)
{
    jv all = jv_array(), next = jv_null();
    int pages;

    for (pages = 0; pages < 100; pages++) {
        jv in = jv_object(), res, page;
        int i, n;
        in = jv_object_set(in, jv_string("cluster"), jv_string(cluster));
        if (service)
            in = jv_object_set(in, jv_string("serviceName"), jv_string(service));
        if (desired_status)
            in = jv_object_set(in, jv_string("desiredStatus"), jv_string(desired_status));
        if (jv_get_kind(next) == JV_KIND_STRING)
            in = jv_object_set(in, jv_string("nextToken"), jv_copy(next));
        if (sk_client_json(c, &sk_svc_ecs, "ListTasks", in, 0, &res, err) < 0) {
            jv_free(all);
            jv_free(next);
            return -1;
        }
        page = sk_json_get(res, "taskArns");
        n = jv_get_kind(page) == JV_KIND_ARRAY ? jv_array_length(jv_copy(page)) : 0;
        for (i = 0; i < n; i++)
            all = jv_array_append(all, jv_array_get(jv_copy(page), i));
        jv_free(page);
        jv_free(next);
        next = sk_json_get(res, "nextToken");
        jv_free(res);
        if (jv_get_kind(next) != JV_KIND_STRING)
            break;
    }
    jv_free(next);
    *arns = all;
    return 0;
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
