/*
 * sdeploy.h - ECS service deployments, the API ECS gives every deployment since 2024 and the only
 * one that shows blue/green, linear and canary deployments as they go: ListServiceDeployments,
 * DescribeServiceDeployments, StopServiceDeployment, DescribeServiceRevisions
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html), the
 * lifecycle stages (lifecycleStage), the traffic split (ServiceRevisionSummary's
 * requested*TrafficWeight), the hooks, the alarms; and the rules ecs-roll decides by: the verdict
 * on one, whether it has passed a stage, which revision a rollback goes back to.
 */
#ifndef SK_SDEPLOY_H
#define SK_SDEPLOY_H

#include <stddef.h>

#include "aws/client.h"
#include "core/err.h"
#include "svc/deploy.h"

struct sk_sd_hook {
    char *id, *type, *target, *status; /* hookId, targetType, targetArn, status */
};

struct sk_sdeploy {
    char *arn, *status, *status_reason, *stage;
    char *strategy;                       /* deploymentConfiguration.strategy; NULL: ROLLING */
    char *target_rev;                     /* targetServiceRevision.arn */
    double prod_weight, test_weight;      /* the target revision's requested weights; -1 absent */
    long bake_minutes;                    /* deploymentConfiguration.bakeTimeInMinutes; -1 absent */
    char *rollback_reason, *rollback_rev; /* rollback.reason, rollback.serviceRevisionArn */
    char *alarms_status;                  /* alarms.status: MONITORING, TRIGGERED, ... */
    char **triggered;                     /* alarms.triggeredAlarmNames */
    size_t ntriggered;
    char *cb_status;                /* deploymentCircuitBreaker.status */
    long cb_failures, cb_threshold; /* -1 absent */
    struct sk_sd_hook *hooks;       /* lifecycleHookDetails */
    size_t nhooks;
};

/* One DescribeServiceDeployments answer's element into *out (owned: sk_sd_release). */
void sk_sd_parse(jv sd, struct sk_sdeploy *out);
void sk_sd_release(struct sk_sdeploy *sd);

/* DescribeServiceDeployments of one ARN; a failure MISSING is an SK_E_AWS error naming it. */
int sk_sd_describe(struct sk_client *c, const char *arn, struct sk_sdeploy *out, struct sk_err *err);

/* ListServiceDeployments of the service, newest first (first page: up to 20), each
 * {serviceDeploymentArn, status, targetServiceRevisionArn, ...} as ECS lists them; status NULL for
 * all, else only those with that status. *out owned. */
int sk_sd_list(struct sk_client *c, const char *cluster, const char *service, const char *status, jv *out,
               struct sk_err *err);

/* The service deployment of the deployment dep_id (the one UpdateService started): its target
 * revision's ARN ends in dep_id's number (ecs-svc/NUMBER). *arn owned; 0 found, 1 not (yet). */
int sk_sd_find(struct sk_client *c, const char *cluster, const char *service, const char *dep_id, char **arn,
               struct sk_err *err);

/* The service deployment in progress (PENDING or IN_PROGRESS), newest first; 1 when there is none. */
int sk_sd_in_progress(struct sk_client *c, const char *cluster, const char *service, char **arn, struct sk_err *err);

/* StopServiceDeployment with stopType ROLLBACK. */
int sk_sd_stop(struct sk_client *c, const char *arn, struct sk_err *err);

/* The task definition of a service revision (DescribeServiceRevisions). *td owned. */
int sk_sd_revision_td(struct sk_client *c, const char *rev_arn, char **td, struct sk_err *err);

/* --rollback's target: the task definition of the newest SUCCESSFUL service deployment whose
 * revision runs another task definition than current (what runs now) and is not INACTIVE (ECS
 * updates no service to a deregistered revision). *td and *sd_arn owned; *skipped (if not NULL;
 * owned) the newest INACTIVE one passed over, or NULL. 1 when the history (the last 20
 * deployments) has none. */
int sk_sd_rollback_target(struct sk_client *c, const char *cluster, const char *service, const char *current, char **td,
                          char **sd_arn, char **skipped, struct sk_err *err);

/* The alarm's state reason (CloudWatch DescribeAlarms), or NULL; owned. */
char *sk_sd_alarm_reason(struct sk_client *c, const char *alarm, struct sk_err *err);

/* ---- rules ---- */

/* The position of a lifecycle stage (ServiceDeploymentLifecycleStage) in ECS's order, -1 unknown. */
int sk_sd_stage_index(const char *stage);
/* The stage at position i, NULL past the end. */
const char *sk_sd_stage_name(int i);

/* Is status one ECS leaves a service deployment in (SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL,
 * ROLLBACK_FAILED)? */
int sk_sd_terminal(const char *status);

/* The verdict on a service deployment: DONE for SUCCESSFUL; ROLLED_BACK for ROLLBACK_SUCCESSFUL
 * (oc->reason: the rollback's reason, naming the triggered alarms); REPLACED for one a newer one
 * stopped; FAILED for STOPPED and ROLLBACK_FAILED; else WAIT. */
enum sk_deploy_verdict sk_sd_judge(const struct sk_sdeploy *sd, struct sk_deploy_outcome *oc);

/* Has the deployment passed stage (is it in a later stage, or SUCCESSFUL)? */
int sk_sd_passed(const struct sk_sdeploy *sd, const char *stage);

#endif
