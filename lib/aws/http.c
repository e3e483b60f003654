/*
 * http.c - the libcurl transport, the ops seam, and redacted tracing.
 *
 * One easy handle per struct sk_http. curl_easy_reset() between requests clears every option but
 * keeps live connections, the DNS cache and TLS session IDs, so consecutive requests to one
 * endpoint reuse the connection.
 */
#include "aws/http.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/mem.h"
#include "core/redact.h"
#include "core/text.h"
#include "core/uri.h"

#define DEFAULT_TIMEOUT_MS 60000L
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)
#define TRACE_BODY_MAX ((size_t)64 * 1024)

static const char redacted[] = "<redacted>";
static const char hdr_authorization[] = "Authorization";
static const char sigv4_scheme[] = "AWS4-HMAC-SHA256 ";
static const char sigv4_signature[] = "Signature=";
/* Header fields whose whole value is a credential. */
static const char *const secret_headers[] = {
    "X-Amz-Security-Token",
    "x-aws-ec2-metadata-token",
    "x-amz-sso_bearer_token",
    NULL,
};
/* Presigned-URL query parameters whose value is not traced. */
static const char *const secret_params[] = {
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Amz-Credential",
    NULL,
};

struct sk_http {
    CURL *curl;
    char *ca_bundle;
    sk_trace_fn *trace_fn;
    void *trace_ctx;
    struct sk_http_ops ops;
    int have_ops;
    struct sk_secrets secrets; /* scrubbed from every trace line (and by lib/aws/api.c from errors) */
};

/* ---- global init ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    /* Every block libcurl frees is wiped first: its request buffers hold session tokens, registry
     * tokens and request bodies with secret values. */
    global_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, sk_wipe_malloc, sk_wipe_free, sk_wipe_realloc, sk_wipe_strdup,
                                     sk_wipe_calloc);
}

struct sk_http *sk_http_new(const char *ca_bundle)
{
    struct sk_http *h;

    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return NULL;
    h = xcalloc(1, sizeof(*h));
    h->curl = curl_easy_init();
    if (!h->curl) {
        free(h);
        return NULL;
    }
    h->ca_bundle = xstrdup_or_null(ca_bundle);
    sk_secrets_init(&h->secrets);
    return h;
}

void sk_http_free(struct sk_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->ca_bundle);
    sk_secrets_release(&h->secrets);
    free(h);
}

struct sk_secrets *sk_http_secrets(struct sk_http *h)
{
    return h ? &h->secrets : NULL;
}

void sk_http_set_trace(struct sk_http *h, sk_trace_fn *fn, void *ctx)
{
    h->trace_fn = fn;
    h->trace_ctx = ctx;
}

void sk_http_set_ops(struct sk_http *h, const struct sk_http_ops *ops)
{
    if (ops) {
        h->ops = *ops;
        h->have_ops = 1;
    } else {
        memset(&h->ops, 0, sizeof(h->ops));
        h->have_ops = 0;
    }
}

int sk_http_tracing(const struct sk_http *h)
{
    return h && h->trace_fn;
}

void sk_http_resp_init(struct sk_http_resp *r)
{
    r->status = 0;
    memset(&r->headers, 0, sizeof(r->headers));
    sk_buf_init(&r->body);
}

void sk_http_resp_release(struct sk_http_resp *r)
{
    r->status = 0;
    sk_headers_release(&r->headers);
    sk_buf_release(&r->body);
}

/* ---- tracing ---- */

/* Hand each line of s[0..n) to the trace callback: every registered secret replaced first, then
 * each line escaped (lib/core/text.h), since traces show what servers sent. */
static void trace_lines(struct sk_http *h, const char *s, size_t n)
{
    struct sk_buf text = SK_BUF_INIT, line = SK_BUF_INIT;
    const char *p, *end, *nl;
    size_t len;

    sk_buf_add(&text, s, n);
    sk_secrets_scrub(&h->secrets, &text);
    for (p = text.p, end = text.p + text.len; p < end; p = nl ? nl + 1 : end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        len = (size_t)((nl ? nl : end) - p);
        if (len && p[len - 1] == '\r')
            len--;
        sk_buf_reset(&line);
        sk_text_escape(&line, p, len);
        h->trace_fn(h->trace_ctx, line.p);
    }
    sk_buf_release(&line);
    sk_buf_release(&text);
}

