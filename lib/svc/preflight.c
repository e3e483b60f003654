#include "svc/preflight.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/service.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "svc/elbv2.h"

/* ---- the plan ------------------------------------------------------------------------------------ */

static struct sk_pf_check *add(struct sk_preflight *pf, enum sk_pf_kind kind, const char *subject, const char *target,
                               const char *region)
{
    struct sk_pf_check *ck;
    size_t i;

    for (i = 0; i < pf->n; i++) /* one look-up per thing, however many containers name it */
        if (pf->v[i].kind == kind && strcmp(pf->v[i].target, target) == 0 &&
            strcmp(pf->v[i].region ? pf->v[i].region : "", region ? region : "") == 0 && kind != SK_PF_IMAGE &&
            kind != SK_PF_LOAD_BALANCER)
            return NULL;
    pf->v = xrealloc(pf->v, (pf->n + 1) * sizeof(*pf->v));
    ck = &pf->v[pf->n++];
    memset(ck, 0, sizeof(*ck));
    ck->kind = kind;
    ck->subject = xstrdup(subject);
    ck->target = xstrdup(target);
    ck->region = region && *region ? xstrdup(region) : NULL;
    return ck;
}

void sk_preflight_set(struct sk_pf_check *ck, enum sk_pf_state st, const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(ck->reason);
    ck->reason = xstrdup(b.p);
    ck->state = st;
    sk_buf_release(&b);
}

/* The field of an ARN ("arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE"), i from 0, as a copy; NULL
 * when it has fewer. */
