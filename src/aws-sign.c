/*
 * aws-sign - SigV4-sign an HTTP request: print its headers, its canonical form, a presigned URL,
 * or send it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aws/api.h"
#include "aws/client.h"
#include "core/mem.h"
#include "aws/sigv4.h"
#include "tool.h"
#include "core/uri.h"

static const char usage_text[] =
    "usage: aws-sign [-X METHOD] [-H 'Name: value']... [-d DATA | -d @FILE | -d @-] [--service NAME]\n"
    "                [--region NAME] [--date YYYYMMDDTHHMMSSZ]\n"
    "                [--print-headers | --print-canonical | --presign SECONDS] [OPTIONS] URL\n";

static const char help_text[] =
    "\n"
    "Sign an HTTP request with AWS Signature Version 4, then print what was asked or send it.\n"
    "\n"
    "  -X METHOD               HTTP method (default GET, or POST with -d)\n"
    "  -H 'Name: value'        add and sign a header (repeatable)\n"
    "  -d DATA|@FILE|@-        request body, inline, from FILE or from stdin\n"
    "  --service NAME          signing name (default: from the host, e.g. ssm.eu-west-1.amazonaws.com)\n"
    "  --date YYYYMMDDTHHMMSSZ sign as of that instant (default now)\n"
    "  --print-headers         print the headers the request must carry; send nothing\n"
    "  --print-canonical       print the canonical request and the string to sign; send nothing\n"
    "  --presign SECONDS       print a presigned URL valid for SECONDS (1..604800)\n"
    "  URL                     absolute URL, or a path resolved against the service endpoint\n"
    "\n";

enum mode { MODE_SEND, MODE_PRINT_HEADERS, MODE_PRINT_CANONICAL, MODE_PRESIGN };

enum { OPT_SERVICE = OPT_TOOL_BASE, OPT_DATE, OPT_PRINT_HEADERS, OPT_PRINT_CANONICAL, OPT_PRESIGN };

struct opts {
    struct common_opts c;
    const char *method;
    const char *data;
    const char *service;
    const char *date;
    const char *url;
    long presign;
    enum mode mode;
    struct sk_headers headers;
};

static void set_mode(struct opts *o, enum mode m)
{
    if (o->mode != MODE_SEND && o->mode != m)
        tool_usage("--print-headers, --print-canonical and --presign exclude each other");
    o->mode = m;
}

static void add_header(struct opts *o, const char *arg)
{
    const char *colon = strchr(arg, ':');
    const char *v;
    size_t i, nlen;

    if (!colon || colon == arg)
        tool_usage("-H needs 'Name: value', not '%s'", arg);
    nlen = (size_t)(colon - arg);
    for (i = 0; i < nlen; i++) {
        unsigned char ch = (unsigned char)arg[i];
        if (ch <= ' ' || ch >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", ch))
            tool_usage("-H: invalid header name '%.*s'", (int)nlen, arg);
    }
    v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strpbrk(v, "\r\n"))
        tool_usage("-H: header values cannot hold line breaks");
    sk_headers_addn(&o->headers, arg, nlen, v, strlen(v));
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "data", required_argument, NULL, 'd' },
        { "date", required_argument, NULL, OPT_DATE },
        { "header", required_argument, NULL, 'H' },
        { "presign", required_argument, NULL, OPT_PRESIGN },
        { "print-canonical", no_argument, NULL, OPT_PRINT_CANONICAL },
        { "print-headers", no_argument, NULL, OPT_PRINT_HEADERS },
        { "request", required_argument, NULL, 'X' },
        { "service", required_argument, NULL, OPT_SERVICE },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    int opt;
    size_t i;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS "d:H:X:", longopts);
    while ((opt = getopt_long(argc, argv, ":" COMMON_SHORTOPTS "d:H:X:", longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        switch (opt) {
        case 'd':
            if (o->data)
                tool_usage("-d given twice");
            o->data = optarg;
            break;
        case 'H': add_header(o, optarg); break;
        case 'X':
            for (i = 0; optarg[i]; i++)
                if (!isupper((unsigned char)optarg[i]))
                    tool_usage("-X: invalid method '%s' (use e.g. GET, POST, PUT)", optarg);
            if (!*optarg)
                tool_usage("-X needs a method");
            o->method = optarg;
            break;
        case OPT_DATE: o->date = optarg; break;
        case OPT_PRESIGN:
            if (tool_parse_long(optarg, 1, SK_SIGV4_MAX_EXPIRES, &o->presign) < 0)
                tool_usage("--presign needs seconds from 1 to %d, not '%s'", SK_SIGV4_MAX_EXPIRES, optarg);
            set_mode(o, MODE_PRESIGN);
            break;
        case OPT_PRINT_CANONICAL: set_mode(o, MODE_PRINT_CANONICAL); break;
        case OPT_PRINT_HEADERS: set_mode(o, MODE_PRINT_HEADERS); break;
        case OPT_SERVICE:
            for (i = 0; optarg[i]; i++)
                if (!islower((unsigned char)optarg[i]) && !isdigit((unsigned char)optarg[i]) && optarg[i] != '-')
                    tool_usage("--service: invalid signing name '%s'", optarg);
            if (!*optarg)
                tool_usage("--service needs a name");
            o->service = optarg;
            break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (optind >= argc)
        tool_usage("missing URL");
    if (optind + 1 < argc)
        tool_usage("unexpected argument '%s' (one URL only)", argv[optind + 1]);
    o->url = argv[optind];
    if (!o->method)
        o->method = o->data ? "POST" : "GET";
}

/* The signing name and region the host implies (sk_endpoint_infer: the partition and endpoint data
 * of the SDKs, S3's and ECR's host forms), each only where --service or --region left it open. */
