/*
 * creds_sso.c - IAM Identity Center (SSO) profiles: the cached token, its refresh through the OIDC
 * service (CreateToken) and the role's credentials from the portal (GetRoleCredentials); creds.h
 * says what and how.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds_int.h"
#include "core/cache.h"
#include "core/hdr.h"
#include "aws/http.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "aws/service.h"
#include "core/uri.h"

/* The portal and its OIDC service, named as in botocore's models (data/sso and data/sso-oidc
 * service-2.json: endpointPrefix portal.sso and oidc, serviceId "SSO" and "SSO OIDC"), so their
 * endpoints resolve as every service's do: AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC, the
 * services keys sso and sso_oidc (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 * Both speak restJson1, called unsigned below: the protocol field is not used. */
static const struct sk_service svc_sso = {
    "sso", "SSO", "SSO", "sso", "portal.sso", "awsssoportal", SK_PROTO_JSON11, NULL, "2019-06-10",
};
static const struct sk_service svc_sso_oidc = {
    "sso-oidc", "SSO OIDC", "SSO_OIDC", "sso_oidc", "oidc", "sso-oauth", SK_PROTO_JSON11, NULL, "2019-06-10",
};

static const char hdr_sso_token[] = "x-amz-sso_bearer_token";

struct sso {
    const char *profile;
    const char *session; /* NULL: the legacy form */
    const char *start_url, *region, *account, *role;
    char key[41];
    struct sk_buf dir;  /* $HOME/.aws/sso/cache */
    struct sk_buf path; /* dir/key.json */
};

/* The cached token: the file's text and its JSON (both wiped), the fields borrowed from the JSON. */
struct sso_token {
    struct sk_buf text;
    jv doc;
    const char *access, *refresh, *client_id, *client_secret, *reg_expires;
    time_t expires;
};

void sk_sso_cache_key(const char *start_url, const char *session, char out[41])
{
    const char *in = session ? session : start_url ? start_url : "";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    struct sk_buf hex = SK_BUF_INIT;

    if (EVP_Digest(in, strlen(in), md, &n, EVP_sha1(), NULL) != 1 || n != 20)
        n = 0; /* cannot happen with a working libcrypto: then no file matches */
    sk_buf_addhex(&hex, md, n);
    snprintf(out, 41, "%s", hex.p);
    sk_buf_release(&hex);
}

enum sk_sso_token_state sk_sso_token_state(time_t expires_at, time_t now, int refreshable)
{
    if (refreshable && expires_at - now < SK_SSO_TOKEN_REFRESH_WINDOW)
        return SK_SSO_TOKEN_REFRESH;
    return expires_at > now ? SK_SSO_TOKEN_VALID : SK_SSO_TOKEN_EXPIRED;
}

/* A profile that buys credentials from the portal: it names the account or the role (botocore
 * SSOProvider._load_sso_config). */
int sk_creds_is_sso_profile(const struct resolve *r, const char *name)
{
    return sk_creds_conf(r, name, "sso_account_id") || sk_creds_conf(r, name, "sso_role_name");
}

/* The profile's SSO settings, the sso-session's merged in (a key set in both must agree). */
static int sso_config(struct resolve *r, const char *name, struct sso *s, struct sk_err *err)
{
    static const char *const keys[] = { "sso_start_url", "sso_region" };
    const struct sk_config *conf = r->p->conf;
    const char *v[2], *home = sk_getenv("HOME");
    struct sk_buf missing = SK_BUF_INIT;
    size_t i;

    s->profile = name;
    s->session = sk_creds_conf(r, name, "sso_session");
    s->account = sk_creds_conf(r, name, "sso_account_id");
    s->role = sk_creds_conf(r, name, "sso_role_name");
    for (i = 0; i < 2; i++) {
        const char *sv = s->session ? sk_config_sso_get(conf, s->session, keys[i]) : NULL;
        v[i] = sk_creds_conf(r, name, keys[i]);
        if (sv && !*sv)
            sv = NULL;
        if (sv && v[i] && strcmp(sv, v[i]) != 0)
            return sk_errf(err, SK_E_CONFIG, "profile '%s': %s differs from the one of sso-session '%s'", name, keys[i],
                           s->session);
        if (sv)
            v[i] = sv;
    }
    if (s->session && !sk_config_has_sso_session(conf, s->session))
        return sk_errf(err, SK_E_CONFIG, "profile '%s': sso-session '%.100s' not found in the config file", name,
                       s->session);
    s->start_url = v[0];
    s->region = v[1];
    if (!s->account)
        sk_buf_adds(&missing, ", sso_account_id");
    if (!s->role)
        sk_buf_adds(&missing, ", sso_role_name");
    if (!s->start_url)
        sk_buf_adds(&missing, ", sso_start_url");
    if (!s->region)
        sk_buf_adds(&missing, ", sso_region");
    if (missing.len) {
        sk_errf(err, SK_E_CONFIG, "profile '%s' is an SSO profile but has no %s", name, missing.p + 2);
        sk_buf_release(&missing);
        return -1;
    }
    if (!home)
        return sk_errf(err, SK_E_CONFIG, "profile '%s': HOME is not set, so there is no SSO token cache", name);
    sk_sso_cache_key(s->start_url, s->session, s->key);
    sk_buf_addf(&s->dir, "%s/.aws/sso/cache", home);
    sk_buf_addf(&s->path, "%s/%s.json", s->dir.p, s->key);
    return 0;
}

