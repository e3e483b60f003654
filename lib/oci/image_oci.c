/*
 * image_oci.c - the OCI image layout reader (image.h): "oci:DIR" and "oci-archive:PATH" (the same
 * layout inside a tar, as Docker 25+'s `docker save` also writes it).
 *
 * Reference: OCI image-spec v1.1 (image-layout.md, descriptor.md, image-index.md, manifest.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/image.h"
#include "oci/image_int.h"
#include "core/json.h"
#include "core/mem.h"
#include "oci/tar.h"

#define MAX_DEPTH 8                     /* nested indexes */
#define MAX_JSON_INT 9007199254740992.0 /* 2^53: sizes above are not exact in a double */

#define MT_OCI_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_OCI_NONDIST "application/vnd.oci.image.layer.nondistributable."
#define MT_DOCKER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

static const char ann_ref_name[] = "org.opencontainers.image.ref.name";

/* A descriptor's fields, borrowed from its jv. */
struct desc {
    const char *mt;
    const char *digest;
    uint64_t size;
};

/* "sha256:0123456789ab" for messages. */
static const char *short_digest(const char *d, char buf[32])
{
    snprintf(buf, 32, "%.19s", d ? d : "");
    return buf;
}

/* 1 and *idx if the image has the manifest digest already (an index may name it twice). */
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

/* Open name ("index.json", "blobs/sha256/<hex>") of the OCI layout directory root for reading,
 * never leaving the layout: root itself is opened as the user named it, and every component below it
 * with O_NOFOLLOW (directories with O_DIRECTORY), so a link anywhere inside is refused rather than
 * followed, and nothing outside the layout is opened, read or described. The file must be a regular
 * file (O_NONBLOCK: a FIFO cannot hang us). *st is filled. Absent: SK_E_USAGE, sys_errno ENOENT. */
int sk_image_layout_open(const char *root, const char *name, struct stat *st, struct sk_err *err)
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
        sk_image_io_fail(err, name);
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
            return sk_image_io_fail(err, path);
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
    if ((fd = sk_image_layout_open(st->path, name, &sb, err)) < 0)
        return -1;
    rc = read_fd(fd, &sb, name, DOC_MAX, out, err);
    close(fd);
    return rc;
}

/* Find a blob: its file, offset and size. what/where name it in messages. In a directory, fdp (if not
 * NULL) receives the blob's open descriptor (sk_image_layout_open: never a link). */
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
        int fd = sk_image_layout_open(st->path, name.p, &sb, err);
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
    } else if (fstat(fd, &sb) < 0 ? sk_image_io_fail(err, path.p) : read_fd(fd, &sb, path.p, DOC_MAX, out, err) < 0) {
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

/* ---- descriptors and media types ---- */

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

/* ---- manifests and indexes ---- */

/* The config of the manifest doc (where names it): its descriptor checked, its blob read into
 * cfgbuf and checked, its platform (unless platform says it) into *plat, and *b made the blob to
 * add for it. */
static int load_config(struct ctx *c, jv doc, const char *platform, const char *where, char **plat,
                       struct sk_buf *cfgbuf, struct sk_blob *b, struct sk_err *err)
{
    static const char *const config_mts[] = { SK_MT_OCI_CONFIG, SK_MT_DOCKER_CONFIG, MT_OCI_EMPTY };
    struct desc cd;
    jv cfg = sk_json_get(doc, "config"), cfgdoc = jv_invalid();
    size_t i;
    int rc = -1;

    if (!jv_is_valid(cfg)) {
        sk_errf(err, SK_E_USAGE, "%s in %s has no config", where, c->st.path);
        goto out;
    }
    if (parse_desc(cfg, where, &cd, err) < 0)
        goto out;
    for (i = 0; i < sizeof(config_mts) / sizeof(config_mts[0]) && strcmp(cd.mt, config_mts[i]); i++)
        ;
    if (i == sizeof(config_mts) / sizeof(config_mts[0])) {
        sk_errf(err, SK_E_USAGE, "unknown media type '%.100s' in %s of %s", cd.mt, where, c->st.path);
        goto out;
    }
    if (store_read_blob(&c->st, &cd, "config", where, cfgbuf, err) < 0)
        goto out;
    if (strcmp(cd.mt, MT_OCI_EMPTY)) {
        if (sk_image_parse_doc(cfgbuf, "config", where, &cfgdoc, err) < 0)
            goto out;
        *plat = platform ? xstrdup(platform) : sk_image_platform_of(cfgdoc, "architecture");
    } else if (platform) {
        *plat = xstrdup(platform);
    }
    memset(b, 0, sizeof(*b));
    snprintf(b->digest, sizeof(b->digest), "%s", cd.digest);
    b->size = cd.size;
    b->media_type = (char *)config_mts[i]; /* a constant: cd's strings go with cfg */
    b->kind = SK_BLOB_MEMORY;
    b->data = (unsigned char *)cfgbuf->p;
    rc = 0;
out:
    jv_free(cfg);
    jv_free(cfgdoc);
    return rc;
}

/* The layers array of the manifest doc (where names it), each checked and added as a blob, in
 * order, to idx[*n...]. */
static int add_layers(struct ctx *c, jv layers, size_t nl, const char *where, size_t *idx, size_t *n,
                      struct sk_err *err)
{
    struct sk_buf path = SK_BUF_INIT;
    struct sk_blob b;
    struct desc ld;
    jv l = jv_invalid();
    uint64_t off, size;
    size_t i;
    int rc = -1;

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
        if (sk_image_add_blob(c, &b, &idx[(*n)++], err) < 0)
            goto out;
    }
    rc = 0;
out:
    jv_free(l);
    sk_buf_release(&path);
    return rc;
}

