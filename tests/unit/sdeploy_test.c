/*
 * sdeploy_test - the rules of lib/svc/sdeploy.c over service deployments as ECS answers them
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html): the
 * parse, the verdict, the stage order and --wait-until's "passed".
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/json.h"
#include "harness.h"
#include "svc/sdeploy.h"

static void parse(const char *text, struct sk_sdeploy *sd)
{
    jv v = jv_parse(text);
    sk_sd_parse(v, sd);
    jv_free(v);
}

TEST(parse_all_members)
{
    struct sk_sdeploy sd;

    parse("{\"serviceDeploymentArn\":\"arn:sd\",\"status\":\"ROLLBACK_SUCCESSFUL\",\"statusReason\":\"r\","
          "\"lifecycleStage\":\"PRODUCTION_TRAFFIC_SHIFT\",\"deploymentConfiguration\":{\"strategy\":\"CANARY\","
          "\"bakeTimeInMinutes\":15},\"targetServiceRevision\":{\"arn\":\"arn:rev/1\","
          "\"requestedProductionTrafficWeight\":10.0,\"requestedTestTrafficWeight\":100.0},"
          "\"rollback\":{\"reason\":\"alarm\",\"serviceRevisionArn\":\"arn:rev/0\"},"
          "\"alarms\":{\"status\":\"TRIGGERED\",\"alarmNames\":[\"a\",\"b\"],\"triggeredAlarmNames\":[\"b\"]},"
          "\"deploymentCircuitBreaker\":{\"status\":\"MONITORING_COMPLETE\",\"failureCount\":0,\"threshold\":3},"
          "\"lifecycleHookDetails\":[{\"hookId\":\"h1\",\"targetType\":\"AWS_LAMBDA\",\"targetArn\":\"arn:fn\","
          "\"status\":\"SUCCEEDED\"}]}",
          &sd);
    ASSERT_STREQ(sd.arn, "arn:sd");
    ASSERT_STREQ(sd.strategy, "CANARY");
    ASSERT(sd.bake_minutes == 15);
    ASSERT(sd.prod_weight == 10.0 && sd.test_weight == 100.0);
    ASSERT_STREQ(sd.rollback_rev, "arn:rev/0");
    ASSERT(sd.ntriggered == 1);
    ASSERT_STREQ(sd.triggered[0], "b");
    ASSERT(sd.nhooks == 1);
    ASSERT_STREQ(sd.hooks[0].target, "arn:fn");
    ASSERT(sd.cb_threshold == 3);
    sk_sd_release(&sd);

    parse("{}", &sd); /* nothing given: nothing set, nothing leaked */
    ASSERT(sd.arn == NULL && sd.prod_weight < 0 && sd.bake_minutes == -1 && sd.nhooks == 0);
    sk_sd_release(&sd);
    parse("[1]", &sd); /* not an object */
    ASSERT(sd.status == NULL);
    sk_sd_release(&sd);
}

TEST(verdict)
{
    struct sk_sdeploy sd;
    struct sk_deploy_outcome oc;

    parse("{\"status\":\"SUCCESSFUL\"}", &sd);
    ASSERT(sk_sd_judge(&sd, &oc) == SK_DEPLOY_DONE);
    sk_sd_release(&sd);
    parse("{\"status\":\"IN_PROGRESS\"}", &sd);
    ASSERT(sk_sd_judge(&sd, &oc) == SK_DEPLOY_WAIT);
    sk_sd_release(&sd);
    parse("{\"status\":\"ROLLBACK_IN_PROGRESS\"}", &sd);
    ASSERT(sk_sd_judge(&sd, &oc) == SK_DEPLOY_WAIT);
    sk_sd_release(&sd);
    parse("{\"status\":\"ROLLBACK_SUCCESSFUL\",\"statusReason\":\"x\",\"rollback\":{\"reason\":\"alarm fired\"},"
          "\"alarms\":{\"triggeredAlarmNames\":[\"5xx\",\"latency\"]}}",
          &sd);
    ASSERT(sk_sd_judge(&sd, &oc) == SK_DEPLOY_ROLLED_BACK);
    ASSERT_STREQ(oc.reason, "ECS rolled the deployment back: alarm fired (alarms 5xx, latency in ALARM)");
    sk_sd_release(&sd);
    parse("{\"status\":\"STOPPED\",\"statusReason\":\"Service deployment stopped because a newer service deployment "
          "started.\"}",
          &sd);
    ASSERT(sk_sd_judge(&sd, &oc) == SK_DEPLOY_REPLACED);
    sk_sd_release(&sd);
    parse("{\"status\":\"ROLLBACK_FAILED\"}", &sd);
    ASSERT(sk_sd_judge(&sd, &oc) == SK_DEPLOY_FAILED);
    ASSERT_STREQ(oc.reason, "ECS's rollback failed");
    sk_sd_release(&sd);
    ASSERT(sk_sd_terminal("STOPPED") && !sk_sd_terminal("IN_PROGRESS") && !sk_sd_terminal(NULL));
}

TEST(stages_and_passed)
{
    struct sk_sdeploy sd;

    ASSERT(sk_sd_stage_index("RECONCILE_SERVICE") == 0);
    ASSERT(sk_sd_stage_index("CLEAN_UP") == 9);
    ASSERT(sk_sd_stage_index("PRE_PRODUCTION_TRAFFIC_SHIFT") == -1); /* a hook stage, not a lifecycle stage */
    ASSERT(sk_sd_stage_index(NULL) == -1);
    ASSERT_STREQ(sk_sd_stage_name(6), "PRODUCTION_TRAFFIC_SHIFT");
    ASSERT(sk_sd_stage_name(10) == NULL && sk_sd_stage_name(-1) == NULL);

    parse("{\"status\":\"IN_PROGRESS\",\"lifecycleStage\":\"PRODUCTION_TRAFFIC_SHIFT\"}", &sd);
    ASSERT(!sk_sd_passed(&sd, "PRODUCTION_TRAFFIC_SHIFT")); /* in it is not past it */
    ASSERT(sk_sd_passed(&sd, "TEST_TRAFFIC_SHIFT"));
    sk_sd_release(&sd);
    parse("{\"status\":\"IN_PROGRESS\",\"lifecycleStage\":\"BAKE_TIME\"}", &sd);
    ASSERT(sk_sd_passed(&sd, "PRODUCTION_TRAFFIC_SHIFT"));
    sk_sd_release(&sd);
    parse("{\"status\":\"ROLLBACK_IN_PROGRESS\",\"lifecycleStage\":\"BAKE_TIME\"}", &sd);
    ASSERT(!sk_sd_passed(&sd, "PRODUCTION_TRAFFIC_SHIFT")); /* rolling back: passed nothing */
    sk_sd_release(&sd);
    parse("{\"status\":\"SUCCESSFUL\",\"lifecycleStage\":\"CLEAN_UP\"}", &sd);
    ASSERT(sk_sd_passed(&sd, "BAKE_TIME"));
    sk_sd_release(&sd);
}

int main(void)
{
    RUN(parse_all_members);
    RUN(verdict);
    RUN(stages_and_passed);
    return DONE();
}
