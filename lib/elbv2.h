/*
 * elbv2.h - Elastic Load Balancing v2 (awsQuery, API 2015-12-01): target groups and target health.
 * Results are jv values the caller owns (see json.h for the jv rules), shaped like the AWS JSON
 * APIs return them: XML <member> lists become plain arrays, and Port fields become numbers.
 */
#ifndef SK_ELBV2_H
#define SK_ELBV2_H

#include <stddef.h>

#include <jv.h>

#include "client.h"
#include "err.h"

/* One target of DescribeTargetHealth's Targets list. */
struct sk_elbv2_target {
    const char *id; /* instance id, IP address or Lambda ARN (borrowed) */
    long port;      /* 0: not given */
};

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
