/*
 * api_test - the API layer over a scripted fake transport: standard-mode retries (what is
 * retried, backoff, quota, attempts), re-signing of every attempt, both protocols' requests and
 * error documents, the mapping of rejected credentials, and clock skew correction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/api.h"
#include "aws/client.h"
#include "harness.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "aws/sigv4.h"

#define MAX_STEPS 16

struct step {
    long status; /* 0: a network failure of class net_retry */
    const char *errortype;
    const char *body;
    int net_retry;
};

struct fake {
    struct step steps[MAX_STEPS];
    int nsteps, calls;
    char auth[MAX_STEPS][256];
    char date[MAX_STEPS][32];
    char body[MAX_STEPS][512];
    char target[MAX_STEPS][128];
    char ctype[MAX_STEPS][128];
    unsigned flags[MAX_STEPS];
    long timeout_ms[MAX_STEPS];
    const char *retry_after[MAX_STEPS]; /* per step: "Name: value" of a header asking for a delay */
    const char *resp_date[MAX_STEPS];   /* per step: the response's Date header */
    long sleeps[MAX_STEPS];
    int nsleeps;
    time_t now;
};

static int fake_send(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    struct fake *f = ctx;
    int i = f->calls++;
    const struct step *s = &f->steps[i < f->nsteps ? i : f->nsteps - 1];
    const char *v;

    if (i < MAX_STEPS) {
        v = sk_headers_get(req->headers, "Authorization");
        snprintf(f->auth[i], sizeof(f->auth[i]), "%s", v ? v : "");
        v = sk_headers_get(req->headers, "X-Amz-Date");
        snprintf(f->date[i], sizeof(f->date[i]), "%s", v ? v : "");
        v = sk_headers_get(req->headers, "X-Amz-Target");
        snprintf(f->target[i], sizeof(f->target[i]), "%s", v ? v : "");
        v = sk_headers_get(req->headers, "Content-Type");
        snprintf(f->ctype[i], sizeof(f->ctype[i]), "%s", v ? v : "");
        snprintf(f->body[i], sizeof(f->body[i]), "%.*s", (int)req->body_len, (const char *)req->body);
        f->flags[i] = req->flags;
        f->timeout_ms[i] = req->timeout_ms;
    }
    if (!s->status) {
        err->retryable = s->net_retry;
        return sk_errf(err, SK_E_NET, "POST fake: connection reset");
    }
    sk_headers_release(&resp->headers);
    sk_buf_reset(&resp->body);
    resp->status = s->status;
    if (s->errortype)
        sk_headers_add(&resp->headers, "X-Amzn-Errortype", s->errortype);
    sk_headers_add(&resp->headers, "x-amzn-RequestId", "req-123");
    if (i < MAX_STEPS && f->retry_after[i]) {
        char name[64];
        const char *colon = strchr(f->retry_after[i], ':');
        snprintf(name, sizeof(name), "%.*s", (int)(colon - f->retry_after[i]), f->retry_after[i]);
        sk_headers_add(&resp->headers, name, colon + 2);
    }
    if (i < MAX_STEPS && f->resp_date[i])
        sk_headers_add(&resp->headers, "Date", f->resp_date[i]);
    if (s->body)
        sk_buf_adds(&resp->body, s->body);
    return 0;
}

static void fake_sleep(void *ctx, long ms)
{
    struct fake *f = ctx;
    if (f->nsleeps < MAX_STEPS)
        f->sleeps[f->nsleeps++] = ms;
}

static time_t fake_now(void *ctx)
{
    struct fake *f = ctx;
    return f->now++; /* every attempt is signed one second later */
}

struct rig {
    struct fake f;
    struct sk_http *http;
    struct sk_retry retry;
    struct sk_transport t;
    struct sk_creds creds;
};

static void rig_init(struct rig *r)
{
    struct sk_http_ops ops;
    struct sk_err err;

    memset(r, 0, sizeof(*r));
    r->f.now = 1767225600; /* 2026-01-01T00:00:00Z */
    r->http = sk_http_new(NULL);
    ops.send = fake_send;
    ops.ctx = &r->f;
    sk_http_set_ops(r->http, &ops);
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_RETRY_MODE");
    sk_retry_init(&r->retry, NULL, &err);
    r->retry.sleep = fake_sleep;
    r->retry.sleep_ctx = &r->f;
    r->t.http = r->http;
    r->t.retry = &r->retry;
    r->t.now = fake_now;
    r->t.now_ctx = &r->f;
    r->creds.access_key_id = xstrdup("AKIDEXAMPLE");
    r->creds.secret_access_key = xstrdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
}

static void rig_release(struct rig *r)
{
    sk_http_free(r->http);
    sk_creds_release(&r->creds);
}

static void script(struct rig *r, const struct step *steps, int n)
{
    memcpy(r->f.steps, steps, (size_t)n * sizeof(*steps));
    r->f.nsteps = n;
}