void sk_http_trace(struct sk_http *h, const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    if (!sk_http_tracing(h))
        return;
    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (b.len)
        trace_lines(h, b.p, b.len);
    else
        h->trace_fn(h->trace_ctx, "");
    sk_buf_release(&b);
}

static int is_secret_header(const char *name)
{
    const char *const *p;

    for (p = secret_headers; *p; p++)
        if (strcasecmp(name, *p) == 0)
            return 1;
    return 0;
}

/*
 * "Name: value" with credentials redacted. For SigV4 the credential scope and SignedHeaders are
 * useful when debugging a signature mismatch, so only the Signature value goes; any other
 * Authorization scheme (container credentials, bearer tokens) is redacted whole.
 */
static void add_redacted_header(struct sk_buf *b, const char *name, const char *value)
{
    const char *sig, *end;

    sk_buf_addf(b, "%s: ", name);
    if (strcasecmp(name, hdr_authorization) == 0) {
        sig = strstr(value, sigv4_signature);
        if (strncmp(value, sigv4_scheme, sizeof(sigv4_scheme) - 1) != 0 || !sig) {
            sk_buf_adds(b, redacted);
            return;
        }
        sig += sizeof(sigv4_signature) - 1;
        sk_buf_add(b, value, (size_t)(sig - value));
        sk_buf_adds(b, redacted);
        end = strchr(sig, ',');
        if (end)
            sk_buf_adds(b, end);
    } else if (is_secret_header(name)) {
        sk_buf_adds(b, redacted);
    } else {
        sk_buf_adds(b, value);
    }
}

/* Append the query with the values of presigning parameters replaced by <redacted>. */
static void add_redacted_query(struct sk_buf *b, const char *q)
{
    const char *const *p;
    const char *amp, *eq;
    size_t klen, len;
    int secret;

    while (*q) {
        amp = strchr(q, '&');
        len = amp ? (size_t)(amp - q) : strlen(q);
        eq = memchr(q, '=', len);
        klen = eq ? (size_t)(eq - q) : len;
        secret = 0;
        for (p = secret_params; *p; p++)
            if (strlen(*p) == klen && strncasecmp(q, *p, klen) == 0)
                secret = 1;
        if (secret) {
            sk_buf_add(b, q, klen);
            sk_buf_addch(b, '=');
            sk_buf_adds(b, redacted);
        } else {
            sk_buf_add(b, q, len);
        }
        if (!amp)
            break;
        sk_buf_addch(b, '&');
        q = amp + 1;
    }
}

/* A body as sk_redact_body shows it: secret members redacted, registered secrets scrubbed (before
 * it is cut to TRACE_BODY_MAX, so no part of one is left at the cut), or not at all. */
static void trace_body(struct sk_http *h, char dir, const void *body, size_t n, int secret)
{
    struct sk_buf shown = SK_BUF_INIT;
    size_t cut;

    if (secret) {
        sk_http_trace(h, "%c [body %zu bytes, secret, not shown]", dir, n);
        return;
    }
    if (sk_redact_body(body, n, &shown) < 0) {
        sk_http_trace(h, "%c <body of %zu bytes not shown>", dir, n);
        return;
    }
    sk_http_trace(h, "%c [body %zu bytes]", dir, n);
    sk_secrets_scrub(&h->secrets, &shown);
    cut = shown.len > TRACE_BODY_MAX ? sk_text_cut(shown.p, TRACE_BODY_MAX) : shown.len;
    trace_lines(h, shown.p, cut);
    if (cut < shown.len)
        sk_http_trace(h, "%c [body truncated after %zu bytes]", dir, cut);
    sk_buf_release(&shown);
}

