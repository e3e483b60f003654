/*
 * sigv4_test - the official SigV4 suite (tests/unit/sigv4-suite/v4, vendored; or $SK_SIGV4_SUITE),
 * every case in header and query mode, each stage checked separately; plus edge cases.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jv.h>

#include "core/buf.h"
#include "harness.h"
#include "core/hdr.h"
#include "core/mem.h"
#include "aws/sigv4.h"
#include "core/uri.h"

static const char *suite_dir(void)
{
    const char *d = getenv("SK_SIGV4_SUITE");
    return d && *d ? d : "tests/unit/sigv4-suite/v4";
}

static int read_file(const char *path, struct sk_buf *out)
{
    FILE *f = fopen(path, "rb");
    char tmp[4096];
    size_t n;

    if (!f)
        return -1;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        sk_buf_add(out, tmp, n);
    fclose(f);
    return 0;
}

struct parsed_req {
    char *method, *path, *query;
    struct sk_headers h;
    struct sk_buf body;
};

static void parsed_req_release(struct parsed_req *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    sk_headers_release(&r->h);
    sk_buf_release(&r->body);
}

/* request.txt: "METHOD <raw path> HTTP/1.1", headers (continuations start with whitespace), blank, body. */
static int parse_request(const char *text, struct parsed_req *r)
{
    const char *eol = strchr(text, '\n'), *sp, *proto, *p;
    struct sk_buf target = SK_BUF_INIT;

    memset(r, 0, sizeof(*r));
    sk_buf_init(&r->body);
    if (!eol)
        return -1;
    sp = memchr(text, ' ', (size_t)(eol - text));
    proto = eol;
    while (proto > sp && strncmp(proto, " HTTP/1.1", 9) != 0)
        proto--;
    if (!sp || proto <= sp)
        return -1;
    r->method = xstrndup(text, (size_t)(sp - text));
    sk_buf_add(&target, sp + 1, (size_t)(proto - sp - 1));
    p = strchr(target.p, '?');
    if (p) {
        r->path = xstrndup(target.p, (size_t)(p - target.p));
        r->query = xstrdup(p + 1);
    } else {
        r->path = xstrdup(target.p);
    }
    sk_buf_release(&target);
    p = eol + 1;
    while (*p && *p != '\n') {
        const char *le = strchr(p, '\n'), *colon;
        size_t len = le ? (size_t)(le - p) : strlen(p);
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
            if (!colon)
                return -1;
            sk_headers_addn(&r->h, p, (size_t)(colon - p), colon + 1, len - (size_t)(colon - p) - 1);
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    if (*p == '\n')
        sk_buf_adds(&r->body, p + 1);
    return 0;
}

static char *case_file(const char *dir, const char *name, const char *file)
{
    struct sk_buf b = SK_BUF_INIT;
    sk_buf_addf(&b, "%s/%s/%s", dir, name, file);
    return sk_buf_detach(&b, NULL);
}

static int expect_file(const char *name, const char *file, const char *got, size_t gotlen)
{
    char *path = case_file(suite_dir(), name, file);
    struct sk_buf want = SK_BUF_INIT;
    int ok = 0;

    if (read_file(path, &want) < 0) {
        H_FAIL("%s: cannot read %s", name, path);
    } else if (want.len != gotlen || memcmp(want.p, got, gotlen) != 0) {
        H_FAIL("%s/%s differs:\n--- got\n%.*s\n--- want\n%s", name, file, (int)gotlen, got, want.p);
    } else {
        ok = 1;
    }
    free(path);
    sk_buf_release(&want);
    return ok;
}

static int ctx_bool(jv ctx, const char *k)
{
    jv v = jv_object_get(jv_copy(ctx), jv_string(k));
    int r = jv_get_kind(v) == JV_KIND_TRUE;
    jv_free(v);
    return r;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum stage { WHOLE, STAGE_CREQ, STAGE_STS, STAGE_SIG, STAGE_ADD };
#define NSTAGES 5

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int name_cmp_const(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct suite_case {
    const char *name;
    enum sk_sigv4_mode mode;
    enum stage stage;
};

/* One case's inputs: the request, the signing parameters and the credentials of context.json. */
struct loaded_case {
    struct parsed_req pr;
    struct sk_sigv4_params p;
    struct sk_sigv4_req req;
    struct sk_creds creds;
};

static void loaded_case_release(struct loaded_case *lc)
{
    parsed_req_release(&lc->pr);
    sk_creds_release(&lc->creds);
}

static char *ctx_string(jv ctx, const char *obj, const char *k)
{
    jv o = obj ? jv_object_get(jv_copy(ctx), jv_string(obj)) : jv_copy(ctx);
    jv s = jv_object_get(o, jv_string(k));
    char *r = jv_get_kind(s) == JV_KIND_STRING ? xstrdup(jv_string_value(s)) : NULL;

    jv_free(s);
    return r;
}

/* "2015-08-30T12:36:00Z" as a time_t, through sk_parse_amz_date's format. */
static int ctx_time(jv ctx, time_t *when)
{
    char *t = ctx_string(ctx, NULL, "timestamp");
    char amz[17];
    int rc = -1;

    if (t && strlen(t) == 20) {
        snprintf(amz, sizeof(amz), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", t, t + 5, t + 8, t + 11, t + 14, t + 17);
        rc = sk_parse_amz_date(amz, when);
    }
    free(t);
    return rc;
}

static int load_case(const struct suite_case *sc, struct loaded_case *lc)
{
    char *ctx_path = case_file(suite_dir(), sc->name, "context.json");
    char *req_path = case_file(suite_dir(), sc->name, "request.txt");
    struct sk_buf ctx_text = SK_BUF_INIT, req_text = SK_BUF_INIT;
    jv ctx = jv_invalid(), e;
    time_t when = 0;
    int rc = -1;

    memset(lc, 0, sizeof(*lc));
    sk_buf_init(&lc->pr.body);
    if (read_file(ctx_path, &ctx_text) < 0 || read_file(req_path, &req_text) < 0) {
        H_FAIL("%s: cannot read case files under %s", sc->name, suite_dir());
        goto out;
    }
    ctx = jv_parse(ctx_text.p);
    if (jv_get_kind(ctx) != JV_KIND_OBJECT || parse_request(req_text.p, &lc->pr) < 0 || ctx_time(ctx, &when)) {
        H_FAIL("%s: bad case files", sc->name);
        goto out;
    }
    lc->creds.access_key_id = ctx_string(ctx, "credentials", "access_key_id");
    lc->creds.secret_access_key = ctx_string(ctx, "credentials", "secret_access_key");
    lc->creds.session_token = ctx_string(ctx, "credentials", "token");
    sk_sigv4_params_init(&lc->p, "service", "us-east-1", when);
    lc->p.mode = sc->mode;
    lc->p.normalize_path = ctx_bool(ctx, "normalize");
    lc->p.double_encode = 1;
    lc->p.sign_body_header = sc->mode == SK_SIGV4_HEADER && ctx_bool(ctx, "sign_body");
    lc->p.omit_session_token = ctx_bool(ctx, "omit_session_token");
    e = jv_object_get(jv_copy(ctx), jv_string("expiration_in_seconds"));
    lc->p.expires = jv_get_kind(e) == JV_KIND_NUMBER ? (long)jv_number_value(e) : 3600;
    jv_free(e);
    lc->req.method = lc->pr.method;
    lc->req.path = lc->pr.path;
    lc->req.query = lc->pr.query;
    lc->req.headers = &lc->pr.h;
    lc->req.body = lc->pr.body.p;
    lc->req.body_len = lc->pr.body.len;
    rc = 0;
out:
    jv_free(ctx);
    free(ctx_path);
    free(req_path);
    sk_buf_release(&ctx_text);
    sk_buf_release(&req_text);
    return rc;
}

/* The suite's file "<mode>-<what>.txt" of the case, into out (a failure when missing). */
static int read_stage_file(const struct suite_case *sc, const char *what, struct sk_buf *out)
{
    struct sk_buf fname = SK_BUF_INIT;
    char *path;
    int rc;

    sk_buf_addf(&fname, "%s-%s.txt", sc->mode == SK_SIGV4_HEADER ? "header" : "query", what);
    path = case_file(suite_dir(), sc->name, fname.p);
    rc = read_file(path, out);
    if (rc < 0)
        H_FAIL("%s: cannot read %s", sc->name, path);
    free(path);
    sk_buf_release(&fname);
    return rc;
}

static int expect_stage_file(const struct suite_case *sc, const char *what, const char *got, size_t gotlen)
{
    struct sk_buf fname = SK_BUF_INIT;
    int ok;

    sk_buf_addf(&fname, "%s-%s.txt", sc->mode == SK_SIGV4_HEADER ? "header" : "query", what);
    ok = expect_file(sc->name, fname.p, got, gotlen);
    sk_buf_release(&fname);
    return ok;
}

/* Split s at sep into sorted, NUL-terminated pieces (in b, pointers into it). */
static size_t split_sorted(const char *s, size_t len, char sep, struct sk_buf *b, const char ***out)
{
    size_t n = 0, i;

    sk_buf_add(b, s, len);
    *out = NULL;
    for (i = 0; i <= b->len; i++) {
        if (i == b->len || b->p[i] == sep) {
            if (i < b->len)
                b->p[i] = '\0';
            continue;
        }
        if (i == 0 || b->p[i - 1] == '\0') {
            *out = xrealloc((void *)*out, (n + 1) * sizeof(**out));
            (*out)[n++] = b->p + i;
        }
    }
    if (n)
        qsort((void *)*out, n, sizeof(**out), name_cmp_const);
    return n;
}

/* A line "name:value" of an HTTP request's text (the name in any case). */
static int has_header_line(const char *text, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    const char *p;

    for (p = strchr(text, '\n'); p; p = strchr(p, '\n')) {
        p++;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':' && strncmp(p + nl + 1, value, vl) == 0 &&
            (p[nl + 1 + vl] == '\n' || p[nl + 1 + vl] == '\0'))
            return 1;
    }
    return 0;
}

/* Header mode: every header we add is a line of the signed request. Query mode: the signed request's
 * query and ours hold the same parameters (the suite's order is not significant). */
static void check_signed_request(const struct suite_case *sc, const struct sk_sigv4_result *res)
{
    struct sk_buf sreq = SK_BUF_INIT, a = SK_BUF_INIT, b = SK_BUF_INIT;
    const char **want = NULL, **got = NULL, *q, *end;
    size_t i, nw, ng;

    if (read_stage_file(sc, "signed-request", &sreq) < 0)
        goto out;
    if (sc->mode == SK_SIGV4_HEADER) {
        for (i = 0; i < res->add.n; i++)
            if (!has_header_line(sreq.p, res->add.v[i].name, res->add.v[i].value))
                H_FAIL("%s: header '%s' differs from the signed request's", sc->name, res->add.v[i].name);
        goto out;
    }
    q = strchr(sreq.p, '?');
    end = strstr(sreq.p, " HTTP/1.1\n");
    if (!q || !end || q > end) {
        H_FAIL("%s: the signed request has no query", sc->name);
        goto out;
    }
    nw = split_sorted(q + 1, (size_t)(end - q - 1), '&', &a, &want);
    ng = split_sorted(res->query.p, res->query.len, '&', &b, &got);
    ASSERT(nw == ng);
    for (i = 0; i < nw && i < ng; i++)
        if (strcmp(want[i], got[i]) != 0)
            H_FAIL("%s: query parameter '%s' where the signed request has '%s'", sc->name, got[i], want[i]);
out:
    free((void *)want);
    free((void *)got);
    sk_buf_release(&sreq);
    sk_buf_release(&a);
    sk_buf_release(&b);
}

/* The whole signer: every stage's output as the suite has it. */
static void check_whole(const struct suite_case *sc, struct loaded_case *lc, struct sk_sigv4_result *res)
{
    struct sk_err err;

    ASSERT_OK(sk_sigv4_sign(&lc->req, &lc->p, &lc->creds, res, &err), &err);
    if (h_cur_failed)
        return;
    expect_stage_file(sc, "canonical-request", res->canonical_request.p, res->canonical_request.len);
    expect_stage_file(sc, "string-to-sign", res->string_to_sign.p, res->string_to_sign.len);
    expect_stage_file(sc, "signature", res->signature, strlen(res->signature));
    check_signed_request(sc, res);
}

/* Stage 4's inputs from the suite's files: the signed header names and the payload hash are the
 * last two lines of the canonical request, the signature its own file. */
static int stage4_inputs(const struct suite_case *sc, struct sk_sigv4_result *res)
{
    struct sk_buf creq = SK_BUF_INIT, sig = SK_BUF_INIT;
    const char *last, *prev;
    int rc = -1;

    if (read_stage_file(sc, "canonical-request", &creq) < 0 || read_stage_file(sc, "signature", &sig) < 0)
        goto out;
    last = strrchr(creq.p, '\n');
    if (!last || last == creq.p || sig.len != 64) {
        H_FAIL("%s: unexpected canonical request or signature file", sc->name);
        goto out;
    }
    for (prev = last - 1; prev > creq.p && prev[-1] != '\n'; prev--)
        ;
    sk_buf_add(&res->signed_headers, prev, (size_t)(last - prev));
    sk_buf_adds(&res->payload_hash, last + 1);
    memcpy(res->signature, sig.p, 65);
    rc = 0;
out:
    sk_buf_release(&creq);
    sk_buf_release(&sig);
    return rc;
}

/* One stage alone, its input taken from the suite's file of the stage before. */
static void check_stage(const struct suite_case *sc, struct loaded_case *lc, struct sk_sigv4_result *res)
{
    struct sk_err err;

    sk_amz_date(lc->p.when, res->amz_date);
    switch (sc->stage) {
    case STAGE_CREQ:
        ASSERT_OK(sk_sigv4_canonical_request(&lc->req, &lc->p, &lc->creds, res, &err), &err);
        if (!h_cur_failed)
            expect_stage_file(sc, "canonical-request", res->canonical_request.p, res->canonical_request.len);
        break;
    case STAGE_STS:
        if (read_stage_file(sc, "canonical-request", &res->canonical_request) < 0)
            break;
        sk_sigv4_string_to_sign(&lc->p, res);
        expect_stage_file(sc, "string-to-sign", res->string_to_sign.p, res->string_to_sign.len);
        break;
    case STAGE_SIG:
        if (read_stage_file(sc, "string-to-sign", &res->string_to_sign) < 0)
            break;
        sk_sigv4_signature(&lc->p, &lc->creds, res);
        expect_stage_file(sc, "signature", res->signature, strlen(res->signature));
        break;
    case STAGE_ADD:
        if (stage4_inputs(sc, res) < 0)
            break;
        sk_sigv4_add_signature(&lc->req, &lc->p, &lc->creds, res);
        check_signed_request(sc, res);
        break;
    case WHOLE: break;
    }
}

static void run_suite_case(const struct suite_case *sc)
{
    struct loaded_case lc;
    struct sk_sigv4_result res;

    sk_sigv4_result_init(&res);
    if (load_case(sc, &lc) == 0) {
        if (sc->stage == WHOLE)
            check_whole(sc, &lc, &res);
        else
            check_stage(sc, &lc, &res);
    }
    loaded_case_release(&lc);
    sk_sigv4_result_release(&res);
}

/* ---- edge cases ---------------------------------------------------------------------------- */

static struct sk_creds test_creds(void)
{
    struct sk_creds c = { 0 };
    c.access_key_id = xstrdup("AKIDEXAMPLE");
    c.secret_access_key = xstrdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    return c;
}

TEST(refuses_owned_headers)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_req req = { "GET", "/", NULL, &h, NULL, 0 };
    struct sk_sigv4_params p;
    struct sk_sigv4_result r;
    struct sk_creds c = test_creds();
    struct sk_err err;

    sk_sigv4_params_init(&p, "ssm", "us-east-1", 1440938160);
    sk_sigv4_result_init(&r);
    sk_headers_add(&h, "Host", "example.amazonaws.com");
    sk_headers_add(&h, "X-Amz-Date", "20150830T123600Z");
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    ASSERT(strstr(err.msg, "X-Amz-Date") != NULL);
    sk_headers_release(&h);
    sk_sigv4_result_release(&r);
    sk_creds_release(&c);
}

TEST(requires_host_and_creds)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_req req = { "GET", "/", NULL, &h, NULL, 0 };
    struct sk_sigv4_params p;
    struct sk_sigv4_result r;
    struct sk_creds c = test_creds(), none = { 0 };
    struct sk_err err;

    sk_sigv4_params_init(&p, "ssm", "us-east-1", 1440938160);
    sk_sigv4_result_init(&r);
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    sk_headers_add(&h, "Host", "example.amazonaws.com");
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &none, &r, &err), &err, SK_E_CONFIG);
    sk_headers_release(&h);
    sk_sigv4_result_release(&r);
    sk_creds_release(&c);
}

