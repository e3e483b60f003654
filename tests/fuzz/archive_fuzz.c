/*
 * archive_fuzz.c - the tar index (lib/oci/tar.c) and the docker-archive / oci-archive reader
 * (lib/oci/image.c) on arbitrary input.
 *
 * Input starting with "=== " or "REF " is structured archive text (see fuzz_tar.h) turned into a
 * tar with valid checksums and digests; anything else is the tar file itself. Either way it is
 * written to a temp file (the APIs take a path), indexed with sk_tar_open, and opened as an image
 * three times: auto-detected, as docker-archive: and as oci-archive:. Checked:
 *  - no crash, leak or undefined behaviour; a failure is a usage or I/O error with a message;
 *  - every tar entry's data lies inside the file, its name is normalised, resolving a name gives a
 *    regular file whose data reads back whole;
 *  - an opened image is consistent: blob and child indexes in range, every blob region inside the
 *    archive, manifest digests match their bodies; after giving gzip blobs a digest,
 *    sk_image_finalize succeeds and the generated manifests are JSON;
 *  - a tar holding an oci-layout is also extracted (regular files only) to a temp directory and
 *    opened as "oci:DIR", the OCI layout directory reader, with the same checks.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/buf.h"
#include "core/err.h"
#include "fuzz_tar.h"
#include "oci/image.h"
#include "core/json.h"
#include "core/mem.h"
#include "oci/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *tmp_path;

static void cleanup(void)
{
    if (tmp_path)
        unlink(tmp_path);
    free(tmp_path);
    tmp_path = NULL;
}

static void check_failure(int rc, const struct sk_err *err)
{
    if (rc == 0)
        return;
    if ((err->kind != SK_E_USAGE && err->kind != SK_E_IO) || !err->msg[0])
        __builtin_trap();
}

static int normalised(const char *s)
{
    const char *p = s;

    if (s[0] == '/' || (*s && s[strlen(s) - 1] == '/') || strstr(s, "//"))
        return 0;
    while (*p) {
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += len;
        if (*p == '/')
            p++;
    }
    return 1;
}

static void check_resolve(const struct sk_tar *t, const char *name)
{
    const struct sk_tar_entry *e;
    struct sk_err err = { 0 };
    struct sk_buf b = SK_BUF_INIT;
    char peek[16];
    long got;

    e = sk_tar_resolve(t, name, &err);
    if (!e) {
        check_failure(-1, &err);
        return;
    }
    if (e->type != SK_TAR_FILE)
        __builtin_trap();
    if (sk_tar_read(t, e, 1 << 16, &b, &err) == 0) {
        if (b.len != e->size)
            __builtin_trap();
    } else if (e->size <= (1 << 16)) {
        __builtin_trap(); /* the data is inside the file: reading it cannot fail */
    }
    got = sk_tar_peek(t, e, peek, sizeof(peek), &err);
    if (got < 0 || (uint64_t)got != (e->size < sizeof(peek) ? e->size : sizeof(peek)))
        __builtin_trap();
    sk_buf_release(&b);
}

static void check_image(struct sk_image *img, uint64_t file_size);
static void open_image(const char *src, const struct sk_image_opts *o, uint64_t file_size);

static void remember(char ***v, size_t *n, size_t *cap, const char *s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof(**v));
    }
    (*v)[(*n)++] = xstrdup(s);
}

