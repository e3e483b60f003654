/*
 * xml.c - AWS Query-protocol XML to jv through expat (mapping rules in xml.h).
 *
 * The parser is created without namespace processing, so "ns:Name" arrives as one string and the
 * prefix is stripped here; xmlns attributes are attributes, and attributes are ignored.
 */
#include "core/xml.h"

#include <stddef.h>

#include <limits.h>
#include <string.h>

#include <expat.h>

#include "core/buf.h"
#include "core/mem.h"

#define XML_MAX_TEXT (16u * 1024 * 1024)

struct frame {
    char *name; /* local name, owned */
    jv obj;     /* children so far; jv_invalid() until the first child ends */
    struct sk_buf text;
};

struct xml_state {
    XML_Parser parser;
    const char *const *list_items;
    struct frame stack[SK_XML_MAX_DEPTH];
    int depth;
    size_t text_total;
    jv root; /* { "<RootName>": value } once the root element ended */
    int failed;
    struct sk_err *err;
};

static const char member_name[] = "member";

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');

    return colon ? colon + 1 : name;
}

static int is_list_item(const struct xml_state *st, const char *name)
{
    const char *const *p;

    if (strcmp(name, member_name) == 0)
        return 1;
    for (p = st->list_items; p && *p; p++)
        if (strcmp(name, *p) == 0)
            return 1;
    return 0;
}

/* Record a failure from inside a handler and stop expat; later callbacks see st->failed. */
static void fail(struct xml_state *st, const char *msg)
{
    if (st->failed)
        return;
    st->failed = 1;
    sk_errf(st->err, SK_E_PARSE, "xml: %s at line %lu", msg, (unsigned long)XML_GetCurrentLineNumber(st->parser));
    XML_StopParser(st->parser, XML_FALSE);
}

static void on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct xml_state *st = data;
    struct frame *f;

    (void)attrs;
    if (st->failed)
        return;
    if (st->depth >= SK_XML_MAX_DEPTH) {
        fail(st, "nesting deeper than 64 elements");
        return;
    }
    if (st->depth > 0) {
        /* The parent has children now: its text so far was layout whitespace. */
        f = &st->stack[st->depth - 1];
        sk_buf_reset(&f->text);
        if (!jv_is_valid(f->obj))
            f->obj = jv_object();
    }
    f = &st->stack[st->depth++];
    f->name = xstrdup(local_name(name));
    f->obj = jv_invalid();
    sk_buf_init_secret(&f->text); /* responses can carry credentials: wipe what we discard */
}

/* parent[name] = value, turning repeats (and list items from the start) into arrays. */
static jv add_child(jv obj, const char *name, jv value, int force_array)
{
    jv cur = jv_object_get(jv_copy(obj), jv_string(name));

    if (!jv_is_valid(cur)) {
        jv_free(cur);
        if (force_array)
            value = jv_array_append(jv_array(), value);
        return jv_object_set(obj, jv_string(name), value);
    }
    if (jv_get_kind(cur) == JV_KIND_ARRAY) {
        /* Drop the object's reference first so the append happens in place, not on a copy. */
        obj = jv_object_set(obj, jv_string(name), jv_null());
        return jv_object_set(obj, jv_string(name), jv_array_append(cur, value));
    }
    /* Element values are strings or objects, never arrays: a second occurrence starts a list. */
    return jv_object_set(obj, jv_string(name), jv_array_append(jv_array_append(jv_array(), cur), value));
}

static void on_end(void *data, const XML_Char *name)
{
    struct xml_state *st = data;
    struct frame *f;
    jv value;

    (void)name;
    if (st->failed || st->depth == 0)
        return;
    f = &st->stack[--st->depth];
    if (jv_is_valid(f->obj)) {
        value = f->obj;
    } else {
        value = jv_string_sized(f->text.p, (int)f->text.len);
    }
    f->obj = jv_invalid();
    sk_buf_release(&f->text);
    if (st->depth > 0) {
        struct frame *parent = &st->stack[st->depth - 1];
        parent->obj = add_child(parent->obj, f->name, value, is_list_item(st, f->name));
    } else {
        jv_free(st->root);
        st->root = jv_object_set(jv_object(), jv_string(f->name), value);
    }
    free(f->name);
    f->name = NULL;
}

