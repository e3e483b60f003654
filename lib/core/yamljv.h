/*
 * yamljv.h - a YAML document to jv, by libyaml's document API, with the YAML 1.2 core schema for
 * plain scalars: true/false -> booleans, null/~/empty -> null, integers and floats -> numbers,
 * anything else (and every quoted scalar) -> a string. The one YAML reader of the tools (the
 * config-aws file of ssm-put and secret-put, ecs-roll's task definitions), with one set of rules:
 * at most SK_YAML_MAX bytes; anchors and aliases are refused (no billion-laughs), as are a key
 * that appears twice in a map, map keys that are not scalars, and several documents in one file.
 */
#ifndef SK_YAMLJV_H
#define SK_YAMLJV_H

#include <stddef.h>

#include <jv.h>

#include "core/err.h"

#define SK_YAML_MAX ((size_t)1 << 20) /* 1 MiB: the largest YAML input */

enum {
    SK_YAML_STRINGS = 1, /* every scalar is its text, as written: no booleans, numbers or nulls */
};

/* origin names the input in messages ("td.yaml:12: ..."). Failure: SK_E_USAGE. */
int sk_yaml_to_jv(const char *text, size_t len, const char *origin, jv *out, struct sk_err *err);

/* sk_yaml_to_jv with flags (SK_YAML_*) and, when lines is not NULL, where everything is: *lines is
 * a document of the same shape in which a scalar is its line number (from 1), a list the lines of
 * its items, and a map maps each key to [line of the key, lines of its value]. */
int sk_yaml_parse(const char *text, size_t len, const char *origin, unsigned flags, jv *out, jv *lines,
                  struct sk_err *err);

/* In the lines of a map (borrowed): the line of key, 0 when there is none. */
unsigned long sk_yaml_key_line(jv lines, const char *key);
/* In the lines of a map (borrowed): the lines of key's value (jv_invalid() when there is none). */
jv sk_yaml_value_lines(jv lines, const char *key);

#endif
