/*
 * creds.c - credentials and the default provider chain (the SDKs' standardized credential
 * providers: https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html), and
 * what the sources share (creds_int.h). Each source has its own file: creds_env.c,
 * creds_profile.c, creds_sso.c, creds_process.c, creds_webid.c, creds_container.c, creds_imds.c.
 */
#include "aws/creds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds_int.h"
#include "aws/http.h"
#include "core/json.h"
#include "core/mem.h"
#include "aws/service.h"

#define MAX_TOKEN_FILE (64 * 1024)

/* ---- struct sk_creds ------------------------------------------------------------------------- */

void sk_creds_release(struct sk_creds *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    sk_free_secret(c->secret_access_key);
    sk_free_secret(c->session_token);
    free(c->account_id);
    memset(c, 0, sizeof(*c));
}

void sk_creds_copy(struct sk_creds *dst, const struct sk_creds *src)
{
    dst->access_key_id = xstrdup_or_null(src->access_key_id);
    dst->secret_access_key = xstrdup_or_null(src->secret_access_key);
    dst->session_token = xstrdup_or_null(src->session_token);
    dst->account_id = xstrdup_or_null(src->account_id);
    dst->expiration = src->expiration;
    dst->source = src->source;
}

/* ---- time ------------------------------------------------------------------------------------ */

static int digits(const char *s, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int sk_parse_iso8601(const char *s, time_t *out)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0, leap;
    long long t;

    if (!s || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
        s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    s += 19;
    if (*s == '.' || *s == ',') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if (digits(s + 1, 2, &oh))
            return -1;
        s += 3;
        if (*s == ':')
            s++;
        if (digits(s, 2, &om))
            return -1;
        s += 2;
    } else {
        return -1;
    }
    if (*s)
        return -1;
    leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 || m > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return -1;
    t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
    t -= (long long)sign * (oh * 3600 + om * 60);
    if (sizeof(time_t) < 8 && (t > 0x7fffffffLL || t < -0x7fffffffLL - 1))
        return -1;
    *out = (time_t)t;
    return 0;
}

void sk_creds_fmt_time(time_t t, char *buf, size_t n)
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "%lld", (long long)t);
}

/* ---- shared helpers (creds_int.h) ------------------------------------------------------------- */

void sk_creds_tried(struct resolve *r, const char *fmt, ...)
{
    va_list ap;

    if (r->tried.len)
        sk_buf_adds(&r->tried, ", ");
    va_start(ap, fmt);
    sk_buf_vaddf(&r->tried, fmt, ap);
    va_end(ap);
}

const char *sk_creds_conf(const struct resolve *r, const char *profile, const char *key)
{
    const char *v = sk_config_get(r->p->conf, profile, key);

    return v && *v ? v : NULL;
}

void sk_creds_rtrim(struct sk_buf *b)
{
    size_t n = b->len;

    while (n && (b->p[n - 1] == ' ' || b->p[n - 1] == '\t' || b->p[n - 1] == '\r' || b->p[n - 1] == '\n'))
        n--;
    sk_buf_truncate(b, n);
}

/* Read a token file into a secret buffer, trailing whitespace dropped. */
int sk_creds_read_token_file(const char *path, const char *what, struct sk_buf *out, struct sk_err *err)
{
    char tmp[4096];
    ssize_t n;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sk_errf(err, SK_E_CONFIG, "%s: cannot open '%s': %s", what, path, strerror(errno));
        err->sys_errno = errno;
        return -1;
    }
    for (;;) {
        n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sk_errf(err, SK_E_CONFIG, "%s: cannot read '%s': %s", what, path, strerror(errno));
            err->sys_errno = errno;
            goto out;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > MAX_TOKEN_FILE) {
            sk_errf(err, SK_E_CONFIG, "%s: '%s' is too large", what, path);
            goto out;
        }
        sk_buf_add(out, tmp, (size_t)n);
    }
    sk_creds_rtrim(out);
    if (!out->len) {
        sk_errf(err, SK_E_CONFIG, "%s: '%s' is empty", what, path);
        goto out;
    }
    rc = 0;
out:
    sk_wipe(tmp, sizeof(tmp));
    close(fd);
    return rc;
}

/* Fill out from a JSON object with AccessKeyId, SecretAccessKey, <token_key>, Expiration and
 * AccountId (obj borrowed). Never quotes values: they are secrets. */
int sk_creds_from_json(jv obj, const char *token_key, const char *what, struct sk_creds *out, struct sk_err *err)
{
    const char *ak = sk_json_str(obj, "AccessKeyId"), *sk = sk_json_str(obj, "SecretAccessKey");
    const char *tok = token_key ? sk_json_str(obj, token_key) : NULL, *exp = sk_json_str(obj, "Expiration");
    const char *acct = sk_json_str(obj, "AccountId");
    time_t t = 0;

    if (!ak || !*ak || !sk || !*sk)
        return sk_errf(err, SK_E_CONFIG, "%s: response has no AccessKeyId/SecretAccessKey", what);
    if (exp && *exp && sk_parse_iso8601(exp, &t))
        return sk_errf(err, SK_E_CONFIG, "%s: invalid Expiration '%.40s'", what, exp);
    memset(out, 0, sizeof(*out));
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = tok && *tok ? xstrdup(tok) : NULL;
    out->account_id = acct && *acct ? xstrdup(acct) : NULL;
    out->expiration = t;
    return 0;
}

/* ---- STS (§2.3, §4.2), for role_arn profiles and web identity ------------------------------------ */