static void on_text(void *data, const XML_Char *s, int len)
{
    struct xml_state *st = data;
    struct frame *f;

    if (st->failed || st->depth == 0 || len <= 0)
        return;
    if ((size_t)len > XML_MAX_TEXT - st->text_total) {
        fail(st, "more than 16 MiB of text");
        return;
    }
    st->text_total += (size_t)len;
    f = &st->stack[st->depth - 1];
    /* Text in an element with children is layout between them: ignore it. */
    if (!jv_is_valid(f->obj))
        sk_buf_add(&f->text, s, (size_t)len);
}

/* No DTDs at all: that rules out entity expansion attacks and external entities. */
static void on_doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal_subset)
{
    struct xml_state *st = data;

    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(st, "DOCTYPE not allowed");
}

static void on_entity_decl(void *data, const XML_Char *name, int is_param, const XML_Char *value, int value_len,
                           const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
    struct xml_state *st = data;

    (void)name;
    (void)is_param;
    (void)value;
    (void)value_len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(st, "entity declarations not allowed");
}

/* expat's own buffers hold the document's text, credentials included: it allocates through
 * sk_wipe_* (lib/core/mem.c), which wipes every block it frees or outgrows. */
static const XML_Memory_Handling_Suite wiping_memory = { sk_wipe_malloc, sk_wipe_realloc, sk_wipe_free };

int sk_xml_parse(const char *p, size_t n, const char *const *list_items, jv *out, struct sk_err *err)
{
    struct xml_state st;
    enum XML_Status status;
    int rc = -1, i;

    memset(&st, 0, sizeof(st));
    st.list_items = list_items;
    st.root = jv_invalid();
    st.err = err;
    *out = jv_invalid();
    if (n > INT_MAX)
        return sk_errf(err, SK_E_PARSE, "xml: input too large (%zu bytes)", n);
    st.parser = XML_ParserCreate_MM(NULL, &wiping_memory, NULL);
    if (!st.parser) {
        sk_errf(err, SK_E_INTERNAL, "xml: cannot create parser");
        goto out;
    }
    XML_SetUserData(st.parser, &st);
    XML_SetElementHandler(st.parser, on_start, on_end);
    XML_SetCharacterDataHandler(st.parser, on_text);
    XML_SetStartDoctypeDeclHandler(st.parser, on_doctype);
    XML_SetEntityDeclHandler(st.parser, on_entity_decl);
    XML_SetParamEntityParsing(st.parser, XML_PARAM_ENTITY_PARSING_NEVER);

    status = XML_Parse(st.parser, p ? p : "", (int)n, XML_TRUE);
    if (st.failed)
        goto out; /* a handler refused the document and filled err */
    if (status != XML_STATUS_OK) {
        sk_errf(err, SK_E_PARSE, "xml: %s at line %lu", XML_ErrorString(XML_GetErrorCode(st.parser)),
                (unsigned long)XML_GetCurrentLineNumber(st.parser));
        goto out;
    }
    if (!jv_is_valid(st.root)) {
        sk_errf(err, SK_E_PARSE, "xml: no root element");
        goto out;
    }
    *out = st.root;
    st.root = jv_invalid();
    rc = 0;
out:
    for (i = 0; i < st.depth; i++) {
        free(st.stack[i].name);
        jv_free(st.stack[i].obj);
        sk_buf_release(&st.stack[i].text);
    }
    jv_free(st.root);
    if (st.parser)
        XML_ParserFree(st.parser);
    return rc;
}
