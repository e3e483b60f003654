#include "core/yamljv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define MAX_DEPTH 64

static int plain_number(const char *s, double *out)
{
    char *end;
    const char *p = s;

    if (*p == '-' || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
        return 0;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0;
}

static jv scalar(yaml_node_t *n, unsigned flags)
{
    const char *v = (const char *)n->data.scalar.value;
    double d;

    if ((flags & SK_YAML_STRINGS) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return jv_string_sized(v, (int)n->data.scalar.length);
    if (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0)
        return jv_null();
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
        return jv_true();
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
        return jv_false();
    if (plain_number(v, &d))
        return jv_number(d);
    return jv_string_sized(v, (int)n->data.scalar.length);
}

struct conv {
    yaml_document_t *doc;
    const char *origin;
    unsigned flags;
    int want_lines;
    unsigned long last_line; /* the text's last line (counting every byte that may break one) */
};

/* A node's line. An empty value at the end of a text without a final line break starts, for
 * libyaml, on the line after the last (its scanner opens one at the stream's end): that is the
 * last line. */
static jv line_of(const struct conv *c, yaml_node_t *n)
{
    unsigned long line = (unsigned long)n->start_mark.line + 1;

    return jv_number((double)(line < c->last_line ? line : c->last_line));
}

/* libyaml's line breaks are LF, CR, NEL and LS/PS (E2 80 A8/A9): an upper bound of the lines. */
static unsigned long last_line(const char *text, size_t len)
{
    unsigned long n = 1;
    size_t i;

    for (i = 0; i < len; i++)
        n += text[i] == '\n' || text[i] == '\r' || (unsigned char)text[i] == 0x85 || (unsigned char)text[i] == 0xe2;
    return n;
}

/* n to *out and, when c->want_lines, its lines to *lines. On failure nothing is left in either. */
static int convert(const struct conv *c, yaml_node_t *n, int depth, jv *out, jv *lines, struct sk_err *err)
{
    jv v, l = jv_null();

    if (depth > MAX_DEPTH)
        return sk_errf(err, SK_E_USAGE, "%s:%lu: nested deeper than %d", c->origin,
                       (unsigned long)n->start_mark.line + 1, MAX_DEPTH);
    switch (n->type) {
    case YAML_SCALAR_NODE:
        v = scalar(n, c->flags);
        if (c->want_lines)
            l = line_of(c, n);
        break;
    case YAML_SEQUENCE_NODE: {
        yaml_node_item_t *it;
        v = jv_array();
        if (c->want_lines)
            l = jv_array();
        for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            jv iv, il = jv_null();
            if (convert(c, yaml_document_get_node(c->doc, *it), depth + 1, &iv, &il, err) < 0) {
                jv_free(v);
                jv_free(l);
                return -1;
            }
            v = jv_array_append(v, iv);
            if (c->want_lines)
                l = jv_array_append(l, il);
        }
        break;
    }
    case YAML_MAPPING_NODE: {
        yaml_node_pair_t *pr;
        v = jv_object();
        if (c->want_lines)
            l = jv_object();
        for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, pr->key);
            jv key, kv, kl = jv_null();
            if (!k || k->type != YAML_SCALAR_NODE) {
                jv_free(v);
                jv_free(l);
                return sk_errf(err, SK_E_USAGE, "%s:%lu: map keys must be plain strings", c->origin,
                               (unsigned long)(k ? k->start_mark.line : n->start_mark.line) + 1);
            }
            key = jv_string_sized((const char *)k->data.scalar.value, (int)k->data.scalar.length);
            if (jv_object_has(jv_copy(v), jv_copy(key))) {
                /* YAML requires unique keys; a second one would silently replace the first. */
                sk_errf(err, SK_E_USAGE, "%s:%lu: '%s' appears twice", c->origin, (unsigned long)k->start_mark.line + 1,
                        jv_string_value(key));
                jv_free(key);
                jv_free(v);
                jv_free(l);
                return -1;
            }
            if (convert(c, yaml_document_get_node(c->doc, pr->value), depth + 1, &kv, &kl, err) < 0) {
                jv_free(key);
                jv_free(v);
                jv_free(l);
                return -1;
            }
            if (c->want_lines)
                l = jv_object_set(l, jv_copy(key), JV_ARRAY(line_of(c, k), kl));
            v = jv_object_set(v, key, kv);
        }
        break;
    }
    default: jv_free(l); return sk_errf(err, SK_E_USAGE, "%s: empty YAML node", c->origin);
    }
    *out = v;
    *lines = l;
    return 0;
}