static void infer_from_host(const char *host, char **service, char **region)
{
    char *name = NULL, *reg = NULL;

    sk_endpoint_infer(host, &name, &reg);
    if (!*service && name) {
        *service = name;
        name = NULL;
    }
    if (!*region && reg) {
        *region = reg;
        reg = NULL;
    }
    free(name);
    free(reg);
}

static void print_headers(const struct opts *o, const struct sk_sigv4_result *r)
{
    size_t i;

    for (i = 0; i < o->headers.n; i++)
        if (strcasecmp(o->headers.v[i].name, "host") != 0)
            printf("%s: %s\n", o->headers.v[i].name, o->headers.v[i].value);
    for (i = 0; i < r->add.n; i++)
        printf("%s: %s\n", r->add.v[i].name, r->add.v[i].value);
}

/* The canonical request, with the session token shown as <redacted>: this is a debugging view, and
 * tokens never reach stdout outside the headers the user asked for (--print-headers, --presign). */
static void print_canonical(const struct sk_sigv4_result *r, const struct sk_creds *creds)
{
    const char *p = r->canonical_request.p, *tok = creds->session_token, *hit;
    size_t tlen = tok ? strlen(tok) : 0;

    while (tlen && (hit = strstr(p, tok)) != NULL) {
        fwrite(p, 1, (size_t)(hit - p), stdout);
        fputs("<redacted>", stdout);
        p = hit + tlen;
    }
    printf("%s\n\n%s\n", p, r->string_to_sign.p);
}

/* A 2xx body is held in memory up to HOLD_MAX, so an attempt cut off part-way can be retried
 * without printing anything twice; past it the body streams to stdout and a failure is final. */
#define HOLD_MAX ((size_t)8 << 20)

struct out {
    struct sk_buf held;
    int streaming;
};

static int to_stdout(void *ctx, const void *p, size_t n)
{
    struct out *b = ctx;

    if (!b->streaming && n <= HOLD_MAX - b->held.len) {
        sk_buf_add(&b->held, p, n);
        return 0;
    }
    if (!b->streaming) {
        b->streaming = 1;
        if (b->held.len && fwrite(b->held.p, 1, b->held.len, stdout) != b->held.len)
            return -1;
        sk_buf_reset(&b->held);
    }
    return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* One attempt. *asked: the delay an error response asked for (Retry-After), in ms; *skew: 1 when
 * the error is one a wrong clock causes and the server's Date says by how much (*skew_s, lib/aws/api.h
 * "clock skew"; never with --date, which fixes the signing time). */
