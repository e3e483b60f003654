/*
 * creds.c - credentials and the default provider chain (the SDKs' standardized credential
 * providers: https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html).
 *
 * Every source is a function returning 1 (credentials in *out), 0 (not configured: try the next
 * source) or -1 (configured but broken: err is filled and the chain stops).
 */
#include "creds.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "api.h"
#include "buf.h"
#include "config.h"
#include "cache.h"
#include "hdr.h"
#include "http.h"
#include "json.h"
#include "jsonw.h"
#include "mem.h"
#include "redact.h"
#include "service.h"
#include "uri.h"

extern char **environ;

static const char env_access_key[] = "AWS_ACCESS_KEY_ID";
static const char env_secret_key[] = "AWS_SECRET_ACCESS_KEY";
static const char env_session_token[] = "AWS_SESSION_TOKEN";
static const char env_security_token[] = "AWS_SECURITY_TOKEN";
static const char env_expiration[] = "AWS_CREDENTIAL_EXPIRATION";
static const char env_account_id[] = "AWS_ACCOUNT_ID";
static const char env_wi_token_file[] = "AWS_WEB_IDENTITY_TOKEN_FILE";
static const char env_role_arn[] = "AWS_ROLE_ARN";
static const char env_role_session[] = "AWS_ROLE_SESSION_NAME";
static const char env_ecs_relative[] = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
static const char env_ecs_full[] = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
static const char env_ecs_token[] = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
static const char env_ecs_token_file[] = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
static const char env_imds_disabled[] = "AWS_EC2_METADATA_DISABLED";
static const char env_imds_endpoint[] = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
static const char env_imds_mode[] = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
static const char env_imds_v1_disabled[] = "AWS_EC2_METADATA_V1_DISABLED";

static const char ecs_host[] = "http://169.254.170.2";
static const char imds_v4[] = "http://169.254.169.254";
static const char imds_v6[] = "http://[fd00:ec2::254]";
static const char imds_token_path[] = "/latest/api/token";
static const char imds_creds_path[] = "/latest/meta-data/iam/security-credentials/";
static const char hdr_imds_ttl[] = "x-aws-ec2-metadata-token-ttl-seconds";
static const char hdr_imds_token[] = "x-aws-ec2-metadata-token";

#define CONTAINER_TIMEOUT_MS 2000
#define CONTAINER_ATTEMPTS 3
#define IMDS_TIMEOUT_MS 1000
#define MAX_TOKEN_FILE (64 * 1024)
#define MAX_PROCESS_OUTPUT (1024 * 1024)
#define MAX_METADATA_BODY (64 * 1024)

/* ---- struct sk_creds ------------------------------------------------------------------------- */

void sk_creds_release(struct sk_creds *c)
{
    if (!c)
        return;
    free(c->access_key_id);
    sk_free_secret(c->secret_access_key);
    sk_free_secret(c->session_token);
    free(c->account_id);
    memset(c, 0, sizeof(*c));
}

void sk_creds_copy(struct sk_creds *dst, const struct sk_creds *src)
{
    dst->access_key_id = xstrdup_or_null(src->access_key_id);
    dst->secret_access_key = xstrdup_or_null(src->secret_access_key);
    dst->session_token = xstrdup_or_null(src->session_token);
    dst->account_id = xstrdup_or_null(src->account_id);
    dst->expiration = src->expiration;
    dst->source = src->source;
}

/* ---- time ------------------------------------------------------------------------------------ */

static int digits(const char *s, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, int m, int d)
{
    long long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int sk_parse_iso8601(const char *s, time_t *out)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0, leap;
    long long t;

    if (!s || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m) ||
        s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    s += 19;
    if (*s == '.' || *s == ',') {
        s++;
        if (*s < '0' || *s > '9')
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        if (digits(s + 1, 2, &oh))
            return -1;
        s += 3;
        if (*s == ':')
            s++;
        if (digits(s, 2, &om))
            return -1;
        s += 2;
    } else {
        return -1;
    }
    if (*s)
        return -1;
    leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 || m > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return -1;
    t = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec;
    t -= (long long)sign * (oh * 3600 + om * 60);
    if (sizeof(time_t) < 8 && (t > 0x7fffffffLL || t < -0x7fffffffLL - 1))
        return -1;
    *out = (time_t)t;
    return 0;
}

static void fmt_time(time_t t, char *buf, size_t n)
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "%lld", (long long)t);
}

/* ---- shared helpers ---------------------------------------------------------------------------- */

struct resolve {
    struct sk_credprovider *p;
    time_t now;
    struct sk_buf tried; /* what the chain looked at, for "no credentials found" */
};

static void tried(struct resolve *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tried(struct resolve *r, const char *fmt, ...)
{
    va_list ap;

    if (r->tried.len)
        sk_buf_adds(&r->tried, ", ");
    va_start(ap, fmt);
    sk_buf_vaddf(&r->tried, fmt, ap);
    va_end(ap);
}

static const char *conf_get(const struct resolve *r, const char *profile, const char *key)
{
    const char *v = sk_config_get(r->p->conf, profile, key);

    return v && *v ? v : NULL;
}

static void rtrim_buf(struct sk_buf *b)
{
    size_t n = b->len;

    while (n && (b->p[n - 1] == ' ' || b->p[n - 1] == '\t' || b->p[n - 1] == '\r' || b->p[n - 1] == '\n'))
        n--;
    sk_buf_truncate(b, n);
}

/* Read a token file into a secret buffer, trailing whitespace dropped. */
static int read_token_file(const char *path, const char *what, struct sk_buf *out, struct sk_err *err)
{
    char tmp[4096];
    ssize_t n;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sk_errf(err, SK_E_CONFIG, "%s: cannot open '%s': %s", what, path, strerror(errno));
        err->sys_errno = errno;
        return -1;
    }
    for (;;) {
        n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sk_errf(err, SK_E_CONFIG, "%s: cannot read '%s': %s", what, path, strerror(errno));
            err->sys_errno = errno;
            goto out;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > MAX_TOKEN_FILE) {
            sk_errf(err, SK_E_CONFIG, "%s: '%s' is too large", what, path);
            goto out;
        }
        sk_buf_add(out, tmp, (size_t)n);
    }
    rtrim_buf(out);
    if (!out->len) {
        sk_errf(err, SK_E_CONFIG, "%s: '%s' is empty", what, path);
        goto out;
    }
    rc = 0;
out:
    sk_wipe(tmp, sizeof(tmp));
    close(fd);
    return rc;
}

/* Fill out from a JSON object with AccessKeyId, SecretAccessKey, <token_key>, Expiration and
 * AccountId (obj borrowed). Never quotes values: they are secrets. */
static int creds_from_json(jv obj, const char *token_key, const char *what, struct sk_creds *out, struct sk_err *err)
{
    const char *ak = sk_json_str(obj, "AccessKeyId"), *sk = sk_json_str(obj, "SecretAccessKey");
    const char *tok = token_key ? sk_json_str(obj, token_key) : NULL, *exp = sk_json_str(obj, "Expiration");
    const char *acct = sk_json_str(obj, "AccountId");
    time_t t = 0;

    if (!ak || !*ak || !sk || !*sk)
        return sk_errf(err, SK_E_CONFIG, "%s: response has no AccessKeyId/SecretAccessKey", what);
    if (exp && *exp && sk_parse_iso8601(exp, &t))
        return sk_errf(err, SK_E_CONFIG, "%s: invalid Expiration '%.40s'", what, exp);
    memset(out, 0, sizeof(*out));
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = tok && *tok ? xstrdup(tok) : NULL;
    out->account_id = acct && *acct ? xstrdup(acct) : NULL;
    out->expiration = t;
    return 0;
}

