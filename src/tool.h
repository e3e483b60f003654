/*
 * tool.h - what every shipkit command shares: program name, common options, output (--output,
 * --query), reading values from files or stdin, and the one table from error kinds to exit codes.
 * Only tools include this; the library never prints or exits.
 */
#ifndef SK_TOOL_H
#define SK_TOOL_H

#include <getopt.h>
#include <stdio.h>

#include <jv.h>

#include "aws/client.h"
#include "core/buf.h"
#include "core/err.h"

/* Exit codes, all tools. */
enum {
    EXIT_OK = 0,
    EXIT_NO = 1,       /* the check or deploy answered "no" */
    EXIT_USAGE = 2,    /* usage or invalid input */
    EXIT_CONFIG = 3,   /* config or credentials */
    EXIT_AWS = 4,      /* AWS returned an error */
    EXIT_NET = 5,      /* network or TLS */
    EXIT_TIMEOUT = 6,  /* a wait timed out */
    EXIT_INTERNAL = 70 /* a bug */
};

extern const char *progname;

enum output_format { OUTPUT_TEXT, OUTPUT_JSON };

struct common_opts {
    const char *region;
    const char *profile;
    const char *endpoint_url;
    const char *ca_bundle;
    const char *query; /* jq program */
    enum output_format output;
    int quiet, verbose, debug;
};

/* Long-option ids for the common options; tools put COMMON_LONGOPTS in their table. */
enum {
    OPT_CA_BUNDLE = 1000,
    OPT_DEBUG,
    OPT_ENDPOINT_URL,
    OPT_HELP,
    OPT_OUTPUT,
    OPT_PROFILE,
    OPT_QUERY,
    OPT_REGION,
    OPT_VERSION,
    OPT_TOOL_BASE = 1100 /* tools number their own long options from here */
};

#define COMMON_LONGOPTS                                                                                                \
    { "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE }, { "debug", no_argument, NULL, OPT_DEBUG },                \
        { "endpoint-url", required_argument, NULL, OPT_ENDPOINT_URL }, { "help", no_argument, NULL, OPT_HELP },        \
        { "output", required_argument, NULL, OPT_OUTPUT }, { "profile", required_argument, NULL, OPT_PROFILE },        \
        { "query", required_argument, NULL, OPT_QUERY }, { "quiet", no_argument, NULL, 'q' },                          \
        { "region", required_argument, NULL, OPT_REGION }, { "verbose", no_argument, NULL, 'v' },                      \
    {                                                                                                                  \
        "version", no_argument, NULL, OPT_VERSION                                                                      \
    }
#define COMMON_SHORTOPTS "qv"

/* Common option text for --help. */
extern const char common_help[];

/* Set progname, ignore SIGPIPE, make sure fds 0-2 are open. */
void tool_init(const char *name);

/* Handle a common option. Returns 1 if handled, 0 if not a common option. --help prints help_text
 * to stdout and exits 0; --version prints the version and exits 0; bad values exit 2. */
int tool_common_opt(struct common_opts *o, int opt, const char *arg, const char *help_text);

/* Refuse abbreviated long options (getopt_long accepts unique prefixes, so --value=x would quietly
 * mean --value-file=x). Call before the getopt_long loop; exits 2 on an inexact name. */
void tool_exact_longopts(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* One line "prog: message; try 'prog --help'" on stderr, exit 2. */
void tool_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* The message for a getopt failure (unknown option, missing argument); exits 2. */
void tool_bad_option(char **argv, int opt);

/* Print "prog: message" for err on stderr and return its exit code. -v adds the request id. */
int tool_fail(const struct common_opts *o, const struct sk_err *err);
int tool_exit_code(const struct sk_err *err);
/* The outcome contract of every tool: its run() ends with "return tool_outcome(&o->c, rc, err);"
 * and main() returns tool_finish() of what run() returned. rc >= 0 is the exit code itself (EXIT_OK,
 * or EXIT_NO when the check or deploy answered "no", its reason already on stderr); rc < 0 means
 * err failed the run: it is printed (tool_fail) and its kind's exit code returned. */
int tool_outcome(const struct common_opts *o, int rc, const struct sk_err *err);
/* Append suffix (printf-style) to err's message whole: what state a failure left matters more than
 * the end of a long AWS message, which is shortened to "..." to make room. */
void tool_err_append(struct sk_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print fmt's expansion as one line on out, escaped (lib/core/text.h): for every line that shows text
 * from outside (an ECS event, a log line, a stopped reason, a server's message). Control
 * characters and escape sequences become visible escapes, a newline inside a value "\n", and a
 * line cannot start a CI workflow command ("::" at its start, "##[" anywhere). */
void tool_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* This thread's lines on stderr name tag after the tool's name ("ecs-roll: web: ..."), escaped;
 * NULL: none. A fleet's deploys run one per thread (ecs-roll), each line written whole. */
void tool_set_tag(const char *tag);
const char *tool_tag(void);
/* "prog: message" on stderr unless -q, escaped as tool_line does (also tool_verbose, tool_fail
 * and tool_usage). */
void tool_note(const struct common_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like tool_note but only with -v. */
void tool_verbose(const struct common_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s, or dflt when s is NULL (an optional field of an answer, in a message). */
static inline const char *tool_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

/* Set up the AWS client from the common options (tracing to stderr with --debug). */
int tool_client_init(struct sk_client *c, const struct common_opts *o, struct sk_err *err);
/* An sk_logs_region_fn (lib/svc/logs.h): a client for another region (a task definition's
 * awslogs-region), set up as the tool's own is from ctx, its const struct common_opts. */
int tool_region_client(void *ctx, const char *region, struct sk_client *out, struct sk_err *err);
/* SK_POLL_SCALE (lib/aws/pace.h: 0.001 to 1), or 1. A tool that polls checks it with
 * sk_scale_env before anything else, so that a bad value is refused (exit 3) rather than ignored. */
double tool_poll_scale(void);

/* Print a result: --query runs over json first; text mode prints strings escaped (tool_line) and
 * other values as compact JSON, one per line, or calls text_fn when there is no --query, with every
 * string of result escaped; json mode pretty-prints, the raw text kept in the JSON (its escaping,
 * and sk_text_json_safe, make it safe). Consumes result. */
int tool_emit(const struct common_opts *o, jv result, void (*text_fn)(jv result, FILE *out), struct sk_err *err);

/* Read all of path ("-" = stdin) into out (make it secret first for secret values), at most max
 * bytes. Errors are SK_E_IO naming the file. */
int tool_read_input(const char *path, struct sk_buf *out, size_t max, struct sk_err *err);
/* Drop one trailing "\n" or "\r\n". */
void tool_chomp(struct sk_buf *b);

/* Append [{"Key":..,"Value":..},...] for n "KEY=VALUE" strings (already checked to hold '='). */
void tool_tags_json(const char *const *tags, int n, struct sk_buf *out);

/* Durations as people write them: "90", "90s", "15m", "1h", "1h30m", "2m30s" -> seconds (>0, <= 7 days). */
int tool_parse_duration(const char *s, long *seconds);

/* Monotonic seconds, and a sleep that survives signals. */
double tool_now_s(void);
void tool_sleep_s(double seconds);

/* strtonum-style: decimal only, min..max inclusive. */
int tool_parse_long(const char *s, long min, long max, long *out);

/* Flush and close stdout; turns a write failure into an error line and exit 2 when rc is 0. */
int tool_finish(int rc);

#endif