TEST(bad_percent_encoding_in_query)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_req req = { "GET", "/", "a=%zz", &h, NULL, 0 };
    struct sk_sigv4_params p;
    struct sk_sigv4_result r;
    struct sk_creds c = test_creds();
    struct sk_err err;

    sk_sigv4_params_init(&p, "ssm", "us-east-1", 1440938160);
    sk_sigv4_result_init(&r);
    sk_headers_add(&h, "Host", "example.amazonaws.com");
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    req.query = "a=%4";
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    req.query = "a=%41&b";
    ASSERT_OK(sk_sigv4_sign(&req, &p, &c, &r, &err), &err);
    ASSERT(strstr(r.canonical_request.p, "\na=A&b=\n") != NULL);
    sk_headers_release(&h);
    sk_sigv4_result_release(&r);
    sk_creds_release(&c);
}

TEST(presign_expiry_range)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_req req = { "GET", "/", NULL, &h, NULL, 0 };
    struct sk_sigv4_params p;
    struct sk_sigv4_result r;
    struct sk_creds c = test_creds();
    struct sk_err err;

    sk_sigv4_params_init(&p, "ssm", "us-east-1", 1440938160);
    p.mode = SK_SIGV4_QUERY;
    sk_sigv4_result_init(&r);
    sk_headers_add(&h, "Host", "example.amazonaws.com");
    p.expires = 0;
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    p.expires = 604801;
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    p.expires = 604800;
    ASSERT_OK(sk_sigv4_sign(&req, &p, &c, &r, &err), &err);
    req.query = "X-Amz-Signature=abc";
    ASSERT_ERR(sk_sigv4_sign(&req, &p, &c, &r, &err), &err, SK_E_USAGE);
    sk_headers_release(&h);
    sk_sigv4_result_release(&r);
    sk_creds_release(&c);
}

