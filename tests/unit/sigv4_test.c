/*
 * sigv4_test - the official SigV4 suite (tests/unit/sigv4-suite/v4, vendored; or $SK_SIGV4_SUITE),
 * every case in header and query mode, each stage checked separately; plus edge cases.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "buf.h"
#include "harness.h"
#include "hdr.h"
#include "mem.h"
#include "sigv4.h"
#include "uri.h"

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

struct suite_case {
    const char *name;
    enum sk_sigv4_mode mode;
};

static void run_suite_case(const struct suite_case *sc)
{
    const char *name = sc->name;
    const char *pre = sc->mode == SK_SIGV4_HEADER ? "header" : "query";
    char *ctx_path = case_file(suite_dir(), name, "context.json");
    char *req_path = case_file(suite_dir(), name, "request.txt");
    struct sk_buf ctx_text = SK_BUF_INIT, req_text = SK_BUF_INIT, fname = SK_BUF_INIT;
    struct parsed_req pr;
    struct sk_sigv4_params p;
    struct sk_sigv4_req req;
    struct sk_sigv4_result res;
    struct sk_creds creds = { 0 };
    struct sk_err err;
    jv ctx = jv_invalid(), c;
    time_t when = 0;

    memset(&pr, 0, sizeof(pr));
    sk_buf_init(&pr.body);
    sk_sigv4_result_init(&res);
    if (read_file(ctx_path, &ctx_text) < 0 || read_file(req_path, &req_text) < 0) {
        H_FAIL("%s: cannot read case files under %s", name, suite_dir());
        goto out;
    }
    ctx = jv_parse(ctx_text.p);
    if (jv_get_kind(ctx) != JV_KIND_OBJECT || parse_request(req_text.p, &pr) < 0) {
        H_FAIL("%s: bad case files", name);
        goto out;
    }
    c = jv_object_get(jv_copy(ctx), jv_string("credentials"));
    {
        jv s = jv_object_get(jv_copy(c), jv_string("access_key_id"));
        creds.access_key_id = xstrdup(jv_string_value(s));
        jv_free(s);
        s = jv_object_get(jv_copy(c), jv_string("secret_access_key"));
        creds.secret_access_key = xstrdup(jv_string_value(s));
        jv_free(s);
        s = jv_object_get(jv_copy(c), jv_string("token"));
        if (jv_get_kind(s) == JV_KIND_STRING)
            creds.session_token = xstrdup(jv_string_value(s));
        jv_free(s);
    }
    jv_free(c);
    {
        jv ts = jv_object_get(jv_copy(ctx), jv_string("timestamp"));
        struct sk_buf d = SK_BUF_INIT;
        const char *t = jv_string_value(ts); /* 2015-08-30T12:36:00Z */
        sk_buf_add(&d, t, 4);
        sk_buf_add(&d, t + 5, 2);
        sk_buf_add(&d, t + 8, 2);
        sk_buf_addch(&d, 'T');
        sk_buf_add(&d, t + 11, 2);
        sk_buf_add(&d, t + 14, 2);
        sk_buf_add(&d, t + 17, 2);
        sk_buf_addch(&d, 'Z');
        ASSERT(sk_parse_amz_date(d.p, &when) == 0);
        sk_buf_release(&d);
        jv_free(ts);
    }
    sk_sigv4_params_init(&p, "service", "us-east-1", when);
    p.region = "us-east-1";
    p.service = "service";
    p.mode = sc->mode;
    p.normalize_path = ctx_bool(ctx, "normalize");
    p.double_encode = 1;
    p.sign_body_header = sc->mode == SK_SIGV4_HEADER && ctx_bool(ctx, "sign_body");
    p.omit_session_token = ctx_bool(ctx, "omit_session_token");
    {
        jv e = jv_object_get(jv_copy(ctx), jv_string("expiration_in_seconds"));
        p.expires = jv_get_kind(e) == JV_KIND_NUMBER ? (long)jv_number_value(e) : 3600;
        jv_free(e);
    }
    req.method = pr.method;
    req.path = pr.path;
    req.query = pr.query;
    req.headers = &pr.h;
    req.body = pr.body.p;
    req.body_len = pr.body.len;
    ASSERT_OK(sk_sigv4_sign(&req, &p, &creds, &res, &err), &err);
    if (h_cur_failed)
        goto out;
    sk_buf_addf(&fname, "%s-canonical-request.txt", pre);
    expect_file(name, fname.p, res.canonical_request.p, res.canonical_request.len);
    sk_buf_reset(&fname);
    sk_buf_addf(&fname, "%s-string-to-sign.txt", pre);
    expect_file(name, fname.p, res.string_to_sign.p, res.string_to_sign.len);
    sk_buf_reset(&fname);
    sk_buf_addf(&fname, "%s-signature.txt", pre);
    expect_file(name, fname.p, res.signature, strlen(res.signature));
    /* The signed request: our Authorization header / query must appear in it verbatim. */
    {
        struct sk_buf signed_req = SK_BUF_INIT;
        char *sp;
        sk_buf_reset(&fname);
        sk_buf_addf(&fname, "%s-signed-request.txt", pre);
        sp = case_file(suite_dir(), name, fname.p);
        if (read_file(sp, &signed_req) == 0) {
            if (sc->mode == SK_SIGV4_HEADER) {
                const char *auth = sk_headers_get(&res.add, "Authorization");
                ASSERT(auth && strstr(signed_req.p, auth));
            } else {
                /* Parameters compare as a set; the suite's order is not significant. */
                const char *q = res.query.p;
                while (*q) {
                    size_t l = strcspn(q, "&");
                    struct sk_buf one = SK_BUF_INIT;
                    sk_buf_add(&one, q, l);
                    if (!strstr(signed_req.p, one.p))
                        H_FAIL("%s: query parameter '%s' not in the signed request", name, one.p);
                    sk_buf_release(&one);
                    q += l;
                    if (*q)
                        q++;
                }
            }
        } else {
            H_FAIL("%s: cannot read %s", name, sp);
        }
        free(sp);
        sk_buf_release(&signed_req);
    }
out:
    jv_free(ctx);
    free(ctx_path);
    free(req_path);
    sk_buf_release(&ctx_text);
    sk_buf_release(&req_text);
    sk_buf_release(&fname);
    parsed_req_release(&pr);
    sk_sigv4_result_release(&res);
    sk_creds_release(&creds);
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

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The suite: every case in both modes; a missing or short suite is a failure of its own, and the
 * edge cases below run either way. */
static void run_suite(void)
{
    DIR *d = opendir(suite_dir());
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, i;

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
        struct suite_case hc = { names[i], SK_SIGV4_HEADER }, qc = { names[i], SK_SIGV4_QUERY };
        char tn[300];
        snprintf(tn, sizeof(tn), "suite %s (header)", names[i]);
        RUN_NAMED(tn, run_suite_case, &hc);
        snprintf(tn, sizeof(tn), "suite %s (query)", names[i]);
        RUN_NAMED(tn, run_suite_case, &qc);
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
