/*
 * elbv2_test - lib/svc/elbv2.c against canned ELBv2 answers (awsQuery XML, API 2015-12-01): the form
 * each call sends, the structs it fills (absent fields absent), and its errors.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
 */
#include <string.h>

#include "svc/elbv2.h"
#include "fake_aws.h"
#include "harness.h"

#define TG_ARN "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
#define LB1 "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188"
#define LB2 "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/back/60dc6c495c0c9189"
#define NS "xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\""

static const char tg_answer[] =
    "<DescribeTargetGroupsResponse " NS "><DescribeTargetGroupsResult><TargetGroups><member>"
    "<TargetGroupArn>" TG_ARN "</TargetGroupArn><TargetGroupName>web</TargetGroupName>"
    "<Protocol>HTTP</Protocol><Port>8080</Port><VpcId>vpc-3ac0fb5f</VpcId><TargetType>ip</TargetType>"
    "<HealthCheckPort>traffic-port</HealthCheckPort><HealthCheckIntervalSeconds>10</HealthCheckIntervalSeconds>"
    "<HealthCheckTimeoutSeconds>4</HealthCheckTimeoutSeconds><HealthyThresholdCount>3</HealthyThresholdCount>"
    "<UnhealthyThresholdCount>2</UnhealthyThresholdCount><Matcher><HttpCode>200</HttpCode></Matcher>"
    "<LoadBalancerArns><member>" LB1 "</member><member>" LB2 "</member></LoadBalancerArns>"
    "</member></TargetGroups></DescribeTargetGroupsResult>"
    "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeTargetGroupsResponse>";

/* A target group no load balancer routes to yet: LoadBalancerArns empty, no port (a Lambda one). */
static const char tg_lambda_answer[] =
    "<DescribeTargetGroupsResponse " NS "><DescribeTargetGroupsResult><TargetGroups><member>"
    "<TargetGroupArn>" TG_ARN "</TargetGroupArn><TargetGroupName>fn</TargetGroupName>"
    "<TargetType>lambda</TargetType><LoadBalancerArns/></member></TargetGroups></DescribeTargetGroupsResult>"
    "</DescribeTargetGroupsResponse>";

static const char tg_empty_answer[] = "<DescribeTargetGroupsResponse " NS "><DescribeTargetGroupsResult>"
                                      "<TargetGroups/></DescribeTargetGroupsResult></DescribeTargetGroupsResponse>";

static const char tg_not_found[] = "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>TargetGroupNotFound</Code>"
                                   "<Message>One or more target groups not found</Message></Error>"
                                   "<RequestId>req-2</RequestId></ErrorResponse>";

static const char health_answer[] =
    "<DescribeTargetHealthResponse " NS "><DescribeTargetHealthResult><TargetHealthDescriptions>"
    "<member><Target><Id>10.0.1.23</Id><Port>8080</Port><AvailabilityZone>eu-west-1a</AvailabilityZone></Target>"
    "<HealthCheckPort>8080</HealthCheckPort><TargetHealth><State>healthy</State></TargetHealth></member>"
    "<member><Target><Id>10.0.2.7</Id><Port>8080</Port></Target><HealthCheckPort>8080</HealthCheckPort>"
    "<TargetHealth><State>unhealthy</State><Reason>Target.Timeout</Reason>"
    "<Description>Request timed out</Description></TargetHealth></member>"
    "<member><Target><Id>2001:db8::1</Id><Port>70000</Port></Target>"
    "<TargetHealth><State>initial</State><Reason>Elb.RegistrationInProgress</Reason></TargetHealth></member>"
    "</TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>";

static const char health_empty_answer[] =
    "<DescribeTargetHealthResponse " NS "><DescribeTargetHealthResult><TargetHealthDescriptions/>"
    "</DescribeTargetHealthResult></DescribeTargetHealthResponse>";

static const char invalid_target[] = "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>InvalidTarget</Code>"
                                     "<Message>The following targets are not in a running state: i-0abc</Message>"
                                     "</Error><RequestId>req-3</RequestId></ErrorResponse>";

TEST(target_group_by_name)
{
    static const struct fake_answer a[] = { { 200, tg_answer } };
    struct sk_elbv2_target_group tg;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_elbv2_target_group_get(&f.c, "web", &tg, &err), &err);
    ASSERT(f.calls == 1);
    ASSERT(strstr(f.url[0], "https://elasticloadbalancing.eu-west-1.amazonaws.com") == f.url[0]);
    ASSERT(fake_aws_sent(&f, 0, "Action=DescribeTargetGroups"));
    ASSERT(fake_aws_sent(&f, 0, "Version=2015-12-01"));
    ASSERT(fake_aws_sent(&f, 0, "Names.member.1=web"));
    ASSERT(!strstr(f.body[0], "TargetGroupArns"));
    ASSERT_STREQ(tg.arn, TG_ARN);
    ASSERT_STREQ(tg.name, "web");
    ASSERT_STREQ(tg.protocol, "HTTP");
    ASSERT_STREQ(tg.vpc_id, "vpc-3ac0fb5f");
    ASSERT_STREQ(tg.target_type, "ip");
    ASSERT(tg.port == 8080);
    ASSERT(tg.hc_interval_s == 10 && tg.hc_timeout_s == 4);
    ASSERT(tg.healthy_threshold == 3 && tg.unhealthy_threshold == 2);
    ASSERT(tg.nlb_arns == 2);
    if (tg.nlb_arns == 2) {
        ASSERT_STREQ(tg.lb_arns[0], LB1);
        ASSERT_STREQ(tg.lb_arns[1], LB2);
    }
    sk_elbv2_target_group_release(&tg);
    sk_elbv2_target_group_release(&tg); /* released twice: harmless */
    fake_aws_release(&f);
}

