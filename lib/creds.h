/*
 * creds.h - AWS credentials and the default provider chain.
 *
 * Order (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html, as aws-c-auth
 * and smithy-rs): environment; the selected profile (static
 * keys, role_arn + source_profile / credential_source via STS AssumeRole, web_identity_token_file,
 * credential_process); web identity from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; ECS container
 * credentials; EC2 IMDSv2. --profile (config->profile_explicit) skips the environment step, as the
 * AWS CLI does.
 */
#ifndef SK_CREDS_H
#define SK_CREDS_H

#include <time.h>

#include "err.h"

struct sk_config;
struct sk_transport;

struct sk_creds {
    char *access_key_id;
    char *secret_access_key; /* secret: wiped on release */
    char *session_token;     /* secret: wiped on release; NULL when none */
    char *account_id;        /* NULL when unknown */
    time_t expiration;       /* 0: does not expire */
    const char *source;      /* static string naming the provider: "env", "profile", "assume-role", ... */
};

/* Wipe and free every field; the struct is zeroed. Idempotent. */
void sk_creds_release(struct sk_creds *c);
/* Deep copy src into dst (dst is overwritten, not released). */
void sk_creds_copy(struct sk_creds *dst, const struct sk_creds *src);

/* Credentials are refreshed when they expire within this many seconds. */
#define SK_CREDS_REFRESH_WINDOW 300

struct sk_credprovider {
    const struct sk_config *conf; /* borrowed */
    struct sk_transport *t;       /* borrowed: HTTP + retries for STS, container and IMDS calls */
    char *region;                 /* for STS; may be NULL (then us-east-1) */
    struct sk_creds cached;
    int have;
};

void sk_credprovider_init(struct sk_credprovider *p, const struct sk_config *conf, struct sk_transport *t,
                          const char *region);
/* Borrowed credentials valid at `now`: resolved on first use, refreshed when they expire within
 * SK_CREDS_REFRESH_WINDOW. *out stays valid until the next call or release.
 * No source has credentials: SK_E_CONFIG "no credentials found (tried ...)".
 * A source that is configured but broken (bad process output, STS error, unreadable token file):
 * SK_E_CONFIG naming the source, or SK_E_AWS / SK_E_NET from the failed call. */
int sk_credprovider_get(struct sk_credprovider *p, time_t now, const struct sk_creds **out, struct sk_err *err);
void sk_credprovider_release(struct sk_credprovider *p);

/* Parse an ISO 8601 UTC timestamp ("2026-01-02T03:04:05Z", fractional seconds and "+00:00" allowed). */
int sk_parse_iso8601(const char *s, time_t *out);

#endif