/* The headers the request is signed and sent with: -H's, and Host unless -H names one. */
static void given_headers(const struct opts *o, const char *host, struct sk_headers *h)
{
    size_t i;

    if (!sk_headers_get(&o->headers, "Host"))
        sk_headers_add(h, "Host", host);
    for (i = 0; i < o->headers.n; i++)
        sk_headers_add(h, o->headers.v[i].name, o->headers.v[i].value);
}

static int send_once(const struct opts *o, struct sk_client *c, const struct sk_url *u, const char *host,
                     const struct sk_sigv4_result *sig, const struct sk_buf *body, struct out *ob, long *asked,
                     int *skew, long *skew_s, struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_http_req req = { 0 };
    struct sk_buf url = SK_BUF_INIT;
    size_t i;
    int rc = -1;

    *asked = 0;
    *skew = 0;
    sk_http_resp_init(&resp);
    given_headers(o, host, &h);
    for (i = 0; i < sig->add.n; i++)
        sk_headers_add(&h, sig->add.v[i].name, sig->add.v[i].value);
    sk_buf_addf(&url, "%s://%s%s%s%s", u->scheme, host, u->path, u->query ? "?" : "", u->query ? u->query : "");
    req.method = o->method;
    req.url = url.p;
    req.headers = &h;
    req.body = body->p;
    req.body_len = body->len;
    /* A download may be large: one hour, not the API default, unless SK_READ_TIMEOUT says otherwise. */
    req.timeout_ms = c->t.timeout_ms ? c->t.timeout_ms : 3600L * 1000;
    req.sink = to_stdout; /* 2xx bodies: held, then streamed to stdout */
    req.sink_ctx = ob;
    if (sk_http_send(c->http, &req, &resp, err) < 0)
        goto out;
    if (resp.status < 200 || resp.status > 299) {
        sk_api_error_from_response(sk_http_secrets(c->http), &resp, err);
        *asked = sk_retry_after_ms(&resp.headers);
        *skew = !o->date &&
                sk_clock_skew(err->aws_code, sk_headers_get(&resp.headers, "Date"), time(NULL), c->t.skew_s, skew_s);
        goto out;
    }
    rc = 0;
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}

/* One send across its attempts (sk_retry_run). */
struct send {
    const struct opts *o;
    struct sk_client *c;
    const struct sk_url *u;
    const char *host;
    const struct sk_sigv4_req *sreq;
    struct sk_sigv4_params *p;
    const struct sk_creds *creds;
    struct sk_sigv4_result *sig;
    const struct sk_buf *body;
    struct out ob;
    int skewed, skew_retried;
    long skew;
};

static enum sk_attempt send_attempt(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct send *s = ctx;
    struct sk_client *c = s->c;

    if (n > 1 || s->skewed) {
        if (!s->o->date)
            s->p->when = time(NULL) + (time_t)c->t.skew_s;
        sk_sigv4_result_release(s->sig);
        sk_sigv4_result_init(s->sig);
        if (sk_sigv4_sign(s->sreq, s->p, s->creds, s->sig, err) < 0)
            return SK_ATTEMPT_FINAL;
    }
    sk_buf_reset(&s->ob.held);
    s->skewed = 0;
    if (send_once(s->o, c, s->u, s->host, s->sig, s->body, &s->ob, asked, &s->skewed, &s->skew, err) == 0) {
        /* A failed write to stdout is reported by tool_finish. */
        if (s->ob.held.len)
            (void)!fwrite(s->ob.held.p, 1, s->ob.held.len, stdout);
        return SK_ATTEMPT_DONE;
    }
    if (err->kind == SK_E_IO) /* stdout failed: tool_finish reports it */
        return SK_ATTEMPT_DONE;
    if (s->ob.streaming) {
        sk_err_prefix(err, "response cut off after part of it was printed");
        return SK_ATTEMPT_FINAL;
    }
    /* Our clock is off: sign again at the server's time, once, at once, as the SDKs and the other
     * tools do (lib/aws/api.c); not one of the standard mode's attempts. */
    if (s->skewed && !s->skew_retried) {
        s->skew_retried = 1;
        c->t.skew_s = s->skew;
        tool_verbose(&s->o->c, "%s: the server's clock is %+ld s from ours; signing again at its time", err->aws_code,
                     s->skew);
        if (c->t.skew_fn)
            c->t.skew_fn(c->t.skew_ctx, s->skew);
        return SK_ATTEMPT_AGAIN;
    }
    s->skewed = 0;
    return SK_ATTEMPT_FAILED;
}

