/*
 * image_ref_fuzz.c - image references as ecr-push reads them, on arbitrary strings:
 *
 *  - DEST, "[REGISTRY/]REPO[:TAG][@DIGEST]": sk_ref_split() and sk_ref_parse() of lib/oci/ref.c. The
 *    split parts put back together give the input, the registry looks like a host and no part
 *    holds a separator it was split at; sk_ref_parse() succeeds exactly when sk_ref_check() passes
 *    the split, with a valid repository, tag and digest, and otherwise fails with a usage error and
 *    a message, leaving nothing allocated;
 *  - the registry host: sk_ecr_parse_host() (account and region of an ECR host), on the DEST's
 *    registry and on the whole input. On success the account is 12 digits and the region one DNS
 *    label;
 *  - SOURCE's ":REF": sk_image_open("docker-archive:FIXTURE:" + input) and "oci-archive:..." over two
 *    small archives written once to a temp file, so the tag matching (docker.io/library/, :latest,
 *    @N) and the ref.name annotation lookup run on every input. Success yields an image, failure is
 *    a usage error with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "svc/ecr.h"
#include "core/err.h"
#include "fuzz_tar.h"
#include "oci/image.h"
#include "core/mem.h"
#include "oci/ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *docker_path, *oci_path;

/* Three images: tagged two ways, tagged with a registry and port, untagged. */
static const char docker_text[] =
    "=== manifest.json\n"
    "[{\"Config\":\"c1.json\",\"RepoTags\":[\"shipkit/test:1\",\"docker.io/library/app:latest\"],\"Layers\":"
    "[\"l1.tar\"]},{\"Config\":\"c1.json\",\"RepoTags\":[\"localhost:5000/team/api:v2\"],\"Layers\":[\"l1.tar\"]},"
    "{\"Config\":\"c1.json\",\"RepoTags\":null,\"Layers\":[\"l1.tar\"]}]\n"
    "=== c1.json\n"
    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:{sha:2}\"]}}\n"
    "=== l1.tar\n"
    "layer\n";

/* An index with refs "1.0" (a manifest) and "multi" (a nested index). */
static const char oci_text[] =
    "=== oci-layout\n"
    "{\"imageLayoutVersion\":\"1.0.0\"}\n"
    "=== index.json\n"
    "{\"schemaVersion\":2,\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:{sha:3}\",\"size\":{size:3},"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"1.0\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"digest\":\"sha256:{sha:2}\",\"size\":{size:2},"
    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"multi\"}}]}\n"
    "=== blobs/sha256/{sha:2}\n"
    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"digest\":\"sha256:{sha:3}\",\"size\":{size:3},\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}\n"
    "=== blobs/sha256/{sha:3}\n"
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
    "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{sha:4}\",\"size\":{size:4}},\"layers\":[{"
    "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:{sha:5}\",\"size\":{size:5}}]}\n"
    "=== blobs/sha256/{sha:4}\n"
    "{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:{sha:5}\"]}}\n"
    "=== blobs/sha256/{sha:5}\n"
    "layer\n";

static void cleanup(void)
{
    if (docker_path)
        unlink(docker_path);
    if (oci_path)
        unlink(oci_path);
    free(docker_path);
    free(oci_path);
    docker_path = oci_path = NULL;
}

static char *write_fixture(const char *tag, const char *text)
{
    struct sk_buf b = SK_BUF_INIT;
    char *path = ft_tmp_path(tag), *ref = NULL;

    ft_build(text, strlen(text), &b, &ref);
    if (ft_write(path, b.p, b.len) < 0)
        abort();
    sk_buf_release(&b);
    free(ref);
    return path;
}

static int looks_like_host(const char *h)
{
    return strchr(h, '.') || strchr(h, ':') || !strcmp(h, "localhost");
}

/* The split is lossless and cuts where ref.h says; parse agrees with split + check. Returns the
 * registry (owned) for check_host, or NULL. */
static char *check_ref(const char *s)
{
    struct sk_buf back = SK_BUF_INIT;
    struct sk_ref split, parsed;
    struct sk_err err = { 0 }, perr = { 0 };
    int ok;
    char *registry;

    sk_ref_split(s, &split);
    if (!split.repository)
        __builtin_trap();
    if (split.registry) {
        if (strchr(split.registry, '/') || !looks_like_host(split.registry))
            __builtin_trap();
        sk_buf_addf(&back, "%s/", split.registry);
    }
    if (strchr(split.repository, '@') || (split.tag && strpbrk(split.tag, ":@")))
        __builtin_trap();
    sk_buf_adds(&back, split.repository);
    if (split.tag)
        sk_buf_addf(&back, ":%s", split.tag);
    if (split.digest)
        sk_buf_addf(&back, "@%s", split.digest);
    if (strcmp(back.p, s) != 0)
        __builtin_trap();
    ok = sk_ref_check(&split, &err) == 0;
    if (ok && (!sk_ref_valid_repository(split.repository) || (split.tag && !sk_ref_valid_tag(split.tag)) ||
               (split.digest && !sk_digest_valid(split.digest))))
        __builtin_trap();
    if (!ok && (err.kind != SK_E_USAGE || !err.msg[0]))
        __builtin_trap();
    if ((sk_ref_parse(s, &parsed, &perr) == 0) != ok)
        __builtin_trap();
    if (ok) {
        if (strcmp(parsed.repository, split.repository) || !parsed.tag != !split.tag ||
            !parsed.digest != !split.digest || !parsed.registry != !split.registry)
            __builtin_trap();
    } else if (parsed.registry || parsed.repository || parsed.tag || parsed.digest || strcmp(perr.msg, err.msg)) {
        __builtin_trap();
    }
    sk_ref_release(&parsed);
    registry = split.registry;
    split.registry = NULL;
    sk_ref_release(&split);
    sk_buf_release(&back);
    return registry;
}

static void check_host(const char *host)
{
    char *account = NULL, *region = NULL;
    size_t i;

    if (!sk_ecr_parse_host(host, &account, &region))
        return;
    if (strlen(account) != 12 || strspn(account, "0123456789") != 12)
        __builtin_trap();
    for (i = 0; region[i]; i++)
        if (region[i] == '.' || region[i] == '/')
            __builtin_trap();
    free(account);
    free(region);
}

static void check_source(const char *kind, const char *path, const char *ref)
{
    struct sk_buf src = SK_BUF_INIT;
    struct sk_image img;
    struct sk_err err = { 0 };
    int rc;

    sk_buf_addf(&src, "%s:%s:%s", kind, path, ref);
    rc = sk_image_open(src.p, NULL, &img, &err);
    if (getenv("SK_FUZZ_DEBUG"))
        fprintf(stderr, "%s: %s\n", src.p, rc == 0 ? img.kind : err.msg);
    if (rc == 0) {
        if (!img.nmanifests)
            __builtin_trap();
    } else if (err.kind != SK_E_USAGE || !err.msg[0]) {
        __builtin_trap();
    }
    sk_image_release(&img);
    sk_buf_release(&src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *registry;

    if (!docker_path) {
        docker_path = write_fixture("ref-docker", docker_text);
        oci_path = write_fixture("ref-oci", oci_text);
        atexit(cleanup);
    }
    s = xstrndup((const char *)data, size);
    registry = check_ref(s);
    if (registry)
        check_host(registry);
    free(registry);
    check_host(s);
    check_source("docker-archive", docker_path, s);
    check_source("oci-archive", oci_path, s);
    free(s);
    return 0;
}
