#include "svc/explain.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

/* What each kind of failure asks of a person (the ECS Developer Guide's pages named in explain.h,
 * the task execution role's: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html,
 * and ECR's VPC endpoints: https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html). */
static const char hint_image[] = "push the image (ecr-push), or deploy a tag or digest that exists";
static const char hint_pull_denied[] = "give the task execution role ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
                                       "on the repository (AmazonECSTaskExecutionRolePolicy has them)";
static const char hint_ecr_auth[] = "give the task execution role ecr:GetAuthorizationToken on \"*\" "
                                    "(AmazonECSTaskExecutionRolePolicy has it)";
static const char hint_route_ecr[] = "give the tasks' subnets a route to the internet (a NAT gateway; or an internet "
                                     "gateway and assignPublicIp) or the VPC endpoints ecr.api, ecr.dkr and s3";
static const char hint_route_other[] = "give the tasks' subnets a route to the internet (a NAT gateway; or an internet "
                                       "gateway and assignPublicIp) or a VPC endpoint for the service";
static const char hint_secret_missing[] = "create it (ssm-put, secret-put), or correct valueFrom in the task "
                                          "definition's secrets";
static const char hint_secret_denied[] =
    "give the task execution role ssm:GetParameters or secretsmanager:GetSecretValue "
    "on it (and kms:Decrypt for a customer managed key)";
static const char hint_elb[] = "the health check's path, port and matcher, the security group between load balancer "
                               "and tasks, and the application's log lines";
static const char hint_capacity[] = "ECS keeps trying; give the service subnets in more Availability Zones, or "
                                    "deploy again later";
static const char hint_placement[] = "register container instances with enough CPU, memory and free ports, or run "
                                     "the service on Fargate";
static const char hint_exited[] = "see the container's last log lines";
static const char hint_oom[] = "raise the task's or the container's memory, or find what grows";

static const char *const kind_names[] = {
    [SK_EXPLAIN_NONE] = "none",
    [SK_EXPLAIN_UNKNOWN] = "unknown",
    [SK_EXPLAIN_EXITED] = "container-exited",
    [SK_EXPLAIN_OOM] = "out-of-memory",
    [SK_EXPLAIN_IMAGE_NOT_FOUND] = "image-not-found",
    [SK_EXPLAIN_PULL_DENIED] = "pull-denied",
    [SK_EXPLAIN_ECR_AUTH_DENIED] = "ecr-auth-denied",
    [SK_EXPLAIN_PULL_FAILED] = "pull-failed",
    [SK_EXPLAIN_NO_ROUTE] = "no-route",
    [SK_EXPLAIN_SECRET_NOT_FOUND] = "secret-not-found",
    [SK_EXPLAIN_SECRET_DENIED] = "secret-denied",
    [SK_EXPLAIN_SECRET_KEY] = "secret-key-missing",
    [SK_EXPLAIN_START_FAILED] = "start-failed",
    [SK_EXPLAIN_ELB_HEALTH] = "elb-health-checks",
    [SK_EXPLAIN_CONTAINER_HEALTH] = "container-health-checks",
    [SK_EXPLAIN_NO_CAPACITY] = "no-capacity",
    [SK_EXPLAIN_PLACEMENT] = "placement",
    [SK_EXPLAIN_USER] = "stopped-by-user",
    [SK_EXPLAIN_INTERRUPTED] = "interrupted",
};

const char *sk_explain_kind_name(enum sk_explain_kind kind)
{
    return (size_t)kind < sizeof(kind_names) / sizeof(kind_names[0]) && kind_names[kind] ? kind_names[kind] : "unknown";
}

void sk_explain_init(struct sk_explain *e)
{
    memset(e, 0, sizeof(*e));
    e->exit_code = -1;
}

void sk_explain_release(struct sk_explain *e)
{
    free(e->reason);
    free(e->hint);
    free(e->subject);
    free(e->container);
    sk_explain_init(e);
}

