/*
 * Calling AWS: sign, send, parse, classify; retried by lib/aws/retry.c, the SDKs' standard mode
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html); the wire protocols
 * are Smithy's awsJson1_1, awsQuery and ec2Query (https://smithy.io/2.0/aws/protocols/).
 */
#include "aws/api.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/json.h"
#include "core/mem.h"
#include "core/redact.h"
#include "aws/sigv4.h"
#include "core/text.h"
#include "core/uri.h"
#include "core/version.h"
#include "core/xml.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char user_agent[] = "shipkit/" SK_VERSION;

/* ---- error codes ---------------------------------------------------------------------------- */

/* Errors meaning "these credentials are wrong", which tools report as exit 3, not 4. */
static const char *const credential_codes[] = {
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "IncompleteSignatureException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidToken",
    "RequestExpired",
    "RequestTimeTooSkewed",
    "InvalidIdentityToken",
};

/* Errors a wrong clock causes (lib/aws/api.h, "clock skew"). */
static const char *const skew_codes[] = {
    "RequestTimeTooSkewed",      "RequestExpired",        "RequestInTheFuture",
    "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
};

time_t sk_transport_now(const struct sk_transport *t)
{
    return t->now ? t->now(t->now_ctx) : time(NULL);
}

time_t sk_transport_sign_time(const struct sk_transport *t)
{
    return sk_transport_now(t) + (time_t)t->skew_s;
}

/* ---- clock skew ---------------------------------------------------------------------------- */

int sk_clock_skew(const char *aws_code, const char *date, time_t local_now, long current, long *skew_s)
{
    time_t server;
    long skew, moved;

    if (!sk_code_in(aws_code, skew_codes, NELEM(skew_codes)) || !date)
        return 0;
    server = curl_getdate(date, NULL); /* RFC 7231 IMF-fixdate and the obsolete forms; -1 when none */
    if (server == (time_t)-1)
        return 0;
    skew = (long)(server - local_now);
    moved = skew - current;
    if (moved < SK_SKEW_ADJUST_S && moved > -SK_SKEW_ADJUST_S)
        return 0; /* our signing clock agrees with the server's: the error is not the clock's */
    *skew_s = skew;
    return 1;
}

/* ---- forms --------------------------------------------------------------------------------- */

void sk_form_init(struct sk_form *f)
{
    sk_buf_init(&f->body);
}

void sk_form_add(struct sk_form *f, const char *key, const char *value)
{
    if (f->body.len)
        sk_buf_addch(&f->body, '&');
    sk_uri_encodes(&f->body, key, 0);
    sk_buf_addch(&f->body, '=');
    sk_uri_encodes(&f->body, value, 0);
}

void sk_form_addf(struct sk_form *f, const char *value, const char *keyfmt, ...)
{
    struct sk_buf key = SK_BUF_INIT;
    va_list ap;

    va_start(ap, keyfmt);
    sk_buf_vaddf(&key, keyfmt, ap);
    va_end(ap);
    sk_form_add(f, key.p, value);
    sk_buf_release(&key);
}

void sk_form_release(struct sk_form *f)
{
    /* Forms can carry secrets (web identity tokens). */
    sk_wipe(f->body.p, f->body.len);
    sk_buf_release(&f->body);
}

/* ---- error documents ----------------------------------------------------------------------- */

/* How much of a service's error message is kept (the message field has room for more). */
#define MESSAGE_MAX 400

/* dst[cap] = s[0..n) with every registered secret replaced, then escaped (lib/core/text.h): text a
 * server wrote, quoting the request perhaps, made fit to print. Cut on a character boundary. */
static void clean_into(const struct sk_secrets *secrets, char *dst, size_t cap, const char *s, size_t n)
{
    struct sk_buf t;

    sk_buf_init_secret(&t);
    sk_buf_add(&t, s, n);
    sk_secrets_scrub(secrets, &t);
    sk_text_escape_to(dst, cap, t.p, t.len);
    sk_buf_release(&t);
}

