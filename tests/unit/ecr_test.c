/*
 * ecr_test.c - lib/svc/ecr.c: whom the ECR token may go to (sk_ecr_token_for_host), ECR host names, the
 * private cache files (sk_cache_open / sk_cache_write: no links, owner and mode checked), the
 * layer cache (an entry counts only with the MAC of this user's key), and the ECR token
 * (sk_ecr_token_get against canned GetAuthorizationToken answers: fetched, cached per key, region,
 * endpoint and registry, reused until half its lifetime, and sent only where its proxyEndpoint says).
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "core/cache.h"
#include "svc/ecr.h"
#include "fake_aws.h"
#include "harness.h"
#include "oci/layer_cache.h"
#include "core/mem.h"

static char dir[] = "/tmp/sk-ecr-test-XXXXXX";
static char cache[1100];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (system(cmd) != 0)
        H_FAIL("command failed: %s", cmd);
}

static void put_file(const char *path, const char *text, int mode)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        H_FAIL("cannot write %s", path);
        return;
    }
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
}

TEST(ecr_hosts)
{
    static const char *const bad[] = {
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com",   /* China's suffix is amazonaws.com.cn */
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn", /* and only China's */
        "123456789012.dkr-ecr.eu-west-1.amazonaws.com",    /* dual-stack is on.aws */
        "123456789012.dkr.ecr.eu-west-1.on.aws",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com:443",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
    };
    char *account = NULL, *region = NULL;
    size_t i;

    ASSERT(sk_ecr_parse_host("123456789012.dkr-ecr.eu-west-1.on.aws", &account, &region) == 1);
    ASSERT_STREQ(account, "123456789012");
    ASSERT_STREQ(region, "eu-west-1");
    free(account);
    free(region);
    ASSERT(sk_ecr_parse_host("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", &account, &region) == 1);
    ASSERT_STREQ(region, "us-iso-east-1");
    free(account);
    free(region);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        account = region = NULL;
        if (sk_ecr_parse_host(bad[i], &account, &region) != 0)
            H_FAIL("accepted %s", bad[i]);
        free(account);
        free(region);
    }
}

