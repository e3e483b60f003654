/*
 * creds.h - AWS credentials and the default provider chain.
 *
 * Order (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html, as aws-c-auth
 * and smithy-rs): environment; the selected profile (role_arn + source_profile / credential_source
 * via STS AssumeRole, web_identity_token_file, IAM Identity Center (SSO), static keys,
 * credential_process); web identity from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; ECS container
 * credentials; EC2 IMDSv2. --profile (config->profile_explicit) skips the environment step, as the
 * AWS CLI does.
 */
#ifndef SK_CREDS_H
#define SK_CREDS_H

#include <time.h>

#include "core/err.h"

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

/*
 * IAM Identity Center (SSO) profiles, as the SDKs read them
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-sso-credentials.html,
 * https://docs.aws.amazon.com/sdkref/latest/guide/understanding-sso.html; botocore's SSOProvider and
 * SSOCredentialFetcher, SSOTokenLoader, SSOTokenProvider). A profile with sso_account_id or
 * sso_role_name is one, in the sso_session form ([sso-session NAME] holds sso_start_url and
 * sso_region) or the legacy form (all four in the profile). The token `aws sso login` cached in
 * ~/.aws/sso/cache/<sk_sso_cache_key>.json buys the role's credentials from the portal
 * (GetRoleCredentials, unsigned, the token in x-amz-sso_bearer_token). A token of the sso_session
 * form that expires within SK_SSO_TOKEN_REFRESH_WINDOW is refreshed through the OIDC service
 * (CreateToken, grant refresh_token) and written back to the cache (atomically, 0600); a legacy
 * token is never refreshed. An expired token that cannot be refreshed fails with SK_E_CONFIG saying
 * to run aws sso login. The endpoints are the services sso and sso-oidc, so AWS_ENDPOINT_URL_SSO
 * and AWS_ENDPOINT_URL_SSO_OIDC (and AWS_ENDPOINT_URL, [services]) move them. Tokens and the client
 * secret are registered as secrets of the transport's connection and wiped after use.
 */
#define SK_SSO_TOKEN_REFRESH_WINDOW 900 /* botocore tokens.py SSOTokenProvider._REFRESH_WINDOW */

/* The cache file's name without ".json": the hex SHA-1 of the sso-session name (session form), or of
 * the start URL (legacy form: session NULL). out gets 40 hex digits and a NUL. */
void sk_sso_cache_key(const char *start_url, const char *session, char out[41]);

enum sk_sso_token_state {
    SK_SSO_TOKEN_VALID,   /* use it */
    SK_SSO_TOKEN_REFRESH, /* refresh it; if that fails, use it while it has not expired */
    SK_SSO_TOKEN_EXPIRED, /* expired and not refreshable: aws sso login */
};
/* What to do at `now` with a cached token expiring at expires_at. refreshable: the sso_session form,
 * with refreshToken, clientId, clientSecret and a registration that has not expired. */
enum sk_sso_token_state sk_sso_token_state(time_t expires_at, time_t now, int refreshable);

/* Parse an ISO 8601 UTC timestamp ("2026-01-02T03:04:05Z", fractional seconds and "+00:00" allowed). */
int sk_parse_iso8601(const char *s, time_t *out);

#endif
