/*
 * client.h - what a tool holds to call AWS: the loaded configuration, the region, the CA bundle,
 * HTTP, the retry state (lib/aws/retry.h) and the credential chain (lib/aws/creds.h), over the calls of
 * lib/aws/api.h.
 */
#ifndef SK_CLIENT_H
#define SK_CLIENT_H

#include <stddef.h>

#include <jv.h>

#include "aws/api.h"
#include "aws/config.h"
#include "aws/creds.h"
#include "core/err.h"
#include "aws/http.h"
#include "aws/retry.h"
#include "aws/service.h"

struct sk_client_opts {
    const char *profile;      /* --profile */
    const char *region;       /* --region */
    const char *endpoint_url; /* --endpoint-url */
    const char *ca_bundle;    /* --ca-bundle, else AWS_CA_BUNDLE, else profile ca_bundle */
    sk_trace_fn *trace;       /* --debug: receives redacted wire-trace lines */
    void *trace_ctx;
    void (*skew_fn)(void *ctx, long skew_s); /* told when the signing clock is corrected (sk_transport) */
    void *skew_ctx;
};

struct sk_client {
    struct sk_config conf;
    char *region;
    char *endpoint_url; /* from --endpoint-url, NULL otherwise */
    char *ca_bundle;    /* the CA bundle trusted (sk_client_ca_bundle), NULL: the system's */
    struct sk_http *http;
    struct sk_retry retry;
    struct sk_transport t;
    struct sk_credprovider creds;
};

/* Limit of each API attempt from SK_READ_TIMEOUT (seconds, fractions allowed: "0.5", "30"; up to
 * 3600), 0 when unset. An invalid value fails with SK_E_CONFIG. */
int sk_read_timeout_ms(long *out, struct sk_err *err);

/* The CA bundle a tool trusts, for AWS and for anything else it reaches over TLS (a registry, a
 * database): opt (--ca-bundle), else AWS_CA_BUNDLE, else the profile's ca_bundle
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-gen-config.html); an empty value counts
 * as unset. conf is the loaded configuration, or NULL: then the configuration of profile (NULL:
 * the default one, as sk_config_load) is loaded when neither opt nor the environment names one.
 * *out: an owned path, or NULL for the system's store. One that cannot be read fails with
 * SK_E_CONFIG "CA bundle 'PATH': <why>". */
int sk_client_ca_bundle(const struct sk_config *conf, const char *profile, const char *opt, char **out,
                        struct sk_err *err);

/* Load config, resolve region, CA bundle, retry settings and SK_READ_TIMEOUT, set up HTTP.
 * Credentials are resolved lazily on the first call. Fails with SK_E_CONFIG (bad config, no
 * region, an unreadable CA bundle) or SK_E_USAGE. */
int sk_client_init(struct sk_client *c, const struct sk_client_opts *o, struct sk_err *err);
void sk_client_release(struct sk_client *c);
/* Owned endpoint URL for svc. */
int sk_client_endpoint(struct sk_client *c, const struct sk_service *svc, char **out, struct sk_err *err);
/* Borrowed credentials (valid until the next call on c). Their secret key and session token are
 * registered as secrets of c (scrubbed from traces and error messages). */
int sk_client_creds(struct sk_client *c, const struct sk_creds **out, struct sk_err *err);
/* Register a value the tool holds as secret (a password read from a file, a value to store): it is
 * replaced by "<redacted>" in every trace line and AWS error message of c from now on. */
void sk_client_add_secret(struct sk_client *c, const char *value, size_t len);
int sk_client_json(struct sk_client *c, const struct sk_service *svc, const char *op, jv in, unsigned flags, jv *out,
                   struct sk_err *err);
/* A paginated JSON operation: calls op with in (consumed), then again with each "nextToken" the
 * answer names, at most max_pages calls. fn gets each answer, borrowed (it copies what it keeps), and
 * returns 0 to read on, 1 to stop, or -1 with err filled. Returns 0, or -1 with err from the failed
 * call or from fn. The token is the JSON protocols' common one (ECS, CloudWatch Logs, ECR, SSM:
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html, "nextToken"). */
int sk_client_json_pages(struct sk_client *c, const struct sk_service *svc, const char *op, jv in, int max_pages,
                         int (*fn)(void *ctx, jv answer, struct sk_err *err), void *ctx, struct sk_err *err);
int sk_client_json_raw(struct sk_client *c, const struct sk_service *svc, const char *op, const char *body, size_t len,
                       unsigned flags, jv *out, struct sk_err *err);
int sk_client_query(struct sk_client *c, const struct sk_service *svc, const char *op, const struct sk_form *form,
                    const char *const *list_items, unsigned flags, jv *out, struct sk_err *err);

#endif