TEST(token_goes_only_to_the_account)
{
    static const struct {
        const char *proxy, *host;
        int ok;
    } cases[] = {
        /* the registry GetAuthorizationToken names, as it names it */
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", 1 },
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.DKR.ECR.eu-west-1.amazonaws.com", 1 },
        { "https://127.0.0.1:5443", "127.0.0.1:5443", 1 },
        { "https://127.0.0.1:5443/", "127.0.0.1:5443", 1 },
        /* the same account's other ECR hosts, same partition: FIPS, another region, dual-stack */
        { "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
          1 },
        { "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", 1 },
        { "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr-ecr.us-east-1.on.aws", 1 },
        /* everything else */
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "127.0.0.1:41001", 0 },
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "210987654321.dkr.ecr.eu-west-1.amazonaws.com", 0 },
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
          0 },
        { "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
          0 },
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
          "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.io", 0 },
        { "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
          "evil.io/123456789012.dkr.ecr.eu-west-1.amazonaws.com", 0 },
        { "https://127.0.0.1:5443", "localhost:5443", 0 },
        { "https://127.0.0.1:5443", "127.0.0.1:54430", 0 },
        { "https://127.0.0.1:5443", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", 0 },
        { "", "", 0 },
        { "https://", "", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (sk_ecr_token_for_host(cases[i].proxy, cases[i].host) != cases[i].ok)
            H_FAIL("token for '%s' to '%s': want %d", cases[i].proxy, cases[i].host, cases[i].ok);
}

TEST(cache_files)
{
    struct sk_err err;
    char path[1300], other[1300];
    int fd, r;

    sk_err_clear(&err);
    /* absent: ENOENT, for the directory as for the file */
    ASSERT(sk_cache_open(cache, "a/b", &err) < 0 && err.sys_errno == ENOENT);
    ASSERT_OK(sk_cache_write(cache, "a/b", "one\n", 4, 0, &err) == 0 ? 0 : -1, &err);
    fd = sk_cache_open(cache, "a/b", &err);
    ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
    {
        struct stat st;
        snprintf(path, sizeof(path), "%s/a/b", cache);
        ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
        snprintf(path, sizeof(path), "%s/a", cache);
        ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0700);
        ASSERT(stat(cache, &st) == 0 && (st.st_mode & 0077) == 0);
    }
    /* NOREPLACE keeps what is there */
    r = sk_cache_write(cache, "a/b", "two\n", 4, SK_CACHE_NOREPLACE, &err);
    ASSERT(r == 1);
    snprintf(path, sizeof(path), "%s/a/b", cache);
    {
        char got[8] = { 0 };
        FILE *f = fopen(path, "r");
        ASSERT(f && fgets(got, sizeof(got), f));
        ASSERT_STREQ(got, "one\n");
        if (f)
            fclose(f);
    }

    /* a file readable by others */
    chmod(path, 0644);
    ASSERT(sk_cache_open(cache, "a/b", &err) < 0 && strstr(err.msg, "not private"));
    chmod(path, 0600);
    /* a link, even to a private file of ours */
    snprintf(other, sizeof(other), "%s/elsewhere", dir);
    put_file(other, "x\n", 0600);
    sh("ln -s '%s' '%s/a/link'", other, cache);
    ASSERT(sk_cache_open(cache, "a/link", &err) < 0 && strstr(err.msg, "link"));
    /* a directory that is a link (to a private directory of ours) */
    sh("mkdir -m 700 '%s/d2' && cp -p '%s' '%s/d2/b' && ln -s '%s/d2' '%s/c'", dir, path, dir, dir, cache);
    ASSERT(sk_cache_open(cache, "c/b", &err) < 0 && strstr(err.msg, "link"));
    /* a directory others can write */
    snprintf(other, sizeof(other), "%s/a", cache);
    chmod(other, 0777);
    ASSERT(sk_cache_open(cache, "a/b", &err) < 0 && strstr(err.msg, "writable by others"));
    ASSERT(sk_cache_write(cache, "a/b", "three\n", 6, 0, &err) < 0);
    chmod(other, 0700);
    chmod(cache, 0770);
    ASSERT(sk_cache_open(cache, "a/b", &err) < 0 && strstr(err.msg, "writable by others"));
    chmod(cache, 0700);
    /* a FIFO: refused without hanging */
    sh("mkfifo -m 600 '%s/a/fifo'", cache);
    ASSERT(sk_cache_open(cache, "a/fifo", &err) < 0 && strstr(err.msg, "not a regular file"));
    /* another user's file and directory (only root can make them) */
    if (geteuid() == 0) {
        ASSERT(chown(path, 65534, 65534) == 0);
        ASSERT(sk_cache_open(cache, "a/b", &err) < 0 && strstr(err.msg, "uid 65534"));
        ASSERT(chown(path, 0, 0) == 0);
        ASSERT(chown(other, 65534, 65534) == 0);
        ASSERT(sk_cache_open(cache, "a/b", &err) < 0 && strstr(err.msg, "uid 65534"));
        ASSERT(sk_cache_write(cache, "a/b", "four\n", 5, 0, &err) < 0);
        ASSERT(chown(other, 0, 0) == 0);
    } else {
        printf("# not root: the other-owner cases are covered by tests/bats/security-registry.bats\n");
    }
    fd = sk_cache_open(cache, "a/b", &err);
    ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static const char diff1[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char diff2[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
static const char gz1[] = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char gz2[] = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

TEST(layer_cache)
{
    struct sk_layer_cache lc, lc9, again;
    struct sk_err err;
    char d[SK_DIGEST_MAX], e1[1300], e2[1300], line[300];
    uint64_t sz = 0;

    sk_err_clear(&err);
    ASSERT(sk_layer_cache_init(&lc, NULL, 1, &err) < 0);
    sk_layer_cache_release(&lc);
    ASSERT_OK(sk_layer_cache_init(&lc, cache, 1, &err), &err);
    ASSERT_OK(sk_layer_cache_init(&lc9, cache, 9, &err), &err);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == 0);
    ASSERT_OK(sk_layer_cache_put(&lc, diff1, gz1, 1234, &err), &err);
    ASSERT_OK(sk_layer_cache_put(&lc, diff2, gz2, 99, &err), &err);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == 1);
    ASSERT_STREQ(d, gz1);
    ASSERT(sz == 1234);
    ASSERT(sk_layer_cache_get(&lc9, diff1, d, &sz, &err) == 0); /* another level: another entry */
    /* the key is kept: a second run reads what the first wrote */
    ASSERT_OK(sk_layer_cache_init(&again, cache, 1, &err), &err);
    ASSERT(sk_layer_cache_get(&again, diff1, d, &sz, &err) == 1);
    sk_layer_cache_release(&again);

    snprintf(e1, sizeof(e1), "%s/layers/gzip-1/%s", cache, diff1 + 7);
    snprintf(e2, sizeof(e2), "%s/layers/gzip-1/%s", cache, diff2 + 7);
    /* an entry that points diff1 at another layer's gzip, with a made-up MAC */
    snprintf(line, sizeof(line), "%s 99 %064d\n", gz2, 0);
    put_file(e1, line, 0600);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == -1 && strstr(err.msg, "MAC"));
    /* the old format, without a MAC */
    snprintf(line, sizeof(line), "%s 99\n", gz2);
    put_file(e1, line, 0600);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == -1 && strstr(err.msg, "malformed"));
    /* diff2's genuine entry copied to diff1's name: its MAC is for diff2 */
    sh("cp -p '%s' '%s'", e2, e1);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == -1 && strstr(err.msg, "MAC"));
    /* a genuine entry, readable by others or a link: refused before it is read */
    ASSERT_OK(sk_layer_cache_put(&lc, diff1, gz1, 1234, &err), &err);
    chmod(e1, 0644);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == -1 && strstr(err.msg, "not private"));
    sh("mv '%s' '%s.real' && chmod 600 '%s.real' && ln -s '%s.real' '%s'", e1, e1, e1, e1, e1);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == -1 && strstr(err.msg, "link"));
    /* rewritten: the link is replaced, not followed */
    ASSERT_OK(sk_layer_cache_put(&lc, diff1, gz1, 1234, &err), &err);
    ASSERT(sk_layer_cache_get(&lc, diff1, d, &sz, &err) == 1);
    {
        struct stat st;
        ASSERT(lstat(e1, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
    }
    /* a new key (the old one damaged) makes every old entry invalid */
    {
        char key[1300];
        snprintf(key, sizeof(key), "%s/layers/key", cache);
        put_file(key, "short", 0600);
    }
    ASSERT_OK(sk_layer_cache_init(&again, cache, 1, &err), &err);
    ASSERT(sk_layer_cache_get(&again, diff2, d, &sz, &err) == -1 && strstr(err.msg, "MAC"));
    sk_layer_cache_release(&again);
    /* a cache directory others can write: no cache */
    chmod(cache, 0777);
    ASSERT(sk_layer_cache_init(&again, cache, 1, &err) < 0);
    sk_layer_cache_release(&again);
    chmod(cache, 0700);
    sk_layer_cache_release(&lc);
    sk_layer_cache_release(&lc9);
}

/* ---- the ECR token --------------------------------------------------------------------------- */

#define PROXY "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"
#define T0 1767225600 /* fake_aws's clock: 2026-01-01T00:00:00Z */

/* authorizationToken is base64 "AWS:<password>"; expiresAt is epoch seconds, 12 h after T0. */
static const char tok_a[] = "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOnBhc3N3b3JkLWE=\","
                            "\"expiresAt\":1767268800,\"proxyEndpoint\":\"" PROXY "\"}]}";
static const char tok_b[] = "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOnBhc3N3b3JkLWI=\","
                            "\"expiresAt\":1767268800,\"proxyEndpoint\":"
                            "\"https://210987654321.dkr.ecr.eu-west-1.amazonaws.com\"}]}";
/* issued 6 h after T0, 12 h to live */
static const char tok_c[] = "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOnBhc3N3b3JkLWM=\","
                            "\"expiresAt\":1767290400,\"proxyEndpoint\":\"" PROXY "\"}]}";
static const char tok_d[] = "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOnBhc3N3b3JkLWQ=\","
                            "\"expiresAt\":1767290400,\"proxyEndpoint\":\"" PROXY "\"}]}";

/* The one file in dir/ecr-auth (the cache names it by a hash), into out; 0 or -1. */
static int token_file(const char *tdir, char *out, size_t n)
{
    char sub[1300];
    struct dirent *e;
    DIR *d;
    int found = 0;

    snprintf(sub, sizeof(sub), "%s/ecr-auth", tdir);
    if (!(d = opendir(sub)))
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && !strstr(e->d_name, ".tmp") && !found++)
            snprintf(out, n, "%s/%s", sub, e->d_name);
    closedir(d);
    return found == 1 ? 0 : -1;
}