/* The line of a parser's error: libyaml marks a reader error (bad UTF-8, a control character) by
 * its byte offset only. */
static unsigned long problem_line(const yaml_parser_t *p, const char *text, size_t len)
{
    unsigned long line = 1;
    size_t i;

    if (p->error != YAML_READER_ERROR)
        return (unsigned long)p->problem_mark.line + 1;
    for (i = 0; i < p->problem_offset && i < len; i++)
        line += text[i] == '\n';
    return line;
}

/* Anchors/aliases would let a small file expand enormously: refuse them outright. */
static int refuse_aliases(const char *text, size_t len, const char *origin, struct sk_err *err)
{
    yaml_parser_t parser;
    int rc = 0;

    if (!memchr(text, '&', len) && !memchr(text, '*', len))
        return 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev))
            break; /* the load reports it */
        if (ev.type == YAML_ALIAS_EVENT) {
            rc = sk_errf(err, SK_E_USAGE, "%s:%lu: YAML aliases (*name) are not supported", origin,
                         (unsigned long)ev.start_mark.line + 1);
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int sk_yaml_parse(const char *text, size_t len, const char *origin, unsigned flags, jv *out, jv *lines,
                  struct sk_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc, next;
    yaml_node_t *root;
    struct conv c;
    jv l = jv_null();
    int rc = -1, have = 0;

    if (len > SK_YAML_MAX)
        return sk_errf(err, SK_E_USAGE, "%s: more than %zu bytes of YAML", origin, SK_YAML_MAX);
    if (refuse_aliases(text, len, origin, err) < 0)
        return -1;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        sk_errf(err, SK_E_USAGE, "%s:%lu: invalid YAML: %s", origin, problem_line(&parser, text, len),
                parser.problem ? parser.problem : "parse error");
        goto out;
    }
    have = 1;
    root = yaml_document_get_root_node(&doc);
    if (!root) {
        sk_errf(err, SK_E_USAGE, "%s: empty YAML document", origin);
        goto out;
    }
    /* One document only: what a second one ("---") holds would be silently ignored. */
    if (!yaml_parser_load(&parser, &next)) {
        sk_errf(err, SK_E_USAGE, "%s:%lu: invalid YAML after the first document: %s", origin,
                problem_line(&parser, text, len), parser.problem ? parser.problem : "parse error");
        goto out;
    }
    if (yaml_document_get_root_node(&next)) {
        yaml_document_delete(&next);
        sk_errf(err, SK_E_USAGE, "%s: more than one YAML document", origin);
        goto out;
    }
    yaml_document_delete(&next);
    c.doc = &doc;
    c.origin = origin;
    c.flags = flags;
    c.want_lines = lines != NULL;
    c.last_line = last_line(text, len);
    rc = convert(&c, root, 0, out, &l, err);
    if (rc == 0 && lines)
        *lines = l;
    else
        jv_free(l);
out:
    if (have)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int sk_yaml_to_jv(const char *text, size_t len, const char *origin, jv *out, struct sk_err *err)
{
    return sk_yaml_parse(text, len, origin, 0, out, NULL, err);
}

unsigned long sk_yaml_key_line(jv lines, const char *key)
{
    jv e, n;
    unsigned long line = 0;

    if (jv_get_kind(lines) != JV_KIND_OBJECT || !key)
        return 0;
    e = jv_object_get(jv_copy(lines), jv_string(key));
    if (jv_get_kind(e) == JV_KIND_ARRAY) {
        n = jv_array_get(jv_copy(e), 0);
        if (jv_get_kind(n) == JV_KIND_NUMBER)
            line = (unsigned long)jv_number_value(n);
        jv_free(n);
    }
    jv_free(e);
    return line;
}

jv sk_yaml_value_lines(jv lines, const char *key)
{
    jv e, v;

    if (jv_get_kind(lines) != JV_KIND_OBJECT || !key)
        return jv_invalid();
    e = jv_object_get(jv_copy(lines), jv_string(key));
    if (jv_get_kind(e) != JV_KIND_ARRAY) {
        jv_free(e);
        return jv_invalid();
    }
    v = jv_array_get(e, 1);
    return v;
}
