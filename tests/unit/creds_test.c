/*
 * creds_test.c - the credential chain: env, profiles (static, assume role chains, cycles, web identity,
 * credential_process), container and IMDS against a forked loopback HTTP server, STS through a fake
 * transport, SSO profiles (token cache, refresh, the portal) through it, caching and expiry, ISO 8601.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds.h"
#include "harness.h"
#include "core/hdr.h"
#include "aws/http.h"
#include "core/mem.h"
#include "core/redact.h"

static struct sk_err err;
static char dir[] = "/tmp/sk_creds_test.XXXXXX";
static const time_t NOW = 1767225600; /* 2026-01-01T00:00:00Z */

static const char *const aws_vars[] = {
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_SSO_OIDC",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_ACCOUNT_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_EC2_METADATA_V1_DISABLED",
    NULL,
};

/* A hermetic environment: no AWS_*, empty config files, IMDS disabled unless a test enables it. */
static void clean_env(void)
{
    size_t i;

    for (i = 0; aws_vars[i]; i++)
        unsetenv(aws_vars[i]);
    setenv("HOME", dir, 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static const char *path_in_dir(const char *name)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ % 8];

    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static const char *write_file(const char *name, const char *text, int mode)
{
    const char *p = path_in_dir(name);
    FILE *f = fopen(p, "w");

    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    chmod(p, (mode_t)mode);
    return p;
}

static int has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* ---- fake transport (STS and the container relative URI) -------------------------------------- */

#define MAX_CANNED 8

static struct fake {
    int n_req;
    char method[16];
    char url[512];
    struct sk_buf body;   /* of the last request */
    struct sk_buf bodies; /* every request body, '\n'-separated */
    struct sk_buf auth;   /* Authorization of the last request, "" when none */
    struct sk_buf urls;   /* every URL, '\n'-separated */
    struct sk_buf bearer; /* x-amz-sso_bearer_token of the last request, "" when none */
    long status[MAX_CANNED];
    const char *resp[MAX_CANNED];
    int n_canned, next;
} fake;

static void fake_reset(void)
{
    sk_buf_release(&fake.body);
    sk_buf_release(&fake.bodies);
    sk_buf_release(&fake.auth);
    sk_buf_release(&fake.urls);
    sk_buf_release(&fake.bearer);
    memset(&fake, 0, sizeof(fake));
    sk_buf_init(&fake.body);
    sk_buf_init(&fake.bodies);
    sk_buf_init(&fake.auth);
    sk_buf_init(&fake.urls);
    sk_buf_init(&fake.bearer);
}

static void fake_push(long status, const char *body)
{
    fake.status[fake.n_canned] = status;
    fake.resp[fake.n_canned++] = body;
}

static int fake_send(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *e)
{
    const char *a = sk_headers_get(req->headers, "Authorization");
    const char *bearer = sk_headers_get(req->headers, "x-amz-sso_bearer_token");

    (void)ctx;
    sk_buf_reset(&fake.bearer);
    if (bearer)
        sk_buf_adds(&fake.bearer, bearer);
    fake.n_req++;
    snprintf(fake.method, sizeof(fake.method), "%s", req->method);
    snprintf(fake.url, sizeof(fake.url), "%s", req->url);
    sk_buf_reset(&fake.body);
    sk_buf_add(&fake.body, req->body, req->body_len);
    sk_buf_add(&fake.bodies, req->body, req->body_len);
    sk_buf_addch(&fake.bodies, '\n');
    sk_buf_adds(&fake.urls, req->url);
    sk_buf_addch(&fake.urls, '\n');
    sk_buf_reset(&fake.auth);
    if (a)
        sk_buf_adds(&fake.auth, a);
    if (fake.next >= fake.n_canned)
        return sk_errf(e, SK_E_NET, "fake transport: no canned response");
    resp->status = fake.status[fake.next];
    sk_buf_adds(&resp->body, fake.resp[fake.next++]);
    return 0;
}

struct env {
    struct sk_config conf;
    struct sk_http *http;
    struct sk_retry retry;
    struct sk_transport t;
    struct sk_credprovider p;
    int sleeps;
};

static void record_sleep(void *ctx, long ms)
{
    (void)ms;
    ((struct env *)ctx)->sleeps++;
}

/* Load config (profile may be NULL) and set up a provider; use_fake installs the fake transport. */
static int env_setup(struct env *e, const char *profile, int use_fake)
{
    static const struct sk_http_ops ops = { fake_send, NULL };

    memset(e, 0, sizeof(*e));
    if (sk_config_load(&e->conf, profile, &err))
        return -1;
    e->http = sk_http_new(NULL);
    if (use_fake)
        sk_http_set_ops(e->http, &ops);
    e->retry.max_attempts = 1;
    e->retry.quota = 500;
    e->retry.seed = 1;
    e->retry.sleep = record_sleep;
    e->retry.sleep_ctx = e;
    e->t.http = e->http;
    e->t.retry = &e->retry;
    sk_credprovider_init(&e->p, &e->conf, &e->t, "us-east-1");
    fake_reset();
    return 0;
}

static void env_release(struct env *e)
{
    sk_credprovider_release(&e->p);
    sk_http_free(e->http);
    sk_config_release(&e->conf);
    fake_reset();
}

static const char *sts_xml(const char *op, const char *akid, const char *exp)
{
    static char buf[4][1024];
    static int slot;
    char *b = buf[slot++ % 4];

    snprintf(b, 1024,
             "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><%sResult>"
             "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>SECRET-%s</SecretAccessKey>"
             "<SessionToken>TOKEN-%s</SessionToken><Expiration>%s</Expiration></Credentials>"
             "<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>"
             "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>"
             "</%sResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></%sResponse>",
             op, op, akid, akid, akid, exp, op, op);
    return b;
}

/* ---- ISO 8601 ----------------------------------------------------------------------------------- */

TEST(iso8601)
{
    time_t t = 0;

    ASSERT(sk_parse_iso8601("2026-01-01T00:00:00Z", &t) == 0 && t == NOW);
    ASSERT(sk_parse_iso8601("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    ASSERT(sk_parse_iso8601("2026-01-02T03:04:05.123Z", &t) == 0 && t == NOW + 86400 + 3 * 3600 + 4 * 60 + 5);
    ASSERT(sk_parse_iso8601("2026-01-01T00:00:00+00:00", &t) == 0 && t == NOW);
    ASSERT(sk_parse_iso8601("2026-01-01T02:00:00+02:00", &t) == 0 && t == NOW);
    ASSERT(sk_parse_iso8601("2025-12-31T23:00:00-01:00", &t) == 0 && t == NOW);
    ASSERT(sk_parse_iso8601("2024-02-29T00:00:00Z", &t) == 0);
    ASSERT(sk_parse_iso8601("2025-02-29T00:00:00Z", &t) < 0);
    ASSERT(sk_parse_iso8601("2026-13-01T00:00:00Z", &t) < 0);
    ASSERT(sk_parse_iso8601("2026-01-01 00:00:00Z", &t) < 0);
    ASSERT(sk_parse_iso8601("2026-01-01T00:00:00", &t) < 0);
    ASSERT(sk_parse_iso8601("2026-01-01T00:00:00Zjunk", &t) < 0);
    ASSERT(sk_parse_iso8601("2026-01-01T24:00:00Z", &t) < 0);
    ASSERT(sk_parse_iso8601("2026-01-01T00:00:00.Z", &t) < 0);
    ASSERT(sk_parse_iso8601("", &t) < 0);
    ASSERT(sk_parse_iso8601("not a date", &t) < 0);
    ASSERT(sk_parse_iso8601(NULL, &t) < 0);
}

TEST(creds_copy_release)
{
    struct sk_creds a = { 0 }, b;

    a.access_key_id = xstrdup("AK");
    a.secret_access_key = xstrdup("SK");
    a.expiration = 5;
    a.source = "env";
    sk_creds_copy(&b, &a);
    ASSERT_STREQ(b.access_key_id, "AK");
    ASSERT_STREQ(b.secret_access_key, "SK");
    ASSERT(b.session_token == NULL && b.account_id == NULL && b.expiration == 5);
    ASSERT(b.access_key_id != a.access_key_id);
    sk_creds_release(&a);
    sk_creds_release(&b);
    sk_creds_release(&b);
    ASSERT(b.access_key_id == NULL && b.source == NULL);
}

/* ---- environment ------------------------------------------------------------------------------ */

TEST(env_credentials)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    setenv("AWS_SESSION_TOKEN", "STENV", 1);
    setenv("AWS_ACCOUNT_ID", "111122223333", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T01:00:00Z", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AKENV");
    ASSERT_STREQ(c->secret_access_key, "SKENV");
    ASSERT_STREQ(c->session_token, "STENV");
    ASSERT_STREQ(c->account_id, "111122223333");
    ASSERT(c->expiration == NOW + 3600);
    ASSERT_STREQ(c->source, "env");
    env_release(&e);

    /* Legacy AWS_SECURITY_TOKEN; empty values are unset. */
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
    setenv("AWS_ACCOUNT_ID", "", 1);
    setenv("AWS_SECURITY_TOKEN", "LEGACY", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->session_token, "LEGACY");
    ASSERT(c->account_id == NULL && c->expiration == 0);
    env_release(&e);
}

TEST(env_expired_and_partial)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2025-12-31T00:00:00Z", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "expired at 2025-12-31T00:00:00Z"));
    ASSERT(has(err.msg, "environment"));
    ASSERT(!has(err.msg, "SKENV"));

    setenv("AWS_CREDENTIAL_EXPIRATION", "yesterday", 1);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    unsetenv("AWS_CREDENTIAL_EXPIRATION");

    unsetenv("AWS_SECRET_ACCESS_KEY");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "AWS_SECRET_ACCESS_KEY"));
    env_release(&e);
}

