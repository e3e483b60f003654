/*
 * ecs.h - the ECS calls several tools share (ecs-roll, tg-health): a service, its tasks, task IPs.
 * The jv calls give the answers as ECS sent them (see json.h for the jv rules); the sk_ecs_service
 * and sk_ecs_task structs hold, parsed once, the fields the tools decide on (the ECS API
 * reference's data types: Service, Deployment, ServiceEvent, Task, Container,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Types.html).
 */
#ifndef SK_ECS_H
#define SK_ECS_H

#include <limits.h>
#include <stddef.h>

#include <jv.h>

#include "aws/client.h"
#include "core/err.h"

/* DescribeServices for one service: *out is the service object. A service that does not exist
 * (failures[].reason MISSING) fails with SK_E_AWS, aws_code "ServiceNotFoundException", and a
 * message naming cluster and service; an unknown cluster gives ECS's ClusterNotFoundException. */
int sk_ecs_describe_service(struct sk_client *c, const char *cluster, const char *service, jv *out, struct sk_err *err);
/* The same with the service's tags (include TAGS). */
int sk_ecs_describe_service_tags(struct sk_client *c, const char *cluster, const char *service, jv *out,
                                 struct sk_err *err);

/* DescribeServices for up to SK_ECS_DESCRIBE_MAX services at once (the API's limit: "You may
 * specify up to 10 services to describe", API_DescribeServices): *found is an object mapping each
 * service object's serviceName and serviceArn to it; a name ECS reports MISSING is absent. */
#define SK_ECS_DESCRIBE_MAX 10
int sk_ecs_describe_services(struct sk_client *c, const char *cluster, const char *const *services, size_t n, jv *found,
                             struct sk_err *err);

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

/* ---- the answers as C structs: strings owned (NULL when absent or not a string) ---------------- */

#define SK_ECS_ABSENT LONG_MIN /* a count the answer did not give */

struct sk_ecs_deployment {
    char *id, *status, *rollout_state, *rollout_state_reason, *task_definition;
    long desired_count, pending_count, running_count, failed_tasks; /* SK_ECS_ABSENT when absent */
    double created_at, updated_at;                                  /* epoch seconds */
    int has_created_at;
};

struct sk_ecs_event {
    char *id, *message;
    double created_at;
    int has_created_at;
};

struct sk_ecs_load_balancer {
    char *target_group_arn, *container_name;
    long container_port; /* 0 when absent */
};

struct sk_ecs_service {
    char *name, *arn, *cluster_arn, *status, *task_definition;
    char *deployment_controller;                      /* deploymentController.type, NULL when absent */
    long desired_count, running_count, pending_count; /* SK_ECS_ABSENT when absent */
    double grace_period_s;                            /* healthCheckGracePeriodSeconds, 0 when absent */
    double maximum_percent;                           /* deploymentConfiguration.maximumPercent, 200 when absent */
    char *strategy; /* deploymentConfiguration.strategy: ROLLING, BLUE_GREEN, LINEAR, CANARY; NULL when absent */
    struct sk_ecs_deployment *deployments; /* as ECS lists them */
    size_t ndeployments;
    struct sk_ecs_event *events; /* newest first, as ECS lists them */
    size_t nevents;
    struct sk_ecs_load_balancer *load_balancers;
    size_t nload_balancers;
};

struct sk_ecs_container {
    char *name, *reason, *image, *runtime_id;
    int has_exit_code;
    double exit_code; /* as ECS gave it, when has_exit_code */
};

struct sk_ecs_task {
    char *arn, *last_status, *desired_status, *health_status, *stop_code, *stopped_reason, *started_by;
    char *task_definition_arn;
    char *ip; /* sk_ecs_task_ip of the answer */
    double created_at, started_at, stopped_at;
    int has_created_at, has_started_at, has_stopped_at;
    struct sk_ecs_container *containers;
    size_t ncontainers;
};

/* The awslogs settings of one container definition of a task definition (logConfiguration,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html). */
struct sk_ecs_log_config {
    char *container, *driver, *group, *stream_prefix, *region; /* NULL when absent */
};

/* Parse a DescribeServices service object (borrowed) into *out (released by the caller, also on
 * failure). Not an object: SK_E_PARSE. */
int sk_ecs_service_parse(jv svc, struct sk_ecs_service *out, struct sk_err *err);
void sk_ecs_service_release(struct sk_ecs_service *s);
/* A DescribeTasks task object (borrowed) into *out. */
void sk_ecs_task_parse(jv task, struct sk_ecs_task *out);
void sk_ecs_task_release(struct sk_ecs_task *t);
void sk_ecs_tasks_free(struct sk_ecs_task *tasks, size_t n);
/* The containerDefinitions' log settings of a task definition (borrowed): one per definition that
 * has a name, in their order. *out owned (sk_ecs_log_configs_free). */
