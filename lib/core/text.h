/*
 * text.h - text from outside made safe to print on a terminal or in a CI log.
 *
 * AWS error messages, ECS service events, CloudWatch Logs lines, target health descriptions,
 * stopped reasons, PostgreSQL and registry errors are written by somebody else. Printed raw, their
 * escape sequences rewrite the terminal (ANSI colours and cursor moves, OSC titles, hyperlinks,
 * OSC 52 clipboard writes), their newlines forge lines that look like ours, and a line that starts
 * with "::" (after blanks), or that holds "##[" anywhere, is a GitHub Actions workflow command the
 * runner obeys: it can set outputs, add masks or stop command processing
 * (https://docs.github.com/en/actions/reference/workflow-commands-for-github-actions).
 *
 * sk_text_escape makes such text one printable line:
 *  - C0 controls and DEL become \n, \r, \t or \xHH: no ESC, BEL or line break gets through;
 *  - C1 controls (U+0080..U+009F), the line and paragraph separators U+2028/U+2029 and the
 *    bidirectional formatting controls (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069) become
 *    \uHHHH;
 *  - bytes that are not UTF-8 (stray continuation bytes, overlong forms, surrogates, past
 *    U+10FFFF, a sequence cut short) become \xHH each;
 *  - "::" at the start, after blanks, becomes "\x3a:", and "##[" anywhere becomes "##\x5b";
 *  - everything else, printable UTF-8 included, is kept as it is. A backslash is kept too, so
 *    escaping text that was escaped already changes nothing.
 * With --output json the raw text stays in the JSON, whose string escaping covers C0 and DEL;
 * sk_text_json_safe covers the rest.
 */
#ifndef SK_TEXT_H
#define SK_TEXT_H

#include <stddef.h>

#include "core/buf.h"

/* Append s[0..n) escaped as above. */
void sk_text_escape(struct sk_buf *out, const char *s, size_t n);
void sk_text_escapes(struct sk_buf *out, const char *s);

/* Escape s[0..n) into dst[cap] (cap >= 4), always NUL-terminated: when the whole does not fit, as
 * many whole characters as fit with "..." after them, never part of a character or of an escape.
 * Returns the length written. For the bounded fields of struct sk_err. */
size_t sk_text_escape_to(char *dst, size_t cap, const char *s, size_t n);

/* The length of the longest prefix of s[0..n) that ends on a UTF-8 character boundary (only a
 * trailing partial sequence is dropped): where to cut text that must fit a field. */
size_t sk_text_cut(const char *s, size_t n);

/* In serialised JSON text (jq's output, valid UTF-8), write C1 controls, U+2028/U+2029 and the
 * bidirectional controls as \u escapes, and "##[" as "##\u005b": the same JSON value, nothing a
 * terminal or a CI runner acts on. They only occur inside strings, so the JSON stays valid. */
void sk_text_json_safe(struct sk_buf *json);

#endif
