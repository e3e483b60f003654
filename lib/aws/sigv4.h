/*
 * sigv4.h - AWS Signature Version 4, header and query (presign) modes.
 *
 * A pure function of its inputs: the request, the credentials, and the signing time, which the
 * caller passes in. Follows https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 * and passes the official suite (tests/unit/sigv4-suite, run by tests/unit/sigv4_test.c).
 */
#ifndef SK_SIGV4_H
#define SK_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "aws/creds.h"
#include "core/err.h"
#include "core/hdr.h"

#define SK_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SK_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SK_SIGV4_MAX_EXPIRES 604800

enum sk_sigv4_mode {
    SK_SIGV4_HEADER, /* add X-Amz-Date (+ token, content hash) and Authorization headers */
    SK_SIGV4_QUERY,  /* presign: add X-Amz-* query parameters */
};

struct sk_sigv4_params {
    const char *region;
    const char *service; /* signing name */
    time_t when;         /* signing time (UTC seconds) */
    enum sk_sigv4_mode mode;
    int normalize_path;       /* remove dot segments and empty segments (non-S3) */
    int double_encode;        /* URI-encode the wire path again (non-S3) */
    int sign_body_header;     /* header mode: add and sign X-Amz-Content-Sha256 (S3) */
    int omit_session_token;   /* attach the token after signing instead of signing it */
    long expires;             /* query mode: X-Amz-Expires, 1..604800 */
    const char *payload_hash; /* NULL: hex SHA-256 of the body; or e.g. UNSIGNED-PAYLOAD */
};

/* Fill p with the defaults for `service`: S3 ("s3") gets no normalisation, single encoding and
 * a signed X-Amz-Content-Sha256; every other service normalises and double-encodes. */
void sk_sigv4_params_init(struct sk_sigv4_params *p, const char *service, const char *region, time_t when);

/* The request to sign. Everything is borrowed. */
struct sk_sigv4_req {
    const char *method;
    const char *path;                 /* path as on the wire (may hold raw bytes; encoded here) */
    const char *query;                /* raw query without '?', or NULL */
    const struct sk_headers *headers; /* must include Host */
    const void *body;
    size_t body_len;
};

struct sk_sigv4_result {
    struct sk_buf canonical_request;
    struct sk_buf string_to_sign;
    char signature[65];
    char amz_date[17];
    struct sk_buf signed_headers; /* "host;x-amz-date": the canonical request's signed header names */
    struct sk_buf payload_hash;   /* the canonical request's last line (hex SHA-256, or p->payload_hash) */
    /* Header mode: headers to add, in this order: X-Amz-Date, X-Amz-Security-Token (if any),
     * X-Amz-Content-Sha256 (if signed), Authorization. Query mode: X-Amz-Security-Token only
     * when omit_session_token is set... never otherwise. */
    struct sk_headers add;
    /* Query mode: the complete query string to send: the request's own parameters as given, then
     * X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires, -Security-Token, -Signature. */
    struct sk_buf query;
};

void sk_sigv4_result_init(struct sk_sigv4_result *r);
void sk_sigv4_result_release(struct sk_sigv4_result *r);

/* Sign. Fails with SK_E_USAGE when the request already carries a header or parameter the signer
 * owns (X-Amz-Date, Authorization, X-Amz-Signature, ...), lacks Host, has a malformed query
 * (bad percent-encoding), or expires is out of range in query mode; SK_E_CONFIG when creds are
 * incomplete. result must be initialised; on failure its contents are unspecified but releasable. */
int sk_sigv4_sign(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p, const struct sk_creds *creds,
                  struct sk_sigv4_result *result, struct sk_err *err);

/*
 * The four stages of sk_sigv4_sign, in its order, each its own function so that each can be checked
 * on its own against the suite's per-stage files (tests/unit/sigv4_test.c). They pass their results
 * on through r. The names are the steps of
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html.
 */

/* Stage 1, "create a canonical request": checks req, p and creds as sk_sigv4_sign does (same
 * errors), then fills r->amz_date (p->when), r->payload_hash, r->signed_headers and
 * r->canonical_request. */
int sk_sigv4_canonical_request(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p,
                               const struct sk_creds *creds, struct sk_sigv4_result *r, struct sk_err *err);
/* Stage 2, "create a string to sign": r->string_to_sign from r->amz_date, p's scope and
 * r->canonical_request. */
void sk_sigv4_string_to_sign(const struct sk_sigv4_params *p, struct sk_sigv4_result *r);
/* Stage 3, "calculate the signature": r->signature, the hex HMAC of r->string_to_sign with the
 * signing key of creds' secret, the date of r->amz_date, p->region and p->service (creds complete). */
void sk_sigv4_signature(const struct sk_sigv4_params *p, const struct sk_creds *creds, struct sk_sigv4_result *r);
/* Stage 4, "add the signature to the request": header mode appends to r->add, query mode sets
 * r->query (see struct sk_sigv4_result), from r->amz_date, r->signed_headers, r->payload_hash and
 * r->signature. */
void sk_sigv4_add_signature(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p,
                            const struct sk_creds *creds, struct sk_sigv4_result *r);
/* The credential scope "YYYYMMDD/<region>/<service>/aws4_request" of amz_date, appended to out. */
void sk_sigv4_scope(const char *amz_date, const char *region, const char *service, struct sk_buf *out);

/* Lowercase hex SHA-256 of p[0..n) into out[65]. */
void sk_sha256_hex(const void *p, size_t n, char out[65]);

/* Format t as YYYYMMDDTHHMMSSZ into out[17]; parse the same format. */
void sk_amz_date(time_t t, char out[17]);
int sk_parse_amz_date(const char *s, time_t *out);

#endif
