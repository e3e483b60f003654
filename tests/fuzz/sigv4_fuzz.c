/*
 * sigv4_fuzz.c - the SigV4 canonicaliser and signer on arbitrary requests.
 *
 * The input is a request in the official suite's request.txt form ("METHOD TARGET HTTP/1.1", header
 * lines "Name:value" with whitespace-led continuation lines, a blank line, the body), parsed
 * leniently. Its X-Amz-Date is dropped (the signer owns it) and it is signed with fixed credentials
 * four ways: header and query mode, for a normalising service and for S3, with and without a
 * session token, at a date that follows the input length (so the signing-key cache both hits and
 * evicts). Checked for each:
 *  - no crash, leak or undefined behaviour; a refusal is a usage error with a message;
 *  - signing is deterministic (the second signature comes from the key cache);
 *  - the canonical request is well formed: method, an encoded path (normalised: no empty, "." or
 *    ".." segment), a canonical query of strictly encoded key=value pairs in sorted order, lowercase
 *    header names sorted without duplicates and equal to the signed-headers line, the payload hash;
 *  - the string to sign ends with the canonical request's sha256, the signature is 64 hex digits,
 *    and the Authorization header or the presigned query carries it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "aws/creds.h"
#include "core/err.h"
#include "core/hdr.h"
#include "core/mem.h"
#include "aws/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct req {
    char *method, *path, *query;
    struct sk_headers h;
    const char *body;
    size_t body_len;
};

static void req_release(struct req *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    sk_headers_release(&r->h);
}

static void parse(const char *p, size_t n, struct req *r)
{
    const char *end = p + n, *eol, *sp, *q, *proto, *colon;
    size_t len;

    memset(r, 0, sizeof(*r));
    eol = memchr(p, '\n', n);
    if (!eol)
        eol = end;
    sp = memchr(p, ' ', (size_t)(eol - p));
    if (!sp)
        sp = eol;
    r->method = xstrndup(p, (size_t)(sp - p));
    proto = eol;
    if (eol - sp >= 9 && !memcmp(eol - 9, " HTTP/1.1", 9))
        proto = eol - 9;
    if (sp < proto) {
        sp++;
        q = memchr(sp, '?', (size_t)(proto - sp));
        r->path = xstrndup(sp, (size_t)((q ? q : proto) - sp));
        if (q)
            r->query = xstrndup(q + 1, (size_t)(proto - q - 1));
    } else {
        r->path = xstrdup("");
    }
    p = eol < end ? eol + 1 : end;
    while (p < end && *p != '\n') {
        eol = memchr(p, '\n', (size_t)(end - p));
        len = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if ((*p == ' ' || *p == '\t') && r->h.n) {
            struct sk_header *last = &r->h.v[r->h.n - 1];
            struct sk_buf v = SK_BUF_INIT;
            sk_buf_adds(&v, last->value);
            sk_buf_addch(&v, '\n');
            sk_buf_add(&v, p, len);
            free(last->value);
            last->value = sk_buf_detach(&v, NULL);
        } else {
            colon = memchr(p, ':', len);
            if (colon)
                sk_headers_addn(&r->h, p, (size_t)(colon - p), colon + 1, len - (size_t)(colon - p) - 1);
            else
                sk_headers_addn(&r->h, p, len, "", 0);
        }
        p += len;
        if (p < end)
            p++;
    }
    if (p < end) {
        r->body = p + 1;
        r->body_len = (size_t)(end - p - 1);
    }
    sk_headers_del(&r->h, "X-Amz-Date");
}

static int unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

static int uphex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* Strictly encoded: unreserved bytes and %XX with uppercase hex (and '/' when allowed). */
static int strictly_encoded(const char *s, size_t n, int slash)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (unreserved(s[i]) || (slash && s[i] == '/'))
            continue;
        if (s[i] != '%' || i + 2 >= n || !uphex(s[i + 1]) || !uphex(s[i + 2]))
            return 0;
        i += 2;
    }
    return 1;
}

