/*
 * fake_aws.h - a client (lib/aws/api.h) whose requests go to a script of canned AWS answers instead of
 * the network, through the HTTP ops seam (sk_http_set_ops) that api_test and creds_test use: the
 * service-client tests (elbv2_test, rds_test, ecr_test) call the library as a tool does and read
 * what it sent. Static credentials from the environment, one attempt per call (no retries), and a
 * clock the test sets.
 */
#ifndef SK_FAKE_AWS_H
#define SK_FAKE_AWS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/client.h"
#include "harness.h"
#include "aws/http.h"

#define FAKE_MAX 8

struct fake_answer {
    long status; /* 0: no answer (a connection reset) */
    const char *body;
};

struct fake_aws {
    struct sk_client c;
    const struct fake_answer *answers;
    int nanswers, calls;
    char url[FAKE_MAX][256];    /* what each call asked */
    char body[FAKE_MAX][1024];  /* its request body */
    char target[FAKE_MAX][128]; /* its X-Amz-Target (JSON protocols) */
    time_t now;
};

static int fake_aws_send(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    struct fake_aws *f = ctx;
    int i = f->calls++;
    const struct fake_answer *a;
    const char *v;

    if (i < FAKE_MAX) {
        v = sk_headers_get(req->headers, "X-Amz-Target");
        snprintf(f->target[i], sizeof(f->target[i]), "%s", v ? v : "");
        snprintf(f->url[i], sizeof(f->url[i]), "%s", req->url);
        snprintf(f->body[i], sizeof(f->body[i]), "%.*s", (int)req->body_len, (const char *)req->body);
    }
    if (i >= f->nanswers)
        return sk_errf(err, SK_E_INTERNAL, "fake: unexpected call %d to %s", i + 1, req->url);
    a = &f->answers[i];
    if (!a->status) {
        err->retryable = SK_RETRY_NO;
        return sk_errf(err, SK_E_NET, "POST %s: connection reset", req->url);
    }
    sk_headers_release(&resp->headers);
    sk_buf_reset(&resp->body);
    resp->status = a->status;
    sk_headers_add(&resp->headers, "x-amzn-RequestId", "req-fake");
    sk_buf_adds(&resp->body, a->body);
    return 0;
}

static time_t fake_aws_now(void *ctx)
{
    return ((struct fake_aws *)ctx)->now;
}

/* The environment of fake_aws_init: no config files, static credentials, eu-west-1, one attempt. */
static void fake_aws_env(void)
{
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_DEFAULT_PROFILE");
    unsetenv("AWS_CA_BUNDLE");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_RETRY_MODE");
}

/* A client of the environment as it is (see fake_aws_env), answering from answers[0..n). */
static int fake_aws_start(struct fake_aws *f, const struct fake_answer *answers, int n)
{
    struct sk_client_opts o;
    struct sk_http_ops ops;
    struct sk_err err;

    memset(f, 0, sizeof(*f));
    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    if (sk_client_init(&f->c, &o, &err) < 0) {
        H_FAIL("sk_client_init: %s", err.msg);
        return -1;
    }
    ops.send = fake_aws_send;
    ops.ctx = f;
    sk_http_set_ops(f->c.http, &ops);
    f->now = 1767225600; /* 2026-01-01T00:00:00Z */
    f->c.t.now = fake_aws_now;
    f->c.t.now_ctx = f;
    f->answers = answers;
    f->nanswers = n;
    return 0;
}

/* A client in eu-west-1 with static credentials, answering from answers[0..n). */
static int fake_aws_init(struct fake_aws *f, const struct fake_answer *answers, int n)
{
    fake_aws_env();
    return fake_aws_start(f, answers, n);
}

static void fake_aws_release(struct fake_aws *f)
{
    sk_client_release(&f->c);
}

/* 1 if the call'th request's body has the form field "name=value" (as sent, URL-encoded). */
static inline int fake_aws_sent(const struct fake_aws *f, int call, const char *field)
{
    const char *b = call < FAKE_MAX ? f->body[call] : "";
    size_t n = strlen(field);

    for (; b && *b; b = strchr(b, '&') ? strchr(b, '&') + 1 : NULL)
        if (strncmp(b, field, n) == 0 && (b[n] == '&' || b[n] == '\0'))
            return 1;
    return 0;
}

#endif
