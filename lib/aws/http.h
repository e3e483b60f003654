/*
 * http.h - HTTP over libcurl, one reused connection cache per struct sk_http.
 *
 * TLS peer and host verification are always on; ca_bundle (--ca-bundle / AWS_CA_BUNDLE) replaces
 * the system store. The transport is an ops table so unit tests can answer requests themselves.
 * Tracing (--debug) goes through a callback: the library formats lines, redacts them, and never
 * prints. Redacted: the Authorization signature, X-Amz-Security-Token, x-aws-ec2-metadata-token,
 * Authorization of container-credential calls, any body marked secret (not shown at all), the
 * values of sensitive members in other bodies (a body that is not JSON, XML or a form is not
 * shown), and every value registered in sk_http_secrets() (lib/core/redact.h), wherever it appears.
 * Each line is escaped (lib/core/text.h) before the callback sees it: servers wrote most of it.
 */
#ifndef SK_HTTP_H
#define SK_HTTP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hdr.h"
#include "core/redact.h"

enum sk_http_flags {
    SK_HTTP_SECRET_REQ = 1 << 0,  /* never trace the request body */
    SK_HTTP_SECRET_RESP = 1 << 1, /* never trace the response body; keep it in a secret buffer */
};

struct sk_http_req {
    const char *method;
    const char *url;
    const struct sk_headers *headers; /* sent exactly as given; may be NULL */
    const void *body;
    size_t body_len;
    long timeout_ms;         /* whole transfer; 0: 60 s */
    long connect_timeout_ms; /* 0: 10 s */
    size_t max_body;         /* response body limit; 0: 64 MiB; over it: SK_E_NET */
    unsigned flags;          /* enum sk_http_flags */
    /* Optional: the body of a 2xx response is handed to sink as it arrives instead of being kept
     * in resp->body (max_body does not apply). Other responses are kept, so errors can be parsed.
     * A sink returning non-zero aborts the transfer: send fails with SK_E_IO. */
    int (*sink)(void *ctx, const void *p, size_t n);
    void *sink_ctx;
    /* Optional: a streamed request body instead of body/body_len. source fills buf with up to n bytes
     * and returns the count, 0 at the end, or -1 to abort (send then fails with SK_E_IO).
     * source_len is the total length, or -1 when unknown (chunked transfer encoding). */
    long (*source)(void *ctx, char *buf, size_t n);
    void *source_ctx;
    long long source_len;
    /* With source or sink, transfers may be long: timeout_ms 0 means no overall limit, and a transfer
     * slower than 1 KiB/s for stall_s seconds (0: 60) is a timeout instead. */
    long stall_s;
};

struct sk_http_resp {
    long status;
    struct sk_headers headers; /* of the final response */
    struct sk_buf body;
};

void sk_http_resp_init(struct sk_http_resp *r);
void sk_http_resp_release(struct sk_http_resp *r);

/* The transport. send() returns 0 when an HTTP response arrived, whatever its status; -1 with
 * SK_E_NET (err->retryable set to SK_RETRY_TRANSIENT or SK_RETRY_TIMEOUT) when none did. */
struct sk_http_ops {
    int (*send)(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err);
    void *ctx;
};

typedef void(sk_trace_fn)(void *ctx, const char *line);

struct sk_http;

/* ca_bundle may be NULL (system store). */
struct sk_http *sk_http_new(const char *ca_bundle);
void sk_http_free(struct sk_http *h);
/* Install a trace callback; it receives single lines without a trailing newline. */
void sk_http_set_trace(struct sk_http *h, sk_trace_fn *fn, void *ctx);
/* Replace the transport (tests). ops is copied. NULL restores libcurl. */
void sk_http_set_ops(struct sk_http *h, const struct sk_http_ops *ops);
/* Trace a line through the installed callback, if any (used by other modules for --debug). */
void sk_http_trace(struct sk_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sk_http_tracing(const struct sk_http *h);
/* The values known to be secret on this connection (h's lifetime): scrubbed from every trace line,
 * and by lib/aws/api.c from AWS error messages. Register with sk_secrets_add*(). NULL when h is. */
struct sk_secrets *sk_http_secrets(struct sk_http *h);

/* Send one request (no retries). resp must be initialised; it is reset first. */
int sk_http_send(struct sk_http *h, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err);

#endif