/* "profile 'P': <what>; run aws sso login ..." (SK_E_CONFIG): the way out of every state that needs a
 * new login. */
static int sso_login_error(const struct sso *s, struct sk_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sso_login_error(const struct sso *s, struct sk_err *err, const char *fmt, ...)
{
    struct sk_buf what = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&what, fmt, ap);
    va_end(ap);
    if (s->session)
        sk_errf(err, SK_E_CONFIG, "profile '%s': %s; run aws sso login --sso-session %s", s->profile, what.p,
                s->session);
    else
        sk_errf(err, SK_E_CONFIG, "profile '%s': %s; run aws sso login --profile %s", s->profile, what.p, s->profile);
    sk_buf_release(&what);
    return -1;
}

/* Whose token: "sso-session 'corp'" or "https://corp.awsapps.com/start". */
static const char *sso_whose(const struct sso *s, struct sk_buf *b)
{
    sk_buf_reset(b);
    if (s->session)
        sk_buf_addf(b, "sso-session '%.100s'", s->session);
    else
        sk_buf_addf(b, "%.200s", s->start_url);
    return b->p;
}

static void sso_token_release(struct sso_token *tok)
{
    sk_json_wipe_strings(tok->doc); /* tokens: jv frees without wiping */
    jv_free(tok->doc);
    tok->doc = jv_invalid();
    sk_buf_release(&tok->text);
}

/* Read and check the cached token; its secrets are registered on the connection. */
static int sso_token_load(struct resolve *r, const struct sso *s, struct sso_token *tok, struct sk_err *err)
{
    struct sk_secrets *secrets = sk_http_secrets(r->p->t ? r->p->t->http : NULL);
    struct sk_buf whose = SK_BUF_INIT;
    const char *exp;
    int rc = -1;

    if (sk_creds_read_token_file(s->path.p, "SSO token cache", &tok->text, err)) {
        if (err->sys_errno == ENOENT)
            sso_login_error(s, err, "no SSO token for %s in the cache", sso_whose(s, &whose));
        goto out;
    }
    if (sk_json_parse(tok->text.p, tok->text.len, &tok->doc, NULL) || jv_get_kind(tok->doc) != JV_KIND_OBJECT) {
        sso_login_error(s, err, "the SSO token cache '%s' is not a JSON object", s->path.p);
        goto out;
    }
    tok->access = sk_json_str(tok->doc, "accessToken");
    exp = sk_json_str(tok->doc, "expiresAt");
    tok->refresh = sk_json_str(tok->doc, "refreshToken");
    tok->client_id = sk_json_str(tok->doc, "clientId");
    tok->client_secret = sk_json_str(tok->doc, "clientSecret");
    tok->reg_expires = sk_json_str(tok->doc, "registrationExpiresAt");
    if (secrets) {
        if (tok->access)
            sk_secrets_add(secrets, tok->access, strlen(tok->access));
        if (tok->refresh)
            sk_secrets_add(secrets, tok->refresh, strlen(tok->refresh));
        if (tok->client_secret)
            sk_secrets_add(secrets, tok->client_secret, strlen(tok->client_secret));
    }
    if (!tok->access || !*tok->access || !exp || sk_parse_iso8601(exp, &tok->expires)) {
        sso_login_error(s, err, "the SSO token cache '%s' has no valid accessToken and expiresAt", s->path.p);
        goto out;
    }
    rc = 0;
out:
    sk_buf_release(&whose);
    return rc;
}

