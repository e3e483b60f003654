/*
 * The OCI distribution push protocol (https://github.com/opencontainers/distribution-spec,
 * "Pushing blobs", "Pushing Manifests"), as ECR accepts it: HEAD, POST, one streaming
 * PATCH, PUT ?digest=; manifests HEADed before PUT so immutable tags with the same digest succeed.
 */
#include "oci/registry.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/uri.h"

#define MANIFEST_ACCEPT SK_MT_OCI_MANIFEST ", " SK_MT_OCI_INDEX ", " SK_MT_DOCKER_MANIFEST ", " SK_MT_DOCKER_LIST

int sk_registry_init(struct sk_registry *r, const char *host, const char *basic_token, const char *ca_bundle,
                     sk_trace_fn *trace, void *trace_ctx, struct sk_err *err)
{
    struct sk_buf a = SK_BUF_INIT;
    size_t i;

    memset(r, 0, sizeof(*r));
    for (i = 0; host[i]; i++)
        if ((unsigned char)host[i] <= ' ' || strchr("/?#@\\", host[i]))
            return sk_errf(err, SK_E_USAGE, "invalid registry host '%s'", host);
    if (!*host)
        return sk_errf(err, SK_E_USAGE, "empty registry host");
    r->host = xstrdup(host);
    if (basic_token) {
        sk_buf_init_secret(&a);
        sk_buf_addf(&a, "Basic %s", basic_token);
        r->auth = sk_buf_detach(&a, NULL);
    }
    r->http = sk_http_new(ca_bundle);
    if (trace)
        sk_http_set_trace(r->http, trace, trace_ctx);
    return 0;
}

void sk_registry_release(struct sk_registry *r)
{
    sk_http_free(r->http);
    free(r->host);
    sk_free_secret(r->auth);
    memset(r, 0, sizeof(*r));
}

/* ---- the registry's answers (registry.h, "Reading the registry's answers") ---------------------- */

int sk_registry_error(struct sk_registry *r, const char *what, const struct sk_http_resp *resp, struct sk_err *err)
{
    jv doc = jv_invalid(), e = jv_invalid();
    struct sk_err perr;
    const char *code = NULL, *msg = NULL;
    const char *ra = sk_headers_get(&resp->headers, "Retry-After");
    char text[320]; /* the registry's message, escaped (lib/core/text.h) */

    if (resp->body.len && sk_json_parse(resp->body.p, resp->body.len, &doc, &perr) == 0) {
        jv list = sk_json_get(doc, "errors");
        if (jv_get_kind(list) == JV_KIND_ARRAY && jv_array_length(jv_copy(list)) > 0)
            e = jv_array_get(jv_copy(list), 0);
        jv_free(list);
        code = sk_json_str(e, "code");
        msg = sk_json_str(e, "message");
    }
    if (!code) {
        switch (resp->status) {
        case 401: code = "UNAUTHORIZED"; break;
        case 403: code = "DENIED"; break;
        case 404: code = "NOT_FOUND"; break;
        case 429: code = "TOOMANYREQUESTS"; break;
        case 500: code = "INTERNAL_ERROR"; break;
        case 502: code = "BAD_GATEWAY"; break;
        case 503: code = "UNAVAILABLE"; break;
        case 504: code = "GATEWAY_TIMEOUT"; break;
        default: code = "HTTP_ERROR"; break;
        }
    }
    sk_err_clear(err);
    sk_text_escape_to(err->aws_code, sizeof(err->aws_code), code, strlen(code));
    if (msg) {
        sk_text_escape_to(text, sizeof(text), msg, strlen(msg));
        msg = text;
    }
    err->http_status = resp->status;
    r->retry_after_s = 0;
    if (resp->status == 429 || resp->status >= 500)
        err->retryable = resp->status == 429 ? SK_RETRY_THROTTLE : SK_RETRY_TRANSIENT;
    /* Retry-After (seconds) on 429, and on 503 as RFC 9110 §10.2.3 allows (ECR throttled with 503
     * before 429: docs/fault-injection.md, "ECR's quirks"). */
    if ((resp->status == 429 || resp->status == 503) && ra) {
        long v = strtol(ra, NULL, 10);
        r->retry_after_s = v > 0 && v < 3600 ? v : 0;
    }
    if (resp->status == 401 && !r->auth)
        sk_errf(err, SK_E_CONFIG, "%s: registry %s wants credentials and none were given (HTTP 401)", what, r->host);
    else if (resp->status == 401)
        sk_errf(err, SK_E_AWS, "%s: registry %s refused the credentials (HTTP 401%s%s)", what, r->host, msg ? ": " : "",
                msg ? msg : "");
    else
        sk_errf(err, SK_E_AWS, "%s: %s%s%s (HTTP %ld)", what, err->aws_code, msg ? ": " : "", msg ? msg : "",
                resp->status);
    err->http_status = resp->status;
    jv_free(e);
    jv_free(doc);
    return -1;
}

