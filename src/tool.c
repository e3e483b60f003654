#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/text.h"
#include "core/version.h"
#include "aws/pace.h"

const char *progname = "shipkit";

const char common_help[] = "Common options:\n"
                           "  --region NAME        AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile)\n"
                           "  --profile NAME       profile from ~/.aws/config and ~/.aws/credentials\n"
                           "  --endpoint-url URL   send requests here instead of the AWS endpoint\n"
                           "  --ca-bundle FILE     trust these CA certificates (else AWS_CA_BUNDLE)\n"
                           "  --output json|text   output format (default text)\n"
                           "  --query JQ           run a jq program over the JSON result\n"
                           "  -q, --quiet          no notes on stderr, only errors\n"
                           "  -v, --verbose        more notes on stderr\n"
                           "  --debug              wire trace on stderr, secrets redacted\n"
                           "  --help, --version\n"
                           "Exit: 0 ok, 1 no, 2 usage/input, 3 config/credentials, 4 AWS error, 5 network/TLS,\n"
                           "      6 wait timed out, 70 internal.\n";

void tool_init(const char *name)
{
    int fd;

    sk_mem_no_core_dumps(); /* every tool holds credentials: no core file, no ptrace */
    progname = name;
    signal(SIGPIPE, SIG_IGN);
    /* Make sure 0, 1 and 2 are open so nothing we open lands on them (curl main_checkfds). */
    do {
        fd = open("/dev/null", O_RDWR);
        if (fd > 2)
            close(fd);
    } while (fd >= 0 && fd <= 2);
}

/* "prefix: " (when prefix) and fmt's expansion escaped (lib/core/text.h) as one line on out: every line
 * a tool prints about what it did may quote text from outside (a server's message, a log line). */
static _Thread_local const char *line_tag;

void tool_set_tag(const char *tag)
{
    line_tag = tag;
}

const char *tool_tag(void)
{
    return line_tag;
}

static void vline(FILE *out, const char *prefix, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void vline(FILE *out, const char *prefix, const char *fmt, va_list ap)
{
    struct sk_buf raw = SK_BUF_INIT, line = SK_BUF_INIT;
    size_t skip = 0, pn = strlen(progname);

    sk_buf_vaddf(&raw, fmt, ap);
    if (prefix)
        sk_buf_addf(&line, "%s: ", prefix);
    if (line_tag && out == stderr) {
        /* after the tool's name when the line starts with it */
        if (!prefix && raw.len > pn + 1 && memcmp(raw.p, progname, pn) == 0 && raw.p[pn] == ':' && raw.p[pn + 1] == ' ')
            sk_buf_add(&line, raw.p, skip = pn + 2);
        sk_text_escape(&line, line_tag, strlen(line_tag));
        sk_buf_add(&line, ": ", 2);
    }
    sk_text_escape(&line, raw.p + skip, raw.len - skip);
    sk_buf_addch(&line, '\n');
    fwrite(line.p, 1, line.len, out);
    sk_buf_release(&raw);
    sk_buf_release(&line);
}

void tool_line(FILE *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vline(out, NULL, fmt, ap);
    va_end(ap);
}

void tool_usage(const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    tool_line(stderr, "%s: %s; try '%s --help'", progname, b.p, progname);
    sk_buf_release(&b);
    exit(EXIT_USAGE);
}

void tool_exact_longopts(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return;
        if (a[0] == '-' && a[1] == '-') {
            size_t n = strcspn(a + 2, "=");
            const struct option *lo;
            for (lo = longopts; lo->name; lo++)
                if (strlen(lo->name) == n && strncmp(lo->name, a + 2, n) == 0)
                    break;
            if (!lo->name)
                tool_usage("unknown option '--%.*s'", (int)n, a + 2);
            if (lo->has_arg == required_argument && !a[2 + n])
                i++; /* its value is the next word */
        } else if (a[0] == '-' && a[1] && a[1] != '-') {
            const char *p = strchr(shortopts, a[1]);
            if (p && p[1] == ':' && !a[2])
                i++;
        }
    }
}

