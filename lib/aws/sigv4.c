/*
 * SigV4 signing. Step names follow the AWS docs ("create a canonical request", "create a string to
 * sign", "calculate the signature",
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), checked against the
 * official suite (tests/unit/sigv4-suite) and botocore.
 */
#include "aws/sigv4.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/mem.h"
#include "core/uri.h"

/* Headers the SDKs never sign (aws-c-auth skip list ∪ botocore SIGNED_HEADERS_BLACKLIST). */
static const char *const skip_headers[] = {
    "authorization",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "sec-websocket-key",
    "sec-websocket-protocol",
    "sec-websocket-version",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
};

/* Headers and parameters the signer owns; a request that already has one is refused. */
static const char *const owned_headers[] = {
    "x-amz-date", "x-amz-content-sha256", "authorization", "x-amz-security-token", "x-amz-region-set",
};
static const char *const owned_params[] = {
    "X-Amz-Signature",     "X-Amz-Date",           "X-Amz-Credential", "X-Amz-Algorithm",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Expires",    "X-Amz-Region-Set",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int in_list(const char *s, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcasecmp(s, list[i]) == 0)
            return 1;
    return 0;
}

void sk_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    static const char hex[] = "0123456789abcdef";
    int i;

    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static void hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len);
}

void sk_amz_date(time_t t, char out[17])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int sk_parse_amz_date(const char *s, time_t *out)
{
    struct tm tm = { 0 };
    int i;

    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return -1;
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    {
        /* timegm normalises 31 February into March: accept only dates that survive the round trip. */
        struct tm want = tm, back;
        time_t t = timegm(&tm); /* normalises tm in place */
        gmtime_r(&t, &back);
        if (back.tm_mday != want.tm_mday || back.tm_mon != want.tm_mon || back.tm_hour != want.tm_hour ||
            back.tm_sec != want.tm_sec)
            return -1;
        *out = t;
    }
    return 0;
}

void sk_sigv4_params_init(struct sk_sigv4_params *p, const char *service, const char *region, time_t when)
{
    int s3 = strcmp(service, "s3") == 0;

    memset(p, 0, sizeof(*p));
    p->service = service;
    p->region = region;
    p->when = when;
    p->mode = SK_SIGV4_HEADER;
    p->normalize_path = !s3;
    p->double_encode = !s3;
    p->sign_body_header = s3;
}

void sk_sigv4_result_init(struct sk_sigv4_result *r)
{
    memset(r, 0, sizeof(*r));
    /* The canonical request and a presigned query carry the session token: wipe them when freed. */
    sk_buf_init_secret(&r->canonical_request);
    sk_buf_init(&r->string_to_sign);
    sk_buf_init_secret(&r->query);
    sk_buf_init(&r->signed_headers);
    sk_buf_init(&r->payload_hash);
}

void sk_sigv4_result_release(struct sk_sigv4_result *r)
{
    sk_buf_release(&r->canonical_request);
    sk_buf_release(&r->string_to_sign);
    sk_buf_release(&r->query);
    sk_buf_release(&r->signed_headers);
    sk_buf_release(&r->payload_hash);
    sk_headers_release(&r->add);
    sk_wipe(r->signature, sizeof(r->signature));
}

/* ---- signing key cache ------------------------------------------------------------------------
 * kSigning depends only on (secret, date, region, service). Cache a few, keyed by the access key
 * id and a hash of the secret (never the secret itself), so rotation invalidates naturally. */

#define KEY_CACHE_SIZE 8

struct key_entry {
    int used;
    unsigned long stamp;
    char akid[128];
    char secret_hash[65];
    char date[9];
    char region[64];
    char service[64];
    unsigned char key[32];
};

static struct key_entry key_cache[KEY_CACHE_SIZE];
static unsigned long key_clock;
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