/* ---- environment (§2.2) ------------------------------------------------------------------------ */

static int src_env(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const char *ak = sk_getenv(env_access_key), *sk = sk_getenv(env_secret_key);
    const char *tok = sk_getenv(env_session_token), *exp = sk_getenv(env_expiration);
    time_t t = 0;

    (void)r;
    if (!ak && !sk)
        return 0;
    if (!ak || !sk)
        return sk_errf(err, SK_E_CONFIG, "%s is set but %s is not", ak ? env_access_key : env_secret_key,
                       ak ? env_secret_key : env_access_key);
    if (exp && sk_parse_iso8601(exp, &t))
        return sk_errf(err, SK_E_CONFIG, "invalid %s '%.40s'", env_expiration, exp);
    if (!tok)
        tok = sk_getenv(env_security_token);
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = xstrdup_or_null(tok);
    out->account_id = xstrdup_or_null(sk_getenv(env_account_id));
    out->expiration = t;
    out->source = "env";
    return 1;
}

/* ---- STS (§2.3, §4.2) ---------------------------------------------------------------------------- */

static void account_from_arn(const char *arn, struct sk_creds *out)
{
    const char *p = arn;
    int i;

    /* arn:partition:service:region:ACCOUNT:resource */
    for (i = 0; p && i < 4; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (p && strchr(p, ':') && strchr(p, ':') > p && !out->account_id)
        out->account_id = xstrndup(p, (size_t)(strchr(p, ':') - p));
}

static int sts_call(struct resolve *r, const char *op, const struct sk_form *form, const struct sk_creds *signer,
                    const char *source, struct sk_creds *out, struct sk_err *err)
{
    const char *region = r->p->region ? r->p->region : "us-east-1";
    struct sk_endpoint ep = { NULL, NULL };
    jv res = jv_invalid(), creds = jv_invalid(), user = jv_invalid();
    int rc = -1;

    if (!r->p->t)
        return sk_errf(err, SK_E_INTERNAL, "%s: no transport for STS", source);
    /* Signed for the endpoint's signing region: aws-global's sts.amazonaws.com is us-east-1's. */
    if (sk_config_resolve_endpoint(r->p->conf, &sk_svc_sts, NULL, region, &ep, err))
        goto out;
    if (sk_api_query(r->p->t, &sk_svc_sts, ep.url, ep.signing_region ? ep.signing_region : region, signer, op, form,
                     NULL, SK_API_SECRET_REQ | SK_API_SECRET_RESP, &res, err))
        goto out;
    creds = sk_json_get(res, "Credentials");
    if (creds_from_json(creds, "SessionToken", op, out, err))
        goto out;
    user = sk_json_get(res, "AssumedRoleUser");
    if (sk_json_str(user, "Arn"))
        account_from_arn(sk_json_str(user, "Arn"), out);
    out->source = source;
    rc = 1;
out:
    jv_free(user);
    jv_free(creds);
    sk_json_wipe_strings(res); /* credentials: jv frees without wiping */
    jv_free(res);
    sk_endpoint_release(&ep);
    return rc;
}

static void session_name(struct resolve *r, const char *configured, struct sk_buf *out)
{
    if (configured && *configured)
        sk_buf_adds(out, configured);
    else
        sk_buf_addf(out, "shipkit-%lld", (long long)r->now);
}

/* AssumeRole for `profile`'s role_arn, signed with base. */
static int assume_role(struct resolve *r, const char *profile, const struct sk_creds *base, struct sk_creds *out,
                       struct sk_err *err)
{
    const char *role = conf_get(r, profile, "role_arn"), *dur = conf_get(r, profile, "duration_seconds");
    const char *ext = conf_get(r, profile, "external_id");
    struct sk_form f;
    struct sk_buf name = SK_BUF_INIT;
    char *end;
    long d = 0;
    int rc;

    if (conf_get(r, profile, "mfa_serial"))
        return sk_errf(err, SK_E_CONFIG, "profile '%s': mfa_serial is not supported", profile);
    if (dur) {
        errno = 0;
        d = strtol(dur, &end, 10);
        if (errno || *end || d < 900 || d > 43200)
            return sk_errf(err, SK_E_CONFIG, "profile '%s': duration_seconds must be 900..43200", profile);
    }
    session_name(r, conf_get(r, profile, "role_session_name"), &name);
    sk_form_init(&f);
    sk_form_add(&f, "RoleArn", role);
    sk_form_add(&f, "RoleSessionName", name.p);
    if (dur)
        sk_form_add(&f, "DurationSeconds", dur);
    if (ext)
        sk_form_add(&f, "ExternalId", ext);
    rc = sts_call(r, "AssumeRole", &f, base, "assume-role", out, err);
    if (rc < 0)
        sk_err_prefix(err, "assume role '%.200s' for profile '%s'", role, profile);
    sk_form_release(&f);
    sk_buf_release(&name);
    return rc;
}

/* Unsigned AssumeRoleWithWebIdentity; the token file is read on every call (tokens rotate). */
static int web_identity(struct resolve *r, const char *role, const char *token_file, const char *session,
                        struct sk_creds *out, struct sk_err *err)
{
    struct sk_buf tok = SK_BUF_INIT, name = SK_BUF_INIT;
    struct sk_form f;
    int rc = -1;

    sk_form_init(&f);
    sk_buf_init_secret(&tok);
    sk_buf_init_secret(&f.body);
    if (read_token_file(token_file, "web identity token", &tok, err))
        goto out;
    session_name(r, session, &name);
    sk_form_add(&f, "RoleArn", role);
    sk_form_add(&f, "RoleSessionName", name.p);
    sk_form_add(&f, "WebIdentityToken", tok.p);
    rc = sts_call(r, "AssumeRoleWithWebIdentity", &f, NULL, "web-identity", out, err);
    if (rc < 0)
        sk_err_prefix(err, "web identity for role '%.200s'", role);
out:
    sk_form_release(&f);
    sk_buf_release(&tok);
    sk_buf_release(&name);
    return rc;
}

static int src_web_identity_env(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const char *file = sk_getenv(env_wi_token_file), *role = sk_getenv(env_role_arn);

    if (!file || !role)
        return 0;
    return web_identity(r, role, file, sk_getenv(env_role_session), out, err);
}

/* ---- credential_process (§2.5) ------------------------------------------------------------------ */

static void argv_free(char **argv)
{
    size_t i;

    for (i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* Split cmd with POSIX shell quoting (as Python's shlex.split): '...' is literal, "..." honours
 * backslash before \ " $ ` and newline, a bare backslash quotes the next character. */
static int split_command(const char *cmd, char ***out, struct sk_err *err)
{
    char **argv = NULL;
    size_t argc = 0;
    struct sk_buf w = SK_BUF_INIT;
    int inword = 0;
    const char *s = cmd;

    for (;;) {
        char c = *s;

        if (!c || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (inword) {
                argv = xrealloc(argv, (argc + 2) * sizeof(*argv));
                argv[argc++] = sk_buf_detach(&w, NULL);
                argv[argc] = NULL;
                inword = 0;
            }
            if (!c)
                break;
            s++;
            continue;
        }
        inword = 1;
        if (c == '\'') {
            const char *e = strchr(s + 1, '\'');
            if (!e)
                goto unbalanced;
            sk_buf_add(&w, s + 1, (size_t)(e - s - 1));
            s = e + 1;
        } else if (c == '"') {
            for (s++; *s != '"'; s++) {
                if (!*s)
                    goto unbalanced;
                if (*s == '\\' && s[1] && strchr("\\\"$`\n", s[1]))
                    s++;
                sk_buf_addch(&w, *s);
            }
            s++;
        } else if (c == '\\') {
            if (!s[1])
                goto unbalanced;
            sk_buf_addch(&w, s[1]);
            s += 2;
        } else {
            sk_buf_addch(&w, c);
            s++;
        }
    }
    if (!argc) {
        free(argv);
        return sk_errf(err, SK_E_CONFIG, "credential_process is empty");
    }
    *out = argv;
    return 0;
unbalanced:
    sk_buf_release(&w);
    argv_free(argv);
    return sk_errf(err, SK_E_CONFIG, "credential_process: unbalanced quote or trailing backslash");
}

/* Run argv without a shell; capture stdout (secret) and the start of stderr. */
static int run_capture(char **argv, struct sk_buf *out, struct sk_buf *errtext, int *status, struct sk_err *err)
{
    posix_spawn_file_actions_t fa;
    int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
    int fa_init = 0, rc = -1, e, overflow = 0;
    pid_t pid = -1;
    char tmp[4096];

    if (pipe(opipe) || pipe(epipe)) {
        sk_errf(err, SK_E_CONFIG, "credential_process: pipe: %s", strerror(errno));
        goto out;
    }
    fcntl(opipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(epipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(opipe[1], F_SETFD, FD_CLOEXEC);
    fcntl(epipe[1], F_SETFD, FD_CLOEXEC);
    if (posix_spawn_file_actions_init(&fa)) {
        sk_errf(err, SK_E_INTERNAL, "credential_process: posix_spawn_file_actions_init failed");
        goto out;
    }
    fa_init = 1;
    posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, epipe[1], 2);
    e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    if (e) {
        pid = -1;
        sk_errf(err, SK_E_CONFIG, "credential_process: cannot run '%.200s': %s", argv[0], strerror(e));
        goto out;
    }
    close(opipe[1]);
    close(epipe[1]);
    opipe[1] = epipe[1] = -1;

    /* Drain both pipes together so a chatty child cannot block on a full one. */
    while (opipe[0] >= 0 || epipe[0] >= 0) {
        struct pollfd pf[2];
        nfds_t nf = 0;
        size_t i;

        if (opipe[0] >= 0)
            pf[nf].fd = opipe[0], pf[nf].events = POLLIN, pf[nf].revents = 0, nf++;
        if (epipe[0] >= 0)
            pf[nf].fd = epipe[0], pf[nf].events = POLLIN, pf[nf].revents = 0, nf++;
        if (poll(pf, nf, -1) < 0) {
            if (errno == EINTR)
                continue;
            sk_errf(err, SK_E_CONFIG, "credential_process: poll: %s", strerror(errno));
            goto out;
        }
        for (i = 0; i < nf; i++) {
            ssize_t n;
            int is_out = pf[i].fd == opipe[0];

            if (!pf[i].revents)
                continue;
            n = read(pf[i].fd, tmp, sizeof(tmp));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                close(pf[i].fd);
                if (is_out)
                    opipe[0] = -1;
                else
                    epipe[0] = -1;
                continue;
            }
            if (is_out) {
                if (out->len + (size_t)n > MAX_PROCESS_OUTPUT)
                    overflow = 1;
                else
                    sk_buf_add(out, tmp, (size_t)n);
            } else if (errtext->len < 4096) {
                sk_buf_add(errtext, tmp, (size_t)n);
            }
        }
    }
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            sk_errf(err, SK_E_CONFIG, "credential_process: waitpid: %s", strerror(errno));
            pid = -1;
            goto out;
        }
    }
    pid = -1;
    if (overflow) {
        sk_errf(err, SK_E_CONFIG, "credential_process: output is larger than %d bytes", MAX_PROCESS_OUTPUT);
        goto out;
    }
    rc = 0;
out:
    sk_wipe(tmp, sizeof(tmp));
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (opipe[0] >= 0)
        close(opipe[0]);
    if (opipe[1] >= 0)
        close(opipe[1]);
    if (epipe[0] >= 0)
        close(epipe[0]);
    if (epipe[1] >= 0)
        close(epipe[1]);
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    return rc;
}

static int src_process(struct resolve *r, const char *profile, const char *cmd, struct sk_creds *out,
                       struct sk_err *err)
{
    char **argv = NULL;
    struct sk_buf sout = SK_BUF_INIT, serr = SK_BUF_INIT;
    jv doc = jv_invalid();
    double version;
    int status = 0, rc = -1;

    (void)r;
    sk_buf_init_secret(&sout);
    if (split_command(cmd, &argv, err) || run_capture(argv, &sout, &serr, &status, err))
        goto out;
    if (WIFSIGNALED(status)) {
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s' was killed by signal %d", profile,
                WTERMSIG(status));
        goto out;
    }
    if (WEXITSTATUS(status)) {
        size_t n = strcspn(serr.p, "\r\n");
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s' exited with status %d%s%.*s", profile,
                WEXITSTATUS(status), n ? ": " : "", (int)(n > 200 ? 200 : n), serr.p);
        goto out;
    }
    if (sk_json_parse(sout.p, sout.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s': output is not a JSON object", profile);
        goto out;
    }
    if (sk_json_num(doc, "Version", &version) || version != 1) {
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s': Version must be 1", profile);
        goto out;
    }
    if (creds_from_json(doc, "SessionToken", "credential_process", out, err))
        goto out;
    out->source = "process";
    rc = 1;
out:
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    argv_free(argv);
    sk_buf_release(&sout);
    sk_buf_release(&serr);
    return rc;
}

/* ---- HTTP metadata endpoints (§2.6, §2.7) ---------------------------------------------------- */

static int metadata_send(struct resolve *r, const char *method, const char *url, const struct sk_headers *h,
                         long timeout_ms, struct sk_http_resp *resp, struct sk_err *err)
{
    struct sk_http_req req;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.headers = h;
    req.timeout_ms = timeout_ms;
    req.connect_timeout_ms = timeout_ms;
    req.max_body = MAX_METADATA_BODY;
    req.flags = SK_HTTP_SECRET_RESP;
    return sk_http_send(r->p->t->http, &req, resp, err);
}

static void sleep_ms(struct resolve *r, long ms)
{
    struct timespec ts;

    if (r->p->t->retry && r->p->t->retry->sleep) {
        r->p->t->retry->sleep(r->p->t->retry->sleep_ctx, ms);
        return;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int addr_allowed(const struct sockaddr *sa)
{
    static const unsigned char v6_loop[16] = { [15] = 1 };
    static const unsigned char v6_eks[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23 };

    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
        return (a >> 24) == 127 || a == 0xA9FEAA02u /* 169.254.170.2 */ || a == 0xA9FEAA17u /* 169.254.170.23 */;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        return memcmp(b, v6_loop, 16) == 0 || memcmp(b, v6_eks, 16) == 0;
    }
    return 0;
}

/* http FULL_URI hosts must resolve only to loopback or the ECS / EKS agent addresses, so a
 * misconfiguration cannot send the authorization token to an arbitrary host. */
static int container_host_allowed(const char *host)
{
    struct addrinfo hints, *res = NULL, *ai;
    int ok = 1;

    if (strcmp(host, "localhost") == 0)
        return 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) || !res)
        return 0;
    for (ai = res; ai; ai = ai->ai_next)
        if (!addr_allowed(ai->ai_addr))
            ok = 0;
    freeaddrinfo(res);
    return ok;
}

