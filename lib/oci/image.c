/*
 * image.c - container images from OCI layouts, oci-archive and docker-archive tars (see image.h):
 * what every source shares (digests, building the image, the platform of a config, which source
 * a name means) and the image once read (blob files, release, generated manifests). The readers
 * are image_oci.c (OCI layouts, in a directory or a tar) and image_docker.c (`docker save`).
 *
 * References: OCI image-spec v1.1 (image-layout.md, descriptor.md, image-index.md, manifest.md),
 * moby's `docker save` formats (legacy manifest.json, and the Docker 25+ tar that is also an OCI
 * layout, moby PR #44598), and containers/image's transports for the source syntax.
 */
#include "oci/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "oci/image_int.h"
#include "core/json.h"
#include "core/mem.h"
#include "oci/tar.h"

/* ---- digests ---- */

void sk_digest_of(const void *p, size_t n, char out[SK_DIGEST_MAX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;

    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    memcpy(out, "sha256:", 7);
    for (i = 0; i < len; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * len] = '\0';
}

int sk_image_is_hex64(const char *s, size_t n)
{
    size_t i;

    if (n != 64)
        return 0;
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

int sk_digest_valid(const char *s)
{
    return s && !strncmp(s, "sha256:", 7) && sk_image_is_hex64(s + 7, strlen(s + 7));
}

/* ---- building the image ---- */

int sk_image_add_blob(struct ctx *c, const struct sk_blob *b, size_t *idx, struct sk_err *err)
{
    struct sk_image *img = c->img;
    struct sk_blob *nb;
    size_t i;

    for (i = 0; i < img->nblobs; i++) {
        const struct sk_blob *o = &img->blobs[i];
        int same = b->digest[0] ? !strcmp(o->digest, b->digest)
                                : (b->diff_id[0] && o->kind == b->kind && !strcmp(o->diff_id, b->diff_id));
        if (!same)
            continue;
        if (b->digest[0] && o->size != b->size)
            return sk_errf(err, SK_E_USAGE, "blob %s in %s has two sizes (%llu and %llu)", b->digest, img->path,
                           (unsigned long long)o->size, (unsigned long long)b->size);
        *idx = i;
        return 0;
    }
    if (img->nblobs == c->blob_cap) {
        c->blob_cap = c->blob_cap ? c->blob_cap * 2 : 8;
        img->blobs = xrealloc(img->blobs, c->blob_cap * sizeof(*img->blobs));
    }
    nb = &img->blobs[img->nblobs];
    *nb = *b;
    nb->media_type = xstrdup(b->media_type);
    nb->path = xstrdup_or_null(b->path);
    if (b->data) {
        nb->data = xmalloc(b->size ? (size_t)b->size : 1);
        memcpy(nb->data, b->data, (size_t)b->size);
    }
    *idx = img->nblobs++;
    return 0;
}

struct sk_manifest *sk_image_new_manifest(struct ctx *c, size_t *idx)
{
    struct sk_image *img = c->img;
    struct sk_manifest *m;

    if (img->nmanifests == c->man_cap) {
        c->man_cap = c->man_cap ? c->man_cap * 2 : 4;
        img->manifests = xrealloc(img->manifests, c->man_cap * sizeof(*img->manifests));
    }
    m = &img->manifests[img->nmanifests];
    memset(m, 0, sizeof(*m));
    sk_buf_init(&m->body);
    *idx = img->nmanifests++;
    return m;
}

/* ---- reading files ---- */

int sk_image_io_fail(struct sk_err *err, const char *path)
{
    int e = errno;

    sk_errf(err, SK_E_IO, "%s: %s", path, strerror(e));
    if (err)
        err->sys_errno = e;
    return -1;
}

/* ---- JSON helpers ---- */

int sk_image_parse_doc(const struct sk_buf *b, const char *what, const char *where, jv *out, struct sk_err *err)
{
    if (sk_json_parse(b->p, b->len, out, err) < 0) {
        if (err)
            err->kind = SK_E_USAGE;
        return sk_err_prefix(err, "%s in %s", what, where);
    }
    if (jv_get_kind(*out) != JV_KIND_OBJECT)
        return sk_errf(err, SK_E_USAGE, "%s in %s is not a JSON object", what, where);
    return 0;
}

/* "os/arch[/variant]" from a platform object or an image config; NULL if os or arch is missing. */
char *sk_image_platform_of(jv obj, const char *arch_key)
{
    struct sk_buf b = SK_BUF_INIT;
    const char *os = sk_json_str(obj, "os"), *arch = sk_json_str(obj, arch_key), *var = sk_json_str(obj, "variant");

    if (!os || !arch || !*os || !*arch)
        return NULL;
    sk_buf_addf(&b, "%s/%s", os, arch);
    if (var && *var)
        sk_buf_addf(&b, "/%s", var);
    return sk_buf_detach(&b, NULL);
}

/* os/arch[/variant] split into three parts; arm64 without a variant is arm64/v8. */
static void split_platform(const char *p, struct sk_buf parts[3])
{
    int i = 0;

    for (; *p && i < 3; p++) {
        if (*p == '/')
            i++;
        else if (i < 3)
            sk_buf_addch(&parts[i], *p);
    }
    if (!parts[2].len && !strcmp(parts[1].p, "arm64"))
        sk_buf_adds(&parts[2], "v8");
}

/* want "linux/arm64" matches "linux/arm64/v8"; a variant in want must match exactly. */
int sk_image_platform_match(const char *want, const char *have)
{
    struct sk_buf w[3] = { SK_BUF_INIT, SK_BUF_INIT, SK_BUF_INIT }, h[3] = { SK_BUF_INIT, SK_BUF_INIT, SK_BUF_INIT };
    int i, want_variant = 0, ok;

    if (!have)
        return 0;
    for (const char *p = want; *p; p++)
        want_variant += *p == '/';
    want_variant = want_variant >= 2;
    split_platform(want, w);
    split_platform(have, h);
    ok = !strcmp(w[0].p, h[0].p) && !strcmp(w[1].p, h[1].p) && (!want_variant || !strcmp(w[2].p, h[2].p));
    for (i = 0; i < 3; i++) {
        sk_buf_release(&w[i]);
        sk_buf_release(&h[i]);
    }
    return ok;
}

/* ---- sources ---- */

static int path_exists(const char *p)
{
    struct stat st;

    return *p && stat(p, &st) == 0;
}

/* "PATH[:REF]": PATH is the whole string if it exists, else the longest prefix ending before a ':'
 * that exists (a REF may itself hold ':', as in "repo:tag"). */
static int split_path_ref(const char *s, char **path, char **ref, struct sk_err *err)
{
    size_t i;

    if (!*s)
        return sk_errf(err, SK_E_USAGE, "empty path in image source");
    if (path_exists(s)) {
        *path = xstrdup(s);
        *ref = NULL;
        return 0;
    }
    for (i = strlen(s); i-- > 0;) {
        if (s[i] != ':')
            continue;
        *path = xstrndup(s, i);
        if (path_exists(*path)) {
            *ref = s[i + 1] ? xstrdup(s + i + 1) : NULL;
            return 0;
        }
        free(*path);
        *path = NULL;
    }
    sk_errf(err, SK_E_USAGE, "%s: %s", s, strerror(ENOENT));
    if (err)
        err->sys_errno = ENOENT;
    return -1;
}

/* The kind of the source at path (st from stat), from its prefix (kind, or NULL) and its contents:
 * a directory is an OCI layout; a file must be a tar, opened into tar, with manifest.json
 * (docker-archive) or oci-layout (oci-archive). */
static int detect_kind(const char *path, const struct stat *st, const char **kind, struct sk_tar *tar,
                       struct sk_err *err)
{
    unsigned char magic[2];
    int fd;

    if (S_ISDIR(st->st_mode)) {
        if (*kind && strcmp(*kind, "oci"))
            return sk_errf(err, SK_E_USAGE, "%s: is a directory, not a %s tar", path, *kind);
        *kind = "oci";
        return 0;
    }
    if (*kind && !strcmp(*kind, "oci"))
        return sk_errf(err, SK_E_USAGE, "%s: not a directory (an OCI layout is a directory; try oci-archive:)", path);
    /* `docker save | gzip` is common: say so rather than "bad header checksum" */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, magic, sizeof(magic));
        close(fd);
        if (r == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
            return sk_errf(err, SK_E_USAGE, "%s: a gzip-compressed file; decompress it first (gunzip)", path);
    }
    if (sk_tar_open(tar, path, err) < 0)
        return -1;
    if (*kind)
        return 0;
    if (sk_tar_find(tar, docker_manifest_name))
        *kind = "docker-archive";
    else if (sk_tar_find(tar, oci_layout_name))
        *kind = "oci-archive";
    else
        return sk_errf(err, SK_E_USAGE, "%s: not an image archive (no %s and no %s)", path, docker_manifest_name,
                       oci_layout_name);
    return 0;
}

int sk_image_open(const char *source, const struct sk_image_opts *o, struct sk_image *img, struct sk_err *err)
{
    static const struct sk_image_opts defaults = { NULL, 1 };
    static const struct {
        const char *prefix;
        const char *kind;
    } kinds[] = { { "oci:", "oci" }, { "oci-archive:", "oci-archive" }, { "docker-archive:", "docker-archive" } };
    struct sk_tar tar = SK_TAR_INIT;
    struct ctx c;
    struct stat st;
    const char *kind = NULL, *rest = source;
    char *path = NULL, *ref = NULL;
    size_t i;
    int rc = -1;

    memset(img, 0, sizeof(*img));
    memset(&c, 0, sizeof(c));
    c.img = img;
    c.o = o ? o : &defaults;
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (!strncmp(source, kinds[i].prefix, strlen(kinds[i].prefix))) {
            kind = kinds[i].kind;
            rest = source + strlen(kinds[i].prefix);
            break;
        }
    }
    if (split_path_ref(rest, &path, &ref, err) < 0)
        goto out;
    img->path = xstrdup(path);
    if (stat(path, &st) < 0) {
        sk_errf(err, SK_E_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (detect_kind(path, &st, &kind, &tar, err) < 0)
        goto out;
    img->kind = xstrdup(kind);
    c.st.path = img->path;
    c.st.tar = tar.fd >= 0 ? &tar : NULL;
    if (!strcmp(kind, "docker-archive"))
        rc = sk_image_open_docker(&c, &tar, ref, err);
    else
        rc = sk_image_open_oci(&c, ref, err);
out:
    sk_tar_release(&tar);
    free(path);
    free(ref);
    if (rc < 0)
        sk_image_release(img);
    return rc;
}

int sk_image_blob_open(const struct sk_image *img, const struct sk_blob *b, struct sk_err *err)
{
    struct sk_buf name = SK_BUF_INIT;
    struct stat st;
    int fd;

    if (b->kind == SK_BLOB_MEMORY || !b->path)
        return sk_errf(err, SK_E_INTERNAL, "blob %s has no file", b->digest);
    if (!img->kind || strcmp(img->kind, "oci") != 0) {
        /* An archive the user named: its own path, as sk_image_open read it. */
        fd = open(b->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            sk_image_io_fail(err, b->path);
        return fd;
    }
    sk_buf_addf(&name, "%s%s", blobs_dir, b->digest + 7);
    fd = sk_image_layout_open(img->path, name.p, &st, err);
    if (fd >= 0 && (uint64_t)st.st_size != b->size) {
        sk_errf(err, SK_E_USAGE, "%s: %s changed since it was read (now %llu bytes, not %llu)", img->path, name.p,
                (unsigned long long)st.st_size, (unsigned long long)b->size);
        close(fd);
        fd = -1;
    }
    sk_buf_release(&name);
    return fd;
}

void sk_image_release(struct sk_image *img)
{
    size_t i;

    if (!img)
        return;
    for (i = 0; i < img->nblobs; i++) {
        free(img->blobs[i].media_type);
        free(img->blobs[i].path);
        free(img->blobs[i].data);
    }
    for (i = 0; i < img->nmanifests; i++) {
        free(img->manifests[i].media_type);
        sk_buf_release(&img->manifests[i].body);
        free(img->manifests[i].blobs);
        free(img->manifests[i].children);
        free(img->manifests[i].platform);
    }
    free(img->blobs);
    free(img->manifests);
    free(img->kind);
    free(img->path);
    memset(img, 0, sizeof(*img));
}

void sk_image_set_blob(struct sk_image *img, size_t i, const char *digest, uint64_t size)
{
    if (!img || i >= img->nblobs || !digest)
        return;
    snprintf(img->blobs[i].digest, sizeof(img->blobs[i].digest), "%s", digest);
    img->blobs[i].size = size;
}

/* Docker image manifest, schema 2, with members in docker's own order. */
static void add_descriptor(struct sk_buf *out, const struct sk_blob *b)
{
    sk_buf_addf(out, "{\"mediaType\":\"%s\",\"size\":%llu,\"digest\":\"%s\"}", b->media_type,
                (unsigned long long)b->size, b->digest);
}

int sk_image_finalize(struct sk_image *img, struct sk_err *err)
{
    struct sk_manifest *m;
    size_t i, j;

    if (!img->generated)
        return 0;
    for (i = 0; i < img->nmanifests; i++) {
        m = &img->manifests[i];
        if (!m->nblobs)
            return sk_errf(err, SK_E_INTERNAL, "generated manifest %zu has no config", i);
        for (j = 0; j < m->nblobs; j++) {
            const struct sk_blob *b = &img->blobs[m->blobs[j]];
            if (!sk_digest_valid(b->digest))
                return sk_errf(err, SK_E_INTERNAL, "blob %zu of %s has no digest yet", m->blobs[j], img->path);
        }
        sk_buf_reset(&m->body);
        sk_buf_addf(&m->body, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":", m->media_type);
        add_descriptor(&m->body, &img->blobs[m->blobs[0]]);
        sk_buf_adds(&m->body, ",\"layers\":[");
        for (j = 1; j < m->nblobs; j++) {
            if (j > 1)
                sk_buf_addch(&m->body, ',');
            add_descriptor(&m->body, &img->blobs[m->blobs[j]]);
        }
        sk_buf_adds(&m->body, "]}");
        sk_digest_of(m->body.p, m->body.len, m->digest);
    }
    return 0;
}