TEST(s3_rules)
{
    /* S3: no normalisation, no second encoding, x-amz-content-sha256 signed. */
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_req req = { "GET", "/my-object//example//photo.user%20x", NULL, &h, NULL, 0 };
    struct sk_sigv4_params p;
    struct sk_sigv4_result r;
    struct sk_creds c = test_creds();
    struct sk_err err;

    sk_sigv4_params_init(&p, "s3", "us-east-1", 1440938160);
    sk_sigv4_result_init(&r);
    sk_headers_add(&h, "Host", "bucket.s3.amazonaws.com");
    ASSERT_OK(sk_sigv4_sign(&req, &p, &c, &r, &err), &err);
    ASSERT(starts_with(r.canonical_request.p, "GET\n/my-object//example//photo.user%20x\n"));
    ASSERT(strstr(r.canonical_request.p, "x-amz-content-sha256:e3b0c442") != NULL);
    ASSERT(sk_headers_get(&r.add, "X-Amz-Content-Sha256") != NULL);
    /* The same path for a non-S3 service is normalised and encoded twice. */
    sk_sigv4_result_release(&r);
    sk_sigv4_result_init(&r);
    sk_sigv4_params_init(&p, "ssm", "us-east-1", 1440938160);
    ASSERT_OK(sk_sigv4_sign(&req, &p, &c, &r, &err), &err);
    ASSERT(starts_with(r.canonical_request.p, "GET\n/my-object/example/photo.user%2520x\n"));
    ASSERT(sk_headers_get(&r.add, "X-Amz-Content-Sha256") == NULL);
    sk_headers_release(&h);
    sk_sigv4_result_release(&r);
    sk_creds_release(&c);
}