static int src_container(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const char *rel = sk_getenv(env_ecs_relative), *full = sk_getenv(env_ecs_full);
    const char *tok_file = sk_getenv(env_ecs_token_file), *tok_env = sk_getenv(env_ecs_token);
    struct sk_buf url = SK_BUF_INIT, tok = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_url u = { 0 };
    jv doc = jv_invalid();
    int rc = -1, attempt;

    if (!rel && !full)
        return 0;
    sk_http_resp_init(&resp);
    sk_buf_init_secret(&tok);
    if (!r->p->t || !r->p->t->http) {
        sk_errf(err, SK_E_INTERNAL, "container credentials: no HTTP transport");
        goto out;
    }
    if (rel) {
        sk_buf_addf(&url, "%s%s%s", ecs_host, rel[0] == '/' ? "" : "/", rel);
    } else {
        if (sk_url_parse(full, &u, err)) {
            err->kind = SK_E_CONFIG;
            sk_err_prefix(err, "%s", env_ecs_full);
            goto out;
        }
        if (strcmp(u.scheme, "https") != 0 && !container_host_allowed(u.host)) {
            sk_errf(err, SK_E_CONFIG,
                    "%s: host '%.100s' is not allowed over http (use https, loopback, 169.254.170.2 or "
                    "169.254.170.23)",
                    env_ecs_full, u.host);
            goto out;
        }
        sk_buf_adds(&url, full);
    }
    /* The token file wins over the variable and is re-read on every fetch (it rotates). */
    if (tok_file) {
        if (read_token_file(tok_file, "container authorization token", &tok, err))
            goto out;
    } else if (tok_env) {
        sk_buf_adds(&tok, tok_env);
    }
    if (tok.len && (memchr(tok.p, '\r', tok.len) || memchr(tok.p, '\n', tok.len))) {
        sk_errf(err, SK_E_CONFIG, "container authorization token contains a newline");
        goto out;
    }
    sk_headers_add(&h, "Accept", "application/json");
    sk_headers_add(&h, "Accept-Encoding", "identity");
    if (tok.len)
        sk_headers_add(&h, "Authorization", tok.p);

    /* botocore: 3 attempts, 1 s apart; client errors are final. */
    for (attempt = 1;; attempt++) {
        sk_err_clear(err);
        if (!metadata_send(r, "GET", url.p, &h, CONTAINER_TIMEOUT_MS, &resp, err)) {
            if (resp.status == 200)
                break;
            sk_errf(err, resp.status >= 500 ? SK_E_NET : SK_E_AWS, "container credentials endpoint returned HTTP %ld",
                    resp.status);
            err->http_status = resp.status;
            if (resp.status < 500)
                goto out;
        } else {
            sk_err_prefix(err, "container credentials");
        }
        if (attempt >= CONTAINER_ATTEMPTS)
            goto out;
        sleep_ms(r, 1000);
    }
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "container credentials: response is not a JSON object");
        goto out;
    }
    if (creds_from_json(doc, "Token", "container credentials", out, err))
        goto out;
    out->source = "container";
    rc = 1;
