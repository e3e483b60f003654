/*
 * image_docker.c - the docker-archive reader (image.h): the tar `docker save` writes, legacy (a
 * manifest.json, configs named "<hex>.json", layers "<id>/layer.tar") and Docker 25+ (the same
 * manifest.json in a tar that is also an OCI layout, blobs named "blobs/sha256/<hex>").
 *
 * Reference: moby's `docker save` formats (legacy manifest.json, and the Docker 25+ tar, moby PR
 * #44598).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/image.h"
#include "oci/image_int.h"
#include "core/json.h"
#include "core/mem.h"
#include "oci/tar.h"

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
    if (!strncmp(norm.p, blobs_dir, dl) && sk_image_is_hex64(norm.p + dl, norm.len - dl))
        ok = 1;
    else if (allow_json && strlen(base) == 69 && !strcmp(base + 64, ".json") && sk_image_is_hex64(base, 64))
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

/* The entry of manifest.json that ref names (or the only one), with a Config and Layers. */
static int read_docker_manifest(struct ctx *c, const struct sk_tar *tar, const char *ref, jv *entry, struct sk_err *err)
{
    struct sk_buf buf = SK_BUF_INIT;
    const struct sk_tar_entry *te;
    jv list = jv_invalid(), layers = jv_invalid();
    int rc = -1;

    *entry = jv_invalid();
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
    if (select_docker(c, list, ref, entry, err) < 0)
        goto out;
    layers = sk_json_get(*entry, "Layers");
    if (!sk_json_str(*entry, "Config") || jv_get_kind(layers) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "%s in %s: an entry lacks Config or Layers", docker_manifest_name, c->img->path);
        goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        jv_free(*entry);
        *entry = jv_invalid();
    }
    jv_free(list);
    jv_free(layers);
    sk_buf_release(&buf);
    return rc;
}

/* The image config cfgname: its sha256 is the image ID, and names it in both formats. Parsed into
 * *cfg, its rootfs.diff_ids (one per layer of the nl) into *diffs; added as the image's first blob
 * (*idx). */
static int load_docker_config(struct ctx *c, const struct sk_tar *tar, const char *cfgname, size_t nl, jv *cfg,
                              jv *diffs, size_t *idx, struct sk_err *err)
{
    static const char *const diff_path[] = { "rootfs", "diff_ids", NULL };
    struct sk_buf cfgbuf = SK_BUF_INIT;
    const struct sk_tar_entry *te;
    struct sk_blob b;
    char hex[65], cfgdigest[SK_DIGEST_MAX];
    size_t nd;
    int rc = -1;

    te = sk_tar_resolve(tar, cfgname, err);
    if (!te || sk_tar_read(tar, te, DOC_MAX, &cfgbuf, err) < 0)
        goto out;
    sk_digest_of(cfgbuf.p, cfgbuf.len, cfgdigest);
    if (sha_name(cfgname, 1, hex) && strcmp(hex, cfgdigest + 7)) {
        sk_errf(err, SK_E_USAGE, "config %s in %s does not match its digest (sha256 is %s)", cfgname, c->img->path,
                cfgdigest);
        goto out;
    }
    if (sk_image_parse_doc(&cfgbuf, "config", c->img->path, cfg, err) < 0)
        goto out;
    *diffs = sk_json_path(*cfg, diff_path);
    if (jv_get_kind(*diffs) != JV_KIND_ARRAY) {
        sk_errf(err, SK_E_USAGE, "config %s in %s has no rootfs.diff_ids", cfgname, c->img->path);
        goto out;
    }
    nd = (size_t)jv_array_length(jv_copy(*diffs));
    if (nl != nd) {
        sk_errf(err, SK_E_USAGE, "%s in %s lists %zu layers but its config has %zu diff_ids", docker_manifest_name,
                c->img->path, nl, nd);
        goto out;
    }
    memset(&b, 0, sizeof(b));
    memcpy(b.digest, cfgdigest, sizeof(cfgdigest));
    b.size = cfgbuf.len;
    b.media_type = (char *)SK_MT_DOCKER_CONFIG;
    b.kind = SK_BLOB_MEMORY;
    b.data = (unsigned char *)cfgbuf.p;
    rc = sk_image_add_blob(c, &b, idx, err);
out:
    sk_buf_release(&cfgbuf);
    return rc;
}

/* Layer i of the image: the tar member lname, whose uncompressed sha256 is diff (a diff_id of
 * cfgname), as a blob (*idx). */