/* The token can be refreshed: the session form with a client registration still valid
 * (botocore SSOTokenProvider._refresh_access_token). */
static int sso_refreshable(const struct resolve *r, const struct sso *s, const struct sso_token *tok)
{
    time_t reg;

    return s->session && tok->refresh && *tok->refresh && tok->client_id && *tok->client_id && tok->client_secret &&
           *tok->client_secret && tok->reg_expires && sk_parse_iso8601(tok->reg_expires, &reg) == 0 && reg > r->now;
}

/* One unsigned call of the portal or the OIDC service with the transport's standard-mode retries
 * (lib/aws/api.h). 0: a 2xx response in resp; -1: err is the network error or the service's error
 * document (sk_api_error_from_response), after the retries it allowed. */
/* One attempt of an unsigned portal or OIDC call, for the retry driver (lib/aws/retry.h). */
struct sso_call {
    struct sk_transport *t;
    const char *what;
    struct sk_http_req *req;
    struct sk_http_resp *resp;
};

static enum sk_attempt sso_attempt(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct sso_call *c = ctx;

    (void)n;
    if (sk_http_send(c->t->http, c->req, c->resp, err) < 0)
        return SK_ATTEMPT_FAILED;
    if (c->resp->status >= 200 && c->resp->status < 300)
        return SK_ATTEMPT_DONE;
    sk_api_error_from_response(sk_http_secrets(c->t->http), c->resp, err);
    *asked = sk_retry_after_ms(&c->resp->headers);
    return SK_ATTEMPT_FAILED;
}

static void sso_waiting(void *ctx, int n, int max, long delay_ms, const struct sk_err *err)
{
    struct sso_call *c = ctx;

    sk_http_trace(c->t->http, "* %s: attempt %d/%d failed (%s); retrying in %ld ms", c->what, n, max,
                  err->aws_code[0] ? err->aws_code : err->msg, delay_ms);
}

/* Send req with the standard mode's retries (the transport's retry state, else the defaults). */
static int sso_send(struct resolve *r, const char *what, struct sk_http_req *req, struct sk_http_resp *resp,
                    struct sk_err *err)
{
    struct sk_transport *t = r->p->t;
    struct sk_retry fallback, *rt = t->retry;
    struct sso_call call = { t, what, req, resp };
    struct sk_retry_job job = { sso_attempt, sso_waiting, &call, 0, 0, 0 };

    if (!rt) {
        sk_retry_init(&fallback, NULL, NULL);
        rt = &fallback;
    }
    req->timeout_ms = t->timeout_ms;
    if (sk_retry_run(rt, &job, err) == 0)
        return 0;
    sk_retry_gave_up(err, job.attempts);
    return -1;
}

/* endpoint of svc in the SSO region, without a trailing '/', then path. */
static int sso_url(struct resolve *r, const struct sso *s, const struct sk_service *svc, const char *path,
                   struct sk_buf *url, struct sk_err *err)
{
    char *endpoint = NULL;

    if (sk_config_endpoint(r->p->conf, svc, NULL, s->region, &endpoint, err))
        return sk_err_prefix(err, "profile '%s'", s->profile);
    sk_buf_adds(url, endpoint);
    while (url->len && url->p[url->len - 1] == '/')
        sk_buf_truncate(url, url->len - 1);
    sk_buf_adds(url, path);
    free(endpoint);
    return 0;
}

/* The cache entry the SDKs write after a refresh (botocore SSOTokenProvider._attempt_create_token):
 * these members, in this order; refreshToken only when CreateToken returned one. */
static void sso_cache_json(const struct sso *s, const struct sso_token *old, const char *access, time_t expires,
                           const char *refresh, struct sk_buf *out)
{
    struct sk_jsonw w;
    char when[32];

    sk_creds_fmt_time(expires, when, sizeof(when));
    sk_jsonw_begin(&w, out);
    sk_jsonw_str(&w, "startUrl", s->start_url);
    sk_jsonw_str(&w, "region", s->region);
    sk_jsonw_str(&w, "accessToken", access);
    sk_jsonw_str(&w, "expiresAt", when);
    sk_jsonw_str(&w, "clientId", old->client_id);
    sk_jsonw_str(&w, "clientSecret", old->client_secret);
    sk_jsonw_str(&w, "registrationExpiresAt", old->reg_expires);
    if (refresh)
        sk_jsonw_str(&w, "refreshToken", refresh);
    sk_jsonw_end(&w);
}

