/*
 * creds_container.c - the ECS / EKS container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds_int.h"
#include "core/hdr.h"
#include "aws/http.h"
#include "core/json.h"
#include "core/uri.h"

static const char env_ecs_relative[] = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
static const char env_ecs_full[] = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
static const char env_ecs_token[] = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
static const char env_ecs_token_file[] = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

static const char ecs_host[] = "http://169.254.170.2";

#define CONTAINER_TIMEOUT_MS 2000
#define CONTAINER_ATTEMPTS 3

static void sleep_ms(struct resolve *r, long ms)
{
    struct timespec ts;

    if (r->p->t->retry && r->p->t->retry->sleep) {
        r->p->t->retry->sleep(r->p->t->retry->sleep_ctx, ms);
        return;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int addr_allowed(const struct sockaddr *sa)
{
    static const unsigned char v6_loop[16] = { [15] = 1 };
    static const unsigned char v6_eks[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23 };

    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
        return (a >> 24) == 127 || a == 0xA9FEAA02u /* 169.254.170.2 */ || a == 0xA9FEAA17u /* 169.254.170.23 */;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        return memcmp(b, v6_loop, 16) == 0 || memcmp(b, v6_eks, 16) == 0;
    }
    return 0;
}

/* http FULL_URI hosts must resolve only to loopback or the ECS / EKS agent addresses, so a
 * misconfiguration cannot send the authorization token to an arbitrary host. */
static int container_host_allowed(const char *host)
{
    struct addrinfo hints, *res = NULL, *ai;
    int ok = 1;

    if (strcmp(host, "localhost") == 0)
        return 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) || !res)
        return 0;
    for (ai = res; ai; ai = ai->ai_next)
        if (!addr_allowed(ai->ai_addr))
            ok = 0;
    freeaddrinfo(res);
    return ok;
}

/* The endpoint: the agent's address with RELATIVE_URI, or FULL_URI when it is https or its host is
 * allowed (container_host_allowed). */
static int container_url(const char *rel, const char *full, struct sk_buf *url, struct sk_err *err)
{
    struct sk_url u = { 0 };
    int rc = -1;

    if (rel) {
        sk_buf_addf(url, "%s%s%s", ecs_host, rel[0] == '/' ? "" : "/", rel);
        return 0;
    }
    if (sk_url_parse(full, &u, err)) {
        err->kind = SK_E_CONFIG;
        sk_err_prefix(err, "%s", env_ecs_full);
        goto out;
    }
    if (strcmp(u.scheme, "https") != 0 && !container_host_allowed(u.host)) {
        sk_errf(err, SK_E_CONFIG,
                "%s: host '%.100s' is not allowed over http (use https, loopback, 169.254.170.2 or "
                "169.254.170.23)",
                env_ecs_full, u.host);
        goto out;
    }
    sk_buf_adds(url, full);
    rc = 0;
out:
    sk_url_release(&u);
    return rc;
}

/* Accept headers and the authorization token, if any. The token file wins over the variable and is
 * re-read on every fetch (it rotates). */
static int container_headers(struct sk_headers *h, struct sk_err *err)
{
    const char *tok_file = sk_getenv(env_ecs_token_file), *tok_env = sk_getenv(env_ecs_token);
    struct sk_buf tok = SK_BUF_INIT;
    int rc = -1;

    sk_buf_init_secret(&tok);
    if (tok_file) {
        if (sk_creds_read_token_file(tok_file, "container authorization token", &tok, err))
            goto out;
    } else if (tok_env) {
        sk_buf_adds(&tok, tok_env);
    }
    if (tok.len && (memchr(tok.p, '\r', tok.len) || memchr(tok.p, '\n', tok.len))) {
        sk_errf(err, SK_E_CONFIG, "container authorization token contains a newline");
        goto out;
    }
    sk_headers_add(h, "Accept", "application/json");
    sk_headers_add(h, "Accept-Encoding", "identity");
    if (tok.len)
        sk_headers_add(h, "Authorization", tok.p);
    rc = 0;
out:
    sk_buf_release(&tok);
    return rc;
}

/* GET url until it answers 200. botocore: 3 attempts, 1 s apart; client errors are final. */
static int container_get(struct resolve *r, const char *url, const struct sk_headers *h, struct sk_http_resp *resp,
                         struct sk_err *err)
{
    int attempt;

    for (attempt = 1;; attempt++) {
        sk_err_clear(err);
        if (!sk_creds_metadata_send(r, "GET", url, h, CONTAINER_TIMEOUT_MS, resp, err)) {
            if (resp->status == 200)
                return 0;
            sk_errf(err, resp->status >= 500 ? SK_E_NET : SK_E_AWS, "container credentials endpoint returned HTTP %ld",
                    resp->status);
            err->http_status = resp->status;
            if (resp->status < 500)
                return -1;
        } else {
            sk_err_prefix(err, "container credentials");
        }
        if (attempt >= CONTAINER_ATTEMPTS)
            return -1;
        sleep_ms(r, 1000);
    }
}

int sk_creds_src_container(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const char *rel = sk_getenv(env_ecs_relative), *full = sk_getenv(env_ecs_full);
    struct sk_buf url = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    jv doc = jv_invalid();
    int rc = -1;

    if (!rel && !full)
        return 0;
    sk_http_resp_init(&resp);
    if (!r->p->t || !r->p->t->http) {
        sk_errf(err, SK_E_INTERNAL, "container credentials: no HTTP transport");
        goto out;
    }
    if (container_url(rel, full, &url, err) || container_headers(&h, err) || container_get(r, url.p, &h, &resp, err))
        goto out;
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "container credentials: response is not a JSON object");
        goto out;
    }
    if (sk_creds_from_json(doc, "Token", "container credentials", out, err))
        goto out;
    out->source = "container";
    rc = 1;
out:
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}
