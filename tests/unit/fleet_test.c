/* lib/svc/fleet.c: plans, the fleet's exit code, and the poller that answers many services' waits
 * with one DescribeServices per 10 services. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fake_aws.h"
#include "harness.h"
#include "svc/fleet.h"

static int parse(const char *text, struct sk_fleet_plan *p, struct sk_err *err)
{
    sk_err_clear(err);
    return sk_fleet_plan_parse(text, strlen(text), "plan.yaml", p, err);
}

TEST(plan_yaml)
{
    struct sk_fleet_plan p;
    struct sk_err err;

    memset(&p, 0, sizeof(p));
    ASSERT_OK(parse("cluster: ml\n"
                    "services:\n"
                    "  - service: model-a\n"
                    "    images: {app: repo/a:1, sidecar: repo/s:2}\n"
                    "  - service: model-b\n"
                    "    image: repo/b:2\n"
                    "    desired_count: 3\n"
                    "  - model-c\n"
                    "  - service: model-d\n"
                    "    images: [\"app=repo/d:1\"]\n",
                    &p, &err),
              &err);
    ASSERT_STREQ(p.cluster, "ml");
    ASSERT(p.n == 4);
    if (p.n == 4) {
        ASSERT_STREQ(p.v[0].service, "model-a");
        ASSERT(p.v[0].nimages == 2);
        ASSERT_STREQ(p.v[0].images[0], "app=repo/a:1");
        ASSERT_STREQ(p.v[0].images[1], "sidecar=repo/s:2");
        ASSERT(p.v[0].desired == -1);
        ASSERT_STREQ(p.v[1].images[0], "repo/b:2");
        ASSERT(p.v[1].desired == 3);
        ASSERT(p.v[2].nimages == 0);
        ASSERT_STREQ(p.v[3].images[0], "app=repo/d:1");
    }
    sk_fleet_plan_release(&p);
    /* JSON is YAML */
    ASSERT_OK(parse("{\"services\": [{\"service\": \"x\", \"image\": \"r:1\", \"desiredCount\": 0}]}", &p, &err), &err);
    ASSERT(p.n == 1 && p.v[0].desired == 0 && p.cluster == NULL);
    sk_fleet_plan_release(&p);
}

TEST(plan_refusals)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        { "- a\n", "a plan is a map" },
        { "services: []\n", "at least one service" },
        { "services: [a]\nextra: 1\n", "unknown key 'extra'" },
        { "services:\n  - service: a\n    imagez: x\n", "services[0]: unknown key 'imagez'" },
        { "services:\n  - a\n  - a\n", "service 'a' is named twice" },
        { "services:\n  - image: x\n", "services[0]: 'service'" },
        { "services:\n  - service: a\n    image: x\n    images: [y]\n", "exclude each other" },
        { "services:\n  - service: a\n    images: [\"bad image\"]\n", "[CONTAINER=]IMAGE" },
        { "services:\n  - service: a\n    images: [\"app=\"]\n", "[CONTAINER=]IMAGE" },
        { "services:\n  - service: a\n    images: [\"app=x\", \"app=y\"]\n", "container 'app' has two images" },
        { "services:\n  - service: a\n    desired_count: -1\n", "desired_count" },
        { "services:\n  - service: a\n    desired_count: 1.5\n", "desired_count" },
        { "services:\n  - 7\n", "a service is a name or a map" },
        { "cluster: 3\nservices: [a]\n", "cluster must be a name" },
        { "services:\n  - service: \"a b\"\n", "blanks" },
    };
    struct sk_fleet_plan p;
    struct sk_err err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&p, 0, sizeof(p));
        ASSERT(parse(bad[i].text, &p, &err) < 0);
        ASSERT(err.kind == SK_E_USAGE);
        if (!strstr(err.msg, bad[i].msg))
            H_FAIL("%s: got '%s', want '%s'", bad[i].text, err.msg, bad[i].msg);
        sk_fleet_plan_release(&p);
    }
}

TEST(worst)
{
    ASSERT(sk_fleet_worst(0, 0) == 0);
    ASSERT(sk_fleet_worst(0, 1) == 1);
    ASSERT(sk_fleet_worst(6, 1) == 6);
    ASSERT(sk_fleet_worst(4, 70) == 70);
}

/* ---- the poller, against canned DescribeServices answers ---- */

struct waiter {
    struct sk_fleet_poll *p;
    char name[32];
    int rc;
    char got[64];
    char code[128];
};

