/*
 * ref.c - image references (see ref.h).
 */
#include "oci/ref.h"

#include <stdlib.h>
#include <string.h>

#include "oci/image.h"
#include "core/mem.h"

int sk_ref_valid_repository(const char *r)
{
    const char *p = r;
    int prev_sep = 1;

    if (!*r || strlen(r) > 256)
        return 0;
    for (; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            prev_sep = 0;
        } else if (*p == '.' || *p == '_' || *p == '-' || *p == '/') {
            if (prev_sep)
                return 0;
            prev_sep = 1;
        } else {
            return 0;
        }
    }
    return !prev_sep;
}

int sk_ref_valid_tag(const char *t)
{
    size_t i, n = strlen(t);

    if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
        return 0;
    for (i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9') ||
              t[i] == '_' || t[i] == '.' || t[i] == '-'))
            return 0;
    return 1;
}

void sk_ref_split(const char *s, struct sk_ref *ref)
{
    const char *slash = strchr(s, '/'), *rest = s, *at;
    size_t n, i;

    memset(ref, 0, sizeof(*ref));
    /* The first component is a registry if it looks like a host (Docker's rule). */
    if (slash && (memchr(s, '.', (size_t)(slash - s)) || memchr(s, ':', (size_t)(slash - s)) ||
                  (slash - s == 9 && strncmp(s, "localhost", 9) == 0))) {
        ref->registry = xstrndup(s, (size_t)(slash - s));
        rest = slash + 1;
    }
    at = strchr(rest, '@');
    n = at ? (size_t)(at - rest) : strlen(rest);
    if (at)
        ref->digest = xstrdup(at + 1);
    /* the tag follows the last ':' of the name (a registry's port went with the registry) */
    for (i = n; i > 0 && rest[i - 1] != ':'; i--)
        ;
    if (i > 0) {
        ref->repository = xstrndup(rest, i - 1);
        ref->tag = xstrndup(rest + i, n - i);
    } else {
        ref->repository = xstrndup(rest, n);
    }
}

int sk_ref_check(const struct sk_ref *ref, struct sk_err *err)
{
    if (!sk_ref_valid_repository(ref->repository))
        return sk_errf(err, SK_E_USAGE, "invalid repository name '%s' (lowercase letters, digits, . _ - and /)",
                       ref->repository);
    if (ref->tag && !sk_ref_valid_tag(ref->tag))
        return sk_errf(err, SK_E_USAGE, "invalid tag '%s'", ref->tag);
    if (ref->digest && !sk_digest_valid(ref->digest))
        return sk_errf(err, SK_E_USAGE, "invalid digest '%s' (sha256: and 64 lowercase hex digits)", ref->digest);
    return 0;
}

int sk_ref_parse(const char *s, struct sk_ref *ref, struct sk_err *err)
{
    sk_ref_split(s, ref);
    if (sk_ref_check(ref, err) < 0) {
        sk_ref_release(ref);
        return -1;
    }
    return 0;
}

void sk_ref_release(struct sk_ref *ref)
{
    free(ref->registry);
    free(ref->repository);
    free(ref->tag);
    free(ref->digest);
    memset(ref, 0, sizeof(*ref));
}
