/*
 * json.h - JSON through libjq's jv, with one ownership rule for the whole code base.
 *
 * The jv rule (jq's own): every jv_* call CONSUMES its jv arguments, except jv_copy, jv_get_kind,
 * jv_string_value and jv_number_value. jv_object_get aborts on a non-object.
 * The helpers below BORROW their jv arguments unless their comment says "consumes", and they
 * kind-check everything, so untrusted AWS JSON can be handed to them directly.
 */
#ifndef SK_JSON_H
#define SK_JSON_H

#include <stddef.h>

#include <jv.h>

#include "core/buf.h"
#include "core/err.h"

/* Parse exactly one JSON value from p[0..n). Failure: SK_E_PARSE with the parser's message. */
int sk_json_parse(const char *p, size_t n, jv *out, struct sk_err *err);

/* obj[key] as a new reference; jv_invalid() when obj is not an object or key is absent. */
jv sk_json_get(jv obj, const char *key);
/* obj[key] as a borrowed C string, valid while obj lives; NULL if absent or not a string. */
const char *sk_json_str(jv obj, const char *key);
/* obj[key] as a number: 0 and *out set, or -1 if absent or not a number. */
int sk_json_num(jv obj, const char *key, double *out);
/* obj[key] as a number, given as a number or (awsQuery answers) as a numeric string; dflt otherwise. */
double sk_json_num_any(jv obj, const char *key, double dflt);
/* The length of a (borrowed) array; 0 for anything else. */
int sk_json_len(jv a);
/* Follow a path of keys ("a", "b", NULL) through nested objects; new reference or jv_invalid(). */
jv sk_json_path(jv obj, const char *const *keys);

/* Overwrite, in place, the bytes of every string (and object key) in v with zeros: call it on a
 * document that held credentials, just before freeing it, as jv frees memory without wiping. v is
 * borrowed and must not be shared with anything still in use. */
void sk_json_wipe_strings(jv v);

/* Append the serialisation of v: compact (one line) or pretty (2-space indent, like jq). */
void sk_json_dump(jv v, int pretty, struct sk_buf *out);

/* Run jq program over input (consumed). On success *results is an array (owned) of every value
 * the program emitted. A compile or runtime error fails with SK_E_USAGE and jq's message. */
int sk_jq_run(const char *program, jv input, jv *results, struct sk_err *err);

#endif
