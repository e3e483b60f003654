#include "yamljv.h"

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

static jv scalar(yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;
    double d;

    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
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

static int convert(yaml_document_t *doc, yaml_node_t *n, int depth, const char *origin, jv *out, struct sk_err *err)
{
    if (depth > MAX_DEPTH)
        return sk_errf(err, SK_E_USAGE, "%s:%lu: nested deeper than %d", origin, (unsigned long)n->start_mark.line + 1,
                       MAX_DEPTH);
    switch (n->type) {
    case YAML_SCALAR_NODE: *out = scalar(n); return 0;
    case YAML_SEQUENCE_NODE: {
        yaml_node_item_t *it;
        jv a = jv_array();
        for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            jv v;
            if (convert(doc, yaml_document_get_node(doc, *it), depth + 1, origin, &v, err) < 0) {
                jv_free(a);
                return -1;
            }
            a = jv_array_append(a, v);
        }
        *out = a;
        return 0;
    }
    case YAML_MAPPING_NODE: {
        yaml_node_pair_t *pr;
        jv o = jv_object();
        for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = yaml_document_get_node(doc, pr->key);
            jv v;
            if (!k || k->type != YAML_SCALAR_NODE) {
                jv_free(o);
                return sk_errf(err, SK_E_USAGE, "%s:%lu: map keys must be plain strings", origin,
                               (unsigned long)(k ? k->start_mark.line : n->start_mark.line) + 1);
            }
            if (convert(doc, yaml_document_get_node(doc, pr->value), depth + 1, origin, &v, err) < 0) {
                jv_free(o);
                return -1;
            }
            o = jv_object_set(o, jv_string_sized((const char *)k->data.scalar.value, (int)k->data.scalar.length), v);
        }
        *out = o;
        return 0;
    }
    default: return sk_errf(err, SK_E_USAGE, "%s: empty YAML node", origin);
    }
}

int sk_yaml_to_jv(const char *text, size_t len, const char *origin, jv *out, struct sk_err *err)
{
    yaml_parser_t parser;
    yaml_document_t doc, next;
    yaml_node_t *root;
    int rc = -1, have = 0;

    /* Anchors/aliases would let a small file expand enormously: refuse them outright. */
    if (memchr(text, '&', len) || memchr(text, '*', len)) {
        yaml_parser_initialize(&parser);
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        for (;;) {
            yaml_event_t ev;
            if (!yaml_parser_parse(&parser, &ev))
                break;
            if (ev.type == YAML_ALIAS_EVENT) {
                yaml_event_delete(&ev);
                yaml_parser_delete(&parser);
                return sk_errf(err, SK_E_USAGE, "%s: YAML aliases (*name) are not supported", origin);
            }
            if (ev.type == YAML_STREAM_END_EVENT) {
                yaml_event_delete(&ev);
                break;
            }
            yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        sk_errf(err, SK_E_USAGE, "%s:%lu: invalid YAML: %s", origin, (unsigned long)parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "parse error");
        goto out;
    }
    have = 1;
    root = yaml_document_get_root_node(&doc);
    if (!root) {
        sk_errf(err, SK_E_USAGE, "%s: empty YAML document", origin);
        goto out;
    }
    if (!yaml_parser_load(&parser, &next)) {
        sk_errf(err, SK_E_USAGE, "%s: invalid YAML after the first document", origin);
        goto out;
    }
    if (yaml_document_get_root_node(&next)) {
        yaml_document_delete(&next);
        sk_errf(err, SK_E_USAGE, "%s: more than one YAML document", origin);
        goto out;
    }
    yaml_document_delete(&next);
    rc = convert(&doc, root, 0, origin, out, err);
out:
    if (have)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}