void sk_ecs_taskdef_logs(jv td, struct sk_ecs_log_config **out, size_t *n);
void sk_ecs_log_configs_free(struct sk_ecs_log_config *l, size_t n);

/* DescribeServices for one service, parsed; *raw (when not NULL) gets the service object as ECS sent
 * it (for output). Errors as sk_ecs_describe_service. */
int sk_ecs_get_service(struct sk_client *c, const char *cluster, const char *service, struct sk_ecs_service *out,
                       jv *raw, struct sk_err *err);

/* The deployment with id (or, id NULL, the first with status), borrowed from s; NULL if none. */
const struct sk_ecs_deployment *sk_ecs_find_deployment(const struct sk_ecs_service *s, const char *id,
                                                       const char *status);

/* The tasks of service started by deployment started_by, of desired status desired_status, parsed:
 * ListTasks (all pages) and DescribeTasks in batches of 100. *calls (if not NULL) is incremented
 * by one for the listing and one per DescribeTasks batch. */
int sk_ecs_deployment_tasks(struct sk_client *c, const char *cluster, const char *service, const char *desired_status,
                            const char *started_by, struct sk_ecs_task **tasks, size_t *n, int *calls,
                            struct sk_err *err);

/* ---- task definitions and the service update ------------------------------------------------------- */

/* A task definition as a person keeps it (text[0..len), JSON or YAML, from name): the definition
 * alone, or `aws ecs describe-task-definition` output ({"taskDefinition": {...}, "tags": [...]}).
 * *td gets the definition, *tags its tags (jv_invalid() when none). Bad input: SK_E_USAGE (or the
 * YAML reader's error) naming name. */
int sk_ecs_taskdef_parse(const char *text, size_t len, const char *name, jv *td, jv *tags, struct sk_err *err);

/* DescribeTaskDefinition of arn with its tags: *td the definition, *tags its tags. */
int sk_ecs_describe_task_def(struct sk_client *c, const char *arn, jv *td, jv *tags, struct sk_err *err);

/* The RegisterTaskDefinition input made of td and tags (consumed): the output-only fields removed,
 * every other field kept as it is, the tags carried over, task-level cpu and memory as strings, and
 * images[0..nimages) ("[CONTAINER=]IMAGE") put in their containers (nimages 0: none). A definition
 * without family or containers, an ambiguous or unknown container name: SK_E_USAGE. */
int sk_ecs_taskdef_with_images(jv td, jv tags, const char *const *images, int nimages, jv *out, struct sk_err *err);

/* RegisterTaskDefinition of in (borrowed): *arn (owned) the new revision's ARN, *logs (owned, n of
 * them; logs may be NULL) its containers' log settings. */
int sk_ecs_register_task_def(struct sk_client *c, jv in, char **arn, struct sk_ecs_log_config **logs, size_t *nlogs,
                             struct sk_err *err);

/* UpdateService to task definition td_arn (and desired_count, unless negative): the id of the new
 * deployment, the PRIMARY one of the answer, into dep_id (dep_sz bytes). */
int sk_ecs_update_service(struct sk_client *c, const char *cluster, const char *service, const char *td_arn,
                          long desired_count, char *dep_id, size_t dep_sz, struct sk_err *err);

/* ListTaskDefinitions of family (exactly that family; ECS pages of up to 100, newest first) with
 * status ("ACTIVE", "INACTIVE"): *arns (owned) the revisions' ARNs. */
int sk_ecs_list_task_defs(struct sk_client *c, const char *family, const char *status, jv *arns, struct sk_err *err);

/* DeregisterTaskDefinition of arn (FAMILY:REVISION or its ARN): it becomes INACTIVE. */
int sk_ecs_deregister_task_def(struct sk_client *c, const char *arn, struct sk_err *err);

/* The revision number of a task definition ARN or FAMILY:REVISION; -1 when it has none. */
long sk_ecs_td_revision(const char *arn);

/* The family of a task definition ARN or FAMILY[:REVISION] into out (n bytes); "" when it has none. */
void sk_ecs_td_family(const char *arn, char *out, size_t n);

/* "arn:aws:ecs:...:task-definition/family:12" -> "family:12"; NULL gives "?" (borrowed). */
const char *sk_ecs_arn_name(const char *arn);

#endif
