/*
 * runtask_test - one-off tasks (lib/svc/runtask.c): the RunTask input made from a service and the
 * options, RunTask's failures[] as an error (with the tasks that did start), StopTask, the verdict on
 * a stopped task, and the lines said about it (lib/svc/deploy.c), over canned answers as ECS gives
 * them (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html, API_Task.html).
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/json.h"
#include "fake_aws.h"
#include "harness.h"
#include "json_fixture.h"
#include "svc/deploy.h"
#include "svc/runtask.h"

static int has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static const char svc_json[] =
    "{\"serviceName\":\"ml-model-service\",\"taskDefinition\":\"arn:aws:ecs:eu-west-1:123456789012:task-definition/"
    "ml:4\",\"launchType\":\"FARGATE\",\"platformVersion\":\"1.4.0\",\"networkConfiguration\":{"
    "\"awsvpcConfiguration\":{\"subnets\":[\"subnet-1\"],\"securityGroups\":[\"sg-1\"],\"assignPublicIp\":"
    "\"DISABLED\"}},\"tags\":[{\"key\":\"team\",\"value\":\"ml\"},{\"key\":\"aws:cloudformation:stack-name\","
    "\"value\":\"x\"}]}";

TEST(input_from_service)
{
    static const char *const cmd[] = { "sh", "-c", "echo 'a b' \"c\"" };
    static const char *const env[] = { "STAGE=eval", "EMPTY=" };
    static const char *const tags[] = { "run=42" };
    struct sk_run_req q;
    struct sk_buf b = SK_BUF_INIT;
    jv in;

    memset(&q, 0, sizeof(q));
    q.cluster = "ml";
    q.task_definition = "ml:4";
    q.started_by = "ecs-run";
    q.container = "app";
    q.command = cmd;
    q.ncommand = 3;
    q.env = env;
    q.nenv = 2;
    q.tags = tags;
    q.ntags = 1;
    q.count = 3;
    q.cpu = "512";
    q.service = h_json(svc_json);
    in = sk_run_input(&q);
    sk_json_dump(in, 0, &b);
    ASSERT(has(b.p, "\"count\":3"));
    ASSERT(has(b.p, "\"launchType\":\"FARGATE\""));
    ASSERT(has(b.p, "\"platformVersion\":\"1.4.0\""));
    ASSERT(has(b.p, "\"subnets\":[\"subnet-1\"]"));
    ASSERT(has(b.p, "\"command\":[\"sh\",\"-c\",\"echo 'a b' \\\"c\\\"\"]")); /* word for word */
    ASSERT(has(b.p, "{\"name\":\"EMPTY\",\"value\":\"\"}"));
    ASSERT(has(b.p, "\"cpu\":\"512\""));
    ASSERT(has(b.p, "{\"key\":\"team\",\"value\":\"ml\"}") && has(b.p, "{\"key\":\"run\",\"value\":\"42\"}"));
    ASSERT(!has(b.p, "aws:cloudformation")); /* AWS's own tags cannot be set */
    ASSERT(strlen(sk_json_str(in, "clientToken")) == 32);
    jv_free(in);
    sk_buf_release(&b);

    /* Our network and launch type instead of the service's; no overrides without command or env. */
    {
        static const char *const subnets[] = { "subnet-9" };
        q.command = NULL;
        q.ncommand = 0;
        q.nenv = 0;
        q.cpu = NULL;
        q.subnets = subnets;
        q.nsubnets = 1;
        q.launch_type = "EC2";
        in = sk_run_input(&q);
        sk_json_dump(in, 0, &b);
        ASSERT(has(b.p, "\"subnets\":[\"subnet-9\"]") && !has(b.p, "subnet-1"));
        ASSERT(has(b.p, "\"launchType\":\"EC2\""));
        ASSERT(!has(b.p, "overrides"));
        jv_free(in);
        sk_buf_release(&b);
    }
    jv_free(q.service);
}

TEST(started_by)
{
    ASSERT(sk_run_started_by_ok("ecs-run"));
    ASSERT(sk_run_started_by_ok("ci/run_42"));
    ASSERT(!sk_run_started_by_ok(""));
    ASSERT(!sk_run_started_by_ok("has space"));
    ASSERT(!sk_run_started_by_ok("0123456789012345678901234567890123456")); /* 37 */
}

static const char task_started[] =
    "{\"tasks\":[{\"taskArn\":\"arn:aws:ecs:eu-west-1:123456789012:task/ml/abc\",\"lastStatus\":\"PROVISIONING\"}],"
    "\"failures\":[{\"arn\":\"arn:aws:ecs:eu-west-1:123456789012:cluster/ml\",\"reason\":\"Capacity is unavailable at "
    "this time. Please try again later or in a different availability zone\"}]}";

