/*
 * tar.h - an index of a tar file, built without reading the entries' data.
 *
 * sk_tar_open() walks the headers (ustar with prefix, GNU 'L'/'K' long names, pax 'x' path=,
 * linkpath=, size=; pax 'g' ignored), verifies each header checksum and seeks over the data. Each
 * entry records its normalised name ("./a//b/" -> "a/b"), type, size and the offset of its data in
 * the file, so blobs inside an archive can be used as regions of it. The file stays open (read-only)
 * until sk_tar_release().
 *
 *   struct sk_tar t = SK_TAR_INIT;
 *   if (sk_tar_open(&t, path, &err) < 0) ...;
 *   e = sk_tar_resolve(&t, "manifest.json", &err);   follows symlinks and hard links
 *   sk_tar_read(&t, e, 4 << 20, &buf, &err);
 *   sk_tar_release(&t);
 */
#ifndef SK_TAR_H
#define SK_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

enum sk_tar_type {
    SK_TAR_FILE,     /* '0', '\0', '7' */
    SK_TAR_DIR,      /* '5' */
    SK_TAR_SYMLINK,  /* '2' */
    SK_TAR_HARDLINK, /* '1' */
    SK_TAR_OTHER,    /* devices, fifos, sparse files...: indexed, never resolved */
};

struct sk_tar_entry {
    char *name; /* normalised: no "./", no leading or trailing '/', no "." or ".." components */
    char *link; /* SYMLINK, HARDLINK: the target as written in the archive; else NULL */
    enum sk_tar_type type;
    uint64_t size;   /* bytes of data (0 for links and directories) */
    uint64_t offset; /* where the data starts in the file */
};

struct sk_tar {
    char *path;
    int fd; /* -1 when closed */
    uint64_t file_size;
    struct sk_tar_entry *entries; /* in archive order */
    size_t n;
};

#define SK_TAR_INIT                                                                                                    \
    {                                                                                                                  \
        NULL, -1, 0, NULL, 0                                                                                           \
    }

/* Index the tar file at path. Failure: SK_E_USAGE "<path>: truncated tar" (EOF inside a header or
 * an entry's data), "<path>: not a tar file (bad header checksum at byte N)", "<path>: bad tar
 * header at byte N (...)" (bad or huge size, malformed pax record), "<path>: <strerror>" when it
 * cannot be opened (sys_errno set); SK_E_IO on a read error. On failure t is released. */
int sk_tar_open(struct sk_tar *t, const char *path, struct sk_err *err);
/* Close the file and free the index; t is SK_TAR_INIT again. NULL-safe, idempotent. */
void sk_tar_release(struct sk_tar *t);

/* The last entry named name (normalised first), without following links; NULL if none. */
const struct sk_tar_entry *sk_tar_find(const struct sk_tar *t, const char *name);
/* The regular file that name designates, following symlinks (relative to the link's directory)
 * and hard links (archive-relative, or relative to the link's directory like go-containerregistry)
 * up to 16 hops. NULL with SK_E_USAGE "<path>: no '<name>' in archive" / "... is not a regular
 * file" / "... too many levels of links". */
const struct sk_tar_entry *sk_tar_resolve(const struct sk_tar *t, const char *name, struct sk_err *err);

/* Append the data of e to out. Fails with SK_E_USAGE "... larger than N bytes" when e->size > max,
 * SK_E_IO on a read error. */
int sk_tar_read(const struct sk_tar *t, const struct sk_tar_entry *e, size_t max, struct sk_buf *out,
                struct sk_err *err);
/* Read up to n bytes of e's data from its start into p; returns the count, or -1 (SK_E_IO). */
long sk_tar_peek(const struct sk_tar *t, const struct sk_tar_entry *e, void *p, size_t n, struct sk_err *err);

/* Normalise a tar member name into out (replacing its contents): strip "./" and '/' runs, drop
 * "." components, resolve ".." (never above the root). */
void sk_tar_normalize(const char *name, struct sk_buf *out);

#endif
