#include "oci/layer_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "core/cache.h"
#include "core/mem.h"

/* ---- the layer cache ---------------------------------------------------------------------------- */

static const char layer_key_rel[] = "layers/key";

void sk_layer_cache_release(struct sk_layer_cache *lc)
{
    free(lc->dir);
    sk_wipe(lc, sizeof(*lc));
}

/* The key file: exactly the key's bytes. 1 loaded, 0 absent, -1 unusable. */
static int read_key(const char *cache_dir, unsigned char key[32], struct sk_err *err)
{
    struct sk_buf b = SK_BUF_INIT;
    int rc = -1;

    sk_buf_init_secret(&b);
    if (sk_cache_read(cache_dir, layer_key_rel, 64, &b, err) < 0) {
        rc = err && err->sys_errno == ENOENT ? 0 : -1;
    } else if (b.len != 32) {
        sk_errf(err, SK_E_IO, "the layer cache key is %zu bytes, not 32", b.len);
    } else {
        memcpy(key, b.p, 32);
        rc = 1;
    }
    sk_buf_release(&b);
    return rc;
}

int sk_layer_cache_init(struct sk_layer_cache *lc, const char *cache_dir, long level, struct sk_err *err)
{
    unsigned char fresh[32];
    struct sk_err kerr;
    int r, attempt;

    memset(lc, 0, sizeof(*lc));
    lc->level = level;
    if (!cache_dir)
        return sk_errf(err, SK_E_CONFIG, "no cache directory (neither XDG_CACHE_HOME nor HOME is set)");
    for (attempt = 0; attempt < 2; attempt++) {
        sk_err_clear(&kerr);
        r = read_key(cache_dir, lc->key, &kerr);
        if (r == 1) {
            lc->dir = xstrdup(cache_dir);
            return 0;
        }
        if (RAND_bytes(fresh, sizeof(fresh)) != 1)
            return sk_errf(err, SK_E_INTERNAL, "no random bytes for the layer cache key");
        /* Absent: make one, unless another process just did (then read that one). Unusable (a
         * file of the wrong size, a link, not private): replace it, if the directory is ours
         * (sk_cache_write checks; a directory we cannot trust means no cache at all). */
        r = sk_cache_write(cache_dir, layer_key_rel, fresh, sizeof(fresh), r == 0 ? SK_CACHE_NOREPLACE : 0, err);
        if (r == 0) {
            memcpy(lc->key, fresh, sizeof(fresh));
            sk_wipe(fresh, sizeof(fresh));
            lc->dir = xstrdup(cache_dir);
            return 0;
        }
        sk_wipe(fresh, sizeof(fresh));
        if (r < 0)
            return -1;
    }
    return sk_errf(err, SK_E_IO, "cannot read the layer cache key in '%s'", cache_dir);
}

static char *layer_entry_rel(const struct sk_layer_cache *lc, const char *diff_id)
{
    struct sk_buf b = SK_BUF_INIT;

    sk_buf_addf(&b, "layers/gzip-%ld/%s", lc->level, diff_id + 7);
    return sk_buf_detach(&b, NULL);
}

static void layer_mac(const struct sk_layer_cache *lc, const char *diff_id, const char *digest, uint64_t size,
                      char hex[65])
{
    static const char xd[] = "0123456789abcdef";
    struct sk_buf msg = SK_BUF_INIT;
    unsigned char mac[32];
    unsigned int len = sizeof(mac), i;

    sk_buf_addf(&msg, "shipkit layer cache 1\ngzip-%ld\n%s\n%s\n%llu", lc->level, diff_id, digest,
                (unsigned long long)size);
    HMAC(EVP_sha256(), lc->key, (int)sizeof(lc->key), (const unsigned char *)msg.p, msg.len, mac, &len);
    for (i = 0; i < 32; i++) {
        hex[2 * i] = xd[mac[i] >> 4];
        hex[2 * i + 1] = xd[mac[i] & 15];
    }
    hex[64] = '\0';
    sk_buf_release(&msg);
}

int sk_layer_cache_get(const struct sk_layer_cache *lc, const char *diff_id, char digest[SK_DIGEST_MAX], uint64_t *size,
                       struct sk_err *err)
{
    struct sk_buf text = SK_BUF_INIT;
    char d[SK_DIGEST_MAX + 8], mac[80], want[65], *rel, *nl;
    unsigned long long sz = 0;
    int rc = -1;

    if (!lc->dir || !sk_digest_valid(diff_id))
        return 0;
    rel = layer_entry_rel(lc, diff_id);
    if (sk_cache_read(lc->dir, rel, 512, &text, err) < 0) {
        rc = err && err->sys_errno == ENOENT ? 0 : -1;
        goto out;
    }
    nl = text.p ? memchr(text.p, '\n', text.len) : NULL;
    if (!nl || (size_t)(nl - text.p) + 1 != text.len || sscanf(text.p, "%79s %llu %79s", d, &sz, mac) != 3 ||
        !sk_digest_valid(d) || sz == 0) {
        sk_errf(err, SK_E_IO, "the layer cache entry '%s' is malformed", rel);
        goto out;
    }
    layer_mac(lc, diff_id, d, (uint64_t)sz, want);
    if (strlen(mac) != 64 || CRYPTO_memcmp(mac, want, 64) != 0) {
        sk_errf(err, SK_E_IO,
                "the layer cache entry '%s' was not written by ecr-push for this layer (its MAC does not match)", rel);
        goto out;
    }
    memcpy(digest, d, 72); /* sk_digest_valid: 71 characters and the NUL */
    *size = (uint64_t)sz;
    rc = 1;
out:
    sk_buf_release(&text);
    free(rel);
    return rc;
}

int sk_layer_cache_put(const struct sk_layer_cache *lc, const char *diff_id, const char *digest, uint64_t size,
                       struct sk_err *err)
{
    struct sk_buf line = SK_BUF_INIT;
    char mac[65], *rel;
    int rc;

    if (!lc->dir || !sk_digest_valid(diff_id) || !sk_digest_valid(digest))
        return 0;
    layer_mac(lc, diff_id, digest, size, mac);
    sk_buf_addf(&line, "%s %llu %s\n", digest, (unsigned long long)size, mac);
    rel = layer_entry_rel(lc, diff_id);
    rc = sk_cache_write(lc->dir, rel, line.p, line.len, 0, err) < 0 ? -1 : 0;
    sk_buf_release(&line);
    free(rel);
    return rc;
}
