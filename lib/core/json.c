/*
 * json.c - JSON through libjq 1.6's jv, behind kind-checking helpers (see json.h for the rules).
 */
#include "core/json.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "core/mem.h"

/* Longest jq message kept in an error; struct sk_err.msg truncates further anyway. */
#define JQ_MSG_MAX 400

/*
 * jq 1.6's parser leaks the string when a string directly follows a value inside an array or
 * object ('["a" "b"]': value() returns "Expected separator between values" without freeing it).
 * Valid JSON never has a string right after a value, so find that case first and refuse it here.
 * Returns the offset of the offending quote, or n when there is none.
 */
static size_t string_after_value(const char *p, size_t n)
{
    size_t i;
    int in_string = 0, after_value = 0;
    char c;

    for (i = 0; i < n; i++) {
        c = p[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = 0;
                after_value = 1;
            }
            continue;
        }
        if (c == '"') {
            if (after_value)
                return i;
            in_string = 1;
        } else if (c == '[' || c == '{' || c == ',' || c == ':') {
            after_value = 0;
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            after_value = 1; /* ] } or part of a number or literal */
        }
    }
    return n;
}

/*
 * jq 1.6's parser copies every token (strings included, so a SecretString or a SecretAccessKey)
 * into p->tokenbuf, which it grows with realloc from 256 bytes and frees without wiping: each
 * growth and the final free leave a copy of the secret on the heap. jv has no allocator hook, so
 * drive the parser so that no secret ever sits in a discarded tokenbuf:
 *   1. a dummy literal of n+1 zeros (a valid number) grows tokenbuf past any token of the input,
 *      before any secret is copied in;
 *   2. the input, with a newline after it (so a top-level number or literal ends);
 *   3. a quote (closing a string left open by truncated input, or opening one) and n+1 zeros again,
 *      each fed alone: they land at tokenbuf[0...], overwriting every byte a token of the input
 *      used, before jv_parser_free.
 * The input is never marked final (after EOF the parser takes no more bytes), so a document that
 * is still open after step 2 is reported here as jq would at EOF. Values the steps produce besides
 * the document are wiped and freed. Parser messages say "at line N", counted from the dummy's
 * line: N is adjusted back.
 */
struct json_feed {
    jv_parser *parser;
    jv value; /* the first value the input produced */
    int nvalues;
    jv msg;  /* the first parser error in the input */
    int eof; /* set while feeding the newline that stands for the end of the input */
    int msg_at_eof;
};

/* Drain the parser: keep the first value and the first error when record is set; wipe and free
 * anything else (a dummy, extra values). */
static void drain(struct json_feed *f, int record)
{
    jv v;

    for (;;) {
        v = jv_parser_next(f->parser);
        if (jv_is_valid(v)) {
            if (record && f->nvalues++ == 0) {
                f->value = v;
                continue;
            }
            sk_json_wipe_strings(v);
            jv_free(v);
            continue;
        }
        if (!jv_invalid_has_msg(jv_copy(v))) {
            jv_free(v);
            /* Needs more input, or (an ASCII RS, which jq takes as a record separator even outside
             * --seq) a reset with the buffer not yet used up: setting the next buffer then would
             * abort in jq's assert. */
            if (jv_parser_remaining(f->parser) > 0)
                continue;
            return;
        }
        if (record && jv_get_kind(f->msg) == JV_KIND_INVALID) {
            f->msg = jv_invalid_get_msg(v);
            f->msg_at_eof = f->eof;
            continue;
        }
        jv_free(v);
    }
}

static void feed(struct json_feed *f, const char *p, size_t n, int record)
{
    jv_parser_set_buf(f->parser, p, (int)n, 1);
    drain(f, record);
}

/* "... at line N, column M": N counts the dummy's line; report the input's own. A token our
 * newline ended was ended by the end of the input: say so, as jq does. */
static void parse_error(struct sk_err *err, jv msg, int at_eof)
{
    const char *m = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "invalid input";
    const char *at = strstr(m, " at line ");
    char *end;
    long line;

    if (at && at_eof) {
        sk_errf(err, SK_E_PARSE, "json: %.*s at EOF", (int)(at - m), m);
        return;
    }
    if (at && (line = strtol(at + 9, &end, 10)) > 1) {
        sk_errf(err, SK_E_PARSE, "json: %.*s at line %ld%s", (int)(at - m), m, line - 1, end);
        return;
    }
    sk_errf(err, SK_E_PARSE, "json: %s", m);
}

static int only_space(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    }
    return 1;
}

/*
 * jv_parse_sized() in jq 1.6 appends "(while parsing '%s')" to its messages, reading the input
 * with %s: past n when the input is not NUL-terminated, and echoing secrets into errors. So drive
 * the parser directly (as above), with the same "exactly one value" rule.
 */
