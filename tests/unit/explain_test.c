/*
 * explain_test - why a task stopped (lib/svc/explain.c), from DescribeTasks answers and service events
 * as ECS gives them: each failure kind of the ECS Developer Guide's stopped-task pages, in the
 * words the Fargate agent uses today and in older ones.
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "svc/explain.h"
#include "harness.h"
#include "json_fixture.h"
#include "core/json.h"

/* Explain the task JSON; check kind, failure, reason and (when given) subject and container. */
static void check_task(const char *json, enum sk_explain_kind kind, int failure, const char *reason,
                       const char *subject, const char *container)
{
    jv task = h_json(json);
    struct sk_ecs_task t;
    struct sk_explain e;

    sk_ecs_task_parse(task, &t);
    sk_explain_init(&e);
    sk_explain_task(&t, &e);
    if (e.kind != kind)
        H_FAIL("kind %s, want %s (reason: %s)", sk_explain_kind_name(e.kind), sk_explain_kind_name(kind), e.reason);
    ASSERT(e.failure == failure);
    if (!e.reason || strcmp(e.reason, reason) != 0)
        H_FAIL("reason '%s', want '%s'", e.reason ? e.reason : "(null)", reason);
    if (subject && (!e.subject || strcmp(e.subject, subject) != 0))
        H_FAIL("subject '%s', want '%s'", e.subject ? e.subject : "(null)", subject);
    if (container && (!e.container || strcmp(e.container, container) != 0))
        H_FAIL("container '%s', want '%s'", e.container ? e.container : "(null)", container);
    ASSERT(e.failure == 0 || e.kind == SK_EXPLAIN_UNKNOWN || e.hint != NULL);
    sk_explain_release(&e);
    ASSERT(e.reason == NULL && e.kind == SK_EXPLAIN_NONE);
    sk_ecs_task_release(&t);
    jv_free(task);
}

static void check_message(const char *msg, enum sk_explain_kind kind, const char *reason)
{
    struct sk_explain e;

    sk_explain_init(&e);
    sk_explain_message(msg, &e);
    if (e.kind != kind)
        H_FAIL("kind %s, want %s (reason: %s)", sk_explain_kind_name(e.kind), sk_explain_kind_name(kind), e.reason);
    if (reason && (!e.reason || strcmp(e.reason, reason) != 0))
        H_FAIL("reason '%s', want '%s'", e.reason ? e.reason : "(null)", reason);
    sk_explain_release(&e);
}

TEST(image_not_found)
{
    /* Fargate today: the task's and the container's reason, no exit code, no log stream. */
    check_task(
        "{\"lastStatus\":\"STOPPED\",\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":"
        "\"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        "111122223333.dkr.ecr.us-east-1.amazonaws.com/model:v9: 111122223333.dkr.ecr.us-east-1.amazonaws.com/"
        "model:v9: not found\",\"containers\":[{\"name\":\"app\",\"image\":\"111122223333.dkr.ecr.us-east-1."
        "amazonaws.com/model:v9\",\"lastStatus\":\"STOPPED\",\"reason\":\"CannotPullContainerError: pull image "
        "manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/"
        "model:v9: 111122223333.dkr.ecr.us-east-1.amazonaws.com/model:v9: not found\"}]}",
        SK_EXPLAIN_IMAGE_NOT_FOUND, 1, "image not found: 111122223333.dkr.ecr.us-east-1.amazonaws.com/model:v9",
        "111122223333.dkr.ecr.us-east-1.amazonaws.com/model:v9", "app");
    /* The image as the task definition names it, not as the runtime resolved it. */
    check_task("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"CannotPullContainerError: pull image manifest "
               "has been retried 1 time(s): failed to resolve ref 127.0.0.1:5000/ml-model-service:no-such-tag: "
               "127.0.0.1:5000/ml-model-service:no-such-tag: not found\",\"containers\":[{\"name\":\"sidecar\","
               "\"image\":\"envoy:v1\",\"lastStatus\":\"STOPPED\"},{\"name\":\"app\",\"image\":\"ml-model-service:"
               "no-such-tag\",\"reason\":\"CannotPullContainerError: pull image manifest has been retried 1 time(s): "
               "failed to resolve ref 127.0.0.1:5000/ml-model-service:no-such-tag: 127.0.0.1:5000/ml-model-service:"
               "no-such-tag: not found\"}]}",
               SK_EXPLAIN_IMAGE_NOT_FOUND, 1, "image not found: ml-model-service:no-such-tag",
               "ml-model-service:no-such-tag", "app");
    /* The older wordings (task_cannot_pull_image.html; Docker Hub; containerd's quoted ref). */
    check_message("CannotPullContainerError: API error (404): repository 111122223333.dkr.ecr.us-east-1.amazonaws.com/"
                  "repo/image not found",
                  SK_EXPLAIN_IMAGE_NOT_FOUND,
                  "image not found: 111122223333.dkr.ecr.us-east-1.amazonaws.com/repo/image");
    check_message("CannotPullContainerError: inspect image has been retried 1 time(s): failed to resolve ref "
                  "\"docker.io/library/ngin:latest\": pull access denied, repository does not exist or may require "
                  "authorization: server message: insufficient_scope: authorization failed",
                  SK_EXPLAIN_IMAGE_NOT_FOUND,
                  "image not found: docker.io/library/ngin:latest (or it is private: pull access denied)");
}