out:
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    sk_url_release(&u);
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    sk_buf_release(&tok);
    return rc;
}

static int imds_token(struct resolve *r, const char *base, int v1_disabled, struct sk_buf *token, int *answered,
                      struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1;

    *answered = 0;
    sk_http_resp_init(&resp);
    sk_buf_reset(token);
    sk_buf_addf(&url, "%s%s", base, imds_token_path);
    sk_headers_add(&h, hdr_imds_ttl, "21600");
    if (metadata_send(r, "PUT", url.p, &h, IMDS_TIMEOUT_MS, &resp, err))
        goto out; /* nothing answered: the caller treats IMDS as absent */
    *answered = 1;
    if (resp.status == 200 && resp.body.len) {
        sk_buf_add(token, resp.body.p, resp.body.len);
        rtrim_buf(token);
        rc = 0;
    } else if (resp.status == 403 || resp.status == 404 || resp.status == 405) {
        /* IMDSv1 fallback: no token. */
        if (v1_disabled) {
            sk_errf(err, SK_E_CONFIG, "IMDS token request returned HTTP %ld and the IMDSv1 fallback is disabled",
                    resp.status);
            err->http_status = resp.status;
            goto out;
        }
        rc = 0;
    } else {
        sk_errf(err, SK_E_AWS, "IMDS token request returned HTTP %ld", resp.status);
        err->http_status = resp.status;
    }
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}

/* GET base+path with the token (if any); a 401 means the token expired: fetch a new one once. */
static int imds_get(struct resolve *r, const char *base, int v1_disabled, struct sk_buf *token, const char *path,
                    struct sk_http_resp *resp, struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1, attempt, answered;

    sk_buf_addf(&url, "%s%s", base, path);
    for (attempt = 0; attempt < 2; attempt++) {
        sk_headers_release(&h);
        if (token->len)
            sk_headers_add(&h, hdr_imds_token, token->p);
        if (metadata_send(r, "GET", url.p, &h, IMDS_TIMEOUT_MS, resp, err)) {
            sk_err_prefix(err, "IMDS");
            goto out;
        }
        if (resp->status != 401 || attempt)
            break;
        if (imds_token(r, base, v1_disabled, token, &answered, err))
            goto out;
    }
    rc = 0;
out:
    sk_headers_release(&h);
    sk_buf_release(&url);
    return rc;
}

static int valid_role_name(const char *s, size_t n)
{
    size_t i;

    if (!n || n > 128)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              strchr("+=,.@_-", s[i])))
            return 0;
    return 1;
}

static int src_imds(struct resolve *r, int required, struct sk_creds *out, struct sk_err *err)
{
    const char *base = sk_getenv(env_imds_endpoint), *mode = sk_getenv(env_imds_mode);
    const char *v1 = sk_getenv(env_imds_v1_disabled);
    struct sk_buf token = SK_BUF_INIT, basebuf = SK_BUF_INIT, path = SK_BUF_INIT;
    struct sk_http_resp resp;
    jv doc = jv_invalid();
    const char *code;
    size_t n;
    int rc = -1, answered = 0, v1_disabled;

    if (!required && sk_truthy(sk_getenv(env_imds_disabled))) {
        tried(r, "imds (disabled)");
        return 0;
    }
    if (!r->p->t || !r->p->t->http) {
        if (!required) {
            tried(r, "imds (no transport)");
            return 0;
        }
        return sk_errf(err, SK_E_INTERNAL, "IMDS: no HTTP transport");
    }
    if (!base)
        base = conf_get(r, NULL, "ec2_metadata_service_endpoint");
    if (!mode)
        mode = conf_get(r, NULL, "ec2_metadata_service_endpoint_mode");
    if (!base)
        base = mode && strcasecmp(mode, "IPv6") == 0 ? imds_v6 : imds_v4;
    sk_buf_adds(&basebuf, base);
    while (basebuf.len && basebuf.p[basebuf.len - 1] == '/')
        sk_buf_truncate(&basebuf, basebuf.len - 1);
    v1_disabled = sk_truthy(v1 ? v1 : conf_get(r, NULL, "ec2_metadata_v1_disabled"));

    sk_http_resp_init(&resp);
    sk_buf_init_secret(&token);
    if (imds_token(r, basebuf.p, v1_disabled, &token, &answered, err)) {
        if (!answered && !required) {
            /* Not on EC2 (or IMDS unreachable): short-circuit instead of failing. */
            tried(r, "imds (no response)");
            rc = 0;
        } else {
            sk_err_prefix(err, "instance metadata credentials");
        }
        goto out;
    }
    if (imds_get(r, basebuf.p, v1_disabled, &token, imds_creds_path, &resp, err))
        goto out;
    if (resp.status >= 400 && resp.status < 500 && !required) {
        /* 404: no role attached; 403: metadata access restricted. Either way: no credentials here. */
        tried(r, resp.status == 404 ? "imds (no instance role)" : "imds (refused)");
        rc = 0;
        goto out;
    }
    if (resp.status != 200) {
        sk_errf(err, SK_E_AWS, "IMDS: role name request returned HTTP %ld", resp.status);
        err->http_status = resp.status;
        goto out;
    }
    n = strcspn(resp.body.p, "\r\n");
    if (!valid_role_name(resp.body.p, n)) {
        sk_errf(err, SK_E_PARSE, "IMDS: invalid instance role name");
        goto out;
    }
    sk_buf_addf(&path, "%s%.*s", imds_creds_path, (int)n, resp.body.p);
    if (imds_get(r, basebuf.p, v1_disabled, &token, path.p, &resp, err))
        goto out;
    if (resp.status != 200) {
        sk_errf(err, SK_E_AWS, "IMDS: credentials request returned HTTP %ld", resp.status);
        err->http_status = resp.status;
        goto out;
    }
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "IMDS: credentials response is not a JSON object");
        goto out;
    }
    code = sk_json_str(doc, "Code");
    if (code && strcmp(code, "Success") != 0) {
        sk_errf(err, SK_E_AWS, "IMDS: credentials response has Code '%.60s'", code);
        goto out;
    }
    if (creds_from_json(doc, "Token", "IMDS", out, err))
        goto out;
    out->source = "imds";
    rc = 1;
