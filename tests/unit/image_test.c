/*
 * image_test.c - lib/oci/image.c over the fixtures written by tests/fixtures/make-images: every source
 * kind, REF and platform selection, auto-detection, the bad fixtures, docker-archive manifests.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "harness.h"
#include "oci/image.h"
#include "core/json.h"

static char fx[] = "/tmp/sk-image-test-XXXXXX";
static const struct sk_image_opts gzip_opts = { NULL, 1 }, plain_opts = { NULL, 0 };

static const char *src(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *src(const char *fmt, ...)
{
    static char s[4][1024];
    static int k;
    char tail[900];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tail, sizeof(tail), fmt, ap);
    va_end(ap);
    k = (k + 1) % 4;
    /* "%F" stands for the fixture directory */
    {
        char *p = strstr(tail, "%F");
        if (p) {
            *p = '\0';
            snprintf(s[k], sizeof(s[k]), "%s%s%s", tail, fx, p + 2);
        } else {
            snprintf(s[k], sizeof(s[k]), "%s", tail);
        }
    }
    return s[k];
}

/* sha256 of path[off, off + n), "sha256:<hex>". */
static void hash_region(const char *path, uint64_t off, uint64_t n, char out[SK_DIGEST_MAX])
{
    static const char hex[] = "0123456789abcdef";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buf[65536], md[32];
    unsigned int len = 0, i;
    int fd = open(path, O_RDONLY);
    ssize_t r;

    out[0] = '\0';
    if (fd < 0 || !ctx) {
        H_FAIL("cannot open %s", path);
        EVP_MD_CTX_free(ctx);
        if (fd >= 0)
            close(fd);
        return;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while (n > 0) {
        r = pread(fd, buf, n < sizeof(buf) ? (size_t)n : sizeof(buf), (off_t)off);
        if (r <= 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        n -= (uint64_t)r;
        off += (uint64_t)r;
    }
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    close(fd);
    strcpy(out, "sha256:");
    for (i = 0; i < len; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * len] = '\0';
    if (n)
        H_FAIL("%s: short read", path);
}

/* Every blob is well formed, and FILE blobs' regions hash to their digest. */
static void check_blobs(const struct sk_image *img, int hash_files)
{
    char d[SK_DIGEST_MAX];
    size_t i, j;

    for (i = 0; i < img->nblobs; i++) {
        const struct sk_blob *b = &img->blobs[i];
        ASSERT(b->media_type != NULL);
        for (j = 0; j < i; j++)
            if (b->digest[0] && !strcmp(b->digest, img->blobs[j].digest))
                H_FAIL("blob %zu repeats %s", i, b->digest);
        if (b->kind == SK_BLOB_MEMORY) {
            ASSERT(b->data != NULL);
            sk_digest_of(b->data, (size_t)b->size, d);
            ASSERT_STREQ(d, b->digest);
        } else if (b->kind == SK_BLOB_FILE) {
            ASSERT(b->path != NULL && sk_digest_valid(b->digest) && b->size == b->src_size);
            if (hash_files && b->path) {
                hash_region(b->path, b->offset, b->size, d);
                ASSERT_STREQ(d, b->digest);
            }
        } else {
            ASSERT(b->digest[0] == '\0' && b->size == 0 && sk_digest_valid(b->diff_id) && b->src_size > 0);
            if (b->path) {
                hash_region(b->path, b->offset, b->src_size, d);
                ASSERT_STREQ(d, b->diff_id);
            }
        }
    }
    for (i = 0; i < img->nmanifests; i++) {
        const struct sk_manifest *m = &img->manifests[i];
        if (!img->generated) {
            sk_digest_of(m->body.p, m->body.len, d);
            ASSERT_STREQ(d, m->digest);
        }
        for (j = 0; j < m->nblobs; j++)
            ASSERT(m->blobs[j] < img->nblobs);
        for (j = 0; j < m->nchildren; j++)
            ASSERT(m->children[j] < i); /* children before their index */
    }
}

static void expect_fail(const char *source, const struct sk_image_opts *o, const char *want)
{
    struct sk_image img;
    struct sk_err err;

    ASSERT_ERR(sk_image_open(source, o, &img, &err), &err, SK_E_USAGE);
    if (!strstr(err.msg, want))
        H_FAIL("%s: message '%s' lacks '%s'", source, err.msg, want);
    ASSERT(img.nblobs == 0 && img.blobs == NULL && img.manifests == NULL && img.path == NULL);
}

TEST(digests)
{
    char d[SK_DIGEST_MAX];

    sk_digest_of("", 0, d);
    ASSERT_STREQ(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ASSERT(sk_digest_valid(d));
    ASSERT(!sk_digest_valid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
    ASSERT(!sk_digest_valid("sha256:e3b0"));
    ASSERT(!sk_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    ASSERT(!sk_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855x"));
    ASSERT(!sk_digest_valid(NULL));
}

TEST(oci_dir)
{
    struct sk_image img;
    struct sk_err err;
    const struct sk_manifest *m;
    char want[1024];
    size_t i;

    ASSERT_OK(sk_image_open(src("oci:%%F/oci"), NULL, &img, &err), &err);
    ASSERT_STREQ(img.kind, "oci");
    ASSERT_STREQ(img.path, src("%%F/oci"));
    ASSERT(!img.generated && img.nmanifests == 1 && img.nblobs == 5);
    if (img.nmanifests == 1 && img.nblobs == 5) {
        m = &img.manifests[0];
        ASSERT_STREQ(m->media_type, SK_MT_OCI_MANIFEST);
        ASSERT_STREQ(m->platform, "linux/amd64");
        ASSERT(m->nblobs == 5 && m->nchildren == 0 && m->body.len > 0);
        for (i = 0; i < 5 && i < m->nblobs; i++)
            ASSERT(m->blobs[i] == i);
        ASSERT(img.blobs[0].kind == SK_BLOB_MEMORY);
        ASSERT_STREQ(img.blobs[0].media_type, SK_MT_OCI_CONFIG);
        for (i = 1; i < 5; i++) {
            ASSERT(img.blobs[i].kind == SK_BLOB_FILE && img.blobs[i].offset == 0 && img.blobs[i].size > 100);
            ASSERT_STREQ(img.blobs[i].media_type, SK_MT_OCI_LAYER_GZIP);
            ASSERT(img.blobs[i].diff_id[0] == '\0');
            snprintf(want, sizeof(want), "%s/oci/blobs/sha256/%s", fx, img.blobs[i].digest + 7);
            ASSERT_STREQ(img.blobs[i].path, want);
        }
    }
    check_blobs(&img, 1);
    ASSERT_OK(sk_image_finalize(&img, &err), &err); /* a no-op */
    sk_image_release(&img);
    sk_image_release(&img);
}

/* The archive holds the same image: same digests, blobs are regions of the tar. */
TEST(oci_archive)
{
    struct sk_image dir, tar;
    struct sk_err err;
    size_t i;

    ASSERT_OK(sk_image_open(src("oci:%%F/oci"), NULL, &dir, &err), &err);
    ASSERT_OK(sk_image_open(src("oci-archive:%%F/oci.tar"), NULL, &tar, &err), &err);
    ASSERT_STREQ(tar.kind, "oci-archive");
    ASSERT(tar.nblobs == dir.nblobs && tar.nmanifests == 1);
    if (tar.nblobs == dir.nblobs && tar.nmanifests == 1 && dir.nmanifests == 1) {
        ASSERT_STREQ(tar.manifests[0].digest, dir.manifests[0].digest);
        for (i = 0; i < tar.nblobs; i++) {
            ASSERT_STREQ(tar.blobs[i].digest, dir.blobs[i].digest);
            ASSERT(tar.blobs[i].size == dir.blobs[i].size);
            if (i > 0) {
                ASSERT_STREQ(tar.blobs[i].path, src("%%F/oci.tar"));
                ASSERT(tar.blobs[i].offset > 0 && tar.blobs[i].offset % 512 == 0);
            }
        }
    }
    check_blobs(&tar, 1);
    sk_image_release(&dir);
    sk_image_release(&tar);
}

TEST(oci_refs)
{
    struct sk_image img;
    struct sk_err err;

    ASSERT_OK(sk_image_open(src("oci:%%F/oci:1.0"), NULL, &img, &err), &err);
    ASSERT(img.nmanifests == 1);
    ASSERT_STREQ(img.path, src("%%F/oci"));
    sk_image_release(&img);
    expect_fail(src("oci:%%F/oci:nope"), NULL, "no image 'nope'");
    expect_fail(src("oci:%%F/oci:nope"), NULL, "available: '1.0'");
    expect_fail(src("oci:%%F/oci-two"), NULL, "2 images in");
    expect_fail(src("oci:%%F/oci-two"), NULL, "choose one with :REF (available: 'a', 'b')");
    ASSERT_OK(sk_image_open(src("oci:%%F/oci-two:a"), NULL, &img, &err), &err);
    ASSERT(img.nmanifests == 1 && img.nblobs == 3);
    sk_image_release(&img);
    ASSERT_OK(sk_image_open(src("oci:%%F/oci-two:b"), NULL, &img, &err), &err);
    ASSERT(img.nmanifests == 1 && img.nblobs == 2);
    check_blobs(&img, 1);
    sk_image_release(&img);
}

/* Without a platform the whole index is kept: children first, the index last. */
TEST(oci_index_all)
{
    struct sk_image img;
    struct sk_err err;
    const struct sk_manifest *top;

    ASSERT_OK(sk_image_open(src("oci:%%F/multi:multi"), NULL, &img, &err), &err);
    ASSERT(img.nmanifests == 3 && img.nblobs == 6);
    if (img.nmanifests == 3) {
        top = &img.manifests[2];
        ASSERT_STREQ(top->media_type, SK_MT_OCI_INDEX);
        ASSERT(top->nchildren == 2 && top->nblobs == 0);
        if (top->nchildren == 2) {
            ASSERT(top->children[0] == 0 && top->children[1] == 1);
        }
        ASSERT_STREQ(img.manifests[0].platform, "linux/amd64");
        ASSERT_STREQ(img.manifests[1].platform, "linux/arm64/v8");
        ASSERT(img.manifests[0].nblobs == 3 && img.manifests[1].nblobs == 3);
    }
    check_blobs(&img, 1);
    sk_image_release(&img);
}

static void expect_platform(const char *source, const char *want, const char *got)
{
    struct sk_image_opts o = { want, 1 };
    struct sk_image img;
    struct sk_err err;

    ASSERT_OK(sk_image_open(source, &o, &img, &err), &err);
    ASSERT(img.nmanifests == 1);
    if (img.nmanifests == 1) {
        ASSERT_STREQ(img.manifests[0].platform, got);
        ASSERT_STREQ(img.manifests[0].media_type, SK_MT_OCI_MANIFEST);
        ASSERT(img.manifests[0].nblobs == img.nblobs);
    }
    check_blobs(&img, 1);
    sk_image_release(&img);
}

TEST(oci_platform)
{
    struct sk_image_opts o = { "linux/s390x", 1 };

    expect_platform(src("oci:%%F/multi"), "linux/arm64", "linux/arm64/v8");
    expect_platform(src("oci:%%F/multi"), "linux/arm64/v8", "linux/arm64/v8");
    expect_platform(src("oci:%%F/multi"), "linux/amd64", "linux/amd64");
    expect_platform(src("oci:%%F/nested"), "linux/amd64", "linux/amd64"); /* inside the inner index */
    expect_platform(src("oci:%%F/oci"), "linux/amd64", "linux/amd64");
    expect_fail(src("oci:%%F/multi"), &o, "no image for platform 'linux/s390x'");
    expect_fail(src("oci:%%F/multi"), &o, "available: linux/amd64, linux/arm64/v8");
    expect_fail(src("oci:%%F/oci"), &o, "the image is linux/amd64");
    o.platform = "linux/arm64/v7";
    expect_fail(src("oci:%%F/multi"), &o, "no image for platform 'linux/arm64/v7'");
}

TEST(oci_nested)
{
    struct sk_image img;
    struct sk_err err;
    size_t i, ni = 0;

    ASSERT_OK(sk_image_open(src("oci:%%F/nested"), NULL, &img, &err), &err);
    ASSERT(img.nmanifests == 4 && img.nblobs == 4);
    for (i = 0; i < img.nmanifests; i++)
        ni += !strcmp(img.manifests[i].media_type, SK_MT_OCI_INDEX);
    ASSERT(ni == 2);
    if (img.nmanifests == 4) {
        ASSERT_STREQ(img.manifests[3].media_type, SK_MT_OCI_INDEX);
        ASSERT(img.manifests[3].nchildren == 2);
        ASSERT_STREQ(img.manifests[1].media_type, SK_MT_OCI_INDEX);
        ASSERT(img.manifests[1].nchildren == 1 && img.manifests[1].children[0] == 0);
    }
    check_blobs(&img, 1);
    sk_image_release(&img);
}

static void expect_kind(const char *source, const char *kind, size_t nblobs)
{
    struct sk_image img;
    struct sk_err err;

    ASSERT_OK(sk_image_open(source, NULL, &img, &err), &err);
    ASSERT_STREQ(img.kind, kind);
    if (img.nblobs != nblobs)
        H_FAIL("%s: %zu blobs, want %zu", source, img.nblobs, nblobs);
    sk_image_release(&img);
}

TEST(auto_detect)
{
    char path[1100];

    expect_kind(src("%%F/oci"), "oci", 5);
    expect_kind(src("%%F/oci:1.0"), "oci", 5);
    expect_kind(src("%%F/oci.tar"), "oci-archive", 5);
    expect_kind(src("%%F/oci.tar:1.0"), "oci-archive", 5);
    expect_kind(src("%%F/legacy.tar"), "docker-archive", 3);
    expect_kind(src("%%F/legacy.tar:shipkit/test:1"), "docker-archive", 3);
    expect_kind(src("%%F/docker25.tar"), "docker-archive", 4);
    /* a path holding ':' */
    snprintf(path, sizeof(path), "%s/with:colon", fx);
    ASSERT(symlink("oci", path) == 0);
    expect_kind(src("oci:%%F/with:colon"), "oci", 5);
    expect_kind(src("oci:%%F/with:colon:1.0"), "oci", 5);
    expect_fail(src("oci:%%F/with:colon:2.0"), NULL, "no image '2.0'");
    /* not images */
    snprintf(path, sizeof(path), "%s/text", fx);
    {
        FILE *f = fopen(path, "w");
        if (f) {
            for (int i = 0; i < 50; i++)
                fputs("not a tar archive at all\n", f);
            fclose(f);
        }
    }
    expect_fail(src("%%F/text"), NULL, "not a tar file (bad header checksum at byte 0)");
    expect_fail(src("%%F/oci/blobs"), NULL, "not an OCI layout (no oci-layout)");
    expect_fail(src("%%F/absent"), NULL, "absent: No such file or directory");
    expect_fail(src("oci:%%F/absent:1.0"), NULL, "No such file or directory");
    expect_fail(src("oci:%%F/oci.tar"), NULL, "not a directory");
    expect_fail(src("docker-archive:%%F/oci"), NULL, "is a directory");
    expect_fail(src("docker-archive:%%F/oci.tar"), NULL, "no 'manifest.json' in archive");
    expect_fail("", NULL, "empty path");
}

/* legacy docker save: 3 layers, the third a symlink to the first's layer.tar. */
TEST(docker_legacy_gzip)
{
    struct sk_image img;
    struct sk_err err;
    const struct sk_manifest *m;
    char fake[SK_DIGEST_MAX], d[SK_DIGEST_MAX];
    static const char *const cfg_digest[] = { "config", "digest", NULL };
    jv doc = jv_invalid(), v = jv_invalid();
    size_t i;

    ASSERT_OK(sk_image_open(src("docker-archive:%%F/legacy.tar"), &gzip_opts, &img, &err), &err);
    ASSERT_STREQ(img.kind, "docker-archive");
    ASSERT(img.generated && img.nmanifests == 1 && img.nblobs == 3);
    if (img.nmanifests != 1 || img.nblobs != 3)
        goto out;
    m = &img.manifests[0];
    ASSERT_STREQ(m->media_type, SK_MT_DOCKER_MANIFEST);
    ASSERT_STREQ(m->platform, "linux/amd64");
    ASSERT(m->digest[0] == '\0' && m->body.len == 0);
    ASSERT(m->nblobs == 4 && m->blobs[0] == 0 && m->blobs[1] == 1 && m->blobs[2] == 2 && m->blobs[3] == 1);
    ASSERT(img.blobs[0].kind == SK_BLOB_MEMORY);
    ASSERT_STREQ(img.blobs[0].media_type, SK_MT_DOCKER_CONFIG);
    for (i = 1; i < 3; i++) {
        ASSERT(img.blobs[i].kind == SK_BLOB_GZIP && img.blobs[i].src_size == 10240);
        ASSERT_STREQ(img.blobs[i].media_type, SK_MT_DOCKER_LAYER_GZIP);
        ASSERT_STREQ(img.blobs[i].path, src("%%F/legacy.tar"));
    }
    check_blobs(&img, 1);
    ASSERT_ERR(sk_image_finalize(&img, &err), &err, SK_E_INTERNAL);
    for (i = 1; i < 3; i++) {
        sk_digest_of(&i, sizeof(i), fake); /* what a compressor would report */
        sk_image_set_blob(&img, i, fake, 1000 + i);
    }
    ASSERT_OK(sk_image_finalize(&img, &err), &err);
    sk_digest_of(m->body.p, m->body.len, d);
    ASSERT_STREQ(m->digest, d);
    ASSERT_OK(sk_json_parse(m->body.p, m->body.len, &doc, &err), &err);
    ASSERT(sk_json_num(doc, "schemaVersion", &(double){ 0 }) == 0);
    ASSERT_STREQ(sk_json_str(doc, "mediaType"), SK_MT_DOCKER_MANIFEST);
    v = sk_json_path(doc, cfg_digest);
    ASSERT(jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), img.blobs[0].digest));
    jv_free(v);
    v = sk_json_get(doc, "layers");
    ASSERT(jv_get_kind(v) == JV_KIND_ARRAY && jv_array_length(jv_copy(v)) == 3);
    if (jv_get_kind(v) == JV_KIND_ARRAY && jv_array_length(jv_copy(v)) == 3) {
        jv l = jv_array_get(jv_copy(v), 2);
        double size = 0;
        ASSERT_STREQ(sk_json_str(l, "digest"), img.blobs[1].digest);
        ASSERT_STREQ(sk_json_str(l, "mediaType"), SK_MT_DOCKER_LAYER_GZIP);
        ASSERT(sk_json_num(l, "size", &size) == 0 && size == 1001);
        jv_free(l);
    }
    /* canonical: compact, docker's member order */
    ASSERT(!strncmp(
        m->body.p, "{\"schemaVersion\":2,\"mediaType\":\"" SK_MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\"",
        strlen("{\"schemaVersion\":2,\"mediaType\":\"" SK_MT_DOCKER_MANIFEST "\",\"config\":{\"mediaType\"")));
    ASSERT_OK(sk_image_finalize(&img, &err), &err); /* idempotent */
    ASSERT_STREQ(m->digest, d);
out:
    jv_free(v);
    jv_free(doc);
    sk_image_release(&img);
}

TEST(docker_legacy_plain)
{
    struct sk_image img;
    struct sk_err err;
    char d[SK_DIGEST_MAX];
    size_t i;

    ASSERT_OK(sk_image_open(src("docker-archive:%%F/legacy.tar:shipkit/test:1"), &plain_opts, &img, &err), &err);
    ASSERT(img.nblobs == 3 && img.nmanifests == 1);
    for (i = 1; i < img.nblobs; i++) {
        ASSERT(img.blobs[i].kind == SK_BLOB_FILE && img.blobs[i].size == 10240);
        ASSERT_STREQ(img.blobs[i].digest, img.blobs[i].diff_id);
        ASSERT_STREQ(img.blobs[i].media_type, SK_MT_DOCKER_LAYER);
    }
    check_blobs(&img, 1);
    ASSERT_OK(sk_image_finalize(&img, &err), &err);
    if (img.nmanifests == 1) {
        sk_digest_of(img.manifests[0].body.p, img.manifests[0].body.len, d);
        ASSERT_STREQ(img.manifests[0].digest, d);
        ASSERT(strstr(img.manifests[0].body.p, SK_MT_DOCKER_LAYER "\"") != NULL);
    }
    sk_image_release(&img);
    expect_fail(src("docker-archive:%%F/legacy.tar:shipkit/test:2"), NULL, "no image 'shipkit/test:2'");
    expect_fail(src("docker-archive:%%F/legacy.tar:shipkit/test:2"), NULL, "available: 'shipkit/test:1'");
    ASSERT_OK(sk_image_open(src("docker-archive:%%F/legacy.tar:@0"), NULL, &img, &err), &err);
    sk_image_release(&img);
    ASSERT_OK(sk_image_open(src("docker-archive:%%F/legacy.tar:docker.io/shipkit/test:1"), NULL, &img, &err), &err);
    sk_image_release(&img);
    expect_fail(src("docker-archive:%%F/legacy.tar:@1"), NULL, "no image '@1'");
}

/* Docker 25+: manifest.json points at blobs/sha256/<diff_id>; the same tar is an OCI layout. */
TEST(docker25)
{
    struct sk_image img, oci;
    struct sk_err err;
    size_t i;

    ASSERT_OK(sk_image_open(src("docker-archive:%%F/docker25.tar:shipkit/test:25"), &gzip_opts, &img, &err), &err);
    ASSERT(img.generated && img.nblobs == 4 && img.nmanifests == 1);
    for (i = 1; i < img.nblobs; i++)
        ASSERT(img.blobs[i].kind == SK_BLOB_GZIP);
    check_blobs(&img, 1);
    sk_image_release(&img);
    ASSERT_OK(sk_image_open(src("docker-archive:%%F/docker25.tar"), &plain_opts, &img, &err), &err);
    ASSERT_OK(sk_image_open(src("oci-archive:%%F/docker25.tar:25"), NULL, &oci, &err), &err);
    ASSERT(img.nblobs == 4 && oci.nblobs == 4);
    for (i = 0; i < img.nblobs && i < oci.nblobs; i++) {
        ASSERT_STREQ(img.blobs[i].digest, oci.blobs[i].digest);
        ASSERT(img.blobs[i].offset == oci.blobs[i].offset);
    }
    if (oci.nblobs == 4)
        ASSERT_STREQ(oci.blobs[1].media_type, SK_MT_OCI_LAYER);
    check_blobs(&img, 1);
    check_blobs(&oci, 1);
    sk_image_release(&img);
    sk_image_release(&oci);
}

TEST(bad_fixtures)
{
    struct sk_image img;
    struct sk_err err;
    char d[SK_DIGEST_MAX];

    expect_fail(src("%%F/bad-truncated.tar"), NULL, "truncated tar");
    expect_fail(src("oci-archive:%%F/bad-truncated.tar"), NULL, "bad-truncated.tar: truncated tar");
    expect_fail(src("%%F/bad-corrupt-config"), NULL, "does not match its digest");
    expect_fail(src("%%F/bad-missing-blob"), NULL, "missing blob sha256:");
    expect_fail(src("%%F/bad-mediatype"), NULL, "unknown media type 'application/x-shipkit-unknown'");
    expect_fail(src("%%F/bad-diffid.tar"), NULL, "does not match its diff_id");
    expect_fail(src("%%F/bad-layercount.tar"), NULL, "lists 3 layers but its config has 2 diff_ids");

    /* Layer contents are not hashed at open: these open, and their bytes betray them to the
     * pusher, which hashes while streaming. */
    ASSERT_OK(sk_image_open(src("%%F/bad-corrupt-layer"), NULL, &img, &err), &err);
    if (img.nblobs == 5) {
        hash_region(img.blobs[2].path, img.blobs[2].offset, img.blobs[2].size, d);
        ASSERT(strcmp(d, img.blobs[2].digest) != 0);
    }
    sk_image_release(&img);
    ASSERT_OK(sk_image_open(src("%%F/bad-diffid-legacy.tar"), &gzip_opts, &img, &err), &err);
    if (img.nblobs == 3) {
        hash_region(img.blobs[1].path, img.blobs[1].offset, img.blobs[1].src_size, d);
        ASSERT(strcmp(d, img.blobs[1].diff_id) != 0);
    }
    sk_image_release(&img);
}

/* A layout is read only from inside: a link below its directory (to a copy of the very file it
 * replaces, outside the layout, so that following it would succeed) is refused, and the message
 * names the file in the layout, never the link's target. The directory itself may be a link. */
static void expect_link_refused(const char *layout, const char *name, const char *outside)
{
    struct sk_image img;
    struct sk_err err;

    ASSERT_ERR(sk_image_open(src("oci:%s", layout), NULL, &img, &err), &err, SK_E_USAGE);
    if (!strstr(err.msg, name) || !strstr(err.msg, "symbolic link"))
        H_FAIL("%s: message '%s' does not say %s is a link", name, err.msg, name);
    if (strstr(err.msg, outside))
        H_FAIL("%s: message '%s' names the link's target", name, err.msg);
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        H_FAIL("command failed: %s", cmd);
}

TEST(oci_links)
{
    struct sk_image img;
    struct sk_err err;
    char lay[1024], out[1024], layer[1024], man[1024], d[SK_DIGEST_MAX];
    size_t i;
    int fd;

    snprintf(lay, sizeof(lay), "%s/links", fx);
    snprintf(out, sizeof(out), "%s/outside", fx);
    ASSERT_OK(sk_image_open(src("oci:%%F/oci"), NULL, &img, &err), &err);
    if (img.nblobs != 5) {
        sk_image_release(&img);
        return;
    }
    snprintf(layer, sizeof(layer), "blobs/sha256/%s", img.blobs[2].digest + 7);
    snprintf(man, sizeof(man), "blobs/sha256/%s", img.manifests[0].digest + 7);
    sk_image_release(&img);

    /* each file or directory of the layout in turn: a link to an identical copy outside */
    {
        static const char *const names[] = { "index.json", "oci-layout", "blobs", "blobs/sha256", NULL, NULL };
        const char *const *n;
        const char *which[6];
        memcpy(which, names, sizeof(names));
        which[4] = layer;
        which[5] = man;
        for (i = 0; i < 6; i++) {
            n = &which[i];
            run("rm -rf '%s' '%s' && cp -a '%s/oci' '%s' && mkdir -p '%s' && mv '%s/%s' '%s/target' && "
                "ln -s '%s/target' '%s/%s'",
                lay, out, fx, lay, out, lay, *n, out, out, lay, *n);
            expect_link_refused(lay, *n, out);
        }
    }

    /* a FIFO in place of a blob: refused, without hanging on its open */
    run("rm -rf '%s' && cp -a '%s/oci' '%s' && rm '%s/%s' && mkfifo '%s/%s'", lay, fx, lay, lay, layer, lay, layer);
    ASSERT_ERR(sk_image_open(src("oci:%s", lay), NULL, &img, &err), &err, SK_E_USAGE);
    if (!strstr(err.msg, "not a regular file"))
        H_FAIL("FIFO: %s", err.msg);

    /* the layout directory named through a link of the user's: fine */
    run("rm -rf '%s' '%s' && ln -s '%s/oci' '%s'", lay, out, fx, lay);
    ASSERT_OK(sk_image_open(src("oci:%s", lay), NULL, &img, &err), &err);
    check_blobs(&img, 1);
    sk_image_release(&img);

    /* sk_image_blob_open: the blob's bytes from inside the layout; a blob swapped for a link after
     * the layout was read is refused too */
    run("rm -f '%s' && cp -a '%s/oci' '%s'", lay, fx, lay);
    ASSERT_OK(sk_image_open(src("oci:%s", lay), NULL, &img, &err), &err);
    if (img.nblobs == 5) {
        for (i = 1; i < 5; i++) {
            fd = sk_image_blob_open(&img, &img.blobs[i], &err);
            ASSERT(fd >= 0);
            if (fd >= 0)
                close(fd);
        }
        ASSERT(sk_image_blob_open(&img, &img.blobs[0], &err) < 0); /* the config is in memory */
        run("mkdir -p '%s' && mv '%s/%s' '%s/target' && ln -s '%s/target' '%s/%s'", out, lay, layer, out, out, lay,
            layer);
        ASSERT_ERR(sk_image_blob_open(&img, &img.blobs[2], &err), &err, SK_E_USAGE);
        if (!strstr(err.msg, "symbolic link") || strstr(err.msg, out))
            H_FAIL("swapped blob: %s", err.msg);
        hash_region(img.blobs[1].path, 0, img.blobs[1].size, d);
        ASSERT_STREQ(d, img.blobs[1].digest);
    }
    sk_image_release(&img);
    run("rm -rf '%s' '%s'", lay, out);
}

int main(void)
{
    char cmd[600];
    int rc;

    if (!mkdtemp(fx)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(cmd, sizeof(cmd), "python3 tests/fixtures/make-images '%s' >/dev/null", fx);
    if (system(cmd) != 0) {
        printf("Bail out! tests/fixtures/make-images failed\n");
        return 1;
    }
    RUN(digests);
    RUN(oci_dir);
    RUN(oci_archive);
    RUN(oci_refs);
    RUN(oci_index_all);
    RUN(oci_platform);
    RUN(oci_nested);
    RUN(auto_detect);
    RUN(docker_legacy_gzip);
    RUN(docker_legacy_plain);
    RUN(docker25);
    RUN(bad_fixtures);
    RUN(oci_links);
    rc = DONE();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
