/*
 * ecr.h - ECR registry credentials (GetAuthorizationToken, cached on disk) and whom they may go to.
 *
 * The token (base64 "AWS:<password>") is cached as JSON in <cache_dir>/ecr-auth/<key>.json, mode
 * 0600 in a 0700 directory, keyed by access key id, region, endpoint and registry id, and reused
 * until half its lifetime has passed (as the ECR credential helper does).
 *
 * Every cache file is read and written with lib/core/cache.h.
 */
#ifndef SK_ECR_H
#define SK_ECR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aws/client.h"
#include "core/err.h"

struct sk_ecr_token {
    char *token;          /* secret */
    char *proxy_endpoint; /* "https://<acct>.dkr.ecr.<region>.amazonaws.com" */
    time_t issued, expires;
    int from_cache;
};

/* registry_id: the account to ask for, or NULL for the caller's own. cache_dir may be NULL (no cache). */
int sk_ecr_token_get(struct sk_client *c, const char *registry_id, const char *cache_dir, struct sk_ecr_token *out,
                     struct sk_err *err);
void sk_ecr_token_release(struct sk_ecr_token *t);

/* Parse an ECR registry host, "<acct>.dkr.ecr[-fips].<region>.<the partition's DNS suffix>" or the
 * dual-stack "<acct>.dkr-ecr[-fips].<region>.<its registry suffix>" (on.aws in aws and GovCloud,
 * on.amazonwebservices.com.cn in China, ...): 1 and account/region filled (owned), or 0. */
int sk_ecr_parse_host(const char *host, char **account, char **region);

/* The host of a proxyEndpoint URL ("https://123.dkr.ecr.eu-west-1.amazonaws.com" -> the host), owned. */
char *sk_ecr_proxy_host(const char *proxy_endpoint);

/* 1 if the ECR token that GetAuthorizationToken gave with proxy_endpoint may be sent to the registry
 * host: host is proxy_endpoint's host, or both are ECR registry hosts of the same account in the
 * same partition. Else 0: the token goes nowhere else. */
int sk_ecr_token_for_host(const char *proxy_endpoint, const char *host);

#endif