TEST(token_fetch_and_cache)
{
    static const struct fake_answer a[] = { { 200, tok_a }, { 200, tok_b }, { 200, tok_c }, { 200, tok_d } };
    struct sk_ecr_token t;
    struct fake_aws f;
    struct sk_err err;
    char tdir[1200], file[1600];
    struct stat st;

    snprintf(tdir, sizeof(tdir), "%s/tokens/shipkit", dir);
    if (fake_aws_init(&f, a, 4) < 0)
        return;
    /* fetched, and cached in a private file */
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    ASSERT(f.calls == 1);
    ASSERT(strstr(f.url[0], "https://api.ecr.eu-west-1.amazonaws.com") == f.url[0]);
    ASSERT_STREQ(f.target[0], "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    ASSERT_STREQ(f.body[0], "{}");
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWE=");
    ASSERT_STREQ(t.proxy_endpoint, PROXY);
    ASSERT(t.issued == T0 && t.expires == T0 + 43200 && !t.from_cache);
    sk_ecr_token_release(&t);
    ASSERT(token_file(tdir, file, sizeof(file)) == 0);
    ASSERT(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);

    /* a hit: no call */
    f.now = T0 + 6 * 3600 - 1;
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    ASSERT(f.calls == 1);
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWE=");
    ASSERT_STREQ(t.proxy_endpoint, PROXY);
    ASSERT(t.issued == T0 && t.expires == T0 + 43200 && t.from_cache);
    sk_ecr_token_release(&t);

    /* another registry: a miss, asked for by id, cached apart */
    ASSERT_OK(sk_ecr_token_get(&f.c, "210987654321", tdir, &t, &err), &err);
    ASSERT(f.calls == 2);
    ASSERT_STREQ(f.body[1], "{\"registryIds\":[\"210987654321\"]}");
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWI=");
    ASSERT(!t.from_cache);
    sk_ecr_token_release(&t);

    /* half the lifetime gone: fetched again, and the new one cached */
    f.now = T0 + 6 * 3600;
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    ASSERT(f.calls == 3);
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWM=");
    ASSERT(t.issued == T0 + 6 * 3600 && !t.from_cache);
    sk_ecr_token_release(&t);
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    ASSERT(f.calls == 3 && t.from_cache);
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWM=");
    sk_ecr_token_release(&t);

    /* a cache file others can read is not trusted */
    ASSERT(token_file(tdir, file, sizeof(file)) < 0); /* two registries: two files */
    sh("chmod 644 '%s'/ecr-auth/*", tdir);
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    ASSERT(f.calls == 4 && !t.from_cache);
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWQ=");
    sk_ecr_token_release(&t);
    fake_aws_release(&f);
}

TEST(token_cache_is_per_key)
{
    static const struct fake_answer a[] = { { 200, tok_a }, { 200, tok_b } };
    struct sk_ecr_token t;
    struct fake_aws f;
    struct sk_err err;
    char tdir[1200];

    snprintf(tdir, sizeof(tdir), "%s/tokens2/shipkit", dir);
    if (fake_aws_init(&f, a, 2) < 0)
        return;
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    sk_ecr_token_release(&t);
    fake_aws_release(&f);
    /* other credentials: the first token is not theirs */
    setenv("AWS_ACCESS_KEY_ID", "AKIDOTHER", 1);
    if (fake_aws_start(&f, a + 1, 1) < 0)
        return;
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, tdir, &t, &err), &err);
    ASSERT(f.calls == 1 && !t.from_cache);
    ASSERT_STREQ(t.token, "QVdTOnBhc3N3b3JkLWI=");
    sk_ecr_token_release(&t);
    fake_aws_release(&f);
}

