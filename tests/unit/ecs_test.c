/*
 * ecs_test - the ECS service module (lib/svc/ecs.c) parsing DescribeServices and DescribeTasks answers
 * into its structs, the deployment verdict and the failure explanation (lib/svc/deploy.c), and the
 * CloudWatch Logs paging (lib/svc/logs.c), over canned answers as ECS and CloudWatch Logs give them
 * (the ECS API reference: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html,
 * API_Task.html; FilterLogEvents and GetLogEvents in the CloudWatch Logs API reference).
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "aws/api.h"
#include "svc/deploy.h"
#include "svc/ecs.h"
#include "harness.h"
#include "json_fixture.h"
#include "aws/http.h"
#include "aws/service.h"
#include "core/json.h"
#include "svc/logs.h"

static void service(const char *json, struct sk_ecs_service *s)
{
    jv v = h_json(json);
    struct sk_err err;

    ASSERT_OK(sk_ecs_service_parse(v, s, &err), &err);
    jv_free(v);
}

#define TD1 "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"
#define TD2 "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
#define TD3 "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"

/* A DescribeServices service during a deploy from web:1 (ACTIVE) to web:2 (PRIMARY). */
static const char svc_rolling[] =
    "{\"serviceName\":\"web\",\"clusterArn\":\"arn:aws:ecs:us-east-1:123456789012:cluster/main\",\"status\":"
    "\"ACTIVE\",\"desiredCount\":2,\"runningCount\":3,\"pendingCount\":1,\"taskDefinition\":\"" TD2 "\","
    "\"healthCheckGracePeriodSeconds\":\"30\",\"deploymentConfiguration\":{\"maximumPercent\":100},"
    "\"deploymentController\":{\"type\":\"ECS\"},"
    "\"loadBalancers\":[{\"targetGroupArn\":\"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/"
    "0123\",\"containerName\":\"app\",\"containerPort\":8080}],"
    "\"deployments\":[{\"id\":\"ecs-svc/2\",\"status\":\"PRIMARY\",\"taskDefinition\":\"" TD2 "\",\"desiredCount\":2,"
    "\"pendingCount\":1,\"runningCount\":1,\"failedTasks\":0,\"rolloutState\":\"IN_PROGRESS\","
    "\"rolloutStateReason\":\"ECS deployment ecs-svc/2 in progress.\",\"createdAt\":1700000100,\"updatedAt\":"
    "1700000110},"
    "{\"id\":\"ecs-svc/1\",\"status\":\"ACTIVE\",\"taskDefinition\":\"" TD1 "\",\"desiredCount\":2,\"runningCount\":2,"
    "\"rolloutState\":\"COMPLETED\"}],"
    "\"events\":[{\"id\":\"e2\",\"createdAt\":1700000105,\"message\":\"(service web) has started 1 tasks: (task "
    "abc).\"},{\"id\":\"e1\",\"createdAt\":1700000000,\"message\":\"(service web) has reached a steady state.\"}]}";

TEST(parse_service)
{
    struct sk_ecs_service s;
    const struct sk_ecs_deployment *d;

    service(svc_rolling, &s);
    ASSERT_STREQ(s.name, "web");
    ASSERT_STREQ(s.status, "ACTIVE");
    ASSERT_STREQ(s.deployment_controller, "ECS");
    ASSERT(s.desired_count == 2 && s.running_count == 3 && s.pending_count == 1);
    ASSERT(s.grace_period_s == 30 && s.maximum_percent == 100); /* a numeric string is read too */
    ASSERT(s.ndeployments == 2 && s.nevents == 2 && s.nload_balancers == 1);
    ASSERT(s.load_balancers[0].container_port == 8080);
    d = sk_ecs_find_deployment(&s, NULL, "PRIMARY");
    ASSERT(d && strcmp(d->id, "ecs-svc/2") == 0);
    ASSERT(d && d->running_count == 1 && d->failed_tasks == 0 && d->has_created_at && d->created_at == 1700000100);
    d = sk_ecs_find_deployment(&s, "ecs-svc/1", NULL);
    ASSERT(d && d->pending_count == SK_ECS_ABSENT && d->rollout_state_reason == NULL);
    ASSERT(sk_ecs_find_deployment(&s, "ecs-svc/9", NULL) == NULL);
    ASSERT_STREQ(s.events[0].id, "e2");
    ASSERT(s.events[1].created_at == 1700000000);
    ASSERT_STREQ(sk_ecs_arn_name(s.cluster_arn), "main");
    ASSERT_STREQ(sk_ecs_arn_name(NULL), "?");
    sk_ecs_service_release(&s);

    /* Hostile shapes: wrong kinds are absent, never a crash. */
    service("{\"status\":7,\"deployments\":{\"id\":1},\"events\":[1,\"x\",{\"id\":[]}],\"desiredCount\":\"2\"}", &s);
    ASSERT(s.status == NULL && s.ndeployments == 0 && s.nevents == 3 && s.events[2].id == NULL);
    ASSERT(s.desired_count == SK_ECS_ABSENT && s.maximum_percent == 200);
    sk_ecs_service_release(&s);
    {
        struct sk_err err;
        ASSERT_ERR(sk_ecs_service_parse(jv_null(), &s, &err), &err, SK_E_PARSE);
        sk_ecs_service_release(&s);
    }
}

