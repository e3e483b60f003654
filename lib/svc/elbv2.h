/*
 * elbv2.h - Elastic Load Balancing v2 (awsQuery, API 2015-12-01): target groups and target health.
 * The _get calls fill C structs with the fields tools decide on; the describe calls return the
 * whole answer as jv values the caller owns (see json.h for the jv rules), shaped like the AWS JSON
 * APIs return them: XML <member> lists become plain arrays, and Port fields become numbers.
 */
#ifndef SK_ELBV2_H
#define SK_ELBV2_H

#include <stddef.h>

#include <jv.h>

#include "aws/client.h"
#include "core/buf.h"
#include "core/err.h"

/* One target of DescribeTargetHealth's Targets list. */
struct sk_elbv2_target {
    const char *id; /* instance id, IP address or Lambda ARN (borrowed) */
    long port;      /* 0: not given */
};

/* A target group, as DescribeTargetGroups describes it
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroup.html).
 * Strings are owned, NULL when absent; numbers are 0 when absent. */
struct sk_elbv2_target_group {
    char *arn, *name;
    char *target_type; /* instance, ip, lambda, alb */
    char *protocol, *vpc_id;
    long port;
    long hc_interval_s, hc_timeout_s, healthy_threshold, unhealthy_threshold;
    char *hc_protocol, *hc_port, *hc_path; /* HealthCheckPort: a number, or "traffic-port" */
    char *matcher;                         /* Matcher.HttpCode (or GrpcCode): "200", "200-299" */
    int hc_enabled;                        /* HealthCheckEnabled: 1, 0, or -1 when not said */
    long dereg_delay_s;                    /* deregistration_delay.timeout_seconds; -1: not read */
    char **lb_arns;                        /* LoadBalancerArns: the load balancers that route to it */
    size_t nlb_arns;
};

/* One TargetHealthDescription
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealthDescription.html).
 * Strings are owned, NULL when absent. */
struct sk_elbv2_target_health {
    char *id;                           /* Target.Id */
    long port;                          /* Target.Port, 0: not given */
    char *zone;                         /* Target.AvailabilityZone */
    char *state, *reason, *description; /* TargetHealth */
};

struct sk_elbv2_health {
    struct sk_elbv2_target_health *v;
    size_t n;
};

/* sk_elbv2_describe_target_group as a struct (*out filled, release it). */
int sk_elbv2_target_group_get(struct sk_client *c, const char *name_or_arn, struct sk_elbv2_target_group *out,
                              struct sk_err *err);
void sk_elbv2_target_group_release(struct sk_elbv2_target_group *tg);

/* DescribeTargetGroupAttributes of tg->arn: tg->dereg_delay_s (-1 until this succeeds). */
int sk_elbv2_target_group_attrs(struct sk_client *c, struct sk_elbv2_target_group *tg, struct sk_err *err);

/* Why a target is in a state with reason code reason, tied to tg's health-check settings, and what
 * to change: appended to out as one sentence (nothing for a code without a diagnosis). The codes:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html. */
void sk_elbv2_diagnose(const struct sk_elbv2_target_group *tg, const char *reason, struct sk_buf *out);

/* The least time a new target takes to turn healthy: interval x healthy threshold (0: unknown). */
long sk_elbv2_earliest_healthy_s(const struct sk_elbv2_target_group *tg);

/* Notes on settings that make deploys slow or fragile, one per line appended to out: a
 * deregistration delay over 60 s (each deploy waits that long for old targets to drain), a first
 * healthy verdict 60 s or more away, and (grace_s >= 0: an ECS service's healthCheckGracePeriodSeconds)
 * no grace period while checks could fail a slow-starting task, such as one loading a model. */
void sk_elbv2_notes(const struct sk_elbv2_target_group *tg, long grace_s, struct sk_buf *out);

/* sk_elbv2_describe_target_health as structs, in the answer's order (*out filled, release it);
 * descriptions that are not objects are skipped. */
int sk_elbv2_target_health_get(struct sk_client *c, const char *tg_arn, const struct sk_elbv2_target *targets, size_t n,
                               struct sk_elbv2_health *out, struct sk_err *err);
void sk_elbv2_health_release(struct sk_elbv2_health *h);

/* The whole answers, as jv (ecs-roll reads these; new code reads the structs above). */

/* DescribeTargetGroups for one target group, by ARN (name_or_arn starts with "arn:") or by name.
 * *out is the TargetGroup object (TargetGroupArn, TargetGroupName, TargetType, Port, VpcId, ...).
 * Not found fails with SK_E_AWS, aws_code "TargetGroupNotFound" and a message naming it. */
int sk_elbv2_describe_target_group(struct sk_client *c, const char *name_or_arn, jv *out, struct sk_err *err);

/* DescribeTargetHealth for tg_arn; targets (n of them, borrowed) restricts the call to those targets,
 * NULL/0 asks for every registered target. *out is an array of TargetHealthDescription objects:
 * {"Target":{"Id","Port","AvailabilityZone"},"HealthCheckPort","TargetHealth":{"State","Reason",
 * "Description"}}, with Target.Port a number; absent fields stay absent. There is no pagination.
 * Errors are ELBv2's: TargetGroupNotFound and InvalidTarget (SK_E_AWS, aws_code set). */
int sk_elbv2_describe_target_health(struct sk_client *c, const char *tg_arn, const struct sk_elbv2_target *targets,
                                    size_t n, jv *out, struct sk_err *err);

#endif