out:
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    sk_http_resp_release(&resp);
    sk_buf_release(&token);
    sk_buf_release(&basebuf);
    sk_buf_release(&path);
    return rc;
}

/* ---- IAM Identity Center: SSO profiles (creds.h) --------------------------------------------- */

/* The portal and its OIDC service, named as in botocore's models (data/sso and data/sso-oidc
 * service-2.json: endpointPrefix portal.sso and oidc, serviceId "SSO" and "SSO OIDC"), so their
 * endpoints resolve as every service's do: AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_SSO_OIDC, the
 * services keys sso and sso_oidc (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 * Both speak restJson1, called unsigned below: the protocol field is not used. */
static const struct sk_service svc_sso = {
    "sso", "SSO", "SSO", "sso", "portal.sso", "awsssoportal", SK_PROTO_JSON11, NULL, "2019-06-10",
};
static const struct sk_service svc_sso_oidc = {
    "sso-oidc", "SSO OIDC", "SSO_OIDC", "sso_oidc", "oidc", "sso-oauth", SK_PROTO_JSON11, NULL, "2019-06-10",
};

static const char hdr_sso_token[] = "x-amz-sso_bearer_token";

struct sso {
    const char *profile;
    const char *session; /* NULL: the legacy form */
    const char *start_url, *region, *account, *role;
    char key[41];
    struct sk_buf dir;  /* $HOME/.aws/sso/cache */
    struct sk_buf path; /* dir/key.json */
};

/* The cached token: the file's text and its JSON (both wiped), the fields borrowed from the JSON. */
struct sso_token {
    struct sk_buf text;
    jv doc;
    const char *access, *refresh, *client_id, *client_secret, *reg_expires;
    time_t expires;
};

void sk_sso_cache_key(const char *start_url, const char *session, char out[41])
{
    const char *in = session ? session : start_url ? start_url : "";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    struct sk_buf hex = SK_BUF_INIT;

    if (EVP_Digest(in, strlen(in), md, &n, EVP_sha1(), NULL) != 1 || n != 20)
        n = 0; /* cannot happen with a working libcrypto: then no file matches */
    sk_buf_addhex(&hex, md, n);
    snprintf(out, 41, "%s", hex.p);
    sk_buf_release(&hex);
}

enum sk_sso_token_state sk_sso_token_state(time_t expires_at, time_t now, int refreshable)
{
    if (refreshable && expires_at - now < SK_SSO_TOKEN_REFRESH_WINDOW)
        return SK_SSO_TOKEN_REFRESH;
    return expires_at > now ? SK_SSO_TOKEN_VALID : SK_SSO_TOKEN_EXPIRED;
}

/* A profile that buys credentials from the portal: it names the account or the role (botocore
 * SSOProvider._load_sso_config). */
static int is_sso_profile(const struct resolve *r, const char *name)
{
    return conf_get(r, name, "sso_account_id") || conf_get(r, name, "sso_role_name");
}

/* The profile's SSO settings, the sso-session's merged in (a key set in both must agree). */
static int sso_config(struct resolve *r, const char *name, struct sso *s, struct sk_err *err)
{
    static const char *const keys[] = { "sso_start_url", "sso_region" };
    const struct sk_config *conf = r->p->conf;
    const char *v[2], *home = sk_getenv("HOME");
    struct sk_buf missing = SK_BUF_INIT;
    size_t i;

    s->profile = name;
    s->session = conf_get(r, name, "sso_session");
    s->account = conf_get(r, name, "sso_account_id");
    s->role = conf_get(r, name, "sso_role_name");
    for (i = 0; i < 2; i++) {
        const char *sv = s->session ? sk_config_sso_get(conf, s->session, keys[i]) : NULL;
        v[i] = conf_get(r, name, keys[i]);
        if (sv && !*sv)
            sv = NULL;
        if (sv && v[i] && strcmp(sv, v[i]) != 0)
            return sk_errf(err, SK_E_CONFIG, "profile '%s': %s differs from the one of sso-session '%s'", name, keys[i],
                           s->session);
        if (sv)
            v[i] = sv;
    }
    if (s->session && !sk_config_has_sso_session(conf, s->session))
        return sk_errf(err, SK_E_CONFIG, "profile '%s': sso-session '%.100s' not found in the config file", name,
                       s->session);
    s->start_url = v[0];
    s->region = v[1];
    if (!s->account)
        sk_buf_adds(&missing, ", sso_account_id");
    if (!s->role)
        sk_buf_adds(&missing, ", sso_role_name");
    if (!s->start_url)
        sk_buf_adds(&missing, ", sso_start_url");
    if (!s->region)
        sk_buf_adds(&missing, ", sso_region");
    if (missing.len) {
        sk_errf(err, SK_E_CONFIG, "profile '%s' is an SSO profile but has no %s", name, missing.p + 2);
        sk_buf_release(&missing);
        return -1;
    }
    if (!home)
        return sk_errf(err, SK_E_CONFIG, "profile '%s': HOME is not set, so there is no SSO token cache", name);
    sk_sso_cache_key(s->start_url, s->session, s->key);
    sk_buf_addf(&s->dir, "%s/.aws/sso/cache", home);
    sk_buf_addf(&s->path, "%s/%s.json", s->dir.p, s->key);
    return 0;
}

/* "profile 'P': <what>; run aws sso login ..." (SK_E_CONFIG): the way out of every state that needs a
 * new login. */
static int sso_login_error(const struct sso *s, struct sk_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sso_login_error(const struct sso *s, struct sk_err *err, const char *fmt, ...)
{
    struct sk_buf what = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&what, fmt, ap);
    va_end(ap);
    if (s->session)
        sk_errf(err, SK_E_CONFIG, "profile '%s': %s; run aws sso login --sso-session %s", s->profile, what.p,
                s->session);
    else
        sk_errf(err, SK_E_CONFIG, "profile '%s': %s; run aws sso login --profile %s", s->profile, what.p, s->profile);
    sk_buf_release(&what);
    return -1;
}

/* Whose token: "sso-session 'corp'" or "https://corp.awsapps.com/start". */
static const char *sso_whose(const struct sso *s, struct sk_buf *b)
{
    sk_buf_reset(b);
    if (s->session)
        sk_buf_addf(b, "sso-session '%.100s'", s->session);
    else
        sk_buf_addf(b, "%.200s", s->start_url);
    return b->p;
}