TEST(target_group_by_arn_absent_fields)
{
    static const struct fake_answer a[] = { { 200, tg_lambda_answer } };
    struct sk_elbv2_target_group tg;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_elbv2_target_group_get(&f.c, TG_ARN, &tg, &err), &err);
    /* by ARN: TargetGroupArns, URL-encoded */
    ASSERT(strstr(f.body[0], "TargetGroupArns.member.1=arn%3Aaws%3Aelasticloadbalancing%3A") != NULL);
    ASSERT(!strstr(f.body[0], "Names.member"));
    ASSERT_STREQ(tg.name, "fn");
    ASSERT_STREQ(tg.target_type, "lambda");
    ASSERT(tg.protocol == NULL && tg.vpc_id == NULL);
    ASSERT(tg.port == 0 && tg.hc_interval_s == 0 && tg.healthy_threshold == 0);
    ASSERT(tg.nlb_arns == 0 && tg.lb_arns != NULL);
    sk_elbv2_target_group_release(&tg);
    fake_aws_release(&f);
}

TEST(target_group_not_found)
{
    static const struct fake_answer a[] = { { 400, tg_not_found }, { 200, tg_empty_answer }, { 400, tg_not_found } };
    struct sk_elbv2_target_group tg;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 3) < 0)
        return;
    /* AWS's error, and an empty list, are one error naming the target group */
    ASSERT_ERR(sk_elbv2_target_group_get(&f.c, "web", &tg, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "TargetGroupNotFound");
    ASSERT_STREQ(err.msg, "no target group named 'web'");
    ASSERT(tg.arn == NULL && tg.lb_arns == NULL);
    sk_elbv2_target_group_release(&tg);
    ASSERT_ERR(sk_elbv2_target_group_get(&f.c, "web", &tg, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "TargetGroupNotFound");
    ASSERT_STREQ(err.msg, "no target group named 'web'");
    ASSERT_ERR(sk_elbv2_target_group_get(&f.c, TG_ARN, &tg, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.msg, "target group '" TG_ARN "' not found");
    ASSERT(f.calls == 3);
    fake_aws_release(&f);
}

TEST(target_health)
{
    static const struct fake_answer a[] = { { 200, health_answer } };
    static const struct sk_elbv2_target want[] = { { "10.0.1.23", 8080 }, { "10.0.2.7", 0 } };
    struct sk_elbv2_health h;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_elbv2_target_health_get(&f.c, TG_ARN, want, 2, &h, &err), &err);
    ASSERT(fake_aws_sent(&f, 0, "Action=DescribeTargetHealth"));
    ASSERT(strstr(f.body[0], "TargetGroupArn=arn%3Aaws%3Aelasticloadbalancing%3A") != NULL);
    ASSERT(fake_aws_sent(&f, 0, "Targets.member.1.Id=10.0.1.23"));
    ASSERT(fake_aws_sent(&f, 0, "Targets.member.1.Port=8080"));
    ASSERT(fake_aws_sent(&f, 0, "Targets.member.2.Id=10.0.2.7"));
    ASSERT(!strstr(f.body[0], "Targets.member.2.Port")); /* port 0: not given */
    ASSERT(h.n == 3);
    if (h.n == 3) {
        ASSERT_STREQ(h.v[0].id, "10.0.1.23");
        ASSERT(h.v[0].port == 8080);
        ASSERT_STREQ(h.v[0].zone, "eu-west-1a");
        ASSERT_STREQ(h.v[0].state, "healthy");
        ASSERT(h.v[0].reason == NULL && h.v[0].description == NULL);
        ASSERT_STREQ(h.v[1].state, "unhealthy");
        ASSERT_STREQ(h.v[1].reason, "Target.Timeout");
        ASSERT_STREQ(h.v[1].description, "Request timed out");
        ASSERT(h.v[1].zone == NULL);
        ASSERT_STREQ(h.v[2].id, "2001:db8::1");
        ASSERT(h.v[2].port == 0); /* not a port */
        ASSERT_STREQ(h.v[2].reason, "Elb.RegistrationInProgress");
    }
    sk_elbv2_health_release(&h);
    sk_elbv2_health_release(&h);
    fake_aws_release(&f);
}

TEST(target_health_every_target_and_none)
{
    static const struct fake_answer a[] = { { 200, health_empty_answer } };
    struct sk_elbv2_health h;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_elbv2_target_health_get(&f.c, TG_ARN, NULL, 0, &h, &err), &err);
    ASSERT(!strstr(f.body[0], "Targets.member"));
    ASSERT(h.n == 0);
    sk_elbv2_health_release(&h);
    fake_aws_release(&f);
}