char *sk_registry_location(const struct sk_registry *r, const char *loc, struct sk_err *err)
{
    struct sk_buf b = SK_BUF_INIT;

    if (strncasecmp(loc, "http://", 7) == 0) {
        sk_errf(err, SK_E_NET,
                "registry %s sent an upload Location on plain http: refused (uploads to a TLS registry stay on https)",
                r->host);
        if (err)
            err->retryable = SK_RETRY_NO;
        return NULL;
    }
    if (strncasecmp(loc, "https://", 8) == 0)
        sk_buf_adds(&b, loc);
    else if (loc[0] == '/')
        sk_buf_addf(&b, "https://%s%s", r->host, loc);
    else
        sk_buf_addf(&b, "https://%s/v2/%s", r->host, loc);
    return sk_buf_detach(&b, NULL);
}

int sk_registry_same_host(const struct sk_registry *r, const char *url)
{
    struct sk_url u;
    struct sk_buf h = SK_BUF_INIT;
    int same;

    if (sk_url_parse(url, &u, NULL) < 0)
        return 0;
    sk_url_host_header(&u, &h);
    same = strcasecmp(h.p, r->host) == 0 && strcmp(u.scheme, "https") == 0;
    sk_buf_release(&h);
    sk_url_release(&u);
    return same;
}

int sk_registry_check_stored(const struct sk_registry *r, const char *what, const char *label, const char *got,
                             const char *want, struct sk_err *err)
{
    char text[2 * SK_DIGEST_MAX]; /* the registry's digest, escaped (lib/core/text.h) */

    if (!got || strcmp(got, want) == 0)
        return 0;
    sk_text_escape_to(text, sizeof(text), got, strlen(got));
    return sk_errf(err, SK_E_AWS, "%s: registry %s %s %s, expected %s", what, r->host, label, text, want);
}

/* ---- requests ------------------------------------------------------------------------------------ */

static int reg_send(struct sk_registry *r, const char *method, const char *url, struct sk_headers *h,
                    struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    if (r->auth && sk_registry_same_host(r, url))
        sk_headers_add(h, "Authorization", r->auth);
    sk_headers_add(h, "User-Agent", "shipkit-ecr-push");
    r->retry_after_s = 0; /* never a stale one from an earlier answer */
    if (r->timeout_s > 0) {
        if (req->source)
            req->stall_s = r->timeout_s;
        else
            req->timeout_ms = r->timeout_s * 1000;
    }
    req->method = method;
    req->url = url;
    req->headers = h;
    return sk_http_send(r->http, req, resp, err);
}

int sk_registry_ping(struct sk_registry *r, struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1;

    sk_http_resp_init(&resp);
    sk_buf_addf(&url, "https://%s/v2/", r->host);
    if (reg_send(r, "GET", url.p, &h, &req, &resp, err) < 0)
        goto out;
    if (resp.status != 200) {
        sk_registry_error(r, "registry check", &resp, err);
        goto out;
    }
    rc = 0;
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}

int sk_registry_blob_exists(struct sk_registry *r, const char *repo, const char *digest, int *exists,
                            struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1;

    sk_http_resp_init(&resp);
    sk_buf_addf(&url, "https://%s/v2/%s/blobs/%s", r->host, repo, digest);
    if (reg_send(r, "HEAD", url.p, &h, &req, &resp, err) < 0)
        goto out;
    if (resp.status == 200) {
        *exists = 1;
    } else if (resp.status == 404) {
        *exists = 0;
    } else {
        sk_registry_error(r, "checking a blob", &resp, err);
        goto out;
    }
    rc = 0;
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}