TEST(parse_task)
{
    jv v = h_json("{\"taskArn\":\"arn:aws:ecs:us-east-1:123456789012:task/main/abc123\",\"lastStatus\":\"STOPPED\","
                  "\"desiredStatus\":\"STOPPED\",\"stopCode\":\"EssentialContainerExited\",\"stoppedReason\":"
                  "\"Essential container in task exited\",\"startedBy\":\"ecs-svc/2\",\"createdAt\":1700000000,"
                  "\"startedAt\":1700000040,\"attachments\":[{\"type\":\"ElasticNetworkInterface\",\"details\":[{"
                  "\"name\":\"privateIPv4Address\",\"value\":\"10.0.1.7\"}]}],"
                  "\"containers\":[{\"name\":\"app\",\"image\":\"example/app:v2\",\"exitCode\":3,\"runtimeId\":"
                  "\"r1\"},{\"name\":\"sidecar\",\"reason\":\"OutOfMemoryError: Container killed\"}]}");
    struct sk_ecs_task t;

    sk_ecs_task_parse(v, &t);
    ASSERT_STREQ(sk_ecs_task_id(t.arn), "abc123");
    ASSERT_STREQ(t.stop_code, "EssentialContainerExited");
    ASSERT_STREQ(t.started_by, "ecs-svc/2");
    ASSERT_STREQ(t.ip, "10.0.1.7");
    ASSERT(t.has_started_at && t.started_at - t.created_at == 40 && !t.has_stopped_at);
    ASSERT(t.ncontainers == 2);
    ASSERT(t.containers[0].has_exit_code && t.containers[0].exit_code == 3);
    ASSERT(!t.containers[1].has_exit_code && t.containers[1].runtime_id == NULL);
    ASSERT(sk_deploy_task_ran(&t));
    sk_ecs_task_release(&t);
    jv_free(v);
}

TEST(taskdef_logs)
{
    jv td = h_json("{\"containerDefinitions\":[{\"name\":\"app\",\"logConfiguration\":{\"logDriver\":\"awslogs\","
                   "\"options\":{\"awslogs-group\":\"/ecs/web\",\"awslogs-stream-prefix\":\"ecs\",\"awslogs-region\":"
                   "\"eu-west-1\"}}},{\"image\":\"no-name\"},{\"name\":\"side\"}]}");
    struct sk_ecs_log_config *l;
    size_t n;
    char *stream;

    sk_ecs_taskdef_logs(td, &l, &n);
    ASSERT(n == 2);
    ASSERT_STREQ(l[0].group, "/ecs/web");
    ASSERT_STREQ(l[0].region, "eu-west-1");
    ASSERT(l[1].driver == NULL && l[1].group == NULL);
    stream = sk_logs_stream(&l[0], "abc123");
    ASSERT_STREQ(stream, "ecs/app/abc123");
    free(stream);
    sk_ecs_log_configs_free(l, n);
    jv_free(td);
}

TEST(taskdef_with_images)
{
    jv td =
           h_json("{\"family\":\"web\",\"revision\":4,\"taskDefinitionArn\":\"x\",\"cpu\":256,\"containerDefinitions\":"
                  "[{\"name\":\"app\",\"image\":\"a:1\"},{\"name\":\"side\",\"image\":\"s:1\"}]}"),
       tags = h_json("[{\"key\":\"team\",\"value\":\"web\"}]"), out = jv_invalid();
    const char *ok[] = { "side=s:2" }, *ambiguous[] = { "a:2" }, *unknown[] = { "nope=a:2" };
    struct sk_err err;
    jv c1;

    ASSERT_OK(sk_ecs_taskdef_with_images(jv_copy(td), jv_copy(tags), ok, 1, &out, &err), &err);
    ASSERT(sk_json_str(out, "revision") == NULL && jv_get_kind(sk_json_get(out, "revision")) == JV_KIND_INVALID);
    ASSERT_STREQ(sk_json_str(out, "cpu"), "256");
    c1 = jv_array_get(sk_json_get(out, "containerDefinitions"), 1);
    ASSERT_STREQ(sk_json_str(c1, "image"), "s:2");
    jv_free(c1);
    jv_free(out);
    ASSERT_ERR(sk_ecs_taskdef_with_images(jv_copy(td), jv_copy(tags), ambiguous, 1, &out, &err), &err, SK_E_USAGE);
    ASSERT_ERR(sk_ecs_taskdef_with_images(jv_copy(td), jv_copy(tags), unknown, 1, &out, &err), &err, SK_E_USAGE);
    ASSERT_ERR(sk_ecs_taskdef_with_images(jv_object(), jv_invalid(), NULL, 0, &out, &err), &err, SK_E_USAGE);
    jv_free(td);
    jv_free(tags);
}

