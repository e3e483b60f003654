/*
 * image.c - container images from OCI layouts, oci-archive and docker-archive tars (see image.h).
 *
 * References: OCI image-spec v1.1 (image-layout.md, descriptor.md, image-index.md, manifest.md),
 * moby's `docker save` formats (legacy manifest.json, and the Docker 25+ tar that is also an OCI
 * layout, moby PR #44598), and containers/image's transports for the source syntax.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "json.h"
#include "mem.h"
#include "tar.h"

#define DOC_MAX (4u << 20)              /* largest manifest, index or config we read into memory */
#define MAX_DEPTH 8                     /* nested indexes */
#define MAX_JSON_INT 9007199254740992.0 /* 2^53: sizes above are not exact in a double */

#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_OCI_NONDIST "application/vnd.oci.image.layer.nondistributable."
#define MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

static const char ann_ref_name[] = "org.opencontainers.image.ref.name";
static const char oci_layout_name[] = "oci-layout";
static const char oci_index_name[] = "index.json";
static const char docker_manifest_name[] = "manifest.json";
static const char blobs_dir[] = "blobs/sha256/";

/* Where content-addressed blobs come from: an OCI layout directory, or the same inside a tar. */
struct store {
    const char *path;
    const struct sk_tar *tar; /* NULL for a directory */
};

struct ctx {
    struct sk_image *img;
    const struct sk_image_opts *o;
    struct store st;
    size_t blob_cap, man_cap;
};

/* A descriptor's fields, borrowed from its jv. */
struct desc {
    const char *mt;
    const char *digest;
    uint64_t size;
};

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

static int is_hex64(const char *s, size_t n)
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
    return s && !strncmp(s, "sha256:", 7) && is_hex64(s + 7, strlen(s + 7));
}

/* "sha256:0123456789ab" for messages. */
static const char *short_digest(const char *d, char buf[32])
{
    snprintf(buf, 32, "%.19s", d ? d : "");
    return buf;
}

/* ---- building the image ---- */

static int add_blob(struct ctx *c, const struct sk_blob *b, size_t *idx, struct sk_err *err)
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

static struct sk_manifest *new_manifest(struct ctx *c, size_t *idx)
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

static int find_manifest(const struct sk_image *img, const char *digest, size_t *idx)
{
    size_t i;

    for (i = 0; i < img->nmanifests; i++) {
        if (!strcmp(img->manifests[i].digest, digest)) {
            *idx = i;
            return 1;
        }
    }
    return 0;
}

/* ---- reading files and blobs ---- */

static int io_fail(struct sk_err *err, const char *path)
{
    int e = errno;

    sk_errf(err, SK_E_IO, "%s: %s", path, strerror(e));
    if (err)
        err->sys_errno = e;
    return -1;
}

/* Open name ("index.json", "blobs/sha256/<hex>") of the OCI layout directory root for reading,
 * never leaving the layout: root itself is opened as the user named it, and every component below it
 * with O_NOFOLLOW (directories with O_DIRECTORY), so a link anywhere inside is refused rather than
 * followed, and nothing outside the layout is opened, read or described. The file must be a regular
 * file (O_NONBLOCK: a FIFO cannot hang us). *st is filled. Absent: SK_E_USAGE, sys_errno ENOENT. */
static int layout_open(const char *root, const char *name, struct stat *st, struct sk_err *err)
{
    char *copy = xstrdup(name), *comp, *next_comp, *save = NULL;
    int dfd, fd = -1, e;

    if (err)
        err->sys_errno = 0;
    dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        e = errno;
        sk_errf(err, e == ENOENT || e == ENOTDIR ? SK_E_USAGE : SK_E_IO, "%s: %s", root, strerror(e));
        if (err)
            err->sys_errno = e;
        goto out;
    }
    for (comp = strtok_r(copy, "/", &save); comp; comp = next_comp) {
        struct stat lst;
        next_comp = strtok_r(NULL, "/", &save);
        fd = openat(dfd, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (next_comp ? O_DIRECTORY : O_NONBLOCK));
        if (fd < 0) {
            e = errno;
            if (fstatat(dfd, comp, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
                /* name it as far as the link: "blobs", "blobs/sha256", "index.json" */
                sk_errf(err, SK_E_USAGE, "%s: %.*s is a symbolic link: an OCI layout is read only from inside it", root,
                        (int)(comp - copy + strlen(comp)), name);
                e = ELOOP;
            } else if (e == ENOENT || e == ENOTDIR)
                sk_errf(err, SK_E_USAGE, "%s: no %s in the layout", root, name);
            else
                sk_errf(err, SK_E_IO, "%s: %s: %s", root, name, strerror(e));
            if (err)
                err->sys_errno = e;
            goto out;
        }
        close(dfd);
        dfd = next_comp ? fd : -1;
        if (next_comp)
            fd = -1;
    }
    if (fstat(fd, st) < 0) {
        io_fail(err, name);
    } else if (!S_ISREG(st->st_mode)) {
        sk_errf(err, SK_E_USAGE, "%s: %s is not a regular file", root, name);
    } else {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        goto out;
    }
    close(fd);
    fd = -1;
out:
    if (dfd >= 0)
        close(dfd);
    free(copy);
    return fd;
}