TEST(pull_denied_and_ecr_auth_denied)
{
    check_task("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"CannotPullContainerError: pull image manifest "
               "has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com/"
               "backend:latest: pulling from host 111122223333.dkr.ecr.us-east-1.amazonaws.com failed with status "
               "code [manifests latest]: 403 Forbidden\",\"containers\":[{\"name\":\"app\",\"image\":\"111122223333."
               "dkr.ecr.us-east-1.amazonaws.com/backend:latest\",\"reason\":\"CannotPullContainerError: pull image "
               "manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.us-east-1.amazonaws.com"
               "/backend:latest: pulling from host 111122223333.dkr.ecr.us-east-1.amazonaws.com failed with status "
               "code [manifests latest]: 403 Forbidden\"}]}",
               SK_EXPLAIN_PULL_DENIED, 1,
               "could not pull 111122223333.dkr.ecr.us-east-1.amazonaws.com/backend:latest: the execution role may not "
               "read ECR (AccessDenied)",
               NULL, "app");
    check_task("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"ResourceInitializationError: unable to pull "
               "secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: "
               "service call has been retried 3 time(s): AccessDeniedException: User: arn:aws:sts::873001202713:"
               "assumed-role/ExecRole/c83b2ce0 is not authorized to perform: ecr:GetAuthorizationToken on resource: * "
               "because no identity-based policy allows the ecr:GetAuthorizationToken action status code: 400, "
               "request id: 66372395\",\"containers\":[{\"name\":\"app\",\"lastStatus\":\"STOPPED\"}]}",
               SK_EXPLAIN_ECR_AUTH_DENIED, 1,
               "could not get an ECR authorization token: the execution role may not call ecr:GetAuthorizationToken "
               "(AccessDenied)",
               NULL, NULL);
}