void tool_bad_option(char **argv, int opt)
{
    const char *arg = argv[optind - 1];

    if (opt == ':')
        tool_usage("option '%s' needs a value", arg);
    if (optopt && optopt < 256)
        tool_usage("unknown option '-%c'", optopt);
    /* Only the option's name: in --name=value the value may be a secret. */
    tool_usage("unknown option '%.*s'", (int)strcspn(arg, "="), arg);
}

int tool_common_opt(struct common_opts *o, int opt, const char *arg, const char *help_text)
{
    switch (opt) {
    case OPT_CA_BUNDLE: o->ca_bundle = arg; return 1;
    case OPT_DEBUG: o->debug = 1; return 1;
    case OPT_ENDPOINT_URL: o->endpoint_url = arg; return 1;
    case OPT_PROFILE: o->profile = arg; return 1;
    case OPT_QUERY: o->query = arg; return 1;
    case OPT_REGION: o->region = arg; return 1;
    case 'q': o->quiet = 1; return 1;
    case 'v': o->verbose++; return 1;
    case OPT_OUTPUT:
        if (strcmp(arg, "json") == 0)
            o->output = OUTPUT_JSON;
        else if (strcmp(arg, "text") == 0)
            o->output = OUTPUT_TEXT;
        else
            tool_usage("--output must be json or text, not '%s'", arg);
        return 1;
    case OPT_HELP:
        fputs(help_text, stdout);
        fputs(common_help, stdout);
        exit(tool_finish(EXIT_OK));
    case OPT_VERSION: printf("%s (shipkit) %s\n", progname, SK_VERSION); exit(tool_finish(EXIT_OK));
    }
    return 0;
}

int tool_exit_code(const struct sk_err *err)
{
    switch (err->kind) {
    case SK_E_NONE: return EXIT_OK;
    case SK_E_USAGE: return EXIT_USAGE;
    case SK_E_IO: return EXIT_USAGE;
    case SK_E_CONFIG: return EXIT_CONFIG;
    case SK_E_AWS: return EXIT_AWS;
    case SK_E_PARSE: return EXIT_AWS;
    case SK_E_NET: return EXIT_NET;
    case SK_E_TIMEOUT: return EXIT_TIMEOUT;
    case SK_E_INTERNAL: return EXIT_INTERNAL;
    }
    return EXIT_INTERNAL;
}

int tool_fail(const struct common_opts *o, const struct sk_err *err)
{
    if (o && o->verbose && err->request_id[0])
        tool_line(stderr, "%s: %s (request id %s)", progname, err->msg, err->request_id);
    else
        tool_line(stderr, "%s: %s", progname, err->msg[0] ? err->msg : sk_errkind_name(err->kind));
    return tool_exit_code(err);
}

int tool_outcome(const struct common_opts *o, int rc, const struct sk_err *err)
{
    return rc < 0 ? tool_fail(o, err) : rc;
}

void tool_err_append(struct sk_err *err, const char *fmt, ...)
{
    char suffix[sizeof(err->msg)];
    size_t used = strlen(err->msg), n, room = sizeof(err->msg) - 1;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(suffix, sizeof(suffix), fmt, ap);
    va_end(ap);
    n = strlen(suffix);
    if (n > room * 3 / 4) /* never lose the whole message to the suffix */
        n = sk_text_cut(suffix, room * 3 / 4);
    if (used + n > room) {
        used = sk_text_cut(err->msg, room - n - 3); /* never half a character */
        memcpy(err->msg + used, "...", 3);
        used += 3;
    }
    memcpy(err->msg + used, suffix, n);
    err->msg[used + n] = '\0';
}

void tool_note(const struct common_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (o->quiet)
        return;
    va_start(ap, fmt);
    vline(stderr, progname, fmt, ap);
    va_end(ap);
}

void tool_verbose(const struct common_opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->verbose || o->quiet)
        return;
    va_start(ap, fmt);
    vline(stderr, progname, fmt, ap);
    va_end(ap);
}

/* The library hands over lines already redacted and escaped (lib/aws/http.h). */
static void trace_to_stderr(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "%s: debug: %s\n", progname, line);
}