static char *arn_field(const char *arn, int i)
{
    const char *p = arn;
    size_t n;

    for (; i > 0; i--) {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    n = strcspn(p, ":");
    return xstrndup(p, n);
}

/* A secret's valueFrom: a Secrets Manager secret ARN (arn:...:secretsmanager:REGION:ACCOUNT:secret:NAME,
 * then optionally ":json-key:version-stage:version-id", which are not part of the secret's ARN), an
 * SSM parameter ARN (arn:...:ssm:REGION:ACCOUNT:parameter/NAME), or a parameter name. */
static void plan_secret(struct sk_preflight *pf, const char *container, const char *name, const char *from)
{
    struct sk_buf subject = SK_BUF_INIT, target = SK_BUF_INIT;
    char *service = strncmp(from, "arn:", 4) == 0 ? arn_field(from, 2) : NULL;
    char *region = service ? arn_field(from, 3) : NULL;
    struct sk_pf_check *ck;

    sk_buf_addf(&subject, "%s %s=%s", container, name, from);
    if (service && strcmp(service, "secretsmanager") == 0) {
        const char *p = from;
        int colons = 0;
        while (*p && !(*p == ':' && ++colons == 7))
            p++;
        sk_buf_add(&target, from, (size_t)(p - from));
    } else if (service && strcmp(service, "ssm") == 0 && strstr(from, ":parameter/")) {
        /* a parameter's ARN names "parameter/a/b" for /a/b and "parameter/b" for b: GetParameters gets
         * the name (https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html) */
        const char *pname = strstr(from, ":parameter/") + strlen(":parameter/");
        sk_buf_addf(&target, "%s%s", strchr(pname, '/') ? "/" : "", pname);
    } else {
        sk_buf_adds(&target, from);
    }
    ck = add(pf, SK_PF_SECRET, subject.p, target.p, region);
    if (ck)
        ck->secretsmanager = service && strcmp(service, "secretsmanager") == 0;
    if (ck && service && strcmp(service, "secretsmanager") != 0 && strcmp(service, "ssm") != 0)
        sk_preflight_set(ck, SK_PF_FAIL, "valueFrom is neither an SSM parameter nor a Secrets Manager secret");
    free(service);
    free(region);
    sk_buf_release(&subject);
    sk_buf_release(&target);
}

static void plan_container(struct sk_preflight *pf, jv cd)
{
    const char *name = sk_json_str(cd, "name"), *image = sk_json_str(cd, "image");
    jv secrets = sk_json_get(cd, "secrets"), lc = sk_json_get(cd, "logConfiguration");
    jv opts = sk_json_get(lc, "options");
    struct sk_buf s = SK_BUF_INIT;
    int i, n = sk_json_len(secrets);

    name = name ? name : "?";
    if (image) {
        sk_buf_addf(&s, "%s=%s", name, image);
        add(pf, SK_PF_IMAGE, s.p, image, NULL);
    }
    for (i = 0; i < n; i++) {
        jv e = jv_array_get(jv_copy(secrets), i);
        const char *sn = sk_json_str(e, "name"), *from = sk_json_str(e, "valueFrom");
        if (from && *from)
            plan_secret(pf, name, sn ? sn : "?", from);
        jv_free(e);
    }
    if (strcmp(sk_json_str(lc, "logDriver") ? sk_json_str(lc, "logDriver") : "", "awslogs") == 0 &&
        sk_json_str(opts, "awslogs-group")) {
        const char *group = sk_json_str(opts, "awslogs-group"), *create = sk_json_str(opts, "awslogs-create-group");
        struct sk_pf_check *ck = add(pf, SK_PF_LOG_GROUP, group, group, sk_json_str(opts, "awslogs-region"));
        /* awslogs-create-group "true": the task creates it (needs logs:CreateLogGroup, the task's) */
        if (ck && create && strcmp(create, "true") == 0)
            sk_preflight_set(ck, SK_PF_OK, "created by the task (awslogs-create-group)");
    }
    sk_buf_release(&s);
    jv_free(secrets);
    jv_free(opts);
    jv_free(lc);
}

static void plan_role(struct sk_preflight *pf, jv td, const char *field)
{
    const char *arn = sk_json_str(td, field), *slash;
    struct sk_buf s = SK_BUF_INIT;
    struct sk_pf_check *ck;

    if (!arn || !*arn)
        return;
    /* arn:aws:iam::ACCOUNT:role/[PATH/]NAME: GetRole takes the NAME */
    slash = strrchr(arn, '/');
    sk_buf_addf(&s, "%s %s", field, arn);
    ck = add(pf, SK_PF_ROLE, s.p, slash ? slash + 1 : arn, NULL);
    if (ck && (!slash || !strstr(arn, ":role/")))
        sk_preflight_set(ck, SK_PF_FAIL, "not an IAM role ARN");
    sk_buf_release(&s);
}

/* Whether container name maps port in td's portMappings. */
static int maps_port(jv cds, const char *name, long port)
{
    int i, j, n = sk_json_len(cds), hit = 0;

    for (i = 0; i < n && !hit; i++) {
        jv cd = jv_array_get(jv_copy(cds), i), pm = sk_json_get(cd, "portMappings");
        const char *cn = sk_json_str(cd, "name");
        for (j = 0; cn && strcmp(cn, name) == 0 && j < sk_json_len(pm); j++) {
            jv m = jv_array_get(jv_copy(pm), j);
            hit |= (long)sk_json_num_any(m, "containerPort", -1) == port;
            jv_free(m);
        }
        jv_free(pm);
        jv_free(cd);
    }
    return hit;
}

static int has_container(jv cds, const char *name)
{
    int i, n = sk_json_len(cds), hit = 0;

    for (i = 0; i < n; i++) {
        jv cd = jv_array_get(jv_copy(cds), i);
        const char *cn = sk_json_str(cd, "name");
        hit |= cn && strcmp(cn, name) == 0;
        jv_free(cd);
    }
    return hit;
}

static void plan_load_balancers(struct sk_preflight *pf, jv cds, const struct sk_ecs_service *svc)
{
    size_t i;

    for (i = 0; svc && i < svc->nload_balancers; i++) {
        const struct sk_ecs_load_balancer *lb = &svc->load_balancers[i];
        const char *cn = lb->container_name ? lb->container_name : "";
        struct sk_buf s = SK_BUF_INIT;
        struct sk_pf_check *ck;
        if (!lb->target_group_arn) /* a Classic Load Balancer: no target group to look at */
            continue;
        sk_buf_addf(&s, "%s:%ld", cn, lb->container_port);
        ck = add(pf, SK_PF_LOAD_BALANCER, s.p, lb->target_group_arn, NULL);
        if (!has_container(cds, cn))
            sk_preflight_set(ck, SK_PF_FAIL, "the task definition has no container '%s' (the service's load balancer)",
                             cn);
        else if (!maps_port(cds, cn, lb->container_port))
            sk_preflight_set(ck, SK_PF_FAIL, "container '%s' maps no containerPort %ld (the service's load balancer)",
                             cn, lb->container_port);
        sk_buf_release(&s);
    }
}

/* runtimePlatform as an image platform: LINUX/X86_64 is linux/amd64, ARM64 arm64
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html). */
static void plan_platform(struct sk_preflight *pf, jv td)
{
    jv rp = sk_json_get(td, "runtimePlatform");
    const char *os = sk_json_str(rp, "operatingSystemFamily"), *arch = sk_json_str(rp, "cpuArchitecture");

    snprintf(pf->platform, sizeof(pf->platform), "%s/%s", os && strncmp(os, "WINDOWS", 7) == 0 ? "windows" : "linux",
             arch && strcmp(arch, "ARM64") == 0 ? "arm64" : "amd64");
    jv_free(rp);
}

void sk_preflight_plan(jv td, const struct sk_ecs_service *svc, struct sk_preflight *pf)
{
    jv cds = sk_json_get(td, "containerDefinitions");
    const char *mode = sk_json_str(td, "networkMode");
    int i, n = sk_json_len(cds);
    size_t k;

    memset(pf, 0, sizeof(*pf));
    plan_platform(pf, td);
    for (i = 0; i < n; i++) {
        jv cd = jv_array_get(jv_copy(cds), i);
        plan_container(pf, cd);
        jv_free(cd);
    }
    plan_role(pf, td, "executionRoleArn");
    plan_role(pf, td, "taskRoleArn");
    plan_load_balancers(pf, cds, svc);
    for (k = 0; k < pf->n; k++) /* the target type the network mode needs, for the look-up */
        if (pf->v[k].kind == SK_PF_LOAD_BALANCER && pf->v[k].state == SK_PF_TODO)
            pf->v[k].region = xstrdup(mode && strcmp(mode, "awsvpc") == 0 ? "ip" : "instance");
    jv_free(cds);
}

void sk_preflight_release(struct sk_preflight *pf)
{
    size_t i;

    for (i = 0; i < pf->n; i++) {
        free(pf->v[i].subject);
        free(pf->v[i].target);
        free(pf->v[i].region);
        free(pf->v[i].reason);
    }
    free(pf->v);
    pf->v = NULL;
    pf->n = 0;
}

/* ---- verdicts ------------------------------------------------------------------------------------ */

static const char *const not_found_codes[] = { "NoSuchEntity",      "ResourceNotFoundException",
                                               "ParameterNotFound", "TargetGroupNotFound",
                                               "ResourceNotFound",  "NAME_UNKNOWN",
                                               "MANIFEST_UNKNOWN",  NULL };
static const char *const denied_codes[] = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UNAUTHORIZED", "DENIED", NULL
};

