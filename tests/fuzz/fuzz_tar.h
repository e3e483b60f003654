/*
 * fuzz_tar.h - helpers shared by the archive and image_ref fuzz targets: build a tar in memory
 * (valid checksums, GNU long names), expand the structured archive text, and write a temp file.
 *
 * Structured archive text (what archive_fuzz's seeds mostly are, so mutations keep the tar and the
 * sha256 digests valid and reach the JSON handling behind them):
 *
 *   REF shipkit/test:1          optional first line: the :REF given to sk_image_open
 *   === NAME                    a regular file; its contents are the lines up to the next "\n=== "
 *   === NAME -> TARGET          a symbolic link
 *   === NAME => TARGET          a hard link
 *   === NAME/                   a directory
 *   === %C:NAME                 a member of tar type C ('x' pax, 'g' global pax, 'L'/'K' GNU long
 *                               name/link, '3' device...) with the contents as its data
 *                               In 'x' and 'g' data, a line "? key=value" becomes a pax record
 *                               with its length computed ("<len> key=value\n")
 *   === ^NAME                   the size field in GNU base-256 instead of octal
 *   === +NAME                   a POSIX ustar header: a long name split into prefix and name
 *                               (instead of a GNU 'L' record)
 *
 * "{sha:N}" becomes the sha256 hex of entry N's final contents and "{size:N}" its length in bytes.
 * Entries are numbered from 0 and their contents expanded from the last, so contents refer forward
 * (a backward reference expands to nothing); names may refer to any entry, their own included.
 */
#ifndef SK_FUZZ_TAR_H
#define SK_FUZZ_TAR_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "aws/sigv4.h"

#define FT_BLOCK 512
#define FT_MAX_ENTRIES 64

static inline void ft_octal(unsigned char *f, size_t n, unsigned long long v)
{
    /* n-1 octal digits, then NUL */
    snprintf((char *)f, n, "%0*llo", (int)(n - 1), v);
}

enum ft_flags { FT_B256 = 1 << 0, FT_POSIX = 1 << 1 };

