/*
 * deploy.h - the rules of an ECS rolling deployment: given the service as DescribeServices shows it
 * and the id of a deployment, what is the verdict and why; when a deployment that ECS gives no
 * verdict on has stalled; and why a failed one failed (its stopped tasks and the service's events,
 * lib/svc/explain.h). The tool owns the flow (polling, printing, rolling back); these own the rules.
 *
 * The verdict (docs/ecs-simulator.md; the ECS API reference's Deployment: status, rolloutState,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html): success only when
 * *our* deployment is still PRIMARY, runs the new task definition and is COMPLETED; failure as soon
 * as it is FAILED, gone, or no longer PRIMARY (a circuit-breaker rollback or somebody else's deploy,
 * told apart). The stall rule is src/ecs-roll.1's NO PROGRESS.
 */
#ifndef SK_DEPLOY_H
#define SK_DEPLOY_H

#include <stddef.h>

#include "aws/api.h"
#include "svc/ecs.h"
#include "core/err.h"
#include "svc/explain.h"
#include "svc/logs.h"

enum sk_deploy_verdict {
    SK_DEPLOY_WAIT,        /* no verdict yet */
    SK_DEPLOY_DONE,        /* ours is PRIMARY, on the new task definition, COMPLETED */
    SK_DEPLOY_FAILED,      /* FAILED, the service not ACTIVE, or on another task definition */
    SK_DEPLOY_ROLLED_BACK, /* ECS's circuit breaker rolled back to the previous task definition */
    SK_DEPLOY_REPLACED,    /* another deployment (not to the previous task definition) replaced ours */
    SK_DEPLOY_TIMEOUT,     /* the caller's deadline passed */
    SK_DEPLOY_STALLED,     /* no progress for a stall period */
};

struct sk_deploy_outcome {
    enum sk_deploy_verdict v;
    char reason[512];
    char other_td[512]; /* the task definition that replaced ours */
    char other_dep[128];
};

/* Judge one DescribeServices answer against deployment dep_id of task definition td_arn; prev_td
 * is what ran before (may be NULL). Sets oc->v (and oc->reason on a failure) and returns it. */
enum sk_deploy_verdict sk_deploy_judge(const struct sk_ecs_service *svc, const char *dep_id, const char *td_arn,
                                       const char *prev_td, struct sk_deploy_outcome *oc);

/* Does the service run td steadily: one deployment, PRIMARY on td, its rollout COMPLETED, and as
 * many tasks running as desired? */
int sk_deploy_steady_on(const struct sk_ecs_service *svc, const char *td);

/* --keep-revisions: of arns (the ACTIVE revisions of one family, any order), the ones to deregister,
 * newest first: all but the newest keep by revision number, and never one the service runs (any of
 * svc's deployments' task definitions) nor one of protect[0..nprotect). keep < 1 counts as 1. An
 * entry without a revision number is never chosen. Borrows arns; the result is owned. */
jv sk_deploy_prune(jv arns, long keep, const struct sk_ecs_service *svc, const char *const *protect, size_t nprotect);

/* The target health of svc's target groups (each once), for --status: an array of
 * {"targetGroupArn", "targets": [{"id", "port", "state", "reason", "description"}]}, or
 * {"targetGroupArn", "error": MESSAGE} for a group DescribeTargetHealth answered with an error (the
 * status is still shown). The result is owned; never fails. */
jv sk_deploy_target_health(struct sk_client *c, const struct sk_ecs_service *svc);

/* When a deployment has stalled: the state of one wait. */
struct sk_deploy_stall {
    int ready;         /* settings read for this wait */
    double settings_s; /* grace + 2 x target health check + 60 (+ 300), in AWS seconds */
    double start_s;    /* the longest start of its tasks seen (createdAt -> startedAt), real seconds */
    double period;     /* real seconds without progress that make a stall */
    double since;      /* the time of the last progress (or the start of the wait) */
    double last_check; /* the time of the last look at its tasks */
    int healthy;       /* its tasks seen RUNNING and healthy */
    int healthy_now;   /* of them, in the last look */
    char **seen;       /* their ARNs */
    size_t nseen;
    char rule[160]; /* how period was made, for the message */
};

/* What watching one service's deployments holds. */
struct sk_deploy_watch {
    struct sk_client *c;
    const char *cluster, *service; /* borrowed */
    double scale;                  /* SK_POLL_SCALE: AWS seconds -> real seconds (the simulator's clock) */
    int calls;                     /* AWS calls made through this watch */
    struct sk_deploy_stall st;
};

void sk_deploy_watch_init(struct sk_deploy_watch *w, struct sk_client *c, const char *cluster, const char *service,
                          double scale);
void sk_deploy_watch_release(struct sk_deploy_watch *w);

/* Start a new wait: forget what the stall rule saw. */
void sk_deploy_stall_reset(struct sk_deploy_watch *w);

/* Has deployment dep_id (IN_PROGRESS, PRIMARY) stalled, at time now (seconds, the clock the caller
 * waits on)? 1 with oc->v SK_DEPLOY_STALLED and the reason; 0: not, or cannot tell (a failed look
 * is no verdict). Its tasks are looked at when it runs more tasks than were seen healthy (at most
 * six times a period), and always before a stall is called. */
int sk_deploy_stalled(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id, double now,
                      struct sk_deploy_outcome *oc);

/* ELBv2 health of the RUNNING tasks of deployment dep_id in the service's target groups: 1 all
 * healthy (or no target groups), 0 not yet, 2 a target is unhealthy (reason in oc), -1 error. */
int sk_deploy_targets_healthy(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id,
                              struct sk_deploy_outcome *oc, struct sk_err *err);

/* Why a deployment failed: its distinct causes, each with how many stopped tasks said it (0: from
 * the service's events), and its stopped tasks. */
#define SK_DEPLOY_MAX_WHY 6
#define SK_DEPLOY_MAX_SHOWN 2

struct sk_deploy_failure {
    struct sk_explain why[SK_DEPLOY_MAX_WHY];
    int why_tasks[SK_DEPLOY_MAX_WHY];
    int nwhy;
    struct sk_ecs_task *tasks; /* the deployment's stopped tasks */
    size_t ntasks;
    size_t shown[SK_DEPLOY_MAX_SHOWN]; /* the tasks worth showing in detail: failures first */
    int nshown;
};

/* Explain deployment dep_id of svc (the last DescribeServices answer): its stopped tasks
 * (lib/svc/explain.h) and the placement failures in the service's events since it began. If the
 * stopped tasks cannot be listed: -1 with err set, and *f still holds what the events say. */
int sk_deploy_explain(struct sk_deploy_watch *w, const struct sk_ecs_service *svc, const char *dep_id,
                      struct sk_deploy_failure *f, struct sk_err *err);
void sk_deploy_failure_release(struct sk_deploy_failure *f);

/* Did any container of the task run (it has an exit code, or a runtime id)? */
int sk_deploy_task_ran(const struct sk_ecs_task *t);

/* What ecs-roll and ecs-run say about one stopped task, as lines (owned: sk_logs_lines_free):
 * "stopped task ID: STOPCODE: REASON"; each container's exit code and reason; the last limit log
 * lines of each container, read through l from logs[0..nlogs) (its task definition's settings), when
 * any container ran; else that none ran. The lines quote ECS and the workload: escape them before
 * printing (lib/core/text.h). *calls (if not NULL) counts the log reads. */
void sk_deploy_task_lines(struct sk_logs *l, const struct sk_ecs_task *t, const struct sk_ecs_log_config *logs,
                          size_t nlogs, int limit, char ***lines, size_t *n, int *calls);

#endif
