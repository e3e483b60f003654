/*
 * layer_cache.h - ecr-push's layer cache (lib/oci): a docker-archive layer's compressed digest,
 * remembered on disk under an HMAC key so that a re-push neither recompresses nor re-uploads.
 * Every cache file is read and written with lib/core/cache.h.
 */
#ifndef SK_LAYER_CACHE_H
#define SK_LAYER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "oci/image.h"

/*
 * The layer cache: a docker-archive layer's diff_id -> the digest and size of its gzip (at a level),
 * so that a re-push neither recompresses nor re-uploads. Files <cache_dir>/layers/gzip-<level>/<hex>
 * hold "<digest> <size> <mac>": mac is HMAC-SHA256, under a random key of this user
 * (<cache_dir>/layers/key, 0600), of the level, the diff_id, the digest and the size. Only ecr-push
 * itself writes an entry, after it compressed that layer and hashed both sides; an entry whose MAC
 * does not check out (written by anyone or anything else, or for another layer) is refused, so a
 * planted entry cannot change what is pushed.
 */
struct sk_layer_cache {
    char *dir; /* the cache directory; NULL: no cache */
    long level;
    unsigned char key[32]; /* secret */
};

/* Load the key, or make one. -1 (the cache is off, err says why) when there is no cache directory
 * or it is not private; lc is then inert but releasable. */
int sk_layer_cache_init(struct sk_layer_cache *lc, const char *cache_dir, long level, struct sk_err *err);
/* 1: a valid entry for diff_id, digest and size filled; 0: none; -1: an entry that is refused
 * (err says why: not private, a link, malformed, its MAC does not match). */
int sk_layer_cache_get(const struct sk_layer_cache *lc, const char *diff_id, char digest[SK_DIGEST_MAX], uint64_t *size,
                       struct sk_err *err);
/* Record diff_id -> digest, size (replacing any entry). */
int sk_layer_cache_put(const struct sk_layer_cache *lc, const char *diff_id, const char *digest, uint64_t size,
                       struct sk_err *err);
void sk_layer_cache_release(struct sk_layer_cache *lc);

#endif
