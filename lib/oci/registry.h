/*
 * registry.h - the OCI distribution push protocol, as ECR accepts it (the distribution spec,
 * https://github.com/opencontainers/distribution-spec; ECR's deviations: docs/fault-injection.md).
 *
 * One struct sk_registry per thread (it owns an HTTP connection). Authentication is HTTP Basic with
 * the credentials given to sk_registry_init (the ECR token, or the user's for another registry) on
 * every request to the registry's own host over https, and never to another host; without
 * credentials, none are sent. Every request is https: an upload Location on plain http is refused.
 * Errors: SK_E_NET (unreachable, reset, timed out; retryable set, except for TLS verification and a
 * Location on plain http), SK_E_CONFIG for a 401 when no credentials were given (aws_code
 * UNAUTHORIZED),
 * SK_E_AWS with aws_code set to the registry's error
 * code (UNAUTHORIZED, NAME_UNKNOWN, TAG_INVALID, ...; retryable for 5xx and 429), SK_E_USAGE for
 * content that does not match its digest (reported by the stream's finish callback).
 */
#ifndef SK_REGISTRY_H
#define SK_REGISTRY_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "aws/http.h"
#include "oci/image.h"

struct sk_registry {
    struct sk_http *http;
    char *host;         /* "127.0.0.1:5443", "123456789012.dkr.ecr.eu-west-1.amazonaws.com" */
    char *auth;         /* "Basic <token>"; secret */
    long retry_after_s; /* Retry-After of the last 429 or 503, 0 if none (reset by every request) */
    long timeout_s;     /* a request that makes no progress for this long fails with SK_E_NET,
                         * retryable SK_RETRY_TIMEOUT: the whole request when it has no streamed body,
                         * otherwise under 1 KiB/s for that long (the PATCH of a big blob may take
                         * hours). 0: the transport's defaults (60 s). Set it after init. */
};

/* basic_token is base64("user:password") as ECR's GetAuthorizationToken returns it, or NULL: no
 * credentials (anonymous). */
int sk_registry_init(struct sk_registry *r, const char *host, const char *basic_token, const char *ca_bundle,
                     sk_trace_fn *trace, void *trace_ctx, struct sk_err *err);
void sk_registry_release(struct sk_registry *r);

/* GET /v2/: 200 is fine; 401 fails with SK_E_AWS UNAUTHORIZED. */
int sk_registry_ping(struct sk_registry *r, struct sk_err *err);

/* HEAD /v2/<repo>/blobs/<digest>: *exists = 1 on 200, 0 on 404. */
int sk_registry_blob_exists(struct sk_registry *r, const char *repo, const char *digest, int *exists,
                            struct sk_err *err);

/* A blob's bytes, streamed. read() as sk_http_req.source; len -1 when unknown. After the body is
 * sent and before anything is committed, finish() gives the digest to commit, or fails (e.g. the
 * content does not match its digest), in which case the upload session is cancelled. */
struct sk_blob_stream {
    long (*read)(void *ctx, char *buf, size_t n);
    int (*finish)(void *ctx, char digest[SK_DIGEST_MAX], struct sk_err *err);
    void *ctx;
    long long len;
};

/* POST a session, one streaming PATCH, PUT ?digest=. A session that fails is deleted; the caller
 * retries with a fresh stream (never resumes a session). *already is set when the registry said the
 * blob exists (201 to the POST). */
int sk_registry_blob_upload(struct sk_registry *r, const char *repo, const struct sk_blob_stream *s, int *already,
                            struct sk_err *err);

/* HEAD /v2/<repo>/manifests/<ref> with every manifest type accepted: digest ("" when absent). */
int sk_registry_manifest_head(struct sk_registry *r, const char *repo, const char *ref, char digest[SK_DIGEST_MAX],
                              struct sk_err *err);

/* GET /v2/<repo>/manifests/<ref> with every manifest type accepted: *found 1 and the body appended
 * to body, media_type its Content-Type (without parameters, "" when absent); *found 0 on 404. */
int sk_registry_manifest_get(struct sk_registry *r, const char *repo, const char *ref, struct sk_buf *body,
                             char media_type[128], int *found, struct sk_err *err);

/* PUT /v2/<repo>/manifests/<ref> with Content-Type media_type. The registry's
 * Docker-Content-Digest, when sent, must equal the body's digest (else SK_E_AWS). */
int sk_registry_manifest_put(struct sk_registry *r, const char *repo, const char *ref, const char *media_type,
                             const void *body, size_t len, struct sk_err *err);

/* ---- Reading the registry's answers: what the calls above do with a response, exposed so that
 * tests and tests/fuzz/registry_fuzz.c can reach them without a server. Every text the registry
 * wrote reaches err escaped (lib/core/text.h). ---- */

/* Fill err from an error answer (always returns -1): the code and message of the first of
 * {"errors":[{"code","message"}]} in the body, else a code for the status (UNAUTHORIZED, DENIED,
 * NOT_FOUND, TOOMANYREQUESTS, ...); aws_code and http_status set; retryable for 429 and 5xx;
 * r->retry_after_s from Retry-After (seconds, below an hour) on 429 and 503, else 0. A 401 is
 * SK_E_CONFIG when r has no credentials, otherwise everything is SK_E_AWS. what names the step. */
int sk_registry_error(struct sk_registry *r, const char *what, const struct sk_http_resp *resp, struct sk_err *err);

/* A Location header resolved against the registry (owned): an absolute https URL as given, a path
 * on r->host, anything else under https://HOST/v2/. A Location on plain http (a downgrade, on this
 * host or another) is refused: NULL, SK_E_NET and not retryable, as a failed certificate check is. */
char *sk_registry_location(const struct sk_registry *r, const char *loc, struct sk_err *err);

/* 1 if url is https on r->host (its Host header equals r->host), the only place credentials go. */
int sk_registry_same_host(const struct sk_registry *r, const char *url);

/* A Docker-Content-Digest answer (got, NULL when absent) against the digest sent (want): 0 when
 * absent or equal, else -1, SK_E_AWS "WHAT: registry HOST LABEL GOT, expected WANT". */
int sk_registry_check_stored(const struct sk_registry *r, const char *what, const char *label, const char *got,
                             const char *want, struct sk_err *err);

/* base64(userpass) for HTTP Basic, a secret string (sk_free_secret), or NULL unless userpass is
 * "USER:PASSWORD" with a USER and no control characters. */
char *sk_registry_basic(const void *userpass, size_t n);

/* Credentials for host in the text of Docker's client config (config.json, as `docker login` writes
 * it: https://docs.docker.com/reference/cli/docker/login/): Docker's order is the credential helper
 * "credHelpers" names for host, else "credsStore", else the "auths" entry for host ("auth", or
 * "username" and "password"; keys match host as Docker matches them, scheme and path dropped).
 * 1: *basic (secret) filled from "auths". 0: none; *helper (owned) names the helper Docker would
 * ask, which is not run here, or is NULL. -1: not JSON, or an "auths" entry that is not
 * user:password (SK_E_CONFIG). Nothing in the text is copied anywhere else. */
int sk_registry_docker_auth(const char *json, size_t len, const char *host, char **basic, char **helper,
                            struct sk_err *err);

#endif