static int add_docker_layer(struct ctx *c, const struct sk_tar *tar, const char *cfgname, size_t i, jv l, jv dv,
                            size_t *idx, struct sk_err *err)
{
    const struct sk_tar_entry *te;
    const char *lname = jv_get_kind(l) == JV_KIND_STRING ? jv_string_value(l) : NULL;
    const char *diff = jv_get_kind(dv) == JV_KIND_STRING ? jv_string_value(dv) : NULL;
    struct sk_blob b;
    unsigned char magic[4];
    char hex[65];
    long got;
    int named;

    if (!lname)
        return sk_errf(err, SK_E_USAGE, "%s in %s: layer %zu is not a string", docker_manifest_name, c->img->path, i);
    if (!sk_digest_valid(diff))
        return sk_errf(err, SK_E_USAGE, "config %s in %s: diff_id %zu is not a sha256 digest", cfgname, c->img->path,
                       i);
    if (!(te = sk_tar_resolve(tar, lname, err)))
        return -1;
    if ((got = sk_tar_peek(tar, te, magic, sizeof(magic), err)) < 0)
        return -1;
    named = sha_name(lname, 0, hex);
    memset(&b, 0, sizeof(b));
    snprintf(b.diff_id, sizeof(b.diff_id), "%s", diff);
    b.path = c->img->path;
    b.offset = te->offset;
    b.src_size = te->size;
    if ((got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) ||
        (got >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)) {
        /* containerd-store exports keep the registry's compressed blobs, named by digest */
        if (!named || magic[0] != 0x1f)
            return sk_errf(err, SK_E_USAGE,
                           "layer %s in %s is compressed: compressed layers in a docker-archive are not supported yet",
                           lname, c->img->path);
        snprintf(b.digest, sizeof(b.digest), "sha256:%s", hex);
        b.size = te->size;
        b.media_type = (char *)SK_MT_DOCKER_LAYER_GZIP;
        b.kind = SK_BLOB_FILE;
    } else {
        if (named && strcmp(hex, diff + 7))
            return sk_errf(err, SK_E_USAGE, "layer %zu (%s) in %s does not match its diff_id %s", i, lname,
                           c->img->path, diff);
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
    return sk_image_add_blob(c, &b, idx, err);
}

/* The image ref names in the docker-archive tar: its entry of manifest.json, the config, each
 * layer, then the manifest to generate (sk_image_finalize builds its body). */
int sk_image_open_docker(struct ctx *c, const struct sk_tar *tar, const char *ref, struct sk_err *err)
{
    struct sk_manifest *m;
    jv entry = jv_invalid(), cfg = jv_invalid(), layers = jv_invalid(), diffs = jv_invalid(), l = jv_invalid(),
       dv = jv_invalid();
    const char *cfgname;
    size_t nl, i, n = 0, *idx = NULL, mi;
    int rc = -1;

    if (read_docker_manifest(c, tar, ref, &entry, err) < 0)
        goto out;
    cfgname = sk_json_str(entry, "Config");
    layers = sk_json_get(entry, "Layers");
    nl = (size_t)jv_array_length(jv_copy(layers));
    idx = xcalloc(nl + 1, sizeof(*idx));
    if (load_docker_config(c, tar, cfgname, nl, &cfg, &diffs, &idx[n++], err) < 0)
        goto out;
    for (i = 0; i < nl; i++) {
        jv_free(l);
        jv_free(dv);
        l = jv_array_get(jv_copy(layers), (int)i);
        dv = jv_array_get(jv_copy(diffs), (int)i);
        if (add_docker_layer(c, tar, cfgname, i, l, dv, &idx[n++], err) < 0)
            goto out;
    }
    c->img->generated = 1;
    m = sk_image_new_manifest(c, &mi);
    m->media_type = xstrdup(SK_MT_DOCKER_MANIFEST);
    m->blobs = idx;
    m->nblobs = n;
    idx = NULL;
    m->platform = sk_image_platform_of(cfg, "architecture");
    if (c->o->platform && m->platform && !sk_image_platform_match(c->o->platform, m->platform)) {
        sk_errf(err, SK_E_USAGE, "no image for platform '%s' in %s (the image is %s)", c->o->platform, c->img->path,
                m->platform);
        goto out;
    }
    rc = 0;
out:
    jv_free(entry);
    jv_free(cfg);
    jv_free(layers);
    jv_free(diffs);
    jv_free(l);
    jv_free(dv);
    free(idx);
    return rc;
}
