/*
 * err.h - the library's error value.
 *
 * Every fallible library function returns 0 (or a non-NULL pointer) on success and -1 (or NULL) on
 * failure, having filled the caller-owned struct sk_err. The library never prints and never exits;
 * tools map err.kind to an exit code in one place (src/tool.c).
 */
#ifndef SK_ERR_H
#define SK_ERR_H

enum sk_errkind {
    SK_E_NONE = 0,
    SK_E_USAGE,    /* invalid argument or input detected by the library            -> exit 2  */
    SK_E_CONFIG,   /* missing/malformed config, no region, no or expired creds   -> exit 3  */
    SK_E_IO,       /* local file / stdin / stdout; sys_errno is set              -> exit 2  */
    SK_E_NET,      /* DNS/connect/TLS/timeout from libcurl                       -> exit 5  */
    SK_E_AWS,      /* the service returned an error document (aws_code set)      -> exit 4  */
    SK_E_PARSE,    /* a response we could not understand                         -> exit 4  */
    SK_E_TIMEOUT,  /* a --wait deadline expired                                  -> exit 6  */
    SK_E_INTERNAL, /* a bug                                                      -> exit 70 */
};

/* Values of sk_err.retryable, set by the transport and the API layer. */
enum sk_retry_class {
    SK_RETRY_NO = 0,
    SK_RETRY_TRANSIENT, /* 5xx, connection reset/refused, RequestTimeout...   */
    SK_RETRY_TIMEOUT,   /* connect or read timeout (costs more retry quota)  */
    SK_RETRY_THROTTLE,  /* Throttling, TooManyRequestsException, SlowDown... */
};

struct sk_err {
    enum sk_errkind kind;
    int sys_errno;       /* errno for SK_E_IO, 0 otherwise */
    long http_status;    /* HTTP status of the failed response, 0 if none */
    int retryable;       /* enum sk_retry_class */
    char aws_code[96];   /* e.g. "ThrottlingException", "ParameterNotFound" */
    char request_id[96]; /* x-amzn-RequestId / RequestId of the failed call */
    char msg[512];       /* lowercase, no trailing period, no newline */
};

/* Fill e (NULL-safe) with kind and a printf-style message. Always returns -1. */
int sk_errf(struct sk_err *e, enum sk_errkind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "context: old message". Always returns -1. */
int sk_err_prefix(struct sk_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void sk_err_clear(struct sk_err *e);
const char *sk_errkind_name(enum sk_errkind kind);

#endif
