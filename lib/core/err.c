#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sk_errf(struct sk_err *e, enum sk_errkind kind, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return -1;
    e->kind = kind;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int sk_err_prefix(struct sk_err *e, const char *fmt, ...)
{
    char head[256], old[sizeof(e->msg)];
    va_list ap;

    if (!e)
        return -1;
    va_start(ap, fmt);
    vsnprintf(head, sizeof(head), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    {
        size_t hl = strlen(head), ol = strlen(old), cap = sizeof(e->msg) - 1;
        if (hl > cap - 2)
            hl = cap - 2;
        memcpy(e->msg, head, hl);
        memcpy(e->msg + hl, ": ", 2);
        if (ol > cap - hl - 2)
            ol = cap - hl - 2;
        memcpy(e->msg + hl + 2, old, ol);
        e->msg[hl + 2 + ol] = '\0';
    }
    return -1;
}

void sk_err_clear(struct sk_err *e)
{
    if (e)
        memset(e, 0, sizeof(*e));
}

const char *sk_errkind_name(enum sk_errkind kind)
{
    switch (kind) {
    case SK_E_NONE: return "none";
    case SK_E_USAGE: return "usage";
    case SK_E_CONFIG: return "config";
    case SK_E_IO: return "io";
    case SK_E_NET: return "network";
    case SK_E_AWS: return "aws";
    case SK_E_PARSE: return "parse";
    case SK_E_TIMEOUT: return "timeout";
    case SK_E_INTERNAL: return "internal";
    }
    return "unknown";
}