/* "com.amazonaws.ecs#ClientException", "ClientException:http://..." -> "ClientException". */
static void sanitize_code(const struct sk_secrets *secrets, const char *in, char *out, size_t outsz)
{
    const char *p = in, *hash;
    size_t n = strcspn(p, ":");

    hash = memchr(p, '#', n);
    if (hash) {
        n -= (size_t)(hash + 1 - p);
        p = hash + 1;
    }
    clean_into(secrets, out, outsz, p, n);
}

static int fail_from_error(const struct sk_secrets *secrets, struct sk_err *err, long status, const char *code,
                           const char *message, const char *request_id)
{
    enum sk_errkind kind = SK_E_AWS;
    size_t used = 0, room;

    sk_err_clear(err);
    if (code && *code)
        sanitize_code(secrets, code, err->aws_code, sizeof(err->aws_code));
    else
        snprintf(err->aws_code, sizeof(err->aws_code), "HTTP%ld", status);
    if (request_id)
        clean_into(secrets, err->request_id, sizeof(err->request_id), request_id, strlen(request_id));
    if (sk_code_in(err->aws_code, credential_codes, NELEM(credential_codes))) {
        kind = SK_E_CONFIG;
        used = (size_t)snprintf(err->msg, sizeof(err->msg), "credentials rejected: ");
    }
    used += (size_t)snprintf(err->msg + used, sizeof(err->msg) - used, "%s", err->aws_code);
    if (message && *message) {
        /* the whole message is scrubbed before it is cut: no part of a secret stays at the cut */
        room = sizeof(err->msg) - used - 2;
        memcpy(err->msg + used, ": ", 3);
        clean_into(secrets, err->msg + used + 2, room < MESSAGE_MAX + 1 ? room : MESSAGE_MAX + 1, message,
                   strlen(message));
    } else if (!code || !*code) {
        snprintf(err->msg + used, sizeof(err->msg) - used, ": HTTP status %ld with no error document", status);
    }
    err->kind = kind;
    err->http_status = status;
    err->retryable = (int)sk_retry_classify(status, err->aws_code);
    return -1;
}

static int json_error(const struct sk_secrets *secrets, const struct sk_http_resp *resp, struct sk_err *err)
{
    const char *code = sk_headers_get(&resp->headers, "x-amzn-errortype"), *msg = NULL;
    jv doc = jv_invalid();
    struct sk_err perr;
    int rc;

    if (resp->body.len && sk_json_parse(resp->body.p, resp->body.len, &doc, &perr) == 0) {
        if (!code)
            code = sk_json_str(doc, "__type");
        if (!code)
            code = sk_json_str(doc, "code");
        msg = sk_json_str(doc, "message");
        if (!msg)
            msg = sk_json_str(doc, "Message");
    }
    rc = fail_from_error(secrets, err, resp->status, code, msg, sk_headers_get(&resp->headers, "x-amzn-requestid"));
    jv_free(doc);
    return rc;
}

static int query_error(const struct sk_secrets *secrets, const struct sk_http_resp *resp, struct sk_err *err)
{
    jv doc = jv_invalid(), e = jv_invalid(), root;
    struct sk_err perr;
    const char *rid = sk_headers_get(&resp->headers, "x-amzn-requestid");
    int rc;

    if (resp->body.len && sk_xml_parse(resp->body.p, resp->body.len, NULL, &doc, &perr) == 0) {
        static const char *const p1[] = { "ErrorResponse", "Error", NULL };
        static const char *const p2[] = { "Response", "Errors", "Error", NULL };
        static const char *const p3[] = { "ErrorResponse", "Errors", "Error", NULL };
        const char *const *paths[] = { p1, p2, p3 };
        size_t i;
        for (i = 0; i < NELEM(paths); i++) {
            jv_free(e);
            e = sk_json_path(doc, paths[i]);
            if (jv_get_kind(e) == JV_KIND_ARRAY) /* several errors: report the first */
                e = jv_array_get(e, 0);
            if (jv_get_kind(e) == JV_KIND_OBJECT)
                break;
        }
        if (!rid) {
            root = sk_json_get(doc, "ErrorResponse");
            rid = sk_json_str(root, "RequestId");
            jv_free(root);
        }
    }
    rc = fail_from_error(secrets, err, resp->status, sk_json_str(e, "Code"), sk_json_str(e, "Message"), rid);
    jv_free(e);
    jv_free(doc);
    return rc;
}