TEST(token_answers)
{
    static const struct fake_answer a[] = {
        /* no expiresAt, or one in the past: 12 hours, as documented */
        { 200, "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOng=\",\"proxyEndpoint\":\"" PROXY "\"}]}" },
        { 200, "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOng=\",\"expiresAt\":1000,"
               "\"proxyEndpoint\":\"" PROXY "\"}]}" },
        { 200, "{\"authorizationData\":[]}" },
        { 200, "{\"authorizationData\":[{\"authorizationToken\":\"QVdTOng=\"}]}" },
        { 400, "{\"__type\":\"AccessDeniedException\",\"message\":\"not authorized to perform: "
               "ecr:GetAuthorizationToken\"}" },
    };
    struct sk_ecr_token t;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 5) < 0)
        return;
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, NULL, &t, &err), &err);
    ASSERT(t.expires == T0 + 12 * 3600 && !t.from_cache);
    sk_ecr_token_release(&t);
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, NULL, &t, &err), &err);
    ASSERT(t.expires == T0 + 12 * 3600);
    sk_ecr_token_release(&t);
    ASSERT_ERR(sk_ecr_token_get(&f.c, NULL, NULL, &t, &err), &err, SK_E_PARSE);
    ASSERT(strstr(err.msg, "no authorizationData") != NULL);
    sk_ecr_token_release(&t);
    ASSERT_ERR(sk_ecr_token_get(&f.c, NULL, NULL, &t, &err), &err, SK_E_PARSE); /* no proxyEndpoint */
    sk_ecr_token_release(&t);
    ASSERT_ERR(sk_ecr_token_get(&f.c, NULL, NULL, &t, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "AccessDeniedException");
    ASSERT(t.token == NULL);
    sk_ecr_token_release(&t);
    ASSERT(f.calls == 5); /* without a cache directory, every call asks */
    fake_aws_release(&f);
}