/* An image manifest: its body, config and layers. */
static int load_manifest(struct ctx *c, const struct desc *d, const char *platform, const char *parent, size_t *out,
                         struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT, cfgbuf = SK_BUF_INIT;
    struct sk_manifest *m;
    struct sk_blob cb;
    char where[128], sd[32];
    jv doc = jv_invalid(), layers = jv_invalid();
    size_t *idx = NULL, n = 0, nl = 0, mi;
    char *plat = NULL;
    int rc = -1;

    if (find_manifest(c->img, d->digest, out))
        return 0;
    snprintf(where, sizeof(where), "manifest %s", short_digest(d->digest, sd));
    if (store_read_blob(&c->st, d, "manifest", parent, &body, err) < 0 ||
        sk_image_parse_doc(&body, where, c->st.path, &doc, err) < 0 || check_body_mt(doc, d, where, err) < 0)
        goto out;
    if (load_config(c, doc, platform, where, &plat, &cfgbuf, &cb, err) < 0)
        goto out;
    layers = sk_json_get(doc, "layers");
    if (jv_is_valid(layers) && jv_get_kind(layers) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s: layers is not an array", where, c->st.path);
        goto out;
    }
    if (jv_is_valid(layers))
        nl = (size_t)jv_array_length(jv_copy(layers));
    idx = xcalloc(nl + 1, sizeof(*idx));
    if (sk_image_add_blob(c, &cb, &idx[n++], err) < 0 || add_layers(c, layers, nl, where, idx, &n, err) < 0)
        goto out;
    m = sk_image_new_manifest(c, &mi);
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
    jv_free(layers);
    sk_buf_release(&body);
    sk_buf_release(&cfgbuf);
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
        sk_image_parse_doc(body, where, c->st.path, &doc, err) < 0 || check_body_mt(doc, d, where, err) < 0)
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
        cp = sk_image_platform_of(pobj, "architecture");
        if (load_desc(c, &cd, cp, where, depth + 1, &kids[i], err) < 0)
            goto out;
    }
    m = sk_image_new_manifest(c, &mi);
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
        cp = sk_image_platform_of(pobj, "architecture");
        if (is_index_mt(cd.mt)) {
            r = select_platform(c, &cd, where, depth + 1, avail, out, err);
            if (r <= 0)
                rc = r;
        } else if (is_manifest_mt(cd.mt)) {
            if (cp && sk_image_platform_match(c->o->platform, cp)) {
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
        cp = sk_image_platform_of(pobj, "architecture");
        name = sk_json_str(ann, ann_ref_name);
        if (name)
            sk_buf_addf(&names, "%s'%s'", names.len ? ", " : "", name);
        if (ref && (!name || strcmp(name, ref)))
            continue;
        if (!nref++)
            first = jv_copy(d);
        if (cp)
            sk_buf_addf(&plats, "%s%s", plats.len ? ", " : "", cp);
        if (c->o->platform && cp && sk_image_platform_match(c->o->platform, cp) && !jv_is_valid(best))
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

int sk_image_open_oci(struct ctx *c, const char *ref, struct sk_err *err)
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
    if (sk_image_parse_doc(&buf, oci_layout_name, c->img->path, &doc, err) < 0)
        goto out;
    if (!sk_json_str(doc, "imageLayoutVersion")) {
        sk_errf(err, SK_E_USAGE, "%s: %s has no imageLayoutVersion", c->img->path, oci_layout_name);
        goto out;
    }
    jv_free(doc);
    doc = jv_invalid();
    sk_buf_reset(&buf);
    if (store_read_file(&c->st, oci_index_name, &buf, err) < 0 ||
        sk_image_parse_doc(&buf, oci_index_name, c->img->path, &doc, err) < 0)
        goto out;
    list = sk_json_get(doc, "manifests");
    if (jv_get_kind(list) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s has no manifests array", oci_index_name, c->img->path);
        goto out;
    }
    if (select_top(c, list, ref, &top, err) < 0 || parse_desc(top, where, &d, err) < 0)
        goto out;
    pobj = sk_json_get(top, "platform");
    cp = sk_image_platform_of(pobj, "architecture");
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
        if (c->img->manifests[idx].platform &&
            !sk_image_platform_match(c->o->platform, c->img->manifests[idx].platform)) {
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