TEST(key_cache_follows_secret_rotation)
{
    /* Same access key id, different secret: the cached signing key must not be reused. */
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_req req = { "GET", "/", NULL, &h, NULL, 0 };
    struct sk_sigv4_params p;
    struct sk_sigv4_result r1, r2;
    struct sk_creds c = test_creds();
    struct sk_err err;

    sk_sigv4_params_init(&p, "ssm", "us-east-1", 1440938160);
    sk_sigv4_result_init(&r1);
    sk_sigv4_result_init(&r2);
    sk_headers_add(&h, "Host", "example.amazonaws.com");
    ASSERT_OK(sk_sigv4_sign(&req, &p, &c, &r1, &err), &err);
    sk_free_secret(c.secret_access_key);
    c.secret_access_key = xstrdup("another-secret");
    ASSERT_OK(sk_sigv4_sign(&req, &p, &c, &r2, &err), &err);
    ASSERT(strcmp(r1.signature, r2.signature) != 0);
    sk_headers_release(&h);
    sk_sigv4_result_release(&r1);
    sk_sigv4_result_release(&r2);
    sk_creds_release(&c);
}

TEST(uri_helpers)
{
    struct sk_buf b = SK_BUF_INIT;
    struct sk_err err;
    struct sk_url u;

    sk_uri_normalize_path(&b, "/example1/example2/../..", 24);
    ASSERT_STREQ(b.p, "/");
    sk_buf_reset(&b);
    sk_uri_normalize_path(&b, "//example//", 11);
    ASSERT_STREQ(b.p, "/example/");
    sk_buf_reset(&b);
    sk_uri_encodes(&b, "a b/ሴ+~", 1);
    ASSERT_STREQ(b.p, "a%20b/%E1%88%B4%2B~");
    sk_buf_reset(&b);
    ASSERT_ERR(sk_uri_decode(&b, "%G1", 3, &err), &err, SK_E_USAGE);
    ASSERT_ERR(sk_uri_decode(&b, "abc%", 4, &err), &err, SK_E_USAGE);
    ASSERT_OK(sk_url_parse("https://SSM.us-east-1.amazonaws.com:443/a/b?x=1#frag", &u, &err), &err);
    if (!h_cur_failed) {
        ASSERT_STREQ(u.host, "ssm.us-east-1.amazonaws.com");
        ASSERT_STREQ(u.path, "/a/b");
        ASSERT_STREQ(u.query, "x=1");
        sk_buf_reset(&b);
        sk_url_host_header(&u, &b);
        ASSERT_STREQ(b.p, "ssm.us-east-1.amazonaws.com");
        sk_url_release(&u);
    }
    ASSERT_OK(sk_url_parse("http://[::1]:5000", &u, &err), &err);
    if (!h_cur_failed) {
        sk_buf_reset(&b);
        sk_url_host_header(&u, &b);
        ASSERT_STREQ(b.p, "[::1]:5000");
        ASSERT_STREQ(u.path, "/");
        sk_url_release(&u);
    }
    ASSERT_ERR(sk_url_parse("ftp://x", &u, &err), &err, SK_E_USAGE);
    ASSERT_ERR(sk_url_parse("https://user:pw@x/", &u, &err), &err, SK_E_USAGE);
    ASSERT_ERR(sk_url_parse("https://x:99999/", &u, &err), &err, SK_E_USAGE);
    ASSERT_ERR(sk_url_parse("https:///path", &u, &err), &err, SK_E_USAGE);
    sk_buf_release(&b);
}