/* Extract the regular files of t under dir, open "oci:dir[:ref]", remove everything again. */
static void check_layout_dir(const struct sk_tar *t, const struct sk_image_opts *o, const char *ref)
{
    struct sk_buf path = SK_BUF_INIT, data = SK_BUF_INIT, src = SK_BUF_INIT;
    char **made = NULL;
    size_t nmade = 0, cap = 0, i, j;
    struct sk_err err = { 0 };
    int fd;

    sk_buf_addf(&path, "%s.d", tmp_path);
    if (mkdir(path.p, 0700) < 0 && errno != EEXIST)
        goto out;
    for (i = 0; i < t->n; i++) {
        const struct sk_tar_entry *e = &t->entries[i];
        if (e->type != SK_TAR_FILE || !e->name[0] || e->size > (1 << 16))
            continue;
        sk_buf_reset(&path);
        sk_buf_addf(&path, "%s.d/", tmp_path);
        /* parents first; names are normalised (no "..", no leading '/') */
        for (j = 0; e->name[j]; j++) {
            if (e->name[j] == '/') {
                sk_buf_add(&path, e->name, j);
                if (mkdir(path.p, 0700) == 0)
                    remember(&made, &nmade, &cap, path.p);
                sk_buf_truncate(&path, path.len - j);
            }
        }
        sk_buf_adds(&path, e->name);
        sk_buf_reset(&data);
        if (sk_tar_read(t, e, 1 << 16, &data, &err) < 0)
            continue;
        fd = open(path.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            continue;
        remember(&made, &nmade, &cap, path.p);
        if (write(fd, data.p, data.len) < 0) {
            /* a short layout is as good an input as any */
        }
        close(fd);
    }
    sk_buf_addf(&src, "oci:%s.d%s%s", tmp_path, ref ? ":" : "", ref ? ref : "");
    open_image(src.p, o, UINT64_MAX);
out:
    for (i = nmade; i-- > 0;) {
        if (unlink(made[i]) < 0)
            rmdir(made[i]);
        free(made[i]);
    }
    free(made);
    sk_buf_reset(&path);
    sk_buf_addf(&path, "%s.d", tmp_path);
    rmdir(path.p);
    sk_buf_release(&path);
    sk_buf_release(&data);
    sk_buf_release(&src);
}

static void check_tar(const char *path, const struct sk_image_opts *o, const char *ref)
{
    struct sk_tar t = SK_TAR_INIT;
    struct sk_err err = { 0 };
    struct sk_buf norm = SK_BUF_INIT, again = SK_BUF_INIT;
    size_t i;
    int rc;

    rc = sk_tar_open(&t, path, &err);
    check_failure(rc, &err);
    if (rc < 0) {
        if (t.fd != -1 || t.entries || t.n)
            __builtin_trap();
        return;
    }
    for (i = 0; i < t.n; i++) {
        const struct sk_tar_entry *e = &t.entries[i];
        if (e->offset % 512 || e->offset > t.file_size || e->size > t.file_size - e->offset)
            __builtin_trap();
        if (!normalised(e->name))
            __builtin_trap();
        sk_tar_normalize(e->name, &norm);
        if (strcmp(norm.p, e->name))
            __builtin_trap();
        if ((e->type == SK_TAR_SYMLINK || e->type == SK_TAR_HARDLINK) != (e->link != NULL))
            __builtin_trap();
        if (i < 8)
            check_resolve(&t, e->name);
        if (e->link) {
            sk_tar_normalize(e->link, &norm);
            sk_tar_normalize(norm.p, &again);
            if (strcmp(norm.p, again.p))
                __builtin_trap();
        }
    }
    check_resolve(&t, "manifest.json");
    check_resolve(&t, "index.json");
    check_resolve(&t, "./oci-layout");
    if (sk_tar_find(&t, "oci-layout"))
        check_layout_dir(&t, o, ref);
    sk_tar_release(&t);
    sk_buf_release(&norm);
    sk_buf_release(&again);
}

static void open_image(const char *src, const struct sk_image_opts *o, uint64_t file_size)
{
    struct sk_image img;
    struct sk_err err = { 0 };
    int rc;

    rc = sk_image_open(src, o, &img, &err);
    if (getenv("SK_FUZZ_DEBUG")) /* seeds should mostly open: show what happened */
        fprintf(stderr, "%s: %s\n", src, rc == 0 ? img.kind : err.msg);
    check_failure(rc, &err);
    if (rc == 0)
        check_image(&img, file_size);
    else if (img.nblobs || img.nmanifests || img.kind || img.path)
        __builtin_trap(); /* a failed open leaves nothing behind */
    sk_image_release(&img);
}

static void check_image(struct sk_image *img, uint64_t file_size)
{
    struct sk_err err = { 0 };
    char digest[SK_DIGEST_MAX];
    size_t i, j;
    jv v;

    if (!img->nmanifests || !img->kind || !img->path)
        __builtin_trap();
    for (i = 0; i < img->nblobs; i++) {
        const struct sk_blob *b = &img->blobs[i];
        if (!b->media_type)
            __builtin_trap();
        if (b->kind == SK_BLOB_MEMORY)
            continue;
        if (!b->path || b->offset > file_size || b->src_size > file_size - b->offset)
            __builtin_trap();
        if (b->kind == SK_BLOB_FILE && (b->size != b->src_size || !sk_digest_valid(b->digest)))
            __builtin_trap();
        if (b->kind == SK_BLOB_GZIP && b->digest[0] && !sk_digest_valid(b->digest))
            __builtin_trap();
    }
    for (i = 0; i < img->nmanifests; i++) {
        const struct sk_manifest *m = &img->manifests[i];
        if (!m->media_type)
            __builtin_trap();
        for (j = 0; j < m->nblobs; j++)
            if (m->blobs[j] >= img->nblobs)
                __builtin_trap();
        for (j = 0; j < m->nchildren; j++)
            if (m->children[j] >= i)
                __builtin_trap(); /* children come before their index */
        if (!img->generated) {
            sk_digest_of(m->body.p, m->body.len, digest);
            if (strcmp(digest, m->digest))
                __builtin_trap();
        }
    }
    /* What the pusher does once the gzip layers are compressed. */
    for (i = 0; i < img->nblobs; i++) {
        if (!img->blobs[i].digest[0]) {
            snprintf(digest, sizeof(digest), "sha256:%064zx", i + 1);
            sk_image_set_blob(img, i, digest, 1000 + i);
        }
    }
    if (sk_image_finalize(img, &err) < 0)
        __builtin_trap();
    for (i = 0; i < img->nmanifests; i++) {
        const struct sk_manifest *m = &img->manifests[i];
        if (!sk_digest_valid(m->digest))
            __builtin_trap();
        if (img->generated) {
            if (sk_json_parse(m->body.p, m->body.len, &v, &err) < 0)
                __builtin_trap();
            jv_free(v);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kinds[] = { "", "docker-archive:", "oci-archive:" };
    struct sk_buf tar = SK_BUF_INIT, src = SK_BUF_INIT;
    struct sk_image_opts o = { NULL, 1 };
    char *ref = NULL;
    size_t k;

    if (!tmp_path) {
        tmp_path = ft_tmp_path("archive");
        atexit(cleanup);
    }
    if (size >= 4 && (!memcmp(data, "=== ", 4) || !memcmp(data, "REF ", 4)))
        ft_build((const char *)data, size, &tar, &ref);
    else
        sk_buf_add(&tar, data, size);
    if (ft_write(tmp_path, tar.p, tar.len) < 0)
        goto out;

    /* The platform filter follows the input's length, so both ways get exercised. */
    o.platform = (size & 1) ? "linux/arm64" : NULL;
    o.compress = !(size & 2);
    check_tar(tmp_path, &o, ref);
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        sk_buf_reset(&src);
        sk_buf_addf(&src, "%s%s%s%s", kinds[k], tmp_path, ref ? ":" : "", ref ? ref : "");
        open_image(src.p, &o, tar.len);
    }
out:
    free(ref);
    sk_buf_release(&tar);
    sk_buf_release(&src);
    return 0;
}