TEST(token_proxy_endpoint_host)
{
    static const struct fake_answer a[] = { { 200, tok_a } };
    struct sk_ecr_token t;
    struct fake_aws f;
    struct sk_err err;
    char *h;

    h = sk_ecr_proxy_host(PROXY);
    ASSERT_STREQ(h, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    free(h);
    h = sk_ecr_proxy_host("https://127.0.0.1:5443/v2/?x#y");
    ASSERT_STREQ(h, "127.0.0.1:5443");
    free(h);
    h = sk_ecr_proxy_host("127.0.0.1:5443");
    ASSERT_STREQ(h, "127.0.0.1:5443");
    free(h);
    /* the fetched token goes to its own account's registry hosts, and nowhere else */
    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_ecr_token_get(&f.c, NULL, NULL, &t, &err), &err);
    ASSERT(sk_ecr_token_for_host(t.proxy_endpoint, "123456789012.dkr.ecr.eu-west-1.amazonaws.com") == 1);
    ASSERT(sk_ecr_token_for_host(t.proxy_endpoint, "123456789012.dkr.ecr.us-east-1.amazonaws.com") == 1);
    ASSERT(sk_ecr_token_for_host(t.proxy_endpoint, "210987654321.dkr.ecr.eu-west-1.amazonaws.com") == 0);
    ASSERT(sk_ecr_token_for_host(t.proxy_endpoint, "api.ecr.eu-west-1.amazonaws.com") == 0);
    ASSERT(sk_ecr_token_for_host(t.proxy_endpoint, "127.0.0.1:5443") == 0);
    sk_ecr_token_release(&t);
    fake_aws_release(&f);
}

int main(void)
{
    char cmd[1200];
    int rc;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(cache, sizeof(cache), "%s/cache/shipkit", dir);
    RUN(ecr_hosts);
    RUN(token_goes_only_to_the_account);
    RUN(cache_files);
    RUN(layer_cache);
    RUN(token_fetch_and_cache);
    RUN(token_cache_is_per_key);
    RUN(token_answers);
    RUN(token_proxy_endpoint_host);
    rc = DONE();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