int sk_json_parse(const char *p, size_t n, jv *out, struct sk_err *err)
{
    struct json_feed f = { NULL, jv_invalid(), 0, jv_invalid(), 0, 0 };
    char *zeros = NULL;
    size_t bad;
    int rc = -1;

    *out = jv_invalid();
    p = p ? p : "";
    if (n > INT_MAX - 2) {
        sk_errf(err, SK_E_PARSE, "json: input too large (%zu bytes)", n);
        goto out;
    }
    /* RFC 8259 has no place for a raw RS (0x1E) anywhere; jq would take it as a record separator
     * and start over (json_fuzz found the resulting assertion failure in jq). */
    {
        const char *rs = n ? memchr(p, 0x1e, n) : NULL;
        if (rs) {
            sk_errf(err, SK_E_PARSE, "json: control character 0x1E at byte %zu", (size_t)(rs - p));
            goto out;
        }
    }
    if ((bad = string_after_value(p, n)) < n) {
        sk_errf(err, SK_E_PARSE, "json: expected separator between values at byte %zu", bad);
        goto out;
    }
    /* The parser strips a UTF-8 byte order mark only at the very start; ours is the dummy. */
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    zeros = xmalloc(n + 2);
    memset(zeros, '0', n + 1);
    zeros[n + 1] = '\n';
    f.parser = jv_parser_new(0);
    feed(&f, zeros, n + 2, 0);
    feed(&f, p, n, 1);
    f.eof = 1;
    feed(&f, "\n", 1, 1);
    f.eof = 0;
    feed(&f, "\"", 1, 0);
    feed(&f, zeros, n + 1, 0);

    if (jv_get_kind(f.msg) != JV_KIND_INVALID) {
        parse_error(err, f.msg, f.msg_at_eof);
        goto out;
    }
    if (f.nvalues > 1) {
        sk_errf(err, SK_E_PARSE, "json: unexpected data after the JSON value");
        goto out;
    }
    if (f.nvalues == 0) {
        if (only_space(p, n))
            sk_errf(err, SK_E_PARSE, "json: no value in input");
        else
            sk_errf(err, SK_E_PARSE, "json: Unfinished JSON term at EOF");
        goto out;
    }
    *out = f.value;
    f.value = jv_invalid();
    rc = 0;
out:
    if (jv_is_valid(f.value))
        sk_json_wipe_strings(f.value);
    jv_free(f.value);
    jv_free(f.msg);
    if (f.parser)
        jv_parser_free(f.parser);
    free(zeros);
    return rc;
}

jv sk_json_get(jv obj, const char *key)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT || !key)
        return jv_invalid();
    /* jv_object_get returns jv_invalid() for an absent key. */
    return jv_object_get(jv_copy(obj), jv_string(key));
}

const char *sk_json_str(jv obj, const char *key)
{
    jv v = sk_json_get(obj, key);
    const char *s = NULL;

    /* The object keeps its own reference, so the string outlives our copy. */
    if (jv_get_kind(v) == JV_KIND_STRING)
        s = jv_string_value(v);
    jv_free(v);
    return s;
}

int sk_json_len(jv a)
{
    return jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_length(jv_copy(a)) : 0;
}

int sk_json_num(jv obj, const char *key, double *out)
{
    jv v = sk_json_get(obj, key);
    int rc = -1;

    if (jv_get_kind(v) == JV_KIND_NUMBER) {
        *out = jv_number_value(v);
        rc = 0;
    }
    jv_free(v);
    return rc;
}

double sk_json_num_any(jv obj, const char *key, double dflt)
{
    const char *s = sk_json_str(obj, key);
    double d;
    char *end;

    if (sk_json_num(obj, key, &d) == 0)
        return d;
    if (s && *s) {
        d = strtod(s, &end);
        if (*end == '\0')
            return d;
    }
    return dflt;
}

jv sk_json_path(jv obj, const char *const *keys)
{
    jv cur = jv_copy(obj), next;

    for (; keys && *keys; keys++) {
        next = sk_json_get(cur, *keys);
        jv_free(cur);
        cur = next;
        if (!jv_is_valid(cur))
            break;
    }
    return cur;
}