/* ---- the verdict ---------------------------------------------------------------------------------- */

static enum sk_deploy_verdict judge(const char *json, const char *dep, struct sk_deploy_outcome *oc)
{
    struct sk_ecs_service s;
    enum sk_deploy_verdict v;

    memset(oc, 0, sizeof(*oc));
    service(json, &s);
    v = sk_deploy_judge(&s, dep, TD2, TD1, oc);
    ASSERT(oc->v == v);
    sk_ecs_service_release(&s);
    return v;
}

TEST(verdict_in_progress)
{
    struct sk_deploy_outcome oc;

    ASSERT(judge(svc_rolling, "ecs-svc/2", &oc) == SK_DEPLOY_WAIT);
}

TEST(verdict_completed)
{
    struct sk_deploy_outcome oc;
    struct sk_ecs_service s;

    ASSERT(judge("{\"status\":\"ACTIVE\",\"desiredCount\":2,\"runningCount\":2,\"deployments\":[{\"id\":\"d2\","
                 "\"status\":\"PRIMARY\",\"taskDefinition\":\"" TD2 "\",\"rolloutState\":\"COMPLETED\"}]}",
                 "d2", &oc) == SK_DEPLOY_DONE);
    /* Without rolloutState (older services): running == desired and nothing pending. */
    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD2 "\",\"desiredCount\":2,\"runningCount\":2}]}",
                 "d2", &oc) == SK_DEPLOY_DONE);
    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD2 "\",\"desiredCount\":2,\"runningCount\":2,\"pendingCount\":1}]}",
                 "d2", &oc) == SK_DEPLOY_WAIT);
    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD2 "\"}]}",
                 "d2", &oc) == SK_DEPLOY_WAIT);
    service("{\"status\":\"ACTIVE\",\"desiredCount\":2,\"runningCount\":2,\"deployments\":[{\"id\":\"d2\","
            "\"status\":\"PRIMARY\",\"taskDefinition\":\"" TD2 "\",\"rolloutState\":\"COMPLETED\"}]}",
            &s);
    ASSERT(sk_deploy_steady_on(&s, TD2) && !sk_deploy_steady_on(&s, TD1));
    sk_ecs_service_release(&s);
    service(svc_rolling, &s);
    ASSERT(!sk_deploy_steady_on(&s, TD2));
    sk_ecs_service_release(&s);
}

TEST(verdict_failed)
{
    struct sk_deploy_outcome oc;

    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD2 "\",\"rolloutState\":\"FAILED\",\"rolloutStateReason\":\"tasks failed to start\"}]}",
                 "d2", &oc) == SK_DEPLOY_FAILED);
    ASSERT_STREQ(oc.reason, "tasks failed to start");
    ASSERT(judge("{\"status\":\"DRAINING\",\"deployments\":[]}", "d2", &oc) == SK_DEPLOY_FAILED);
    ASSERT_STREQ(oc.reason, "the service is DRAINING");
    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD3 "\",\"rolloutState\":\"COMPLETED\"}]}",
                 "d2", &oc) == SK_DEPLOY_FAILED);
    ASSERT_STREQ(oc.reason, "our deployment runs web:3, not web:2");
}

TEST(verdict_circuit_breaker_rollback)
{
    struct sk_deploy_outcome oc;

    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d3\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD1 "\",\"rolloutState\":\"IN_PROGRESS\"},{\"id\":\"d2\",\"status\":\"ACTIVE\","
                 "\"taskDefinition\":\"" TD2 "\",\"rolloutState\":\"FAILED\",\"rolloutStateReason\":\"ECS deployment "
                 "circuit breaker: tasks failed to start.\"}]}",
                 "d2", &oc) == SK_DEPLOY_ROLLED_BACK);
    ASSERT_STREQ(oc.reason, "ECS rolled the deployment back to web:1 (deployment circuit breaker): ECS deployment "
                            "circuit breaker: tasks failed to start.");
    ASSERT_STREQ(oc.other_dep, "d3");
    ASSERT_STREQ(oc.other_td, TD1);
    /* Ours already gone from the list: still a rollback, without ECS's reason. */
    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d3\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD1 "\"}]}",
                 "d2", &oc) == SK_DEPLOY_ROLLED_BACK);
    ASSERT_STREQ(oc.reason, "ECS rolled the deployment back to web:1 (deployment circuit breaker)");
}

