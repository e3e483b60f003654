/*
 * ref_test.c - lib/oci/ref.c: image references "[REGISTRY/]REPOSITORY[:TAG][@DIGEST]", split as
 * written and checked part by part; the forms ecr-push takes as DEST and those it refuses
 * (tests/bats/ecr-push.bats, "bad DEST syntax").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "oci/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int streq_or_null(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* s parses into exactly these parts. */
static void parses(const char *s, const char *registry, const char *repository, const char *tag, const char *digest)
{
    struct sk_ref r;
    struct sk_err err = { 0 };

    if (sk_ref_parse(s, &r, &err) < 0) {
        H_FAIL("'%s' refused: %s", s, err.msg);
        return;
    }
    if (!streq_or_null(r.registry, registry) || !streq_or_null(r.repository, repository) ||
        !streq_or_null(r.tag, tag) || !streq_or_null(r.digest, digest))
        H_FAIL("'%s' gave registry %s, repository %s, tag %s, digest %s", s, r.registry ? r.registry : "(none)",
               r.repository, r.tag ? r.tag : "(none)", r.digest ? r.digest : "(none)");
    sk_ref_release(&r);
}

/* s is refused with a usage error whose message is msg, and nothing is left allocated. */
static void refused(const char *s, const char *msg)
{
    struct sk_ref r;
    struct sk_err err = { 0 };

    if (sk_ref_parse(s, &r, &err) == 0) {
        H_FAIL("'%s' accepted", s);
        sk_ref_release(&r);
        return;
    }
    ASSERT(err.kind == SK_E_USAGE);
    if (strcmp(err.msg, msg) != 0)
        H_FAIL("'%s': message '%s', expected '%s'", s, err.msg, msg);
    ASSERT(!r.registry && !r.repository && !r.tag && !r.digest);
}

TEST(registry_part)
{
    /* the first component is a registry when it has a '.' or a ':' or is localhost */
    parses("api", NULL, "api", NULL, NULL);
    parses("team/api:v1", NULL, "team/api", "v1", NULL);
    parses("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "api",
           "v1", NULL);
    parses("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/ml/model:2024.06-rc1",
           "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "ml/model", "2024.06-rc1", NULL);
    parses("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/team/api",
           "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "team/api", NULL, NULL);
    parses("localhost:5000/team/api:v2", "localhost:5000", "team/api", "v2", NULL);
    parses("localhost/api", "localhost", "api", NULL, NULL);
    parses("registry.example.com:443/a/b/c:latest", "registry.example.com:443", "a/b/c", "latest", NULL);
    parses("127.0.0.1:5443/x", "127.0.0.1:5443", "x", NULL, NULL);
    parses("[::1]:5000/app:1", "[::1]:5000", "app", "1", NULL);
    parses("docker.io/library/app", "docker.io", "library/app", NULL, NULL);
    /* not a host: a plain first component, "localhostx", a namespace */
    parses("localhostx/api", NULL, "localhostx/api", NULL, NULL);
    parses("shipkit/test:1", NULL, "shipkit/test", "1", NULL);
}

TEST(tags_and_digests)
{
    parses("a_b-c/d.e:T_1.x-y", NULL, "a_b-c/d.e", "T_1.x-y", NULL);
    parses("a.b_c-d/e:t", "a.b_c-d", "e", "t", NULL); /* a '.' in the first component: a host */
    parses("api@sha256:" D64, NULL, "api", NULL, "sha256:" D64);
    parses("localhost:5000/api:v1@sha256:" D64, "localhost:5000", "api", "v1", "sha256:" D64);
    parses("api:_x", NULL, "api", "_x", NULL);
}

TEST(refused_forms)
{
    /* tests/bats/ecr-push.bats "bad DEST syntax" */
    refused("UPPER/case:t", "invalid repository name 'UPPER/case' (lowercase letters, digits, . _ - and /)");
    refused("repo:", "invalid tag ''");
    refused("repo:bad tag", "invalid tag 'bad tag'");
    refused(":t", "invalid repository name '' (lowercase letters, digits, . _ - and /)");
    refused("repo//x:t", "invalid repository name 'repo//x' (lowercase letters, digits, . _ - and /)");
    refused("127.0.0.1:5443/:t", "invalid repository name '' (lowercase letters, digits, . _ - and /)");
    refused("repo:t@x", "invalid digest 'x' (sha256: and 64 lowercase hex digits)");
    /* tests/fuzz/corpus/image_ref_fuzz */
    refused("a..b/c__d:t", "invalid repository name 'c__d' (lowercase letters, digits, . _ - and /)");
    refused("ab/c..d:t", "invalid repository name 'ab/c..d' (lowercase letters, digits, . _ - and /)");
    refused("repo:-bad", "invalid tag '-bad'");
    refused("API:Tag", "invalid repository name 'API' (lowercase letters, digits, . _ - and /)");
    refused("", "invalid repository name '' (lowercase letters, digits, . _ - and /)");
    refused("/repo", "invalid repository name '/repo' (lowercase letters, digits, . _ - and /)");
    refused("repo/", "invalid repository name 'repo/' (lowercase letters, digits, . _ - and /)");
    refused("repo:.t", "invalid tag '.t'");
    refused("a:b:c", "invalid repository name 'a:b' (lowercase letters, digits, . _ - and /)");
    refused("repo@sha256:" D64 "0", "invalid digest 'sha256:" D64 "0' (sha256: and 64 lowercase hex digits)");
    refused("repo@", "invalid digest '' (sha256: and 64 lowercase hex digits)");
}

TEST(limits)
{
    char repo[300], tag[140];

    memset(repo, 'a', 256);
    repo[256] = '\0';
    ASSERT(sk_ref_valid_repository(repo));
    repo[256] = 'a';
    repo[257] = '\0';
    ASSERT(!sk_ref_valid_repository(repo));
    memset(tag, 'T', 128);
    tag[128] = '\0';
    ASSERT(sk_ref_valid_tag(tag));
    tag[128] = 'T';
    tag[129] = '\0';
    ASSERT(!sk_ref_valid_tag(tag));
    ASSERT(!sk_ref_valid_tag(""));
}

/* The split checks nothing and loses nothing: what ecr-push reads before it refuses a digest. */
TEST(split)
{
    struct sk_ref r;

    sk_ref_split("Bad@garbage", &r);
    ASSERT(!r.registry);
    ASSERT(r.repository && !strcmp(r.repository, "Bad"));
    ASSERT(!r.tag);
    ASSERT(r.digest && !strcmp(r.digest, "garbage"));
    sk_ref_release(&r);
    /* a ':' after the '@' belongs to the digest; a host's port to the registry */
    sk_ref_split("h:1/r@x:y", &r);
    ASSERT(r.registry && !strcmp(r.registry, "h:1"));
    ASSERT(r.repository && !strcmp(r.repository, "r"));
    ASSERT(!r.tag);
    ASSERT(r.digest && !strcmp(r.digest, "x:y"));
    sk_ref_release(&r);
    /* an '@' in the first component stays with the registry (sk_registry_init refuses such a host) */
    sk_ref_split("u@h.example/r:t", &r);
    ASSERT(r.registry && !strcmp(r.registry, "u@h.example"));
    ASSERT(r.repository && !strcmp(r.repository, "r"));
    ASSERT(r.tag && !strcmp(r.tag, "t"));
    ASSERT(!r.digest);
    sk_ref_release(&r);
    sk_ref_release(&r); /* twice is harmless */
}

int main(void)
{
    RUN(registry_part);
    RUN(tags_and_digests);
    RUN(refused_forms);
    RUN(limits);
    RUN(split);
    return DONE();
}