TEST(explicit_profile_skips_env)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_explicit", "[profile p]\nregion = us-east-1\n", 0600), 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE",
           write_file("creds_explicit",
                      "[p]\naws_access_key_id = AKP\n"
                      "aws_secret_access_key = SKP\n",
                      0600),
           1);
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
    /* AWS_PROFILE does not skip the environment... */
    setenv("AWS_PROFILE", "p", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AKENV");
    env_release(&e);
    /* ...but --profile does. */
    ASSERT_OK(env_setup(&e, "p", 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AKP");
    ASSERT_STREQ(c->source, "profile");
    env_release(&e);
}

/* ---- profile static keys ---------------------------------------------------------------------- */

TEST(profile_static_keys)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE",
           write_file("creds_static",
                      "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = SKDEF\n"
                      "aws_session_token = STDEF\naws_account_id = 444455556666\n"
                      "[half]\naws_access_key_id = AKHALF\n",
                      0600),
           1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AKDEF");
    ASSERT_STREQ(c->secret_access_key, "SKDEF");
    ASSERT_STREQ(c->session_token, "STDEF");
    ASSERT_STREQ(c->account_id, "444455556666");
    ASSERT(c->expiration == 0);
    env_release(&e);

    ASSERT_OK(env_setup(&e, "half", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "half") && has(err.msg, "aws_secret_access_key"));
    ASSERT(!has(err.msg, "AKHALF"));
    env_release(&e);
}

TEST(no_credentials_lists_what_was_tried)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "no credentials found"));
    ASSERT(has(err.msg, "env"));
    ASSERT(has(err.msg, "profile 'default'"));
    ASSERT(has(err.msg, "web identity"));
    ASSERT(has(err.msg, "container"));
    ASSERT(has(err.msg, "imds (disabled)"));
    ASSERT(fake.n_req == 0);
    env_release(&e);
}

/* ---- assume role through STS ----------------------------------------------------------------- */

static const char role_config[] = "[profile base]\n"
                                  "aws_access_key_id = AKBASE\n"
                                  "aws_secret_access_key = SKBASE\n"
                                  "[profile role]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/deploy\n"
                                  "source_profile = base\n"
                                  "role_session_name = my-session\n"
                                  "duration_seconds = 1800\n"
                                  "external_id = ext-1\n"
                                  "[profile chain]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/second\n"
                                  "source_profile = role\n"
                                  "[profile self]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/self\n"
                                  "source_profile = self\n"
                                  "aws_access_key_id = AKSELF\n"
                                  "aws_secret_access_key = SKSELF\n"
                                  "[profile selfnokeys]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/x\n"
                                  "source_profile = selfnokeys\n"
                                  "[profile cyc_a]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/a\n"
                                  "source_profile = cyc_b\n"
                                  "[profile cyc_b]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/b\n"
                                  "source_profile = cyc_a\n"
                                  "[profile keyed_b]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/kb\n"
                                  "source_profile = keyed_a\n"
                                  "[profile keyed_a]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/ka\n"
                                  "source_profile = keyed_b\n"
                                  "aws_access_key_id = AKKEYED\n"
                                  "aws_secret_access_key = SKKEYED\n"
                                  "[profile missing_src]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/m\n"
                                  "source_profile = nowhere\n"
                                  "[profile nosrc]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/n\n"
                                  "[profile envsrc]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/e\n"
                                  "credential_source = Environment\n"
                                  "[profile badsrc]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/e\n"
                                  "credential_source = Mars\n"
                                  "[profile mfa]\n"
                                  "role_arn = arn:aws:iam::123456789012:role/e\n"
                                  "source_profile = base\n"
                                  "mfa_serial = arn:aws:iam::123456789012:mfa/me\n";