TEST(verdict_replaced)
{
    struct sk_deploy_outcome oc;

    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d4\",\"status\":\"PRIMARY\",\"taskDefinition\":"
                 "\"" TD3 "\"},{\"id\":\"d2\",\"status\":\"ACTIVE\",\"taskDefinition\":\"" TD2 "\"}]}",
                 "d2", &oc) == SK_DEPLOY_REPLACED);
    ASSERT_STREQ(oc.reason, "another deployment replaced ours: d4 now runs web:3");
    ASSERT_STREQ(oc.other_dep, "d4");
    ASSERT(judge("{\"status\":\"ACTIVE\",\"deployments\":[]}", "d2", &oc) == SK_DEPLOY_REPLACED);
    ASSERT_STREQ(oc.reason, "another deployment replaced ours: ? now runs ?");
}

/* ---- calls over a scripted transport --------------------------------------------------------------- */

#define MAX_CALLS 16

struct script {
    const char *op[MAX_CALLS];   /* the X-Amz-Target operation each call must be */
    const char *body[MAX_CALLS]; /* the answer */
    char sent[MAX_CALLS][1024];  /* the request bodies */
    int n, calls;
};

static int script_send(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    struct script *s = ctx;
    const char *target = sk_headers_get(req->headers, "X-Amz-Target"), *dot = target ? strrchr(target, '.') : NULL;
    int i = s->calls++;

    if (i >= s->n)
        return sk_errf(err, SK_E_INTERNAL, "unexpected call %s", target ? target : "?");
    if (!dot || strcmp(dot + 1, s->op[i]) != 0)
        H_FAIL("call %d: %s, want %s", i, target ? target : "?", s->op[i]);
    snprintf(s->sent[i], sizeof(s->sent[i]), "%.*s", (int)req->body_len, (const char *)req->body);
    sk_headers_release(&resp->headers);
    sk_buf_reset(&resp->body);
    resp->status = 200;
    sk_buf_adds(&resp->body, s->body[i]);
    return 0;
}

static void step(struct script *s, const char *op, const char *body)
{
    s->op[s->n] = op;
    s->body[s->n++] = body;
}

/* A client of region with credentials from the environment, its HTTP scripted by s. */
static int fake_client(struct sk_client *c, const char *region, struct script *s)
{
    struct sk_client_opts o;
    struct sk_http_ops ops;
    struct sk_err err;

    memset(&o, 0, sizeof(o));
    o.region = region;
    o.endpoint_url = "https://aws.test";
    sk_err_clear(&err);
    if (sk_client_init(c, &o, &err) < 0) {
        H_FAIL("client: %s", err.msg);
        return -1;
    }
    ops.send = script_send;
    ops.ctx = s;
    sk_http_set_ops(c->http, &ops);
    return 0;
}

static void fake_env(void)
{
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_MAX_ATTEMPTS");
}

static const char tasks_running[] =
    "{\"tasks\":[{\"taskArn\":\"arn:aws:ecs:us-east-1:1:task/main/t1\",\"startedBy\":\"d2\",\"lastStatus\":"
    "\"RUNNING\",\"createdAt\":1000,\"startedAt\":1040},{\"taskArn\":\"arn:aws:ecs:us-east-1:1:task/main/t0\","
    "\"startedBy\":\"d1\",\"lastStatus\":\"RUNNING\"}]}";

