/*
 * registry_fuzz.c - what lib/oci/registry.c reads from a registry's answers, on arbitrary answers:
 *
 * The input is an answer in this text form (tests/fuzz/corpus/registry_fuzz/):
 *
 *   STATUS[+] HOST          the status code; '+': the registry has credentials; HOST: r->host
 *   Name: value             header lines, up to an empty line
 *
 *   body                    the rest
 *
 *  - sk_registry_error(): always -1, the status kept; SK_E_CONFIG for a 401 without credentials,
 *    else SK_E_AWS; retryable exactly for 429 (throttle) and 5xx (transient); Retry-After taken
 *    only on 429 and 503, below an hour; neither the error code nor the message holds
 *    a control character (the registry's text is escaped);
 *  - sk_registry_location() on every Location: plain http refused (SK_E_NET, not retryable),
 *    otherwise https, as given or on HOST (a path, or under /v2/);
 *  - sk_registry_same_host() on every Location, resolved and as given: when it says the URL is on
 *    HOST (credentials go there), libcurl's URL parser (which sends the request) finds https and
 *    the host and port it finds in https://HOST/v2/;
 *  - sk_registry_check_stored() on Docker-Content-Digest against the body's digest: 0 exactly when
 *    absent or equal, else SK_E_AWS with no control character;
 *  - the body as Docker's config.json (sk_registry_docker_auth) for HOST and as USER:PASSWORD
 *    (sk_registry_basic): -1, 0 or 1 as registry.h says, everything freed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hdr.h"
#include "aws/http.h"
#include "oci/image.h"
#include "core/mem.h"
#include "oci/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No C0 control or DEL: nothing that could rewrite a terminal or forge a line. */
static void check_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            __builtin_trap();
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static void check_error(struct sk_registry *r, const struct sk_http_resp *resp)
{
    struct sk_err err = { 0 };
    const char *ra = sk_headers_get(&resp->headers, "Retry-After");
    long st = resp->status;

    if (sk_registry_error(r, "step", resp, &err) != -1)
        __builtin_trap();
    if (err.http_status != st || !err.msg[0])
        __builtin_trap();
    if (err.kind != (st == 401 && !r->auth ? SK_E_CONFIG : SK_E_AWS))
        __builtin_trap();
    if (err.retryable != (st == 429 ? SK_RETRY_THROTTLE : st >= 500 ? SK_RETRY_TRANSIENT : SK_RETRY_NO))
        __builtin_trap();
    if (r->retry_after_s < 0 || r->retry_after_s >= 3600 || (r->retry_after_s && (!ra || (st != 429 && st != 503))))
        __builtin_trap();
    check_printable(err.aws_code);
    check_printable(err.msg);
}

/* Where libcurl would send url: "host[:port]" as a Host header has it (port 443 left out). */
static int curl_target(const char *url, struct sk_buf *out)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = 0;

    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcmp(scheme, "https") != 0)
            __builtin_trap(); /* same_host() said https */
        sk_buf_adds(out, host);
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && strcmp(port, "443") != 0)
            sk_buf_addf(out, ":%s", port);
        ok = 1;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

static void check_same_host(const struct sk_registry *r, const char *url)
{
    struct sk_buf target = SK_BUF_INIT, own = SK_BUF_INIT, ours = SK_BUF_INIT;

    if (!sk_registry_same_host(r, url))
        return;
    /* libcurl refusing the URL sends nothing anywhere; accepting it, it must go where the
     * registry's own requests go (as libcurl reads both: it writes 12.1 as 12.0.0.1) */
    sk_buf_addf(&ours, "https://%s/v2/", r->host);
    if (curl_target(url, &target) && (!curl_target(ours.p, &own) || strcasecmp(target.p, own.p) != 0))
        __builtin_trap();
    sk_buf_release(&target);
    sk_buf_release(&own);
    sk_buf_release(&ours);
}