TEST(run_failures_are_an_error)
{
    static const struct fake_answer a[] = { { 200, task_started },
                                            { 200, "{\"tasks\":[],\"failures\":[]}" },
                                            { 200, "{\"task\":{}}" } };
    struct fake_aws f;
    struct sk_ecs_task *tasks;
    struct sk_err err;
    size_t n;

    if (fake_aws_init(&f, a, 3) < 0)
        return;
    sk_err_clear(&err);
    ASSERT_ERR(sk_run_task(&f.c, jv_object(), &tasks, &n, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "RunTaskFailure");
    ASSERT(has(err.msg, "started 1 of 2 tasks: Capacity is unavailable"));
    ASSERT(n == 1 && strcmp(tasks[0].arn, "arn:aws:ecs:eu-west-1:123456789012:task/ml/abc") == 0);
    ASSERT(has(f.target[0], "RunTask"));
    sk_ecs_tasks_free(tasks, n);
    /* nothing started and no reason: still no empty success */
    ASSERT_ERR(sk_run_task(&f.c, jv_object(), &tasks, &n, &err), &err, SK_E_AWS);
    ASSERT(n == 0);
    ASSERT_OK(sk_run_stop(&f.c, "ml", "arn:aws:ecs:eu-west-1:123456789012:task/ml/abc", "ecs-run: timed out", &err),
              &err);
    ASSERT(has(f.target[2], "StopTask") && has(f.body[2], "\"reason\":\"ecs-run: timed out\""));
    fake_aws_release(&f);
}

static const char td_json[] =
    "{\"family\":\"ml\",\"containerDefinitions\":[{\"name\":\"log-router\",\"essential\":false},{\"name\":\"app\"},"
    "{\"name\":\"sidecar\",\"essential\":true}]}";

static void task(const char *json, struct sk_ecs_task *t)
{
    jv v = h_json(json);
    sk_ecs_task_parse(v, t);
    jv_free(v);
}

TEST(verdict)
{
    jv td = h_json(td_json);
    struct sk_run_container *defs;
    struct sk_ecs_task t;
    struct sk_explain why;
    size_t n;
    int code;

    sk_run_containers(td, &defs, &n);
    jv_free(td);
    ASSERT(n == 3 && !defs[0].essential && defs[1].essential && defs[2].essential);
    ASSERT_STREQ(sk_run_pick_container(defs, n, NULL), "app");
    ASSERT_STREQ(sk_run_pick_container(defs, n, "sidecar"), "sidecar");
    ASSERT(sk_run_pick_container(defs, n, "nope") == NULL);
    sk_explain_init(&why);

    task("{\"lastStatus\":\"RUNNING\",\"containers\":[{\"name\":\"app\"}]}", &t);
    ASSERT(sk_run_judge(&t, defs, n, &why, &code) == SK_RUN_RUNNING);
    sk_ecs_task_release(&t);

    /* a non-essential container's exit code does not count */
    task("{\"lastStatus\":\"STOPPED\",\"stopCode\":\"EssentialContainerExited\",\"containers\":[{\"name\":\"log-"
         "router\",\"exitCode\":1},{\"name\":\"app\",\"exitCode\":0},{\"name\":\"sidecar\",\"exitCode\":0}]}",
         &t);
    ASSERT(sk_run_judge(&t, defs, n, &why, &code) == SK_RUN_OK);
    sk_ecs_task_release(&t);

    task("{\"taskArn\":\"arn:aws:ecs:eu-west-1:1:task/ml/t1\",\"lastStatus\":\"STOPPED\",\"stopCode\":"
         "\"EssentialContainerExited\",\"stoppedReason\":\"Essential container in task exited\",\"containers\":[{"
         "\"name\":\"app\",\"exitCode\":3},{\"name\":\"sidecar\",\"exitCode\":0}]}",
         &t);
    ASSERT(sk_run_judge(&t, defs, n, &why, &code) == SK_RUN_FAILED);
    ASSERT(code == 3);
    ASSERT(why.kind == SK_EXPLAIN_EXITED && has(why.reason, "container app exited with code 3"));
    {
        struct sk_logs l;
        char **lines;
        size_t k, nl;
        sk_logs_init(&l, NULL, NULL, NULL);
        sk_deploy_task_lines(&l, &t, NULL, 0, 10, &lines, &nl, NULL);
        ASSERT(nl == 3);
        ASSERT_STREQ(lines[0], "stopped task t1: EssentialContainerExited: Essential container in task exited");
        ASSERT_STREQ(lines[1], "  container app exited with code 3");
        for (k = 0; k < nl; k++)
            free(lines[k]);
        free(lines);
        sk_logs_release(&l);
    }
    sk_ecs_task_release(&t);

    /* never ran: failed, no exit code */
    task("{\"lastStatus\":\"STOPPED\",\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":\"CannotPullContainerError: "
         "pull image manifest has been retried 7 time(s): failed to resolve ref example/model:nope: not found\","
         "\"containers\":[{\"name\":\"app\"}]}",
         &t);
    ASSERT(sk_run_judge(&t, defs, n, &why, &code) == SK_RUN_FAILED);
    ASSERT(code == -1);
    sk_ecs_task_release(&t);
    sk_explain_release(&why);
    sk_run_containers_free(defs, n);
}

int main(void)
{
    fake_aws_env();
    RUN(input_from_service);
    RUN(started_by);
    RUN(run_failures_are_an_error);
    RUN(verdict);
    return DONE();
}