static int code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

int sk_preflight_judge(struct sk_pf_check *ck, int rc, int found, const char *permission, const struct sk_err *e)
{
    if (rc == 0) {
        if (found)
            sk_preflight_set(ck, SK_PF_OK, "found");
        else
            sk_preflight_set(ck, SK_PF_FAIL, "not found");
        return 0;
    }
    if (e->kind == SK_E_AWS && code_in(e->aws_code, not_found_codes)) {
        sk_preflight_set(ck, SK_PF_FAIL, "not found");
        return 0;
    }
    if (e->kind == SK_E_AWS && code_in(e->aws_code, denied_codes)) {
        sk_preflight_set(ck, SK_PF_FAIL, "cannot check: %s was denied (%s)", permission, e->aws_code);
        return 0;
    }
    return -1;
}

int sk_preflight_index_pick(const char *json, size_t len, const char *platform, char *digest, size_t n,
                            struct sk_err *err)
{
    jv idx, ms;
    int i, m, hit = 0;

    digest[0] = '\0';
    if (sk_json_parse(json, len, &idx, err) < 0)
        return -1;
    ms = sk_json_get(idx, "manifests");
    if (jv_get_kind(ms) != JV_KIND_ARRAY) {
        jv_free(ms);
        jv_free(idx);
        return sk_errf(err, SK_E_PARSE, "an image index without manifests");
    }
    m = sk_json_len(ms);
    for (i = 0; i < m && !hit; i++) {
        jv e = jv_array_get(jv_copy(ms), i), p = sk_json_get(e, "platform");
        const char *os = sk_json_str(p, "os"), *arch = sk_json_str(p, "architecture"), *d = sk_json_str(e, "digest");
        size_t ol = os ? strlen(os) : 0;
        if (os && arch && d && strncmp(platform, os, ol) == 0 && platform[ol] == '/' &&
            strcmp(platform + ol + 1, arch) == 0) {
            snprintf(digest, n, "%s", d);
            hit = 1;
        }
        jv_free(p);
        jv_free(e);
    }
    jv_free(ms);
    jv_free(idx);
    return hit;
}