static void derive_key(const struct sk_creds *c, const char *date, const char *region, const char *service,
                       unsigned char out[32])
{
    char secret_hash[65];
    struct sk_buf k = SK_BUF_INIT;
    unsigned char t1[32], t2[32];
    struct key_entry *e, *victim = &key_cache[0];
    int cacheable = strlen(c->access_key_id) < sizeof(e->akid) && strlen(region) < sizeof(e->region) &&
                    strlen(service) < sizeof(e->service);
    size_t i;

    sk_sha256_hex(c->secret_access_key, strlen(c->secret_access_key), secret_hash);
    pthread_mutex_lock(&key_lock);
    for (i = 0; cacheable && i < KEY_CACHE_SIZE; i++) {
        e = &key_cache[i];
        if (e->used && strcmp(e->akid, c->access_key_id) == 0 && strcmp(e->secret_hash, secret_hash) == 0 &&
            strcmp(e->date, date) == 0 && strcmp(e->region, region) == 0 && strcmp(e->service, service) == 0) {
            e->stamp = ++key_clock;
            memcpy(out, e->key, 32);
            pthread_mutex_unlock(&key_lock);
            return;
        }
        if (!e->used || e->stamp < victim->stamp)
            victim = e;
    }
    pthread_mutex_unlock(&key_lock);

    sk_buf_init_secret(&k);
    sk_buf_adds(&k, "AWS4");
    sk_buf_adds(&k, c->secret_access_key);
    hmac(k.p, k.len, date, strlen(date), t1);   /* kDate */
    hmac(t1, 32, region, strlen(region), t2);   /* kRegion */
    hmac(t2, 32, service, strlen(service), t1); /* kService */
    hmac(t1, 32, "aws4_request", 12, out);      /* kSigning */
    sk_buf_release(&k);
    sk_wipe(t1, sizeof(t1));
    sk_wipe(t2, sizeof(t2));

    if (!cacheable)
        return;
    pthread_mutex_lock(&key_lock);
    sk_wipe(victim->key, sizeof(victim->key));
    victim->used = 1;
    victim->stamp = ++key_clock;
    snprintf(victim->akid, sizeof(victim->akid), "%s", c->access_key_id);
    memcpy(victim->secret_hash, secret_hash, sizeof(secret_hash));
    snprintf(victim->date, sizeof(victim->date), "%s", date);
    snprintf(victim->region, sizeof(victim->region), "%s", region);
    snprintf(victim->service, sizeof(victim->service), "%s", service);
    memcpy(victim->key, out, 32);
    pthread_mutex_unlock(&key_lock);
}

/* ---- canonical pieces ------------------------------------------------------------------------ */

struct qparam {
    char *k, *v; /* strictly encoded */
};

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

struct qlist {
    struct qparam *v;
    size_t n, cap;
};

static void qlist_add_encoded(struct qlist *q, const char *k, size_t klen, const char *v, size_t vlen)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
    }
    q->v[q->n].k = xstrndup(k, klen);
    q->v[q->n].v = xstrndup(v, vlen);
    q->n++;
}

/* Add a raw (unencoded) key/value, strictly encoding both. */
static void qlist_add_raw(struct qlist *q, const char *k, const char *v)
{
    struct sk_buf ek = SK_BUF_INIT, ev = SK_BUF_INIT;

    sk_buf_init_secret(&ev); /* may be the session token */
    sk_uri_encodes(&ek, k, 0);
    sk_uri_encodes(&ev, v, 0);
    qlist_add_encoded(q, ek.p, ek.len, ev.p, ev.len);
    sk_buf_release(&ek);
    sk_buf_release(&ev);
}

static void qlist_release(struct qlist *q)
{
    size_t i;

    for (i = 0; i < q->n; i++) {
        free(q->v[i].k);
        sk_free_secret(q->v[i].v);
    }
    free(q->v);
    memset(q, 0, sizeof(*q));
}

/* Split the raw query, decode, re-encode strictly ("canonical query string" in the page above). In query mode also
 * refuse parameters the signer owns. */