static void set(struct sk_explain *e, enum sk_explain_kind kind, int failure, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void set(struct sk_explain *e, enum sk_explain_kind kind, int failure, const char *hint, const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(e->reason);
    free(e->hint);
    e->kind = kind;
    e->failure = failure;
    e->reason = sk_buf_detach(&b, NULL);
    e->hint = xstrdup_or_null(hint);
}

static void set_subject(struct sk_explain *e, char *owned)
{
    free(e->subject);
    e->subject = owned;
}

static int has(const char *s, const char *needle)
{
    return s && strstr(s, needle) != NULL;
}

/* The text after start in s up to the first of stop (or the end, or a newline), owned; NULL when s
 * has no start. */
static char *after(const char *s, const char *start, const char *stop)
{
    const char *p = s ? strstr(s, start) : NULL, *q;

    if (!p)
        return NULL;
    p += strlen(start);
    q = stop ? strstr(p, stop) : NULL;
    if (!q)
        q = p + strcspn(p, "\n");
    while (q > p && (q[-1] == ' ' || q[-1] == '.'))
        q--;
    return xstrndup(p, (size_t)(q - p));
}

/* The image reference of a pull error: failed to resolve ref "REF": ... or ...ref REF: ... (a
 * reference holds ':' but never ": "), or "repository REF not found" (the older wording). */
static char *pull_ref(const char *msg)
{
    const char *p = strstr(msg, "resolve ref ");

    if (p) {
        p += strlen("resolve ref ");
        if (*p == '"') {
            const char *q = strchr(p + 1, '"');
            return q ? xstrndup(p + 1, (size_t)(q - p - 1)) : NULL;
        }
        {
            size_t word = strcspn(p, " \n");
            const char *colon = strstr(p, ": ");
            return xstrndup(p, colon && (size_t)(colon - p) < word ? (size_t)(colon - p) : word);
        }
    }
    return after(msg, "repository ", " not found");
}

/* "arn:...:targetgroup/NAME/0123abcd" -> NAME (owned); anything else as it is. */
static char *tg_name(const char *arn)
{
    const char *p = strstr(arn, "targetgroup/"), *q;

    if (!p)
        return xstrdup(arn);
    p += strlen("targetgroup/");
    q = strchr(p, '/');
    return q ? xstrndup(p, (size_t)(q - p)) : xstrdup(p);
}

static int timeout_words(const char *msg)
{
    return has(msg, "i/o timeout") || has(msg, "connection issue between the task") ||
           has(msg, "request canceled while waiting for connection") || has(msg, "context deadline exceeded") ||
           has(msg, "Client.Timeout") || has(msg, "context canceled");
}

static void explain_pull(const char *msg, struct sk_explain *e)
{
    char *ref = pull_ref(msg);
    const char *shown = ref ? ref : "the image";

    if (has(msg, "403 Forbidden") || (has(msg, "AccessDenied") && !has(msg, "repository does not exist"))) {
        set(e, SK_EXPLAIN_PULL_DENIED, 1, hint_pull_denied,
            "could not pull %s: the execution role may not read ECR "
            "(AccessDenied)",
            shown);
    } else if (has(msg, ": not found") || has(msg, "manifest unknown") || has(msg, "API error (404)") ||
               has(msg, "repository does not exist")) {
        set(e, SK_EXPLAIN_IMAGE_NOT_FOUND, 1, hint_image, "image not found: %s%s", shown,
            has(msg, "pull access denied") ? " (or it is private: pull access denied)" : "");
    } else if (timeout_words(msg)) {
        set(e, SK_EXPLAIN_NO_ROUTE, 1, hint_route_ecr,
            "no route to the registry from the task's subnets (private subnets need a NAT gateway or VPC endpoints)");
    } else {
        set(e, SK_EXPLAIN_PULL_FAILED, 1, NULL, "could not pull %s: %s", shown, msg);
    }
    set_subject(e, ref);
}

static void explain_secret_asm(const char *msg, struct sk_explain *e)
{
    char *arn = after(msg, "failed to fetch secret ", " from secrets manager");
    char *key = after(msg, "did not contain json key ", NULL);
    const char *shown = arn ? arn : "a Secrets Manager secret";

    if (key) {
        set(e, SK_EXPLAIN_SECRET_KEY, 1, hint_secret_missing, "a secret has no JSON key %s", key);
        set_subject(e, key);
        free(arn);
        return;
    }
    if (has(msg, "AccessDenied"))
        set(e, SK_EXPLAIN_SECRET_DENIED, 1, hint_secret_denied, "could not read secret %s: AccessDenied", shown);
    else if (has(msg, "ResourceNotFoundException") || has(msg, "can't find the specified secret"))
        set(e, SK_EXPLAIN_SECRET_NOT_FOUND, 1, hint_secret_missing, "secret %s not found", shown);
    else if (timeout_words(msg))
        set(e, SK_EXPLAIN_NO_ROUTE, 1, hint_route_other,
            "no route to Secrets Manager from the task's subnets (private subnets need a NAT gateway or a "
            "secretsmanager VPC endpoint)");
    else
        set(e, SK_EXPLAIN_START_FAILED, 1, hint_secret_denied, "could not read secret %s: %s", shown, msg);
    set_subject(e, arn);
}

static void explain_secret_ssm(const char *msg, struct sk_explain *e)
{
    char *names = after(msg, "invalid ssm parameters: ", NULL), *arn;

    if (names) {
        set(e, SK_EXPLAIN_SECRET_NOT_FOUND, 1, hint_secret_missing, "secret %s not found (SSM parameter)", names);
        set_subject(e, names);
        return;
    }
    arn = after(msg, "on resource: ", " because");
    if (arn && strchr(arn, ' ')) {
        arn[strcspn(arn, " ")] = '\0';
    }
    if (has(msg, "AccessDenied"))
        set(e, SK_EXPLAIN_SECRET_DENIED, 1, hint_secret_denied, "could not read secret %s: AccessDenied",
            arn ? arn : "an SSM parameter");
    else if (timeout_words(msg))
        set(e, SK_EXPLAIN_NO_ROUTE, 1, hint_route_other,
            "no route to Systems Manager from the task's subnets (private subnets need a NAT gateway or an ssm VPC "
            "endpoint)");
    else
        set(e, SK_EXPLAIN_START_FAILED, 1, hint_secret_denied, "could not read SSM parameters: %s", msg);
    set_subject(e, arn);
}

void sk_explain_message(const char *msg, struct sk_explain *e)
{
    char *part;

    sk_explain_release(e);
    if (!msg || !*msg) {
        set(e, SK_EXPLAIN_UNKNOWN, 0, NULL, "no reason given");
        return;
    }
    if (has(msg, "CannotPullContainerError") || has(msg, "CannotPullImageManifestError")) {
        explain_pull(msg, e);
    } else if (has(msg, "ResourceInitializationError") || has(msg, "unable to pull secrets or registry auth")) {
        if (has(msg, "between the task and Amazon ECR") || (has(msg, "ecr registry auth") && timeout_words(msg)))
            set(e, SK_EXPLAIN_NO_ROUTE, 1, hint_route_ecr,
                "no route to the registry from the task's subnets (private subnets need a NAT gateway or VPC "
                "endpoints)");
        else if (has(msg, "ecr:GetAuthorizationToken") || (has(msg, "ecr registry auth") && has(msg, "AccessDenied")))
            set(e, SK_EXPLAIN_ECR_AUTH_DENIED, 1, hint_ecr_auth,
                "could not get an ECR authorization token: the execution role may not call ecr:GetAuthorizationToken "
                "(AccessDenied)");
        else if (has(msg, "from asm") || has(msg, "Secrets Manager"))
            explain_secret_asm(msg, e);
        else if (has(msg, "from ssm") || has(msg, "Systems Manager"))
            explain_secret_ssm(msg, e);
        else
            set(e, SK_EXPLAIN_START_FAILED, 1, NULL, "the task could not start: %s", msg);
    } else if ((part = after(msg, "failed ELB health checks in (target-group ", ")")) != NULL) {
        char *name = tg_name(part);
        set(e, SK_EXPLAIN_ELB_HEALTH, 1, hint_elb, "failed ELB health checks in target group %s: see tg-health", name);
        set_subject(e, name);
        free(part);
    } else if (has(msg, "failed container health checks")) {
        set(e, SK_EXPLAIN_CONTAINER_HEALTH, 1, "the container's healthCheck command and the application's log lines",
            "failed its container health check");
    } else if (has(msg, "Capacity is unavailable at this time")) {
        set(e, SK_EXPLAIN_NO_CAPACITY, 1, hint_capacity, "no capacity for FARGATE in the service's subnets");
    } else if (has(msg, "unable to place a task")) {
        char *why = after(msg, "was unable to place a task", " For more information");
        const char *w = why ? why : "";
        while (*w == ' ' || *w == '.')
            w++;
        if (strncmp(w, "because ", 8) == 0)
            w += 8;
        else if (strncmp(w, "Reason: ", 8) == 0)
            w += 8;
        set(e, SK_EXPLAIN_PLACEMENT, 1, hint_placement, "unable to place: %s", *w ? w : msg);
        free(why);
    } else if (has(msg, "OutOfMemoryError")) {
        set(e, SK_EXPLAIN_OOM, 1, hint_oom, "out of memory: %s", msg);
    } else if (has(msg, "Essential container in task exited")) {
        set(e, SK_EXPLAIN_EXITED, 1, hint_exited, "an essential container exited");
    } else if (has(msg, "Scaling activity initiated by")) {
        set(e, SK_EXPLAIN_NONE, 0, NULL, "stopped by ECS: %s", msg);
    } else if (has(msg, "stopped by user") || has(msg, "Task stopped by user")) {
        set(e, SK_EXPLAIN_USER, 0, NULL, "stopped by a StopTask call: %s", msg);
    } else {
        set(e, SK_EXPLAIN_UNKNOWN, 0, NULL, "%s", msg);
    }
}

/* The container a pull or exit is about: the first with a reason matching want (or, want NULL, a
 * non-zero exit code; else any exit code). Sets e->container, e->exit_code and, for pulls, the image
 * as the task definition names it as e->subject. */
static void pick_container(const struct sk_ecs_task *task, struct sk_explain *e, const char *want)
{
    const struct sk_ecs_container *best = NULL;
    int best_rank = 0;
    size_t i;

    for (i = 0; i < task->ncontainers; i++) {
        const struct sk_ecs_container *c = &task->containers[i];
        int rank = 0;
        if (want)
            rank = has(c->reason, want) ? 2 : 0;
        else if (c->has_exit_code)
            rank = c->exit_code != 0 ? 2 : 1;
        if (rank > best_rank) {
            best_rank = rank;
            best = c;
        }
    }
    if (best) {
        free(e->container);
        e->container = xstrdup_or_null(best->name);
        if (best->has_exit_code)
            e->exit_code = (int)best->exit_code;
        if (want && best->image)
            set_subject(e, xstrdup(best->image));
    }
}

/* The reason of the first container whose reason says `word`, owned, or NULL. */
static char *container_reason(const struct sk_ecs_task *task, const char *word)
{
    size_t i;

    for (i = 0; i < task->ncontainers; i++)
        if (has(task->containers[i].reason, word))
            return xstrdup(task->containers[i].reason);
    return NULL;
}

void sk_explain_task(const struct sk_ecs_task *task, struct sk_explain *e)
{
    const char *code = task->stop_code, *why = task->stopped_reason;
    char *pull = container_reason(task, "CannotPull");

    sk_explain_release(e);
    if (pull && !has(why, "CannotPull") && !has(why, "ResourceInitializationError")) {
        sk_explain_message(pull, e); /* the stopped reason says less than the container's */
    } else {
        sk_explain_message(why, e);
    }
    if (e->kind == SK_EXPLAIN_IMAGE_NOT_FOUND || e->kind == SK_EXPLAIN_PULL_DENIED ||
        e->kind == SK_EXPLAIN_PULL_FAILED || (e->kind == SK_EXPLAIN_NO_ROUTE && pull)) {
        pick_container(task, e, "CannotPull");
        if (e->kind == SK_EXPLAIN_IMAGE_NOT_FOUND && e->subject)
            set(e, SK_EXPLAIN_IMAGE_NOT_FOUND, 1, hint_image, "image not found: %s", e->subject);
        else if (e->kind == SK_EXPLAIN_PULL_DENIED && e->subject)
            set(e, SK_EXPLAIN_PULL_DENIED, 1, hint_pull_denied,
                "could not pull %s: the execution role may not read ECR (AccessDenied)", e->subject);
    } else if (e->kind == SK_EXPLAIN_EXITED || e->kind == SK_EXPLAIN_OOM ||
               (code && strcmp(code, "EssentialContainerExited") == 0)) {
        char *oom = container_reason(task, "OutOfMemoryError");
        pick_container(task, e, oom ? "OutOfMemoryError" : NULL);
        free(e->subject);
        e->subject = NULL;
        if (oom)
            set(e, SK_EXPLAIN_OOM, 1, hint_oom, "container %s ran out of memory: %s", e->container ? e->container : "?",
                oom);
        else if (e->container && e->exit_code >= 0)
            set(e, SK_EXPLAIN_EXITED, 1, hint_exited, "container %s exited with code %d", e->container, e->exit_code);
        else if (e->container)
            set(e, SK_EXPLAIN_EXITED, 1, hint_exited, "container %s exited", e->container);
        free(oom);
    } else if (code && (strcmp(code, "SpotInterruption") == 0 || strcmp(code, "TerminationNotice") == 0)) {
        set(e, SK_EXPLAIN_INTERRUPTED, 0, NULL, "%s: %s", code, why ? why : "the capacity was reclaimed");
    } else if (code && strcmp(code, "UserInitiated") == 0 && e->kind == SK_EXPLAIN_UNKNOWN) {
        set(e, SK_EXPLAIN_USER, 0, NULL, "stopped by a StopTask call: %s", why ? why : "no reason given");
    } else if (e->kind == SK_EXPLAIN_UNKNOWN) {
        set(e, SK_EXPLAIN_UNKNOWN, code && strcmp(code, "TaskFailedToStart") == 0, NULL, "%s: %s",
            code ? code : "stopped", why ? why : "no reason given");
    }
    free(pull);
}

size_t sk_explain_events(const struct sk_ecs_event *events, size_t n, double since, struct sk_explain *out, size_t max)
{
    size_t i, got = 0, k;

    for (i = 0; i < n && got < max; i++) {
        const char *msg = events[i].message;
        if (msg && has(msg, "unable to place a task") &&
            (since <= 0 || (events[i].has_created_at && events[i].created_at >= since))) {
            struct sk_explain e;
            int dup = 0;
            sk_explain_init(&e);
            sk_explain_message(msg, &e);
            for (k = 0; k < got && !dup; k++)
                dup = strcmp(out[k].reason, e.reason) == 0;
            if (dup)
                sk_explain_release(&e);
            else
                out[got++] = e;
        }
    }
    return got;
}