/* ---- one call with retries ----------------------------------------------------------------- */

struct call {
    const struct sk_service *svc;
    const char *endpoint;
    const char *region;
    const struct sk_creds *creds;
    const char *op;
    const char *content_type;
    const char *target; /* X-Amz-Target or NULL */
    const char *body;
    size_t body_len;
    unsigned flags;
};

static int send_once(struct sk_transport *t, const struct call *c, const struct sk_url *u, struct sk_http_resp *resp,
                     struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_buf host = SK_BUF_INIT, url = SK_BUF_INIT;
    struct sk_sigv4_result sig;
    struct sk_http_req req = { 0 };
    size_t i;
    int rc = -1;

    sk_sigv4_result_init(&sig);
    sk_url_host_header(u, &host);
    sk_headers_add(&h, "Host", host.p);
    sk_headers_add(&h, "Content-Type", c->content_type);
    if (c->target)
        sk_headers_add(&h, "X-Amz-Target", c->target);
    if (c->creds) {
        struct sk_sigv4_params p;
        struct sk_sigv4_req sr = { "POST", u->path, u->query, &h, c->body, c->body_len };
        sk_sigv4_params_init(&p, c->svc->signing_name, c->region, sk_transport_sign_time(t));
        if (sk_sigv4_sign(&sr, &p, c->creds, &sig, err) < 0)
            goto out;
        for (i = 0; i < sig.add.n; i++)
            sk_headers_add(&h, sig.add.v[i].name, sig.add.v[i].value);
    }
    sk_headers_add(&h, "User-Agent", user_agent);
    sk_buf_addf(&url, "%s://%s%s%s%s", u->scheme, host.p, u->path, u->query ? "?" : "", u->query ? u->query : "");
    req.method = "POST";
    req.url = url.p;
    req.headers = &h;
    req.body = c->body;
    req.body_len = c->body_len;
    req.timeout_ms = t->timeout_ms;
    req.flags = (c->flags & SK_API_SECRET_REQ ? SK_HTTP_SECRET_REQ : 0u) |
                (c->flags & SK_API_SECRET_RESP ? SK_HTTP_SECRET_RESP : 0u);
    rc = sk_http_send(t->http, &req, resp, err);
out:
    sk_headers_release(&h);
    sk_buf_release(&host);
    sk_buf_release(&url);
    sk_sigv4_result_release(&sig);
    return rc;
}

/* One call's state across its attempts (sk_retry_run). */
struct call_run {
    struct sk_transport *t;
    const struct call *c;
    const struct sk_url *u;
    struct sk_http_resp *resp;
    int skew_retried;
};

static enum sk_attempt call_attempt(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct call_run *cr = ctx;
    struct sk_transport *t = cr->t;
    long skew;

    (void)n;
    if (send_once(t, cr->c, cr->u, cr->resp, err) < 0)
        return err->kind == SK_E_NET ? SK_ATTEMPT_FAILED : SK_ATTEMPT_FINAL; /* signing or URL problems */
    if (cr->resp->status >= 200 && cr->resp->status < 300)
        return SK_ATTEMPT_DONE;
    /* Sniff rather than trust the protocol: front ends (and moto's auth layer) answer JSON-protocol
     * calls with XML error documents. */
    sk_api_error_from_response(sk_http_secrets(t->http), cr->resp, err);
    *asked = sk_retry_after_ms(&cr->resp->headers);
    /* Our clock is off: sign again at the server's time, once, at once, and keep it. This extra
     * attempt is not one of the standard mode's: the service is not in trouble. */
    if (!cr->skew_retried && sk_clock_skew(err->aws_code, sk_headers_get(&cr->resp->headers, "Date"),
                                           sk_transport_now(t), t->skew_s, &skew)) {
        cr->skew_retried = 1;
        t->skew_s = skew;
        sk_http_trace(t->http, "* %s.%s: %s: the server's clock is %+ld s from ours; signing again at its time",
                      cr->c->svc->name, cr->c->op, err->aws_code, skew);
        if (t->skew_fn)
            t->skew_fn(t->skew_ctx, skew);
        return SK_ATTEMPT_AGAIN;
    }
    return SK_ATTEMPT_FAILED;
}

