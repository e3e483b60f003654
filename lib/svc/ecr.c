#include "svc/ecr.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cache.h"
#include "aws/config.h"
#include "aws/endpoints.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "aws/service.h"
#include "aws/sigv4.h"

void sk_ecr_token_release(struct sk_ecr_token *t)
{
    sk_free_secret(t->token);
    free(t->proxy_endpoint);
    memset(t, 0, sizeof(*t));
}

/* ECR's registry hosts (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html,
 * FIPS and dual-stack: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html):
 * <account>.dkr.ecr[-fips].<region>.<dnsSuffix> and <account>.dkr-ecr[-fips].<region>.<registry
 * dual-stack suffix>, both suffixes those of the region's partition (lib/aws/endpoints.c: on.aws for
 * aws and aws-us-gov, on.amazonwebservices.com.cn for aws-cn, ...), FIPS and dual-stack only where
 * the partition has them. */
int sk_ecr_parse_host(const char *host, char **account, char **region)
{
    const struct sk_partition *part;
    const char *p = host, *dot, *suffix;
    char *r;
    size_t n;
    int dualstack = 0, fips = 0;

    n = strspn(p, "0123456789");
    if (n != 12)
        return 0;
    p += n;
    if (strncmp(p, ".dkr.ecr", 8) == 0)
        p += 8;
    else if (strncmp(p, ".dkr-ecr", 8) == 0)
        p += 8, dualstack = 1;
    else
        return 0;
    if (strncmp(p, "-fips", 5) == 0)
        p += 5, fips = 1;
    if (*p++ != '.')
        return 0;
    dot = strchr(p, '.');
    /* A region is lower-case letters, digits and dashes: anything else would end up in an endpoint. */
    if (!dot || dot == p || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") != (size_t)(dot - p))
        return 0;
    r = xstrndup(p, (size_t)(dot - p));
    part = sk_partition_of(r);
    suffix = dualstack ? part->registry_dualstack_suffix : part->dns_suffix;
    if (strcmp(dot + 1, suffix) != 0 || (fips && !part->supports_fips) || (dualstack && !part->supports_dualstack)) {
        free(r);
        return 0;
    }
    *account = xstrndup(host, 12);
    *region = r;
    return 1;
}

char *sk_ecr_proxy_host(const char *proxy_endpoint)
{
    const char *p = strstr(proxy_endpoint, "://");

    p = p ? p + 3 : proxy_endpoint;
    return xstrndup(p, strcspn(p, "/?#"));
}

/* Partitions (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html):
 * the rules engine's partition of each region (lib/aws/endpoints.c), so GovCloud stays apart from the
 * commercial regions that share its DNS suffix. */
static int same_partition(const char *a, const char *b)
{
    return sk_partition_of(a) == sk_partition_of(b);
}

int sk_ecr_token_for_host(const char *proxy_endpoint, const char *host)
{
    char *ph = sk_ecr_proxy_host(proxy_endpoint), *pa = NULL, *pr = NULL, *ha = NULL, *hr = NULL;
    int ok = *ph && strcasecmp(ph, host) == 0;

    if (!ok && sk_ecr_parse_host(ph, &pa, &pr) && sk_ecr_parse_host(host, &ha, &hr))
        ok = strcmp(pa, ha) == 0 && same_partition(pr, hr);
    free(ph);
    free(pa);
    free(pr);
    free(ha);
    free(hr);
    return ok;
}

/* ---- the token cache ---------------------------------------------------------------------------- */

static char *token_cache_rel(const struct sk_client *c, const char *akid, const char *endpoint, const char *registry_id)
{
    struct sk_buf key = SK_BUF_INIT, rel = SK_BUF_INIT;
    char hex[65];

    sk_buf_addf(&key, "%s\n%s\n%s\n%s", akid, c->region, endpoint, registry_id ? registry_id : "");
    sk_sha256_hex(key.p, key.len, hex);
    hex[32] = '\0';
    sk_buf_addf(&rel, "ecr-auth/%s.json", hex);
    sk_buf_release(&key);
    return sk_buf_detach(&rel, NULL);
}

static int read_cache(const char *cache_dir, const char *rel, time_t now, struct sk_ecr_token *out)
{
    struct sk_buf text = SK_BUF_INIT;
    jv doc = jv_invalid();
    double issued = 0, expires = 0;
    struct sk_err ignored;
    int rc = -1;

    /* Only a private file of ours is trusted. */
    sk_buf_init_secret(&text);
    if (sk_cache_read(cache_dir, rel, 65536, &text, &ignored) < 0)
        goto out;
    if (sk_json_parse(text.p, text.len, &doc, &ignored) < 0)
        goto out;
    if (!sk_json_str(doc, "token") || !sk_json_str(doc, "proxyEndpoint") || sk_json_num(doc, "issued", &issued) < 0 ||
        sk_json_num(doc, "expires", &expires) < 0)
        goto out;
    /* Reuse until half the lifetime has passed. */
    if (expires <= issued || (double)now >= issued + (expires - issued) / 2)
        goto out;
    out->token = xstrdup(sk_json_str(doc, "token"));
    out->proxy_endpoint = xstrdup(sk_json_str(doc, "proxyEndpoint"));
    out->issued = (time_t)issued;
    out->expires = (time_t)expires;
    out->from_cache = 1;
    rc = 0;
out:
    sk_json_wipe_strings(doc); /* jv frees without wiping: clear its copy of the token */
    jv_free(doc);
    sk_buf_release(&text);
    return rc;
}

static void write_cache(const char *cache_dir, const char *rel, const struct sk_ecr_token *t)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;

    sk_buf_init_secret(&body);
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "token", t->token);
    sk_jsonw_str(&w, "proxyEndpoint", t->proxy_endpoint);
    sk_jsonw_int(&w, "issued", (long long)t->issued);
    sk_jsonw_int(&w, "expires", (long long)t->expires);
    sk_jsonw_end(&w);
    sk_buf_addch(&body, '\n');
    sk_cache_write(cache_dir, rel, body.p, body.len, 0, NULL); /* a cache we cannot write is only slower */
    sk_buf_release(&body);
}