static void *wait_one(void *arg)
{
    struct waiter *w = arg;
    struct sk_ecs_service svc;
    struct sk_err err;

    sk_err_clear(&err);
    w->rc = sk_fleet_poll_get(w->p, w->name, &svc, &err);
    if (w->rc == 0)
        snprintf(w->got, sizeof(w->got), "%s %s", svc.name ? svc.name : "?", svc.status ? svc.status : "?");
    else
        snprintf(w->code, sizeof(w->code), "%s", err.aws_code);
    sk_ecs_service_release(&svc);
    return NULL;
}

/* Services s1..s11 (s12 is missing) in every answer: whichever ten a call asks for are there. */
static char *answer_body(void)
{
    static char body[8192];
    size_t n = 0;
    int i;

    n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"services\":[");
    for (i = 1; i <= 11; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "%s{\"serviceName\":\"s%d\",\"serviceArn\":\"arn:aws:ecs:eu-west-1:1:service/c/s%d\","
                              "\"status\":\"ACTIVE\",\"deployments\":[]}",
                              i > 1 ? "," : "", i, i);
    snprintf(body + n, sizeof(body) - n, "],\"failures\":[{\"arn\":\"s12\",\"reason\":\"MISSING\"}]}");
    return body;
}

TEST(poller_batches_ten_a_call)
{
    struct fake_answer a[4];
    struct fake_aws f;
    struct sk_fleet_poll *p;
    struct sk_err err;
    struct waiter w[12];
    pthread_t th[12];
    long answers = 0, calls;
    int i, k, names;

    for (i = 0; i < 4; i++) {
        a[i].status = 200;
        a[i].body = answer_body();
    }
    if (fake_aws_init(&f, a, 4) < 0)
        return;
    sk_err_clear(&err);
    ASSERT_OK(sk_fleet_poll_start(&p, &f.c, "c", 0.3, &err), &err);
    for (i = 0; i < 12; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].p = p;
        snprintf(w[i].name, sizeof(w[i].name), "s%d", i + 1);
        ASSERT(pthread_create(&th[i], NULL, wait_one, &w[i]) == 0);
    }
    for (i = 0; i < 12; i++)
        pthread_join(th[i], NULL);
    calls = sk_fleet_poll_calls(p, &answers);
    sk_fleet_poll_stop(p);
    for (i = 0; i < 11; i++) {
        char want[64];
        snprintf(want, sizeof(want), "s%d ACTIVE", i + 1);
        ASSERT(w[i].rc == 0);
        ASSERT_STREQ(w[i].got, want);
    }
    ASSERT(w[11].rc < 0);
    ASSERT_STREQ(w[11].code, "ServiceNotFoundException");
    ASSERT(answers == 12);
    /* the first wait is answered at once; the others gather for the next round: 10, then the rest */
    ASSERT(calls >= 2 && calls <= 4);
    for (k = 0; k < calls && k < FAKE_MAX; k++) {
        const char *b = f.body[k];
        ASSERT(strstr(f.target[k], "DescribeServices") != NULL);
        for (names = 0; (b = strstr(b, "\"s")) != NULL; b++)
            names += b[2] >= '0' && b[2] <= '9'; /* "s1".."s12", not "services" */
        ASSERT(names >= 1 && names <= 10);
    }
    fake_aws_release(&f);
}

TEST(poller_failed_round_fails_its_waits)
{
    static const struct fake_answer a[] = { { 400, "{\"__type\":\"ClusterNotFoundException\",\"message\":\"no\"}" } };
    struct fake_aws f;
    struct sk_fleet_poll *p;
    struct sk_ecs_service svc;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    sk_err_clear(&err);
    ASSERT_OK(sk_fleet_poll_start(&p, &f.c, "c", 0.01, &err), &err);
    ASSERT(sk_fleet_poll_get(p, "s1", &svc, &err) < 0);
    ASSERT_STREQ(err.aws_code, "ClusterNotFoundException");
    sk_ecs_service_release(&svc);
    sk_fleet_poll_stop(p);
    sk_fleet_poll_stop(NULL);
    fake_aws_release(&f);
}

int main(void)
{
    RUN(plan_yaml);
    RUN(plan_refusals);
    RUN(worst);
    RUN(poller_batches_ten_a_call);
    RUN(poller_failed_round_fails_its_waits);
    return DONE();
}