TEST(no_route)
{
    const char *route = "no route to the registry from the task's subnets (private subnets need a NAT gateway or VPC "
                        "endpoints)";

    /* Registry auth on Fargate 1.4.0, as a task's reason and as a service event's. */
    check_task("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"ResourceInitializationError: unable to pull "
               "secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection "
               "issue between the task and Amazon ECR. Check your task network configuration. operation error ECR: "
               "GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, "
               "RequestID: , request send failed, Post \\\"https://api.ecr.eu-west-2.amazonaws.com/\\\": dial tcp "
               "172.16.54.241:443: i/o timeout\"}",
               SK_EXPLAIN_NO_ROUTE, 1, route, NULL, NULL);
    check_message(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: "
        "send request failed caused by: Post https://api.ecr.us-east-1.amazonaws.com/: dial tcp 10.0.0.1:443: "
        "i/o timeout",
        SK_EXPLAIN_NO_ROUTE, route);
    /* An image from another registry, and the older wording. */
    check_task(
        "{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"CannotPullContainerError: pull image manifest "
        "has been retried 5 time(s): failed to resolve ref docker.io/tryretool/backend:2.110.5: failed to do "
        "request: Head \\\"https://registry-1.docker.io/v2/tryretool/backend/manifests/2.110.5\\\": dial tcp "
        "34.205.13.154:443: i/o timeout\",\"containers\":[{\"name\":\"web\",\"image\":\"tryretool/backend:"
        "2.110.5\",\"reason\":\"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed "
        "to resolve ref docker.io/tryretool/backend:2.110.5: failed to do request: i/o timeout\"}]}",
        SK_EXPLAIN_NO_ROUTE, 1, route, "tryretool/backend:2.110.5", "web");
    check_message("CannotPullContainerError: API error (500): Get https://111122223333.dkr.ecr.us-east-1.amazonaws.com/"
                  "v2/: net/http: request canceled while waiting for connection",
                  SK_EXPLAIN_NO_ROUTE, route);
    /* Secrets. */
    check_message(
        "ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secrets "
        "from ssm: The task cannot pull secrets from AWS Systems Manager. There is a connection issue between "
        "the task and AWS Systems Manager Parameter Store. Check your task network configuration. "
        "RequestCanceled: request context canceled caused by: context deadline exceeded",
        SK_EXPLAIN_NO_ROUTE,
        "no route to Systems Manager from the task's subnets (private subnets need a NAT gateway or an ssm "
        "VPC endpoint)");
    check_message(
        "ResourceInitializationError: unable to pull secrets or registry auth: unable to retrieve secret from "
        "asm: There is a connection issue between the task and AWS Secrets Manager. Check your task network "
        "configuration. failed to fetch secret arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf "
        "from secrets manager: operation error Secrets Manager: GetSecretValue, https response error "
        "StatusCode: 0, RequestID: , canceled, context deadline exceeded",
        SK_EXPLAIN_NO_ROUTE,
        "no route to Secrets Manager from the task's subnets (private subnets need a NAT gateway or a "
        "secretsmanager VPC endpoint)");
}

TEST(secrets)
{
    const char *arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ml-cicd/database-AbCdEf";
    char json[2048], want[256];

    snprintf(json, sizeof(json),
             "{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"ResourceInitializationError: unable to pull "
             "secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: "
             "service call has been retried 1 time(s): failed to fetch secret %s from secrets manager: "
             "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/ecsTaskExecutionRole/26e17af9 is not "
             "authorized to perform: secretsmanager:GetSecretValue on resource: %s because no identity-based policy "
             "allows the secretsmanager:GetSecretValue action status code: 400, request id: 1\"}",
             arn, arn);
    snprintf(want, sizeof(want), "could not read secret %s: AccessDenied", arn);
    check_task(json, SK_EXPLAIN_SECRET_DENIED, 1, want, arn, NULL);

    snprintf(json, sizeof(json),
             "{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"ResourceInitializationError: unable to pull "
             "secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: "
             "service call has been retried 1 time(s): failed to fetch secret %s from secrets manager: "
             "ResourceNotFoundException: Secrets Manager can't find the specified secret. status code: 400, request "
             "id: 2\"}",
             arn);
    snprintf(want, sizeof(want), "secret %s not found", arn);
    check_task(json, SK_EXPLAIN_SECRET_NOT_FOUND, 1, want, arn, NULL);

    check_task("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"ResourceInitializationError: unable to pull "
               "secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: "
               "service call has been retried 1 time(s): invalid ssm parameters: /ml-cicd/mlflow/backend-store-uri\"}",
               SK_EXPLAIN_SECRET_NOT_FOUND, 1, "secret /ml-cicd/mlflow/backend-store-uri not found (SSM parameter)",
               "/ml-cicd/mlflow/backend-store-uri", NULL);
    check_task(
        "{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"ResourceInitializationError: unable to pull "
        "secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: "
        "service call has been retried 1 time(s): AccessDeniedException: User: arn:aws:sts::111122223333:"
        "assumed-role/exec/abc is not authorized to perform: ssm:GetParameters on resource: arn:aws:ssm:us-east-1:"
        "111122223333:parameter/ml-cicd/x because no identity-based policy allows the ssm:GetParameters action "
        "status code: 400, request id: 3\"}",
        SK_EXPLAIN_SECRET_DENIED, 1,
        "could not read secret arn:aws:ssm:us-east-1:111122223333:parameter/ml-cicd/x: AccessDenied",
        "arn:aws:ssm:us-east-1:111122223333:parameter/ml-cicd/x", NULL);
    check_message("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                  "failed: unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved "
                  "secret from Secrets Manager did not contain json key MY_SECRET",
                  SK_EXPLAIN_SECRET_KEY, "a secret has no JSON key MY_SECRET");
}

