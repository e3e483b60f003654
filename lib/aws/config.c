/*
 * config.c - the shared config/credentials INI files (the format of
 * https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html, parsed as aws-c-sdkutils'
 * aws_profile.c does), profile selection, region and endpoint resolution (the references in
 * config.h).
 */
#include "aws/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/uri.h"

static const char env_config_file[] = "AWS_CONFIG_FILE";
static const char env_credentials_file[] = "AWS_SHARED_CREDENTIALS_FILE";
static const char env_profile[] = "AWS_PROFILE";
static const char env_default_profile[] = "AWS_DEFAULT_PROFILE";
static const char env_region[] = "AWS_REGION";
static const char env_default_region[] = "AWS_DEFAULT_REGION";
static const char env_endpoint_url[] = "AWS_ENDPOINT_URL";
static const char env_ignore_endpoints[] = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";
static const char env_allow_cleartext[] = "SK_ALLOW_CLEARTEXT";
static const char env_use_fips[] = "AWS_USE_FIPS_ENDPOINT";
static const char env_use_dualstack[] = "AWS_USE_DUALSTACK_ENDPOINT";

/* Config files are small; anything bigger is almost certainly not one. */
#define MAX_CONFIG_FILE (4u << 20)

const char *sk_getenv(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

int sk_truthy(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* ---- INI data structure -------------------------------------------------------------------- */

static void prop_release(struct sk_ini_prop *p)
{
    size_t i;

    for (i = 0; i < p->nsubs; i++)
        prop_release(&p->subs[i]);
    free(p->subs);
    free(p->key);
    /* Values may be aws_secret_access_key. */
    sk_free_secret(p->value);
    memset(p, 0, sizeof(*p));
}

static void section_release(struct sk_ini_section *s)
{
    size_t i;

    for (i = 0; i < s->nprops; i++)
        prop_release(&s->props[i]);
    free(s->props);
    free(s->name);
    memset(s, 0, sizeof(*s));
}

void sk_ini_release(struct sk_ini *ini)
{
    size_t i;

    if (!ini)
        return;
    for (i = 0; i < ini->nsections; i++)
        section_release(&ini->sections[i]);
    free(ini->sections);
    ini->sections = NULL;
    ini->nsections = 0;
}

const struct sk_ini_section *sk_ini_section(const struct sk_ini *ini, enum sk_ini_kind kind, const char *name)
{
    size_t i;

    if (!ini || !name)
        return NULL;
    for (i = 0; i < ini->nsections; i++)
        if (ini->sections[i].kind == kind && strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    return NULL;
}

const struct sk_ini_prop *sk_ini_prop(const struct sk_ini_section *s, const char *key)
{
    size_t i;

    if (!s || !key)
        return NULL;
    for (i = 0; i < s->nprops; i++)
        if (strcmp(s->props[i].key, key) == 0)
            return &s->props[i];
    return NULL;
}

static struct sk_ini_section *section_get(struct sk_ini *ini, enum sk_ini_kind kind, const char *name, size_t nlen)
{
    struct sk_ini_section *s;
    size_t i;

    for (i = 0; i < ini->nsections; i++) {
        s = &ini->sections[i];
        if (s->kind == kind && strlen(s->name) == nlen && memcmp(s->name, name, nlen) == 0)
            return s;
    }
    ini->sections = xrealloc(ini->sections, (ini->nsections + 1) * sizeof(*ini->sections));
    s = &ini->sections[ini->nsections++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->name = xstrndup(name, nlen);
    return s;
}

static void section_remove(struct sk_ini *ini, size_t idx)
{
    section_release(&ini->sections[idx]);
    memmove(&ini->sections[idx], &ini->sections[idx + 1], (ini->nsections - idx - 1) * sizeof(*ini->sections));
    ini->nsections--;
}

/* Find or append key in an array of properties. A found property keeps its position. */
static struct sk_ini_prop *props_get(struct sk_ini_prop **v, size_t *n, const char *key, size_t klen)
{
    struct sk_ini_prop *p;
    size_t i;

    for (i = 0; i < *n; i++) {
        p = &(*v)[i];
        if (strlen(p->key) == klen && memcmp(p->key, key, klen) == 0)
            return p;
    }
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    p = &(*v)[(*n)++];
    memset(p, 0, sizeof(*p));
    p->key = xstrndup(key, klen);
    p->value = xstrdup("");
    return p;
}

static void prop_set_value(struct sk_ini_prop *p, const char *v, size_t vlen)
{
    sk_free_secret(p->value);
    p->value = xstrndup(v, vlen);
}

/* Merge src into dst the way aws_profile_collection_new_from_merge does: values replace,
 * sub-properties merge key by key. */
static void ini_merge(struct sk_ini *dst, const struct sk_ini *src)
{
    size_t i, j, k;

    for (i = 0; i < src->nsections; i++) {
        const struct sk_ini_section *ss = &src->sections[i];
        struct sk_ini_section *ds = section_get(dst, ss->kind, ss->name, strlen(ss->name));

        for (j = 0; j < ss->nprops; j++) {
            const struct sk_ini_prop *sp = &ss->props[j];
            struct sk_ini_prop *dp = props_get(&ds->props, &ds->nprops, sp->key, strlen(sp->key));

            prop_set_value(dp, sp->value, strlen(sp->value));
            for (k = 0; k < sp->nsubs; k++) {
                const struct sk_ini_prop *sub = &sp->subs[k];
                struct sk_ini_prop *dsub = props_get(&dp->subs, &dp->nsubs, sub->key, strlen(sub->key));

                prop_set_value(dsub, sub->value, strlen(sub->value));
            }
        }
    }
}

/* ---- INI parser ------------------------------------------------------------------------------ */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_ident(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\\' || c == '_' ||
           c == '-' || c == '/' || c == '.' || c == '%' || c == '@' || c == ':' || c == '+';
}

static int is_comment_char(char c)
{
    return c == '#' || c == ';';
}

struct cursor {
    const char *p;
    size_t n;
};

static void rtrim(struct cursor *c)
{
    while (c->n && is_ws(c->p[c->n - 1]))
        c->n--;
}

static size_t skip_ws(struct cursor *c)
{
    size_t k = 0;

    while (k < c->n && is_ws(c->p[k]))
        k++;
    c->p += k;
    c->n -= k;
    return k;
}

static size_t span_ident(const struct cursor *c)
{
    size_t k = 0;

    while (k < c->n && is_ident(c->p[k]))
        k++;
    return k;
}

static int all_ident(const char *p, size_t n)
{
    size_t i;

    if (!n)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_ident(p[i]))
            return 0;
    return 1;
}

/* Consume `word` followed by at least one whitespace character. */
static int eat_prefix(struct cursor *c, const char *word)
{
    size_t n = strlen(word);

    if (c->n <= n || memcmp(c->p, word, n) != 0 || !is_ws(c->p[n]))
        return 0;
    c->p += n;
    c->n -= n;
    skip_ws(c);
    return 1;
}

struct parse {
    struct sk_ini ini;       /* what this file contains, merged into the target at the end */
    unsigned char *prefixed; /* per section of ini: declared as [profile default] */
    size_t nprefixed;
    enum sk_ini_source src;
    const char *origin;
    size_t line;
    int seen_section;
    struct sk_ini_section *cur; /* NULL: the current section is ignored */
    long cur_prop;              /* index in cur->props, -1 when none */
    int skipping;               /* inside an ignored section or after an ignored property */
};

static int parse_fail(struct parse *ps, struct sk_err *err, const char *what)
{
    return sk_errf(err, SK_E_CONFIG, "%s:%zu: %s", ps->origin, ps->line, what);
}

static void mark_prefixed(struct parse *ps, const struct sk_ini_section *s)
{
    size_t idx = (size_t)(s - ps->ini.sections);

    if (idx >= ps->nprefixed) {
        ps->prefixed = xrealloc(ps->prefixed, idx + 1);
        memset(ps->prefixed + ps->nprefixed, 0, idx + 1 - ps->nprefixed);
        ps->nprefixed = idx + 1;
    }
    ps->prefixed[idx] = 1;
}

static int section_line(struct parse *ps, struct cursor line, struct sk_err *err)
{
    enum sk_ini_kind kind = SK_INI_PROFILE;
    int has_prefix = 0;
    struct cursor c = line;
    size_t k, nlen;
    const char *name;

    /* On a section line a comment starts at any '#' or ';'. */
    for (k = 0; k < c.n; k++)
        if (is_comment_char(c.p[k]))
            break;
    c.n = k;
    rtrim(&c);
    if (!memchr(c.p, ']', c.n))
        return parse_fail(ps, err, "section header is missing ']'");

    ps->seen_section = 1;
    ps->cur = NULL;
    ps->cur_prop = -1;
    ps->skipping = 1;

    c.p++, c.n--; /* '[' */
    skip_ws(&c);
    if (eat_prefix(&c, "profile"))
        kind = SK_INI_PROFILE, has_prefix = 1;
    else if (eat_prefix(&c, "sso-session"))
        kind = SK_INI_SSO_SESSION, has_prefix = 1;
    else if (eat_prefix(&c, "services"))
        kind = SK_INI_SERVICES, has_prefix = 1;

    /* Credentials files have plain [name] sections only: a typed section there is ignored. */
    if (has_prefix && ps->src == SK_INI_CREDENTIALS_FILE)
        return 0;
    name = c.p;
    nlen = span_ident(&c);
    if (!nlen)
        return 0;
    c.p += nlen, c.n -= nlen;
    /* In config, a profile other than default needs the "profile " prefix, else it is ignored. */
    if (ps->src == SK_INI_CONFIG_FILE && !has_prefix && !(nlen == 7 && memcmp(name, "default", 7) == 0))
        return 0;
    skip_ws(&c);
    if (!c.n || c.p[0] != ']')
        return 0; /* invalid characters in the name: ignored, as aws-c-sdkutils does */

    if (ps->src == SK_INI_CONFIG_FILE && kind == SK_INI_PROFILE && nlen == 7 && memcmp(name, "default", 7) == 0) {
        const struct sk_ini_section *old = sk_ini_section(&ps->ini, SK_INI_PROFILE, "default");
        size_t idx = old ? (size_t)(old - ps->ini.sections) : 0;
        int old_prefixed = old && idx < ps->nprefixed && ps->prefixed[idx];

        /* [profile default] always supersedes [default], whichever comes first. */
        if (old && old_prefixed && !has_prefix)
            return 0;
        if (old && !old_prefixed && has_prefix) {
            section_remove(&ps->ini, idx);
            if (idx < ps->nprefixed) {
                memmove(ps->prefixed + idx, ps->prefixed + idx + 1, ps->nprefixed - idx - 1);
                ps->nprefixed--;
            }
        }
    }
    ps->cur = section_get(&ps->ini, kind, name, nlen);
    if (kind == SK_INI_PROFILE && has_prefix)
        mark_prefixed(ps, ps->cur);
    ps->skipping = 0;
    return 0;
}

static int continuation_line(struct parse *ps, struct cursor line, struct sk_err *err)
{
    struct cursor c = line;
    struct sk_ini_prop *p;
    struct sk_buf v = SK_BUF_INIT;
    const char *eq;
    struct cursor key;

    /* No comments on continuation lines: they fold into the value. */
    rtrim(&c);
    skip_ws(&c);
    if (ps->skipping)
        return 0;
    if (!ps->cur || ps->cur_prop < 0)
        return parse_fail(ps, err, "continuation line outside a property");
    p = &ps->cur->props[ps->cur_prop];
    if (!*p->value) {
        /* A property with an empty value takes indented "sub = value" lines as sub-properties. */
        eq = memchr(c.p, '=', c.n);
        if (!eq || eq == c.p)
            return parse_fail(ps, err, "sub-property line needs 'key = value'");
        key.p = c.p;
        key.n = (size_t)(eq - c.p);
        rtrim(&key);
        if (!all_ident(key.p, key.n))
            return 0; /* invalid sub-property name: ignored */
        c.n -= (size_t)(eq + 1 - c.p);
        c.p = eq + 1;
        skip_ws(&c);
        prop_set_value(props_get(&p->subs, &p->nsubs, key.p, key.n), c.p, c.n);
        return 0;
    }
    sk_buf_init_secret(&v);
    sk_buf_adds(&v, p->value);
    sk_buf_addch(&v, '\n');
    sk_buf_add(&v, c.p, c.n);
    prop_set_value(p, v.p, v.len);
    sk_buf_release(&v);
    return 0;
}

static int property_line(struct parse *ps, struct cursor line, struct sk_err *err)
{
    struct cursor c = line, key;
    const char *eq;
    size_t k;
    struct sk_ini_prop *p;

    /* On a property line a comment needs whitespace before it, so "key=a#b" keeps "a#b". */
    for (k = 0; k + 1 < c.n; k++)
        if (is_ws(c.p[k]) && is_comment_char(c.p[k + 1]))
            break;
    if (k + 1 < c.n)
        c.n = k;
    rtrim(&c);

    ps->cur_prop = -1;
    ps->skipping = 1;
    eq = memchr(c.p, '=', c.n);
    if (!eq || eq == c.p)
        return parse_fail(ps, err, "expected 'key = value'");
    key.p = c.p;
    key.n = (size_t)(eq - c.p);
    rtrim(&key);
    if (!ps->seen_section)
        return parse_fail(ps, err, "property before any section");
    if (!all_ident(key.p, key.n) || !ps->cur)
        return 0; /* invalid name, or inside an ignored section */
    c.n -= (size_t)(eq + 1 - c.p);
    c.p = eq + 1;
    skip_ws(&c);

    /* A repeated key replaces the earlier property, sub-properties included. */
    p = props_get(&ps->cur->props, &ps->cur->nprops, key.p, key.n);
    for (k = 0; k < p->nsubs; k++)
        prop_release(&p->subs[k]);
    free(p->subs);
    p->subs = NULL;
    p->nsubs = 0;
    prop_set_value(p, c.p, c.n);
    ps->cur_prop = p - ps->cur->props;
    ps->skipping = 0;
    return 0;
}

int sk_ini_parse(struct sk_ini *ini, const char *text, size_t len, enum sk_ini_source src, const char *origin,
                 struct sk_err *err)
{
    struct parse ps;
    const char *end = text + len, *nl;
    struct cursor line;
    int rc = -1;

    memset(&ps, 0, sizeof(ps));
    ps.src = src;
    ps.origin = origin ? origin : "config";
    ps.cur_prop = -1;

    while (text < end) {
        nl = memchr(text, '\n', (size_t)(end - text));
        line.p = text;
        line.n = nl ? (size_t)(nl - text) : (size_t)(end - text);
        text = nl ? nl + 1 : end;
        ps.line++;

        while (line.n && line.p[line.n - 1] == '\r')
            line.n--; /* CRLF */
        if (!line.n || is_comment_char(line.p[0]))
            continue;
        {
            struct cursor t = line;
            if (skip_ws(&t) && !t.n)
                continue; /* blank line */
        }
        if (line.p[0] == '[') {
            if (section_line(&ps, line, err))
                goto out;
        } else if (is_ws(line.p[0])) {
            if (continuation_line(&ps, line, err))
                goto out;
        } else if (property_line(&ps, line, err)) {
            goto out;
        }
    }
    ini_merge(ini, &ps.ini);
    rc = 0;
out:
    sk_ini_release(&ps.ini);
    free(ps.prefixed);
    return rc;
}

/* ---- loading the files ------------------------------------------------------------------------ */

/* Read path into a secret buffer. A file that does not exist is not an error (*found = 0). */
static int read_config_file(const char *path, struct sk_buf *out, int *found, struct sk_err *err)
{
    struct stat st;
    char tmp[4096];
    ssize_t n;
    int fd = -1, rc = -1;

    *found = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        rc = sk_errf(err, SK_E_IO, "cannot open '%s': %s", path, strerror(errno));
        err->sys_errno = errno;
        return rc;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        sk_errf(err, SK_E_IO, "cannot read '%s': is a directory", path);
        err->sys_errno = EISDIR;
        goto out;
    }
    for (;;) {
        n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sk_errf(err, SK_E_IO, "cannot read '%s': %s", path, strerror(errno));
            err->sys_errno = errno;
            goto out;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > MAX_CONFIG_FILE) {
            sk_errf(err, SK_E_CONFIG, "'%s' is larger than %u bytes", path, MAX_CONFIG_FILE);
            goto out;
        }
        sk_buf_add(out, tmp, (size_t)n);
    }
    *found = 1;
    rc = 0;
out:
    sk_wipe(tmp, sizeof(tmp));
    close(fd);
    return rc;
}

/* Path from env, else ~/.aws/<name>; a leading "~/" is expanded. NULL when HOME is unknown. */
static char *config_path(const char *env, const char *name)
{
    const char *v = sk_getenv(env), *home = sk_getenv("HOME");
    struct sk_buf b = SK_BUF_INIT;

    if (v && !(v[0] == '~' && v[1] == '/'))
        return xstrdup(v);
    if (!home)
        return v ? xstrdup(v) : NULL;
    if (v)
        sk_buf_addf(&b, "%s%s", home, v + 1);
    else
        sk_buf_addf(&b, "%s/.aws/%s", home, name);
    return sk_buf_detach(&b, NULL);
}

static int load_one(struct sk_ini *ini, const char *env, const char *name, enum sk_ini_source src, int *found,
                    struct sk_err *err)
{
    char *path = config_path(env, name);
    struct sk_buf text = SK_BUF_INIT;
    int rc = 0;

    *found = 0;
    if (!path)
        return 0;
    sk_buf_init_secret(&text);
    rc = read_config_file(path, &text, found, err);
    if (!rc && *found)
        rc = sk_ini_parse(ini, text.p, text.len, src, path, err);
    sk_buf_release(&text);
    free(path);
    return rc;
}

int sk_config_load(struct sk_config *c, const char *profile_override, struct sk_err *err)
{
    const char *name, *why = NULL;
    int found_conf = 0, found_creds = 0;

    memset(c, 0, sizeof(*c));
    if (load_one(&c->ini, env_config_file, "config", SK_INI_CONFIG_FILE, &found_conf, err) ||
        load_one(&c->ini, env_credentials_file, "credentials", SK_INI_CREDENTIALS_FILE, &found_creds, err)) {
        sk_ini_release(&c->ini);
        return -1;
    }
    if (profile_override && *profile_override) {
        name = profile_override;
        why = "--profile";
        c->profile_explicit = 1;
    } else if ((name = sk_getenv(env_profile))) {
        why = env_profile;
    } else if (!(name = sk_getenv(env_default_profile))) {
        name = "default";
    }
    if (why && !sk_ini_section(&c->ini, SK_INI_PROFILE, name)) {
        sk_ini_release(&c->ini);
        c->profile_explicit = 0;
        return sk_errf(err, SK_E_CONFIG, "profile '%s' (from %s) not found in the config or credentials file", name,
                       why);
    }
    c->profile = xstrdup(name);
    return 0;
}

void sk_config_release(struct sk_config *c)
{
    if (!c)
        return;
    sk_ini_release(&c->ini);
    free(c->profile);
    c->profile = NULL;
    c->profile_explicit = 0;
}

static const struct sk_ini_section *profile_section(const struct sk_config *c, const char *profile)
{
    if (!c)
        return NULL;
    return sk_ini_section(&c->ini, SK_INI_PROFILE, profile ? profile : c->profile);
}

const char *sk_config_get(const struct sk_config *c, const char *profile, const char *key)
{
    const struct sk_ini_prop *p = sk_ini_prop(profile_section(c, profile), key);

    return p ? p->value : NULL;
}

const char *sk_config_get_sub(const struct sk_config *c, const char *profile, const char *key, const char *sub)
{
    const struct sk_ini_prop *p = sk_ini_prop(profile_section(c, profile), key);
    size_t i;

    if (!p || !sub)
        return NULL;
    for (i = 0; i < p->nsubs; i++)
        if (strcmp(p->subs[i].key, sub) == 0)
            return p->subs[i].value;
    return NULL;
}

const char *sk_config_sso_get(const struct sk_config *c, const char *session, const char *key)
{
    const struct sk_ini_prop *p = c ? sk_ini_prop(sk_ini_section(&c->ini, SK_INI_SSO_SESSION, session), key) : NULL;

    return p ? p->value : NULL;
}

int sk_config_has_sso_session(const struct sk_config *c, const char *session)
{
    return c && sk_ini_section(&c->ini, SK_INI_SSO_SESSION, session) != NULL;
}

/* ---- region and endpoints ------------------------------------------------------------------ */

static int valid_region(const char *r)
{
    if (!*r)
        return 0;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return 0;
    return 1;
}

int sk_config_region(const struct sk_config *c, const char *cli_region, char **out, struct sk_err *err)
{
    const char *r = NULL, *from = NULL;

    if (cli_region && *cli_region)
        r = cli_region, from = "--region";
    else if ((r = sk_getenv(env_region)))
        from = env_region;
    else if ((r = sk_getenv(env_default_region)))
        from = env_default_region;
    else if ((r = sk_config_get(c, NULL, "region")) && *r)
        from = "the profile's region";
    else
        return sk_errf(err, SK_E_CONFIG, "no region: use --region, AWS_REGION or region in profile '%s'",
                       c && c->profile ? c->profile : "default");
    if (!valid_region(r))
        return sk_errf(err, SK_E_USAGE, "invalid region '%.64s' from %s", r, from);
    *out = xstrdup(r);
    return 0;
}

static int is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* Literally a loopback address, as sk_url_parse leaves a host (lowercase, IPv6 without brackets):
 * localhost, 127.0.0.0/8 in dotted-quad form, ::1. A name is never resolved: one that resolves to
 * loopback today (localhost.example, a DNS answer) may not tomorrow, or elsewhere. */
static int literal_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int sk_config_check_cleartext(const char *url, const char *from, struct sk_err *err)
{
    struct sk_url u = { 0 };
    struct sk_buf where = SK_BUF_INIT;
    int rc = 0;

    if (strncasecmp(url, "http://", 7) != 0 || sk_truthy(sk_getenv(env_allow_cleartext)))
        return 0;
    if (sk_url_parse(url, &u, err) < 0) {
        err->kind = SK_E_CONFIG;
        return sk_err_prefix(err, "%s", from);
    }
    if (!literal_loopback(u.host)) {
        sk_url_host_header(&u, &where); /* the endpoint without its path: no query, no token */
        rc = sk_errf(err, SK_E_CONFIG,
                     "refusing cleartext to 'http://%.200s' (from %s): use https or a loopback address, or set %s=1",
                     where.p, from, env_allow_cleartext);
    }
    sk_buf_release(&where);
    sk_url_release(&u);
    return rc;
}

static int endpoint_out(const char *url, const char *from, enum sk_errkind kind, char **out, struct sk_err *err)
{
    if (!is_http_url(url))
        return sk_errf(err, kind, "endpoint URL from %s must start with http:// or https://", from);
    if (sk_config_check_cleartext(url, from, err) < 0)
        return -1;
    *out = xstrdup(url);
    return 0;
}

/* A boolean setting: env when set, else the profile's key; "true" or "false" in any case
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoints.html). Anything else is an
 * error: a FIPS requirement misspelt must not pass as "false". */
static int bool_setting(const struct sk_config *c, const char *env, const char *key, int *on, const char **fromp,
                        struct sk_err *err)
{
    const char *v = sk_getenv(env), *from = env;

    if (!v) {
        v = sk_config_get(c, NULL, key);
        from = key;
    }
    *fromp = from;
    *on = 0;
    if (!v || !*v || strcasecmp(v, "false") == 0)
        return 0;
    if (strcasecmp(v, "true") == 0) {
        *on = 1;
        return 0;
    }
    if (from == key)
        return sk_errf(err, SK_E_CONFIG, "invalid %s '%.32s' in profile '%s': use true or false", key, v,
                       c && c->profile ? c->profile : "default");
    return sk_errf(err, SK_E_CONFIG, "invalid %s '%.32s': use true or false", env, v);
}

/* The mode, and the settings that asked for it ("AWS_USE_FIPS_ENDPOINT", "use_dualstack_endpoint"). */
static int endpoint_mode(const struct sk_config *c, unsigned *mode, const char **fips_from, const char **ds_from,
                         struct sk_err *err)
{
    int fips, dualstack;

    *mode = 0;
    if (bool_setting(c, env_use_fips, "use_fips_endpoint", &fips, fips_from, err) < 0 ||
        bool_setting(c, env_use_dualstack, "use_dualstack_endpoint", &dualstack, ds_from, err) < 0)
        return -1;
    *mode = (fips ? SK_EP_FIPS : 0) | (dualstack ? SK_EP_DUALSTACK : 0);
    return 0;
}

int sk_config_endpoint_mode(const struct sk_config *c, unsigned *mode, struct sk_err *err)
{
    const char *f, *d;

    return endpoint_mode(c, mode, &f, &d, err);
}

static int override_out(const char *url, const char *from, enum sk_errkind kind, struct sk_endpoint *out,
                        struct sk_err *err)
{
    char *u = NULL;

    if (endpoint_out(url, from, kind, &u, err) < 0)
        return -1;
    out->url = u;
    out->signing_region = NULL;
    return 0;
}

int sk_config_resolve_endpoint(const struct sk_config *c, const struct sk_service *svc, const char *cli_endpoint,
                               const char *region, struct sk_endpoint *out, struct sk_err *err)
{
    char envname[128];
    const char *v, *ign, *services, *fips_from, *ds_from;
    unsigned mode;
    int ignore;

    /* An endpoint given explicitly wins over FIPS and dual-stack, as in the SDKs (botocore's
     * compute_endpoint_resolver_builtin_defaults sets neither when it has one). */
    if (cli_endpoint && *cli_endpoint)
        return override_out(cli_endpoint, "--endpoint-url", SK_E_USAGE, out, err);

    /* The environment decides the ignore flag when set at all, else the profile does. */
    ign = sk_getenv(env_ignore_endpoints);
    ignore = ign ? sk_truthy(ign) : sk_truthy(sk_config_get(c, NULL, "ignore_configured_endpoint_urls"));
    if (!ignore) {
        snprintf(envname, sizeof(envname), "%s_%s", env_endpoint_url, svc->env_suffix);
        if ((v = sk_getenv(envname)))
            return override_out(v, envname, SK_E_CONFIG, out, err);
        if ((v = sk_getenv(env_endpoint_url)))
            return override_out(v, env_endpoint_url, SK_E_CONFIG, out, err);
        services = sk_config_get(c, NULL, "services");
        if (services && *services) {
            const struct sk_ini_section *s = sk_ini_section(&c->ini, SK_INI_SERVICES, services);
            const struct sk_ini_prop *p = sk_ini_prop(s, svc->config_key);
            size_t i;

            for (i = 0; p && i < p->nsubs; i++)
                if (strcmp(p->subs[i].key, "endpoint_url") == 0 && *p->subs[i].value)
                    return override_out(p->subs[i].value, "the services section", SK_E_CONFIG, out, err);
        }
        /* botocore and the SDK reference fall back to the profile's endpoint_url even when the
         * profile names a services section (aws-c-auth does not). */
        if ((v = sk_config_get(c, NULL, "endpoint_url")) && *v)
            return override_out(v, "the profile's endpoint_url", SK_E_CONFIG, out, err);
    }
    if (!region || !*region)
        return sk_errf(err, SK_E_CONFIG, "no region to build the %s endpoint", svc->name);
    if (!valid_region(region))
        return sk_errf(err, SK_E_USAGE, "invalid region '%.64s'", region);
    if (endpoint_mode(c, &mode, &fips_from, &ds_from, err) < 0)
        return -1;
    if (sk_endpoint_resolve(svc, region, mode, out, err) < 0) {
        if (err->kind == SK_E_CONFIG) /* name the settings that asked for it */
            sk_err_prefix(err, "%s%s%s", mode & SK_EP_FIPS ? fips_from : "",
                          mode == (SK_EP_FIPS | SK_EP_DUALSTACK) ? " and " : "", mode & SK_EP_DUALSTACK ? ds_from : "");
        return -1;
    }
    return 0;
}

int sk_config_endpoint(const struct sk_config *c, const struct sk_service *svc, const char *cli_endpoint,
                       const char *region, char **out, struct sk_err *err)
{
    struct sk_endpoint ep = { NULL, NULL };

    if (sk_config_resolve_endpoint(c, svc, cli_endpoint, region, &ep, err) < 0)
        return -1;
    *out = ep.url;
    ep.url = NULL;
    sk_endpoint_release(&ep);
    return 0;
}