static int parse_query(const char *query, struct qlist *q, int presign, struct sk_err *err)
{
    struct sk_buf dk = SK_BUF_INIT, dv = SK_BUF_INIT, ek = SK_BUF_INIT, ev = SK_BUF_INIT;
    const char *p = query;
    int rc = -1;

    sk_buf_init_secret(&dv); /* query values can be tokens or signatures */
    sk_buf_init_secret(&ev);
    while (p && *p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;

        if (len) {
            sk_buf_reset(&dk);
            sk_buf_reset(&dv);
            sk_buf_reset(&ek);
            sk_buf_reset(&ev);
            if (sk_uri_decode(&dk, p, klen, err) < 0 || (eq && sk_uri_decode(&dv, eq + 1, len - klen - 1, err) < 0)) {
                sk_err_prefix(err, "query string");
                goto out;
            }
            if (presign && in_list(dk.p, owned_params, NELEM(owned_params))) {
                sk_errf(err, SK_E_USAGE, "query already has a '%s' parameter", dk.p);
                goto out;
            }
            sk_uri_encode(&ek, dk.p, dk.len, 0);
            sk_uri_encode(&ev, dv.p, dv.len, 0);
            qlist_add_encoded(q, ek.p, ek.len, ev.p, ev.len);
        }
        p += len;
        if (*p == '&')
            p++;
    }
    rc = 0;
out:
    sk_buf_release(&dk);
    sk_buf_release(&dv);
    sk_buf_release(&ek);
    sk_buf_release(&ev);
    return rc;
}

struct chdr {
    char *name;  /* lowercase */
    char *value; /* trimmed */
    size_t order;
};

static int chdr_cmp(const void *a, const void *b)
{
    const struct chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Trim leading/trailing whitespace and collapse inner runs (including folded lines) to one space. */
static char *trim_value(const char *v)
{
    struct sk_buf b = SK_BUF_INIT;
    int pending = 0;

    sk_buf_init_secret(&b);
    for (; *v; v++) {
        if (isspace((unsigned char)*v)) {
            pending = b.len > 0;
            continue;
        }
        if (pending)
            sk_buf_addch(&b, ' ');
        pending = 0;
        sk_buf_addch(&b, *v);
    }
    return sk_buf_detach(&b, NULL);
}

/* ---- shared by the stages ------------------------------------------------------------------- */

static int check_inputs(const struct sk_sigv4_params *p, const struct sk_creds *creds, struct sk_err *err)
{
    if (!creds || !creds->access_key_id || !*creds->access_key_id || !creds->secret_access_key ||
        !*creds->secret_access_key)
        return sk_errf(err, SK_E_CONFIG, "credentials are incomplete: an access key id and a secret key are needed");
    if (!p->region || !*p->region || !p->service || !*p->service)
        return sk_errf(err, SK_E_USAGE, "signing needs a region and a service name");
    if (p->mode == SK_SIGV4_QUERY && (p->expires < 1 || p->expires > SK_SIGV4_MAX_EXPIRES))
        return sk_errf(err, SK_E_USAGE, "presign expiry must be 1..%d seconds, not %ld", SK_SIGV4_MAX_EXPIRES,
                       p->expires);
    return 0;
}

/* The session token is signed (a header or parameter of the canonical request) unless the caller
 * attaches it after signing. */
static int signs_token(const struct sk_sigv4_params *p, const struct sk_creds *creds)
{
    return creds->session_token && *creds->session_token && !p->omit_session_token;
}

void sk_sigv4_scope(const char *amz_date, const char *region, const char *service, struct sk_buf *out)
{
    sk_buf_addf(out, "%.8s/%s/%s/aws4_request", amz_date, region, service);
}

/* "AKID/<scope>": X-Amz-Credential, and Credential= of the Authorization header. */
static void credential(const struct sk_creds *creds, const struct sk_sigv4_params *p, const char *amz_date,
                       struct sk_buf *out)
{
    sk_buf_addf(out, "%s/", creds->access_key_id);
    sk_sigv4_scope(amz_date, p->region, p->service, out);
}

/* The X-Amz-* parameters of a presigned request, in the suite's order: part of the canonical query
 * (stage 1) and of the query sent (stage 4). */
static void presign_params(const struct sk_sigv4_params *p, const struct sk_creds *creds,
                           const struct sk_sigv4_result *r, struct qlist *q)
{
    struct sk_buf cred = SK_BUF_INIT;
    char expires[24];

    credential(creds, p, r->amz_date, &cred);
    snprintf(expires, sizeof(expires), "%ld", p->expires);
    qlist_add_raw(q, "X-Amz-Algorithm", SK_SIGV4_ALGORITHM);
    qlist_add_raw(q, "X-Amz-Credential", cred.p);
    qlist_add_raw(q, "X-Amz-Date", r->amz_date);
    qlist_add_raw(q, "X-Amz-SignedHeaders", r->signed_headers.p);
    qlist_add_raw(q, "X-Amz-Expires", expires);
    if (signs_token(p, creds))
        qlist_add_raw(q, "X-Amz-Security-Token", creds->session_token);
    sk_buf_release(&cred);
}

/* ---- stage 1: the canonical request ------------------------------------------------------------ */

struct chdrs {
    struct chdr *v;
    size_t n;
};

static void chdrs_add(struct chdrs *h, const char *name, const char *value)
{
    h->v[h->n].name = xstrdup(name);
    h->v[h->n].value = xstrdup(value);
    h->v[h->n].order = h->n;
    h->n++;
}

static void chdrs_release(struct chdrs *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        free(h->v[i].name);
        sk_free_secret(h->v[i].value);
    }
    free(h->v);
    memset(h, 0, sizeof(*h));
}