int sk_ecr_token_get(struct sk_client *c, const char *registry_id, const char *cache_dir, struct sk_ecr_token *out,
                     struct sk_err *err)
{
    const struct sk_creds *creds;
    char *endpoint = NULL, *rel = NULL;
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    jv res = jv_invalid(), data = jv_invalid(), item = jv_invalid();
    const char *token, *proxy;
    double expires = 0;
    time_t now;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (sk_client_creds(c, &creds, err) < 0 || sk_client_endpoint(c, &sk_svc_ecr, &endpoint, err) < 0)
        goto out;
    now = sk_transport_now(&c->t);
    if (cache_dir) {
        rel = token_cache_rel(c, creds->access_key_id, endpoint, registry_id);
        if (read_cache(cache_dir, rel, now, out) == 0) {
            rc = 0;
            goto out;
        }
    }
    sk_jsonw_begin(&w, &body);
    if (registry_id) {
        struct sk_buf ids = SK_BUF_INIT;
        sk_buf_addch(&ids, '[');
        sk_json_escape(&ids, registry_id, strlen(registry_id));
        sk_buf_addch(&ids, ']');
        sk_jsonw_raw(&w, "registryIds", ids.p);
        sk_buf_release(&ids);
    }
    sk_jsonw_end(&w);
    if (sk_client_json_raw(c, &sk_svc_ecr, "GetAuthorizationToken", body.p, body.len, SK_API_SECRET_RESP, &res, err) <
        0)
        goto out;
    data = sk_json_get(res, "authorizationData");
    if (jv_get_kind(data) == JV_KIND_ARRAY && jv_array_length(jv_copy(data)) > 0)
        item = jv_array_get(jv_copy(data), 0);
    token = sk_json_str(item, "authorizationToken");
    proxy = sk_json_str(item, "proxyEndpoint");
    if (!token || !proxy) {
        sk_errf(err, SK_E_PARSE, "ecr GetAuthorizationToken: no authorizationData in the response");
        goto out;
    }
    sk_json_num(item, "expiresAt", &expires);
    out->token = xstrdup(token);
    out->proxy_endpoint = xstrdup(proxy);
    out->issued = now;
    out->expires = expires > (double)now ? (time_t)expires : now + 12 * 3600;
    if (cache_dir)
        write_cache(cache_dir, rel, out);
    rc = 0;
out:
    jv_free(item);
    jv_free(data);
    sk_json_wipe_strings(res); /* the token */
    jv_free(res);
    sk_buf_release(&body);
    free(endpoint);
    free(rel);
    return rc;
}