static void sso_token_release(struct sso_token *tok)
{
    sk_json_wipe_strings(tok->doc); /* tokens: jv frees without wiping */
    jv_free(tok->doc);
    tok->doc = jv_invalid();
    sk_buf_release(&tok->text);
}

/* Read and check the cached token; its secrets are registered on the connection. */
static int sso_token_load(struct resolve *r, const struct sso *s, struct sso_token *tok, struct sk_err *err)
{
    struct sk_secrets *secrets = sk_http_secrets(r->p->t ? r->p->t->http : NULL);
    struct sk_buf whose = SK_BUF_INIT;
    const char *exp;
    int rc = -1;

    if (read_token_file(s->path.p, "SSO token cache", &tok->text, err)) {
        if (err->sys_errno == ENOENT)
            sso_login_error(s, err, "no SSO token for %s in the cache", sso_whose(s, &whose));
        goto out;
    }
    if (sk_json_parse(tok->text.p, tok->text.len, &tok->doc, NULL) || jv_get_kind(tok->doc) != JV_KIND_OBJECT) {
        sso_login_error(s, err, "the SSO token cache '%s' is not a JSON object", s->path.p);
        goto out;
    }
    tok->access = sk_json_str(tok->doc, "accessToken");
    exp = sk_json_str(tok->doc, "expiresAt");
    tok->refresh = sk_json_str(tok->doc, "refreshToken");
    tok->client_id = sk_json_str(tok->doc, "clientId");
    tok->client_secret = sk_json_str(tok->doc, "clientSecret");
    tok->reg_expires = sk_json_str(tok->doc, "registrationExpiresAt");
    if (secrets) {
        if (tok->access)
            sk_secrets_add(secrets, tok->access, strlen(tok->access));
        if (tok->refresh)
            sk_secrets_add(secrets, tok->refresh, strlen(tok->refresh));
        if (tok->client_secret)
            sk_secrets_add(secrets, tok->client_secret, strlen(tok->client_secret));
    }
    if (!tok->access || !*tok->access || !exp || sk_parse_iso8601(exp, &tok->expires)) {
        sso_login_error(s, err, "the SSO token cache '%s' has no valid accessToken and expiresAt", s->path.p);
        goto out;
    }
    rc = 0;
out:
    sk_buf_release(&whose);
    return rc;
}

/* The token can be refreshed: the session form with a client registration still valid
 * (botocore SSOTokenProvider._refresh_access_token). */
static int sso_refreshable(const struct resolve *r, const struct sso *s, const struct sso_token *tok)
{
    time_t reg;

    return s->session && tok->refresh && *tok->refresh && tok->client_id && *tok->client_id && tok->client_secret &&
           *tok->client_secret && tok->reg_expires && sk_parse_iso8601(tok->reg_expires, &reg) == 0 && reg > r->now;
}

/* One unsigned call of the portal or the OIDC service with the transport's standard-mode retries
 * (lib/api.h). 0: a 2xx response in resp; -1: err is the network error or the service's error
 * document (sk_api_error_from_response), after the retries it allowed. */
static int sso_send(struct resolve *r, const char *what, struct sk_http_req *req, struct sk_http_resp *resp,
                    struct sk_err *err)
{
    struct sk_transport *t = r->p->t;
    struct sk_retry fallback, *rt = t->retry;
    int attempt, last_cost = 0;
    long delay, asked;

    if (!rt) {
        sk_retry_init(&fallback, NULL, NULL);
        rt = &fallback;
    }
    req->timeout_ms = t->timeout_ms;
    for (attempt = 1;; attempt++) {
        sk_err_clear(err);
        asked = 0;
        if (sk_http_send(t->http, req, resp, err) == 0) {
            if (resp->status >= 200 && resp->status < 300) {
                sk_retry_success(rt, last_cost);
                return 0;
            }
            sk_api_error_from_response(sk_http_secrets(t->http), resp, err);
            asked = sk_retry_after_ms(&resp->headers);
        }
        if ((delay = sk_retry_next(rt, err, attempt, asked, &last_cost)) < 0)
            break;
        sk_http_trace(t->http, "* %s: attempt %d/%d failed (%s); retrying in %ld ms", what, attempt, rt->max_attempts,
                      err->aws_code[0] ? err->aws_code : err->msg, delay);
        sk_retry_sleep(rt, delay);
    }
    sk_retry_gave_up(err, attempt);
    return -1;
}

/* endpoint of svc in the SSO region, without a trailing '/', then path. */
static int sso_url(struct resolve *r, const struct sso *s, const struct sk_service *svc, const char *path,
                   struct sk_buf *url, struct sk_err *err)
{
    char *endpoint = NULL;

    if (sk_config_endpoint(r->p->conf, svc, NULL, s->region, &endpoint, err))
        return sk_err_prefix(err, "profile '%s'", s->profile);
    sk_buf_adds(url, endpoint);
    while (url->len && url->p[url->len - 1] == '/')
        sk_buf_truncate(url, url->len - 1);
    sk_buf_adds(url, path);
    free(endpoint);
    return 0;
}

/* The cache entry the SDKs write after a refresh (botocore SSOTokenProvider._attempt_create_token):
 * these members, in this order; refreshToken only when CreateToken returned one. */
static void sso_cache_json(const struct sso *s, const struct sso_token *old, const char *access, time_t expires,
                           const char *refresh, struct sk_buf *out)
{
    struct sk_jsonw w;
    char when[32];

    fmt_time(expires, when, sizeof(when));
    sk_jsonw_begin(&w, out);
    sk_jsonw_str(&w, "startUrl", s->start_url);
    sk_jsonw_str(&w, "region", s->region);
    sk_jsonw_str(&w, "accessToken", access);
    sk_jsonw_str(&w, "expiresAt", when);
    sk_jsonw_str(&w, "clientId", old->client_id);
    sk_jsonw_str(&w, "clientSecret", old->client_secret);
    sk_jsonw_str(&w, "registrationExpiresAt", old->reg_expires);
    if (refresh)
        sk_jsonw_str(&w, "refreshToken", refresh);
    sk_jsonw_end(&w);
}

/* CreateToken with the refresh token: the new access token in *access (secret) and its expiry;
 * the cache file rewritten. A cache that cannot be written is traced, not fatal. */
