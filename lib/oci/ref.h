/*
 * ref.h - image references, "[REGISTRY/]REPOSITORY[:TAG][@DIGEST]", as the distribution spec
 * names repositories and tags (https://github.com/opencontainers/distribution-spec, "Pulling
 * manifests") and ECR accepts them (repository names:
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
 *
 * The first component is the REGISTRY when it looks like a host (Docker's rule: it holds a '.' or
 * a ':', or is "localhost"); otherwise there is none and the caller picks the default registry.
 * A REGISTRY is taken as written: sk_registry_init() checks it as a host.
 */
#ifndef SK_REF_H
#define SK_REF_H

#include "core/err.h"

struct sk_ref {
    char *registry;   /* "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "localhost:5000"; NULL: none */
    char *repository; /* "team/api" */
    char *tag;        /* "v1"; NULL: none written (a pusher's default is SK_REF_DEFAULT_TAG) */
    char *digest;     /* "sha256:<hex>"; NULL: none written */
};

#define SK_REF_DEFAULT_TAG "latest"

/* The parts of s as written, checking nothing: the REGISTRY as above, the DIGEST after the first
 * '@' that follows it, the TAG after the last ':' before that. Putting the parts back together
 * ("REGISTRY/" REPOSITORY ":TAG" "@DIGEST") gives s. Never fails; release with sk_ref_release. */
void sk_ref_split(const char *s, struct sk_ref *ref);

/* Check the parts of a split reference: a valid repository name, tag (when present) and sha256
 * digest (when present). 0, or -1 with SK_E_USAGE naming the first bad part. */
int sk_ref_check(const struct sk_ref *ref, struct sk_err *err);

/* sk_ref_split then sk_ref_check; on failure ref is released (all NULL). */
int sk_ref_parse(const char *s, struct sk_ref *ref, struct sk_err *err);

void sk_ref_release(struct sk_ref *ref);

/* 1 if r is a repository name: runs of [a-z0-9] joined by single '.', '_', '-' or '/', at most
 * 256 bytes. */
int sk_ref_valid_repository(const char *r);
/* 1 if t is a tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
int sk_ref_valid_tag(const char *t);

#endif