/* The request's own headers, lowercased and trimmed, minus the skip list; room for the 3 we add. */
static int request_headers(const struct sk_headers *rh, struct chdrs *h, struct sk_err *err)
{
    int has_host = 0;
    size_t i, j;

    h->v = xcalloc((rh ? rh->n : 0) + 4, sizeof(*h->v));
    for (i = 0; rh && i < rh->n; i++) {
        const char *name = rh->v[i].name;
        struct chdr *c = &h->v[h->n];

        if (in_list(name, owned_headers, NELEM(owned_headers)))
            return sk_errf(err, SK_E_USAGE, "request already has a '%s' header", name);
        if (in_list(name, skip_headers, NELEM(skip_headers)))
            continue;
        if (!*name || strpbrk(name, " \t\r\n:"))
            return sk_errf(err, SK_E_USAGE, "invalid header name '%s'", name);
        c->name = xstrdup(name);
        for (j = 0; c->name[j]; j++)
            c->name[j] = (char)tolower((unsigned char)c->name[j]);
        has_host |= strcmp(c->name, "host") == 0;
        c->value = trim_value(rh->v[i].value);
        c->order = h->n;
        h->n++;
    }
    if (!has_host)
        return sk_errf(err, SK_E_USAGE, "request has no Host header");
    return 0;
}

/* The canonical headers, sorted by name (repeated names keep their order); in header mode with the
 * ones stage 4 adds. Their distinct names, ';'-joined, go to r->signed_headers. */
static int canonical_headers(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p,
                             const struct sk_creds *creds, struct sk_sigv4_result *r, struct chdrs *h,
                             struct sk_err *err)
{
    size_t i;

    if (request_headers(req->headers, h, err))
        return -1;
    if (p->mode == SK_SIGV4_HEADER) {
        chdrs_add(h, "x-amz-date", r->amz_date);
        if (signs_token(p, creds))
            chdrs_add(h, "x-amz-security-token", creds->session_token);
        if (p->sign_body_header)
            chdrs_add(h, "x-amz-content-sha256", r->payload_hash.p);
    }
    qsort(h->v, h->n, sizeof(*h->v), chdr_cmp);
    sk_buf_reset(&r->signed_headers);
    for (i = 0; i < h->n; i++) {
        if (i && strcmp(h->v[i].name, h->v[i - 1].name) == 0)
            continue;
        if (r->signed_headers.len)
            sk_buf_addch(&r->signed_headers, ';');
        sk_buf_adds(&r->signed_headers, h->v[i].name);
    }
    return 0;
}