TEST(stall_rule)
{
    struct script s;
    struct sk_client c;
    struct sk_deploy_watch w;
    struct sk_deploy_outcome oc;
    struct sk_ecs_service svc;

    memset(&s, 0, sizeof(s));
    memset(&oc, 0, sizeof(oc));
    if (fake_client(&c, "us-east-1", &s) < 0)
        return;
    /* One task of two healthy, then nothing more: no load balancer, so the period is
     * 60 s + 2 x the start seen (40 s) = 140 s. */
    step(&s, "ListTasks",
         "{\"taskArns\":[\"arn:aws:ecs:us-east-1:1:task/main/t1\",\"arn:aws:ecs:us-east-1:1:task/main/t0\"]}");
    step(&s, "DescribeTasks", tasks_running);
    step(&s, "ListTasks", "{\"taskArns\":[\"arn:aws:ecs:us-east-1:1:task/main/t1\"]}");
    step(&s, "DescribeTasks", tasks_running);
    service("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"desiredCount\":2,"
            "\"runningCount\":1,\"rolloutState\":\"IN_PROGRESS\"}]}",
            &svc);
    sk_deploy_watch_init(&w, &c, "main", "web", 1.0);
    ASSERT(sk_deploy_stalled(&w, &svc, "d2", 1000, &oc) == 0);
    ASSERT(w.st.healthy == 1 && w.st.start_s == 40 && w.st.period == 140 && w.calls == 2);
    ASSERT(strstr(s.sent[0], "\"desiredStatus\":\"RUNNING\"") && !strstr(s.sent[0], "startedBy"));
    ASSERT(sk_deploy_stalled(&w, &svc, "d2", 1100, &oc) == 0); /* looked at a sixth of a period ago: not again */
    ASSERT(s.calls == 2);
    ASSERT(sk_deploy_stalled(&w, &svc, "d2", 1200, &oc) == 1);
    ASSERT(oc.v == SK_DEPLOY_STALLED && s.calls == 4);
    ASSERT_STREQ(oc.reason, "no progress for 200s: no new task of deployment d2 became RUNNING and healthy, and ECS "
                            "gave no verdict (stall period 140s: grace 0s + 2 x health check 0s + 60s, 2 x start 40s)");
    sk_deploy_stall_reset(&w);
    ASSERT(w.st.ready == 0 && w.st.nseen == 0);
    sk_deploy_watch_release(&w);
    sk_ecs_service_release(&svc);
    sk_client_release(&c);
}

TEST(explain_failure)
{
    struct script s;
    struct sk_client c;
    struct sk_deploy_watch w;
    struct sk_deploy_failure f;
    struct sk_ecs_service svc;
    struct sk_err err;

    memset(&s, 0, sizeof(s));
    if (fake_client(&c, "us-east-1", &s) < 0)
        return;
    step(&s, "ListTasks", "{\"taskArns\":[\"a1\",\"a2\",\"a3\"]}");
    step(&s, "DescribeTasks",
         "{\"tasks\":[{\"taskArn\":\"a1\",\"startedBy\":\"d2\",\"stopCode\":\"UserInitiated\",\"stoppedReason\":"
         "\"Scaling activity initiated by (deployment d2)\"},"
         "{\"taskArn\":\"a2\",\"startedBy\":\"d2\",\"stopCode\":\"TaskFailedToStart\",\"stoppedReason\":"
         "\"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
         "docker.io/x/app:v9: docker.io/x/app:v9: not found\",\"containers\":[{\"name\":\"app\",\"image\":"
         "\"x/app:v9\",\"reason\":\"CannotPullContainerError: ref not found\"}]},"
         "{\"taskArn\":\"a3\",\"startedBy\":\"d1\",\"stopCode\":\"EssentialContainerExited\"}]}");
    service("{\"status\":\"ACTIVE\",\"deployments\":[{\"id\":\"d2\",\"status\":\"PRIMARY\",\"createdAt\":1700000000}],"
            "\"events\":[{\"id\":\"e2\",\"createdAt\":1700000010,\"message\":\"(service web) was unable to place a "
            "task. Reason: Capacity is unavailable at this time. Please try again later.\"},"
            "{\"id\":\"e1\",\"createdAt\":1600000000,\"message\":\"(service web) was unable to place a task because "
            "no container instance met all of its requirements.\"}]}",
            &svc);
    sk_deploy_watch_init(&w, &c, "main", "web", 1.0);
    ASSERT_OK(sk_deploy_explain(&w, &svc, "d2", &f, &err), &err);
    ASSERT(f.ntasks == 2 && w.calls == 2);
    ASSERT(f.nwhy == 2);
    if (f.nwhy == 2) {
        ASSERT(f.why[0].kind == SK_EXPLAIN_IMAGE_NOT_FOUND && f.why_tasks[0] == 1);
        ASSERT_STREQ(f.why[0].subject, "x/app:v9");
        ASSERT(f.why[1].kind == SK_EXPLAIN_NO_CAPACITY && f.why_tasks[1] == 0); /* the old event left out */
    }
    /* The failure first, then the scale-in. */
    ASSERT(f.nshown == 2 && f.shown[0] == 1 && f.shown[1] == 0);
    ASSERT(!sk_deploy_task_ran(&f.tasks[1]));
    sk_deploy_failure_release(&f);

    /* The stopped tasks cannot be listed: the events still say why. */
    ASSERT(sk_deploy_explain(&w, &svc, "d2", &f, &err) == -1);
    ASSERT(f.ntasks == 0 && f.nwhy == 1 && f.why[0].kind == SK_EXPLAIN_NO_CAPACITY);
    sk_deploy_failure_release(&f);
    sk_deploy_watch_release(&w);
    sk_ecs_service_release(&svc);
    sk_client_release(&c);
}