static inline void ft_header(struct sk_buf *out, const char *name, size_t nlen, char type, const char *link,
                             size_t llen, unsigned long long size, int flags)
{
    unsigned char h[FT_BLOCK];
    unsigned long sum = 0;
    size_t i, cut = 0;

    memset(h, 0, sizeof(h));
    if ((flags & FT_POSIX) && nlen > 100) {
        /* prefix/name split at a '/' leaving at most 100 bytes of name and 155 of prefix */
        for (i = nlen - 1; i > 0 && !cut; i--)
            if (name[i] == '/' && nlen - i - 1 <= 100 && i <= 155)
                cut = i;
        if (cut) {
            memcpy(h + 345, name, cut);
            name += cut + 1;
            nlen -= cut + 1;
        }
    }
    memcpy(h, name, nlen < 100 ? nlen : 100);
    ft_octal(h + 100, 8, type == '5' ? 0755 : 0644);
    ft_octal(h + 108, 8, 0);
    ft_octal(h + 116, 8, 0);
    if (flags & FT_B256) {
        h[124] = 0x80;
        for (i = 0; i < 8; i++)
            h[135 - i] = (unsigned char)(size >> (8 * i));
    } else {
        ft_octal(h + 124, 12, size);
    }
    ft_octal(h + 136, 12, 0);
    h[156] = (unsigned char)type;
    if (link)
        memcpy(h + 157, link, llen < 100 ? llen : 100);
    if (flags & FT_POSIX)
        memcpy(h + 257,
               "ustar\0"
               "00",
               8);
    else
        memcpy(h + 257, "ustar  ", 8); /* GNU magic + version */
    memset(h + 148, ' ', 8);
    for (i = 0; i < FT_BLOCK; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06lo", sum);
    h[155] = ' ';
    sk_buf_add(out, h, FT_BLOCK);
}

static inline void ft_pad(struct sk_buf *out)
{
    static const char zero[FT_BLOCK];

    if (out->len % FT_BLOCK)
        sk_buf_add(out, zero, FT_BLOCK - out->len % FT_BLOCK);
}

/* One tar member; without FT_POSIX, names and link targets of 100 bytes or more get a GNU 'L' /
 * 'K' record. */
static inline void ft_add(struct sk_buf *out, const char *name, size_t nlen, char type, const char *link, size_t llen,
                          const void *data, size_t n, int flags)
{
    if (nlen >= 100 && !(flags & FT_POSIX)) {
        ft_header(out, "././@LongLink", 13, 'L', NULL, 0, nlen + 1, 0);
        sk_buf_add(out, name, nlen);
        sk_buf_addch(out, '\0');
        ft_pad(out);
    }
    if (link && llen >= 100) {
        ft_header(out, "././@LongLink", 13, 'K', NULL, 0, llen + 1, 0);
        sk_buf_add(out, link, llen);
        sk_buf_addch(out, '\0');
        ft_pad(out);
    }
    ft_header(out, name, nlen, type, link, llen, n, flags);
    sk_buf_add(out, data, n);
    ft_pad(out);
}

static inline void ft_end(struct sk_buf *out)
{
    static const char zero[2 * FT_BLOCK];

    sk_buf_add(out, zero, sizeof(zero));
}

/* "? key=value" lines of a pax body get their record length; other lines stay as they are. */
static inline void ft_pax_lengths(struct sk_buf *data)
{
    struct sk_buf out = SK_BUF_INIT;
    size_t pos = 0, len, rec, total, digits;
    const char *nl;

    while (pos < data->len) {
        nl = memchr(data->p + pos, '\n', data->len - pos);
        len = nl ? (size_t)(nl - (data->p + pos)) + 1 : data->len - pos;
        if (len >= 2 && data->p[pos] == '?' && data->p[pos + 1] == ' ') {
            rec = len - 2 + (nl ? 0 : 1); /* "key=value\n" */
            for (digits = 1, total = rec + 2;; digits++, total = rec + 1 + digits) {
                size_t d = 1, t = total;
                while (t >= 10) {
                    t /= 10;
                    d++;
                }
                if (d == digits)
                    break;
            }
            sk_buf_addf(&out, "%zu ", total);
            sk_buf_add(&out, data->p + pos + 2, len - 2);
            if (!nl)
                sk_buf_addch(&out, '\n');
        } else {
            sk_buf_add(&out, data->p + pos, len);
        }
        pos += len;
    }
    sk_buf_release(data);
    *data = out;
}

struct ft_entry {
    const char *spec, *body; /* borrowed from the input */
    size_t spec_len, body_len;
    struct sk_buf name, data; /* expanded */
};

/* Expand "{sha:N}" / "{size:N}" in p[0..n) into out, for entries N >= min (already expanded). */
static inline void ft_expand(const char *p, size_t n, struct ft_entry *e, size_t ne, size_t min, struct sk_buf *out)
{
    size_t i = 0, k, idx;
    char hex[65];

    while (i < n) {
        const char *q = p + i;
        int sha = n - i > 5 && !memcmp(q, "{sha:", 5), sz = n - i > 6 && !memcmp(q, "{size:", 6);
        if (sha || sz) {
            k = sha ? 5 : 6;
            idx = 0;
            while (i + k < n && k < 9 && q[k] >= '0' && q[k] <= '9')
                idx = idx * 10 + (size_t)(q[k++] - '0');
            if (i + k < n && q[k] == '}') {
                if (idx >= min && idx < ne) {
                    if (sha) {
                        sk_sha256_hex(e[idx].data.p, e[idx].data.len, hex);
                        sk_buf_adds(out, hex);
                    } else {
                        sk_buf_addf(out, "%zu", e[idx].data.len);
                    }
                }
                i += k + 1;
                continue;
            }
        }
        sk_buf_addch(out, *q);
        i++;
    }
}

static inline const char *ft_memmem(const char *h, size_t hn, const char *needle)
{
    size_t nn = strlen(needle), i;

    for (i = 0; hn >= nn && i <= hn - nn; i++)
        if (!memcmp(h + i, needle, nn))
            return h + i;
    return NULL;
}

/* Structured text -> tar bytes in out; *ref is the REF line (owned) or NULL. */
static inline void ft_build(const char *p, size_t n, struct sk_buf *out, char **ref)
{
    struct ft_entry e[FT_MAX_ENTRIES];
    size_t ne = 0, i, pos = 0;
    const char *nl, *sep;

    *ref = NULL;
    if (n >= 4 && !memcmp(p, "REF ", 4)) {
        nl = memchr(p, '\n', n);
        *ref = xstrndup(p + 4, (nl ? (size_t)(nl - p) : n) - 4);
        pos = nl ? (size_t)(nl - p) + 1 : n;
    }
    while (pos + 4 <= n && !memcmp(p + pos, "=== ", 4) && ne < FT_MAX_ENTRIES) {
        const char *start = p + pos + 4, *end = p + n, *next;
        nl = memchr(start, '\n', (size_t)(end - start));
        e[ne].spec = start;
        e[ne].spec_len = nl ? (size_t)(nl - start) : (size_t)(end - start);
        e[ne].body = nl ? nl + 1 : end;
        next = ft_memmem(e[ne].body, (size_t)(end - e[ne].body), "\n=== ");
        e[ne].body_len = next ? (size_t)(next - e[ne].body) : (size_t)(end - e[ne].body);
        sk_buf_init(&e[ne].name);
        sk_buf_init(&e[ne].data);
        pos = next ? (size_t)(next - p) + 1 : n;
        ne++;
    }
    for (i = ne; i-- > 0;)
        ft_expand(e[i].body, e[i].body_len, e, ne, i + 1, &e[i].data);
    for (i = 0; i < ne; i++) {
        struct sk_buf name = SK_BUF_INIT, target = SK_BUF_INIT;
        char type = '0';
        int flags = 0, raw = 0;
        size_t skip = 0;

        ft_expand(e[i].spec, e[i].spec_len, e, ne, 0, &name);
        for (;;) {
            if (name.len > skip && name.p[skip] == '^') {
                flags |= FT_B256;
                skip++;
            } else if (name.len > skip && name.p[skip] == '+') {
                flags |= FT_POSIX;
                skip++;
            } else if (name.len >= skip + 3 && name.p[skip] == '%' && name.p[skip + 2] == ':') {
                type = name.p[skip + 1];
                raw = 1;
                skip += 3;
            } else {
                break;
            }
        }
        if (skip) {
            memmove(name.p, name.p + skip, name.len - skip);
            sk_buf_truncate(&name, name.len - skip);
        }
        if (raw) {
            /* any type, the contents as its data */
        } else if ((sep = ft_memmem(name.p, name.len, " -> ")) != NULL ||
                   (sep = ft_memmem(name.p, name.len, " => ")) != NULL) {
            type = sep[1] == '-' ? '2' : '1';
            sk_buf_add(&target, sep + 4, name.len - (size_t)(sep - name.p) - 4);
            sk_buf_truncate(&name, (size_t)(sep - name.p));
        } else if (name.len && name.p[name.len - 1] == '/') {
            type = '5';
        }
        if (raw && (type == 'x' || type == 'g'))
            ft_pax_lengths(&e[i].data);
        if (raw)
            ft_add(out, name.p, name.len, type, NULL, 0, e[i].data.p, e[i].data.len, flags);
        else
            ft_add(out, name.p, name.len, type, type == '0' || type == '5' ? NULL : target.p, target.len,
                   type == '0' ? e[i].data.p : "", type == '0' ? e[i].data.len : 0, flags);
        sk_buf_release(&name);
        sk_buf_release(&target);
    }
    ft_end(out);
    for (i = 0; i < ne; i++) {
        sk_buf_release(&e[i].name);
        sk_buf_release(&e[i].data);
    }
}

/* A per-process temp file path "$TMPDIR/sk-fuzz-TAG-PID.tar" (owned). */
static inline char *ft_tmp_path(const char *tag)
{
    const char *d = getenv("TMPDIR");
    struct sk_buf b = SK_BUF_INIT;

    sk_buf_addf(&b, "%s/sk-fuzz-%s-%ld.tar", d && *d ? d : "/tmp", tag, (long)getpid());
    return sk_buf_detach(&b, NULL);
}

/* Write p[0..n) to path, replacing it. 0 or -1. */
static inline int ft_write(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *c = p;
    ssize_t w;

    if (fd < 0)
        return -1;
    while (n > 0) {
        w = write(fd, c, n);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return close(fd);
}

#endif