void sk_json_dump(jv v, int pretty, struct sk_buf *out)
{
    jv s;

    /* jv_dump_string asserts on an invalid value; an absent value prints as jq's null. */
    if (!jv_is_valid(v)) {
        sk_buf_adds(out, "null");
        return;
    }
    s = jv_dump_string(jv_copy(v), pretty ? JV_PRINT_INDENT_FLAGS(2) : 0);
    sk_buf_add(out, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
    jv_free(s);
}

/* ---- jq programs ---- */

struct jq_capture {
    struct sk_buf msg; /* the first error jq reported */
};

/* Append a jq message as one line: newlines become spaces, trailing blanks dropped. */
static void add_one_line(struct sk_buf *b, const char *s)
{
    for (; *s && b->len < JQ_MSG_MAX; s++)
        sk_buf_addch(b, *s == '\n' || *s == '\r' || *s == '\t' ? ' ' : *s);
    while (b->len && b->p[b->len - 1] == ' ')
        sk_buf_truncate(b, b->len - 1);
}

/* jq 1.6 prints compile errors on stderr unless an error callback is installed. */
static void jq_err_cb(void *data, jv msg)
{
    struct jq_capture *cap = data;

    if (!cap->msg.len) {
        if (jv_get_kind(msg) == JV_KIND_STRING) {
            add_one_line(&cap->msg, jv_string_value(msg));
        } else {
            jv s = jv_dump_string(jv_copy(msg), 0);
            add_one_line(&cap->msg, jv_string_value(s));
            jv_free(s);
        }
    }
    jv_free(msg);
}

/* The "debug" builtin goes to this callback; swallow it, the library never prints. */
static void jq_debug_cb(void *data, jv msg)
{
    (void)data;
    jv_free(msg);
}

/* Format a runtime error message the way jq does: strings as-is, other values dumped. */
static void add_jq_value_msg(struct sk_buf *b, jv msg)
{
    jv s;

    if (jv_get_kind(msg) == JV_KIND_STRING) {
        add_one_line(b, jv_string_value(msg));
    } else if (jv_is_valid(msg)) {
        s = jv_dump_string(jv_copy(msg), 0);
        add_one_line(b, jv_string_value(s));
        sk_buf_adds(b, " (not a string)");
        jv_free(s);
    } else {
        sk_buf_adds(b, "unknown error");
    }
}

int sk_jq_run(const char *program, jv input, jv *results, struct sk_err *err)
{
    struct jq_capture cap;
    struct sk_buf msg = SK_BUF_INIT;
    jq_state *jq = NULL;
    jv acc = jv_array(), v = jv_invalid(), m = jv_invalid();
    int rc = -1;

    sk_buf_init(&cap.msg);
    *results = jv_invalid();
    jq = jq_init();
    if (!jq) {
        sk_errf(err, SK_E_INTERNAL, "jq: cannot initialise");
        goto out;
    }
    jq_set_error_cb(jq, jq_err_cb, &cap);
    jq_set_debug_cb(jq, jq_debug_cb, NULL);
    if (!jq_compile(jq, program ? program : ".")) {
        if (cap.msg.len)
            sk_errf(err, SK_E_USAGE, "%s", cap.msg.p);
        else
            sk_errf(err, SK_E_USAGE, "jq: error: cannot compile program");
        goto out;
    }
    jq_start(jq, input, 0);
    input = jv_invalid(); /* consumed by jq_start */
    for (;;) {
        jv_free(v);
        v = jq_next(jq);
        if (jv_is_valid(v)) {
            acc = jv_array_append(acc, v);
            v = jv_invalid();
            continue;
        }
        if (jv_invalid_has_msg(jv_copy(v))) {
            m = jv_invalid_get_msg(jv_copy(v));
            add_jq_value_msg(&msg, m);
            sk_errf(err, SK_E_USAGE, "jq: error: %s", msg.p);
            goto out;
        }
        if (jq_halted(jq)) {
            /* halt is a normal end; halt_error carries an exit code and a message. */
            jv code = jq_get_exit_code(jq);
            int failed = jv_is_valid(code);
            jv_free(code);
            if (failed) {
                jv_free(m);
                m = jq_get_error_message(jq);
                add_jq_value_msg(&msg, m);
                sk_errf(err, SK_E_USAGE, "jq: error: halt_error: %s", msg.p);
                goto out;
            }
        }
        break;
    }
    *results = acc;
    acc = jv_invalid();
    rc = 0;
out:
    jv_free(input);
    jv_free(acc);
    jv_free(v);
    jv_free(m);
    if (jq)
        jq_teardown(&jq);
    sk_buf_release(&cap.msg);
    sk_buf_release(&msg);
    return rc;
}

void sk_json_wipe_strings(jv v)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_STRING:
        /* jv has no mutable accessor; the string is ours alone (see json.h), so cast. */
        sk_wipe((void *)jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
        break;
    case JV_KIND_ARRAY: {
        int i, n = jv_array_length(jv_copy(v));
        for (i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            sk_json_wipe_strings(e);
            jv_free(e);
        }
        break;
    }
    case JV_KIND_OBJECT: {
        int it;
        for (it = jv_object_iter(v); jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
            jv k = jv_object_iter_key(v, it), e = jv_object_iter_value(v, it);
            sk_json_wipe_strings(e);
            jv_free(e);
            jv_free(k); /* keys are names, not secrets */
        }
        break;
    }
    default: break;
    }
}