static void send_waiting(void *ctx, int n, int max, long delay, const struct sk_err *err)
{
    struct send *s = ctx;

    tool_verbose(&s->o->c, "attempt %d/%d failed (%s); retrying in %ld ms", n, max,
                 err->aws_code[0] ? err->aws_code : err->msg, delay);
}

/*
 * Send with the SDKs' standard-mode retries (lib/aws/retry.h: AWS_MAX_ATTEMPTS, backoff, quota,
 * Retry-After), each attempt signed afresh (at --date when given). Like the SDKs it retries
 * whatever the method: a request that is not idempotent may then be applied twice. Nothing reaches
 * stdout before a whole 2xx body has arrived, unless it is over HOLD_MAX: then a cut-off transfer
 * is not retried.
 */
static int send_request(const struct opts *o, struct sk_client *c, const struct sk_url *u, const char *host,
                        const struct sk_sigv4_req *sreq, struct sk_sigv4_params *p, const struct sk_creds *creds,
                        struct sk_sigv4_result *sig, const struct sk_buf *body, struct sk_err *err)
{
    struct send s;
    struct sk_retry_job job = { send_attempt, send_waiting, &s, 0, 0, 0 };
    int rc;

    memset(&s, 0, sizeof(s));
    s.o = o;
    s.c = c;
    s.u = u;
    s.host = host;
    s.sreq = sreq;
    s.p = p;
    s.creds = creds;
    s.sig = sig;
    s.body = body;
    sk_buf_init(&s.ob.held);
    if ((rc = sk_retry_run(&c->retry, &job, err)) < 0)
        sk_retry_gave_up(err, job.attempts);
    sk_buf_release(&s.ob.held);
    return rc;
}

/* A URL that is only a path: the service's configured endpoint (--endpoint-url, AWS_ENDPOINT_URL_*,
 * the profile's, else the partition's), the path appended; *region becomes the endpoint's signing
 * region unless --region names one. */
static int resolve_path(const struct opts *o, const char *service, char **region, struct sk_endpoint *ep,
                        struct sk_buf *url, struct sk_err *err)
{
    struct sk_config conf;
    struct sk_service svc = { 0 };
    struct sk_buf env = SK_BUF_INIT;
    const struct sk_service *known;
    size_t i;
    int rc;

    if (!service)
        return sk_errf(err, SK_E_USAGE, "a URL that is only a path needs --service");
    if (sk_config_load(&conf, o->c.profile, err) < 0)
        return -1;
    if (!*region && sk_config_region(&conf, NULL, region, err) < 0) {
        sk_config_release(&conf);
        return -1;
    }
    known = sk_service_find(service);
    if (!known) {
        for (i = 0; service[i]; i++)
            sk_buf_addch(&env, service[i] == '-' ? '_' : (char)toupper((unsigned char)service[i]));
        svc.name = svc.config_key = svc.endpoint_prefix = svc.signing_name = service;
        svc.env_suffix = env.p;
        known = &svc;
    }
    rc = sk_config_resolve_endpoint(&conf, known, o->c.endpoint_url, *region, ep, err);
    sk_config_release(&conf);
    sk_buf_release(&env);
    if (rc < 0)
        return -1;
    /* e.g. STS in aws-global is sts.amazonaws.com, signed for us-east-1 */
    if (ep->signing_region && !o->c.region) {
        free(*region);
        *region = xstrdup(ep->signing_region);
    }
    sk_buf_adds(url, ep->url);
    while (url->len && url->p[url->len - 1] == '/')
        sk_buf_truncate(url, url->len - 1);
    sk_buf_adds(url, o->url);
    return 0;
}

/* The request as given, signed in its headers or (--presign) its query. */
static int sign(const struct opts *o, const struct sk_url *u, const char *host, const struct sk_buf *body,
                const struct sk_creds *creds, struct sk_headers *h, struct sk_sigv4_req *req, struct sk_sigv4_params *p,
                struct sk_sigv4_result *sig, struct sk_err *err)
{
    given_headers(o, host, h);
    if (o->mode == MODE_PRESIGN) {
        p->mode = SK_SIGV4_QUERY;
        p->expires = o->presign;
        if (strcmp(p->service, "s3") == 0)
            p->payload_hash = SK_SIGV4_UNSIGNED_PAYLOAD;
    }
    req->method = o->method;
    req->path = u->path;
    req->query = u->query;
    req->headers = h;
    req->body = body->p;
    req->body_len = body->len;
    return sk_sigv4_sign(req, p, creds, sig, err);
}