static void trace_request(struct sk_http *h, const struct sk_http_req *req, const struct sk_url *u)
{
    struct sk_buf b = SK_BUF_INIT;
    size_t i;

    sk_buf_addf(&b, "> %s %s://", req->method, u->scheme);
    sk_url_host_header(u, &b);
    sk_buf_adds(&b, u->path);
    if (u->query) {
        sk_buf_addch(&b, '?');
        add_redacted_query(&b, u->query);
    }
    trace_lines(h, b.p, b.len);
    for (i = 0; req->headers && i < req->headers->n; i++) {
        sk_buf_reset(&b);
        sk_buf_adds(&b, "> ");
        add_redacted_header(&b, req->headers->v[i].name, req->headers->v[i].value);
        trace_lines(h, b.p, b.len);
    }
    if (req->body_len || strcmp(req->method, "GET") != 0)
        trace_body(h, '>', req->body, req->body_len, req->flags & SK_HTTP_SECRET_REQ);
    sk_buf_release(&b);
}

static void trace_response(struct sk_http *h, const struct sk_http_req *req, const struct sk_http_resp *resp)
{
    struct sk_buf b = SK_BUF_INIT;
    size_t i;

    sk_http_trace(h, "< HTTP %ld", resp->status);
    for (i = 0; i < resp->headers.n; i++) {
        sk_buf_reset(&b);
        sk_buf_adds(&b, "< ");
        add_redacted_header(&b, resp->headers.v[i].name, resp->headers.v[i].value);
        trace_lines(h, b.p, b.len);
    }
    trace_body(h, '<', resp->body.p, resp->body.len, req->flags & SK_HTTP_SECRET_RESP);
    sk_buf_release(&b);
}

/* ---- libcurl transport ---- */

struct transfer {
    struct sk_http_resp *resp;
    size_t max_body;
    int over;
    CURL *curl;
    const struct sk_http_req *req;
    int sink_failed;
    int source_failed;
};

static size_t on_read(char *buf, size_t size, size_t nmemb, void *data)
{
    struct transfer *t = data;
    long n = t->req->source(t->req->source_ctx, buf, size * nmemb);

    if (n < 0) {
        t->source_failed = 1;
        return CURL_READFUNC_ABORT;
    }
    return (size_t)n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *data)
{
    struct transfer *t = data;
    size_t n = size * nmemb;

    if (t->req->sink) {
        long status = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status <= 299) {
            if (t->req->sink(t->req->sink_ctx, p, n) != 0) {
                t->sink_failed = 1;
                return 0;
            }
            return n;
        }
    }
    if (n > t->max_body - t->resp->body.len) {
        t->over = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    sk_buf_add(&t->resp->body, p, n);
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *data)
{
    struct transfer *t = data;
    size_t n = size * nmemb, len = n, nlen;
    const char *colon, *v;
    struct sk_headers *hs = &t->resp->headers;

    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* A new status line (after 100 Continue, 1xx, or a redirect we do not follow). */
        sk_headers_release(hs);
        return n;
    }
    if (!len)
        return n;
    if ((p[0] == ' ' || p[0] == '\t') && hs->n) {
        /* obsolete line folding: continue the previous value */
        struct sk_buf b = SK_BUF_INIT;
        struct sk_header *last = &hs->v[hs->n - 1];
        sk_buf_init_secret(&b);
        sk_buf_adds(&b, last->value);
        sk_buf_add(&b, p, len);
        sk_free_secret(last->value);
        last->value = sk_buf_detach(&b, NULL); /* detach hands over without copying */
        return n;
    }
    colon = memchr(p, ':', len);
    if (!colon)
        return n;
    nlen = (size_t)(colon - p);
    v = colon + 1;
    while (v < p + len && (*v == ' ' || *v == '\t'))
        v++;
    while (len > (size_t)(v - p) && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    sk_headers_addn(hs, p, nlen, v, (size_t)(p + len - v));
    return n;
}

static int has_header(const struct sk_headers *hs, const char *name)
{
    return hs && sk_headers_get(hs, name) != NULL;
}

