/*
 * config.h - the shared AWS config and credentials files, and region / endpoint resolution.
 *
 * Rules, from the AWS SDKs and Tools Reference Guide: the file format
 * (https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html, exactly as aws-c-sdkutils
 * parses it), the region (https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html) and
 * endpoints (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoints.html). Environment variables are read
 * with sk_getenv(), which treats an empty value as unset. Nothing here touches the network.
 */
#ifndef SK_CONFIG_H
#define SK_CONFIG_H

#include <stddef.h>

#include "core/err.h"
#include "aws/service.h"

/* getenv() that returns NULL for unset *and* empty variables. */
const char *sk_getenv(const char *name);
/* True for "true"/"1"/"yes" (case-insensitive). */
int sk_truthy(const char *v);

/* ---- INI ---------------------------------------------------------------------------------- */

struct sk_ini_prop {
    char *key;
    char *value;              /* "" for a property that only has sub-properties */
    struct sk_ini_prop *subs; /* sub-properties ("s3 =\n  max = 1"), nsubs entries */
    size_t nsubs;
};

enum sk_ini_kind {
    SK_INI_PROFILE,     /* [profile x] / [default] in config, [x] in credentials */
    SK_INI_SSO_SESSION, /* [sso-session x] */
    SK_INI_SERVICES,    /* [services x] */
};

struct sk_ini_section {
    enum sk_ini_kind kind;
    char *name;
    struct sk_ini_prop *props;
    size_t nprops;
};

struct sk_ini {
    struct sk_ini_section *sections;
    size_t nsections;
};

enum sk_ini_source { SK_INI_CONFIG_FILE, SK_INI_CREDENTIALS_FILE };

/* Parse text (len bytes, need not be NUL-terminated) as a config or credentials file and merge
 * it into ini (sections with the same kind and name merge; later keys win). `origin` names the file
 * in error messages ("~/.aws/config:12: ..."). Malformed input fails with SK_E_CONFIG and leaves ini
 * as it was before the call. */
int sk_ini_parse(struct sk_ini *ini, const char *text, size_t len, enum sk_ini_source src, const char *origin,
                 struct sk_err *err);
void sk_ini_release(struct sk_ini *ini);
const struct sk_ini_section *sk_ini_section(const struct sk_ini *ini, enum sk_ini_kind kind, const char *name);
const struct sk_ini_prop *sk_ini_prop(const struct sk_ini_section *s, const char *key);

/* ---- the loaded configuration -------------------------------------------------------------- */

struct sk_config {
    struct sk_ini ini;    /* config file merged first, then credentials file (so credentials wins) */
    char *profile;        /* selected profile name */
    int profile_explicit; /* chosen by --profile (which, as in the AWS CLI, skips env credentials) */
};

/* Load AWS_CONFIG_FILE (default ~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (default
 * ~/.aws/credentials); a missing file is not an error. Profile: profile_override (from --profile),
 * else AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default". A profile named by --profile or
 * AWS_PROFILE that exists in neither file fails with SK_E_CONFIG. */
int sk_config_load(struct sk_config *c, const char *profile_override, struct sk_err *err);
void sk_config_release(struct sk_config *c);

/* Property of a profile (NULL: the selected one), borrowed; NULL when absent. */
const char *sk_config_get(const struct sk_config *c, const char *profile, const char *key);
/* Sub-property ("key =\n  sub = v") of a profile, borrowed; NULL when absent. */
const char *sk_config_get_sub(const struct sk_config *c, const char *profile, const char *key, const char *sub);
/* Property of the [sso-session NAME] section (sso_start_url, sso_region, sso_registration_scopes),
 * borrowed; NULL when absent. sk_config_has_sso_session: 1 if the section exists. */
const char *sk_config_sso_get(const struct sk_config *c, const char *session, const char *key);
int sk_config_has_sso_session(const struct sk_config *c, const char *session);

/* Region: cli_region, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`. *out is owned.
 * None found fails with SK_E_CONFIG. A region that is not [a-z0-9-]+ fails with SK_E_USAGE. */
int sk_config_region(const struct sk_config *c, const char *cli_region, char **out, struct sk_err *err);

/* Endpoint URL for svc: cli_endpoint > AWS_ENDPOINT_URL_<SVC> > AWS_ENDPOINT_URL > [services x]
 * sub-property endpoint_url > profile endpoint_url, where AWS_IGNORE_CONFIGURED_ENDPOINT_URLS /
 * ignore_configured_endpoint_urls=true skips all but cli_endpoint; otherwise the AWS endpoint of
 * the region in the mode sk_config_endpoint_mode gives (sk_endpoint_resolve: the SDKs' endpoint
 * rules). An endpoint given explicitly wins over FIPS and dual-stack, as in the SDKs. A mode the
 * rules refuse for the region's partition fails with SK_E_CONFIG naming the setting. An http://
 * endpoint passes sk_config_check_cleartext (SK_E_CONFIG). *out is owned. */
int sk_config_endpoint(const struct sk_config *c, const struct sk_service *svc, const char *cli_endpoint,
                       const char *region, char **out, struct sk_err *err);
/* The same with the signing region the endpoint needs (out->signing_region, NULL: the region;
 * e.g. us-east-1 for STS in aws-global). Release out with sk_endpoint_release. */
int sk_config_resolve_endpoint(const struct sk_config *c, const struct sk_service *svc, const char *cli_endpoint,
                               const char *region, struct sk_endpoint *out, struct sk_err *err);

/* FIPS and dual-stack endpoints (https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoints.html):
 * AWS_USE_FIPS_ENDPOINT, else the profile's use_fips_endpoint; AWS_USE_DUALSTACK_ENDPOINT, else
 * use_dualstack_endpoint. Each is true or false (any case; unset or empty: false); another value
 * fails with SK_E_CONFIG naming it. *mode gets SK_EP_FIPS and SK_EP_DUALSTACK bits. */
int sk_config_endpoint_mode(const struct sk_config *c, unsigned *mode, struct sk_err *err);

/* Cleartext needs consent (sk_config_endpoint applies this to every endpoint it returns): an
 * http:// URL is accepted only for a host that is literally loopback (localhost, 127.0.0.0/8,
 * [::1]; a name is never resolved, so localhost.example is not loopback) or when SK_ALLOW_CLEARTEXT
 * is true/1/yes. Otherwise SK_E_CONFIG naming the endpoint (scheme, host and port only), `from` (the
 * setting it came from) and the opt-in. https:// and other schemes pass (the caller checks them). */
int sk_config_check_cleartext(const char *url, const char *from, struct sk_err *err);

#endif
