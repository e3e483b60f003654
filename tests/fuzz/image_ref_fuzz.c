/*
 * image_ref_fuzz.c - image references as ecr-push reads them, on arbitrary strings:
 *
 *  - DEST, "[REGISTRY/]REPO[:TAG]": parse_dest() of src/ecr-push.c (static, so the tool's source is
 *    included here with its main renamed; tool_usage() is wrapped at link time to jump back instead
 *    of exiting). On success the parts are valid and put back together give the input;
 *  - the registry host: sk_ecr_parse_host() (account and region of an ECR host), on the DEST's
 *    host and on the whole input. On success the account is 12 digits and the region one DNS label;
 *  - SOURCE's ":REF": sk_image_open("docker-archive:FIXTURE:" + input) and "oci-archive:..." over two
 *    small archives written once to a temp file, so the tag matching (docker.io/library/, :latest,
 *    @N) and the ref.name annotation lookup run on every input. Success yields an image, failure is
 *    a usage error with a message.
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

int ecr_push_main(int argc, char **argv);
#define main ecr_push_main
#include "../../src/ecr-push.c"
#undef main

#include "fuzz_tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __wrap_tool_usage(const char *fmt, ...) __attribute__((noreturn));

static jmp_buf usage_jmp;
static struct dest dest;
static char *docker_path, *oci_path;

void __wrap_tool_usage(const char *fmt, ...)
{
    (void)fmt;
    longjmp(usage_jmp, 1);
}

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

static void dest_release(void)
{
    free(dest.host);
    free(dest.repo);
    free(dest.tag);
    memset(&dest, 0, sizeof(dest));
}

static void check_dest(const char *s)
{
    struct sk_buf back = SK_BUF_INIT;

    if (setjmp(usage_jmp)) {
        dest_release(); /* refused: parse_dest called tool_usage */
        return;
    }
    parse_dest(s, &dest);
    if (!valid_repo(dest.repo) || !valid_tag(dest.tag))
        __builtin_trap();
    if (dest.host)
        sk_buf_addf(&back, "%s/", dest.host);
    sk_buf_adds(&back, dest.repo);
    /* the tag is written out unless it was the default */
    if (strcmp(back.p, s) != 0) {
        sk_buf_addf(&back, ":%s", dest.tag);
        if (strcmp(back.p, s) != 0)
            __builtin_trap();
    } else if (strcmp(dest.tag, "latest") != 0) {
        __builtin_trap();
    }
    sk_buf_release(&back);
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
    char *s;

    if (!docker_path) {
        docker_path = write_fixture("ref-docker", docker_text);
        oci_path = write_fixture("ref-oci", oci_text);
        atexit(cleanup);
    }
    s = xstrndup((const char *)data, size);
    check_dest(s);
    if (dest.host)
        check_host(dest.host);
    dest_release();
    check_host(s);
    check_source("docker-archive", docker_path, s);
    check_source("oci-archive", oci_path, s);
    free(s);
    return 0;
}
