/*
 * api.h - calling AWS: endpoints, signing, the awsJson1_1 and awsQuery protocols
 * (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html and
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html), retried in the SDKs' standard mode
 * (lib/aws/retry.h).
 *
 * Two levels:
 *  - sk_api_json / sk_api_query: one logical call to an explicit endpoint with explicit credentials
 *    (NULL for unsigned calls such as AssumeRoleWithWebIdentity). The credential providers use these.
 *  - struct sk_client (lib/aws/client.h): what a tool holds: config, region, the credential chain, HTTP,
 *    retries.
 */
#ifndef SK_API_H
#define SK_API_H

#include <stddef.h>
#include <time.h>

#include <jv.h>

#include "core/buf.h"
#include "aws/config.h"
#include "core/err.h"
#include "aws/http.h"
#include "aws/retry.h"
#include "aws/service.h"

struct sk_creds; /* lib/aws/creds.h: what signs a call */

/* ---- transport: what a call needs besides credentials --------------------------------------- */

struct sk_transport {
    struct sk_http *http;
    struct sk_retry *retry;
    long timeout_ms;          /* limit of each attempt (request sent to response read); 0: the HTTP default, 60 s */
    time_t (*now)(void *ctx); /* NULL: time(NULL) */
    void *now_ctx;
    /* Clock skew correction: the server's clock minus ours, in seconds, added to the time every
     * request is signed at from the first skew error on (sk_clock_skew), for every later call
     * through this transport (a tool holds one for its run). skew_fn, when set, is told each new
     * value: the library records it, the tool says so. */
    long skew_s;
    void (*skew_fn)(void *ctx, long skew_s);
    void *skew_ctx;
};

/* The local time (t->now or time(NULL)), and the time to sign at: that plus t->skew_s. */
time_t sk_transport_now(const struct sk_transport *t);
time_t sk_transport_sign_time(const struct sk_transport *t);

/* ---- clock skew ---------------------------------------------------------------------------- */

/* A server refuses a request signed more than 15 minutes off its clock
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html); the newer SDKs
 * correct for it as the Java SDK v2 does (core/retry/ClockSkew.java, internal/retry/ClockSkewAdjuster):
 * an error whose code is one a wrong clock causes (RequestTimeTooSkewed, RequestExpired,
 * RequestInTheFuture, InvalidSignatureException "Signature expired", SignatureDoesNotMatch, EC2's
 * AuthFailure: awscore AwsErrorCode.CLOCK_SKEW_ERROR_CODES, the same as aws-sdk-js-v3's), from a
 * server whose Date header is at least SK_SKEW_ADJUST_S away from the time we sign at, is retried
 * once, at once, with the signing time moved by the difference, which is then kept. */
#define SK_SKEW_ADJUST_S 240
/* 1 and *skew_s = Date - local_now when aws_code is such an error and the Date header (an HTTP
 * date, NULL when absent) differs from local_now + current by at least SK_SKEW_ADJUST_S; else 0. */
int sk_clock_skew(const char *aws_code, const char *date, time_t local_now, long current, long *skew_s);

/* ---- awsQuery form bodies ------------------------------------------------------------------ */

struct sk_form {
    struct sk_buf body; /* "k=v&k=v", strict percent-encoding */
};

void sk_form_init(struct sk_form *f);
void sk_form_add(struct sk_form *f, const char *key, const char *value);
void sk_form_addf(struct sk_form *f, const char *value, const char *keyfmt, ...) __attribute__((format(printf, 3, 4)));
void sk_form_release(struct sk_form *f);

/* ---- one call ------------------------------------------------------------------------------ */

/* A call flagged secret is not traced, and the values of its sensitive members (lib/core/redact.h) are
 * registered in the transport's sk_http_secrets(): scrubbed from every later trace line and from
 * every AWS error message, the call's own included. */
enum sk_api_flags {
    SK_API_SECRET_REQ = 1 << 0,  /* the request body carries a secret: never trace it */
    SK_API_SECRET_RESP = 1 << 1, /* the response carries a secret: never trace it */
};

/* awsJson1_1: POST `endpoint` with X-Amz-Target <prefix>.<op> and body `in` (consumed; use
 * jv_object() for no input). On success *out is the parsed response object (owned).
 * An error document fails with SK_E_AWS: aws_code from X-Amzn-Errortype / __type / code
 * (sanitised), msg "<Code>: <message>", http_status, request_id. The message is the service's
 * with every secret registered on the transport replaced by "<redacted>", escaped (lib/core/text.h)
 * and cut to 400 bytes on a character boundary; code and request id are escaped too. Retries per
 * t->retry. */
int sk_api_json(struct sk_transport *t, const struct sk_service *svc, const char *endpoint, const char *region,
                const struct sk_creds *creds, const char *op, jv in, unsigned flags, jv *out, struct sk_err *err);

/* awsJson1_1 with a body the caller serialised (e.g. with jsonw.h, for secret values). */
int sk_api_json_raw(struct sk_transport *t, const struct sk_service *svc, const char *endpoint, const char *region,
                    const struct sk_creds *creds, const char *op, const char *body, size_t len, unsigned flags, jv *out,
                    struct sk_err *err);

/* Turn an HTTP error response of any AWS protocol (JSON __type/message, or XML Error/Code/Message)
 * into err, exactly as the calls above do, scrubbing secrets (may be NULL: sk_http_secrets() of
 * the connection). Always returns -1. */
int sk_api_error_from_response(const struct sk_secrets *secrets, const struct sk_http_resp *resp, struct sk_err *err);

/* awsQuery: POST Action=<op>&Version=<svc version>&<form>. On success *out is the value of the
 * <OpResult> element (an object, or "" when it is empty), parsed with sk_xml_parse(list_items).
 * ErrorResponse documents fail with SK_E_AWS as above. form may be NULL. */
int sk_api_query(struct sk_transport *t, const struct sk_service *svc, const char *endpoint, const char *region,
                 const struct sk_creds *creds, const char *op, const struct sk_form *form,
                 const char *const *list_items, unsigned flags, jv *out, struct sk_err *err);

#endif