static void cancel_session(struct sk_registry *r, const char *location)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err ignored;
    long retry_after = r->retry_after_s; /* the failure's, not the DELETE's */

    sk_http_resp_init(&resp);
    reg_send(r, "DELETE", location, &h, &req, &resp, &ignored);
    r->retry_after_s = retry_after;
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
}

int sk_registry_blob_upload(struct sk_registry *r, const char *repo, const struct sk_blob_stream *s, int *already,
                            struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_buf url = SK_BUF_INIT;
    char *location = NULL;
    char digest[SK_DIGEST_MAX];
    const char *loc;
    int rc = -1;

    *already = 0;
    sk_http_resp_init(&resp);
    /* 1. Open a session. */
    sk_buf_addf(&url, "https://%s/v2/%s/blobs/uploads/", r->host, repo);
    sk_headers_add(&h, "Content-Length", "0");
    if (reg_send(r, "POST", url.p, &h, &req, &resp, err) < 0) {
        /* ECR closes the connection on an upload to a repository that does not exist. */
        sk_err_prefix(err, "starting an upload to %s%s", repo,
                      strstr(err->msg, "Empty reply") ? " (does the repository exist? --create-repo makes it)" : "");
        goto out;
    }
    if (resp.status == 201) {
        *already = 1;
        rc = 0;
        goto out;
    }
    loc = sk_headers_get(&resp.headers, "Location");
    if (resp.status != 202 || !loc) {
        if (resp.status == 202)
            sk_errf(err, SK_E_AWS, "starting an upload: registry %s sent no Location", r->host);
        else
            sk_registry_error(r, "starting an upload", &resp, err);
        goto out;
    }
    location = sk_registry_location(r, loc, err);
    if (!location) {
        /* The session is on the registry, which gave no usable place to cancel it: let it expire. */
        goto out;
    }

    /* 2. One streaming PATCH with the whole blob; ECR answers 201 or 202, others 202 or 204. */
    sk_headers_release(&h);
    memset(&req, 0, sizeof(req));
    sk_headers_add(&h, "Content-Type", "application/octet-stream");
    req.source = s->read;
    req.source_ctx = s->ctx;
    req.source_len = s->len;
    if (reg_send(r, "PATCH", location, &h, &req, &resp, err) < 0) {
        /* A connection that dies under a streamed body (reset, dropped mid-upload) can surface as
         * curl's "cannot rewind the body to send it again" (CURLE_SEND_FAIL_REWIND), which the
         * transport calls permanent. For us it is a dropped connection: the retry is a new session
         * with a fresh stream. Only a TLS verification failure stays permanent. */
        if (err->kind == SK_E_NET && !err->retryable && !strstr(err->msg, "certificate") &&
            !strstr(err->msg, "CA bundle"))
            err->retryable = SK_RETRY_TRANSIENT;
        goto cancel;
    }
    if (resp.status != 202 && resp.status != 201 && resp.status != 204) {
        sk_registry_error(r, "uploading a blob", &resp, err);
        goto cancel;
    }
    loc = sk_headers_get(&resp.headers, "Location");
    if (loc) {
        char *next = sk_registry_location(r, loc, err);
        if (!next)
            goto cancel;
        free(location);
        location = next;
    }

    /* 3. Only now is the content's digest known and checked: commit it. */
    if (s->finish(s->ctx, digest, err) < 0)
        goto cancel;
    sk_buf_reset(&url);
    sk_buf_addf(&url, "%s%sdigest=%s", location, strchr(location, '?') ? "&" : "?", digest);
    sk_headers_release(&h);
    memset(&req, 0, sizeof(req));
    sk_headers_add(&h, "Content-Length", "0");
    if (reg_send(r, "PUT", url.p, &h, &req, &resp, err) < 0)
        goto cancel;
    if (resp.status != 201) {
        sk_registry_error(r, "committing a blob", &resp, err);
        goto cancel;
    }
    /* The registry says what it stored: it must be what we sent. */
    if (sk_registry_check_stored(r, "committing a blob", "stored",
                                 sk_headers_get(&resp.headers, "Docker-Content-Digest"), digest, err) < 0)
        goto out;
    rc = 0;
    goto out;
cancel:
    cancel_session(r, location);
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    free(location);
    return rc;
}

