/*
 * ecr.h - ECR registry credentials: GetAuthorizationToken, cached on disk.
 *
 * The token (base64 "AWS:<password>") is cached as JSON in <cache_dir>/ecr-auth/<key>.json, mode
 * 0600 in a 0700 directory, keyed by access key id, region, endpoint and registry id, and reused
 * until half its lifetime has passed (as the ECR credential helper does).
 */
#ifndef SK_ECR_H
#define SK_ECR_H

#include <time.h>

#include "api.h"
#include "err.h"

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

/* Parse "<acct>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]": 1 and account/region filled (owned), or 0. */
int sk_ecr_parse_host(const char *host, char **account, char **region);

/* $XDG_CACHE_HOME/shipkit, else $HOME/.cache/shipkit (owned), or NULL with neither set. */
char *sk_cache_dir(void);
/* mkdir -p with mode for every component created. */
int sk_mkdirs(const char *path, int mode, struct sk_err *err);

#endif