static void suite_count_is(const size_t *n)
{
    if (*n != 38)
        H_FAIL("expected 38 cases in %s, found %zu (tests/unit/sigv4-suite/README.md)", suite_dir(), *n);
}

/* The suite: every case in both modes; a missing or short suite is a failure of its own, and the
 * edge cases below run either way. */
static void run_suite(void)
{
    DIR *d = opendir(suite_dir());
    struct dirent *de;
    static const enum sk_sigv4_mode modes[2] = { SK_SIGV4_HEADER, SK_SIGV4_QUERY };
    static const char *const mode_names[2] = { "header", "query" };
    static const char *const stage_names[NSTAGES] = { "", ", stage 1: canonical request", ", stage 2: string to sign",
                                                      ", stage 3: signature", ", stage 4: signed request" };
    char **names = NULL;
    size_t n = 0, i;
    int m, st;

    if (d) {
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            names = xrealloc(names, (n + 1) * sizeof(*names));
            names[n++] = xstrdup(de->d_name);
        }
        closedir(d);
    }
    if (n)
        qsort(names, n, sizeof(*names), name_cmp);
    for (i = 0; i < n; i++) {
        for (m = 0; m < 2; m++) {
            for (st = 0; st < NSTAGES; st++) {
                struct suite_case sc = { names[i], modes[m], (enum stage)st };
                char tn[300];
                snprintf(tn, sizeof(tn), "suite %s (%s%s)", names[i], mode_names[m], stage_names[st]);
                RUN_NAMED(tn, run_suite_case, &sc);
            }
        }
        free(names[i]);
    }
    free(names);
    RUN_NAMED("the suite has its 38 cases", suite_count_is, &n);
}

int main(void)
{
    run_suite();
    RUN(refuses_owned_headers);
    RUN(requires_host_and_creds);
    RUN(bad_percent_encoding_in_query);
    RUN(presign_expiry_range);
    RUN(s3_rules);
    RUN(key_cache_follows_secret_rotation);
    RUN(uri_helpers);
    return DONE();
}
