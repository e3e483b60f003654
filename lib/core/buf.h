/*
 * buf.h - an owning, growable, always NUL-terminated byte buffer.
 *
 * struct sk_buf b = SK_BUF_INIT;   p is never NULL and always NUL-terminated.
 * sk_buf_release() frees; sk_buf_detach() hands the memory to the caller (free() it).
 * A buffer marked secret (sk_buf_init_secret) wipes every copy it discards: old storage on growth,
 * and its contents on reset and release. Its storage is sk_secret_alloc's (whole pages kept out of
 * core dumps), so sk_buf_detach hands over a plain heap copy (free it with sk_free_secret). Use it
 * for anything holding key material or user secrets.
 */
#ifndef SK_BUF_H
#define SK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sk_buf {
    char *p;
    size_t len;
    size_t cap; /* 0 while p points at the shared empty string */
    int secret;
};

extern char sk_buf_empty[1];
#define SK_BUF_INIT                                                                                                    \
    {                                                                                                                  \
        sk_buf_empty, 0, 0, 0                                                                                          \
    }

void sk_buf_init(struct sk_buf *b);
void sk_buf_init_secret(struct sk_buf *b);
/* Ensure room for n more bytes plus the NUL. */
void sk_buf_grow(struct sk_buf *b, size_t n);
void sk_buf_add(struct sk_buf *b, const void *p, size_t n);
void sk_buf_adds(struct sk_buf *b, const char *s);
void sk_buf_addch(struct sk_buf *b, char c);
void sk_buf_addf(struct sk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sk_buf_vaddf(struct sk_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append lowercase hex of n bytes. */
void sk_buf_addhex(struct sk_buf *b, const unsigned char *p, size_t n);
/* Drop the contents (wiped if secret) but keep the storage. */
void sk_buf_reset(struct sk_buf *b);
void sk_buf_truncate(struct sk_buf *b, size_t len);
/* Free the storage (wiped if secret); the buffer is SK_BUF_INIT again. Idempotent. */
void sk_buf_release(struct sk_buf *b);
/* Return the heap string (caller frees) and reset b to empty. Never NULL. */
char *sk_buf_detach(struct sk_buf *b, size_t *len);

#endif
