/*
 * xml.h - AWS Query-protocol XML responses to jv, through expat.
 *
 * Mapping (namespace-agnostic: prefixes and xmlns are dropped, attributes ignored):
 *  - an element without child elements becomes a string: its text, entity-decoded ("" if empty);
 *  - an element with child elements becomes an object keyed by child name; a repeated name
 *    becomes an array of the values in document order;
 *  - a child named "member", or named in list_items (NULL-terminated; may be NULL), is always an
 *    array, even when it appears once;
 *  - *out = { "<RootName>": <root value> }.
 * Refused with SK_E_PARSE: malformed XML, any DOCTYPE (no entity expansion attacks), nesting
 * deeper than 64, more than 16 MiB of text.
 */
#ifndef SK_XML_H
#define SK_XML_H

#include <stddef.h>

#include <jv.h>

#include "core/err.h"

#define SK_XML_MAX_DEPTH 64

int sk_xml_parse(const char *p, size_t n, const char *const *list_items, jv *out, struct sk_err *err);

#endif