/* The library moved the signing clock to the server's (lib/aws/api.h, "clock skew"): a clock more than
 * a minute off is worth fixing, so say so, once per correction. ctx is a copy of the options the
 * client was made with (callers may pass options that do not outlive the client). */
static struct common_opts skew_opts;

static void skew_note(void *ctx, long skew_s)
{
    const struct common_opts *o = ctx;
    long a = skew_s < 0 ? -skew_s : skew_s;

    if (a <= 60)
        return;
    if (a % 60)
        tool_note(o,
                  "this machine's clock is %ld min %ld s %s the server's (the Date of its answer): signing at the "
                  "server's time from now on",
                  a / 60, a % 60, skew_s > 0 ? "behind" : "ahead of");
    else
        tool_note(o,
                  "this machine's clock is %ld min %s the server's (the Date of its answer): signing at the "
                  "server's time from now on",
                  a / 60, skew_s > 0 ? "behind" : "ahead of");
}

int tool_client_init(struct sk_client *c, const struct common_opts *o, struct sk_err *err)
{
    struct sk_client_opts co = { 0 };
    const struct sk_creds *creds;

    co.profile = o->profile;
    co.region = o->region;
    co.endpoint_url = o->endpoint_url;
    co.ca_bundle = o->ca_bundle;
    if (o->debug)
        co.trace = trace_to_stderr;
    skew_opts = *o;
    co.skew_fn = skew_note;
    co.skew_ctx = &skew_opts;
    if (sk_client_init(c, &co, err) < 0)
        return -1;
    /* Resolve credentials now: a tool fails before doing anything if it has none. */
    if (sk_client_creds(c, &creds, err) < 0) {
        sk_client_release(c);
        return -1;
    }
    tool_verbose(o, "region %s, credentials from %s%s", c->region, creds->source,
                 creds->session_token ? " (temporary)" : "");
    return 0;
}

int tool_region_client(void *ctx, const char *region, struct sk_client *out, struct sk_err *err)
{
    struct common_opts co = *(const struct common_opts *)ctx;

    co.region = region;
    return tool_client_init(out, &co, err);
}

double tool_poll_scale(void)
{
    double v;

    return sk_scale_env("SK_POLL_SCALE", &v, NULL) == 0 ? v : 1.0;
}

/* One result: in text mode a string escaped (lib/core/text.h), anything else as JSON with what jq leaves
 * raw escaped too (sk_text_json_safe): either way nothing a terminal or a CI runner acts on. */
static void print_value(jv v, int pretty, FILE *out)
{
    struct sk_buf b = SK_BUF_INIT;

    if (!pretty && jv_get_kind(v) == JV_KIND_STRING) {
        sk_text_escape(&b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
    } else {
        sk_json_dump(v, pretty, &b);
        sk_text_json_safe(&b);
    }
    sk_buf_addch(&b, '\n');
    fwrite(b.p, 1, b.len, out);
    sk_buf_release(&b);
}

/* v (consumed) with every string value escaped (lib/core/text.h), for a tool's text printer: it prints
 * the fields it knows as they are, so they are made safe here once. Keys are the tools' own. */
static jv escaped(jv v)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_STRING: {
        struct sk_buf b = SK_BUF_INIT;
        jv r;
        sk_text_escape(&b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
        r = jv_string_sized(b.p, (int)b.len);
        sk_buf_release(&b);
        jv_free(v);
        return r;
    }
    case JV_KIND_ARRAY: {
        int i, n = jv_array_length(jv_copy(v));
        for (i = 0; i < n; i++)
            v = jv_array_set(v, i, escaped(jv_array_get(jv_copy(v), i)));
        return v;
    }
    case JV_KIND_OBJECT: {
        jv keys = jv_keys(jv_copy(v));
        int i, n = jv_array_length(jv_copy(keys));
        for (i = 0; i < n; i++) {
            jv k = jv_array_get(jv_copy(keys), i);
            v = jv_object_set(v, jv_copy(k), escaped(jv_object_get(jv_copy(v), jv_copy(k))));
            jv_free(k);
        }
        jv_free(keys);
        return v;
    }
    default: return v;
    }
}