static void account_from_arn(const char *arn, struct sk_creds *out)
{
    const char *p = arn;
    int i;

    /* arn:partition:service:region:ACCOUNT:resource */
    for (i = 0; p && i < 4; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (p && strchr(p, ':') && strchr(p, ':') > p && !out->account_id)
        out->account_id = xstrndup(p, (size_t)(strchr(p, ':') - p));
}

int sk_creds_sts_call(struct resolve *r, const char *op, const struct sk_form *form, const struct sk_creds *signer,
                      const char *source, struct sk_creds *out, struct sk_err *err)
{
    const char *region = r->p->region ? r->p->region : "us-east-1";
    struct sk_endpoint ep = { NULL, NULL };
    jv res = jv_invalid(), creds = jv_invalid(), user = jv_invalid();
    int rc = -1;

    if (!r->p->t)
        return sk_errf(err, SK_E_INTERNAL, "%s: no transport for STS", source);
    /* Signed for the endpoint's signing region: aws-global's sts.amazonaws.com is us-east-1's. */
    if (sk_config_resolve_endpoint(r->p->conf, &sk_svc_sts, NULL, region, &ep, err))
        goto out;
    if (sk_api_query(r->p->t, &sk_svc_sts, ep.url, ep.signing_region ? ep.signing_region : region, signer, op, form,
                     NULL, SK_API_SECRET_REQ | SK_API_SECRET_RESP, &res, err))
        goto out;
    creds = sk_json_get(res, "Credentials");
    if (sk_creds_from_json(creds, "SessionToken", op, out, err))
        goto out;
    user = sk_json_get(res, "AssumedRoleUser");
    if (sk_json_str(user, "Arn"))
        account_from_arn(sk_json_str(user, "Arn"), out);
    out->source = source;
    rc = 1;
out:
    jv_free(user);
    jv_free(creds);
    sk_json_wipe_strings(res); /* credentials: jv frees without wiping */
    jv_free(res);
    sk_endpoint_release(&ep);
    return rc;
}

void sk_creds_session_name(struct resolve *r, const char *configured, struct sk_buf *out)
{
    if (configured && *configured)
        sk_buf_adds(out, configured);
    else
        sk_buf_addf(out, "shipkit-%lld", (long long)r->now);
}

/* ---- HTTP metadata endpoints (§2.6, §2.7), for the container and IMDS sources -------------------- */

int sk_creds_metadata_send(struct resolve *r, const char *method, const char *url, const struct sk_headers *h,
                           long timeout_ms, struct sk_http_resp *resp, struct sk_err *err)
{
    struct sk_http_req req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.headers = h;
    req.timeout_ms = timeout_ms;
    req.connect_timeout_ms = timeout_ms;
    req.max_body = MAX_METADATA_BODY;
    req.flags = SK_HTTP_SECRET_RESP;
    return sk_http_send(r->p->t->http, &req, resp, err);
}

/* ---- the chain ------------------------------------------------------------------------------- */

static const char *source_desc(const char *source)
{
    if (strcmp(source, "env") == 0)
        return "the environment";
    if (strcmp(source, "process") == 0)
        return "credential_process";
    if (strcmp(source, "profile") == 0)
        return "the profile";
    return source;
}

static int resolve_chain(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const struct sk_config *conf = r->p->conf;
    int rc;

    /* --profile removes the environment from the chain, as in the AWS CLI. */
    if (!conf || !conf->profile_explicit) {
        if ((rc = sk_creds_src_env(r, out, err)))
            return rc;
        sk_creds_tried(r, "env");
    }
    if (conf && conf->profile) {
        if ((rc = sk_creds_profile(r, conf->profile, out, err)))
            return rc;
    }
    if ((rc = sk_creds_src_web_identity_env(r, out, err)))
        return rc;
    sk_creds_tried(r, "web identity");
    /* ECS if its variables are set, else IMDS (aws-c-auth). */
    if ((rc = sk_creds_src_container(r, out, err)))
        return rc;
    sk_creds_tried(r, "container");
    if ((rc = sk_creds_src_imds(r, 0, out, err)))
        return rc;
    return sk_errf(err, SK_E_CONFIG, "no credentials found (tried %.400s)", r->tried.p);
}

void sk_credprovider_init(struct sk_credprovider *p, const struct sk_config *conf, struct sk_transport *t,
                          const char *region)
{
    memset(p, 0, sizeof(*p));
    p->conf = conf;
    p->t = t;
    p->region = region && *region ? xstrdup(region) : NULL;
}

int sk_credprovider_get(struct sk_credprovider *p, time_t now, const struct sk_creds **out, struct sk_err *err)
{
    struct resolve r;
    struct sk_creds fresh = { 0 };
    char when[32];
    int rc;

    if (p->have && (!p->cached.expiration || p->cached.expiration - now > SK_CREDS_REFRESH_WINDOW)) {
        *out = &p->cached;
        return 0;
    }
    memset(&r, 0, sizeof(r));
    r.p = p;
    r.now = now;
    sk_buf_init(&r.tried);
    rc = resolve_chain(&r, &fresh, err);
    sk_buf_release(&r.tried);
    if (rc > 0 && fresh.expiration && fresh.expiration <= now) {
        sk_creds_fmt_time(fresh.expiration, when, sizeof(when));
        sk_errf(err, SK_E_CONFIG, "credentials from %s expired at %s", source_desc(fresh.source), when);
        rc = -1;
    }
    if (rc <= 0) {
        sk_creds_release(&fresh);
        /* A failed refresh keeps serving credentials that have not actually expired yet. */
        if (p->have && p->cached.expiration > now) {
            *out = &p->cached;
            return 0;
        }
        return -1;
    }
    sk_creds_release(&p->cached);
    p->cached = fresh;
    p->have = 1;
    *out = &p->cached;
    return 0;
}

void sk_credprovider_release(struct sk_credprovider *p)
{
    if (!p)
        return;
    sk_creds_release(&p->cached);
    free(p->region);
    memset(p, 0, sizeof(*p));
}