static struct curl_slist *append(struct curl_slist *list, const char *line)
{
    struct curl_slist *l = curl_slist_append(list, line);

    if (!l)
        xmalloc((size_t)-1); /* curl is out of memory: abort like x*alloc */
    return l;
}

/* Build the header list: the caller's fields verbatim, and blanks that stop curl adding its own. */
static struct curl_slist *build_headers(const struct sk_http_req *req, int sends_body)
{
    struct curl_slist *list = NULL;
    struct sk_buf b = SK_BUF_INIT;
    size_t i;

    sk_buf_init_secret(&b); /* the lines carry Authorization and tokens */
    for (i = 0; req->headers && i < req->headers->n; i++) {
        sk_buf_reset(&b);
        /* "Name;" is curl's way to send a field with an empty value. */
        if (req->headers->v[i].value[0])
            sk_buf_addf(&b, "%s: %s", req->headers->v[i].name, req->headers->v[i].value);
        else
            sk_buf_addf(&b, "%s;", req->headers->v[i].name);
        list = append(list, b.p);
    }
    if (!has_header(req->headers, "Expect"))
        list = append(list, "Expect:");
    if (!has_header(req->headers, "Accept"))
        list = append(list, "Accept:");
    if (sends_body && !has_header(req->headers, "Content-Type"))
        list = append(list, "Content-Type:");
    sk_buf_release(&b);
    return list;
}