static void call_waiting(void *ctx, int n, int max, long delay, const struct sk_err *err)
{
    struct call_run *cr = ctx;

    sk_http_trace(cr->t->http, "* %s.%s: attempt %d/%d failed (%s); retrying in %ld ms", cr->c->svc->name, cr->c->op, n,
                  max, err->aws_code[0] ? err->aws_code : err->msg, delay);
}

static int call_with_retries(struct sk_transport *t, const struct call *c, struct sk_http_resp *resp,
                             struct sk_err *err)
{
    struct sk_url u = { 0 };
    struct sk_retry fallback, *r = t->retry;
    struct call_run cr = { t, c, &u, resp, 0 };
    struct sk_retry_job job = { call_attempt, call_waiting, &cr, 0, 0, 0 };
    int rc;

    if (!r) {
        sk_retry_init(&fallback, NULL, NULL);
        r = &fallback;
    }
    if (sk_url_parse(c->endpoint, &u, err) < 0)
        return sk_err_prefix(err, "endpoint for %s", c->svc->name);
    /* What the request carries as secret stays out of its trace and of any error quoting it. */
    if (c->flags & SK_API_SECRET_REQ)
        sk_secrets_add_body(sk_http_secrets(t->http), c->body, c->body_len);
    if ((rc = sk_retry_run(r, &job, err)) < 0)
        sk_retry_gave_up(err, job.attempts);
    sk_url_release(&u);
    return rc;
}

int sk_api_error_from_response(const struct sk_secrets *secrets, const struct sk_http_resp *resp, struct sk_err *err)
{
    size_t i = 0;

    while (i < resp->body.len && (resp->body.p[i] == ' ' || resp->body.p[i] == '\n' || resp->body.p[i] == '\r'))
        i++;
    if (i < resp->body.len && resp->body.p[i] == '<')
        return query_error(secrets, resp, err);
    return json_error(secrets, resp, err);
}

int sk_api_json(struct sk_transport *t, const struct sk_service *svc, const char *endpoint, const char *region,
                const struct sk_creds *creds, const char *op, jv in, unsigned flags, jv *out, struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    int rc;

    sk_json_dump(in, 0, &body);
    jv_free(in);
    rc = sk_api_json_raw(t, svc, endpoint, region, creds, op, body.p, body.len, flags, out, err);
    sk_buf_release(&body);
    return rc;
}

int sk_api_json_raw(struct sk_transport *t, const struct sk_service *svc, const char *endpoint, const char *region,
                    const struct sk_creds *creds, const char *op, const char *body, size_t len, unsigned flags, jv *out,
                    struct sk_err *err)
{
    struct sk_http_resp resp;
    struct sk_buf target = SK_BUF_INIT;
    struct call c = { 0 };
    int rc = -1;

    sk_http_resp_init(&resp);
    sk_buf_addf(&target, "%s.%s", svc->target_prefix, op);
    c.svc = svc;
    c.endpoint = endpoint;
    c.region = region;
    c.creds = creds;
    c.op = op;
    c.content_type = "application/x-amz-json-1.1";
    c.target = target.p;
    c.body = body;
    c.body_len = len;
    c.flags = flags;
    if (call_with_retries(t, &c, &resp, err) < 0)
        goto out;
    if (resp.body.len == 0) {
        *out = jv_object();
    } else if (sk_json_parse(resp.body.p, resp.body.len, out, err) < 0) {
        sk_err_prefix(err, "%s.%s response", svc->name, op);
        goto out;
    } else if (jv_get_kind(*out) != JV_KIND_OBJECT) {
        /* Every awsJson1_1 output is a structure; callers rely on getting an object. */
        jv_free(*out);
        sk_errf(err, SK_E_PARSE, "%s.%s response: expected a JSON object", svc->name, op);
        goto out;
    }
    if (flags & SK_API_SECRET_RESP)
        sk_secrets_add_json(sk_http_secrets(t->http), *out);
    rc = 0;
out:
    sk_http_resp_release(&resp);
    sk_buf_release(&target);
    return rc;
}

