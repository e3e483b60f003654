/* preflight_test - the checks before a deploy (lib/svc/preflight.c): which apply to a task
 * definition and a service, their verdicts, an image index's platform, the look-ups over canned
 * answers. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json_fixture.h"
#include "fake_aws.h"
#include "svc/preflight.h"

static const char td_text[] =
    "{\"family\":\"web\",\"networkMode\":\"awsvpc\","
    "\"executionRoleArn\":\"arn:aws:iam::123456789012:role/exec\","
    "\"taskRoleArn\":\"arn:aws:iam::123456789012:role/team/app-task\","
    "\"containerDefinitions\":["
    "{\"name\":\"app\",\"image\":\"123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1\","
    "\"portMappings\":[{\"containerPort\":8080}],"
    "\"secrets\":[{\"name\":\"DB\",\"valueFrom\":\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:"
    "password::\"},{\"name\":\"KEY\",\"valueFrom\":\"/web/key\"}],"
    "\"logConfiguration\":{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/web\","
    "\"awslogs-region\":\"eu-west-1\"}}},"
    "{\"name\":\"side\",\"image\":\"example/model:good\",\"secrets\":[{\"name\":\"KEY\",\"valueFrom\":\"/web/key\"}],"
    "\"logConfiguration\":{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/side\","
    "\"awslogs-create-group\":\"true\"}}}]}";

static const struct sk_pf_check *find(const struct sk_preflight *pf, enum sk_pf_kind k, const char *target)
{
    size_t i;

    for (i = 0; i < pf->n; i++)
        if (pf->v[i].kind == k && strcmp(pf->v[i].target, target) == 0)
            return &pf->v[i];
    return NULL;
}

static void lb_service(struct sk_ecs_service *svc, const char *container, long port)
{
    memset(svc, 0, sizeof(*svc));
    svc->nload_balancers = 1;
    svc->load_balancers = calloc(1, sizeof(*svc->load_balancers));
    svc->load_balancers[0].target_group_arn =
        strdup("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/abc");
    svc->load_balancers[0].container_name = strdup(container);
    svc->load_balancers[0].container_port = port;
}

TEST(plan_lists_each_check_once)
{
    jv td = h_json(td_text);
    struct sk_preflight pf;
    const struct sk_pf_check *ck;

    sk_preflight_plan(td, NULL, &pf);
    ASSERT(strcmp(pf.platform, "linux/amd64") == 0);
    /* two images, two roles, two secrets (the parameter named twice is one), two log groups */
    ASSERT(pf.n == 8);
    ck = find(&pf, SK_PF_IMAGE, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1");
    ASSERT(ck && strcmp(ck->subject, "app=123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1") == 0);
    ASSERT(find(&pf, SK_PF_IMAGE, "example/model:good"));
    ck = find(&pf, SK_PF_ROLE, "app-task"); /* the name, without the path */
    ASSERT(ck && ck->state == SK_PF_TODO && strstr(ck->subject, "taskRoleArn") == ck->subject);
    ASSERT(find(&pf, SK_PF_ROLE, "exec"));
    /* the JSON key, version stage and id are not part of the secret's ARN */
    ck = find(&pf, SK_PF_SECRET, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf");
    ASSERT(ck && ck->secretsmanager && ck->region && strcmp(ck->region, "eu-west-1") == 0);
    ck = find(&pf, SK_PF_SECRET, "/web/key");
    ASSERT(ck && !ck->secretsmanager && !ck->region);
    ck = find(&pf, SK_PF_LOG_GROUP, "/ecs/web");
    ASSERT(ck && ck->state == SK_PF_TODO && strcmp(ck->region, "eu-west-1") == 0);
    ck = find(&pf, SK_PF_LOG_GROUP, "/ecs/side"); /* the task creates it */
    ASSERT(ck && ck->state == SK_PF_OK);
    ASSERT(sk_preflight_failed(&pf) == 0);
    sk_preflight_release(&pf);
    jv_free(td);
}

TEST(plan_load_balancers)
{
    jv td = h_json(td_text);
    struct sk_ecs_service svc;
    struct sk_preflight pf;
    const char *tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/abc";

    lb_service(&svc, "app", 8080);
    sk_preflight_plan(td, &svc, &pf);
    ASSERT(find(&pf, SK_PF_LOAD_BALANCER, tg) && find(&pf, SK_PF_LOAD_BALANCER, tg)->state == SK_PF_TODO);
    ASSERT(strcmp(find(&pf, SK_PF_LOAD_BALANCER, tg)->region, "ip") == 0); /* awsvpc needs ip */
    sk_preflight_release(&pf);
    sk_ecs_service_release(&svc);

    lb_service(&svc, "app", 9090);
    sk_preflight_plan(td, &svc, &pf);
    ASSERT(find(&pf, SK_PF_LOAD_BALANCER, tg)->state == SK_PF_FAIL);
    ASSERT(strstr(find(&pf, SK_PF_LOAD_BALANCER, tg)->reason, "maps no containerPort 9090"));
    ASSERT(sk_preflight_failed(&pf) == 1);
    sk_preflight_release(&pf);
    sk_ecs_service_release(&svc);

    lb_service(&svc, "web", 8080);
    sk_preflight_plan(td, &svc, &pf);
    ASSERT(strstr(find(&pf, SK_PF_LOAD_BALANCER, tg)->reason, "no container 'web'"));
    sk_preflight_release(&pf);
    sk_ecs_service_release(&svc);
    jv_free(td);
}

TEST(plan_parameter_arns)
{
    jv td = h_json("{\"containerDefinitions\":[{\"name\":\"a\",\"secrets\":["
                   "{\"name\":\"A\",\"valueFrom\":\"arn:aws:ssm:us-west-2:123456789012:parameter/team/db\"},"
                   "{\"name\":\"B\",\"valueFrom\":\"arn:aws:ssm:us-west-2:123456789012:parameter/flat\"}]}]}");
    struct sk_preflight pf;
    const struct sk_pf_check *ck;

    sk_preflight_plan(td, NULL, &pf);
    ck = find(&pf, SK_PF_SECRET, "/team/db");
    ASSERT(ck && !ck->secretsmanager && strcmp(ck->region, "us-west-2") == 0);
    ASSERT(ck && strcmp(ck->subject, "a A=arn:aws:ssm:us-west-2:123456789012:parameter/team/db") == 0);
    ASSERT(find(&pf, SK_PF_SECRET, "flat"));
    sk_preflight_release(&pf);
    jv_free(td);
}

TEST(plan_bad_values)
{
    jv td = h_json("{\"executionRoleArn\":\"arn:aws:iam::123456789012:user/bob\",\"runtimePlatform\":"
                   "{\"cpuArchitecture\":\"ARM64\"},\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\","
                   "\"secrets\":[{\"name\":\"S\",\"valueFrom\":\"arn:aws:s3:::bucket/key\"}]}]}");
    struct sk_preflight pf;

    sk_preflight_plan(td, NULL, &pf);
    ASSERT(strcmp(pf.platform, "linux/arm64") == 0);
    ASSERT(find(&pf, SK_PF_ROLE, "bob")->state == SK_PF_FAIL);
    ASSERT(find(&pf, SK_PF_SECRET, "arn:aws:s3:::bucket/key")->state == SK_PF_FAIL);
    ASSERT(sk_preflight_failed(&pf) == 2);
    sk_preflight_release(&pf);
    jv_free(td);
}

TEST(judge)
{
    struct sk_pf_check ck;
    struct sk_err e;

    memset(&ck, 0, sizeof(ck));
    sk_err_clear(&e);
    ASSERT(sk_preflight_judge(&ck, 0, 1, "iam:GetRole", &e) == 0 && ck.state == SK_PF_OK);
    ASSERT(sk_preflight_judge(&ck, 0, 0, "iam:GetRole", &e) == 0 && ck.state == SK_PF_FAIL);
    ASSERT(strcmp(ck.reason, "not found") == 0);
    sk_errf(&e, SK_E_AWS, "denied");
    snprintf(e.aws_code, sizeof(e.aws_code), "AccessDenied");
    ASSERT(sk_preflight_judge(&ck, -1, 0, "iam:GetRole", &e) == 0 && ck.state == SK_PF_FAIL);
    ASSERT(strstr(ck.reason, "iam:GetRole was denied"));
    snprintf(e.aws_code, sizeof(e.aws_code), "NoSuchEntity");
    ASSERT(sk_preflight_judge(&ck, -1, 0, "iam:GetRole", &e) == 0 && strcmp(ck.reason, "not found") == 0);
    snprintf(e.aws_code, sizeof(e.aws_code), "ThrottlingException");
    ASSERT(sk_preflight_judge(&ck, -1, 0, "iam:GetRole", &e) == -1);
    sk_errf(&e, SK_E_NET, "connection reset");
    ASSERT(sk_preflight_judge(&ck, -1, 0, "iam:GetRole", &e) == -1);
    free(ck.reason);
}

TEST(index_pick)
{
    static const char idx[] = "{\"schemaVersion\":2,\"manifests\":["
                              "{\"digest\":\"sha256:aa\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
                              "{\"digest\":\"sha256:bb\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    struct sk_err err;
    char d[80];

    sk_err_clear(&err);
    ASSERT(sk_preflight_index_pick(idx, strlen(idx), "linux/amd64", d, sizeof(d), &err) == 1);
    ASSERT(strcmp(d, "sha256:bb") == 0);
    ASSERT(sk_preflight_index_pick(idx, strlen(idx), "linux/arm64", d, sizeof(d), &err) == 1);
    ASSERT(strcmp(d, "sha256:aa") == 0);
    ASSERT(sk_preflight_index_pick(idx, strlen(idx), "windows/amd64", d, sizeof(d), &err) == 0 && !d[0]);
    ASSERT(sk_preflight_index_pick("{}", 2, "linux/amd64", d, sizeof(d), &err) == -1 && err.kind == SK_E_PARSE);
    ASSERT(sk_preflight_index_pick("nope", 4, "linux/amd64", d, sizeof(d), &err) == -1);
}

TEST(result_json)
{
    jv td = h_json("{\"containerDefinitions\":[{\"name\":\"a\",\"image\":\"x\"}]}"), out;
    struct sk_preflight pf;

    sk_preflight_plan(td, NULL, &pf);
    sk_preflight_set(&pf.v[0], SK_PF_UNCHECKED, "not checked: %s", "Docker Hub");
    out = sk_preflight_json(&pf);
    ASSERT(jv_array_length(jv_copy(out)) == 1);
    {
        jv o = jv_array_get(jv_copy(out), 0), ok = jv_object_get(jv_copy(o), jv_string("ok"));
        ASSERT(strcmp(sk_json_str(o, "check"), "image") == 0);
        ASSERT(strcmp(sk_json_str(o, "subject"), "a=x") == 0);
        ASSERT(jv_get_kind(ok) == JV_KIND_TRUE); /* a note, never a failure */
        ASSERT(strcmp(sk_json_str(o, "reason"), "not checked: Docker Hub") == 0);
        jv_free(ok);
        jv_free(o);
    }
    jv_free(out);
    sk_preflight_release(&pf);
    jv_free(td);
}

#define IAM_NS "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\""

TEST(run_over_canned_answers)
{
    static const struct fake_answer a[] = {
        /* GetParameters: in InvalidParameters */
        { 200, "{\"Parameters\":[],\"InvalidParameters\":[\"/web/key\"]}" },
        /* DescribeLogGroups: only a longer name with the prefix */
        { 200, "{\"logGroups\":[{\"logGroupName\":\"/ecs/web-old\"}]}" },
        /* GetRole exec: found; GetRole task: NoSuchEntity */
        { 200, "<GetRoleResponse " IAM_NS "><GetRoleResult><Role><RoleName>exec</RoleName></Role></GetRoleResult>"
               "</GetRoleResponse>" },
        { 404, "<ErrorResponse " IAM_NS "><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with "
               "name task cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>" },
    };
    jv td = h_json("{\"executionRoleArn\":\"arn:aws:iam::123456789012:role/exec\",\"taskRoleArn\":"
                   "\"arn:aws:iam::123456789012:role/task\",\"containerDefinitions\":[{\"name\":\"app\",\"image\":"
                   "\"x\",\"secrets\":[{\"name\":\"K\",\"valueFrom\":\"/web/key\"}],\"logConfiguration\":{"
                   "\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/web\"}}}]}");
    struct sk_preflight pf;
    struct fake_aws f;
    struct sk_logs logs;
    struct sk_err err;

    sk_err_clear(&err);
    if (fake_aws_init(&f, a, 4) < 0)
        return;
    sk_logs_init(&logs, &f.c, NULL, NULL);
    sk_preflight_plan(td, NULL, &pf);
    ASSERT_OK(sk_preflight_run(&pf, &f.c, &logs, &err), &err);
    ASSERT(f.calls == 4);
    /* the plan's order: each container's secrets and log group, then the roles */
    ASSERT(fake_aws_sent(&f, 2, "Action=GetRole") && fake_aws_sent(&f, 2, "RoleName=exec"));
    ASSERT(strstr(f.url[2], "iam"));
    ASSERT(find(&pf, SK_PF_ROLE, "exec")->state == SK_PF_OK);
    ASSERT(find(&pf, SK_PF_ROLE, "task")->state == SK_PF_FAIL);
    ASSERT(strstr(f.target[0], "GetParameters") && strstr(f.body[0], "\"WithDecryption\":false"));
    ASSERT(find(&pf, SK_PF_SECRET, "/web/key")->state == SK_PF_FAIL);
    ASSERT(strstr(f.body[1], "\"logGroupNamePrefix\":\"/ecs/web\""));
    ASSERT(find(&pf, SK_PF_LOG_GROUP, "/ecs/web")->state == SK_PF_FAIL); /* exact match only */
    ASSERT(find(&pf, SK_PF_IMAGE, "x")->state == SK_PF_TODO);            /* the caller's */
    ASSERT(sk_preflight_failed(&pf) == 3);
    sk_preflight_release(&pf);
    sk_logs_release(&logs);
    fake_aws_release(&f);
    jv_free(td);
}

TEST(run_access_denied_names_the_permission)
{
    static const struct fake_answer a[] = {
        { 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"User: x is not authorized to perform: "
               "logs:DescribeLogGroups\"}" },
    };
    jv td = h_json("{\"containerDefinitions\":[{\"name\":\"app\",\"logConfiguration\":{\"logDriver\":\"awslogs\","
                   "\"options\":{\"awslogs-group\":\"/ecs/web\"}}}]}");
    struct sk_preflight pf;
    struct fake_aws f;
    struct sk_logs logs;
    struct sk_err err;

    sk_err_clear(&err);
    if (fake_aws_init(&f, a, 1) < 0)
        return;
    sk_logs_init(&logs, &f.c, NULL, NULL);
    sk_preflight_plan(td, NULL, &pf);
    ASSERT_OK(sk_preflight_run(&pf, &f.c, &logs, &err), &err);
    ASSERT(pf.v[0].state == SK_PF_FAIL && strstr(pf.v[0].reason, "logs:DescribeLogGroups was denied"));
    sk_preflight_release(&pf);
    sk_logs_release(&logs);
    fake_aws_release(&f);
    jv_free(td);
}

int main(void)
{
    RUN(plan_lists_each_check_once);
    RUN(plan_load_balancers);
    RUN(plan_parameter_arns);
    RUN(plan_bad_values);
    RUN(judge);
    RUN(index_pick);
    RUN(result_json);
    RUN(run_over_canned_answers);
    RUN(run_access_denied_names_the_permission);
    return DONE();
}