TEST(target_health_errors)
{
    static const struct fake_answer a[] = { { 400, invalid_target }, { 400, tg_not_found }, { 0, NULL } };
    static const struct sk_elbv2_target want[] = { { "i-0abc", 0 } };
    struct sk_elbv2_health h;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 3) < 0)
        return;
    ASSERT_ERR(sk_elbv2_target_health_get(&f.c, TG_ARN, want, 1, &h, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "InvalidTarget");
    ASSERT(strstr(err.msg, "not in a running state") != NULL);
    ASSERT(h.n == 0 && h.v == NULL);
    ASSERT_ERR(sk_elbv2_target_health_get(&f.c, TG_ARN, NULL, 0, &h, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "TargetGroupNotFound");
    ASSERT_ERR(sk_elbv2_target_health_get(&f.c, TG_ARN, NULL, 0, &h, &err), &err, SK_E_NET);
    sk_elbv2_health_release(&h);
    fake_aws_release(&f);
}

/* Every reason code ELB documents gets a diagnosis tied to the settings; the notes fire on the
 * figures that make deploys slow or fragile, and not otherwise. */
TEST(diagnose_every_reason)
{
    static const struct {
        const char *reason, *want;
    } cases[] = {
        { "Target.ResponseCodeMismatch", "(HTTP /health on the traffic port) got a status other than 200" },
        { "Target.Timeout", "no answer within its 5s timeout (checks every 30s)" },
        { "Target.FailedHealthChecks", "could not connect" },
        { "Target.NotRegistered", "not registered in the target group" },
        { "Target.NotInUse", "no load balancer listener or rule forwards to this target group" },
        { "Target.DeregistrationInProgress", "drains for up to 300s" },
        { "Target.InvalidState", "stopped or terminated" },
        { "Target.IpUnusable", "cannot be used" },
        { "Target.HealthCheckDisabled", "health checks are off" },
        { "Elb.InitialHealthChecking", "healthy after 5 passing checks 30s apart, 150s at the earliest" },
        { "Elb.RegistrationInProgress", "being registered" },
        { "Elb.InternalError", "internal error" },
    };
    struct sk_elbv2_target_group tg;
    struct sk_buf b = SK_BUF_INIT;
    size_t i;

    memset(&tg, 0, sizeof(tg));
    tg.hc_protocol = (char *)"HTTP";
    tg.hc_port = (char *)"traffic-port";
    tg.hc_path = (char *)"/health";
    tg.matcher = (char *)"200";
    tg.hc_interval_s = 30, tg.hc_timeout_s = 5, tg.healthy_threshold = 5, tg.unhealthy_threshold = 2;
    tg.dereg_delay_s = 300;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sk_buf_reset(&b);
        sk_elbv2_diagnose(&tg, cases[i].reason, &b);
        if (!b.p || !strstr(b.p, cases[i].want))
            H_FAIL("%s: %s", cases[i].reason, b.p ? b.p : "(nothing)");
    }
    sk_buf_reset(&b);
    sk_elbv2_diagnose(&tg, "Target.SomethingNew", &b);
    ASSERT(b.len == 0);
    sk_elbv2_diagnose(&tg, NULL, &b);
    ASSERT(b.len == 0);
    ASSERT(sk_elbv2_earliest_healthy_s(&tg) == 150);
    sk_elbv2_notes(&tg, 0, &b);
    ASSERT(b.p && strstr(b.p, "deregistration delay 300s") && strstr(b.p, "150s after registration") &&
           strstr(b.p, "no health-check grace period"));
    sk_buf_reset(&b);
    tg.dereg_delay_s = 30, tg.hc_interval_s = 5, tg.healthy_threshold = 2;
    sk_elbv2_notes(&tg, 60, &b);
    ASSERT(b.len == 0);
    tg.hc_port = (char *)"9000", tg.hc_protocol = (char *)"TCP";
    sk_elbv2_diagnose(&tg, "Target.Timeout", &b);
    ASSERT(b.p && strstr(b.p, "(TCP on port 9000)"));
    sk_buf_release(&b);
}

int main(void)
{
    RUN(target_group_by_name);
    RUN(target_group_by_arn_absent_fields);
    RUN(target_group_not_found);
    RUN(target_health);
    RUN(target_health_every_target_and_none);
    RUN(target_health_errors);
    RUN(diagnose_every_reason);
    return DONE();
}