/* HEAD or GET of a manifest by tag or digest, accepting every manifest type ecr-push knows: 1 with resp
 * filled when it exists, 0 when the registry answers 404, -1 with err for any other answer. */
static int manifest_fetch(struct sk_registry *r, const char *method, const char *repo, const char *ref,
                          struct sk_http_resp *resp, struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1;

    sk_buf_addf(&url, "https://%s/v2/%s/manifests/%s", r->host, repo, ref);
    sk_headers_add(&h, "Accept", MANIFEST_ACCEPT);
    if (reg_send(r, method, url.p, &h, &req, resp, err) < 0)
        goto out;
    if (resp->status == 200)
        rc = 1;
    else if (resp->status == 404)
        rc = 0;
    else
        sk_registry_error(r, strcmp(method, "HEAD") == 0 ? "checking a manifest" : "reading a manifest", resp, err);
out:
    sk_headers_release(&h);
    sk_buf_release(&url);
    return rc;
}

int sk_registry_manifest_head(struct sk_registry *r, const char *repo, const char *ref, char digest[SK_DIGEST_MAX],
                              struct sk_err *err)
{
    struct sk_http_resp resp;
    const char *d;
    int rc;

    digest[0] = '\0';
    sk_http_resp_init(&resp);
    rc = manifest_fetch(r, "HEAD", repo, ref, &resp, err);
    if (rc == 1) {
        d = sk_headers_get(&resp.headers, "Docker-Content-Digest");
        if (d && sk_digest_valid(d))
            snprintf(digest, SK_DIGEST_MAX, "%s", d);
    }
    sk_http_resp_release(&resp);
    return rc < 0 ? -1 : 0;
}

int sk_registry_manifest_get(struct sk_registry *r, const char *repo, const char *ref, struct sk_buf *body,
                             char media_type[128], int *found, struct sk_err *err)
{
    struct sk_http_resp resp;
    const char *mt;
    int rc;

    *found = 0;
    media_type[0] = '\0';
    sk_http_resp_init(&resp);
    rc = manifest_fetch(r, "GET", repo, ref, &resp, err);
    if (rc == 1) {
        *found = 1;
        mt = sk_headers_get(&resp.headers, "Content-Type");
        snprintf(media_type, 128, "%.*s", mt ? (int)strcspn(mt, "; ") : 0, mt ? mt : "");
        sk_buf_add(body, resp.body.p, resp.body.len);
    }
    sk_http_resp_release(&resp);
    return rc < 0 ? -1 : 0;
}

int sk_registry_manifest_put(struct sk_registry *r, const char *repo, const char *ref, const char *media_type,
                             const void *body, size_t len, struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_buf url = SK_BUF_INIT;
    char want[SK_DIGEST_MAX];
    const char *got;
    int rc = -1;

    sk_http_resp_init(&resp);
    sk_digest_of(body, len, want);
    sk_buf_addf(&url, "https://%s/v2/%s/manifests/%s", r->host, repo, ref);
    sk_headers_add(&h, "Content-Type", media_type);
    req.body = body;
    req.body_len = len;
    if (reg_send(r, "PUT", url.p, &h, &req, &resp, err) < 0)
        goto out;
    if (resp.status != 201 && resp.status != 200) {
        sk_registry_error(r, "writing a manifest", &resp, err);
        goto out;
    }
    got = sk_headers_get(&resp.headers, "Docker-Content-Digest");
    if (sk_registry_check_stored(r, "writing a manifest", "stored digest", got, want, err) < 0)
        goto out;
    rc = 0;
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}

/* ---- credentials for registries other than ECR ------------------------------------------------ */

char *sk_registry_basic(const void *userpass, size_t n)
{
    const char *p = userpass, *colon = memchr(p, ':', n);
    struct sk_buf b = SK_BUF_INIT;
    size_t i;

    if (!colon || colon == p || n > 8192)
        return NULL;
    for (i = 0; i < n; i++)
        if ((unsigned char)p[i] < ' ' || p[i] == 0x7f) /* nothing that could break the header line */
            return NULL;
    sk_buf_init_secret(&b);
    sk_buf_grow(&b, 4 * ((n + 2) / 3) + 1);
    b.len = (size_t)EVP_EncodeBlock((unsigned char *)b.p, userpass, (int)n);
    b.p[b.len] = '\0';
    return sk_buf_detach(&b, NULL);
}

