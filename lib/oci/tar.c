/*
 * tar.c - index a tar file: headers only, data is seeked over (POSIX.1-2001 pax, ustar, GNU).
 */
#include "oci/tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"

#define BLOCK 512
#define MAX_META (1u << 20) /* longest GNU 'L'/'K' name or pax header we accept */
#define MAX_HOPS 16

/* Header field offsets and lengths (ustar, POSIX.1-1988 and pax). */
#define H_NAME 0
#define H_NAME_LEN 100
#define H_SIZE 124
#define H_SIZE_LEN 12
#define H_CHKSUM 148
#define H_CHKSUM_LEN 8
#define H_TYPE 156
#define H_LINK 157
#define H_LINK_LEN 100
#define H_MAGIC 257
#define H_PREFIX 345
#define H_PREFIX_LEN 155

/* Attributes carried by 'L', 'K' and 'x' headers to the next real entry. */
struct pending {
    struct sk_buf name, link;
    int has_name, has_link, has_size;
    uint64_t size;
};

static int read_at(int fd, void *p, size_t n, uint64_t off, size_t *got)
{
    ssize_t r;

    *got = 0;
    while (*got < n) {
        r = pread(fd, (char *)p + *got, n - *got, (off_t)(off + *got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

static int io_err(struct sk_err *err, const char *path)
{
    int e = errno;

    sk_errf(err, SK_E_IO, "%s: %s", path, strerror(e));
    if (err)
        err->sys_errno = e;
    return -1;
}

static int is_zero_block(const unsigned char *h)
{
    size_t i;

    for (i = 0; i < BLOCK; i++)
        if (h[i])
            return 0;
    return 1;
}

/* An octal field: leading spaces, digits, then NUL/space/end. -1 if malformed or too large. */
static int parse_octal(const unsigned char *f, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;

    while (i < n && f[i] == ' ')
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v > (UINT64_MAX >> 3))
            return -1;
        v = (v << 3) | (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return -1;
    *out = v;
    return 0;
}

/* The size field: octal, or GNU base-256 (high bit set; negative values refused). */
static int parse_size(const unsigned char *f, uint64_t *out)
{
    uint64_t v;
    size_t i;

    if (!(f[0] & 0x80))
        return parse_octal(f, H_SIZE_LEN, out);
    if (f[0] & 0x40)
        return -1; /* negative */
    v = f[0] & 0x3f;
    for (i = 1; i < H_SIZE_LEN; i++) {
        if (v > (UINT64_MAX >> 8))
            return -1;
        v = (v << 8) | f[i];
    }
    *out = v;
    return 0;
}

/* The stored checksum must equal the sum of the header bytes with the checksum field read as
 * spaces; historic tars summed signed chars, so accept that too. */
static int checksum_ok(const unsigned char *h)
{
    uint64_t want;
    long usum = 0, ssum = 0;
    size_t i;

    if (parse_octal(h + H_CHKSUM, H_CHKSUM_LEN, &want) < 0)
        return 0;
    for (i = 0; i < BLOCK; i++) {
        unsigned char c = (i >= H_CHKSUM && i < H_CHKSUM + H_CHKSUM_LEN) ? ' ' : h[i];
        usum += c;
        ssum += (signed char)c;
    }
    return (uint64_t)usum == want || (ssum >= 0 && (uint64_t)ssum == want);
}

void sk_tar_normalize(const char *name, struct sk_buf *out)
{
    const char *p = name, *end;
    size_t len;

    sk_buf_reset(out);
    while (*p) {
        while (*p == '/')
            p++;
        end = strchr(p, '/');
        if (!end)
            end = p + strlen(p);
        len = (size_t)(end - p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* skip */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            size_t keep = out->len;
            while (keep && out->p[keep - 1] != '/')
                keep--;
            sk_buf_truncate(out, keep ? keep - 1 : 0);
        } else {
            if (out->len)
                sk_buf_addch(out, '/');
            sk_buf_add(out, p, len);
        }
        p = end;
    }
}

/* Copy a possibly unterminated header field. */
static void add_field(struct sk_buf *b, const unsigned char *f, size_t n)
{
    sk_buf_add(b, f, strnlen((const char *)f, n));
}

/* pax extended header records: "<len> <key>=<value>\n". */
static int parse_pax(const char *p, size_t n, struct pending *pd)
{
    size_t pos = 0, len, i, klen;
    const char *rec, *eq;
    uint64_t v;

    while (pos < n) {
        rec = p + pos;
        len = 0;
        for (i = 0; i < n - pos && rec[i] >= '0' && rec[i] <= '9'; i++) {
            if (len > (SIZE_MAX - 9) / 10)
                return -1;
            len = len * 10 + (size_t)(rec[i] - '0');
        }
        if (i == 0 || i >= n - pos || rec[i] != ' ' || len > n - pos || len <= i + 1 || rec[len - 1] != '\n')
            return -1;
        eq = memchr(rec + i + 1, '=', len - i - 2);
        if (!eq)
            return -1;
        klen = (size_t)(eq - (rec + i + 1));
        const char *val = eq + 1;
        size_t vlen = (size_t)(rec + len - 1 - val);
        if (klen == 4 && !memcmp(rec + i + 1, "path", 4)) {
            sk_buf_reset(&pd->name);
            sk_buf_add(&pd->name, val, vlen);
            pd->has_name = 1;
        } else if (klen == 8 && !memcmp(rec + i + 1, "linkpath", 8)) {
            sk_buf_reset(&pd->link);
            sk_buf_add(&pd->link, val, vlen);
            pd->has_link = 1;
        } else if (klen == 4 && !memcmp(rec + i + 1, "size", 4)) {
            if (vlen == 0 || vlen > 19)
                return -1;
            v = 0;
            for (i = 0; i < vlen; i++) {
                if (val[i] < '0' || val[i] > '9')
                    return -1;
                v = v * 10 + (uint64_t)(val[i] - '0');
            }
            pd->size = v;
            pd->has_size = 1;
        }
        pos += len;
    }
    return 0;
}

static void add_entry(struct sk_tar *t, size_t *cap, const char *name, const char *link, enum sk_tar_type type,
                      uint64_t size, uint64_t offset)
{
    struct sk_buf norm = SK_BUF_INIT;
    struct sk_tar_entry *e;

    if (t->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        t->entries = xrealloc(t->entries, *cap * sizeof(*t->entries));
    }
    sk_tar_normalize(name, &norm);
    e = &t->entries[t->n++];
    e->name = sk_buf_detach(&norm, NULL);
    e->link = xstrdup_or_null(link);
    e->type = type;
    e->size = size;
    e->offset = offset;
}

/* An extended header's data: a pax record set ('x'), or a GNU long name ('L') or long link name
 * ('K'); what it says applies to the next entry. */
static int read_meta(struct sk_tar *t, char tf, uint64_t size, uint64_t off, struct sk_buf *meta, struct pending *pd,
                     struct sk_err *err)
{
    struct sk_buf *dst;
    size_t got;

    if (size > MAX_META)
        return sk_errf(err, SK_E_USAGE, "%s: bad tar header at byte %llu (%llu-byte extended header)", t->path,
                       (unsigned long long)off, (unsigned long long)size);
    sk_buf_reset(meta);
    sk_buf_grow(meta, (size_t)size);
    if (read_at(t->fd, meta->p, (size_t)size, off + BLOCK, &got) < 0)
        return io_err(err, t->path);
    if (got < size)
        return sk_errf(err, SK_E_USAGE, "%s: truncated tar", t->path);
    meta->len = (size_t)size;
    meta->p[meta->len] = '\0';
    if (tf == 'x') {
        if (parse_pax(meta->p, meta->len, pd) < 0)
            return sk_errf(err, SK_E_USAGE, "%s: bad tar header at byte %llu (pax record)", t->path,
                           (unsigned long long)off);
        return 0;
    }
    dst = tf == 'L' ? &pd->name : &pd->link;
    sk_buf_reset(dst);
    sk_buf_add(dst, meta->p, strnlen(meta->p, meta->len));
    if (tf == 'L')
        pd->has_name = 1;
    else
        pd->has_link = 1;
    return 0;
}

/* The entry header h describes (its data at off + BLOCK), under the names extended headers gave it. */
static void add_header_entry(struct sk_tar *t, size_t *cap, const unsigned char *h, uint64_t size, uint64_t off,
                             struct pending *pd, struct sk_buf *name, struct sk_buf *link)
{
    enum sk_tar_type type;

    sk_buf_reset(name);
    sk_buf_reset(link);
    if (pd->has_name) {
        sk_buf_add(name, pd->name.p, pd->name.len);
    } else {
        /* POSIX ustar ("ustar\0"00) has a prefix; GNU ("ustar  \0") uses that area otherwise */
        if (!memcmp(h + H_MAGIC, "ustar\0", 6) && h[H_PREFIX]) {
            add_field(name, h + H_PREFIX, H_PREFIX_LEN);
            sk_buf_addch(name, '/');
        }
        add_field(name, h + H_NAME, H_NAME_LEN);
    }
    if (pd->has_link)
        sk_buf_add(link, pd->link.p, pd->link.len);
    else
        add_field(link, h + H_LINK, H_LINK_LEN);
    switch ((char)h[H_TYPE]) {
    case '0':
    case '\0':
    case '7': type = SK_TAR_FILE; break;
    case '1': type = SK_TAR_HARDLINK; break;
    case '2': type = SK_TAR_SYMLINK; break;
    case '5': type = SK_TAR_DIR; break;
    default: type = SK_TAR_OTHER; break;
    }
    /* pre-POSIX tars mark directories with a trailing '/' on a regular entry */
    if (type == SK_TAR_FILE && name->len && name->p[name->len - 1] == '/')
        type = SK_TAR_DIR;
    add_entry(t, cap, name->p, type == SK_TAR_SYMLINK || type == SK_TAR_HARDLINK ? link->p : NULL, type, size,
              off + BLOCK);
    pd->has_name = pd->has_link = pd->has_size = 0;
}

int sk_tar_open(struct sk_tar *t, const char *path, struct sk_err *err)
{
    unsigned char h[BLOCK];
    struct pending pd;
    struct sk_buf name = SK_BUF_INIT, link = SK_BUF_INIT, meta = SK_BUF_INIT;
    struct stat st;
    uint64_t off = 0, size, data_end;
    size_t got, cap = 0;
    char tf;
    int rc = -1;

    memset(&pd, 0, sizeof(pd));
    sk_buf_init(&pd.name);
    sk_buf_init(&pd.link);
    t->path = xstrdup(path);
    t->fd = -1;
    t->file_size = 0;
    t->entries = NULL;
    t->n = 0;
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        sk_errf(err, e == EIO ? SK_E_IO : SK_E_USAGE, "%s: %s", path, strerror(e));
        if (err)
            err->sys_errno = e;
        goto out;
    }
    if (fstat(t->fd, &st) < 0) {
        io_err(err, path);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        sk_errf(err, SK_E_USAGE, "%s: not a regular file", path);
        goto out;
    }
    t->file_size = (uint64_t)st.st_size;
    for (;;) {
        if (read_at(t->fd, h, BLOCK, off, &got) < 0) {
            io_err(err, path);
            goto out;
        }
        if (got == 0)
            break; /* EOF at a block boundary without end blocks: accept, like Go's archive/tar */
        if (got < BLOCK) {
            sk_errf(err, SK_E_USAGE, "%s: truncated tar", path);
            goto out;
        }
        if (is_zero_block(h))
            break; /* the end-of-archive marker (two zero blocks; a lone one ends it as well) */
        if (!checksum_ok(h)) {
            sk_errf(err, SK_E_USAGE, "%s: not a tar file (bad header checksum at byte %llu)", path,
                    (unsigned long long)off);
            goto out;
        }
        if (parse_size(h + H_SIZE, &size) < 0) {
            sk_errf(err, SK_E_USAGE, "%s: bad tar header at byte %llu (size)", path, (unsigned long long)off);
            goto out;
        }
        tf = (char)h[H_TYPE];
        /* links, devices, directories and fifos carry no data whatever their size field says */
        if (tf >= '1' && tf <= '6')
            size = 0;
        else if (pd.has_size && tf != 'x' && tf != 'g' && tf != 'L' && tf != 'K')
            size = pd.size;
        if (size > (uint64_t)INT64_MAX - off - 2 * BLOCK) {
            sk_errf(err, SK_E_USAGE, "%s: bad tar header at byte %llu (size)", path, (unsigned long long)off);
            goto out;
        }
        data_end = off + BLOCK + size;
        if (data_end > t->file_size) {
            sk_errf(err, SK_E_USAGE, "%s: truncated tar", path);
            goto out;
        }
        if ((tf == 'L' || tf == 'K' || tf == 'x') && read_meta(t, tf, size, off, &meta, &pd, err) < 0)
            goto out;
        if (tf != 'L' && tf != 'K' && tf != 'x' && tf != 'g')
            add_header_entry(t, &cap, h, size, off, &pd, &name, &link);
        /* the data is padded to a whole block */
        off = data_end + (BLOCK - size % BLOCK) % BLOCK;
    }
    rc = 0;
out:
    sk_buf_release(&pd.name);
    sk_buf_release(&pd.link);
    sk_buf_release(&name);
    sk_buf_release(&link);
    sk_buf_release(&meta);
    if (rc < 0)
        sk_tar_release(t);
    return rc;
}

void sk_tar_release(struct sk_tar *t)
{
    size_t i;

    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    for (i = 0; i < t->n; i++) {
        free(t->entries[i].name);
        free(t->entries[i].link);
    }
    free(t->entries);
    free(t->path);
    t->path = NULL;
    t->fd = -1;
    t->file_size = 0;
    t->entries = NULL;
    t->n = 0;
}

static const struct sk_tar_entry *find_norm(const struct sk_tar *t, const char *norm)
{
    size_t i;

    /* a later entry with the same name replaces an earlier one, as on extraction */
    for (i = t->n; i-- > 0;)
        if (!strcmp(t->entries[i].name, norm))
            return &t->entries[i];
    return NULL;
}

const struct sk_tar_entry *sk_tar_find(const struct sk_tar *t, const char *name)
{
    struct sk_buf norm = SK_BUF_INIT;
    const struct sk_tar_entry *e;

    sk_tar_normalize(name, &norm);
    e = find_norm(t, norm.p);
    sk_buf_release(&norm);
    return e;
}

/* The link's target relative to the directory holding the link. */
static void relative_target(const char *from, const char *target, struct sk_buf *out)
{
    struct sk_buf tmp = SK_BUF_INIT;
    const char *slash = strrchr(from, '/');

    if (target[0] != '/' && slash)
        sk_buf_add(&tmp, from, (size_t)(slash - from + 1));
    sk_buf_adds(&tmp, target);
    sk_tar_normalize(tmp.p, out);
    sk_buf_release(&tmp);
}

const struct sk_tar_entry *sk_tar_resolve(const struct sk_tar *t, const char *name, struct sk_err *err)
{
    struct sk_buf cur = SK_BUF_INIT, next = SK_BUF_INIT;
    const struct sk_tar_entry *e = NULL, *found = NULL;
    int hops;

    sk_tar_normalize(name, &cur);
    for (hops = 0; hops <= MAX_HOPS; hops++) {
        e = find_norm(t, cur.p);
        if (!e) {
            if (hops)
                sk_errf(err, SK_E_USAGE, "%s: '%s' is a link to '%s', which is not in the archive", t->path, name,
                        cur.p);
            else
                sk_errf(err, SK_E_USAGE, "%s: no '%s' in archive", t->path, name);
            goto out;
        }
        if (e->type == SK_TAR_FILE) {
            found = e;
            goto out;
        }
        if (e->type == SK_TAR_SYMLINK) {
            relative_target(e->name, e->link, &next);
        } else if (e->type == SK_TAR_HARDLINK) {
            /* tar hard links name the target from the archive root; go-containerregistry resolves
             * them from the link's directory, so accept that when the root-relative one is absent */
            sk_tar_normalize(e->link, &next);
            if (!find_norm(t, next.p))
                relative_target(e->name, e->link, &next);
        } else {
            sk_errf(err, SK_E_USAGE, "%s: '%s' is not a regular file", t->path, name);
            goto out;
        }
        sk_buf_reset(&cur);
        sk_buf_add(&cur, next.p, next.len);
    }
    sk_errf(err, SK_E_USAGE, "%s: '%s': too many levels of links", t->path, name);
out:
    sk_buf_release(&cur);
    sk_buf_release(&next);
    return found;
}

int sk_tar_read(const struct sk_tar *t, const struct sk_tar_entry *e, size_t max, struct sk_buf *out,
                struct sk_err *err)
{
    size_t got;

    if (e->size > max)
        return sk_errf(err, SK_E_USAGE, "%s: '%s' is larger than %zu bytes", t->path, e->name, max);
    sk_buf_grow(out, (size_t)e->size);
    if (read_at(t->fd, out->p + out->len, (size_t)e->size, e->offset, &got) < 0)
        return io_err(err, t->path);
    if (got < e->size)
        return sk_errf(err, SK_E_USAGE, "%s: truncated tar", t->path);
    out->len += got;
    out->p[out->len] = '\0';
    return 0;
}

long sk_tar_peek(const struct sk_tar *t, const struct sk_tar_entry *e, void *p, size_t n, struct sk_err *err)
{
    size_t got;

    if (n > e->size)
        n = (size_t)e->size;
    if (read_at(t->fd, p, n, e->offset, &got) < 0)
        return io_err(err, t->path);
    return (long)got;
}
