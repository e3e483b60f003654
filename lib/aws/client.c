/*
 * The client a tool holds: configuration, region, CA bundle, HTTP, retries and the credential chain
 * around the calls of lib/aws/api.c.
 */
#include "aws/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/redact.h"
#include "core/uri.h"

int sk_read_timeout_ms(long *out, struct sk_err *err)
{
    const char *v = sk_getenv("SK_READ_TIMEOUT");
    char *end;
    double d;

    *out = 0;
    if (!v)
        return 0;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= 0.001) || d > 3600)
        return sk_errf(err, SK_E_CONFIG, "invalid SK_READ_TIMEOUT '%s': use seconds from 0.001 to 3600", v);
    *out = (long)(d * 1000 + 0.5);
    return 0;
}

int sk_client_ca_bundle(const struct sk_config *conf, const char *profile, const char *opt, char **out,
                        struct sk_err *err)
{
    struct sk_config own;
    const char *ca = opt && *opt ? opt : sk_getenv("AWS_CA_BUNDLE");
    int loaded = 0, rc = -1;

    *out = NULL;
    if (!ca) {
        if (!conf) {
            if (sk_config_load(&own, profile, err) < 0)
                return -1;
            conf = &own;
            loaded = 1;
        }
        ca = sk_config_get(conf, NULL, "ca_bundle");
    }
    if (ca && *ca && access(ca, R_OK) < 0) {
        sk_errf(err, SK_E_CONFIG, "CA bundle '%s': %s", ca, strerror(errno));
        goto out;
    }
    if (ca && *ca)
        *out = xstrdup(ca);
    rc = 0;
out:
    if (loaded)
        sk_config_release(&own);
    return rc;
}

int sk_client_init(struct sk_client *c, const struct sk_client_opts *o, struct sk_err *err)
{
    memset(c, 0, sizeof(*c));
    if (sk_config_load(&c->conf, o->profile, err) < 0)
        return -1;
    if (sk_config_region(&c->conf, o->region, &c->region, err) < 0)
        goto fail;
    if (sk_retry_init(&c->retry, &c->conf, err) < 0)
        goto fail;
    if (sk_read_timeout_ms(&c->t.timeout_ms, err) < 0)
        goto fail;
    if (o->endpoint_url) {
        struct sk_url u;
        if (sk_url_parse(o->endpoint_url, &u, err) < 0) {
            sk_err_prefix(err, "--endpoint-url");
            goto fail;
        }
        sk_url_release(&u);
        c->endpoint_url = xstrdup(o->endpoint_url);
    }
    if (sk_client_ca_bundle(&c->conf, NULL, o->ca_bundle, &c->ca_bundle, err) < 0)
        goto fail;
    c->http = sk_http_new(c->ca_bundle);
    if (o->trace)
        sk_http_set_trace(c->http, o->trace, o->trace_ctx);
    c->t.http = c->http;
    c->t.retry = &c->retry;
    c->t.skew_fn = o->skew_fn;
    c->t.skew_ctx = o->skew_ctx;
    sk_credprovider_init(&c->creds, &c->conf, &c->t, c->region);
    return 0;
fail:
    sk_client_release(c);
    return -1;
}

void sk_client_release(struct sk_client *c)
{
    sk_credprovider_release(&c->creds);
    sk_http_free(c->http);
    sk_config_release(&c->conf);
    free(c->region);
    free(c->endpoint_url);
    free(c->ca_bundle);
    memset(c, 0, sizeof(*c));
}

int sk_client_endpoint(struct sk_client *c, const struct sk_service *svc, char **out, struct sk_err *err)
{
    return sk_config_endpoint(&c->conf, svc, c->endpoint_url, c->region, out, err);
}

/* The endpoint and the region its requests are signed for (NULL: the client's region; e.g.
 * us-east-1 for STS in aws-global, https://docs.aws.amazon.com/general/latest/gr/sts.html). */