/* CreateToken with the refresh token: the new access token in *access (secret) and its expiry;
 * the cache file rewritten. A cache that cannot be written is traced, not fatal. */
static int sso_refresh(struct resolve *r, const struct sso *s, const struct sso_token *old, struct sk_buf *access,
                       time_t *expires, struct sk_err *err)
{
    struct sk_secrets *secrets = sk_http_secrets(r->p->t->http);
    struct sk_buf url = SK_BUF_INIT, body = SK_BUF_INIT, entry = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_http_req req;
    struct sk_jsonw w;
    struct sk_err werr;
    jv doc = jv_invalid();
    const char *tok, *refresh;
    double expires_in;
    char rel[48];
    int rc = -1;

    sk_http_resp_init(&resp);
    sk_buf_init_secret(&body);
    sk_buf_init_secret(&entry);
    if (sso_url(r, s, &svc_sso_oidc, "/token", &url, err))
        goto out;
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "clientId", old->client_id);
    sk_jsonw_str(&w, "clientSecret", old->client_secret);
    sk_jsonw_str(&w, "grantType", "refresh_token");
    sk_jsonw_str(&w, "refreshToken", old->refresh);
    sk_jsonw_end(&w);
    sk_headers_add(&h, "Content-Type", "application/json");
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url.p;
    req.headers = &h;
    req.body = body.p;
    req.body_len = body.len;
    req.max_body = MAX_METADATA_BODY;
    req.flags = SK_HTTP_SECRET_REQ | SK_HTTP_SECRET_RESP;
    if (sso_send(r, "sso-oidc.CreateToken", &req, &resp, err))
        goto out;
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT ||
        !(tok = sk_json_str(doc, "accessToken")) || !*tok || sk_json_num(doc, "expiresIn", &expires_in) ||
        !(expires_in > 0 && expires_in < 1e9)) {
        sk_errf(err, SK_E_PARSE, "sso-oidc.CreateToken response has no accessToken and expiresIn");
        goto out;
    }
    refresh = sk_json_str(doc, "refreshToken");
    if (refresh && !*refresh)
        refresh = NULL;
    sk_secrets_add(secrets, tok, strlen(tok));
    if (refresh)
        sk_secrets_add(secrets, refresh, strlen(refresh));
    *expires = r->now + (time_t)expires_in;
    sk_buf_reset(access);
    sk_buf_adds(access, tok);
    sso_cache_json(s, old, tok, *expires, refresh, &entry);
    snprintf(rel, sizeof(rel), "%s.json", s->key);
    sk_err_clear(&werr);
    if (sk_cache_write(s->dir.p, rel, entry.p, entry.len, SK_CACHE_SHARED_DIR, &werr) < 0)
        sk_http_trace(r->p->t->http, "* sso: the refreshed token is not cached: %s", werr.msg);
    rc = 0;
out:
    sk_json_wipe_strings(doc); /* tokens: jv frees without wiping */
    jv_free(doc);
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    sk_buf_release(&body);
    sk_buf_release(&entry);
    return rc;
}

/* GetRoleCredentials with the access token. */
static int sso_role_credentials(struct resolve *r, const struct sso *s, const char *token, struct sk_creds *out,
                                struct sk_err *err)
{
    struct sk_buf url = SK_BUF_INIT, whose = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_http_req req;
    jv doc = jv_invalid(), rc_obj = jv_invalid();
    const char *ak, *sk, *st;
    double exp_ms = 0;
    int rc = -1;