static int run(struct opts *o, struct sk_err *err)
{
    struct sk_url u = { 0 };
    struct sk_client c;
    struct sk_buf body = SK_BUF_INIT, host = SK_BUF_INIT, url = SK_BUF_INIT;
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_sigv4_params p;
    struct sk_sigv4_req req;
    struct sk_sigv4_result sig;
    const struct sk_creds *creds;
    char *service = NULL, *region = NULL;
    struct sk_endpoint ep = { NULL, NULL };
    time_t when = time(NULL);
    int have_client = 0, rc = -1;

    sk_sigv4_result_init(&sig);
    sk_buf_init_secret(&body); /* a PutSecretValue, a ChangePassword... */
    memset(&c, 0, sizeof(c));
    if (o->date && sk_parse_amz_date(o->date, &when) < 0) {
        sk_errf(err, SK_E_USAGE, "--date must look like 20260102T030405Z, not '%s'", o->date);
        goto out;
    }
    if (o->data && o->data[0] == '@' && tool_read_input(o->data + 1, &body, (size_t)64 << 20, err) < 0)
        goto out;
    if (o->data && o->data[0] != '@')
        sk_buf_adds(&body, o->data);
    if (o->c.region)
        region = xstrdup(o->c.region);
    if (o->service)
        service = xstrdup(o->service);
    if (o->url[0] != '/')
        sk_buf_adds(&url, o->url);
    else if (resolve_path(o, service, &region, &ep, &url, err) < 0)
        goto out;
    if (sk_url_parse(url.p, &u, err) < 0)
        goto out;
    if (o->mode == MODE_SEND && o->url[0] != '/' && sk_config_check_cleartext(url.p, "the URL", err) < 0)
        goto out; /* a path was checked with its endpoint */
    infer_from_host(u.host, &service, &region);
    if (!service) {
        sk_errf(err, SK_E_USAGE, "cannot tell the service from host '%s': use --service", u.host);
        goto out;
    }
    sk_url_host_header(&u, &host);

    {
        struct common_opts co = o->c;
        co.region = region;
        if (tool_client_init(&c, &co, err) < 0)
            goto out;
        have_client = 1;
    }
    /* The body is arbitrary: the values of its sensitive members (JSON members, form parameters)
     * are secrets of this run, kept out of the --debug trace and of any error that quotes them. */
    sk_secrets_add_body(sk_http_secrets(c.http), body.p, body.len);
    if (sk_client_creds(&c, &creds, err) < 0)
        goto out;
    tool_verbose(&o->c, "signing for service %s in %s with credentials from %s", service, c.region, creds->source);

    sk_sigv4_params_init(&p, service, c.region, when);
    if (sign(o, &u, host.p, &body, creds, &h, &req, &p, &sig, err) < 0)
        goto out;

    switch (o->mode) {
    case MODE_PRINT_HEADERS: print_headers(o, &sig); break;
    case MODE_PRINT_CANONICAL: print_canonical(&sig, creds); break;
    case MODE_PRESIGN: printf("%s://%s%s?%s\n", u.scheme, host.p, u.path, sig.query.p); break;
    case MODE_SEND:
        if (send_request(o, &c, &u, host.p, &req, &p, creds, &sig, &body, err) < 0)
            goto out;
        break;
    }
    rc = 0;
out:
    sk_sigv4_result_release(&sig);
    sk_headers_release(&h);
    sk_url_release(&u);
    sk_buf_release(&body);
    sk_buf_release(&host);
    sk_buf_release(&url);
    free(service);
    free(region);
    sk_endpoint_release(&ep);
    if (have_client)
        sk_client_release(&c);
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("aws-sign");
    parse_args(argc, argv, &o);
    code = run(&o, &err);
    sk_headers_release(&o.headers);
    return tool_finish(code);
}
