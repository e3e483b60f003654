#include "ecr.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "json.h"
#include "jsonw.h"
#include "mem.h"
#include "sigv4.h"

void sk_ecr_token_release(struct sk_ecr_token *t)
{
    sk_free_secret(t->token);
    free(t->proxy_endpoint);
    memset(t, 0, sizeof(*t));
}

int sk_ecr_parse_host(const char *host, char **account, char **region)
{
    const char *p = host, *dot;
    size_t n;

    n = strspn(p, "0123456789");
    if (n != 12 || strncmp(p + n, ".dkr.ecr", 8) != 0)
        return 0;
    p += n + 8;
    if (strncmp(p, "-fips", 5) == 0)
        p += 5;
    if (*p++ != '.')
        return 0;
    dot = strchr(p, '.');
    if (!dot || (strcmp(dot, ".amazonaws.com") != 0 && strcmp(dot, ".amazonaws.com.cn") != 0))
        return 0;
    /* A region is lower-case letters, digits and dashes: anything else would end up in an endpoint. */
    if (dot == p || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-") != (size_t)(dot - p))
        return 0;
    *account = xstrndup(host, 12);
    *region = xstrndup(p, (size_t)(dot - p));
    return 1;
}

char *sk_cache_dir(void)
{
    const char *x = sk_getenv("XDG_CACHE_HOME"), *home = sk_getenv("HOME");
    struct sk_buf b = SK_BUF_INIT;

    if (x && x[0] == '/')
        sk_buf_addf(&b, "%s/shipkit", x);
    else if (home)
        sk_buf_addf(&b, "%s/.cache/shipkit", home);
    else
        return NULL;
    return sk_buf_detach(&b, NULL);
}

int sk_mkdirs(const char *path, int mode, struct sk_err *err)
{
    char *p = xstrdup(path), *s;
    int rc = 0;

    for (s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
                rc = sk_errf(err, SK_E_IO, "cannot create '%s': %s", p, strerror(errno));
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return rc;
}

static char *cache_path(const char *dir, const struct sk_client *c, const char *akid, const char *endpoint,
                        const char *registry_id)
{
    struct sk_buf key = SK_BUF_INIT, path = SK_BUF_INIT;
    char hex[65];

    sk_buf_addf(&key, "%s\n%s\n%s\n%s", akid, c->region, endpoint, registry_id ? registry_id : "");
    sk_sha256_hex(key.p, key.len, hex);
    hex[32] = '\0';
    sk_buf_addf(&path, "%s/ecr-auth/%s.json", dir, hex);
    sk_buf_release(&key);
    return sk_buf_detach(&path, NULL);
}

static int read_cache(const char *path, time_t now, struct sk_ecr_token *out)
{
    struct sk_buf text = SK_BUF_INIT;
    char tmp[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = -1;
    struct stat st;
    jv doc = jv_invalid();
    double issued = 0, expires = 0;
    struct sk_err ignored;

    if (fd < 0)
        return -1;
    /* Only a private file of ours is trusted. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) || st.st_uid != geteuid())
        goto out;
    sk_buf_init_secret(&text);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0 && text.len < 65536)
        sk_buf_add(&text, tmp, (size_t)n);
    sk_wipe(tmp, sizeof(tmp));
    if (sk_json_parse(text.p, text.len, &doc, &ignored) < 0)
        goto out;
    if (!sk_json_str(doc, "token") || !sk_json_str(doc, "proxyEndpoint") || sk_json_num(doc, "issued", &issued) < 0 ||
        sk_json_num(doc, "expires", &expires) < 0)
        goto out;
    /* Reuse until half the lifetime has passed. */
    if (expires <= issued || (double)now >= issued + (expires - issued) / 2)
        goto out;
    out->token = xstrdup(sk_json_str(doc, "token"));
    out->proxy_endpoint = xstrdup(sk_json_str(doc, "proxyEndpoint"));
    out->issued = (time_t)issued;
    out->expires = (time_t)expires;
    out->from_cache = 1;
    rc = 0;
out:
    sk_json_wipe_strings(doc); /* jv frees without wiping: clear its copy of the token */
    jv_free(doc);
    sk_buf_release(&text);
    close(fd);
    return rc;
}

static void write_cache(const char *path, const struct sk_ecr_token *t)
{
    struct sk_buf body = SK_BUF_INIT, tmp = SK_BUF_INIT;
    struct sk_jsonw w;
    int fd;

    sk_buf_init_secret(&body);
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "token", t->token);
    sk_jsonw_str(&w, "proxyEndpoint", t->proxy_endpoint);
    sk_jsonw_int(&w, "issued", (long long)t->issued);
    sk_jsonw_int(&w, "expires", (long long)t->expires);
    sk_jsonw_end(&w);
    sk_buf_addch(&body, '\n');
    sk_buf_addf(&tmp, "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        int ok = write(fd, body.p, body.len) == (ssize_t)body.len;
        ok &= fsync(fd) == 0;
        ok &= close(fd) == 0;
        if (!ok || rename(tmp.p, path) < 0)
            unlink(tmp.p); /* a cache we cannot write is only slower */
    }
    sk_buf_release(&body);
    sk_buf_release(&tmp);
}

int sk_ecr_token_get(struct sk_client *c, const char *registry_id, const char *cache_dir, struct sk_ecr_token *out,
                     struct sk_err *err)
{
    const struct sk_creds *creds;
    char *endpoint = NULL, *path = NULL, *dir = NULL;
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    jv res = jv_invalid(), data = jv_invalid(), item = jv_invalid();
    const char *token, *proxy;
    double expires = 0;
    time_t now;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (sk_client_creds(c, &creds, err) < 0 || sk_client_endpoint(c, &sk_svc_ecr, &endpoint, err) < 0)
        goto out;
    now = sk_transport_now(&c->t);
    if (cache_dir) {
        path = cache_path(cache_dir, c, creds->access_key_id, endpoint, registry_id);
        if (read_cache(path, now, out) == 0) {
            rc = 0;
            goto out;
        }
    }
    sk_jsonw_begin(&w, &body);
    if (registry_id) {
        struct sk_buf ids = SK_BUF_INIT;
        sk_buf_addch(&ids, '[');
        sk_json_escape(&ids, registry_id, strlen(registry_id));
        sk_buf_addch(&ids, ']');
        sk_jsonw_raw(&w, "registryIds", ids.p);
        sk_buf_release(&ids);
    }
    sk_jsonw_end(&w);
    if (sk_client_json_raw(c, &sk_svc_ecr, "GetAuthorizationToken", body.p, body.len, SK_API_SECRET_RESP, &res, err) <
        0)
        goto out;
    data = sk_json_get(res, "authorizationData");
    if (jv_get_kind(data) == JV_KIND_ARRAY && jv_array_length(jv_copy(data)) > 0)
        item = jv_array_get(jv_copy(data), 0);
    token = sk_json_str(item, "authorizationToken");
    proxy = sk_json_str(item, "proxyEndpoint");
    if (!token || !proxy) {
        sk_errf(err, SK_E_PARSE, "ecr GetAuthorizationToken: no authorizationData in the response");
        goto out;
    }
    sk_json_num(item, "expiresAt", &expires);
    out->token = xstrdup(token);
    out->proxy_endpoint = xstrdup(proxy);
    out->issued = now;
    out->expires = expires > (double)now ? (time_t)expires : now + 12 * 3600;
    if (cache_dir) {
        dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        if (sk_mkdirs(dir, 0700, NULL) == 0)
            write_cache(path, out);
    }
    rc = 0;
out:
    jv_free(item);
    jv_free(data);
    sk_json_wipe_strings(res); /* the token */
    jv_free(res);
    sk_buf_release(&body);
    free(endpoint);
    free(path);
    free(dir);
    return rc;
}