    sk_http_resp_init(&resp);
    if (sso_url(r, s, &svc_sso, "/federation/credentials?account_id=", &url, err))
        goto out;
    sk_uri_encodes(&url, s->account, 0);
    sk_buf_adds(&url, "&role_name=");
    sk_uri_encodes(&url, s->role, 0);
    sk_headers_add(&h, hdr_sso_token, token);
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url.p;
    req.headers = &h;
    req.max_body = MAX_METADATA_BODY;
    req.flags = SK_HTTP_SECRET_RESP;
    if (sso_send(r, "sso.GetRoleCredentials", &req, &resp, err)) {
        /* botocore: UnauthorizedException is UnauthorizedSSOTokenError, "run aws sso login". */
        if (strcmp(err->aws_code, "UnauthorizedException") == 0 || err->http_status == 401)
            sso_login_error(s, err, "the portal refused the SSO token for %s (%s)", sso_whose(s, &whose),
                            err->aws_code);
        else
            sk_err_prefix(err, "profile '%s': SSO role '%.64s' in account %.20s", s->profile, s->role, s->account);
        goto out;
    }
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "sso.GetRoleCredentials response is not a JSON object");
        goto out;
    }
    rc_obj = sk_json_get(doc, "roleCredentials");
    ak = sk_json_str(rc_obj, "accessKeyId");
    sk = sk_json_str(rc_obj, "secretAccessKey");
    st = sk_json_str(rc_obj, "sessionToken");
    if (!ak || !*ak || !sk || !*sk) {
        sk_errf(err, SK_E_PARSE, "sso.GetRoleCredentials response has no accessKeyId/secretAccessKey");
        goto out;
    }
    if (!sk_json_num(rc_obj, "expiration", &exp_ms) && !(exp_ms >= 0 && exp_ms < 1e15)) {
        sk_errf(err, SK_E_PARSE, "sso.GetRoleCredentials response has an invalid expiration");
        goto out;
    }
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = st && *st ? xstrdup(st) : NULL;
    out->account_id = xstrdup(s->account);
    out->expiration = (time_t)(exp_ms / 1000);
    out->source = "sso";
    rc = 1;
out:
    jv_free(rc_obj);
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    sk_buf_release(&whose);
    return rc;
}

int sk_creds_src_sso(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err)
{
    struct sso s;
    struct sso_token tok;
    struct sk_buf fresh = SK_BUF_INIT, whose = SK_BUF_INIT;
    const char *token;
    char when[32];
    int rc = -1;

    memset(&s, 0, sizeof(s));
    memset(&tok, 0, sizeof(tok));
    sk_buf_init(&s.dir);
    sk_buf_init(&s.path);
    sk_buf_init_secret(&tok.text);
    sk_buf_init_secret(&fresh);
    tok.doc = jv_invalid();
    if (!r->p->t || !r->p->t->http) {
        sk_errf(err, SK_E_INTERNAL, "profile '%s': no HTTP transport for SSO", name);
        goto out;
    }
    if (sso_config(r, name, &s, err) || sso_token_load(r, &s, &tok, err))
        goto out;
    token = tok.access;
    sk_creds_fmt_time(tok.expires, when, sizeof(when));
    switch (sk_sso_token_state(tok.expires, r->now, sso_refreshable(r, &s, &tok))) {
    case SK_SSO_TOKEN_VALID: break;
    case SK_SSO_TOKEN_REFRESH:
        if (sso_refresh(r, &s, &tok, &fresh, &tok.expires, err) == 0) {
            token = fresh.p;
            break;
        }
        if (tok.expires > r->now) { /* botocore: a failed refresh keeps a token that is still valid */
            sk_http_trace(r->p->t->http, "* sso: the token was not refreshed (%s); it is valid until %s", err->msg,
                          when);
            sk_err_clear(err);
            break;
        }
        if (err->kind == SK_E_NET || err->kind == SK_E_INTERNAL) {
            sk_err_prefix(err, "profile '%s': refreshing the SSO token", name);
            goto out;
        }
        sso_login_error(&s, err, "the SSO token for %s expired at %s and could not be refreshed (%s)",
                        sso_whose(&s, &whose), when, err->aws_code[0] ? err->aws_code : err->msg);
        goto out;
    case SK_SSO_TOKEN_EXPIRED:
        sso_login_error(&s, err, "the SSO token for %s expired at %s", sso_whose(&s, &whose), when);
        goto out;
    }
    rc = sso_role_credentials(r, &s, token, out, err);
out:
    sso_token_release(&tok);
    sk_buf_release(&fresh);
    sk_buf_release(&whose);
    sk_buf_release(&s.dir);
    sk_buf_release(&s.path);
    return rc;
}