static int call_json(struct rig *r, jv *out, struct sk_err *err)
{
    return sk_api_json(&r->t, &sk_svc_ssm, "http://127.0.0.1:9/", "us-east-1", &r->creds, "GetParameter",
                       jv_object_set(jv_object(), jv_string("Name"), jv_string("/a")), 0, out, err);
}

TEST(json_request_shape)
{
    struct rig r;
    struct step s[] = { { 200, NULL, "{\"Parameter\":{\"Name\":\"/a\"}}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed) {
        jv param = sk_json_get(out, "Parameter");
        ASSERT_STREQ(sk_json_str(param, "Name"), "/a");
        jv_free(param);
        jv_free(out);
    }
    ASSERT_STREQ(r.f.target[0], "AmazonSSM.GetParameter");
    ASSERT_STREQ(r.f.ctype[0], "application/x-amz-json-1.1");
    ASSERT_STREQ(r.f.body[0], "{\"Name\":\"/a\"}");
    ASSERT(strncmp(r.f.auth[0], "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ssm/aws4_request, ", 77) ==
           0);
    ASSERT(strstr(r.f.auth[0], "SignedHeaders=content-type;host;x-amz-date;x-amz-target,") != NULL);
    rig_release(&r);
}

TEST(retries_5xx_and_resigns_each_attempt)
{
    struct rig r;
    struct step s[] = { { 500, NULL, "{}", 0 }, { 503, NULL, "", 0 }, { 200, NULL, "{}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 3);
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.calls == 3);
    ASSERT(r.f.nsleeps == 2);
    ASSERT(r.f.sleeps[0] >= 0 && r.f.sleeps[0] < 1000); /* first retry: up to 1 s */
    ASSERT(r.f.sleeps[1] >= 0 && r.f.sleeps[1] < 2000); /* second: up to 2 s */
    ASSERT(strcmp(r.f.date[0], r.f.date[1]) != 0 && strcmp(r.f.date[1], r.f.date[2]) != 0);
    ASSERT(strcmp(r.f.auth[0], r.f.auth[1]) != 0);
    ASSERT(strcmp(r.f.body[0], r.f.body[2]) == 0); /* the same body every time */
    /* 2 retries cost 10; the success refunds the last cost (5). */
    ASSERT(r.retry.quota == SK_RETRY_QUOTA_MAX - 5);
    rig_release(&r);
}

TEST(throttling_and_transient_codes_retry)
{
    struct rig r;
    struct step s[] = { { 400, "ThrottlingException", "{\"message\":\"slow down\"}", 0 },
                        { 400, NULL, "{\"__type\":\"RequestTimeoutException\"}", 0 },
                        { 200, NULL, "{}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 3);
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.calls == 3);
    rig_release(&r);
}

TEST(client_errors_are_not_retried)
{
    struct rig r;
    struct step s[] = {
        { 400, NULL, "{\"__type\":\"com.amazonaws.ssm#ParameterNotFound\",\"Message\":\"no such parameter\"}", 0 }
    };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT(r.f.calls == 1);
    ASSERT_STREQ(err.aws_code, "ParameterNotFound");
    ASSERT_STREQ(err.msg, "ParameterNotFound: no such parameter");
    ASSERT_STREQ(err.request_id, "req-123");
    ASSERT(err.http_status == 400);
    rig_release(&r);
}

TEST(error_type_sanitised_from_header)
{
    struct rig r;
    struct step s[] = { { 400, "ValidationException:http://internal.amazon.com/coral/", "{\"message\":\"bad\"}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "ValidationException");
    rig_release(&r);
}

TEST(rejected_credentials_are_config_errors)
{
    struct rig r;
    struct step s[] = { { 403, NULL,
                          "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>"
                          "<Message>signature mismatch</Message></Error></Errors></ErrorResponse>",
                          0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.aws_code, "SignatureDoesNotMatch");
    ASSERT(strstr(err.msg, "credentials rejected") != NULL);
    ASSERT(r.f.calls == 1);
    rig_release(&r);
}

TEST(max_attempts_from_env)
{
    struct rig r;
    struct step s[] = { { 503, NULL, "", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    setenv("AWS_MAX_ATTEMPTS", "5", 1);
    ASSERT_OK(sk_retry_init(&r.retry, NULL, &err), &err);
    r.retry.sleep = fake_sleep;
    r.retry.sleep_ctx = &r.f;
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT(r.f.calls == 5);
    ASSERT(strstr(err.msg, "(after 5 attempts)") != NULL);
    setenv("AWS_MAX_ATTEMPTS", "1", 1);
    ASSERT_OK(sk_retry_init(&r.retry, NULL, &err), &err);
    ASSERT(r.retry.max_attempts == 1);
    setenv("AWS_MAX_ATTEMPTS", "0", 1);
    ASSERT_ERR(sk_retry_init(&r.retry, NULL, &err), &err, SK_E_CONFIG);
    setenv("AWS_MAX_ATTEMPTS", "three", 1);
    ASSERT_ERR(sk_retry_init(&r.retry, NULL, &err), &err, SK_E_CONFIG);
    unsetenv("AWS_MAX_ATTEMPTS");
    setenv("AWS_RETRY_MODE", "sometimes", 1);
    ASSERT_ERR(sk_retry_init(&r.retry, NULL, &err), &err, SK_E_CONFIG);
    setenv("AWS_RETRY_MODE", "standard", 1);
    ASSERT_OK(sk_retry_init(&r.retry, NULL, &err), &err);
    ASSERT(r.retry.max_attempts == 3);
    unsetenv("AWS_RETRY_MODE");
    rig_release(&r);
}

TEST(retry_quota_runs_out)
{
    struct rig r;
    struct step s[] = { { 503, NULL, "", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    r.retry.max_attempts = 10;
    r.retry.quota = 7; /* one retry (5) fits, the next does not */
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT(r.f.calls == 2);
    ASSERT(strstr(err.msg, "retry quota exhausted") != NULL);
    ASSERT(r.retry.quota == 2);
    rig_release(&r);
}

TEST(timeouts_cost_more_quota)
{
    struct rig r;
    struct step s[] = { { 0, NULL, NULL, SK_RETRY_TIMEOUT }, { 200, NULL, "{}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    r.retry.quota = 100;
    script(&r, s, 2);
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.calls == 2);
    ASSERT(r.retry.quota == 100); /* took 10, refunded 10 */
    r.retry.quota = 100;
    r.f.calls = 0;
    {
        struct step s2[] = { { 0, NULL, NULL, SK_RETRY_TIMEOUT },
                             { 0, NULL, NULL, SK_RETRY_TIMEOUT },
                             { 0, NULL, NULL, SK_RETRY_TIMEOUT } };
        script(&r, s2, 3);
    }
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_NET);
    ASSERT(r.f.calls == 3);
    ASSERT(r.retry.quota == 80);
    rig_release(&r);
}

TEST(non_retryable_network_errors_stop)
{
    struct rig r;
    struct step s[] = { { 0, NULL, NULL, SK_RETRY_NO } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_NET);
    ASSERT(r.f.calls == 1);
    rig_release(&r);
}

TEST(success_refunds_one)
{
    struct rig r;
    struct step s[] = { { 200, NULL, "{}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    r.retry.quota = 490;
    script(&r, s, 1);
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.retry.quota == 491);
    rig_release(&r);
}

TEST(backoff_bounds)
{
    struct sk_retry rt;
    struct sk_err err;
    int attempt, i;

    unsetenv("AWS_MAX_ATTEMPTS");
    ASSERT_OK(sk_retry_init(&rt, NULL, &err), &err);
    for (attempt = 2; attempt < 12; attempt++) {
        long cap = 1000L << (attempt - 2 < 5 ? attempt - 2 : 5);
        if (cap > SK_RETRY_MAX_BACKOFF_MS)
            cap = SK_RETRY_MAX_BACKOFF_MS;
        for (i = 0; i < 200; i++) {
            long d = sk_retry_backoff_ms(&rt, attempt);
            if (d < 0 || d >= cap)
                H_FAIL("attempt %d: delay %ld outside [0,%ld)", attempt, d, cap);
        }
    }
    ASSERT(sk_retry_classify(429, NULL) == SK_RETRY_THROTTLE);
    ASSERT(sk_retry_classify(400, "SlowDown") == SK_RETRY_THROTTLE);
    ASSERT(sk_retry_classify(504, NULL) == SK_RETRY_TRANSIENT);
    ASSERT(sk_retry_classify(501, NULL) == SK_RETRY_NO);
    ASSERT(sk_retry_classify(400, "ValidationException") == SK_RETRY_NO);
}

TEST(query_request_and_result)
{
    struct rig r;
    struct step s[] = { { 200, NULL,
                          "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                          "<GetCallerIdentityResult><Arn>arn:aws:iam::123:user/x</Arn><Account>123</Account>"
                          "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
                          "</GetCallerIdentityResponse>",
                          0 } };
    struct sk_form form;
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    sk_form_init(&form);
    sk_form_add(&form, "Targets.member.1.Id", "i-1 2&3");
    ASSERT_OK(sk_api_query(&r.t, &sk_svc_sts, "http://127.0.0.1:9", "us-east-1", &r.creds, "GetCallerIdentity", &form,
                           NULL, 0, &out, &err),
              &err);
    if (!h_cur_failed) {
        ASSERT_STREQ(sk_json_str(out, "Arn"), "arn:aws:iam::123:user/x");
        jv_free(out);
    }
    ASSERT_STREQ(r.f.body[0], "Action=GetCallerIdentity&Version=2011-06-15&Targets.member.1.Id=i-1%202%263");
    ASSERT_STREQ(r.f.ctype[0], "application/x-www-form-urlencoded; charset=utf-8");
    ASSERT(r.f.target[0][0] == '\0');
    sk_form_release(&form);
    rig_release(&r);
}

TEST(query_error_document)
{
    struct rig r;
    struct step s[] = { { 400, NULL,
                          "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">"
                          "<Error><Type>Sender</Type><Code>TargetGroupNotFound</Code><Message>no such tg</Message>"
                          "</Error><RequestId>rid-9</RequestId></ErrorResponse>",
                          0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(sk_api_query(&r.t, &sk_svc_elbv2, "http://127.0.0.1:9", "us-east-1", &r.creds, "DescribeTargetHealth",
                            NULL, NULL, 0, &out, &err),
               &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "TargetGroupNotFound");
    ASSERT_STREQ(err.msg, "TargetGroupNotFound: no such tg");
    rig_release(&r);
}

TEST(unsigned_calls_and_secret_flags)
{
    struct rig r;
    struct step s[] = { { 200, NULL,
                          "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult/>"
                          "</AssumeRoleWithWebIdentityResponse>",
                          0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_OK(sk_api_query(&r.t, &sk_svc_sts, "http://127.0.0.1:9", "us-east-1", NULL, "AssumeRoleWithWebIdentity",
                           NULL, NULL, SK_API_SECRET_REQ | SK_API_SECRET_RESP, &out, &err),
              &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.auth[0][0] == '\0');
    ASSERT(r.f.flags[0] == (SK_HTTP_SECRET_REQ | SK_HTTP_SECRET_RESP));
    rig_release(&r);
}

TEST(garbage_responses_are_parse_errors)
{
    struct rig r;
    struct step s[] = { { 200, NULL, "{\"truncated\":", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_PARSE);
    {
        struct step s2[] = { { 502, NULL, "<html>bad gateway</html>", 0 } };
        r.f.calls = 0;
        script(&r, s2, 1);
    }
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "HTTP502");
    ASSERT(r.f.calls == 3);
    rig_release(&r);
}

/* A throttle's Retry-After (seconds) or x-amz-retry-after (ms) sets the least delay, capped at 20 s;
 * an HTTP-date is ignored (full-jitter backoff only). */
TEST(retry_after_is_honoured)
{
    static const struct {
        const char *header;
        long min_ms, max_ms;
    } cases[] = {
        { "Retry-After: 3", 3000, 3000 },
        { "Retry-After: 0.25", 250, 1000 },
        { "Retry-After: 120", 20000, 20000 },
        { "x-amz-retry-after: 1500", 1500, 1500 },
        { "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT", 0, 999 },
        { "Retry-After: -5", 0, 999 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rig r;
        struct step s[] = { { 400, "ThrottlingException", "{}", 0 }, { 200, NULL, "{}", 0 } };
        struct sk_err err;
        jv out;

        rig_init(&r);
        script(&r, s, 2);
        r.f.retry_after[0] = cases[i].header;
        ASSERT_OK(call_json(&r, &out, &err), &err);
        if (!h_cur_failed)
            jv_free(out);
        ASSERT(r.f.calls == 2);
        ASSERT(r.f.nsleeps == 1);
        if (r.f.sleeps[0] < cases[i].min_ms || r.f.sleeps[0] > cases[i].max_ms)
            H_FAIL("%s: slept %ld ms", cases[i].header, r.f.sleeps[0]);
        rig_release(&r);
    }
}

/* A 503 with Retry-After is honoured too; a non-retryable error's is not (no retry at all). */
TEST(retry_after_on_5xx_only_when_retried)
{
    struct rig r;
    struct step s[] = { { 503, "ServiceUnavailable", "{}", 0 }, { 200, NULL, "{}", 0 } };
    struct step s2[] = { { 400, "ValidationException", "{}", 0 } };
    struct sk_err err;
    jv out;

    rig_init(&r);
    script(&r, s, 2);
    r.f.retry_after[0] = "Retry-After: 2";
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.nsleeps == 1 && r.f.sleeps[0] == 2000);
    rig_release(&r);
    rig_init(&r);
    script(&r, s2, 1);
    r.f.retry_after[0] = "Retry-After: 2";
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT(r.f.calls == 1 && r.f.nsleeps == 0);
    rig_release(&r);
}

/* SK_READ_TIMEOUT: seconds with fractions, validated; the transport's limit reaches every attempt. */
TEST(read_timeout_setting)
{
    struct rig r;
    struct step s[] = { { 0, NULL, NULL, SK_RETRY_TIMEOUT }, { 200, NULL, "{}", 0 } };
    struct sk_err err;
    long ms = -1;
    jv out;

    unsetenv("SK_READ_TIMEOUT");
    ASSERT_OK(sk_read_timeout_ms(&ms, &err), &err);
    ASSERT(ms == 0);
    setenv("SK_READ_TIMEOUT", "0.5", 1);
    ASSERT_OK(sk_read_timeout_ms(&ms, &err), &err);
    ASSERT(ms == 500);
    setenv("SK_READ_TIMEOUT", "30", 1);
    ASSERT_OK(sk_read_timeout_ms(&ms, &err), &err);
    ASSERT(ms == 30000);
    setenv("SK_READ_TIMEOUT", "2s", 1);
    ASSERT_ERR(sk_read_timeout_ms(&ms, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "SK_READ_TIMEOUT") != NULL);
    setenv("SK_READ_TIMEOUT", "0", 1);
    ASSERT_ERR(sk_read_timeout_ms(&ms, &err), &err, SK_E_CONFIG);
    setenv("SK_READ_TIMEOUT", "7200", 1);
    ASSERT_ERR(sk_read_timeout_ms(&ms, &err), &err, SK_E_CONFIG);
    unsetenv("SK_READ_TIMEOUT");

    rig_init(&r);
    r.t.timeout_ms = 1500;
    script(&r, s, 2);
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.calls == 2);
    ASSERT(r.f.timeout_ms[0] == 1500 && r.f.timeout_ms[1] == 1500);
    rig_release(&r);
}

/* SK_RETRY_SCALE shrinks the backoff (tests), validated; it never shrinks a Retry-After. */
TEST(retry_scale)
{
    struct sk_retry r;
    struct sk_err err;
    int i;

    setenv("SK_RETRY_SCALE", "0.01", 1);
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    for (i = 0; i < 50; i++)
        ASSERT(sk_retry_backoff_ms(&r, 2) < 10 && sk_retry_backoff_ms(&r, 6) < 160);
    setenv("SK_RETRY_SCALE", "2", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "SK_RETRY_SCALE") != NULL);
    setenv("SK_RETRY_SCALE", "x", 1);
    ASSERT_ERR(sk_retry_init(&r, NULL, &err), &err, SK_E_CONFIG);
    unsetenv("SK_RETRY_SCALE");
    ASSERT_OK(sk_retry_init(&r, NULL, &err), &err);
    ASSERT(r.scale == 1.0);
    {
        struct rig g;
        struct step s[] = { { 400, "ThrottlingException", "{}", 0 }, { 200, NULL, "{}", 0 } };
        jv out;
        setenv("SK_RETRY_SCALE", "0.01", 1);
        rig_init(&g);
        unsetenv("SK_RETRY_SCALE");
        script(&g, s, 2);
        g.f.retry_after[0] = "Retry-After: 1";
        ASSERT_OK(call_json(&g, &out, &err), &err);
        if (!h_cur_failed)
            jv_free(out);
        ASSERT(g.f.nsleeps == 1 && g.f.sleeps[0] == 1000);
        rig_release(&g);
    }
}

/* A PutParameter of a SecureString: its Value is a secret of the connection from the request on. */
static int put_secure(struct rig *r, const char *value, unsigned flags, struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    jv out;
    int rc;

    sk_buf_addf(&body, "{\"Name\":\"/db/url\",\"Type\":\"SecureString\",\"Value\":\"%s\"}", value);
    rc = sk_api_json_raw(&r->t, &sk_svc_ssm, "http://127.0.0.1:9/", "us-east-1", &r->creds, "PutParameter", body.p,
                         body.len, flags, &out, err);
    if (rc == 0)
        jv_free(out);
    sk_buf_release(&body);
    return rc;
}

/* An error that quotes the request (SSM's validation errors can) shows no secret of it. */
TEST(error_message_quoting_a_secret_is_scrubbed)
{
    struct rig r;
    struct step s[] = { { 400, "ValidationException",
                          "{\"message\":\"1 validation error detected: Value 'pg://u:s3cr3t-v4lue@db' at 'value' "
                          "failed to satisfy constraint\"}",
                          0 } };
    struct sk_err err;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(put_secure(&r, "pg://u:s3cr3t-v4lue@db", SK_API_SECRET_REQ, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.msg, "ValidationException: 1 validation error detected: Value '<redacted>' at 'value' failed "
                          "to satisfy constraint");
    /* later calls too: the value stays registered on the connection */
    r.f.calls = 0;
    ASSERT_ERR(call_json(&r, NULL, &err), &err, SK_E_AWS);
    ASSERT(strstr(err.msg, "s3cr3t") == NULL && strstr(err.msg, "<redacted>") != NULL);
    rig_release(&r);

    /* Without SK_API_SECRET_REQ (a String parameter) the value is no secret: kept. */
    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(put_secure(&r, "pg://u:s3cr3t-v4lue@db", 0, &err), &err, SK_E_AWS);
    ASSERT(strstr(err.msg, "'pg://u:s3cr3t-v4lue@db'") != NULL);
    rig_release(&r);
}

/* Secrets of a secret response (GetSecretValue), of a query form (a web identity token) and the
 * ones a tool registers are scrubbed as well, and the message is cut only after scrubbing. */
TEST(secrets_from_responses_forms_and_registered)
{
    struct rig r;
    struct step s[] = { { 200, NULL, "{\"Name\":\"db\",\"SecretString\":\"resp-s3cret-9\"}", 0 },
                        { 400, "ValidationException", "{\"message\":\"echo resp-s3cret-9\"}", 0 } };
    struct step q[] = { { 400, NULL,
                          "<ErrorResponse><Error><Code>ValidationError</Code><Message>token eyJ.tok+en is "
                          "bad</Message></Error></ErrorResponse>",
                          0 } };
    struct sk_form form;
    struct sk_buf msg = SK_BUF_INIT;
    struct sk_err err;
    jv out;
    int i;

    rig_init(&r);
    script(&r, s, 2);
    ASSERT_OK(sk_api_json(&r.t, &sk_svc_secretsmanager, "http://127.0.0.1:9/", "us-east-1", &r.creds, "GetSecretValue",
                          jv_object_set(jv_object(), jv_string("SecretId"), jv_string("db")), SK_API_SECRET_RESP, &out,
                          &err),
              &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.msg, "ValidationException: echo <redacted>");
    rig_release(&r);

    rig_init(&r);
    script(&r, q, 1);
    sk_form_init(&form);
    sk_form_add(&form, "WebIdentityToken", "eyJ.tok+en");
    ASSERT_ERR(sk_api_query(&r.t, &sk_svc_sts, "http://127.0.0.1:9", "us-east-1", NULL, "AssumeRoleWithWebIdentity",
                            &form, NULL, SK_API_SECRET_REQ, &out, &err),
               &err, SK_E_AWS);
    ASSERT_STREQ(err.msg, "ValidationError: token <redacted> is bad");
    sk_form_release(&form);
    rig_release(&r);

    /* A secret that straddles the 400th byte of the message: scrubbed whole, then cut. */
    rig_init(&r);
    sk_secrets_add(sk_http_secrets(r.http), "straddling-secret-value", 23);
    sk_buf_adds(&msg, "{\"message\":\"");
    for (i = 0; i < 390; i++)
        sk_buf_addch(&msg, 'm');
    sk_buf_adds(&msg, "straddling-secret-value and more text after it\"}");
    {
        struct step l[] = { { 400, "ValidationException", msg.p, 0 } };
        script(&r, l, 1);
        ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    }
    ASSERT(strstr(err.msg, "stradd") == NULL && strstr(err.msg, "strad") == NULL);
    ASSERT(strlen(err.msg) < sizeof(err.msg));
    sk_buf_release(&msg);
    rig_release(&r);
}

/* What a server wrote is escaped: no escape sequence, line break or workflow command gets through
 * to the message, the code or the request id, and the message is cut on a character boundary. */
TEST(error_text_escaped_and_bounded)
{
    struct rig r;
    struct step s[] = { { 400, "Bad\x1b[31mCode",
                          "{\"message\":\"line1\\n::set-output name=x::y \\u001b]0;pwned\\u0007 ##[add-mask]z\"}",
                          0 } };
    struct sk_buf big = SK_BUF_INIT;
    struct sk_err err;
    jv out;
    int i;

    rig_init(&r);
    script(&r, s, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "Bad\\x1b[31mCode");
    ASSERT_STREQ(err.msg, "Bad\\x1b[31mCode: line1\\n::set-output name=x::y \\x1b]0;pwned\\x07 ##\\x5badd-mask]z");
    rig_release(&r);

    rig_init(&r);
    sk_buf_adds(&big, "{\"message\":\"");
    for (i = 0; i < 300; i++)
        sk_buf_adds(&big, "\xc3\xa9"); /* 600 bytes of e-acute */
    sk_buf_adds(&big, "\"}");
    {
        struct step l[] = { { 400, "ValidationException", big.p, 0 } };
        script(&r, l, 1);
        ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_AWS);
    }
    ASSERT(sk_utf8_valid(err.msg, strlen(err.msg)));
    ASSERT(strlen(err.msg) <= strlen("ValidationException: ") + 400);
    ASSERT(strcmp(err.msg + strlen(err.msg) - 3, "...") == 0);
    sk_buf_release(&big);
    rig_release(&r);
}

/* ---- clock skew ---------------------------------------------------------------------------- */

static const char skew_body[] = "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature expired: "
                                "20260101T000000Z is now earlier than 20260101T000500Z (20260101T002000Z - 15 min.)\"}";

static struct {
    int calls;
    long last;
} skew_seen;

static void skew_record(void *ctx, long skew_s)
{
    (void)ctx;
    skew_seen.calls++;
    skew_seen.last = skew_s;
}

TEST(clock_skew_offset)
{
    const time_t now = 1767225600; /* 2026-01-01T00:00:00Z */
    const char *date = "Thu, 01 Jan 2026 00:20:00 GMT";
    long skew = 0;

    /* The codes a wrong clock causes, with the server's Date 20 minutes ahead: server - local. */
    ASSERT(sk_clock_skew("RequestTimeTooSkewed", date, now, 0, &skew) == 1 && skew == 1200);
    ASSERT(sk_clock_skew("InvalidSignatureException", date, now, 0, &skew) == 1 && skew == 1200);
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", date, now, 0, &skew) == 1);
    ASSERT(sk_clock_skew("RequestExpired", date, now, 0, &skew) == 1);
    ASSERT(sk_clock_skew("RequestInTheFuture", date, now, 0, &skew) == 1);
    ASSERT(sk_clock_skew("AuthFailure", date, now, 0, &skew) == 1);
    ASSERT(sk_clock_skew("RequestTimeTooSkewed", date, now + 2400, 0, &skew) == 1 && skew == -1200);
    /* Other errors, no Date or one that is no date: nothing to correct. */
    skew = 7;
    ASSERT(sk_clock_skew("ThrottlingException", date, now, 0, &skew) == 0);
    ASSERT(sk_clock_skew("InvalidClientTokenId", date, now, 0, &skew) == 0);
    ASSERT(sk_clock_skew(NULL, date, now, 0, &skew) == 0);
    ASSERT(sk_clock_skew("RequestTimeTooSkewed", NULL, now, 0, &skew) == 0);
    ASSERT(sk_clock_skew("RequestTimeTooSkewed", "yesterday-ish", now, 0, &skew) == 0);
    ASSERT(skew == 7);
    /* The HTTP date forms (RFC 7231 section 7.1.1.1). */
    ASSERT(sk_clock_skew("RequestExpired", "Thursday, 01-Jan-26 00:20:00 GMT", now, 0, &skew) == 1 && skew == 1200);
    ASSERT(sk_clock_skew("RequestExpired", "Thu Jan  1 00:20:00 2026", now, 0, &skew) == 1 && skew == 1200);
    /* Only a clock at least SK_SKEW_ADJUST_S off the time we sign at (local + current) is corrected. */
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", "Thu, 01 Jan 2026 00:03:59 GMT", now, 0, &skew) == 0);
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", "Thu, 01 Jan 2026 00:04:00 GMT", now, 0, &skew) == 1 && skew == 240);
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", "Wed, 31 Dec 2025 23:56:00 GMT", now, 0, &skew) == 1 && skew == -240);
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", date, now, 1200, &skew) == 0);
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", date, now, 1100, &skew) == 0);
    ASSERT(sk_clock_skew("SignatureDoesNotMatch", date, now, 900, &skew) == 1 && skew == 1200);
}

TEST(clock_skew_corrected_once_and_kept)
{
    struct rig r;
    struct step s[] = { { 400, "InvalidSignatureException", skew_body, 0 }, { 200, NULL, "{}", 0 } };
    struct sk_err err;
    time_t t;
    jv out;

    rig_init(&r);
    script(&r, s, 2);
    memset(&skew_seen, 0, sizeof(skew_seen));
    r.t.skew_fn = skew_record;
    r.f.resp_date[0] = "Thu, 01 Jan 2026 00:20:00 GMT"; /* the server is 20 minutes ahead */
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    /* Signed at 00:00:00, refused; the clock read at 00:00:01 is 1199 s behind the server's; signed
     * again at once (no backoff, no quota) at 00:00:02 + 1199 s. */
    ASSERT(r.f.calls == 2);
    ASSERT(r.f.nsleeps == 0);
    ASSERT(r.retry.quota == SK_RETRY_QUOTA_MAX);
    ASSERT(r.t.skew_s == 1199);
    ASSERT(skew_seen.calls == 1 && skew_seen.last == 1199);
    ASSERT_STREQ(r.f.date[0], "20260101T000000Z");
    ASSERT_STREQ(r.f.date[1], "20260101T002001Z");
    ASSERT(strstr(r.f.auth[1], "Credential=AKIDEXAMPLE/20260101/") != NULL);
    /* Every later call signs at the server's time at once. */
    ASSERT_OK(call_json(&r, &out, &err), &err);
    if (!h_cur_failed)
        jv_free(out);
    ASSERT(r.f.calls == 3);
    ASSERT(sk_parse_amz_date(r.f.date[2], &t) == 0 && t == 1767225600 + 3 + 1199);
    ASSERT(skew_seen.calls == 1);
    rig_release(&r);
}

TEST(clock_skew_not_the_clock)
{
    struct rig r;
    struct step bad[] = { { 403, NULL,
                            "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we "
                            "calculated does not match</Message></Error></ErrorResponse>",
                            0 } };
    struct step skewed[] = { { 400, "InvalidSignatureException", skew_body, 0 } };
    struct sk_err err;
    jv out;

    /* Wrong keys, the clocks agree: no retry, rejected credentials as before. */
    rig_init(&r);
    script(&r, bad, 1);
    r.f.resp_date[0] = "Thu, 01 Jan 2026 00:00:01 GMT";
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_CONFIG);
    ASSERT(r.f.calls == 1 && r.t.skew_s == 0);
    rig_release(&r);

    /* A skew error without a Date: nothing to correct with. */
    rig_init(&r);
    script(&r, skewed, 1);
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_CONFIG);
    ASSERT(r.f.calls == 1 && r.t.skew_s == 0);
    ASSERT(strstr(err.msg, "credentials rejected: InvalidSignatureException: Signature expired") != NULL);
    rig_release(&r);

    /* Corrected once per call, whatever the server says next. */
    rig_init(&r);
    script(&r, skewed, 1);
    r.f.resp_date[0] = "Thu, 01 Jan 2026 00:20:00 GMT";
    r.f.resp_date[1] = "Thu, 01 Jan 2026 01:00:00 GMT";
    ASSERT_ERR(call_json(&r, &out, &err), &err, SK_E_CONFIG);
    ASSERT(r.f.calls == 2 && r.t.skew_s == 1199);
    ASSERT_STREQ(err.aws_code, "InvalidSignatureException");
    rig_release(&r);
}

/* One CA bundle for every TLS connection of a tool: --ca-bundle, else AWS_CA_BUNDLE, else the
 * profile's ca_bundle (loaded when no configuration is given); empty counts as unset; unreadable
 * is a configuration error. */
TEST(ca_bundle_resolution)
{
    char dir[] = "/tmp/sk-ca-XXXXXX", conf_path[600], ca1[600], ca2[600], *out = NULL;
    struct sk_config conf;
    struct sk_err err;
    FILE *f;

    ASSERT(mkdtemp(dir) != NULL);
    snprintf(ca1, sizeof(ca1), "%s/one.pem", dir);
    snprintf(ca2, sizeof(ca2), "%s/two.pem", dir);
    snprintf(conf_path, sizeof(conf_path), "%s/config", dir);
    fclose(fopen(ca1, "w"));
    fclose(fopen(ca2, "w"));
    f = fopen(conf_path, "w");
    fprintf(f, "[default]\nca_bundle = %s\n[profile other]\nregion = eu-west-1\n", ca1);
    fclose(f);
    setenv("AWS_CONFIG_FILE", conf_path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_CA_BUNDLE");

    /* the profile's, loaded here, or from the configuration given */
    ASSERT_OK(sk_client_ca_bundle(NULL, NULL, NULL, &out, &err), &err);
    ASSERT_STREQ(out, ca1);
    free(out);
    ASSERT_OK(sk_config_load(&conf, NULL, &err), &err);
    ASSERT_OK(sk_client_ca_bundle(&conf, NULL, "", &out, &err), &err);
    ASSERT_STREQ(out, ca1);
    free(out);
    sk_config_release(&conf);
    /* a profile without one: the system's */
    ASSERT_OK(sk_client_ca_bundle(NULL, "other", NULL, &out, &err), &err);
    ASSERT(out == NULL);
    /* AWS_CA_BUNDLE before the profile, --ca-bundle before both */
    setenv("AWS_CA_BUNDLE", ca2, 1);
    ASSERT_OK(sk_client_ca_bundle(NULL, NULL, NULL, &out, &err), &err);
    ASSERT_STREQ(out, ca2);
    free(out);
    ASSERT_OK(sk_client_ca_bundle(NULL, NULL, ca1, &out, &err), &err);
    ASSERT_STREQ(out, ca1);
    free(out);
    out = NULL;
    /* unreadable: named, and nothing returned */
    setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
    ASSERT_ERR(sk_client_ca_bundle(NULL, NULL, NULL, &out, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "CA bundle '/nonexistent/ca.pem'") != NULL && out == NULL);
    /* a configuration that does not load */
    unsetenv("AWS_CA_BUNDLE");
    ASSERT_ERR(sk_client_ca_bundle(NULL, "missing", NULL, &out, &err), &err, SK_E_CONFIG);
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unlink(ca1);
    unlink(ca2);
    unlink(conf_path);
    rmdir(dir);
}

int main(void)
{
    RUN(json_request_shape);
    RUN(retries_5xx_and_resigns_each_attempt);
    RUN(throttling_and_transient_codes_retry);
    RUN(client_errors_are_not_retried);
    RUN(error_type_sanitised_from_header);
    RUN(rejected_credentials_are_config_errors);
    RUN(max_attempts_from_env);
    RUN(retry_quota_runs_out);
    RUN(timeouts_cost_more_quota);
    RUN(non_retryable_network_errors_stop);
    RUN(success_refunds_one);
    RUN(backoff_bounds);
    RUN(query_request_and_result);
    RUN(query_error_document);
    RUN(unsigned_calls_and_secret_flags);
    RUN(garbage_responses_are_parse_errors);
    RUN(retry_after_is_honoured);
    RUN(retry_after_on_5xx_only_when_retried);
    RUN(read_timeout_setting);
    RUN(retry_scale);
    RUN(error_message_quoting_a_secret_is_scrubbed);
    RUN(secrets_from_responses_forms_and_registered);
    RUN(error_text_escaped_and_bounded);
    RUN(clock_skew_offset);
    RUN(clock_skew_corrected_once_and_kept);
    RUN(clock_skew_not_the_clock);
    RUN(ca_bundle_resolution);
    return DONE();
}