/* "HashedPayload" in the page above: the caller's (UNSIGNED-PAYLOAD for S3 presigning) or the body's. */
static void payload_hash(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p, struct sk_buf *out)
{
    char hex[65];

    sk_buf_reset(out);
    if (p->payload_hash) {
        sk_buf_adds(out, p->payload_hash);
        return;
    }
    sk_sha256_hex(req->body ? req->body : "", req->body ? req->body_len : 0, hex);
    sk_buf_adds(out, hex);
}

static void add_canonical_path(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p, struct sk_buf *c)
{
    const char *rp = req->path && *req->path ? req->path : "/";
    struct sk_buf path = SK_BUF_INIT;

    if (p->normalize_path)
        sk_uri_normalize_path(&path, rp, strlen(rp));
    else
        sk_buf_adds(&path, rp);
    if (p->double_encode)
        sk_uri_encode(c, path.p, path.len, 1);
    else
        sk_buf_add(c, path.p, path.len);
    sk_buf_release(&path);
}

static void add_canonical_query(const struct qlist *q, struct sk_buf *c)
{
    struct qparam *sorted = xmalloc((q->n ? q->n : 1) * sizeof(*sorted));
    size_t i;

    if (q->n)
        memcpy(sorted, q->v, q->n * sizeof(*sorted));
    qsort(sorted, q->n, sizeof(*sorted), qparam_cmp);
    for (i = 0; i < q->n; i++)
        sk_buf_addf(c, "%s%s=%s", i ? "&" : "", sorted[i].k, sorted[i].v);
    free(sorted);
}

/* name:value lines; a repeated name's values join with ','. */
static void add_canonical_headers(const struct chdrs *h, struct sk_buf *c)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        if (i && strcmp(h->v[i].name, h->v[i - 1].name) == 0) {
            sk_buf_addch(c, ',');
            sk_buf_adds(c, h->v[i].value);
            continue;
        }
        if (i)
            sk_buf_addch(c, '\n');
        sk_buf_addf(c, "%s:%s", h->v[i].name, h->v[i].value);
    }
}

int sk_sigv4_canonical_request(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p,
                               const struct sk_creds *creds, struct sk_sigv4_result *r, struct sk_err *err)
{
    struct chdrs h = { NULL, 0 };
    struct qlist q = { 0 };
    struct sk_buf *c = &r->canonical_request;
    int rc = -1;

    if (check_inputs(p, creds, err))
        return -1;
    sk_amz_date(p->when, r->amz_date);
    payload_hash(req, p, &r->payload_hash);
    if (canonical_headers(req, p, creds, r, &h, err))
        goto out;
    /* In query mode the X-Amz-* parameters take part. */
    if (parse_query(req->query, &q, p->mode == SK_SIGV4_QUERY, err) < 0)
        goto out;
    if (p->mode == SK_SIGV4_QUERY)
        presign_params(p, creds, r, &q);
    sk_buf_reset(c);
    sk_buf_adds(c, req->method);
    sk_buf_addch(c, '\n');
    add_canonical_path(req, p, c);
    sk_buf_addch(c, '\n');
    add_canonical_query(&q, c);
    sk_buf_addch(c, '\n');
    add_canonical_headers(&h, c);
    sk_buf_adds(c, "\n\n");
    sk_buf_adds(c, r->signed_headers.p);
    sk_buf_addch(c, '\n');
    sk_buf_adds(c, r->payload_hash.p);
    rc = 0;
out:
    chdrs_release(&h);
    qlist_release(&q);
    return rc;
}

/* ---- stage 2: the string to sign --------------------------------------------------------------- */