/* Byte-wise comparison, a prefix first (strcmp's order for strings without NUL). */
static int memcmp_len(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static void check_path(const char *p, size_t n, const struct sk_sigv4_params *pa)
{
    const char *seg = p, *end = p + n;

    if (!pa->double_encode)
        return; /* S3: the path goes in as given */
    if (!strictly_encoded(p, n, 1))
        __builtin_trap();
    if (!pa->normalize_path)
        return;
    if (n == 0 || p[0] != '/')
        __builtin_trap();
    while (seg < end) {
        const char *slash = memchr(seg + 1, '/', (size_t)(end - seg - 1));
        size_t len = (size_t)((slash ? slash : end) - seg - 1);
        /* "/" alone, or a trailing '/', are the only empty segments */
        if ((len == 0 && slash) || (len == 1 && seg[1] == '.') || (len == 2 && seg[1] == '.' && seg[2] == '.'))
            __builtin_trap();
        seg = slash ? slash : end;
    }
}

static void check_query(const char *q, size_t n)
{
    const char *p = q, *end = q + n, *pk = NULL, *pv = NULL;
    size_t pkl = 0, pvl = 0;

    if (n == 0)
        return;
    for (;;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = (size_t)((amp ? amp : end) - p), kl, vl;
        const char *eq = memchr(p, '=', len);
        int c;
        if (!eq)
            __builtin_trap();
        kl = (size_t)(eq - p);
        vl = len - kl - 1;
        if (!strictly_encoded(p, kl, 0) || !strictly_encoded(eq + 1, vl, 0))
            __builtin_trap();
        /* sorted by key, then by value */
        if (pk && ((c = memcmp_len(pk, pkl, p, kl)) > 0 || (c == 0 && memcmp_len(pv, pvl, eq + 1, vl) > 0)))
            __builtin_trap();
        pk = p;
        pkl = kl;
        pv = eq + 1;
        pvl = vl;
        if (!amp)
            break;
        p = amp + 1;
    }
}

static void check_result(const struct sk_sigv4_params *pa, const struct sk_sigv4_result *r)
{
    const char *c = r->canonical_request.p, *line[4], *nl, *sig_line, *hdrs;
    const char *prev_name = NULL;
    size_t prev_len = 0, i;
    struct sk_buf names = SK_BUF_INIT;
    char hash[65];

    /* method \n path \n query \n headers... \n\n signed \n payload */
    for (i = 0; i < 3; i++) {
        line[i] = c;
        nl = strchr(c, '\n');
        if (!nl)
            __builtin_trap();
        c = nl + 1;
    }
    line[3] = c;
    check_path(line[1], (size_t)(line[2] - line[1] - 1), pa);
    check_query(line[2], (size_t)(line[3] - line[2] - 1));
    hdrs = line[3];
    sig_line = strstr(hdrs, "\n\n");
    if (!sig_line)
        __builtin_trap();
    for (c = hdrs; c < sig_line;) {
        const char *colon, *e = memchr(c, '\n', (size_t)(sig_line - c));
        size_t len;
        if (!e)
            e = sig_line;
        colon = memchr(c, ':', (size_t)(e - c));
        if (!colon || colon == c)
            __builtin_trap();
        len = (size_t)(colon - c);
        for (i = 0; i < len; i++)
            if (c[i] >= 'A' && c[i] <= 'Z')
                __builtin_trap();
        if (prev_name && memcmp_len(prev_name, prev_len, c, len) >= 0)
            __builtin_trap(); /* sorted, each name once */
        if (names.len)
            sk_buf_addch(&names, ';');
        sk_buf_add(&names, c, len);
        prev_name = c;
        prev_len = len;
        c = e + 1;
    }
    sig_line += 2;
    nl = strchr(sig_line, '\n');
    if (!nl || (size_t)(nl - sig_line) != names.len || memcmp(sig_line, names.p, names.len))
        __builtin_trap();

    sk_sha256_hex(r->canonical_request.p, r->canonical_request.len, hash);
    nl = strrchr(r->string_to_sign.p, '\n');
    if (!nl || strcmp(nl + 1, hash) || strncmp(r->string_to_sign.p, SK_SIGV4_ALGORITHM "\n", 17))
        __builtin_trap();
    if (strlen(r->signature) != 64 || strspn(r->signature, "0123456789abcdef") != 64)
        __builtin_trap();
    if (pa->mode == SK_SIGV4_HEADER) {
        const char *auth = sk_headers_get(&r->add, "Authorization"), *s;
        if (!auth || !(s = strstr(auth, "Signature=")) || strcmp(s + 10, r->signature))
            __builtin_trap();
    } else {
        size_t ql = r->query.len;
        if (ql < 64 || strcmp(r->query.p + ql - 64, r->signature) || !strstr(r->query.p, "X-Amz-Signature="))
            __builtin_trap();
    }
    sk_buf_release(&names);
}

static void sign_twice(const struct req *q, const struct sk_sigv4_params *pa, const struct sk_creds *cr)
{
    struct sk_sigv4_req sr = { q->method, q->path, q->query, &q->h, q->body, q->body_len };
    struct sk_sigv4_result r1, r2;
    struct sk_err e1 = { 0 }, e2 = { 0 };
    int rc1, rc2;

    sk_sigv4_result_init(&r1);
    sk_sigv4_result_init(&r2);
    rc1 = sk_sigv4_sign(&sr, pa, cr, &r1, &e1);
    rc2 = sk_sigv4_sign(&sr, pa, cr, &r2, &e2);
    if (rc1 != rc2)
        __builtin_trap();
    if (rc1 < 0) {
        if (e1.kind != SK_E_USAGE || !e1.msg[0] || strcmp(e1.msg, e2.msg))
            __builtin_trap();
    } else {
        if (strcmp(r1.signature, r2.signature) || r1.canonical_request.len != r2.canonical_request.len ||
            memcmp(r1.canonical_request.p, r2.canonical_request.p, r1.canonical_request.len) ||
            strcmp(r1.string_to_sign.p, r2.string_to_sign.p))
            __builtin_trap();
        check_result(pa, &r1);
    }
    sk_sigv4_result_release(&r1);
    sk_sigv4_result_release(&r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char akid[] = "AKIDEXAMPLE", secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    static char token[] = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW";
    struct sk_creds plain = { akid, secret, NULL, NULL, 0, "fuzz" };
    struct sk_creds session = { akid, secret, token, NULL, 0, "fuzz" };
    time_t when = (time_t)1440938160 + (time_t)(size % 11) * 86400; /* 2015-08-30T12:36:00Z + days */
    struct sk_sigv4_params p;
    struct req q;

    parse((const char *)data, size, &q);

    sk_sigv4_params_init(&p, "service", "us-east-1", when);
    sign_twice(&q, &p, &plain);
    p.mode = SK_SIGV4_QUERY;
    p.expires = 3600;
    sign_twice(&q, &p, &session);

    sk_sigv4_params_init(&p, "s3", "eu-west-1", when);
    sign_twice(&q, &p, &session);
    p.mode = SK_SIGV4_QUERY;
    p.expires = 604800;
    p.omit_session_token = 1;
    p.payload_hash = SK_SIGV4_UNSIGNED_PAYLOAD;
    sign_twice(&q, &p, &session);

    req_release(&q);
    return 0;
}
