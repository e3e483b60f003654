/*
 * creds_int.h - what the credential sources (lib/creds_*.c) share with the chain (lib/aws/creds.c).
 * Private to them: not part of the library's interface.
 *
 * Every source is a function returning 1 (credentials in *out), 0 (not configured: try the next
 * source) or -1 (configured but broken: err is filled and the chain stops).
 */
#ifndef SK_CREDS_INT_H
#define SK_CREDS_INT_H

#include <stddef.h>
#include <time.h>

#include <jv.h>

#include "core/buf.h"
#include "aws/creds.h"
#include "core/err.h"

struct sk_form;
struct sk_headers;
struct sk_http_resp;

#define MAX_METADATA_BODY (64 * 1024) /* container, IMDS and SSO answers */

/* One resolution of the chain. */
struct resolve {
    struct sk_credprovider *p;
    time_t now;
    struct sk_buf tried; /* what the chain looked at, for "no credentials found" */
};

/* ---- helpers (creds.c) ---- */

/* Note a source the chain looked at, for "no credentials found (tried ...)". */
void sk_creds_tried(struct resolve *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The profile's (NULL: the selected one's) non-empty value of key, or NULL. */
const char *sk_creds_conf(const struct resolve *r, const char *profile, const char *key);
/* Drop trailing whitespace. */
void sk_creds_rtrim(struct sk_buf *b);
/* Read a token file into a secret buffer, trailing whitespace dropped; SK_E_CONFIG naming `what`,
 * with err->sys_errno when the file could not be opened or read. */
int sk_creds_read_token_file(const char *path, const char *what, struct sk_buf *out, struct sk_err *err);
/* Fill out from a JSON object with AccessKeyId, SecretAccessKey, <token_key>, Expiration and
 * AccountId (obj borrowed). Never quotes values: they are secrets. */
int sk_creds_from_json(jv obj, const char *token_key, const char *what, struct sk_creds *out, struct sk_err *err);
/* t as 2026-01-02T03:04:05Z. */
void sk_creds_fmt_time(time_t t, char *buf, size_t n);
/* One call of STS action `op` (signed with signer, or unsigned when NULL): the Credentials of its
 * answer in out, named `source`. 1 or -1. */
int sk_creds_sts_call(struct resolve *r, const char *op, const struct sk_form *form, const struct sk_creds *signer,
                      const char *source, struct sk_creds *out, struct sk_err *err);
/* The configured role session name, or shipkit-<now>. */
void sk_creds_session_name(struct resolve *r, const char *configured, struct sk_buf *out);
/* One request to a metadata endpoint (container, IMDS): no retries, the answer is a secret. */
int sk_creds_metadata_send(struct resolve *r, const char *method, const char *url, const struct sk_headers *h,
                           long timeout_ms, struct sk_http_resp *resp, struct sk_err *err);

/* ---- the sources, in the order of creds.h ---- */

/* creds_env.c */
int sk_creds_src_env(struct resolve *r, struct sk_creds *out, struct sk_err *err);
/* creds_profile.c: the selected profile (not found: 0, noted as tried). */
int sk_creds_profile(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err);
/* creds_sso.c */
int sk_creds_is_sso_profile(const struct resolve *r, const char *name);
int sk_creds_src_sso(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err);
/* creds_process.c */
int sk_creds_src_process(struct resolve *r, const char *profile, const char *cmd, struct sk_creds *out,
                         struct sk_err *err);
/* creds_webid.c: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; a profile's role with its token file
 * (the environment's, else the profile's web_identity_token_file: sk_creds_web_identity_file). */
int sk_creds_src_web_identity_env(struct resolve *r, struct sk_creds *out, struct sk_err *err);
const char *sk_creds_web_identity_file(const struct resolve *r, const char *profile);
int sk_creds_web_identity_profile(struct resolve *r, const char *profile, const char *role, const char *token_file,
                                  struct sk_creds *out, struct sk_err *err);
/* creds_container.c */
int sk_creds_src_container(struct resolve *r, struct sk_creds *out, struct sk_err *err);
/* creds_imds.c: required (credential_source Ec2InstanceMetadata): no IMDS is an error, not a 0. */
int sk_creds_src_imds(struct resolve *r, int required, struct sk_creds *out, struct sk_err *err);

#endif