TEST(assume_role_with_source_profile)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role", role_config, 0600), 1);
    ASSERT_OK(env_setup(&e, "role", 1), &err);
    fake_push(200, sts_xml("AssumeRole", "ASIAROLE", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAROLE");
    ASSERT_STREQ(c->secret_access_key, "SECRET-ASIAROLE");
    ASSERT_STREQ(c->session_token, "TOKEN-ASIAROLE");
    ASSERT_STREQ(c->account_id, "123456789012");
    ASSERT_STREQ(c->source, "assume-role");
    ASSERT(c->expiration == NOW + 3600);
    ASSERT(fake.n_req == 1);
    ASSERT_STREQ(fake.method, "POST");
    ASSERT(has(fake.url, "https://sts.us-east-1.amazonaws.com"));
    ASSERT(has(fake.body.p, "Action=AssumeRole&"));
    ASSERT(has(fake.body.p, "Version=2011-06-15"));
    ASSERT(has(fake.body.p, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdeploy"));
    ASSERT(has(fake.body.p, "RoleSessionName=my-session"));
    ASSERT(has(fake.body.p, "DurationSeconds=1800"));
    ASSERT(has(fake.body.p, "ExternalId=ext-1"));
    /* Signed with the source profile's keys. */
    ASSERT(has(fake.auth.p, "Credential=AKBASE/"));

    /* Cached until the refresh window. */
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 3600 - SK_CREDS_REFRESH_WINDOW - 1, &c, &err), &err);
    ASSERT(fake.n_req == 1);
    fake_push(200, sts_xml("AssumeRole", "ASIAROLE2", "2026-01-01T02:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 3600 - SK_CREDS_REFRESH_WINDOW + 1, &c, &err), &err);
    ASSERT(fake.n_req == 2);
    ASSERT_STREQ(c->access_key_id, "ASIAROLE2");
    env_release(&e);
}

/* In aws-global, STS is sts.amazonaws.com and its requests are signed for us-east-1
 * (https://docs.aws.amazon.com/general/latest/gr/sts.html), not for "aws-global". */
TEST(assume_role_aws_global_signs_for_us_east_1)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role_global", role_config, 0600), 1);
    ASSERT_OK(env_setup(&e, "role", 1), &err);
    sk_credprovider_release(&e.p);
    sk_credprovider_init(&e.p, &e.conf, &e.t, "aws-global");
    fake_push(200, sts_xml("AssumeRole", "ASIAGLOBAL", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAGLOBAL");
    ASSERT(has(fake.url, "https://sts.amazonaws.com"));
    ASSERT(has(fake.auth.p, "/us-east-1/sts/aws4_request"));
    ASSERT(!has(fake.auth.p, "aws-global"));
    env_release(&e);
}

TEST(assume_role_endpoint_override_and_default_session_name)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role", role_config, 0600), 1);
    setenv("AWS_ENDPOINT_URL_STS", "http://localhost:4566", 1);
    ASSERT_OK(env_setup(&e, "self", 1), &err);
    fake_push(200, sts_xml("AssumeRole", "ASIASELF", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIASELF");
    ASSERT(has(fake.url, "http://localhost:4566"));
    ASSERT(has(fake.body.p, "RoleSessionName=shipkit-1767225600"));
    ASSERT(!has(fake.body.p, "DurationSeconds"));
    ASSERT(!has(fake.body.p, "ExternalId"));
    /* Self-reference uses the profile's own static keys. */
    ASSERT(has(fake.auth.p, "Credential=AKSELF/"));
    env_release(&e);
}

TEST(assume_role_chain)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role", role_config, 0600), 1);
    ASSERT_OK(env_setup(&e, "chain", 1), &err);
    fake_push(200, sts_xml("AssumeRole", "ASIAFIRST", "2026-01-01T01:00:00Z"));
    fake_push(200, sts_xml("AssumeRole", "ASIASECOND", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIASECOND");
    ASSERT(fake.n_req == 2);
    /* The second call is signed with the first role's credentials. */
    ASSERT(has(fake.auth.p, "Credential=ASIAFIRST/"));
    ASSERT(has(fake.body.p, "role%2Fsecond"));
    env_release(&e);

    /* Down a chain, a profile with static keys is used as the source even if it has role_arn. */
    ASSERT_OK(env_setup(&e, "keyed_b", 1), &err);
    fake_push(200, sts_xml("AssumeRole", "ASIAKB", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAKB");
    ASSERT(fake.n_req == 1);
    ASSERT(has(fake.auth.p, "Credential=AKKEYED/"));
    env_release(&e);
}

TEST(source_profile_cycles_and_errors)
{
    struct env e;
    const struct sk_creds *c;
    static const struct {
        const char *profile, *needle;
    } cases[] = {
        { "cyc_a", "cycle" },          { "selfnokeys", "cycle" },         { "missing_src", "nowhere" },
        { "nosrc", "source_profile" }, { "badsrc", "credential_source" }, { "mfa", "mfa_serial" },
    };
    size_t i;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role", role_config, 0600), 1);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ASSERT_OK(env_setup(&e, cases[i].profile, 1), &err);
        ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
        if (!has(err.msg, cases[i].needle))
            H_FAIL("profile %s: '%s' lacks '%s'", cases[i].profile, err.msg, cases[i].needle);
        ASSERT(fake.n_req == 0);
        env_release(&e);
    }
    ASSERT_OK(env_setup(&e, "cyc_a", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "cyc_a -> cyc_b -> cyc_a"));
    env_release(&e);
}

TEST(credential_source_environment)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role", role_config, 0600), 1);
    setenv("AWS_ACCESS_KEY_ID", "AKENVSRC", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SKENVSRC", 1);
    ASSERT_OK(env_setup(&e, "envsrc", 1), &err); /* --profile: env is not used directly */
    fake_push(200, sts_xml("AssumeRole", "ASIAENV", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAENV");
    ASSERT(has(fake.auth.p, "Credential=AKENVSRC/"));
    env_release(&e);
}

TEST(assume_role_sts_error)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_role", role_config, 0600), 1);
    ASSERT_OK(env_setup(&e, "role", 1), &err);
    fake_push(403, "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                   "<Message>not authorized</Message></Error><RequestId>r1</RequestId></ErrorResponse>");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_AWS);
    ASSERT(has(err.msg, "deploy"));
    ASSERT_STREQ(err.aws_code, "AccessDenied");
    env_release(&e);

    /* A response without credentials. */
    ASSERT_OK(env_setup(&e, "role", 1), &err);
    fake_push(200, "<AssumeRoleResponse><AssumeRoleResult></AssumeRoleResult></AssumeRoleResponse>");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    env_release(&e);
}

/* ---- web identity -------------------------------------------------------------------------------- */

TEST(web_identity_from_env)
{
    struct env e;
    const struct sk_creds *c;
    const char *tok = write_file("wi_token", "JWT-ONE\n", 0600);

    clean_env();
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/wi", 1);
    setenv("AWS_ROLE_SESSION_NAME", "wi-session", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    fake_push(200, sts_xml("AssumeRoleWithWebIdentity", "ASIAWI1", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAWI1");
    ASSERT_STREQ(c->source, "web-identity");
    ASSERT(has(fake.body.p, "Action=AssumeRoleWithWebIdentity&"));
    ASSERT(has(fake.body.p, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fwi"));
    ASSERT(has(fake.body.p, "RoleSessionName=wi-session"));
    ASSERT(has(fake.body.p, "WebIdentityToken=JWT-ONE"));
    ASSERT(!has(fake.body.p, "%0A"));
    /* Unsigned. */
    ASSERT(fake.auth.len == 0);

    /* The token file is re-read on refresh. */
    write_file("wi_token", "JWT-TWO", 0600);
    fake_push(200, sts_xml("AssumeRoleWithWebIdentity", "ASIAWI2", "2026-01-01T02:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 3500, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAWI2");
    ASSERT(has(fake.body.p, "WebIdentityToken=JWT-TWO"));
    env_release(&e);

    /* An unreadable token file is a config error naming the file. */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path_in_dir("no_such_token"), 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "no_such_token"));
    env_release(&e);
}

TEST(web_identity_from_profile)
{
    struct env e;
    const struct sk_creds *c;
    char cfg[1024];

    clean_env();
    snprintf(cfg, sizeof(cfg),
             "[profile wi]\nrole_arn = arn:aws:iam::123456789012:role/pwi\nweb_identity_token_file = %s\n",
             write_file("wi_token2", "JWT-PROFILE", 0600));
    setenv("AWS_CONFIG_FILE", write_file("cfg_wi", cfg, 0600), 1);
    ASSERT_OK(env_setup(&e, "wi", 1), &err);
    fake_push(200, sts_xml("AssumeRoleWithWebIdentity", "ASIAPWI", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAPWI");
    ASSERT(has(fake.body.p, "WebIdentityToken=JWT-PROFILE"));
    ASSERT(has(fake.body.p, "role%2Fpwi"));
    ASSERT(fake.auth.len == 0);
    env_release(&e);
}

/* ---- credential_process ----------------------------------------------------------------------- */

static const char *process_profile(const char *script_name, const char *script, const char *extra_args)
{
    static char cfg[1024];
    const char *sp = write_file(script_name, script, 0700);

    snprintf(cfg, sizeof(cfg), "[profile proc]\ncredential_process = %s %s\n", sp, extra_args);
    return write_file("cfg_proc", cfg, 0600);
}

TEST(process_success_and_quoting)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    /* The script reports how it was split: $# and each argument. */
    setenv("AWS_CONFIG_FILE",
           process_profile("proc_ok.sh",
                           "#!/bin/sh\n"
                           "printf '{\"Version\": 1, \"AccessKeyId\": \"AKPROC\", \"SecretAccessKey\": \"SKPROC\",'\n"
                           "printf '\"SessionToken\": \"STPROC\", \"Expiration\": \"2026-01-01T01:00:00Z\",'\n"
                           "printf '\"AccountId\": \"%s|%s|%s|%s\"}' \"$#\" \"$1\" \"$2\" \"$3\"\n",
                           "'a b' \"c \\$d 'q'\" e\\ f"),
           1);
    ASSERT_OK(env_setup(&e, "proc", 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AKPROC");
    ASSERT_STREQ(c->secret_access_key, "SKPROC");
    ASSERT_STREQ(c->session_token, "STPROC");
    ASSERT_STREQ(c->account_id, "3|a b|c $d 'q'|e f");
    ASSERT_STREQ(c->source, "process");
    ASSERT(c->expiration == NOW + 3600);
    env_release(&e);

    /* Without Expiration the credentials are static. */
    setenv("AWS_CONFIG_FILE",
           process_profile("proc_static.sh",
                           "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AK2\",\"SecretAccessKey\":\"SK2\"}'\n",
                           ""),
           1);
    ASSERT_OK(env_setup(&e, "proc", 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AK2");
    ASSERT(c->session_token == NULL && c->expiration == 0);
    env_release(&e);
}

TEST(process_failures)
{
    struct env e;
    const struct sk_creds *c;
    static const struct {
        const char *script, *needle;
    } cases[] = {
        { "#!/bin/sh\necho '{\"Version\":2,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SKSECRET\"}'\n", "Version" },
        { "#!/bin/sh\necho '{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SKSECRET\"}'\n", "Version" },
        { "#!/bin/sh\necho 'SKSECRET not json'\n", "JSON" },
        { "#!/bin/sh\necho '[1,2]'\n", "JSON" },
        { "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AK\"}'\n", "SecretAccessKey" },
        { "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SKSECRET\","
          "\"Expiration\":\"soon\"}'\n",
          "Expiration" },
        { "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SKSECRET\","
          "\"Expiration\":\"2025-01-01T00:00:00Z\"}'\n",
          "expired at 2025-01-01T00:00:00Z" },
        { "#!/bin/sh\necho SKSECRET\necho 'boom: token rejected' >&2\necho 'second line' >&2\nexit 3\n",
          "status 3: boom: token rejected" },
        { "#!/bin/sh\nkill -9 $$\n", "signal 9" },
    };
    size_t i;

    clean_env();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("AWS_CONFIG_FILE", process_profile("proc_bad.sh", cases[i].script, ""), 1);
        ASSERT_OK(env_setup(&e, "proc", 1), &err);
        ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
        if (!has(err.msg, cases[i].needle))
            H_FAIL("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].needle);
        if (has(err.msg, "SKSECRET") || has(err.msg, "second line"))
            H_FAIL("case %zu: '%s' leaks output", i, err.msg);
        env_release(&e);
    }
}

TEST(process_bad_commands)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE",
           write_file("cfg_proc2",
                      "[profile p1]\ncredential_process = /no/such/binary --x\n"
                      "[profile p2]\ncredential_process = foo 'unterminated\n"
                      "[profile p3]\ncredential_process = foo \"bar\n",
                      0600),
           1);
    ASSERT_OK(env_setup(&e, "p1", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "/no/such/binary"));
    env_release(&e);
    ASSERT_OK(env_setup(&e, "p2", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "quote"));
    env_release(&e);
    ASSERT_OK(env_setup(&e, "p3", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    env_release(&e);
}

/* ---- a loopback HTTP server for container and IMDS ---------------------------------------------- */

enum scenario {
    SC_CONTAINER,
    SC_IMDS_V2,
    SC_IMDS_V1_403,
    SC_IMDS_V1_405,
    SC_IMDS_NO_ROLE,
    SC_IMDS_BAD_CODE,
    SC_IMDS_401_ONCE,
};

static enum scenario scenario;

struct server {
    pid_t pid;
    int port;
    char log[512];
};

static const char imds_creds_json[] = "{\"Code\":\"Success\",\"LastUpdated\":\"2026-01-01T00:00:00Z\",\"Type\":"
                                      "\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":\"SKIMDS\","
                                      "\"Token\":\"TOKIMDS\",\"Expiration\":\"2026-01-01T06:00:00Z\"}";

/* Decide the response; the request head is "METHOD PATH HTTP/1.1\r\nheaders...". */
static void respond(const char *head, struct sk_buf *out, int *count)
{
    char method[16] = "", path[256] = "";
    const char *tok = strstr(head, "\nx-aws-ec2-metadata-token: ");
    int have_token = tok && strncmp(tok + 27, "TOKEN-ABC", 9) == 0;
    long status = 200;
    const char *body = "";

    (*count)++;
    sscanf(head, "%15s %255s", method, path);
    if (scenario == SC_CONTAINER) {
        if (strcmp(path, "/creds") == 0)
            body = "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"SKECS\",\"Token\":\"TOKECS\","
                   "\"Expiration\":\"2026-01-01T06:00:00Z\",\"AccountId\":\"999988887777\"}";
        else
            status = 404;
    } else if (strcmp(path, "/latest/api/token") == 0) {
        if (strcmp(method, "PUT") != 0 || !strstr(head, "\nx-aws-ec2-metadata-token-ttl-seconds: 21600"))
            status = 400;
        else if (scenario == SC_IMDS_V1_403)
            status = 403;
        else if (scenario == SC_IMDS_V1_405)
            status = 405;
        else
            body = "TOKEN-ABC";
    } else if (strncmp(path, "/latest/meta-data/iam/security-credentials/", 43) == 0) {
        int v1 = scenario == SC_IMDS_V1_403 || scenario == SC_IMDS_V1_405;
        if (!v1 && !have_token)
            status = 401;
        else if (scenario == SC_IMDS_401_ONCE && *count == 2)
            status = 401; /* the token "expired" right after it was issued */
        else if (scenario == SC_IMDS_NO_ROLE)
            status = 404;
        else if (path[43] == '\0')
            body = "my-role\n";
        else if (strcmp(path + 43, "my-role") == 0)
            body = scenario == SC_IMDS_BAD_CODE ? "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"x\"}"
                                                : imds_creds_json;
        else
            status = 404;
    } else {
        status = 404;
    }
    sk_buf_addf(out, "HTTP/1.1 %ld X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                status, strlen(body), body);
}

static void serve(int lfd, const char *log)
{
    int count = 0;

    for (;;) {
        struct sk_buf req = SK_BUF_INIT, resp = SK_BUF_INIT;
        char tmp[2048];
        ssize_t n;
        int fd = accept(lfd, NULL, NULL), lf;

        if (fd < 0)
            continue;
        while (!strstr(req.p, "\r\n\r\n") && (n = read(fd, tmp, sizeof(tmp))) > 0)
            sk_buf_add(&req, tmp, (size_t)n);
        /* Lowercase header names so lookups are simple. */
        {
            char *line = strstr(req.p, "\r\n");
            while (line && line[2] && line[2] != '\r') {
                char *q = line + 2;
                for (; *q && *q != ':'; q++)
                    if (*q >= 'A' && *q <= 'Z')
                        *q = (char)(*q - 'A' + 'a');
                line = strstr(q, "\r\n");
            }
        }
        /* Log lines for the parent. "\r\n" -> "\n" keeps them grep-able. */
        {
            char *p;
            for (p = req.p; *p; p++)
                if (*p == '\r')
                    *p = ' ';
        }
        respond(req.p, &resp, &count);
        lf = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
        if (lf >= 0) {
            ssize_t w = write(lf, req.p, req.len);
            (void)w;
            w = write(lf, "----\n", 5);
            close(lf);
        }
        if (write(fd, resp.p, resp.len) < 0) {
            /* the client gave up */
        }
        close(fd);
        sk_buf_release(&req);
        sk_buf_release(&resp);
    }
}

static int server_start(struct server *s, enum scenario sc)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int lfd, one = 1;

    memset(s, 0, sizeof(*s));
    scenario = sc;
    snprintf(s->log, sizeof(s->log), "%s/server.log", dir);
    unlink(s->log);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        return -1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16) ||
        getsockname(lfd, (struct sockaddr *)&a, &alen)) {
        close(lfd);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    fflush(stdout);
    s->pid = fork();
    if (s->pid < 0) {
        close(lfd);
        return -1;
    }
    if (s->pid == 0) {
        /* Never outlive the test, whatever happens to it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(60);
        serve(lfd, s->log);
        _exit(0);
    }
    close(lfd);
    return 0;
}

static void server_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/* The server's request log (static buffer). */
static const char *server_log(const struct server *s)
{
    static char buf[16384];
    FILE *f = fopen(s->log, "r");
    size_t n = 0;

    buf[0] = '\0';
    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    while ((hay = strstr(hay, needle))) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

/* ---- container ------------------------------------------------------------------------------- */

TEST(container_full_uri_with_token)
{
    struct server s;
    struct env e;
    const struct sk_creds *c;
    char url[128];

    clean_env();
    if (server_start(&s, SC_CONTAINER)) {
        H_FAIL("cannot start the fake server");
        return;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", s.port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token", 1);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAECS");
    ASSERT_STREQ(c->secret_access_key, "SKECS");
    ASSERT_STREQ(c->session_token, "TOKECS");
    ASSERT_STREQ(c->account_id, "999988887777");
    ASSERT_STREQ(c->source, "container");
    ASSERT(c->expiration == NOW + 6 * 3600);
    ASSERT(has(server_log(&s), "GET /creds HTTP/1.1"));
    ASSERT(has(server_log(&s), "authorization: env-token"));
    ASSERT(has(server_log(&s), "accept: application/json"));
    env_release(&e);

    /* The token file wins over the variable (and its trailing newline is dropped). */
    unlink(s.log);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", write_file("ecs_token", "file-token\n", 0600), 1);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT(has(server_log(&s), "authorization: file-token "));
    ASSERT(!has(server_log(&s), "env-token"));
    env_release(&e);

    /* A 404 is a failure of the configured source, not "no credentials". */
    snprintf(url, sizeof(url), "http://localhost:%d/other", s.port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_AWS);
    ASSERT(has(err.msg, "404"));
    env_release(&e);
    server_stop(&s);
}

TEST(container_rejects_bad_settings)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    /* http to a host that is not loopback / ECS / EKS. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.10/creds", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "192.0.2.10"));
    ASSERT(fake.n_req == 0);
    env_release(&e);

    /* Tokens with CR/LF would inject headers. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "abc\r\nX-Evil: 1", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(!has(err.msg, "abc"));
    ASSERT(fake.n_req == 0);
    env_release(&e);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path_in_dir("missing_token"), 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    env_release(&e);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    env_release(&e);
}

TEST(container_relative_uri_and_retries)
{
    struct env e;
    const struct sk_creds *c;
    static const char ok[] = "{\"AccessKeyId\":\"ASIAREL\",\"SecretAccessKey\":\"SKREL\",\"Token\":\"T\","
                             "\"Expiration\":\"2026-01-01T06:00:00Z\"}";

    clean_env();
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    /* RELATIVE wins over FULL. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://example.com/creds", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    fake_push(500, "oops");
    fake_push(200, ok);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAREL");
    ASSERT_STREQ(fake.url, "http://169.254.170.2/v2/credentials/abc");
    ASSERT_STREQ(fake.method, "GET");
    ASSERT(fake.n_req == 2 && e.sleeps == 1);
    env_release(&e);

    /* Three server errors give up; client errors are not retried. */
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    fake_push(500, "");
    fake_push(502, "");
    fake_push(503, "");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_NET);
    ASSERT(fake.n_req == 3);
    env_release(&e);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    fake_push(403, "{\"message\":\"denied\"}");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_AWS);
    ASSERT(fake.n_req == 1 && err.http_status == 403);
    env_release(&e);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    fake_push(200, "not json SKREL");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_PARSE);
    ASSERT(!has(err.msg, "SKREL"));
    env_release(&e);
}

/* ---- IMDS ----------------------------------------------------------------------------------------- */

static void imds_env(const struct server *s)
{
    char url[128];

    clean_env();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s->port);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
}

TEST(imds_v2_token_flow)
{
    struct server s;
    struct env e;
    const struct sk_creds *c;
    const char *log;

    if (server_start(&s, SC_IMDS_V2)) {
        H_FAIL("cannot start the fake server");
        return;
    }
    imds_env(&s);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAIMDS");
    ASSERT_STREQ(c->secret_access_key, "SKIMDS");
    ASSERT_STREQ(c->session_token, "TOKIMDS");
    ASSERT_STREQ(c->source, "imds");
    ASSERT(c->expiration == NOW + 6 * 3600);
    log = server_log(&s);
    ASSERT(has(log, "PUT /latest/api/token HTTP/1.1"));
    ASSERT(has(log, "x-aws-ec2-metadata-token-ttl-seconds: 21600"));
    ASSERT(has(log, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1"));
    ASSERT(has(log, "GET /latest/meta-data/iam/security-credentials/my-role HTTP/1.1"));
    ASSERT(count_of(log, "x-aws-ec2-metadata-token: TOKEN-ABC") == 2);
    ASSERT(count_of(log, "----") == 3);
    env_release(&e);
    server_stop(&s);
}

TEST(imds_v1_fallback)
{
    static const enum scenario scs[] = { SC_IMDS_V1_403, SC_IMDS_V1_405 };
    struct server s;
    struct env e;
    const struct sk_creds *c;
    size_t i;

    for (i = 0; i < 2; i++) {
        if (server_start(&s, scs[i])) {
            H_FAIL("cannot start the fake server");
            return;
        }
        imds_env(&s);
        ASSERT_OK(env_setup(&e, NULL, 0), &err);
        ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
        ASSERT_STREQ(c->access_key_id, "ASIAIMDS");
        ASSERT(!has(server_log(&s), "x-aws-ec2-metadata-token:"));
        ASSERT(has(server_log(&s), "security-credentials/my-role"));
        env_release(&e);

        /* ...unless IMDSv1 is disabled. */
        unlink(s.log);
        setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
        ASSERT_OK(env_setup(&e, NULL, 0), &err);
        ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
        ASSERT(has(err.msg, "IMDSv1"));
        ASSERT(!has(server_log(&s), "security-credentials"));
        env_release(&e);
        server_stop(&s);
    }
}

TEST(imds_token_refetched_after_401)
{
    struct server s;
    struct env e;
    const struct sk_creds *c;

    if (server_start(&s, SC_IMDS_401_ONCE)) {
        H_FAIL("cannot start the fake server");
        return;
    }
    imds_env(&s);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIAIMDS");
    ASSERT(count_of(server_log(&s), "PUT /latest/api/token") == 2);
    env_release(&e);
    server_stop(&s);
}

TEST(imds_errors)
{
    struct server s;
    struct env e;
    const struct sk_creds *c;

    /* No role attached: IMDS has nothing, the chain reports no credentials. */
    if (server_start(&s, SC_IMDS_NO_ROLE)) {
        H_FAIL("cannot start the fake server");
        return;
    }
    imds_env(&s);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "no credentials found"));
    ASSERT(has(err.msg, "no instance role"));
    env_release(&e);
    server_stop(&s);

    if (server_start(&s, SC_IMDS_BAD_CODE)) {
        H_FAIL("cannot start the fake server");
        return;
    }
    imds_env(&s);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_AWS);
    ASSERT(has(err.msg, "AssumeRoleUnauthorizedAccess"));
    env_release(&e);
    server_stop(&s);
}

TEST(imds_short_circuits_when_nothing_answers)
{
    struct env e;
    const struct sk_creds *c;
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    char url[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    time_t t0;

    /* A port that was just free: connecting to it is refused. */
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
    close(fd);
    clean_env();
    unsetenv("AWS_EC2_METADATA_DISABLED");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    ASSERT_OK(env_setup(&e, NULL, 0), &err);
    t0 = time(NULL);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(time(NULL) - t0 <= 2);
    ASSERT(has(err.msg, "no credentials found"));
    ASSERT(has(err.msg, "imds (no response)"));
    env_release(&e);
}

/* ---- caching ---------------------------------------------------------------------------------- */

TEST(cache_and_refresh_window)
{
    struct env e;
    const struct sk_creds *c, *c2;

    clean_env();
    setenv("AWS_ACCESS_KEY_ID", "AK1", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SK1", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T01:00:00Z", 1);
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AK1");
    setenv("AWS_ACCESS_KEY_ID", "AK2", 1);
    setenv("AWS_CREDENTIAL_EXPIRATION", "2026-01-01T02:00:00Z", 1);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 3600 - SK_CREDS_REFRESH_WINDOW - 1, &c2, &err), &err);
    ASSERT(c2 == c);
    ASSERT_STREQ(c2->access_key_id, "AK1");
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 3600 - SK_CREDS_REFRESH_WINDOW, &c2, &err), &err);
    ASSERT_STREQ(c2->access_key_id, "AK2");

    /* A failed refresh keeps serving credentials that have not expired yet... */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 7200 - 10, &c2, &err), &err);
    ASSERT_STREQ(c2->access_key_id, "AK2");
    /* ...but not ones that have. */
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW + 7200, &c2, &err), &err, SK_E_CONFIG);
    env_release(&e);

    /* Credentials without an expiry are resolved once. */
    setenv("AWS_ACCESS_KEY_ID", "AK3", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SK3", 1);
    unsetenv("AWS_CREDENTIAL_EXPIRATION");
    ASSERT_OK(env_setup(&e, NULL, 1), &err);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    setenv("AWS_ACCESS_KEY_ID", "AK4", 1);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 86400 * 365, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "AK3");
    env_release(&e);
}

/* ---- IAM Identity Center (SSO) profiles ------------------------------------------------------- */

static const char sso_config_text[] = "[profile dev]\n"
                                      "sso_session = corp\n"
                                      "sso_account_id = 123456789012\n"
                                      "sso_role_name = Admin\n"
                                      "region = eu-west-1\n"
                                      "[sso-session corp]\n"
                                      "sso_start_url = https://corp.awsapps.com/start\n"
                                      "sso_region = us-east-2\n"
                                      "sso_registration_scopes = sso:account:access\n"
                                      "[profile legacy]\n"
                                      "sso_start_url = https://d-abc123.awsapps.com/start\n"
                                      "sso_region = eu-west-1\n"
                                      "sso_account_id = 111122223333\n"
                                      "sso_role_name = Dev+Ops\n"
                                      "[profile mixed]\n"
                                      "sso_session = corp\n"
                                      "sso_start_url = https://other.awsapps.com/start\n"
                                      "sso_account_id = 123456789012\n"
                                      "sso_role_name = Admin\n"
                                      "[profile nosession]\n"
                                      "sso_session = nowhere\n"
                                      "sso_account_id = 123456789012\n"
                                      "sso_role_name = Admin\n"
                                      "[profile partial]\n"
                                      "sso_start_url = https://corp.awsapps.com/start\n"
                                      "sso_role_name = Admin\n"
                                      "[profile tokenonly]\n"
                                      "sso_session = corp\n"
                                      "[profile chained]\n"
                                      "role_arn = arn:aws:iam::123456789012:role/deploy\n"
                                      "source_profile = dev\n";

static const char portal_answer[] =
    "{\"roleCredentials\":{\"accessKeyId\":\"ASIASSO\",\"secretAccessKey\":\"SSOSECRET\","
    "\"sessionToken\":\"SSOSESSION\",\"expiration\":1767229200000}}";

#define CORP_KEY "ee0bfd2552fbd840c02cc48b6e823320543c450f"   /* sha1("corp") */
#define LEGACY_KEY "40a89917e3175433e361b710a9d43528d7f1890a" /* sha1("https://d-abc123.awsapps.com/start") */

/* The cache file for key, as `aws sso login` writes it: the access token expiring at expires, a
 * refresh token and a client registration expiring at reg_expires (NULL: none of the three). */
static const char *sso_cache_put(const char *key, const char *expires, const char *reg_expires)
{
    static char path[600];
    char text[1024];

    snprintf(path, sizeof(path), "%s/.aws", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/.aws/sso", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof(path), "%s/.aws/sso/cache", dir);
    mkdir(path, 0700);
    if (reg_expires)
        snprintf(text, sizeof(text),
                 "{\"startUrl\":\"https://corp.awsapps.com/start\",\"region\":\"us-east-2\",\"accessToken\":"
                 "\"SSOACCESSTOKEN\",\"expiresAt\":\"%s\",\"clientId\":\"CLIENTID\",\"clientSecret\":\"CLIENTSECRET\","
                 "\"registrationExpiresAt\":\"%s\",\"refreshToken\":\"SSOREFRESHTOKEN\"}",
                 expires, reg_expires);
    else
        snprintf(text, sizeof(text),
                 "{\"startUrl\":\"https://d-abc123.awsapps.com/start\",\"region\":\"eu-west-1\",\"accessToken\":"
                 "\"SSOACCESSTOKEN\",\"expiresAt\":\"%s\"}",
                 expires);
    snprintf(path, sizeof(path), ".aws/sso/cache/%s.json", key);
    return write_file(path, text, 0600);
}

static char *slurp(const char *path)
{
    struct sk_buf b = SK_BUF_INIT;
    char tmp[512];
    size_t n;
    FILE *f = fopen(path, "r");

    if (f) {
        while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
            sk_buf_add(&b, tmp, n);
        fclose(f);
    }
    return sk_buf_detach(&b, NULL);
}

/* Every registered form of s is scrubbed from text on e's connection. */
static int scrubbed(struct env *e, const char *s)
{
    struct sk_buf t = SK_BUF_INIT;
    int ok;

    sk_buf_addf(&t, "x %s y", s);
    sk_secrets_scrub(sk_http_secrets(e->http), &t);
    ok = strcmp(t.p, "x <redacted> y") == 0;
    sk_buf_release(&t);
    return ok;
}

TEST(sso_cache_key)
{
    char k[41];

    /* The session name for the sso_session form, else the start URL (botocore SSOTokenLoader). */
    sk_sso_cache_key("https://corp.awsapps.com/start", "corp", k);
    ASSERT_STREQ(k, CORP_KEY);
    sk_sso_cache_key("https://d-abc123.awsapps.com/start", NULL, k);
    ASSERT_STREQ(k, LEGACY_KEY);
    sk_sso_cache_key("https://d-abc123.awsapps.com/start", "my-sso", k);
    ASSERT_STREQ(k, "0ad374308c5a4e22f723adf10145eafad7c4031c");
}

TEST(sso_token_expiry)
{
    /* sso_session form: refreshed within 15 minutes of its expiry, and once expired. */
    ASSERT(sk_sso_token_state(NOW + 3600, NOW, 1) == SK_SSO_TOKEN_VALID);
    ASSERT(sk_sso_token_state(NOW + SK_SSO_TOKEN_REFRESH_WINDOW, NOW, 1) == SK_SSO_TOKEN_VALID);
    ASSERT(sk_sso_token_state(NOW + SK_SSO_TOKEN_REFRESH_WINDOW - 1, NOW, 1) == SK_SSO_TOKEN_REFRESH);
    ASSERT(sk_sso_token_state(NOW, NOW, 1) == SK_SSO_TOKEN_REFRESH);
    ASSERT(sk_sso_token_state(NOW - 86400, NOW, 1) == SK_SSO_TOKEN_REFRESH);
    /* Legacy form, or nothing to refresh with: used until it expires, then a new login. */
    ASSERT(sk_sso_token_state(NOW + 60, NOW, 0) == SK_SSO_TOKEN_VALID);
    ASSERT(sk_sso_token_state(NOW + 1, NOW, 0) == SK_SSO_TOKEN_VALID);
    ASSERT(sk_sso_token_state(NOW, NOW, 0) == SK_SSO_TOKEN_EXPIRED);
    ASSERT(sk_sso_token_state(NOW - 1, NOW, 0) == SK_SSO_TOKEN_EXPIRED);
}

TEST(sso_session_profile)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_sso", sso_config_text, 0600), 1);
    sso_cache_put(CORP_KEY, "2026-01-01T01:00:00Z", "2026-04-01T00:00:00Z");
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    fake_push(200, portal_answer);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIASSO");
    ASSERT_STREQ(c->secret_access_key, "SSOSECRET");
    ASSERT_STREQ(c->session_token, "SSOSESSION");
    ASSERT_STREQ(c->account_id, "123456789012");
    ASSERT_STREQ(c->source, "sso");
    ASSERT(c->expiration == NOW + 3600);
    /* GetRoleCredentials in the SSO region, unsigned, the token in its header; no refresh. */
    ASSERT(fake.n_req == 1);
    ASSERT_STREQ(fake.method, "GET");
    ASSERT_STREQ(
        fake.url,
        "https://portal.sso.us-east-2.amazonaws.com/federation/credentials?account_id=123456789012&role_name=Admin");
    ASSERT_STREQ(fake.bearer.p, "SSOACCESSTOKEN");
    ASSERT_STREQ(fake.auth.p, "");
    /* The token, the refresh token and the client secret are secrets of the connection. */
    ASSERT(scrubbed(&e, "SSOACCESSTOKEN"));
    ASSERT(scrubbed(&e, "SSOREFRESHTOKEN"));
    ASSERT(scrubbed(&e, "CLIENTSECRET"));
    /* Cached like any credentials until their refresh window. */
    ASSERT_OK(sk_credprovider_get(&e.p, NOW + 60, &c, &err), &err);
    ASSERT(fake.n_req == 1);
    env_release(&e);

    /* An SSO source profile: AssumeRole signed with the role credentials from the portal. */
    ASSERT_OK(env_setup(&e, "chained", 1), &err);
    fake_push(200, portal_answer);
    fake_push(200, sts_xml("AssumeRole", "ASIACHAIN", "2026-01-01T01:00:00Z"));
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIACHAIN");
    ASSERT(has(fake.auth.p, "Credential=ASIASSO/"));
    env_release(&e);

    /* A profile with sso_session only (a token for bearer-auth services) is no credential source. */
    ASSERT_OK(env_setup(&e, "tokenonly", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "no credentials found"));
    ASSERT(has(err.msg, "profile 'tokenonly' (SSO, but no sso_account_id or sso_role_name)"));
    ASSERT(fake.n_req == 0);
    env_release(&e);
}

TEST(sso_refresh)
{
    struct env e;
    const struct sk_creds *c;
    const char *path;
    char *text;
    struct stat st;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_sso", sso_config_text, 0600), 1);
    setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:4566", 1);
    setenv("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:4567/", 1);
    path = sso_cache_put(CORP_KEY, "2025-12-31T23:00:00Z", "2026-04-01T00:00:00Z");
    /* The AWS CLI made the directory, under a umask of 002: it is still written to. */
    ASSERT(chmod(path_in_dir(".aws/sso/cache"), 0775) == 0);
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    fake_push(200, "{\"accessToken\":\"NEWACCESSTOKEN\",\"tokenType\":\"Bearer\",\"expiresIn\":28800,"
                   "\"refreshToken\":\"NEWREFRESHTOKEN\"}");
    fake_push(200, portal_answer);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIASSO");
    ASSERT(fake.n_req == 2);
    /* CreateToken at the sso-oidc endpoint with the refresh grant, then the portal with the new token. */
    ASSERT(has(fake.urls.p, "http://127.0.0.1:4567/token\n"));
    ASSERT(has(fake.urls.p, "http://127.0.0.1:4566/federation/credentials?account_id=123456789012&role_name=Admin"));
    ASSERT(has(fake.bodies.p, "{\"clientId\":\"CLIENTID\",\"clientSecret\":\"CLIENTSECRET\",\"grantType\":"
                              "\"refresh_token\",\"refreshToken\":\"SSOREFRESHTOKEN\"}"));
    ASSERT_STREQ(fake.bearer.p, "NEWACCESSTOKEN");
    ASSERT(scrubbed(&e, "NEWACCESSTOKEN"));
    ASSERT(scrubbed(&e, "NEWREFRESHTOKEN"));
    /* Written back as the SDKs write it, private. */
    text = slurp(path);
    ASSERT_STREQ(text, "{\"startUrl\":\"https://corp.awsapps.com/start\",\"region\":\"us-east-2\",\"accessToken\":"
                       "\"NEWACCESSTOKEN\",\"expiresAt\":\"2026-01-01T08:00:00Z\",\"clientId\":\"CLIENTID\","
                       "\"clientSecret\":\"CLIENTSECRET\",\"registrationExpiresAt\":\"2026-04-01T00:00:00Z\","
                       "\"refreshToken\":\"NEWREFRESHTOKEN\"}");
    free(text);
    ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    env_release(&e);

    /* Within the refresh window but still valid: a refused refresh keeps the token. */
    path = sso_cache_put(CORP_KEY, "2026-01-01T00:10:00Z", "2026-04-01T00:00:00Z");
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    fake_push(400, "{\"__type\":\"InvalidGrantException\",\"error\":\"invalid_grant\"}");
    fake_push(200, portal_answer);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT(fake.n_req == 2);
    ASSERT_STREQ(fake.bearer.p, "SSOACCESSTOKEN");
    text = slurp(path);
    ASSERT(has(text, "\"accessToken\":\"SSOACCESSTOKEN\""));
    free(text);
    env_release(&e);

    /* Expired, and the refresh is refused: a new login. */
    sso_cache_put(CORP_KEY, "2025-12-31T23:00:00Z", "2026-04-01T00:00:00Z");
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    fake_push(400, "{\"__type\":\"InvalidGrantException\",\"error\":\"invalid_grant\"}");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "profile 'dev': the SSO token for sso-session 'corp' expired at 2025-12-31T23:00:00Z"));
    ASSERT(has(err.msg, "(InvalidGrantException); run aws sso login --sso-session corp"));
    ASSERT(fake.n_req == 1);
    env_release(&e);

    /* Expired, and the OIDC service does not answer: that network error. */
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_NET);
    ASSERT(has(err.msg, "refreshing the SSO token"));
    env_release(&e);

    /* Expired with an expired client registration: nothing to refresh with. */
    sso_cache_put(CORP_KEY, "2025-12-31T23:00:00Z", "2025-12-31T00:00:00Z");
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "run aws sso login --sso-session corp"));
    ASSERT(fake.n_req == 0);
    env_release(&e);
}

TEST(sso_legacy_profile)
{
    struct env e;
    const struct sk_creds *c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_sso", sso_config_text, 0600), 1);
    sso_cache_put(LEGACY_KEY, "2026-01-01T00:05:00Z", NULL);
    ASSERT_OK(env_setup(&e, "legacy", 1), &err);
    fake_push(200, portal_answer);
    ASSERT_OK(sk_credprovider_get(&e.p, NOW, &c, &err), &err);
    ASSERT_STREQ(c->access_key_id, "ASIASSO");
    ASSERT_STREQ(c->account_id, "111122223333");
    ASSERT(fake.n_req == 1); /* within 15 minutes of its expiry, and still not refreshed */
    ASSERT_STREQ(fake.url, "https://portal.sso.eu-west-1.amazonaws.com/federation/credentials?account_id=111122223333"
                           "&role_name=Dev%2BOps");
    env_release(&e);

    /* Expired: never refreshed, even with a refresh token in the file. */
    sso_cache_put(LEGACY_KEY, "2025-12-31T23:59:59Z", "2026-04-01T00:00:00Z");
    ASSERT_OK(env_setup(&e, "legacy", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "profile 'legacy': the SSO token for https://d-abc123.awsapps.com/start expired at "
                        "2025-12-31T23:59:59Z; run aws sso login --profile legacy"));
    ASSERT(fake.n_req == 0);
    env_release(&e);
}

TEST(sso_errors)
{
    struct env e;
    const struct sk_creds *c;
    char path[600];

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("cfg_sso", sso_config_text, 0600), 1);
    snprintf(path, sizeof(path), "%s/.aws/sso/cache/%s.json", dir, CORP_KEY);
    unlink(path);
    ASSERT_OK(env_setup(&e, "dev", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.msg, "profile 'dev': no SSO token for sso-session 'corp' in the cache; run aws sso login "
                          "--sso-session corp");
    write_file(".aws/sso/cache/" CORP_KEY ".json", "{\"accessToken\": \"SSOACCESSTOKEN\"", 0600);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "is not a JSON object; run aws sso login"));
    write_file(".aws/sso/cache/" CORP_KEY ".json", "{\"accessToken\": \"SSOACCESSTOKEN\"}", 0600);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT(has(err.msg, "has no valid accessToken and expiresAt"));
    ASSERT(!has(err.msg, "SSOACCESSTOKEN"));

    /* The portal refuses the token: a new login; no access to the role: the portal's error. */
    sso_cache_put(CORP_KEY, "2026-01-01T01:00:00Z", "2026-04-01T00:00:00Z");
    fake_push(401, "{\"__type\":\"UnauthorizedException\",\"message\":\"Session token not found or invalid\"}");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.msg, "profile 'dev': the portal refused the SSO token for sso-session 'corp' "
                          "(UnauthorizedException); run aws sso login --sso-session corp");
    fake_push(403, "{\"__type\":\"ForbiddenException\",\"message\":\"No access\"}");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_AWS);
    ASSERT(has(err.msg, "profile 'dev': SSO role 'Admin' in account 123456789012: ForbiddenException: No access"));
    fake_push(200, "{\"roleCredentials\":{\"secretAccessKey\":\"x\"}}");
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_PARSE);
    env_release(&e);

    /* Settings. */
    ASSERT_OK(env_setup(&e, "mixed", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.msg, "profile 'mixed': sso_start_url differs from the one of sso-session 'corp'");
    env_release(&e);
    ASSERT_OK(env_setup(&e, "nosession", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.msg, "profile 'nosession': sso-session 'nowhere' not found in the config file");
    env_release(&e);
    ASSERT_OK(env_setup(&e, "partial", 1), &err);
    ASSERT_ERR(sk_credprovider_get(&e.p, NOW, &c, &err), &err, SK_E_CONFIG);
    ASSERT_STREQ(err.msg, "profile 'partial' is an SSO profile but has no sso_account_id, sso_region");
    ASSERT(fake.n_req == 0);
    env_release(&e);
}

static void rm_tree(void)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

/* The wiping allocator libcurl can be given (mem.h): blocks behave like malloc's, and every block
 * it frees or outgrows is zeroed first. Peeking at freed memory is what ASan forbids, so check the
 * wipe through a block still owned: sk_wipe_realloc must copy, never move the old bytes away. */
TEST(wiping_allocator)
{
    char *p = sk_wipe_malloc(16), *q, *s;
    unsigned char *z;
    size_t i;

    ASSERT(p != NULL);
    memcpy(p, "AKIASECRETVALUE", 16);
    q = sk_wipe_realloc(p, 4096);
    ASSERT(q != NULL && q != p);
    ASSERT_STREQ(q, "AKIASECRETVALUE");
    q = sk_wipe_realloc(q, 4);
    ASSERT(q != NULL && memcmp(q, "AKIA", 4) == 0);
    sk_wipe_free(q);
    z = sk_wipe_calloc(8, 32);
    ASSERT(z != NULL);
    for (i = 0; i < 256; i++)
        ASSERT(z[i] == 0);
    sk_wipe_free(z);
    s = sk_wipe_strdup("token");
    ASSERT_STREQ(s, "token");
    sk_wipe_free(s);
    sk_wipe_free(NULL);
    ASSERT(sk_wipe_calloc((size_t)-1, 2) == NULL);
    ASSERT(sk_wipe_malloc((size_t)-1) == NULL);
    q = sk_wipe_realloc(NULL, 8);
    ASSERT(q != NULL);
    sk_wipe_free(q);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(iso8601);
    RUN(wiping_allocator);
    RUN(creds_copy_release);
    RUN(env_credentials);
    RUN(env_expired_and_partial);
    RUN(explicit_profile_skips_env);
    RUN(profile_static_keys);
    RUN(no_credentials_lists_what_was_tried);
    RUN(assume_role_with_source_profile);
    RUN(assume_role_aws_global_signs_for_us_east_1);
    RUN(assume_role_endpoint_override_and_default_session_name);
    RUN(assume_role_chain);
    RUN(source_profile_cycles_and_errors);
    RUN(credential_source_environment);
    RUN(assume_role_sts_error);
    RUN(web_identity_from_env);
    RUN(web_identity_from_profile);
    RUN(process_success_and_quoting);
    RUN(process_failures);
    RUN(process_bad_commands);
    RUN(container_full_uri_with_token);
    RUN(container_rejects_bad_settings);
    RUN(container_relative_uri_and_retries);
    RUN(imds_v2_token_flow);
    RUN(imds_v1_fallback);
    RUN(imds_token_refetched_after_401);
    RUN(imds_errors);
    RUN(imds_short_circuits_when_nothing_answers);
    RUN(cache_and_refresh_window);
    RUN(sso_cache_key);
    RUN(sso_token_expiry);
    RUN(sso_session_profile);
    RUN(sso_refresh);
    RUN(sso_legacy_profile);
    RUN(sso_errors);
    rm_tree();
    return DONE();
}