static int sso_refresh(struct resolve *r, const struct sso *s, const struct sso_token *old, struct sk_buf *access,
                       time_t *expires, struct sk_err *err)
{
    struct sk_secrets *secrets = sk_http_secrets(r->p->t->http);
    struct sk_buf url = SK_BUF_INIT, body = SK_BUF_INIT, entry = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_http_req req;
    struct sk_jsonw w;
    struct sk_err werr;
    jv doc = jv_invalid();
    const char *tok, *refresh;
    double expires_in;
    char rel[48];
    int rc = -1;

    sk_http_resp_init(&resp);
    sk_buf_init_secret(&body);
    sk_buf_init_secret(&entry);
    if (sso_url(r, s, &svc_sso_oidc, "/token", &url, err))
        goto out;
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "clientId", old->client_id);
    sk_jsonw_str(&w, "clientSecret", old->client_secret);
    sk_jsonw_str(&w, "grantType", "refresh_token");
    sk_jsonw_str(&w, "refreshToken", old->refresh);
    sk_jsonw_end(&w);
    sk_headers_add(&h, "Content-Type", "application/json");
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url.p;
    req.headers = &h;
    req.body = body.p;
    req.body_len = body.len;
    req.max_body = MAX_METADATA_BODY;
    req.flags = SK_HTTP_SECRET_REQ | SK_HTTP_SECRET_RESP;
    if (sso_send(r, "sso-oidc.CreateToken", &req, &resp, err))
        goto out;
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT ||
        !(tok = sk_json_str(doc, "accessToken")) || !*tok || sk_json_num(doc, "expiresIn", &expires_in) ||
        !(expires_in > 0 && expires_in < 1e9)) {
        sk_errf(err, SK_E_PARSE, "sso-oidc.CreateToken response has no accessToken and expiresIn");
        goto out;
    }
    refresh = sk_json_str(doc, "refreshToken");
    if (refresh && !*refresh)
        refresh = NULL;
    sk_secrets_add(secrets, tok, strlen(tok));
    if (refresh)
        sk_secrets_add(secrets, refresh, strlen(refresh));
    *expires = r->now + (time_t)expires_in;
    sk_buf_reset(access);
    sk_buf_adds(access, tok);
    sso_cache_json(s, old, tok, *expires, refresh, &entry);
    snprintf(rel, sizeof(rel), "%s.json", s->key);
    sk_err_clear(&werr);
    if (sk_cache_write(s->dir.p, rel, entry.p, entry.len, SK_CACHE_SHARED_DIR, &werr) < 0)
        sk_http_trace(r->p->t->http, "* sso: the refreshed token is not cached: %s", werr.msg);
    rc = 0;
out:
    sk_json_wipe_strings(doc); /* tokens: jv frees without wiping */
    jv_free(doc);
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    sk_buf_release(&body);
    sk_buf_release(&entry);
    return rc;
}

/* GetRoleCredentials with the access token. */
static int sso_role_credentials(struct resolve *r, const struct sso *s, const char *token, struct sk_creds *out,
                                struct sk_err *err)
{
    struct sk_buf url = SK_BUF_INIT, whose = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_http_req req;
    jv doc = jv_invalid(), rc_obj = jv_invalid();
    const char *ak, *sk, *st;
    double exp_ms = 0;
    int rc = -1;

    sk_http_resp_init(&resp);
    if (sso_url(r, s, &svc_sso, "/federation/credentials?account_id=", &url, err))
        goto out;
    sk_uri_encodes(&url, s->account, 0);
    sk_buf_adds(&url, "&role_name=");
    sk_uri_encodes(&url, s->role, 0);
    sk_headers_add(&h, hdr_sso_token, token);
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.url = url.p;
    req.headers = &h;
    req.max_body = MAX_METADATA_BODY;
    req.flags = SK_HTTP_SECRET_RESP;
    if (sso_send(r, "sso.GetRoleCredentials", &req, &resp, err)) {
        /* botocore: UnauthorizedException is UnauthorizedSSOTokenError, "run aws sso login". */
        if (strcmp(err->aws_code, "UnauthorizedException") == 0 || err->http_status == 401)
            sso_login_error(s, err, "the portal refused the SSO token for %s (%s)", sso_whose(s, &whose),
                            err->aws_code);
        else
            sk_err_prefix(err, "profile '%s': SSO role '%.64s' in account %.20s", s->profile, s->role, s->account);
        goto out;
    }
    if (sk_json_parse(resp.body.p, resp.body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "sso.GetRoleCredentials response is not a JSON object");
        goto out;
    }
    rc_obj = sk_json_get(doc, "roleCredentials");
    ak = sk_json_str(rc_obj, "accessKeyId");
    sk = sk_json_str(rc_obj, "secretAccessKey");
    st = sk_json_str(rc_obj, "sessionToken");
    if (!ak || !*ak || !sk || !*sk) {
        sk_errf(err, SK_E_PARSE, "sso.GetRoleCredentials response has no accessKeyId/secretAccessKey");
        goto out;
    }
    if (!sk_json_num(rc_obj, "expiration", &exp_ms) && !(exp_ms >= 0 && exp_ms < 1e15)) {
        sk_errf(err, SK_E_PARSE, "sso.GetRoleCredentials response has an invalid expiration");
        goto out;
    }
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = st && *st ? xstrdup(st) : NULL;
    out->account_id = xstrdup(s->account);
    out->expiration = (time_t)(exp_ms / 1000);
    out->source = "sso";
    rc = 1;
out:
    jv_free(rc_obj);
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    sk_buf_release(&whose);
    return rc;
}

static int src_sso(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err)
{
    struct sso s;
    struct sso_token tok;
    struct sk_buf fresh = SK_BUF_INIT, whose = SK_BUF_INIT;
    const char *token;
    char when[32];
    int rc = -1;

    memset(&s, 0, sizeof(s));
    memset(&tok, 0, sizeof(tok));
    sk_buf_init(&s.dir);
    sk_buf_init(&s.path);
    sk_buf_init_secret(&tok.text);
    sk_buf_init_secret(&fresh);
    tok.doc = jv_invalid();
    if (!r->p->t || !r->p->t->http) {
        sk_errf(err, SK_E_INTERNAL, "profile '%s': no HTTP transport for SSO", name);
        goto out;
    }
    if (sso_config(r, name, &s, err) || sso_token_load(r, &s, &tok, err))
        goto out;
    token = tok.access;
    fmt_time(tok.expires, when, sizeof(when));
    switch (sk_sso_token_state(tok.expires, r->now, sso_refreshable(r, &s, &tok))) {
    case SK_SSO_TOKEN_VALID: break;
    case SK_SSO_TOKEN_REFRESH:
        if (sso_refresh(r, &s, &tok, &fresh, &tok.expires, err) == 0) {
            token = fresh.p;
            break;
        }
        if (tok.expires > r->now) { /* botocore: a failed refresh keeps a token that is still valid */
            sk_http_trace(r->p->t->http, "* sso: the token was not refreshed (%s); it is valid until %s", err->msg,
                          when);
            sk_err_clear(err);
            break;
        }
        if (err->kind == SK_E_NET || err->kind == SK_E_INTERNAL) {
            sk_err_prefix(err, "profile '%s': refreshing the SSO token", name);
            goto out;
        }
        sso_login_error(&s, err, "the SSO token for %s expired at %s and could not be refreshed (%s)",
                        sso_whose(&s, &whose), when, err->aws_code[0] ? err->aws_code : err->msg);
        goto out;
    case SK_SSO_TOKEN_EXPIRED:
        sso_login_error(&s, err, "the SSO token for %s expired at %s", sso_whose(&s, &whose), when);
        goto out;
    }
    rc = sso_role_credentials(r, &s, token, out, err);
out:
    sso_token_release(&tok);
    sk_buf_release(&fresh);
    sk_buf_release(&whose);
    sk_buf_release(&s.dir);
    sk_buf_release(&s.path);
    return rc;
}

/* ---- profiles (§2.1, §2.4) -------------------------------------------------------------------- */

struct visit {
    const char *name;
    const struct visit *prev;
};

static int profile_static(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err)
{
    const char *ak = conf_get(r, name, "aws_access_key_id"), *sk = conf_get(r, name, "aws_secret_access_key");
    const char *tok = conf_get(r, name, "aws_session_token");

    if (!ak && !sk)
        return 0;
    if (!ak || !sk)
        return sk_errf(err, SK_E_CONFIG, "profile '%s' has %s but no %s", name,
                       ak ? "aws_access_key_id" : "aws_secret_access_key",
                       ak ? "aws_secret_access_key" : "aws_access_key_id");
    if (!tok)
        tok = conf_get(r, name, "aws_security_token");
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = xstrdup_or_null(tok);
    out->account_id = xstrdup_or_null(conf_get(r, name, "aws_account_id"));
    out->source = "profile";
    return 1;
}