TEST(elb_health_exit_oom_and_others)
{
    check_task("{\"stopCode\":\"ServiceSchedulerInitiated\",\"stoppedReason\":\"Task failed ELB health checks in "
               "(target-group arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/ml-model-service/"
               "6d0ecf831eec9f09)\",\"containers\":[{\"name\":\"app\",\"exitCode\":143}]}",
               SK_EXPLAIN_ELB_HEALTH, 1, "failed ELB health checks in target group ml-model-service: see tg-health",
               "ml-model-service", NULL);
    check_task("{\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":\"Essential container in task exited\","
               "\"containers\":[{\"name\":\"log-router\",\"exitCode\":0},{\"name\":\"app\",\"exitCode\":1,"
               "\"reason\":\"Essential container in task exited\"}]}",
               SK_EXPLAIN_EXITED, 1, "container app exited with code 1", NULL, "app");
    check_task("{\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":\"Essential container in task exited\","
               "\"containers\":[{\"name\":\"app\",\"exitCode\":137,\"reason\":\"OutOfMemoryError: Container killed due "
               "to memory usage\"}]}",
               SK_EXPLAIN_OOM, 1,
               "container app ran out of memory: OutOfMemoryError: Container killed due to memory usage", NULL, "app");
    check_task("{\"stopCode\":\"ServiceSchedulerInitiated\",\"stoppedReason\":\"Scaling activity initiated by "
               "(deployment ecs-svc/1234567890123456789)\",\"containers\":[{\"name\":\"app\",\"exitCode\":0}]}",
               SK_EXPLAIN_NONE, 0,
               "stopped by ECS: Scaling activity initiated by (deployment ecs-svc/1234567890123456789)", NULL, NULL);
    check_task("{\"stopCode\":\"UserInitiated\",\"stoppedReason\":\"Task stopped by user\"}", SK_EXPLAIN_USER, 0,
               "stopped by a StopTask call: Task stopped by user", NULL, NULL);
    check_task("{\"stopCode\":\"SpotInterruption\",\"stoppedReason\":\"Your Spot Task was interrupted.\"}",
               SK_EXPLAIN_INTERRUPTED, 0, "SpotInterruption: Your Spot Task was interrupted.", NULL, NULL);
    check_task("{\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"CannotCreateContainerError: Error response "
               "from daemon: devmapper: Thin Pool has 0 free data blocks\"}",
               SK_EXPLAIN_UNKNOWN, 1,
               "TaskFailedToStart: CannotCreateContainerError: Error response from daemon: devmapper: Thin Pool has 0 "
               "free data blocks",
               NULL, NULL);
    check_task("{}", SK_EXPLAIN_UNKNOWN, 0, "stopped: no reason given", NULL, NULL);
    ASSERT(strcmp(sk_explain_kind_name(SK_EXPLAIN_NO_CAPACITY), "no-capacity") == 0);
    ASSERT(strcmp(sk_explain_kind_name((enum sk_explain_kind)999), "unknown") == 0);
}