int sk_api_query(struct sk_transport *t, const struct sk_service *svc, const char *endpoint, const char *region,
                 const struct sk_creds *creds, const char *op, const struct sk_form *form,
                 const char *const *list_items, unsigned flags, jv *out, struct sk_err *err)
{
    struct sk_http_resp resp;
    struct sk_buf body = SK_BUF_INIT, resp_name = SK_BUF_INIT, result_name = SK_BUF_INIT;
    struct call c = { 0 };
    jv doc = jv_invalid();
    int rc = -1;

    sk_http_resp_init(&resp);
    if (flags & SK_API_SECRET_REQ)
        sk_buf_init_secret(&body);
    sk_buf_adds(&body, "Action=");
    sk_uri_encodes(&body, op, 0);
    sk_buf_adds(&body, "&Version=");
    sk_uri_encodes(&body, svc->api_version, 0);
    if (form && form->body.len) {
        sk_buf_addch(&body, '&');
        sk_buf_add(&body, form->body.p, form->body.len);
    }
    c.svc = svc;
    c.endpoint = endpoint;
    c.region = region;
    c.creds = creds;
    c.op = op;
    c.content_type = "application/x-www-form-urlencoded; charset=utf-8";
    c.body = body.p;
    c.body_len = body.len;
    c.flags = flags;
    if (call_with_retries(t, &c, &resp, err) < 0)
        goto out;
    if (sk_xml_parse(resp.body.p, resp.body.len, list_items, &doc, err) < 0) {
        sk_err_prefix(err, "%s.%s response", svc->name, op);
        goto out;
    }
    if (flags & SK_API_SECRET_RESP)
        sk_secrets_add_json(sk_http_secrets(t->http), doc);
    sk_buf_addf(&resp_name, "%sResponse", op);
    sk_buf_addf(&result_name, "%sResult", op);
    if (svc->protocol == SK_PROTO_EC2) {
        /* EC2 answers <OpResponse><requestId/>members...</OpResponse>, no <OpResult>
         * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html). */
        jv r = sk_json_get(doc, resp_name.p);
        if (jv_get_kind(r) == JV_KIND_STRING) { /* an empty answer: <OpResponse/> */
            jv_free(r);
            r = jv_object();
        }
        if (jv_get_kind(r) != JV_KIND_OBJECT) {
            jv_free(r);
            sk_errf(err, SK_E_PARSE, "%s.%s response: no <%s> element", svc->name, op, resp_name.p);
            goto out;
        }
        *out = jv_object_delete(r, jv_string("requestId"));
        rc = 0;
        goto out;
    }
    {
        const char *const path[] = { resp_name.p, result_name.p, NULL };
        jv r = sk_json_path(doc, path);
        if (jv_get_kind(r) == JV_KIND_INVALID) {
            jv top = sk_json_get(doc, resp_name.p);
            jv_free(r);
            if (jv_get_kind(top) == JV_KIND_INVALID) {
                jv_free(top);
                sk_errf(err, SK_E_PARSE, "%s.%s response: no <%s> element", svc->name, op, resp_name.p);
                goto out;
            }
            jv_free(top);
            r = jv_object();
        }
        *out = r;
    }
    rc = 0;
out:
    jv_free(doc);
    sk_http_resp_release(&resp);
    sk_buf_release(&body);
    sk_buf_release(&resp_name);
    sk_buf_release(&result_name);
    return rc;
}