static int client_endpoint(struct sk_client *c, const struct sk_service *svc, struct sk_endpoint *ep,
                           struct sk_err *err)
{
    return sk_config_resolve_endpoint(&c->conf, svc, c->endpoint_url, c->region, ep, err);
}

static const char *ep_region(const struct sk_client *c, const struct sk_endpoint *ep)
{
    return ep->signing_region ? ep->signing_region : c->region;
}

int sk_client_creds(struct sk_client *c, const struct sk_creds **out, struct sk_err *err)
{
    struct sk_secrets *s = sk_http_secrets(c->http);

    if (sk_credprovider_get(&c->creds, sk_transport_now(&c->t), out, err) < 0)
        return -1;
    /* A server that echoes the session token (or anything) finds it scrubbed from what is shown. */
    if ((*out)->secret_access_key)
        sk_secrets_add(s, (*out)->secret_access_key, strlen((*out)->secret_access_key));
    if ((*out)->session_token)
        sk_secrets_add(s, (*out)->session_token, strlen((*out)->session_token));
    return 0;
}

void sk_client_add_secret(struct sk_client *c, const char *value, size_t len)
{
    sk_secrets_add(sk_http_secrets(c->http), value, len);
}

int sk_client_json(struct sk_client *c, const struct sk_service *svc, const char *op, jv in, unsigned flags, jv *out,
                   struct sk_err *err)
{
    const struct sk_creds *creds;
    struct sk_endpoint ep = { NULL, NULL };
    int rc = -1;

    if (client_endpoint(c, svc, &ep, err) < 0 || sk_client_creds(c, &creds, err) < 0) {
        jv_free(in);
        goto out;
    }
    rc = sk_api_json(&c->t, svc, ep.url, ep_region(c, &ep), creds, op, in, flags, out, err);
out:
    sk_endpoint_release(&ep);
    return rc;
}

int sk_client_json_pages(struct sk_client *c, const struct sk_service *svc, const char *op, jv in, int max_pages,
                         int (*fn)(void *ctx, jv answer, struct sk_err *err), void *ctx, struct sk_err *err)
{
    jv next = jv_null();
    int page, rc = 0;

    for (page = 0; page < max_pages && rc == 0; page++) {
        jv req = jv_copy(in), res;
        if (jv_get_kind(next) == JV_KIND_STRING)
            req = jv_object_set(req, jv_string("nextToken"), jv_copy(next));
        if (sk_client_json(c, svc, op, req, 0, &res, err) < 0) {
            rc = -1;
            break;
        }
        rc = fn(ctx, res, err);
        jv_free(next);
        next = sk_json_get(res, "nextToken");
        jv_free(res);
        if (jv_get_kind(next) != JV_KIND_STRING)
            break;
    }
    jv_free(next);
    jv_free(in);
    return rc < 0 ? -1 : 0;
}

int sk_client_json_raw(struct sk_client *c, const struct sk_service *svc, const char *op, const char *body, size_t len,
                       unsigned flags, jv *out, struct sk_err *err)
{
    const struct sk_creds *creds;
    struct sk_endpoint ep = { NULL, NULL };
    int rc = -1;

    if (client_endpoint(c, svc, &ep, err) < 0 || sk_client_creds(c, &creds, err) < 0)
        goto out;
    rc = sk_api_json_raw(&c->t, svc, ep.url, ep_region(c, &ep), creds, op, body, len, flags, out, err);
out:
    sk_endpoint_release(&ep);
    return rc;
}

int sk_client_query(struct sk_client *c, const struct sk_service *svc, const char *op, const struct sk_form *form,
                    const char *const *list_items, unsigned flags, jv *out, struct sk_err *err)
{
    const struct sk_creds *creds;
    struct sk_endpoint ep = { NULL, NULL };
    int rc = -1;

    if (client_endpoint(c, svc, &ep, err) < 0 || sk_client_creds(c, &creds, err) < 0)
        goto out;
    rc = sk_api_query(&c->t, svc, ep.url, ep_region(c, &ep), creds, op, form, list_items, flags, out, err);
out:
    sk_endpoint_release(&ep);
    return rc;
}