/* ---- CloudWatch Logs -------------------------------------------------------------------------------- */

struct seen_lines {
    char text[8][128];
    int n;
};

static void collect(void *ctx, const struct sk_log_event *ev)
{
    struct seen_lines *l = ctx;
    if (l->n < 8)
        snprintf(l->text[l->n++], sizeof(l->text[0]), "%.0f %s %s", ev->timestamp, ev->stream, ev->message);
}

TEST(logs_paging)
{
    struct script s;
    struct sk_client c;
    struct sk_logs_tail tail;
    struct seen_lines got;
    struct sk_err err;

    memset(&s, 0, sizeof(s));
    memset(&got, 0, sizeof(got));
    if (fake_client(&c, "us-east-1", &s) < 0)
        return;
    step(&s, "FilterLogEvents",
         "{\"events\":[{\"eventId\":\"1\",\"logStreamName\":\"ecs/app/t1\",\"timestamp\":5000,\"message\":\"one\"}],"
         "\"nextToken\":\"p2\"}");
    step(&s, "FilterLogEvents",
         "{\"events\":[{\"eventId\":\"2\",\"logStreamName\":\"ecs/app/t2\",\"timestamp\":7000,\"message\":\"two\"}]}");
    /* The next round starts at the newest millisecond again: event 2 comes back and is not repeated. */
    step(&s, "FilterLogEvents",
         "{\"events\":[{\"eventId\":\"2\",\"logStreamName\":\"ecs/app/t2\",\"timestamp\":7000,\"message\":\"two\"},"
         "{\"eventId\":\"3\",\"logStreamName\":\"ecs/app/t1\",\"timestamp\":7000,\"message\":\"three\"}]}");
    sk_logs_tail_init(&tail, 1000);
    ASSERT_OK(sk_logs_tail_read(&tail, &c, "/ecs/web", "ecs/app/", collect, &got, &err), &err);
    ASSERT(s.calls == 2 && got.n == 2);
    ASSERT(strstr(s.sent[0], "\"startTime\":1000") && strstr(s.sent[0], "\"logStreamNamePrefix\":\"ecs/app/\""));
    ASSERT(strstr(s.sent[1], "\"nextToken\":\"p2\""));
    sk_logs_tail_next(&tail);
    ASSERT(tail.start_ms == 7000);
    ASSERT_OK(sk_logs_tail_read(&tail, &c, "/ecs/web", "ecs/app/", collect, &got, &err), &err);
    ASSERT(strstr(s.sent[2], "\"startTime\":7000"));
    ASSERT(got.n == 3);
    ASSERT_STREQ(got.text[0], "5000 ecs/app/t1 one");
    ASSERT_STREQ(got.text[1], "7000 ecs/app/t2 two");
    ASSERT_STREQ(got.text[2], "7000 ecs/app/t1 three");
    /* An error ends the read with the call's error. */
    ASSERT_ERR(sk_logs_tail_read(&tail, &c, "/ecs/web", "ecs/app/", collect, &got, &err), &err, SK_E_INTERNAL);
    sk_logs_tail_release(&tail);
    sk_client_release(&c);
}

/* ListTaskDefinitions, two pages: the second call carries the first answer's nextToken, and only the
 * family itself is kept, never a family it prefixes (web-canary for web). */
TEST(task_defs_paging)
{
    struct script s;
    struct sk_client c;
    struct sk_err err;
    jv arns;

    memset(&s, 0, sizeof(s));
    if (fake_client(&c, "us-east-1", &s) < 0)
        return;
    step(&s, "ListTaskDefinitions",
         "{\"taskDefinitionArns\":[\"arn:aws:ecs:us-east-1:1:task-definition/web:7\","
         "\"arn:aws:ecs:us-east-1:1:task-definition/web-canary:3\"],\"nextToken\":\"t2\"}");
    step(&s, "ListTaskDefinitions", "{\"taskDefinitionArns\":[\"arn:aws:ecs:us-east-1:1:task-definition/web:6\",7]}");
    ASSERT_OK(sk_ecs_list_task_defs(&c, "web", "ACTIVE", &arns, &err), &err);
    ASSERT(s.calls == 2 && sk_json_len(arns) == 2);
    ASSERT(strstr(s.sent[0], "\"familyPrefix\":\"web\"") && strstr(s.sent[0], "\"sort\":\"DESC\"") &&
           !strstr(s.sent[0], "nextToken"));
    ASSERT(strstr(s.sent[1], "\"nextToken\":\"t2\"") && strstr(s.sent[1], "\"familyPrefix\":\"web\""));
    jv_free(arns);
    /* A failed page fails the list, and nothing leaks. */
    memset(&s, 0, sizeof(s));
    step(&s, "ListTaskDefinitions",
         "{\"taskDefinitionArns\":[\"arn:aws:ecs:us-east-1:1:task-definition/web:7\"],"
         "\"nextToken\":\"t2\"}");
    ASSERT_ERR(sk_ecs_list_task_defs(&c, "web", "ACTIVE", &arns, &err), &err, SK_E_INTERNAL);
    sk_client_release(&c);
}