void sk_sigv4_string_to_sign(const struct sk_sigv4_params *p, struct sk_sigv4_result *r)
{
    char creq_hash[65];

    sk_sha256_hex(r->canonical_request.p, r->canonical_request.len, creq_hash);
    sk_buf_reset(&r->string_to_sign);
    sk_buf_addf(&r->string_to_sign, "%s\n%s\n", SK_SIGV4_ALGORITHM, r->amz_date);
    sk_sigv4_scope(r->amz_date, p->region, p->service, &r->string_to_sign);
    sk_buf_addf(&r->string_to_sign, "\n%s", creq_hash);
}

/* ---- stage 3: the signature -------------------------------------------------------------------- */

void sk_sigv4_signature(const struct sk_sigv4_params *p, const struct sk_creds *creds, struct sk_sigv4_result *r)
{
    struct sk_buf hex = SK_BUF_INIT;
    unsigned char key[32], sig[32];
    char date8[9];

    memcpy(date8, r->amz_date, 8);
    date8[8] = '\0';
    derive_key(creds, date8, p->region, p->service, key);
    hmac(key, 32, r->string_to_sign.p, r->string_to_sign.len, sig);
    sk_wipe(key, sizeof(key));
    sk_buf_addhex(&hex, sig, 32);
    memcpy(r->signature, hex.p, 65);
    sk_buf_release(&hex);
    sk_wipe(sig, sizeof(sig));
}

/* ---- stage 4: add the signature to the request ------------------------------------------------- */

static void add_auth_headers(const struct sk_sigv4_params *p, const struct sk_creds *creds, struct sk_sigv4_result *r)
{
    struct sk_buf auth = SK_BUF_INIT;

    sk_headers_add(&r->add, "X-Amz-Date", r->amz_date);
    if (creds->session_token && *creds->session_token)
        sk_headers_add(&r->add, "X-Amz-Security-Token", creds->session_token);
    if (p->sign_body_header)
        sk_headers_add(&r->add, "X-Amz-Content-Sha256", r->payload_hash.p);
    sk_buf_addf(&auth, "%s Credential=", SK_SIGV4_ALGORITHM);
    credential(creds, p, r->amz_date, &auth);
    sk_buf_addf(&auth, ", SignedHeaders=%s, Signature=%s", r->signed_headers.p, r->signature);
    sk_headers_add(&r->add, "Authorization", auth.p);
    sk_buf_release(&auth);
}

/* The request's own parameters as given, then ours in the suite's order. */
static void add_presign_query(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p,
                              const struct sk_creds *creds, struct sk_sigv4_result *r)
{
    struct sk_buf *o = &r->query;
    struct qlist q = { 0 };
    size_t i;

    sk_buf_reset(o);
    if (req->query && *req->query)
        sk_buf_adds(o, req->query);
    presign_params(p, creds, r, &q);
    for (i = 0; i < q.n; i++)
        sk_buf_addf(o, "%s%s=%s", o->len ? "&" : "", q.v[i].k, q.v[i].v);
    if (creds->session_token && *creds->session_token && !signs_token(p, creds)) {
        sk_buf_adds(o, o->len ? "&" : "");
        sk_buf_adds(o, "X-Amz-Security-Token=");
        sk_uri_encodes(o, creds->session_token, 0);
    }
    sk_buf_addf(o, "&X-Amz-Signature=%s", r->signature);
    qlist_release(&q);
}

void sk_sigv4_add_signature(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p,
                            const struct sk_creds *creds, struct sk_sigv4_result *r)
{
    if (p->mode == SK_SIGV4_HEADER)
        add_auth_headers(p, creds, r);
    else
        add_presign_query(req, p, creds, r);
}

int sk_sigv4_sign(const struct sk_sigv4_req *req, const struct sk_sigv4_params *p, const struct sk_creds *creds,
                  struct sk_sigv4_result *r, struct sk_err *err)
{
    if (sk_sigv4_canonical_request(req, p, creds, r, err))
        return -1;
    sk_sigv4_string_to_sign(p, r);
    sk_sigv4_signature(p, creds, r);
    sk_sigv4_add_signature(req, p, creds, r);
    return 0;
}