/* Header lines carry Authorization and tokens: wipe curl's copies before freeing them. */
static void free_headers(struct curl_slist *list)
{
    struct curl_slist *l;

    for (l = list; l; l = l->next)
        sk_wipe(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

/* Replace every occurrence of the query string in a curl error text (it may carry a signature). */
static void scrub(char *msg, const char *query)
{
    struct sk_buf out = SK_BUF_INIT;
    const char *p = msg, *hit;
    size_t qlen;

    if (!query || !*query)
        return;
    qlen = strlen(query);
    /* Copy forward: a replacement is never searched again (a query of dots would match forever). */
    while ((hit = strstr(p, query)) != NULL) {
        sk_buf_add(&out, p, (size_t)(hit - p));
        sk_buf_adds(&out, "...");
        p = hit + qlen;
    }
    sk_buf_adds(&out, p);
    snprintf(msg, strlen(msg) + 1, "%s", out.p); /* truncates if a short query grew */
    sk_buf_release(&out);
}

static int map_error(CURLcode rc, const char *errbuf, const struct sk_http_req *req, const struct sk_url *u,
                     const struct transfer *t, const struct sk_http *h, struct sk_err *err)
{
    char text[CURL_ERROR_SIZE + 1];
    int retry = SK_RETRY_NO;

    if (t->source_failed) {
        sk_errf(err, SK_E_IO, "%s %s: cannot read the request body", req->method, u->host);
        goto out;
    }
    if (t->sink_failed) {
        sk_errf(err, SK_E_IO, "%s %s: cannot write the response body", req->method, u->host);
        goto out;
    }
    if (t->over || rc == CURLE_FILESIZE_EXCEEDED) {
        sk_errf(err, SK_E_NET, "%s %s: response body over %zu bytes", req->method, u->host, t->max_body);
        goto out;
    }
    snprintf(text, sizeof(text), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    scrub(text, u->query);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION: /* CURLE_SSL_CACERT is an alias of it since curl 7.62 */
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        sk_errf(err, SK_E_NET, "%s %s: the TLS certificate could not be verified: %s", req->method, u->host, text);
        goto out;
    case CURLE_SSL_CACERT_BADFILE:
        sk_errf(err, SK_E_NET, "%s %s: cannot use CA bundle '%s': %s", req->method, u->host,
                h->ca_bundle ? h->ca_bundle : "(system)", text);
        goto out;
    case CURLE_OPERATION_TIMEDOUT: retry = SK_RETRY_TIMEOUT; break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_FAIL_REWIND:  /* the connection died under a streamed body: the caller re-streams */
    case CURLE_SSL_CONNECT_ERROR: /* also a reset during the handshake */
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: retry = SK_RETRY_TRANSIENT; break;
    default: break;
    }
    sk_errf(err, SK_E_NET, "%s %s: %s", req->method, u->host, text);
out:
    if (err) {
        err->retryable = retry;
        err->http_status = 0;
    }
    return -1;
}

#define SETOPT(opt, val)                                                                                               \
    do {                                                                                                               \
        if (rc == CURLE_OK)                                                                                            \
            rc = curl_easy_setopt(c, opt, val);                                                                        \
    } while (0)

static int curl_send(struct sk_http *h, const struct sk_http_req *req, const struct sk_url *u,
                     struct sk_http_resp *resp, struct sk_err *err)
{
    CURL *c = h->curl;
    struct curl_slist *hdrs = NULL;
    struct transfer t;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode rc = CURLE_OK;
    const char *m = req->method;
    const char *body = req->body ? req->body : "";
    int sends_body = 0, ret = -1;

    memset(&t, 0, sizeof(t));
    t.resp = resp;
    t.curl = c;
    t.req = req;
    t.max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
    errbuf[0] = '\0';

    curl_easy_reset(c);
    SETOPT(CURLOPT_URL, req->url);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_bundle)
        SETOPT(CURLOPT_CAINFO, h->ca_bundle);
    if (req->source || req->sink) {
        SETOPT(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 0L);
        SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1024L);
        SETOPT(CURLOPT_LOW_SPEED_TIME, req->stall_s > 0 ? req->stall_s : 60L);
    } else {
        SETOPT(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
    }
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS,
           req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS);
    if (!req->sink)
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t.max_body);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &t);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &t);

    if (strcmp(m, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (req->source) {
        /* Streamed body: known length, or chunked when it is not known (a layer being compressed). */
        sends_body = 1;
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_READFUNCTION, on_read);
        SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, 128L * 1024); /* big bodies: fewer, larger writes */
        SETOPT(CURLOPT_READDATA, &t);
        if (req->source_len >= 0)
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->source_len);
        if (strcmp(m, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, m);
    } else {
        /* POST, PUT and bodied others: explicit size, so no chunked encoding and no strlen. */
        sends_body = strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || req->body_len > 0;
        if (sends_body) {
            SETOPT(CURLOPT_POST, 1L);
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            SETOPT(CURLOPT_POSTFIELDS, body);
        }
        if (strcmp(m, "POST") != 0)
            SETOPT(CURLOPT_CUSTOMREQUEST, m);
    }
    hdrs = build_headers(req, sends_body);
    SETOPT(CURLOPT_HTTPHEADER, hdrs);
    if (rc != CURLE_OK) {
        sk_errf(err, SK_E_INTERNAL, "%s %s: cannot set up the request: %s", m, u->host, curl_easy_strerror(rc));
        goto out;
    }

    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        map_error(rc, errbuf, req, u, &t, h, err);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    ret = 0;
out:
    /* The handle must not keep pointers into this frame or into the request. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
    free_headers(hdrs);
    return ret;
}

#undef SETOPT

int sk_http_send(struct sk_http *h, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    struct sk_url u;
    int rc = -1;

    memset(&u, 0, sizeof(u));
    resp->status = 0;
    sk_headers_release(&resp->headers);
    sk_buf_release(&resp->body); /* keeps the secret mark of a reused response */
    if (req->flags & SK_HTTP_SECRET_RESP)
        sk_buf_init_secret(&resp->body);
    if (!req->method || !req->url) {
        sk_errf(err, SK_E_USAGE, "http: request without a method or URL");
        goto out;
    }
    if (sk_url_parse(req->url, &u, err) < 0)
        goto out;
    if (sk_http_tracing(h))
        trace_request(h, req, &u);
    if (h->have_ops)
        rc = h->ops.send(h->ops.ctx, req, resp, err);
    else
        rc = curl_send(h, req, &u, resp, err);
    if (rc == 0 && sk_http_tracing(h))
        trace_response(h, req, resp);
out:
    sk_url_release(&u);
    return rc;
}