static int count_pages(void *ctx, jv answer, struct sk_err *err)
{
    int *n = ctx;

    (void)answer;
    if (++*n == 3)
        return sk_errf(err, SK_E_PARSE, "page 3 is bad");
    return *n == 2 && sk_json_str(answer, "stop") ? 1 : 0;
}

/* sk_client_json_pages: at most max_pages calls; the callback stops it (1) or fails it (-1). */
TEST(json_pages)
{
    struct script s;
    struct sk_client c;
    struct sk_err err;
    int n = 0;

    memset(&s, 0, sizeof(s));
    if (fake_client(&c, "us-east-1", &s) < 0)
        return;
    step(&s, "ListTasks", "{\"nextToken\":\"a\"}");
    step(&s, "ListTasks", "{\"nextToken\":\"b\",\"stop\":\"yes\"}");
    ASSERT_OK(sk_client_json_pages(&c, &sk_svc_ecs, "ListTasks", jv_object(), 10, count_pages, &n, &err), &err);
    ASSERT(n == 2 && s.calls == 2);
    step(&s, "ListTasks", "{\"nextToken\":\"a\"}");
    n = 0;
    ASSERT_OK(sk_client_json_pages(&c, &sk_svc_ecs, "ListTasks", jv_object(), 1, count_pages, &n, &err), &err);
    ASSERT(n == 1 && s.calls == 3);
    step(&s, "ListTasks", "{\"nextToken\":\"a\"}");
    step(&s, "ListTasks", "{\"nextToken\":\"b\"}");
    step(&s, "ListTasks", "{\"nextToken\":\"c\"}");
    n = 0;
    ASSERT_ERR(sk_client_json_pages(&c, &sk_svc_ecs, "ListTasks", jv_object(), 10, count_pages, &n, &err), &err,
               SK_E_PARSE);
    ASSERT(n == 3 && s.calls == 6);
    ASSERT(strstr(s.sent[4], "\"nextToken\":\"a\"") && strstr(s.sent[5], "\"nextToken\":\"b\""));
    sk_client_release(&c);
}

struct regions {
    struct script *s;
    int made;
};

static int region_client(void *ctx, const char *region, struct sk_client *out, struct sk_err *err)
{
    struct regions *r = ctx;

    (void)err;
    r->made++;
    return fake_client(out, region, r->s);
}

TEST(logs_last_lines)
{
    struct script s;
    struct sk_client c, *used = NULL;
    struct sk_logs l;
    struct regions r;
    char container[] = "app", driver[] = "awslogs", group[] = "/ecs/web", prefix[] = "ecs", region[] = "eu-west-1";
    struct sk_ecs_log_config cfg = { container, driver, group, prefix, region };
    struct sk_err err;
    char **lines = NULL;
    size_t n = 0;

    memset(&s, 0, sizeof(s));
    r.s = &s;
    r.made = 0;
    if (fake_client(&c, "us-east-1", &s) < 0)
        return;
    sk_logs_init(&l, &c, region_client, &r);
    step(&s, "GetLogEvents",
         "{\"events\":[{\"timestamp\":1,\"message\":\"starting\"},{\"timestamp\":2,\"message\":"
         "\"panic: no DATABASE_URL\"}],\"nextForwardToken\":\"f\"}");
    step(&s, "GetLogEvents", "{\"events\":[]}");
    ASSERT_OK(sk_logs_last_lines(&l, &cfg, "t1", 10, &lines, &n, &used, &err), &err);
    ASSERT(n == 2 && used != &c && used && strcmp(used->region, "eu-west-1") == 0 && r.made == 1);
    if (n == 2)
        ASSERT_STREQ(lines[1], "panic: no DATABASE_URL");
    ASSERT(strstr(s.sent[0], "\"logStreamName\":\"ecs/app/t1\"") && strstr(s.sent[0], "\"limit\":10") &&
           strstr(s.sent[0], "\"startFromHead\":false"));
    sk_logs_lines_free(lines, n);
    ASSERT_OK(sk_logs_last_lines(&l, &cfg, "t2", 10, &lines, &n, &used, &err), &err);
    ASSERT(n == 0 && r.made == 1); /* the region's client is kept */
    sk_logs_lines_free(lines, n);
    ASSERT(sk_logs_client(&l, NULL, &err) == &c && sk_logs_client(&l, "us-east-1", &err) == &c);
    sk_err_clear(&err);
    ASSERT(sk_logs_client(&l, "eu-west-1;rm", &err) == NULL && err.kind == SK_E_USAGE);
    sk_logs_release(&l);
    sk_client_release(&c);
}

