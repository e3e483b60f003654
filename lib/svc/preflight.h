/*
 * preflight.h - the checks ecs-roll makes on a task definition before it registers it: which apply
 * and the verdict on each. Every image exists in its registry, the execution and task roles exist,
 * every secret's valueFrom exists, every awslogs log group exists, and the service's load balancers
 * fit the task definition (their container and containerPort, the target group's type for the
 * network mode).
 *
 * The images are looked up by the caller (the registry client is lib/oci's); the rest by
 * sk_preflight_run. A look-up that is refused (AccessDenied) is a failure naming the permission.
 *
 * Sources: RegisterTaskDefinition's fields
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html),
 * secrets (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar.html), the
 * awslogs options (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html),
 * target types (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html: awsvpc needs
 * the ip target type).
 */
#ifndef SK_PREFLIGHT_H
#define SK_PREFLIGHT_H

#include <stddef.h>

#include <jv.h>

#include "aws/client.h"
#include "core/err.h"
#include "svc/ecs.h"
#include "svc/logs.h"

enum sk_pf_kind { SK_PF_IMAGE, SK_PF_ROLE, SK_PF_SECRET, SK_PF_LOG_GROUP, SK_PF_LOAD_BALANCER };

enum sk_pf_state {
    SK_PF_TODO,      /* not looked up yet */
    SK_PF_OK,        /* passed */
    SK_PF_FAIL,      /* failed: the deploy is refused */
    SK_PF_UNCHECKED, /* cannot be looked up (an image on a registry without credentials): a note */
};

struct sk_pf_check {
    enum sk_pf_kind kind;
    enum sk_pf_state state;
    char *subject;      /* as shown: "app=IMAGE", the role ARN, "app SECRET=VALUEFROM", the group, "app:8080" */
    char *target;       /* what is looked up: the image, the role's name, the parameter's name or the secret's
                         * ARN, the log group, the target group's ARN */
    char *region;       /* the region to look in (a log group's awslogs-region, a secret ARN's), NULL: the client's */
    int secretsmanager; /* SK_PF_SECRET: a Secrets Manager secret (else an SSM parameter) */
    char *reason;       /* the verdict's words, owned */
};

struct sk_preflight {
    struct sk_pf_check *v;
    size_t n;
    char platform[64]; /* "linux/amd64": runtimePlatform's, the image an index must hold */
};

/* The checks for the task definition td (borrowed; the RegisterTaskDefinition input) and the
 * service's load balancers (svc may be NULL). The load balancers' container and port are judged here;
 * everything else is SK_PF_TODO. Release pf, also on failure. */
void sk_preflight_plan(jv td, const struct sk_ecs_service *svc, struct sk_preflight *pf);
void sk_preflight_release(struct sk_preflight *pf);

/* Look up every SK_PF_TODO check but the images: IAM GetRole, SSM GetParameters, Secrets Manager
 * DescribeSecret, CloudWatch Logs DescribeLogGroups, ELB DescribeTargetGroups. logs gives the
 * client of another region. -1 (err set) when a look-up fails otherwise than "not found" or
 * "access denied" (network, throttled beyond the retries, ...). */
int sk_preflight_run(struct sk_preflight *pf, struct sk_client *c, struct sk_logs *logs, struct sk_err *err);

/* The verdict from a look-up: rc 0 with found 1 is ok ("found"), with found 0 a failure
 * ("not found"); rc -1 with e an AWS "not found" error a failure, an access denied a failure naming
 * permission; any other error -1 (the caller's e stands). */
int sk_preflight_judge(struct sk_pf_check *ck, int rc, int found, const char *permission, const struct sk_err *e);

/* Set a check's verdict and reason (printf-style). */
void sk_preflight_set(struct sk_pf_check *ck, enum sk_pf_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The digest of the manifest for platform ("os/arch") in the image index or manifest list in
 * json: 1 and digest filled, 0 when it has none, -1 when json is not an index (SK_E_PARSE). */
int sk_preflight_index_pick(const char *json, size_t len, const char *platform, char *digest, size_t n,
                            struct sk_err *err);

/* The number of failed checks. */
size_t sk_preflight_failed(const struct sk_preflight *pf);
/* "image", "role", "secret", "log-group", "load-balancer". */
const char *sk_preflight_kind_name(enum sk_pf_kind k);
/* The result's "verify": [{check, subject, ok, reason}]. */
jv sk_preflight_json(const struct sk_preflight *pf);

#endif
