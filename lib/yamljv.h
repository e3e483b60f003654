/*
 * yamljv.h - a YAML document to jv, by libyaml's document API, with the YAML 1.2 core schema for
 * plain scalars: true/false -> booleans, null/~/empty -> null, integers and floats -> numbers,
 * anything else (and every quoted scalar) -> a string. Anchors and aliases are refused (no
 * billion-laughs), as are several documents in one file.
 */
#ifndef SK_YAMLJV_H
#define SK_YAMLJV_H

#include <stddef.h>

#include <jv.h>

#include "err.h"

/* origin names the input in messages ("td.yaml:12: ..."). Failure: SK_E_USAGE. */
int sk_yaml_to_jv(const char *text, size_t len, const char *origin, jv *out, struct sk_err *err);

#endif
