/*
 * runtask.h - one-off ECS tasks (a migration, a training or evaluation job): what RunTask is asked,
 * StopTask, following the tasks, and the verdict on each (the rules; ecs-run owns the flow).
 *
 * RunTask: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html (its
 * failures[]: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html),
 * StopTask: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html. The verdict:
 * a task succeeded when it is STOPPED and every essential container of its task definition exited 0
 * (a container is essential unless its definition says "essential": false,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html).
 */
#ifndef SK_RUNTASK_H
#define SK_RUNTASK_H

#include <stddef.h>

#include <jv.h>

#include "aws/client.h"
#include "core/err.h"
#include "svc/ecs.h"
#include "svc/explain.h"

#define SK_RUN_MAX_COUNT 10      /* RunTask's count: 1 to 10 */
#define SK_RUN_STARTED_BY_MAX 36 /* startedBy: up to 36 letters, digits, '-', '/' and '_' */

/* What RunTask is asked. Strings borrowed. */
struct sk_run_req {
    const char *cluster, *task_definition; /* family[:revision] or ARN */
    const char *started_by;                /* NULL: none */
    const char *container;                 /* the container command and env go to */
    const char *const *command;            /* argv; NULL: the definition's own */
    int ncommand;
    const char *const *env; /* NAME=VALUE, n of them */
    int nenv;
    const char *cpu, *memory; /* task-level overrides, NULL: none */
    const char *const *tags;  /* K=V, n of them (after the service's) */
    int ntags;
    long count;
    jv service;                 /* a DescribeServices service (borrowed) whose network configuration, launch type or
                                 * capacity-provider strategy, platform version and tags the tasks take; or jv_invalid() */
    const char *launch_type;    /* NULL: the service's, else ECS's default */
    const char *const *subnets; /* awsvpc subnets and security groups, instead of the service's */
    int nsubnets;
    const char *const *security_groups;
    int nsecurity_groups;
};

/* Is s a valid startedBy? */
int sk_run_started_by_ok(const char *s);

/* The RunTask input for r (owned), with a fresh clientToken so a retried call starts no second set
 * of tasks (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/ECS_Idempotency.html). */
jv sk_run_input(const struct sk_run_req *r);

/* RunTask of in (consumed). *tasks (n of them, owned: sk_ecs_tasks_free) are the tasks it started. failures[] is an
 * error, SK_E_AWS with aws_code "RunTaskFailure" and the reasons, even when some tasks started: they
 * are still in *tasks, for the caller to stop. */
int sk_run_task(struct sk_client *c, jv in, struct sk_ecs_task **tasks, size_t *n, struct sk_err *err);

/* StopTask of arn with reason (at most 255 characters are sent). */
int sk_run_stop(struct sk_client *c, const char *cluster, const char *arn, const char *reason, struct sk_err *err);

/* DescribeTasks of arns[0..n), parsed into *tasks, in arns' order; a task ECS no longer knows
 * (failures[] MISSING) is left out, so *ntasks may be less than n. */
int sk_run_describe(struct sk_client *c, const char *cluster, char *const *arns, size_t n, struct sk_ecs_task **tasks,
                    size_t *ntasks, struct sk_err *err);

/* A container definition's name and whether it is essential. */
struct sk_run_container {
    char *name;
    int essential;
};

/* The containers of a task definition (borrowed), in their order: owned (sk_run_containers_free). */
void sk_run_containers(jv td, struct sk_run_container **out, size_t *n);
void sk_run_containers_free(struct sk_run_container *c, size_t n);

/* The container a command goes to: name if given (NULL if the definition has no such container),
 * else the first essential one. Borrowed from defs. */
const char *sk_run_pick_container(const struct sk_run_container *defs, size_t n, const char *name);

enum sk_run_verdict {
    SK_RUN_RUNNING, /* not STOPPED yet */
    SK_RUN_OK,      /* STOPPED, every essential container exited 0 */
    SK_RUN_FAILED,  /* STOPPED otherwise */
};

/* The verdict on task t, whose containers are defs[0..n) (a container t has that defs do not name
 * counts as essential). On SK_RUN_FAILED, *why (released first) says why, in the words ecs-roll
 * uses for its failed deploys (lib/svc/explain.h); *exit_code is the first failed essential
 * container's exit code, or -1 when none has one (it never ran). */
enum sk_run_verdict sk_run_judge(const struct sk_ecs_task *t, const struct sk_run_container *defs, size_t n,
                                 struct sk_explain *why, int *exit_code);

#endif
