/*
 * explain.h - why an ECS task stopped, or could not be placed, in one line a person can act on.
 *
 * Pure functions over what ECS answered (lib/svc/ecs.h): a DescribeTasks task, a stop reason, a
 * service's events. No I/O. They read the words ECS uses (the Amazon ECS Developer Guide's stopped-task
 * pages: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html,
 * task_cannot_pull_image.html, resource-initialization-error.html, and its service event messages:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html).
 *
 * The strings they return quote AWS's text (image references, ARNs, reasons): untrusted, to be
 * escaped (lib/core/text.h) before they are printed.
 */
#ifndef SK_EXPLAIN_H
#define SK_EXPLAIN_H

#include <stddef.h>

#include "svc/ecs.h"

enum sk_explain_kind {
    SK_EXPLAIN_NONE = 0,         /* not a failure: a scale-in, a replaced deployment's task */
    SK_EXPLAIN_UNKNOWN,          /* a stop this module does not know: "STOPCODE: REASON" */
    SK_EXPLAIN_EXITED,           /* an essential container exited */
    SK_EXPLAIN_OOM,              /* a container was killed for its memory use */
    SK_EXPLAIN_IMAGE_NOT_FOUND,  /* the image (repository, tag or digest) is not in the registry */
    SK_EXPLAIN_PULL_DENIED,      /* the registry refused the pull: the execution role may not read ECR */
    SK_EXPLAIN_ECR_AUTH_DENIED,  /* the execution role may not get an ECR authorization token */
    SK_EXPLAIN_PULL_FAILED,      /* another image pull failure */
    SK_EXPLAIN_NO_ROUTE,         /* the task's subnets reach neither the internet nor the VPC endpoint */
    SK_EXPLAIN_SECRET_NOT_FOUND, /* a secrets[].valueFrom (Secrets Manager or SSM) does not exist */
    SK_EXPLAIN_SECRET_DENIED,    /* the execution role may not read it */
    SK_EXPLAIN_SECRET_KEY,       /* the secret has no such JSON key */
    SK_EXPLAIN_START_FAILED,     /* another ResourceInitializationError or TaskFailedToStart */
    SK_EXPLAIN_ELB_HEALTH,       /* ECS stopped the task: it failed its target group's health checks */
    SK_EXPLAIN_CONTAINER_HEALTH, /* ECS stopped the task: it failed its container health check */
    SK_EXPLAIN_NO_CAPACITY,      /* Fargate had no capacity to place the task */
    SK_EXPLAIN_PLACEMENT,        /* no container instance (or quota) to place the task */
    SK_EXPLAIN_USER,             /* stopped by a StopTask call */
    SK_EXPLAIN_INTERRUPTED,      /* Spot capacity reclaimed, or a termination notice */
};

struct sk_explain {
    enum sk_explain_kind kind;
    int failure;     /* a failure of its deployment (what ECS's failedTasks counts) */
    char *reason;    /* the one line: "image not found: REPO:TAG", "secret ARN not found", ... */
    char *hint;      /* what to check or change, or NULL */
    char *subject;   /* what it is about: the image, the secret or parameter, the target group name; or NULL */
    char *container; /* the container concerned, or NULL */
    int exit_code;   /* SK_EXPLAIN_EXITED / SK_EXPLAIN_OOM: its exit code; otherwise -1 */
};

void sk_explain_init(struct sk_explain *e);
void sk_explain_release(struct sk_explain *e);

/* A stable name of a kind, for JSON output: "image-not-found", "no-route", ... */
const char *sk_explain_kind_name(enum sk_explain_kind kind);

/* Why task (borrowed) stopped. *e is released first, then filled. */
void sk_explain_task(const struct sk_ecs_task *task, struct sk_explain *e);

/* What one message says: a stoppedReason, a container's reason, or the reason of a service event
 * ("... was unable to place a task. Reason: ..."). Unknown text gives SK_EXPLAIN_UNKNOWN with the
 * message as the reason. msg may be NULL. */
void sk_explain_message(const char *msg, struct sk_explain *e);

/* The service events (n of them, borrowed; newest first, as DescribeServices gives them) created at
 * or after since (epoch seconds; 0: all) that say a task could not be placed or started: up to max
 * distinct explanations (by reason), newest first, into out[]; returns how many. Release each. */
size_t sk_explain_events(const struct sk_ecs_event *events, size_t n, double since, struct sk_explain *out, size_t max);

#endif
