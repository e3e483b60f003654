/*
 * ecs.h - the ECS calls several tools share (ecs-roll, tg-health): a service, its tasks, task IPs.
 * Results are jv values the caller owns (see json.h for the jv rules).
 */
#ifndef SK_ECS_H
#define SK_ECS_H

#include <jv.h>

#include "client.h"
#include "err.h"

/* DescribeServices for one service: *out is the service object. A service that does not exist
 * (failures[].reason MISSING) fails with SK_E_AWS, aws_code "ServiceNotFoundException", and a
 * message naming cluster and service; an unknown cluster gives ECS's ClusterNotFoundException. */
int sk_ecs_describe_service(struct sk_client *c, const char *cluster, const char *service, jv *out, struct sk_err *err);

/* ListTasks (all pages) for a service; desired_status "RUNNING" or "STOPPED"; started_by may be
 * NULL (a deployment id selects that deployment's tasks). *arns is an array of strings. */
int sk_ecs_list_tasks(struct sk_client *c, const char *cluster, const char *service, const char *desired_status,
                      const char *started_by, jv *arns, struct sk_err *err);

/* DescribeTasks for arns (borrowed), in batches of 100: *tasks is an array of task objects. */
int sk_ecs_describe_tasks(struct sk_client *c, const char *cluster, jv arns, jv *tasks, struct sk_err *err);

/* The private IPv4 address of a task (awsvpc ENI attachment, or the container's network
 * interface), borrowed from task; NULL if it has none yet. */
const char *sk_ecs_task_ip(jv task);

/* The short id of a task ARN ("arn:...:task/cluster/abc123" -> "abc123"), borrowed. */
const char *sk_ecs_task_id(const char *arn);

#endif