/* Task definition names: the revision and the family of an ARN or FAMILY:REV. */
TEST(td_names)
{
    char fam[64];

    ASSERT(sk_ecs_td_revision(TD3) == 3);
    ASSERT(sk_ecs_td_revision("web:12") == 12);
    ASSERT(sk_ecs_td_revision("web") == -1);
    ASSERT(sk_ecs_td_revision("arn:aws:ecs:us-east-1:123456789012:task-definition/web") == -1);
    ASSERT(sk_ecs_td_revision("web:0") == -1);
    ASSERT(sk_ecs_td_revision("web:1x") == -1);
    ASSERT(sk_ecs_td_revision("web:-1") == -1);
    ASSERT(sk_ecs_td_revision(NULL) == -1);
    sk_ecs_td_family(TD3, fam, sizeof(fam));
    ASSERT(strcmp(fam, "web") == 0);
    sk_ecs_td_family("web-2:7", fam, sizeof(fam));
    ASSERT(strcmp(fam, "web-2") == 0);
    sk_ecs_td_family("plain", fam, sizeof(fam));
    ASSERT(strcmp(fam, "plain") == 0);
    sk_ecs_td_family("abcdefgh:1", fam, 4);
    ASSERT(strcmp(fam, "abc") == 0);
}

/* --keep-revisions: the newest N stay, and any revision a deployment runs (the rolling service runs
 * web:1 and web:2), and whatever the caller protects; the rest go, newest first. */
TEST(prune_revisions)
{
    struct sk_ecs_service s;
    jv arns =
        h_json("[\"" TD1 "\",\"" TD3 "\",\"" TD2 "\",\"arn:aws:ecs:us-east-1:123456789012:task-definition/web:5\","
               "\"arn:aws:ecs:us-east-1:123456789012:task-definition/web:4\",\"odd\"]");
    const char *protect[] = { "web:4" };
    jv out;

    service(svc_rolling, &s);
    out = sk_deploy_prune(arns, 1, &s, NULL, 0); /* keeps web:5 and the running web:1, web:2 */
    ASSERT(
        jv_equal(jv_copy(out), h_json("[\"arn:aws:ecs:us-east-1:123456789012:task-definition/web:4\",\"" TD3 "\"]")));
    jv_free(out);
    out = sk_deploy_prune(arns, 1, &s, protect, 1);
    ASSERT(jv_equal(jv_copy(out), h_json("[\"" TD3 "\"]")));
    jv_free(out);
    out = sk_deploy_prune(arns, 3, NULL, NULL, 0); /* web:5, 4, 3 stay */
    ASSERT(jv_equal(jv_copy(out), h_json("[\"" TD2 "\",\"" TD1 "\"]")));
    jv_free(out);
    out = sk_deploy_prune(arns, 0, NULL, NULL, 0); /* at least one stays */
    ASSERT(jv_array_length(out) == 4);
    out = sk_deploy_prune(arns, 10, NULL, NULL, 0);
    ASSERT(jv_array_length(out) == 0);
    out = sk_deploy_prune(jv_null(), 1, NULL, NULL, 0);
    ASSERT(jv_array_length(out) == 0);
    jv_free(arns);
    sk_ecs_service_release(&s);
}

int main(void)
{
    fake_env();
    RUN(parse_service);
    RUN(parse_task);
    RUN(taskdef_logs);
    RUN(taskdef_with_images);
    RUN(verdict_in_progress);
    RUN(verdict_completed);
    RUN(verdict_failed);
    RUN(verdict_circuit_breaker_rollback);
    RUN(verdict_replaced);
    RUN(stall_rule);
    RUN(explain_failure);
    RUN(logs_paging);
    RUN(task_defs_paging);
    RUN(json_pages);
    RUN(logs_last_lines);
    RUN(td_names);
    RUN(prune_revisions);
    return DONE();
}