size_t sk_preflight_failed(const struct sk_preflight *pf)
{
    size_t i, n = 0;

    for (i = 0; i < pf->n; i++)
        n += pf->v[i].state == SK_PF_FAIL;
    return n;
}

const char *sk_preflight_kind_name(enum sk_pf_kind k)
{
    switch (k) {
    case SK_PF_IMAGE: return "image";
    case SK_PF_ROLE: return "role";
    case SK_PF_SECRET: return "secret";
    case SK_PF_LOG_GROUP: return "log-group";
    case SK_PF_LOAD_BALANCER: return "load-balancer";
    }
    return "?";
}

jv sk_preflight_json(const struct sk_preflight *pf)
{
    jv a = jv_array();
    size_t i;

    for (i = 0; i < pf->n; i++) {
        const struct sk_pf_check *ck = &pf->v[i];
        jv o = jv_object();
        o = jv_object_set(o, jv_string("check"), jv_string(sk_preflight_kind_name(ck->kind)));
        o = jv_object_set(o, jv_string("subject"), jv_string(ck->subject));
        o = jv_object_set(o, jv_string("ok"), jv_bool(ck->state != SK_PF_FAIL));
        o = jv_object_set(o, jv_string("reason"), jv_string(ck->reason ? ck->reason : ""));
        a = jv_array_append(a, o);
    }
    return a;
}

/* ---- the look-ups ---------------------------------------------------------------------------------- */

/* IAM GetRole (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html). */
static int look_role(struct sk_client *c, struct sk_pf_check *ck, struct sk_err *err)
{
    struct sk_form f;
    jv res = jv_invalid();
    int rc;

    sk_form_init(&f);
    sk_form_add(&f, "RoleName", ck->target);
    rc = sk_client_query(c, &sk_svc_iam, "GetRole", &f, NULL, 0, &res, err);
    sk_form_release(&f);
    if (rc == 0)
        jv_free(res);
    return sk_preflight_judge(ck, rc, 1, "iam:GetRole", err);
}

/* SSM GetParameters (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html):
 * a missing one is in InvalidParameters. Values are not decrypted and are wiped. */
static int look_parameter(struct sk_client *c, struct sk_pf_check *ck, struct sk_err *err)
{
    jv in = jv_object(), res = jv_invalid(), bad;
    int rc, found = 0;

    in = jv_object_set(in, jv_string("Names"), jv_array_append(jv_array(), jv_string(ck->target)));
    in = jv_object_set(in, jv_string("WithDecryption"), jv_false());
    rc = sk_client_json(c, &sk_svc_ssm, "GetParameters", in, 0, &res, err);
    if (rc == 0) {
        bad = sk_json_get(res, "InvalidParameters");
        found = sk_json_len(bad) == 0;
        jv_free(bad);
        sk_json_wipe_strings(res);
        jv_free(res);
    }
    return sk_preflight_judge(ck, rc, found, "ssm:GetParameters", err);
}