TEST(service_events)
{
    /* Newest first, as DescribeServices gives them; duplicates and older events left out. */
    jv doc = h_json(
        "{\"events\":[{\"id\":\"5\",\"createdAt\":1700000050,\"message\":\"(service web) was unable to place a task. "
        "Reason: "
        "Capacity is unavailable at this time. Please try again later or in a different availability zone.\"},"
        "{\"id\":\"4\",\"createdAt\":1700000040,\"message\":\"(service web) has started 1 tasks: (task abc).\"},"
        "{\"id\":\"3\",\"createdAt\":1700000030,\"message\":\"(service web) was unable to place a task. Reason: "
        "Capacity is unavailable at this time. Please try again later or in a different availability zone.\"},"
        "{\"id\":\"2\",\"createdAt\":1700000020,\"message\":\"(service web) was unable to place a task because no "
        "container instance met all of its requirements. Reason: No Container Instances were found in your cluster. "
        "For more information, see the Troubleshooting section.\"},"
        "{\"id\":\"1\",\"createdAt\":1600000000,\"message\":\"service web was unable to place a task. Reason: "
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: "
        "/a\"}]}");
    struct sk_ecs_service svc;
    struct sk_explain out[4];
    struct sk_err err;
    size_t n, i;

    sk_err_clear(&err);
    ASSERT(sk_ecs_service_parse(doc, &svc, &err) == 0 && svc.nevents == 5);
    n = sk_explain_events(svc.events, svc.nevents, 1700000000, out, 4);
    ASSERT(n == 2);
    if (n == 2) {
        ASSERT(out[0].kind == SK_EXPLAIN_NO_CAPACITY);
        ASSERT_STREQ(out[0].reason, "no capacity for FARGATE in the service's subnets");
        ASSERT(out[1].kind == SK_EXPLAIN_PLACEMENT);
        ASSERT_STREQ(out[1].reason, "unable to place: no container instance met all of its requirements. Reason: No "
                                    "Container Instances were found in your cluster");
    }
    for (i = 0; i < n; i++)
        sk_explain_release(&out[i]);
    n = sk_explain_events(svc.events, svc.nevents, 0, out, 4);
    ASSERT(n == 3 && out[2].kind == SK_EXPLAIN_SECRET_NOT_FOUND);
    for (i = 0; i < n; i++)
        sk_explain_release(&out[i]);
    ASSERT(sk_explain_events(svc.events, svc.nevents, 1700000000, out, 1) == 1);
    sk_explain_release(&out[0]);
    ASSERT(sk_explain_events(NULL, 0, 0, out, 4) == 0);
    sk_ecs_service_release(&svc);
    jv_free(doc);
}

TEST(hostile_text_kept_whole)
{
    /* The reason quotes what AWS said; escaping is the printer's job (lib/core/text.h), nothing is lost. */
    check_message("CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
                  "x/\x1b]0;pwned\x07:v1: x/\x1b]0;pwned\x07:v1: not found",
                  SK_EXPLAIN_IMAGE_NOT_FOUND, "image not found: x/\x1b]0;pwned\x07:v1");
    check_message(NULL, SK_EXPLAIN_UNKNOWN, "no reason given");
    check_message("something new", SK_EXPLAIN_UNKNOWN, "something new");
    check_message("Task failed ELB health checks in (target-group no-arn", SK_EXPLAIN_ELB_HEALTH,
                  "failed ELB health checks in target group no-arn: see tg-health");
}

int main(void)
{
    RUN(image_not_found);
    RUN(pull_denied_and_ecr_auth_denied);
    RUN(no_route);
    RUN(secrets);
    RUN(elb_health_exit_oom_and_others);
    RUN(service_events);
    RUN(hostile_text_kept_whole);
    return DONE();
}