/* Docker's rule for an auths key (cli/config ConvertToHostname): drop the scheme and any path. */
static int docker_key_is(const char *key, const char *host)
{
    size_t n;

    if (strncasecmp(key, "https://", 8) == 0)
        key += 8;
    else if (strncasecmp(key, "http://", 7) == 0)
        key += 7;
    n = strcspn(key, "/");
    return n == strlen(host) && strncasecmp(key, host, n) == 0;
}

/* The value of an object's entry whose key is host (Docker's matching), new reference or invalid. */
static jv docker_entry(jv obj, const char *host)
{
    jv found = jv_invalid();
    int it;

    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return found;
    for (it = jv_object_iter(obj); jv_object_iter_valid(obj, it); it = jv_object_iter_next(obj, it)) {
        jv k = jv_object_iter_key(obj, it);
        int match = jv_get_kind(k) == JV_KIND_STRING && docker_key_is(jv_string_value(k), host);
        jv_free(k);
        if (match) {
            jv_free(found);
            found = jv_object_iter_value(obj, it);
            break;
        }
    }
    return found;
}

/* "auth": base64 of user:password; decoded and encoded again, so that only base64 reaches a header. */
static char *basic_from_auth(const char *auth)
{
    size_t n = strlen(auth);
    unsigned char *plain;
    EVP_ENCODE_CTX *ctx;
    int len = 0, fin = 0, ok;
    char *out = NULL;

    if (n == 0 || n > 16384 || strspn(auth, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
        return NULL;
    plain = xmalloc(n + 1);
    ctx = EVP_ENCODE_CTX_new();
    EVP_DecodeInit(ctx);
    ok = EVP_DecodeUpdate(ctx, plain, &len, (const unsigned char *)auth, (int)n) >= 0 &&
         EVP_DecodeFinal(ctx, plain + len, &fin) == 1;
    EVP_ENCODE_CTX_free(ctx);
    if (ok)
        out = sk_registry_basic(plain, (size_t)(len + fin));
    sk_wipe(plain, n + 1);
    free(plain);
    return out;
}

int sk_registry_docker_auth(const char *json, size_t len, const char *host, char **basic, char **helper,
                            struct sk_err *err)
{
    jv doc = jv_invalid(), helpers = jv_invalid(), h = jv_invalid(), auths = jv_invalid(), a = jv_invalid();
    const char *store, *auth, *user, *pass;
    int rc = 0;

    *basic = NULL;
    *helper = NULL;
    if (sk_json_parse(json, len, &doc, err) < 0 || jv_get_kind(doc) != JV_KIND_OBJECT) {
        if (err)
            err->kind = SK_E_CONFIG;
        if (jv_is_valid(doc))
            sk_errf(err, SK_E_CONFIG, "not a JSON object");
        rc = -1;
        goto out;
    }
    /* Docker asks a credential helper first: the one for this host, else the default store. */
    helpers = sk_json_get(doc, "credHelpers");
    h = docker_entry(helpers, host);
    store = sk_json_str(doc, "credsStore");
    if (jv_get_kind(h) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(h)) > 0) {
        *helper = xstrdup(jv_string_value(h));
        goto out;
    }
    if (store && *store) {
        *helper = xstrdup(store);
        goto out;
    }
    auths = sk_json_get(doc, "auths");
    a = docker_entry(auths, host);
    auth = sk_json_str(a, "auth");
    user = sk_json_str(a, "username");
    pass = sk_json_str(a, "password");
    if (auth && *auth) {
        *basic = basic_from_auth(auth);
    } else if (user && pass) {
        struct sk_buf up = SK_BUF_INIT;
        sk_buf_init_secret(&up);
        sk_buf_addf(&up, "%s:%s", user, pass);
        *basic = sk_registry_basic(up.p, up.len);
        sk_buf_release(&up);
    } else {
        goto out;
    }
    if (!*basic) {
        rc = sk_errf(err, SK_E_CONFIG, "the entry for %s in \"auths\" is not a valid user:password", host);
        goto out;
    }
    rc = 1;
out:
    jv_free(a);
    jv_free(auths);
    jv_free(h);
    jv_free(helpers);
    sk_json_wipe_strings(doc); /* the passwords */
    jv_free(doc);
    return rc;
}
