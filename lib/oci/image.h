/*
 * image.h - container images read from local sources, as a list of blobs and manifests to push.
 *
 * Sources (skopeo's transport names): "oci:DIR[:REF]", "oci-archive:PATH[:REF]",
 * "docker-archive:PATH[:REF]" (legacy `docker save` and the Docker 25+ layout-inside-tar), or a bare
 * path, auto-detected (a directory with oci-layout is oci:, a tar with manifest.json is
 * docker-archive:, a tar with oci-layout and no manifest.json is oci-archive:).
 *
 * Nothing here touches the network. Blobs are never loaded whole: a blob is a region of a file.
 * Small JSON documents (manifests, indexes, configs) are read, parsed and digest-checked at open.
 * An OCI layout directory is read only from inside: no link below the directory the user named is
 * followed (sk_image_blob_open), so a layout cannot make us read, upload or describe another file.
 */
#ifndef SK_IMAGE_H
#define SK_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SK_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, with room */

#define SK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define SK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define SK_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define SK_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define SK_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define SK_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define SK_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define SK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define SK_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define SK_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define SK_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

enum sk_blob_kind {
    SK_BLOB_FILE,   /* the blob is the bytes path[offset, offset + size) */
    SK_BLOB_GZIP,   /* the blob is gzip(path[offset, offset + src_size)); digest and size are known only
                       once compressed (or from the caller's cache): see sk_image_set_blob() */
    SK_BLOB_MEMORY, /* the blob is data[0, size) */
};

struct sk_blob {
    char digest[SK_DIGEST_MAX]; /* "sha256:<hex>"; "" while unknown (SK_BLOB_GZIP) */
    uint64_t size;              /* 0 while unknown */
    char *media_type;
    enum sk_blob_kind kind;
    char *path;                  /* FILE, GZIP: the file holding the bytes (a directory's blob file, or the archive) */
    uint64_t offset;             /* FILE, GZIP: where they start */
    uint64_t src_size;           /* GZIP: length of the uncompressed bytes; FILE: equals size */
    char diff_id[SK_DIGEST_MAX]; /* layers from docker-archive: sha256 of the uncompressed bytes as
                                    the config's rootfs.diff_ids says; "" otherwise */
    unsigned char *data;         /* MEMORY */
};

struct sk_manifest {
    char digest[SK_DIGEST_MAX]; /* "" until sk_image_finalize() for generated manifests */
    char *media_type;
    struct sk_buf body; /* the exact bytes to PUT */
    size_t *blobs;      /* indexes into sk_image.blobs: config first, then layers in order */
    size_t nblobs;
    size_t *children; /* an index: indexes into sk_image.manifests */
    size_t nchildren;
    char *platform; /* "os/arch[/variant]" when known, else NULL */
};

struct sk_image {
    struct sk_blob *blobs; /* each digest once */
    size_t nblobs;
    struct sk_manifest *manifests; /* children before their index; the last one is the top */
    size_t nmanifests;
    char *kind;    /* "oci", "oci-archive" or "docker-archive" */
    char *path;    /* the source path */
    int generated; /* manifests are built by sk_image_finalize() (docker-archive) */
};

struct sk_image_opts {
    const char *platform; /* "os/arch[/variant]": from an index keep only that image; NULL: all */
    int compress;         /* docker-archive layers: 1 gzip them (SK_BLOB_GZIP), 0 push them as they are */
};

/* Open source. Fails with SK_E_USAGE (exit 2) naming the problem: no such file, unknown format,
 * truncated tar, a missing blob, a manifest or config whose sha256 does not match its digest, a blob
 * whose size differs from its descriptor, an unknown media type, no image matching REF or platform,
 * several images and no REF. Layer contents are not hashed here (they may be gigabytes): the pusher
 * hashes them as it streams and must compare with the digest (or diff_id) before committing. */
int sk_image_open(const char *source, const struct sk_image_opts *o, struct sk_image *img, struct sk_err *err);
void sk_image_release(struct sk_image *img);

/* Open the file that holds the bytes of blob b (SK_BLOB_FILE or SK_BLOB_GZIP) of img, to read from
 * b->offset. In an OCI layout directory, the blob's file is opened as sk_image_open opened it: below
 * the layout without following any link (a link inside a layout is refused, never followed, so
 * nothing outside the layout is read), a regular file of the size its descriptor gives. Otherwise
 * the archive. The descriptor, or -1 (SK_E_USAGE, SK_E_IO). */
int sk_image_blob_open(const struct sk_image *img, const struct sk_blob *b, struct sk_err *err);

/* Record the digest and size of a SK_BLOB_GZIP blob once known (compressed, or from a cache). */
void sk_image_set_blob(struct sk_image *img, size_t i, const char *digest, uint64_t size);

/* For generated (docker-archive) images, once every blob's digest and size are known: build the
 * manifest bodies and digests. A no-op for other images. SK_E_INTERNAL if a digest is missing. */
int sk_image_finalize(struct sk_image *img, struct sk_err *err);

/* sha256 of a whole manifest body, "sha256:<hex>". */
void sk_digest_of(const void *p, size_t n, char out[SK_DIGEST_MAX]);
/* 1 if s is "sha256:" + 64 lowercase hex. */
int sk_digest_valid(const char *s);

#endif