static int cycle_error(const struct visit *v, const char *name, struct sk_err *err)
{
    struct sk_buf b = SK_BUF_INIT;
    const struct visit *chain[64];
    size_t n = 0, i;

    for (; v && n < 64; v = v->prev)
        chain[n++] = v;
    for (i = n; i > 0; i--)
        sk_buf_addf(&b, "%s -> ", chain[i - 1]->name);
    sk_buf_adds(&b, name);
    sk_errf(err, SK_E_CONFIG, "source_profile cycle: %.400s", b.p);
    sk_buf_release(&b);
    return -1;
}

static int credential_source(struct resolve *r, const char *profile, const char *src, struct sk_creds *out,
                             struct sk_err *err)
{
    int rc;

    if (strcmp(src, "Environment") == 0)
        rc = src_env(r, out, err);
    else if (strcmp(src, "EcsContainer") == 0)
        rc = src_container(r, out, err);
    else if (strcmp(src, "Ec2InstanceMetadata") == 0)
        rc = src_imds(r, 1, out, err);
    else
        return sk_errf(err, SK_E_CONFIG, "profile '%s': unknown credential_source '%.40s'", profile, src);
    if (rc == 0)
        return sk_errf(err, SK_E_CONFIG, "profile '%s': credential_source %s has no credentials", profile, src);
    return rc;
}

/* Credentials of profile `name`. In the selected profile (prev == NULL) role_arn wins over static
 * keys; further down a source_profile chain static keys win (aws-c-auth, botocore). */
static int profile_creds(struct resolve *r, const char *name, const struct visit *prev, struct sk_creds *out,
                         struct sk_err *err)
{
    const struct sk_config *conf = r->p->conf;
    const char *role, *src, *csrc, *wif, *proc;
    struct visit here = { name, prev };
    struct sk_creds base = { 0 };
    const struct visit *v;
    int rc;

    if (!sk_ini_section(&conf->ini, SK_INI_PROFILE, name)) {
        if (!prev) {
            tried(r, "profile '%s'", name);
            return 0;
        }
        return sk_errf(err, SK_E_CONFIG, "profile '%s' (source_profile of '%s') not found", name, prev->name);
    }
    role = conf_get(r, name, "role_arn");
    /* After role_arn, before static keys (botocore's profile providers, the Java SDK's
     * ProfileCredentialsUtils). */
    if (!role && is_sso_profile(r, name))
        return src_sso(r, name, out, err);
    if (prev || !role) {
        rc = profile_static(r, name, out, err);
        if (rc)
            return rc;
    }
    if (role) {
        src = conf_get(r, name, "source_profile");
        csrc = conf_get(r, name, "credential_source");
        wif = sk_getenv(env_wi_token_file);
        if (!wif)
            wif = conf_get(r, name, "web_identity_token_file");
        if (src && csrc)
            return sk_errf(err, SK_E_CONFIG, "profile '%s' has both source_profile and credential_source", name);
        if (src) {
            if (strcmp(src, name) == 0) {
                /* Pointing at itself is allowed only to name its own static keys. */
                rc = profile_static(r, name, &base, err);
                if (rc == 0)
                    rc = cycle_error(&here, name, err);
            } else {
                for (v = prev; v; v = v->prev)
                    if (strcmp(v->name, src) == 0)
                        return cycle_error(&here, src, err);
                rc = profile_creds(r, src, &here, &base, err);
            }
        } else if (csrc) {
            rc = credential_source(r, name, csrc, &base, err);
        } else if (wif) {
            const char *arn = sk_getenv(env_role_arn), *sess = sk_getenv(env_role_session);
            return web_identity(r, arn ? arn : role, wif, sess ? sess : conf_get(r, name, "role_session_name"), out,
                                err);
        } else {
            return sk_errf(err, SK_E_CONFIG,
                           "profile '%s' has role_arn but no source_profile, credential_source or "
                           "web_identity_token_file",
                           name);
        }
        if (rc == 1)
            rc = assume_role(r, name, &base, out, err);
        sk_creds_release(&base);
        return rc;
    }
    if ((proc = conf_get(r, name, "credential_process")))
        return src_process(r, name, proc, out, err);
    if (prev)
        return sk_errf(err, SK_E_CONFIG, "profile '%s' (source_profile of '%s') has no credentials", name, prev->name);
    if (conf_get(r, name, "sso_session") || conf_get(r, name, "sso_start_url"))
        tried(r, "profile '%s' (SSO, but no sso_account_id or sso_role_name)", name);
    else
        tried(r, "profile '%s'", name);
    return 0;
}

/* ---- the chain ------------------------------------------------------------------------------- */

static const char *source_desc(const char *source)
{
    if (strcmp(source, "env") == 0)
        return "the environment";
    if (strcmp(source, "process") == 0)
        return "credential_process";
    if (strcmp(source, "profile") == 0)
        return "the profile";
    return source;
}

static int resolve_chain(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const struct sk_config *conf = r->p->conf;
    int rc;

    /* --profile removes the environment from the chain, as in the AWS CLI. */
    if (!conf || !conf->profile_explicit) {
        if ((rc = src_env(r, out, err)))
            return rc;
        tried(r, "env");
    }
    if (conf && conf->profile) {
        if ((rc = profile_creds(r, conf->profile, NULL, out, err)))
            return rc;
    }
    if ((rc = src_web_identity_env(r, out, err)))
        return rc;
    tried(r, "web identity");
    /* ECS if its variables are set, else IMDS (aws-c-auth). */
    if ((rc = src_container(r, out, err)))
        return rc;
    tried(r, "container");
    if ((rc = src_imds(r, 0, out, err)))
        return rc;
    return sk_errf(err, SK_E_CONFIG, "no credentials found (tried %.400s)", r->tried.p);
}

void sk_credprovider_init(struct sk_credprovider *p, const struct sk_config *conf, struct sk_transport *t,
                          const char *region)
{
    memset(p, 0, sizeof(*p));
    p->conf = conf;
    p->t = t;
    p->region = region && *region ? xstrdup(region) : NULL;
}

int sk_credprovider_get(struct sk_credprovider *p, time_t now, const struct sk_creds **out, struct sk_err *err)
{
    struct resolve r;
    struct sk_creds fresh = { 0 };
    char when[32];
    int rc;

    if (p->have && (!p->cached.expiration || p->cached.expiration - now > SK_CREDS_REFRESH_WINDOW)) {
        *out = &p->cached;
        return 0;
    }
    memset(&r, 0, sizeof(r));
    r.p = p;
    r.now = now;
    sk_buf_init(&r.tried);
    rc = resolve_chain(&r, &fresh, err);
    sk_buf_release(&r.tried);
    if (rc > 0 && fresh.expiration && fresh.expiration <= now) {
        fmt_time(fresh.expiration, when, sizeof(when));
        sk_errf(err, SK_E_CONFIG, "credentials from %s expired at %s", source_desc(fresh.source), when);
        rc = -1;
    }
    if (rc <= 0) {
        sk_creds_release(&fresh);
        /* A failed refresh keeps serving credentials that have not actually expired yet. */
        if (p->have && p->cached.expiration > now) {
            *out = &p->cached;
            return 0;
        }
        return -1;
    }
    sk_creds_release(&p->cached);
    p->cached = fresh;
    p->have = 1;
    *out = &p->cached;
    return 0;
}

void sk_credprovider_release(struct sk_credprovider *p)
{
    if (!p)
        return;
    sk_creds_release(&p->cached);
    free(p->region);
    memset(p, 0, sizeof(*p));
}