int tool_emit(const struct common_opts *o, jv result, void (*text_fn)(jv, FILE *), struct sk_err *err)
{
    jv results;
    int i, n;

    if (!o->query) {
        if (o->output == OUTPUT_JSON || !text_fn) {
            print_value(result, 1, stdout);
            jv_free(result);
        } else {
            result = escaped(result);
            text_fn(result, stdout);
            jv_free(result);
        }
        return 0;
    }
    if (sk_jq_run(o->query, result, &results, err) < 0)
        return sk_err_prefix(err, "--query");
    n = jv_array_length(jv_copy(results));
    for (i = 0; i < n; i++) {
        jv v = jv_array_get(jv_copy(results), i);
        print_value(v, o->output == OUTPUT_JSON, stdout);
        jv_free(v);
    }
    jv_free(results);
    return 0;
}

int tool_read_input(const char *path, struct sk_buf *out, size_t max, struct sk_err *err)
{
    int fd = 0, rc = -1;
    char tmp[8192];
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;

    if (strcmp(path, "-") != 0) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err->sys_errno = errno;
            return sk_errf(err, SK_E_IO, "cannot read '%s': %s", path, strerror(errno));
        }
    }
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err->sys_errno = errno;
            sk_errf(err, SK_E_IO, "cannot read %s: %s", name, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (out->len + (size_t)n > max) {
            sk_errf(err, SK_E_USAGE, "%s is larger than %zu bytes", name, max);
            goto out;
        }
        sk_buf_add(out, tmp, (size_t)n);
    }
    rc = 0;
out:
    sk_wipe(tmp, sizeof(tmp));
    if (fd > 0)
        close(fd);
    return rc;
}

void tool_chomp(struct sk_buf *b)
{
    if (b->len && b->p[b->len - 1] == '\n') {
        sk_buf_truncate(b, b->len - 1);
        if (b->len && b->p[b->len - 1] == '\r')
            sk_buf_truncate(b, b->len - 1);
    }
}

int tool_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!*s || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int tool_finish(int rc)
{
    int bad = 0;

    if (fflush(stdout) != 0 || ferror(stdout))
        bad = errno ? errno : EIO;
    if (fclose(stdout) != 0 && !bad)
        bad = errno ? errno : EIO;
    if (bad && bad != EPIPE) {
        fprintf(stderr, "%s: cannot write standard output: %s\n", progname, strerror(bad));
        return rc ? rc : EXIT_USAGE;
    }
    return rc;
}

void tool_tags_json(const char *const *tags, int n, struct sk_buf *out)
{
    int i;

    sk_buf_addch(out, '[');
    for (i = 0; i < n; i++) {
        const char *eq = strchr(tags[i], '=');
        struct sk_jsonw w;
        if (i)
            sk_buf_addch(out, ',');
        sk_jsonw_begin(&w, out);
        sk_jsonw_strn(&w, "Key", tags[i], (size_t)(eq - tags[i]));
        sk_jsonw_str(&w, "Value", eq + 1);
        sk_jsonw_end(&w);
    }
    sk_buf_addch(out, ']');
}

int tool_parse_duration(const char *s, long *seconds)
{
    long total = 0;
    const char *p = s;

    if (!*s)
        return -1;
    while (*p) {
        long v = 0, unit;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p++ - '0');
            if (v > 7L * 24 * 3600)
                return -1;
        }
        if (p == start)
            return -1;
        switch (*p) {
        case 'h':
            unit = 3600;
            p++;
            break;
        case 'm':
            unit = 60;
            p++;
            break;
        case 's':
            unit = 1;
            p++;
            break;
        case '\0':
            if (start != s) /* a bare number only on its own: "1h30" is ambiguous */
                return -1;
            unit = 1;
            break;
        default: return -1;
        }
        total += v * unit;
        if (total > 7L * 24 * 3600)
            return -1;
    }
    if (total <= 0)
        return -1;
    *seconds = total;
    return 0;
}

double tool_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tool_sleep_s(double s)
{
    struct timespec ts;

    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