/* Read all of an open regular file (st from fstat), at most max bytes. path names it in messages. */
static int read_fd(int fd, const struct stat *st, const char *path, size_t max, struct sk_buf *out, struct sk_err *err)
{
    ssize_t r;

    if ((uint64_t)st->st_size > max)
        return sk_errf(err, SK_E_USAGE, "%s: larger than %zu bytes", path, max);
    sk_buf_grow(out, (size_t)st->st_size);
    for (;;) {
        sk_buf_grow(out, 4096);
        r = read(fd, out->p + out->len, out->cap - out->len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return io_fail(err, path);
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        out->p[out->len] = '\0';
        if (out->len > max)
            return sk_errf(err, SK_E_USAGE, "%s: larger than %zu bytes", path, max);
    }
    return 0;
}

/* A named file of the layout (oci-layout, index.json): in the directory or in the archive. */
static int store_read_file(const struct store *st, const char *name, struct sk_buf *out, struct sk_err *err)
{
    const struct sk_tar_entry *e;
    struct stat sb;
    int fd, rc;

    if (st->tar) {
        e = sk_tar_resolve(st->tar, name, err);
        return e ? sk_tar_read(st->tar, e, DOC_MAX, out, err) : -1;
    }
    if ((fd = layout_open(st->path, name, &sb, err)) < 0)
        return -1;
    rc = read_fd(fd, &sb, name, DOC_MAX, out, err);
    close(fd);
    return rc;
}

/* Find a blob: its file, offset and size. what/where name it in messages. In a directory, fdp (if not
 * NULL) receives the blob's open descriptor (layout_open: never a link). */
static int store_locate(const struct store *st, const char *digest, const char *what, const char *where,
                        struct sk_buf *path, uint64_t *offset, uint64_t *size, const struct sk_tar_entry **ep, int *fdp,
                        struct sk_err *err)
{
    struct sk_buf name = SK_BUF_INIT;
    const struct sk_tar_entry *e;
    struct stat sb;
    int rc = -1;

    sk_buf_addf(&name, "%s%s", blobs_dir, digest + 7);
    if (st->tar) {
        if (!sk_tar_find(st->tar, name.p)) {
            sk_errf(err, SK_E_USAGE, "missing blob %s (%s in %s) in %s", digest, what, where, st->path);
            goto out;
        }
        if (!(e = sk_tar_resolve(st->tar, name.p, err)))
            goto out;
        if (ep)
            *ep = e;
        sk_buf_reset(path);
        sk_buf_adds(path, st->path);
        *offset = e->offset;
        *size = e->size;
    } else {
        int fd = layout_open(st->path, name.p, &sb, err);
        if (fd < 0) {
            if (err && (err->sys_errno == ENOENT || err->sys_errno == ENOTDIR) && err->kind == SK_E_USAGE)
                sk_errf(err, SK_E_USAGE, "missing blob %s (%s in %s) in %s", digest, what, where, st->path);
            goto out;
        }
        if (fdp)
            *fdp = fd;
        else
            close(fd);
        sk_buf_reset(path);
        sk_buf_addf(path, "%s/%s", st->path, name.p);
        *offset = 0;
        *size = (uint64_t)sb.st_size;
    }
    rc = 0;
out:
    sk_buf_release(&name);
    return rc;
}

static int check_size(const struct desc *d, uint64_t actual, const char *what, const char *where, const char *path,
                      struct sk_err *err)
{
    if (actual != d->size)
        return sk_errf(err, SK_E_USAGE, "%s %s in %s is %llu bytes but its descriptor in %s says %llu", what, d->digest,
                       path, (unsigned long long)actual, where, (unsigned long long)d->size);
    return 0;
}

/* Read a small blob (manifest, index, config) whole, checking its size and sha256. */
static int store_read_blob(const struct store *st, const struct desc *d, const char *what, const char *where,
                           struct sk_buf *out, struct sk_err *err)
{
    struct sk_buf path = SK_BUF_INIT;
    const struct sk_tar_entry *e = NULL;
    char got[SK_DIGEST_MAX];
    uint64_t off, size;
    struct stat sb;
    int rc = -1, fd = -1;

    if (d->size > DOC_MAX) {
        sk_errf(err, SK_E_USAGE, "%s %s in %s is larger than %u bytes", what, d->digest, st->path, DOC_MAX);
        goto out;
    }
    if (store_locate(st, d->digest, what, where, &path, &off, &size, &e, &fd, err) < 0)
        goto out;
    if (check_size(d, size, what, where, st->path, err) < 0)
        goto out;
    if (st->tar) {
        if (sk_tar_read(st->tar, e, DOC_MAX, out, err) < 0)
            goto out;
    } else if (fstat(fd, &sb) < 0 ? io_fail(err, path.p) : read_fd(fd, &sb, path.p, DOC_MAX, out, err) < 0) {
        goto out;
    }
    if (out->len != d->size) {
        check_size(d, out->len, what, where, st->path, err);
        goto out;
    }
    sk_digest_of(out->p, out->len, got);
    if (strcmp(got, d->digest)) {
        sk_errf(err, SK_E_USAGE, "%s %s in %s does not match its digest (sha256 is %s)", what, d->digest, st->path,
                got);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    sk_buf_release(&path);
    return rc;
}

/* ---- JSON helpers ---- */

/* A JSON number that is a whole byte count. */
static int json_size(jv obj, const char *key, uint64_t *out)
{
    double v;

    if (sk_json_num(obj, key, &v) < 0 || v < 0 || v > MAX_JSON_INT || v != (double)(uint64_t)v)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_desc(jv d, const char *where, struct desc *out, struct sk_err *err)
{
    if (jv_get_kind(d) != JV_KIND_OBJECT)
        return sk_errf(err, SK_E_USAGE, "descriptor in %s is not an object", where);
    out->mt = sk_json_str(d, "mediaType");
    out->digest = sk_json_str(d, "digest");
    if (!out->mt)
        return sk_errf(err, SK_E_USAGE, "descriptor without mediaType in %s", where);
    if (!out->digest)
        return sk_errf(err, SK_E_USAGE, "descriptor without digest in %s", where);
    if (!sk_digest_valid(out->digest))
        return sk_errf(err, SK_E_USAGE, "unsupported digest '%.80s' in %s", out->digest, where);
    if (json_size(d, "size", &out->size) < 0)
        return sk_errf(err, SK_E_USAGE, "descriptor %s in %s has no valid size", out->digest, where);
    return 0;
}

static int parse_doc(const struct sk_buf *b, const char *what, const char *where, jv *out, struct sk_err *err)
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
static char *platform_of(jv obj, const char *arch_key)
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
static int platform_match(const char *want, const char *have)
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

static int is_index_mt(const char *mt)
{
    return !strcmp(mt, SK_MT_OCI_INDEX) || !strcmp(mt, SK_MT_DOCKER_LIST);
}

static int is_manifest_mt(const char *mt)
{
    return !strcmp(mt, SK_MT_OCI_MANIFEST) || !strcmp(mt, SK_MT_DOCKER_MANIFEST);
}

static int check_layer_mt(const char *mt, const char *where, struct sk_err *err)
{
    static const char *const known[] = { SK_MT_OCI_LAYER,    SK_MT_OCI_LAYER_GZIP,    SK_MT_OCI_LAYER_ZSTD,
                                         SK_MT_DOCKER_LAYER, SK_MT_DOCKER_LAYER_GZIP, MT_OCI_EMPTY };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(mt, known[i]))
            return 0;
    if (!strncmp(mt, MT_OCI_NONDIST, strlen(MT_OCI_NONDIST)) || !strcmp(mt, MT_DOCKER_FOREIGN))
        return sk_errf(err, SK_E_USAGE, "non-distributable layer '%s' in %s is not supported", mt, where);
    return sk_errf(err, SK_E_USAGE, "unknown media type '%.100s' in %s", mt, where);
}

/* The body's own mediaType, when present, must agree with the descriptor that points at it. */
static int check_body_mt(jv doc, const struct desc *d, const char *where, struct sk_err *err)
{
    const char *mt = sk_json_str(doc, "mediaType");

    if (mt && strcmp(mt, d->mt))
        return sk_errf(err, SK_E_USAGE, "%s has mediaType '%.100s' but its descriptor says '%s'", where, mt, d->mt);
    return 0;
}

/* ---- OCI layouts ---- */

static int load_manifest(struct ctx *c, const struct desc *d, const char *platform, const char *parent, size_t *out,
                         struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT, cfgbuf = SK_BUF_INIT, path = SK_BUF_INIT;
    struct sk_manifest *m;
    struct sk_blob b;
    struct desc cd, ld;
    char where[128], sd[32];
    jv doc = jv_invalid(), cfg = jv_invalid(), cfgdoc = jv_invalid(), layers = jv_invalid(), l = jv_invalid();
    size_t *idx = NULL, n = 0, i, nl = 0, mi;
    uint64_t off, size;
    char *plat = NULL;
    int rc = -1;

    if (find_manifest(c->img, d->digest, out))
        return 0;
    snprintf(where, sizeof(where), "manifest %s", short_digest(d->digest, sd));
    if (store_read_blob(&c->st, d, "manifest", parent, &body, err) < 0 ||
        parse_doc(&body, where, c->st.path, &doc, err) < 0 || check_body_mt(doc, d, where, err) < 0)
        goto out;
    cfg = sk_json_get(doc, "config");
    if (!jv_is_valid(cfg)) {
        sk_errf(err, SK_E_USAGE, "%s in %s has no config", where, c->st.path);
        goto out;
    }
    if (parse_desc(cfg, where, &cd, err) < 0)
        goto out;
    if (strcmp(cd.mt, SK_MT_OCI_CONFIG) && strcmp(cd.mt, SK_MT_DOCKER_CONFIG) && strcmp(cd.mt, MT_OCI_EMPTY)) {
        sk_errf(err, SK_E_USAGE, "unknown media type '%.100s' in %s of %s", cd.mt, where, c->st.path);
        goto out;
    }
    if (store_read_blob(&c->st, &cd, "config", where, &cfgbuf, err) < 0)
        goto out;
    if (strcmp(cd.mt, MT_OCI_EMPTY)) {
        if (parse_doc(&cfgbuf, "config", where, &cfgdoc, err) < 0)
            goto out;
        plat = platform ? xstrdup(platform) : platform_of(cfgdoc, "architecture");
    } else if (platform) {
        plat = xstrdup(platform);
    }
    layers = sk_json_get(doc, "layers");
    if (jv_is_valid(layers) && jv_get_kind(layers) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s: layers is not an array", where, c->st.path);
        goto out;
    }
    if (jv_is_valid(layers))
        nl = (size_t)jv_array_length(jv_copy(layers));
    idx = xcalloc(nl + 1, sizeof(*idx));
    memset(&b, 0, sizeof(b));
    snprintf(b.digest, sizeof(b.digest), "%s", cd.digest);
    b.size = cd.size;
    b.media_type = (char *)cd.mt;
    b.kind = SK_BLOB_MEMORY;
    b.data = (unsigned char *)cfgbuf.p;
    if (add_blob(c, &b, &idx[n++], err) < 0)
        goto out;
    for (i = 0; i < nl; i++) {
        jv_free(l);
        l = jv_array_get(jv_copy(layers), (int)i);
        if (parse_desc(l, where, &ld, err) < 0)
            goto out;
        if (check_layer_mt(ld.mt, where, err) < 0) {
            sk_err_prefix(err, "%s", c->st.path);
            goto out;
        }
        if (store_locate(&c->st, ld.digest, "layer", where, &path, &off, &size, NULL, NULL, err) < 0 ||
            check_size(&ld, size, "layer", where, c->st.path, err) < 0)
            goto out;
        memset(&b, 0, sizeof(b));
        snprintf(b.digest, sizeof(b.digest), "%s", ld.digest);
        b.size = b.src_size = ld.size;
        b.media_type = (char *)ld.mt;
        b.kind = SK_BLOB_FILE;
        b.path = path.p;
        b.offset = off;
        if (add_blob(c, &b, &idx[n++], err) < 0)
            goto out;
    }
    m = new_manifest(c, &mi);
    snprintf(m->digest, sizeof(m->digest), "%s", d->digest);
    m->media_type = xstrdup(d->mt);
    m->body = body;
    sk_buf_init(&body);
    m->blobs = idx;
    m->nblobs = n;
    idx = NULL;
    m->platform = plat;
    plat = NULL;
    *out = mi;
    rc = 0;
out:
    jv_free(doc);
    jv_free(cfg);
    jv_free(cfgdoc);
    jv_free(layers);
    jv_free(l);
    sk_buf_release(&body);
    sk_buf_release(&cfgbuf);
    sk_buf_release(&path);
    free(idx);
    free(plat);
    return rc;
}

static int load_desc(struct ctx *c, const struct desc *d, const char *platform, const char *where, int depth,
                     size_t *out, struct sk_err *err);

/* Read and parse an index blob; its "manifests" array is returned in *manifests. */
static int read_index(struct ctx *c, const struct desc *d, const char *parent, int depth, char *where, size_t wn,
                      jv *manifests, struct sk_buf *body, struct sk_err *err)
{
    jv doc = jv_invalid();
    char sd[32];
    int rc = -1;

    *manifests = jv_invalid();
    snprintf(where, wn, "index %s", short_digest(d->digest, sd));
    if (depth > MAX_DEPTH) {
        sk_errf(err, SK_E_USAGE, "indexes nested too deeply in %s", c->st.path);
        goto out;
    }
    if (store_read_blob(&c->st, d, "index", parent, body, err) < 0 ||
        parse_doc(body, where, c->st.path, &doc, err) < 0 || check_body_mt(doc, d, where, err) < 0)
        goto out;
    *manifests = sk_json_get(doc, "manifests");
    if (jv_get_kind(*manifests) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s has no manifests array", where, c->st.path);
        goto out;
    }
    rc = 0;
out:
    jv_free(doc);
    return rc;
}

/* An index and every child, children first. */
static int load_index(struct ctx *c, const struct desc *d, const char *platform, const char *parent, int depth,
                      size_t *out, struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_manifest *m;
    struct desc cd;
    char where[128];
    jv list = jv_invalid(), child = jv_invalid(), pobj = jv_invalid();
    size_t *kids = NULL, n, i, mi;
    char *cp = NULL;
    int rc = -1;

    if (find_manifest(c->img, d->digest, out))
        return 0;
    if (read_index(c, d, parent, depth, where, sizeof(where), &list, &body, err) < 0)
        goto out;
    n = (size_t)jv_array_length(jv_copy(list));
    kids = xcalloc(n ? n : 1, sizeof(*kids));
    for (i = 0; i < n; i++) {
        jv_free(child);
        jv_free(pobj);
        free(cp);
        pobj = jv_invalid(); /* parse_desc may fail before they are set again */
        cp = NULL;
        child = jv_array_get(jv_copy(list), (int)i);
        if (parse_desc(child, where, &cd, err) < 0)
            goto out;
        pobj = sk_json_get(child, "platform");
        cp = platform_of(pobj, "architecture");
        if (load_desc(c, &cd, cp, where, depth + 1, &kids[i], err) < 0)
            goto out;
    }
    m = new_manifest(c, &mi);
    snprintf(m->digest, sizeof(m->digest), "%s", d->digest);
    m->media_type = xstrdup(d->mt);
    m->body = body;
    sk_buf_init(&body);
    m->children = kids;
    m->nchildren = n;
    kids = NULL;
    m->platform = xstrdup_or_null(platform);
    *out = mi;
    rc = 0;
out:
    jv_free(list);
    jv_free(child);
    jv_free(pobj);
    free(cp);
    free(kids);
    sk_buf_release(&body);
    return rc;
}

static int load_desc(struct ctx *c, const struct desc *d, const char *platform, const char *where, int depth,
                     size_t *out, struct sk_err *err)
{
    if (is_index_mt(d->mt))
        return load_index(c, d, platform, where, depth, out, err);
    if (is_manifest_mt(d->mt))
        return load_manifest(c, d, platform, where, out, err);
    return sk_errf(err, SK_E_USAGE, "unknown media type '%.100s' in %s of %s", d->mt, where, c->st.path);
}

/* With a platform wanted: the first image manifest below d that matches it. 1 if none; the
 * platforms seen are added to avail. */
static int select_platform(struct ctx *c, const struct desc *d, const char *parent, int depth, struct sk_buf *avail,
                           size_t *out, struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct desc cd;
    char where[128];
    jv list = jv_invalid(), child = jv_invalid(), pobj = jv_invalid();
    size_t n, i;
    char *cp = NULL;
    int rc = -1, r;

    if (read_index(c, d, parent, depth, where, sizeof(where), &list, &body, err) < 0)
        goto out;
    n = (size_t)jv_array_length(jv_copy(list));
    rc = 1;
    for (i = 0; i < n && rc == 1; i++) {
        jv_free(child);
        jv_free(pobj);
        free(cp);
        pobj = jv_invalid(); /* parse_desc may fail before they are set again */
        cp = NULL;
        child = jv_array_get(jv_copy(list), (int)i);
        if (parse_desc(child, where, &cd, err) < 0) {
            rc = -1;
            break;
        }
        pobj = sk_json_get(child, "platform");
        cp = platform_of(pobj, "architecture");
        if (is_index_mt(cd.mt)) {
            r = select_platform(c, &cd, where, depth + 1, avail, out, err);
            if (r <= 0)
                rc = r;
        } else if (is_manifest_mt(cd.mt)) {
            if (cp && platform_match(c->o->platform, cp)) {
                rc = load_manifest(c, &cd, cp, where, out, err);
            } else if (cp) {
                sk_buf_addf(avail, "%s%s", avail->len ? ", " : "", cp);
            }
        } else {
            rc = sk_errf(err, SK_E_USAGE, "unknown media type '%.100s' in %s of %s", cd.mt, where, c->st.path);
        }
    }
out:
    jv_free(list);
    jv_free(child);
    jv_free(pobj);
    free(cp);
    sk_buf_release(&body);
    return rc;
}

/* Pick the descriptor of index.json named by ref, or the only one; among several, the platform
 * (when given) decides. */
static int select_top(struct ctx *c, jv list, const char *ref, jv *chosen, struct sk_err *err)
{
    struct sk_buf names = SK_BUF_INIT, plats = SK_BUF_INIT;
    jv d = jv_invalid(), ann = jv_invalid(), pobj = jv_invalid(), first = jv_invalid(), best = jv_invalid();
    size_t n = (size_t)jv_array_length(jv_copy(list)), i, nref = 0;
    const char *name;
    char *cp = NULL;
    int rc = -1;

    for (i = 0; i < n; i++) {
        jv_free(d);
        jv_free(ann);
        jv_free(pobj);
        free(cp);
        d = jv_array_get(jv_copy(list), (int)i);
        ann = sk_json_get(d, "annotations");
        pobj = sk_json_get(d, "platform");
        cp = platform_of(pobj, "architecture");
        name = sk_json_str(ann, ann_ref_name);
        if (name)
            sk_buf_addf(&names, "%s'%s'", names.len ? ", " : "", name);
        if (ref && (!name || strcmp(name, ref)))
            continue;
        if (!nref++)
            first = jv_copy(d);
        if (cp)
            sk_buf_addf(&plats, "%s%s", plats.len ? ", " : "", cp);
        if (c->o->platform && cp && platform_match(c->o->platform, cp) && !jv_is_valid(best))
            best = jv_copy(d);
    }
    if (nref == 1) {
        *chosen = first;
        first = jv_invalid();
        rc = 0;
    } else if (nref > 1 && jv_is_valid(best)) {
        *chosen = best;
        best = jv_invalid();
        rc = 0;
    } else if (ref && !nref) {
        sk_errf(err, SK_E_USAGE, "no image '%s' in %s (available: %s)", ref, c->img->path,
                names.len ? names.p : "none, no image has a ref name");
    } else if (!nref) {
        sk_errf(err, SK_E_USAGE, "no images in %s", c->img->path);
    } else if (c->o->platform) {
        sk_errf(err, SK_E_USAGE, "no image for platform '%s' in %s (available: %s)", c->o->platform, c->img->path,
                plats.len ? plats.p : "none");
    } else if (ref) {
        sk_errf(err, SK_E_USAGE, "%zu images named '%s' in %s: choose one with a platform", nref, ref, c->img->path);
    } else {
        sk_errf(err, SK_E_USAGE, "%zu images in %s: choose one with :REF (available: %s)", nref, c->img->path,
                names.len ? names.p : "none named");
    }
    jv_free(d);
    jv_free(ann);
    jv_free(pobj);
    jv_free(first);
    jv_free(best);
    free(cp);
    sk_buf_release(&names);
    sk_buf_release(&plats);
    return rc;
}

static int open_oci(struct ctx *c, const char *ref, struct sk_err *err)
{
    struct sk_buf buf = SK_BUF_INIT, avail = SK_BUF_INIT;
    struct desc d;
    jv doc = jv_invalid(), list = jv_invalid(), top = jv_invalid(), pobj = jv_invalid();
    char where[256], *cp = NULL;
    size_t idx;
    int rc = -1, r;

    snprintf(where, sizeof(where), "%s", oci_index_name);
    if (store_read_file(&c->st, oci_layout_name, &buf, err) < 0) {
        if (err && err->kind == SK_E_USAGE && (c->st.tar || err->sys_errno == ENOENT || err->sys_errno == ENOTDIR))
            sk_errf(err, SK_E_USAGE, "%s: not an OCI layout (no %s)", c->img->path, oci_layout_name);
        goto out;
    }
    if (parse_doc(&buf, oci_layout_name, c->img->path, &doc, err) < 0)
        goto out;
    if (!sk_json_str(doc, "imageLayoutVersion")) {
        sk_errf(err, SK_E_USAGE, "%s: %s has no imageLayoutVersion", c->img->path, oci_layout_name);
        goto out;
    }
    jv_free(doc);
    doc = jv_invalid();
    sk_buf_reset(&buf);
    if (store_read_file(&c->st, oci_index_name, &buf, err) < 0 ||
        parse_doc(&buf, oci_index_name, c->img->path, &doc, err) < 0)
        goto out;
    list = sk_json_get(doc, "manifests");
    if (jv_get_kind(list) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s has no manifests array", oci_index_name, c->img->path);
        goto out;
    }
    if (select_top(c, list, ref, &top, err) < 0 || parse_desc(top, where, &d, err) < 0)
        goto out;
    pobj = sk_json_get(top, "platform");
    cp = platform_of(pobj, "architecture");
    if (!c->o->platform) {
        if (load_desc(c, &d, cp, where, 0, &idx, err) < 0)
            goto out;
    } else if (is_index_mt(d.mt)) {
        r = select_platform(c, &d, where, 0, &avail, &idx, err);
        if (r < 0)
            goto out;
        if (r > 0) {
            sk_errf(err, SK_E_USAGE, "no image for platform '%s' in %s (available: %s)", c->o->platform, c->img->path,
                    avail.len ? avail.p : "none");
            goto out;
        }
    } else {
        if (load_desc(c, &d, cp, where, 0, &idx, err) < 0)
            goto out;
        if (c->img->manifests[idx].platform && !platform_match(c->o->platform, c->img->manifests[idx].platform)) {
            sk_errf(err, SK_E_USAGE, "no image for platform '%s' in %s (the image is %s)", c->o->platform, c->img->path,
                    c->img->manifests[idx].platform);
            goto out;
        }
    }
    rc = 0;
out:
    free(cp);
    jv_free(doc);
    jv_free(list);
    jv_free(top);
    jv_free(pobj);
    sk_buf_release(&buf);
    sk_buf_release(&avail);
    return rc;
}

/* ---- docker-archive ---- */

/* Docker 25+ names blobs "blobs/sha256/<hex>"; legacy configs are "<hex>.json". The hex digits go
 * to hex (NUL-terminated); 0 when the name is not of that shape. */
static int sha_name(const char *name, int allow_json, char hex[65])
{
    struct sk_buf norm = SK_BUF_INIT;
    const char *base;
    size_t dl = strlen(blobs_dir);
    int ok = 0;

    sk_tar_normalize(name, &norm);
    base = strrchr(norm.p, '/');
    base = base ? base + 1 : norm.p;
    if (!strncmp(norm.p, blobs_dir, dl) && is_hex64(norm.p + dl, norm.len - dl))
        ok = 1;
    else if (allow_json && strlen(base) == 69 && !strcmp(base + 64, ".json") && is_hex64(base, 64))
        ok = 1;
    if (ok) {
        memcpy(hex, base, 64);
        hex[64] = '\0';
    }
    sk_buf_release(&norm);
    return ok;
}

/* "repo:tag" in RepoTags matches ref exactly, or with ":latest" added, or without docker.io/library/. */
static void canonical_tag(const char *s, struct sk_buf *out)
{
    const char *slash, *colon;

    if (!strncmp(s, "docker.io/", 10))
        s += 10;
    if (!strncmp(s, "library/", 8))
        s += 8;
    sk_buf_adds(out, s);
    slash = strrchr(s, '/');
    colon = strrchr(s, ':');
    if (!colon || (slash && colon < slash))
        sk_buf_adds(out, ":latest");
}

static int tag_match(const char *ref, const char *tag)
{
    struct sk_buf a = SK_BUF_INIT, b = SK_BUF_INIT;
    int ok;

    canonical_tag(ref, &a);
    canonical_tag(tag, &b);
    ok = !strcmp(a.p, b.p);
    sk_buf_release(&a);
    sk_buf_release(&b);
    return ok;
}

static int select_docker(struct ctx *c, jv list, const char *ref, jv *chosen, struct sk_err *err)
{
    struct sk_buf names = SK_BUF_INIT;
    jv e = jv_invalid(), tags = jv_invalid(), t = jv_invalid();
    size_t n = (size_t)jv_array_length(jv_copy(list)), i, j, nt;
    long want = -1;
    char *end;
    int rc = -1;

    if (ref && ref[0] == '@') {
        errno = 0;
        want = strtol(ref + 1, &end, 10);
        if (errno || end == ref + 1 || *end || want < 0 || (size_t)want >= n) {
            sk_errf(err, SK_E_USAGE, "no image '%s' in %s (%zu images)", ref, c->img->path, n);
            goto out;
        }
    }
    for (i = 0; i < n && want < 0; i++) {
        jv_free(e);
        jv_free(tags);
        e = jv_array_get(jv_copy(list), (int)i);
        tags = sk_json_get(e, "RepoTags");
        nt = jv_get_kind(tags) == JV_KIND_ARRAY ? (size_t)jv_array_length(jv_copy(tags)) : 0;
        for (j = 0; j < nt; j++) {
            jv_free(t);
            t = jv_array_get(jv_copy(tags), (int)j);
            if (jv_get_kind(t) != JV_KIND_STRING)
                continue;
            sk_buf_addf(&names, "%s'%s'", names.len ? ", " : "", jv_string_value(t));
            if (ref && tag_match(ref, jv_string_value(t)))
                want = (long)i;
        }
    }
    if (want < 0 && !ref && n == 1)
        want = 0;
    if (want < 0) {
        if (ref)
            sk_errf(err, SK_E_USAGE, "no image '%s' in %s (available: %s)", ref, c->img->path,
                    names.len ? names.p : "none, no image has a tag");
        else if (!n)
            sk_errf(err, SK_E_USAGE, "no images in %s", c->img->path);
        else
            sk_errf(err, SK_E_USAGE, "%zu images in %s: choose one with :REF (available: %s)", n, c->img->path,
                    names.len ? names.p : "none tagged; use :@N");
        goto out;
    }
    *chosen = jv_array_get(jv_copy(list), (int)want);
    rc = 0;
out:
    jv_free(e);
    jv_free(tags);
    jv_free(t);
    sk_buf_release(&names);
    return rc;
}

static int open_docker(struct ctx *c, const struct sk_tar *tar, const char *ref, struct sk_err *err)
{
    struct sk_buf buf = SK_BUF_INIT, cfgbuf = SK_BUF_INIT;
    const struct sk_tar_entry *te;
    struct sk_manifest *m;
    struct sk_blob b;
    jv list = jv_invalid(), entry = jv_invalid(), cfg = jv_invalid(), layers = jv_invalid(), diffs = jv_invalid(),
       l = jv_invalid(), dv = jv_invalid();
    static const char *const diff_path[] = { "rootfs", "diff_ids", NULL };
    const char *cfgname, *lname, *diff;
    char hex[65];
    int named;
    char cfgdigest[SK_DIGEST_MAX];
    unsigned char magic[4];
    size_t nl, nd, i, n = 0, *idx = NULL, mi;
    long got;
    int rc = -1;

    te = sk_tar_resolve(tar, docker_manifest_name, err);
    if (!te || sk_tar_read(tar, te, DOC_MAX, &buf, err) < 0)
        goto out;
    if (sk_json_parse(buf.p, buf.len, &list, err) < 0) {
        if (err)
            err->kind = SK_E_USAGE;
        sk_err_prefix(err, "%s in %s", docker_manifest_name, c->img->path);
        goto out;
    }
    if (jv_get_kind(list) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s is not a JSON array", docker_manifest_name, c->img->path);
        goto out;
    }
    if (select_docker(c, list, ref, &entry, err) < 0)
        goto out;
    cfgname = sk_json_str(entry, "Config");
    layers = sk_json_get(entry, "Layers");
    if (!cfgname || jv_get_kind(layers) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s: an entry lacks Config or Layers", docker_manifest_name, c->img->path);
        goto out;
    }
    /* the config: its sha256 is the image ID, and names it in both formats */
    te = sk_tar_resolve(tar, cfgname, err);
    if (!te || sk_tar_read(tar, te, DOC_MAX, &cfgbuf, err) < 0)
        goto out;
    sk_digest_of(cfgbuf.p, cfgbuf.len, cfgdigest);
    if (sha_name(cfgname, 1, hex) && strcmp(hex, cfgdigest + 7)) {
        sk_errf(err, SK_E_USAGE, "config %s in %s does not match its digest (sha256 is %s)", cfgname, c->img->path,
                cfgdigest);
        goto out;
    }
    if (parse_doc(&cfgbuf, "config", c->img->path, &cfg, err) < 0)
        goto out;
    diffs = sk_json_path(cfg, diff_path);
    if (jv_get_kind(diffs) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "config %s in %s has no rootfs.diff_ids", cfgname, c->img->path);
        goto out;
    }
    nl = (size_t)jv_array_length(jv_copy(layers));
    nd = (size_t)jv_array_length(jv_copy(diffs));
    if (nl != nd) {
        sk_errf(err, SK_E_USAGE, "%s in %s lists %zu layers but its config has %zu diff_ids", docker_manifest_name,
                c->img->path, nl, nd);
        goto out;
    }
    idx = xcalloc(nl + 1, sizeof(*idx));
    memset(&b, 0, sizeof(b));
    memcpy(b.digest, cfgdigest, sizeof(cfgdigest));
    b.size = cfgbuf.len;
    b.media_type = (char *)SK_MT_DOCKER_CONFIG;
    b.kind = SK_BLOB_MEMORY;
    b.data = (unsigned char *)cfgbuf.p;
    if (add_blob(c, &b, &idx[n++], err) < 0)
        goto out;
    for (i = 0; i < nl; i++) {
        jv_free(l);
        jv_free(dv);
        l = jv_array_get(jv_copy(layers), (int)i);
        dv = jv_array_get(jv_copy(diffs), (int)i);
        lname = jv_get_kind(l) == JV_KIND_STRING ? jv_string_value(l) : NULL;
        diff = jv_get_kind(dv) == JV_KIND_STRING ? jv_string_value(dv) : NULL;
        if (!lname) {
            sk_errf(err, SK_E_USAGE, "%s in %s: layer %zu is not a string", docker_manifest_name, c->img->path, i);
            goto out;
        }
        if (!sk_digest_valid(diff)) {
            sk_errf(err, SK_E_USAGE, "config %s in %s: diff_id %zu is not a sha256 digest", cfgname, c->img->path, i);
            goto out;
        }
        if (!(te = sk_tar_resolve(tar, lname, err)))
            goto out;
        if ((got = sk_tar_peek(tar, te, magic, sizeof(magic), err)) < 0)
            goto out;
        named = sha_name(lname, 0, hex);
        memset(&b, 0, sizeof(b));
        snprintf(b.diff_id, sizeof(b.diff_id), "%s", diff);
        b.path = c->img->path;
        b.offset = te->offset;
        b.src_size = te->size;
        if ((got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) ||
            (got >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)) {
            /* containerd-store exports keep the registry's compressed blobs, named by digest */
            if (!named || magic[0] != 0x1f) {
                sk_errf(err, SK_E_USAGE,
                        "layer %s in %s is compressed: compressed layers in a docker-archive are not supported yet",
                        lname, c->img->path);
                goto out;
            }
            snprintf(b.digest, sizeof(b.digest), "sha256:%s", hex);
            b.size = te->size;
            b.media_type = (char *)SK_MT_DOCKER_LAYER_GZIP;
            b.kind = SK_BLOB_FILE;
        } else {
            if (named && strcmp(hex, diff + 7)) {
                sk_errf(err, SK_E_USAGE, "layer %zu (%s) in %s does not match its diff_id %s", i, lname, c->img->path,
                        diff);
                goto out;
            }
            if (c->o->compress) {
                b.kind = SK_BLOB_GZIP;
                b.media_type = (char *)SK_MT_DOCKER_LAYER_GZIP;
            } else {
                b.kind = SK_BLOB_FILE;
                b.media_type = (char *)SK_MT_DOCKER_LAYER;
                snprintf(b.digest, sizeof(b.digest), "%s", diff);
                b.size = te->size;
            }
        }
        if (add_blob(c, &b, &idx[n++], err) < 0)
            goto out;
    }
    c->img->generated = 1;
    m = new_manifest(c, &mi);
    m->media_type = xstrdup(SK_MT_DOCKER_MANIFEST);
    m->blobs = idx;
    m->nblobs = n;
    idx = NULL;
    m->platform = platform_of(cfg, "architecture");
    if (c->o->platform && m->platform && !platform_match(c->o->platform, m->platform)) {
        sk_errf(err, SK_E_USAGE, "no image for platform '%s' in %s (the image is %s)", c->o->platform, c->img->path,
                m->platform);
        goto out;
    }
    rc = 0;
out:
    jv_free(list);
    jv_free(entry);
    jv_free(cfg);
    jv_free(layers);
    jv_free(diffs);
    jv_free(l);
    jv_free(dv);
    free(idx);
    sk_buf_release(&buf);
    sk_buf_release(&cfgbuf);
    return rc;
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
    unsigned char magic[2];
    const char *kind = NULL, *rest = source;
    char *path = NULL, *ref = NULL;
    size_t i;
    int rc = -1, fd;

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
    if (S_ISDIR(st.st_mode)) {
        if (kind && strcmp(kind, "oci")) {
            sk_errf(err, SK_E_USAGE, "%s: is a directory, not a %s tar", path, kind);
            goto out;
        }
        kind = "oci";
    } else if (kind && !strcmp(kind, "oci")) {
        sk_errf(err, SK_E_USAGE, "%s: not a directory (an OCI layout is a directory; try oci-archive:)", path);
        goto out;
    } else {
        /* `docker save | gzip` is common: say so rather than "bad header checksum" */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t r = read(fd, magic, sizeof(magic));
            close(fd);
            if (r == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
                sk_errf(err, SK_E_USAGE, "%s: a gzip-compressed file; decompress it first (gunzip)", path);
                goto out;
            }
        }
        if (sk_tar_open(&tar, path, err) < 0)
            goto out;
        if (!kind) {
            if (sk_tar_find(&tar, docker_manifest_name))
                kind = "docker-archive";
            else if (sk_tar_find(&tar, oci_layout_name))
                kind = "oci-archive";
            else {
                sk_errf(err, SK_E_USAGE, "%s: not an image archive (no %s and no %s)", path, docker_manifest_name,
                        oci_layout_name);
                goto out;
            }
        }
    }
    img->kind = xstrdup(kind);
    c.st.path = img->path;
    c.st.tar = tar.fd >= 0 ? &tar : NULL;
    if (!strcmp(kind, "docker-archive"))
        rc = open_docker(&c, &tar, ref, err);
    else
        rc = open_oci(&c, ref, err);
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
            io_fail(err, b->path);
        return fd;
    }
    sk_buf_addf(&name, "%s%s", blobs_dir, b->digest + 7);
    fd = layout_open(img->path, name.p, &st, err);
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
