/*
 * image_int.h - what the image readers share (image.c, image_oci.c, image_docker.c); not part of
 * the library's interface (image.h is).
 */
#ifndef SK_IMAGE_INT_H
#define SK_IMAGE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jv.h>

#include "core/buf.h"
#include "core/err.h"
#include "oci/image.h"
#include "oci/tar.h"

#define DOC_MAX (4u << 20) /* largest manifest, index or config we read into memory */

static const char oci_layout_name[] = "oci-layout";
static const char oci_index_name[] = "index.json";
static const char docker_manifest_name[] = "manifest.json";
static const char blobs_dir[] = "blobs/sha256/";

/* Where content-addressed blobs come from: an OCI layout directory, or the same inside a tar. */
struct store {
    const char *path;
    const struct sk_tar *tar; /* NULL for a directory */
};

/* The image being read. */
struct ctx {
    struct sk_image *img;
    const struct sk_image_opts *o;
    struct store st;
    size_t blob_cap, man_cap;
};

/* image.c */

/* 1 if s[0..n) is 64 lowercase hex digits. */
int sk_image_is_hex64(const char *s, size_t n);
/* Add b to the image unless a blob with its digest (or, digest unknown, its diff_id and kind) is
 * there: *idx is its index. Copies media_type, path and data. */
int sk_image_add_blob(struct ctx *c, const struct sk_blob *b, size_t *idx, struct sk_err *err);
/* A new, empty manifest at the end of the list; *idx is its index. */
struct sk_manifest *sk_image_new_manifest(struct ctx *c, size_t *idx);
/* SK_E_IO for path from errno. Always returns -1. */
int sk_image_io_fail(struct sk_err *err, const char *path);
/* Parse b as a JSON object; what and where name it in messages (SK_E_USAGE). */
int sk_image_parse_doc(const struct sk_buf *b, const char *what, const char *where, jv *out, struct sk_err *err);
/* "os/arch[/variant]" from a platform object or an image config (owned); NULL if os or arch is
 * missing. */
char *sk_image_platform_of(jv obj, const char *arch_key);
/* want "linux/arm64" matches "linux/arm64/v8"; a variant in want must match exactly. */
int sk_image_platform_match(const char *want, const char *have);

/* image_oci.c */

/* Open name of the OCI layout directory root without leaving it (see the definition). */
int sk_image_layout_open(const char *root, const char *name, struct stat *st, struct sk_err *err);
/* Read the OCI layout c->st (a directory, or a tar) and the image ref names (or the only one). */
int sk_image_open_oci(struct ctx *c, const char *ref, struct sk_err *err);

/* image_docker.c */

/* Read the docker-archive tar: the image ref names (or the only one). */
int sk_image_open_docker(struct ctx *c, const struct sk_tar *tar, const char *ref, struct sk_err *err);

#endif