static void check_location(const struct sk_registry *r, const char *loc)
{
    struct sk_err err = { 0 };
    struct sk_buf want = SK_BUF_INIT;
    char *url = sk_registry_location(r, loc, &err);

    if (strncasecmp(loc, "http://", 7) == 0) {
        if (url || err.kind != SK_E_NET || err.retryable != SK_RETRY_NO)
            __builtin_trap();
        return;
    }
    if (!url)
        __builtin_trap();
    if (strncasecmp(loc, "https://", 8) == 0)
        sk_buf_adds(&want, loc);
    else
        sk_buf_addf(&want, "https://%s%s%s", r->host, loc[0] == '/' ? "" : "/v2/", loc);
    if (strcmp(url, want.p) != 0)
        __builtin_trap();
    check_same_host(r, url);
    check_same_host(r, loc);
    sk_buf_release(&want);
    free(url);
}

static void check_stored(const struct sk_registry *r, const struct sk_http_resp *resp)
{
    struct sk_err err = { 0 };
    const char *got = sk_headers_get(&resp->headers, "Docker-Content-Digest");
    char want[SK_DIGEST_MAX];
    int rc;

    sk_digest_of(resp->body.p, resp->body.len, want);
    rc = sk_registry_check_stored(r, "writing a manifest", "stored digest", got, want, &err);
    if ((rc == 0) != (!got || strcmp(got, want) == 0))
        __builtin_trap();
    if (rc < 0) {
        if (err.kind != SK_E_AWS)
            __builtin_trap();
        check_printable(err.msg);
    }
}

static void check_credentials(const struct sk_registry *r, const struct sk_buf *body)
{
    struct sk_err err = { 0 };
    char *basic = NULL, *helper = NULL;
    int rc = sk_registry_docker_auth(body->p, body->len, r->host, &basic, &helper, &err);

    if (rc < -1 || rc > 1 || (rc == 1) != (basic != NULL) || (rc != 0 && helper))
        __builtin_trap();
    if (rc < 0 && err.kind != SK_E_CONFIG)
        __builtin_trap();
    sk_free_secret(basic);
    free(helper);
    basic = sk_registry_basic(body->p, body->len);
    if (basic && !basic[0])
        __builtin_trap();
    sk_free_secret(basic);
}

/* The first line, the header lines, the body, as the file comment says. */
static int read_answer(const char *s, size_t n, char **host, int *auth, struct sk_http_resp *resp)
{
    const char *end = s + n, *nl = memchr(s, '\n', n), *p, *colon;
    char *line, *sp;

    if (!nl)
        return -1;
    line = xstrndup(s, (size_t)(nl - s));
    resp->status = strtol(line, &sp, 10);
    *auth = *sp == '+';
    sp = strchr(line, ' ');
    *host = xstrdup(sp ? sp + 1 : "");
    free(line);
    for (p = nl + 1; p < end && *p != '\n'; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        colon = memchr(p, ':', (size_t)(nl - p));
        if (colon) {
            const char *v = colon + 1;
            while (v < nl && *v == ' ')
                v++;
            sk_headers_addn(&resp->headers, p, (size_t)(colon - p), v, (size_t)(nl - v));
        }
        if (nl == end)
            return 0;
    }
    if (p < end)
        sk_buf_add(&resp->body, p + 1, (size_t)(end - p - 1));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_http_resp resp;
    struct sk_registry r;
    struct sk_err err = { 0 };
    char *host = NULL;
    const char *loc;
    int auth = 0;
    size_t i;

    sk_http_resp_init(&resp);
    /* HOST is the user's (DEST), printable ASCII here so that any other byte in a message is the
     * registry's */
    if (read_answer((const char *)data, size, &host, &auth, &resp) < 0 || !printable_ascii(host) ||
        sk_registry_init(&r, host, auth ? "dXNlcjpwYXNz" : NULL, NULL, NULL, NULL, &err) < 0)
        goto out;
    check_error(&r, &resp);
    for (i = 0; i < resp.headers.n; i++) {
        if (strcasecmp(resp.headers.v[i].name, "Location") != 0)
            continue;
        loc = resp.headers.v[i].value;
        check_location(&r, loc);
    }
    check_stored(&r, &resp);
    check_credentials(&r, &resp.body);
    sk_registry_release(&r);
out:
    free(host);
    sk_http_resp_release(&resp);
    return 0;
}