/* Secrets Manager DescribeSecret
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html). */
static int look_secret(struct sk_client *c, struct sk_pf_check *ck, struct sk_err *err)
{
    jv in = jv_object(), res = jv_invalid();
    int rc;

    in = jv_object_set(in, jv_string("SecretId"), jv_string(ck->target));
    rc = sk_client_json(c, &sk_svc_secretsmanager, "DescribeSecret", in, 0, &res, err);
    if (rc == 0)
        jv_free(res);
    return sk_preflight_judge(ck, rc, 1, "secretsmanager:DescribeSecret", err);
}

/* CloudWatch Logs DescribeLogGroups with logGroupNamePrefix, an exact match among the answers
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html). */
struct log_group_find {
    const char *name;
    int found;
};

static int find_log_group(void *ctx, jv answer, struct sk_err *err)
{
    struct log_group_find *f = ctx;
    jv groups = sk_json_get(answer, "logGroups");
    int i;

    (void)err;
    for (i = 0; i < sk_json_len(groups) && !f->found; i++) {
        jv g = jv_array_get(jv_copy(groups), i);
        const char *name = sk_json_str(g, "logGroupName");
        f->found = name && strcmp(name, f->name) == 0;
        jv_free(g);
    }
    jv_free(groups);
    return f->found; /* found: no more pages */
}

static int look_log_group(struct sk_client *c, struct sk_pf_check *ck, struct sk_err *err)
{
    struct log_group_find f = { ck->target, 0 };
    jv in = jv_object_set(jv_object(), jv_string("logGroupNamePrefix"), jv_string(ck->target));
    int rc = sk_client_json_pages(c, &sk_svc_logs, "DescribeLogGroups", in, 20, find_log_group, &f, err);

    return sk_preflight_judge(ck, rc, f.found, "logs:DescribeLogGroups", err);
}

/* ELB DescribeTargetGroups: the target type the network mode needs (ck->region holds it). */
static int look_target_group(struct sk_client *c, struct sk_pf_check *ck, struct sk_err *err)
{
    struct sk_elbv2_target_group tg;
    int rc;

    memset(&tg, 0, sizeof(tg));
    rc = sk_elbv2_target_group_get(c, ck->target, &tg, err);
    if (sk_preflight_judge(ck, rc, 1, "elasticloadbalancing:DescribeTargetGroups", err) < 0) {
        sk_elbv2_target_group_release(&tg);
        return -1;
    }
    if (rc == 0) {
        const char *type = tg.target_type ? tg.target_type : "instance";
        if (strcmp(type, ck->region) == 0)
            sk_preflight_set(ck, SK_PF_OK, "target group %s has target type %s", tg.name ? tg.name : "?", type);
        else
            sk_preflight_set(ck, SK_PF_FAIL, "target group %s has target type %s; the network mode needs %s",
                             tg.name ? tg.name : "?", type, ck->region);
    }
    sk_elbv2_target_group_release(&tg);
    return 0;
}

int sk_preflight_run(struct sk_preflight *pf, struct sk_client *c, struct sk_logs *logs, struct sk_err *err)
{
    size_t i;

    for (i = 0; i < pf->n; i++) {
        struct sk_pf_check *ck = &pf->v[i];
        struct sk_client *rc = c;
        int r = 0;
        if (ck->state != SK_PF_TODO || ck->kind == SK_PF_IMAGE)
            continue;
        if ((ck->kind == SK_PF_LOG_GROUP || ck->kind == SK_PF_SECRET) && ck->region &&
            !(rc = sk_logs_client(logs, ck->region, err)))
            return -1;
        switch (ck->kind) {
        case SK_PF_ROLE: r = look_role(c, ck, err); break;
        case SK_PF_SECRET: r = ck->secretsmanager ? look_secret(rc, ck, err) : look_parameter(rc, ck, err); break;
        case SK_PF_LOG_GROUP: r = look_log_group(rc, ck, err); break;
        case SK_PF_LOAD_BALANCER: r = look_target_group(c, ck, err); break;
        case SK_PF_IMAGE: break;
        }
        if (r < 0)
            return -1;
        sk_err_clear(err);
    }
    return 0;
}
