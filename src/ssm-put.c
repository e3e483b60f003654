/*
 * ssm-put - write SSM Parameter Store parameters (String, StringList, SecureString), one from the
 * command line or many from a YAML file, validated in full before the first write.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/api.h"
#include "aws/client.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "tool.h"
#include "core/yamljv.h"

static const char usage_text[] =
    "usage: ssm-put [--type String|StringList|SecureString] [--key-id ID] [--description TEXT]\n"
    "               [--tier Standard|Advanced|Intelligent-Tiering] [--no-overwrite] [--tag KEY=VALUE]...\n"
    "               [--value-file FILE] [--skip-unchanged] [OPTIONS] NAME [VALUE | -]\n"
    "       ssm-put --from-file FILE.yaml [--no-overwrite] [--skip-unchanged] [OPTIONS]\n";

static const char help_text[] =
    "\n"
    "Create or overwrite SSM parameters. SecureString values are taken only from stdin (-),\n"
    "--value-file, or (in YAML) value_file / value_env; one trailing newline is dropped. Without a\n"
    "type, an existing parameter keeps its type (a SecureString stays one) and a new one is a String.\n"
    "\n"
    "  --type TYPE           String, StringList or SecureString (default: the current type, else String)\n"
    "  --key-id ID           KMS key for a SecureString (default: the account's aws/ssm key)\n"
    "  --description TEXT    parameter description\n"
    "  --tier TIER           Standard, Advanced or Intelligent-Tiering\n"
    "  --no-overwrite        fail (exit 4) if the parameter exists\n"
    "  --tag KEY=VALUE       tag the parameter (repeatable)\n"
    "  --value-file FILE     read the value from FILE\n"
    "  --from-file FILE.yaml write every parameter in FILE: NAME: VALUE, or NAME: {value | value_file |\n"
    "                        value_env, type, description, key_id, tier}; or FILE's parameters: section\n"
    "  --skip-unchanged      write nothing when the parameter already has this value and type\n"
    "\n";

#define MAX_VALUE 8192    /* Advanced tier limit */
#define STANDARD_MAX 4096 /* Standard tier limit */
#define MAX_TAGS 50

enum {
    OPT_TYPE = OPT_TOOL_BASE,
    OPT_KEY_ID,
    OPT_DESCRIPTION,
    OPT_TIER,
    OPT_NO_OVERWRITE,
    OPT_TAG,
    OPT_VALUE_FILE,
    OPT_FROM_FILE,
    OPT_SKIP_UNCHANGED
};

struct param {
    char *name;
    char *type;          /* String, StringList, SecureString; NULL: not given, the current one */
    struct sk_buf value; /* secret buffer */
    int literal;         /* the value is written out (argv, YAML value:), not read from a file */
    char *description;
    char *key_id;
    char *tier;
    char *origin; /* "f.yaml:12" for messages, or NULL */
    /* What SSM holds, when read_existing asked: */
    int exists;
    char cur_type[16];
    double cur_version;
    int holds_value; /* exactly this value (read with decryption) */
};

struct opts {
    struct common_opts c;
    const char *type, *key_id, *description, *tier, *value_file, *from_file;
    const char *name, *value; /* value "-" means stdin */
    int no_overwrite, skip_unchanged;
    const char *tags[MAX_TAGS];
    int ntags;
};

static void param_release(struct param *p)
{
    free(p->name);
    free(p->type);
    sk_buf_release(&p->value);
    free(p->description);
    free(p->key_id);
    free(p->tier);
    free(p->origin);
}

static const char *valid_type(const char *t)
{
    static const char *const types[] = { "String", "StringList", "SecureString" };
    size_t i;

    for (i = 0; i < 3; i++)
        if (strcmp(t, types[i]) == 0)
            return types[i];
    return NULL;
}

static const char *valid_tier(const char *t)
{
    static const char *const tiers[] = { "Standard", "Advanced", "Intelligent-Tiering" };
    size_t i;

    for (i = 0; i < 3; i++)
        if (strcmp(t, tiers[i]) == 0)
            return tiers[i];
    return NULL;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "description", required_argument, NULL, OPT_DESCRIPTION },
        { "from-file", required_argument, NULL, OPT_FROM_FILE },
        { "skip-unchanged", no_argument, NULL, OPT_SKIP_UNCHANGED },
        { "key-id", required_argument, NULL, OPT_KEY_ID },
        { "no-overwrite", no_argument, NULL, OPT_NO_OVERWRITE },
        { "tag", required_argument, NULL, OPT_TAG },
        { "tier", required_argument, NULL, OPT_TIER },
        { "type", required_argument, NULL, OPT_TYPE },
        { "value-file", required_argument, NULL, OPT_VALUE_FILE },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    int opt;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS, longopts);
    while ((opt = getopt_long(argc, argv, ":" COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        switch (opt) {
        case OPT_DESCRIPTION: o->description = optarg; break;
        case OPT_FROM_FILE: o->from_file = optarg; break;
        case OPT_SKIP_UNCHANGED: o->skip_unchanged = 1; break;
        case OPT_KEY_ID: o->key_id = optarg; break;
        case OPT_NO_OVERWRITE: o->no_overwrite = 1; break;
        case OPT_TAG:
            if (!strchr(optarg, '=') || optarg[0] == '=')
                tool_usage("--tag needs KEY=VALUE, not '%s'", optarg);
            if (o->ntags == MAX_TAGS)
                tool_usage("at most %d tags", MAX_TAGS);
            o->tags[o->ntags++] = optarg;
            break;
        case OPT_TIER:
            o->tier = valid_tier(optarg);
            if (!o->tier)
                tool_usage("--tier must be Standard, Advanced or Intelligent-Tiering, not '%s'", optarg);
            break;
        case OPT_TYPE:
            o->type = valid_type(optarg);
            if (!o->type)
                tool_usage("--type must be String, StringList or SecureString, not '%s'", optarg);
            break;
        case OPT_VALUE_FILE: o->value_file = optarg; break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (o->from_file) {
        if (optind < argc)
            tool_usage("--from-file takes no NAME or VALUE");
        if (o->type || o->key_id || o->description || o->tier || o->value_file || o->ntags)
            tool_usage("with --from-file, set type, key_id, description and tier in the file");
        return;
    }
    if (optind >= argc)
        tool_usage("missing parameter NAME");
    o->name = argv[optind++];
    if (optind < argc)
        o->value = argv[optind++];
    if (optind < argc)
        tool_usage("unexpected argument after VALUE (one NAME and one VALUE)"); /* not echoed: may be a secret */
    if (o->value && o->value_file)
        tool_usage("give the value either as an argument or with --value-file, not both");
    if (!o->value && !o->value_file)
        tool_usage("missing VALUE (an argument, - for stdin, or --value-file FILE)");
    /* Secrets never come from argv: they would show in ps, shell history and CI logs. Without
     * --type, an existing SecureString is refused the same way once its type is read (resolve). */
    if (o->type && strcmp(o->type, "SecureString") == 0 && o->value && strcmp(o->value, "-") != 0)
        tool_usage("refusing a SecureString value on the command line: pass it on stdin (-) or with --value-file");
    if (o->key_id && (!o->type || strcmp(o->type, "SecureString") != 0))
        tool_usage("--key-id applies only to --type SecureString");
}

/* SSM name rules (PutParameter docs): [a-zA-Z0-9_.-/], a hierarchy starts with '/', at most 15
 * levels, no "aws"/"ssm" prefix, at most 1011 characters. */
static int check_name(const char *name, const char *origin, struct sk_err *err)
{
    size_t i, len = strlen(name), levels = 0;
    const char *at = origin ? origin : "";
    const char *sep = origin ? ": " : "";

    if (len == 0 || len > 1011)
        return sk_errf(err, SK_E_USAGE, "%s%sinvalid parameter name '%s': 1 to 1011 characters", at, sep, name);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!isalnum(ch) && !strchr("_.-/", ch))
            return sk_errf(err, SK_E_USAGE, "%s%sinvalid parameter name '%s': only letters, digits and _.-/", at, sep,
                           name);
        if (ch == '/')
            levels++;
    }
    if (strchr(name, '/') && name[0] != '/')
        return sk_errf(err, SK_E_USAGE, "%s%sinvalid parameter name '%s': a path must start with '/'", at, sep, name);
    if (levels > 15)
        return sk_errf(err, SK_E_USAGE, "%s%sinvalid parameter name '%s': more than 15 levels", at, sep, name);
    {
        const char *base = name[0] == '/' ? name + 1 : name;
        if (strncasecmp(base, "aws", 3) == 0 || strncasecmp(base, "ssm", 3) == 0)
            return sk_errf(err, SK_E_USAGE, "%s%sinvalid parameter name '%s': names cannot begin with aws or ssm", at,
                           sep, name);
    }
    return 0;
}

static int check_param(const struct param *p, struct sk_err *err)
{
    const char *at = p->origin ? p->origin : "";
    const char *sep = p->origin ? ": " : "";

    if (check_name(p->name, p->origin, err) < 0)
        return -1;
    if (p->value.len == 0)
        return sk_errf(err, SK_E_USAGE, "%s%sparameter '%s' has an empty value", at, sep, p->name);
    if (memchr(p->value.p, '\0', p->value.len))
        return sk_errf(err, SK_E_USAGE, "%s%sthe value of '%s' contains a NUL byte", at, sep, p->name);
    if (!sk_utf8_valid(p->value.p, p->value.len))
        return sk_errf(err, SK_E_USAGE, "%s%sthe value of '%s' is not valid UTF-8 text", at, sep, p->name);
    if (p->value.len > MAX_VALUE)
        return sk_errf(err, SK_E_USAGE, "%s%sthe value of '%s' is %zu bytes; parameters hold at most %d", at, sep,
                       p->name, p->value.len, MAX_VALUE);
    if (p->value.len > STANDARD_MAX && (!p->tier || strcmp(p->tier, "Standard") == 0))
        return sk_errf(err, SK_E_USAGE,
                       "%s%sthe value of '%s' is %zu bytes; Standard parameters hold %d: use tier Advanced or "
                       "Intelligent-Tiering",
                       at, sep, p->name, p->value.len, STANDARD_MAX);
    if (p->key_id && (!p->type || strcmp(p->type, "SecureString") != 0))
        return sk_errf(err, SK_E_USAGE, "%s%skey_id applies only to type SecureString ('%s' is %s)", at, sep, p->name,
                       p->type ? p->type : "not given a type");
    return 0;
}

/* ---- YAML ---------------------------------------------------------------------------------- */

/* One entry of the file: NAME (at line) with val, a string (the value) or a map of settings. val is
 * borrowed and every string of it is a scalar as written (SK_YAML_STRINGS). */
static int load_yaml_entry(const char *name, jv val, const char *file, unsigned long line, struct param *p,
                           struct sk_err *err)
{
    struct sk_buf origin = SK_BUF_INIT;
    const char *value = NULL, *value_file = NULL, *value_env = NULL;
    size_t value_len = 0;
    int sources = 0, rc = 0, i, n;
    jv keys;

    sk_buf_addf(&origin, "%s:%lu", file, line);
    p->origin = sk_buf_detach(&origin, NULL);
    sk_buf_init_secret(&p->value);
    if (!*name)
        return sk_errf(err, SK_E_USAGE, "%s: parameter names must be strings", p->origin);
    p->name = xstrdup(name);
    if (jv_get_kind(val) == JV_KIND_STRING) {
        /* By length: a YAML "\0" escape must not silently cut the value (check_param refuses NUL). */
        sk_buf_add(&p->value, jv_string_value(val), (size_t)jv_string_length_bytes(jv_copy(val)));
        p->literal = 1;
        return check_param(p, err);
    }
    if (jv_get_kind(val) != JV_KIND_OBJECT)
        return sk_errf(err, SK_E_USAGE, "%s: '%s' must be a value or a map", p->origin, p->name);
    keys = jv_keys_unsorted(jv_copy(val)); /* the file's order */
    n = jv_array_length(jv_copy(keys));
    for (i = 0; i < n && rc == 0; i++) {
        jv kj = jv_array_get(jv_copy(keys), i), vj = jv_object_get(jv_copy(val), jv_copy(kj));
        const char *k = jv_string_value(kj);
        /* Borrowed: val and keys hold their own references. */
        const char *v = jv_get_kind(vj) == JV_KIND_STRING ? jv_string_value(vj) : NULL;
        if (!v) {
            rc = sk_errf(err, SK_E_USAGE, "%s: '%s': every setting must be 'key: value'", p->origin, p->name);
        } else if (strcmp(k, "value") == 0) {
            value = v;
            value_len = (size_t)jv_string_length_bytes(jv_copy(vj));
            sources++;
        } else if (strcmp(k, "value_file") == 0) {
            value_file = v;
            sources++;
        } else if (strcmp(k, "value_env") == 0) {
            value_env = v;
            sources++;
        } else if (strcmp(k, "type") == 0) {
            if (!valid_type(v)) {
                rc = sk_errf(err, SK_E_USAGE, "%s: '%s': type must be String, StringList or SecureString, not '%s'",
                             p->origin, p->name, v);
            } else {
                free(p->type);
                p->type = xstrdup(v);
            }
        } else if (strcmp(k, "description") == 0) {
            free(p->description);
            p->description = xstrdup(v);
        } else if (strcmp(k, "key_id") == 0) {
            free(p->key_id);
            p->key_id = xstrdup(v);
        } else if (strcmp(k, "tier") == 0) {
            if (!valid_tier(v)) {
                rc = sk_errf(err, SK_E_USAGE, "%s: '%s': tier must be Standard, Advanced or Intelligent-Tiering",
                             p->origin, p->name);
            } else {
                free(p->tier);
                p->tier = xstrdup(v);
            }
        } else {
            rc = sk_errf(err, SK_E_USAGE,
                         "%s: '%s': unknown setting '%s' (use value, value_file, value_env, type, description, "
                         "key_id, tier)",
                         p->origin, p->name, k);
        }
        jv_free(vj);
        jv_free(kj);
    }
    jv_free(keys);
    if (rc < 0)
        return -1;
    if (sources != 1)
        return sk_errf(err, SK_E_USAGE, "%s: '%s' needs exactly one of value, value_file, value_env", p->origin,
                       p->name);
    if (value && p->type && strcmp(p->type, "SecureString") == 0)
        return sk_errf(err, SK_E_USAGE,
                       "%s: '%s' is a SecureString: take its value from value_file or value_env, not the file itself",
                       p->origin, p->name);
    if (value) {
        sk_buf_add(&p->value, value, value_len);
        p->literal = 1;
    } else if (value_file) {
        if (tool_read_input(value_file, &p->value, MAX_VALUE + 2, err) < 0)
            return sk_err_prefix(err, "%s: '%s'", p->origin, p->name);
        tool_chomp(&p->value);
    } else {
        const char *e = getenv(value_env);
        if (!e)
            return sk_errf(err, SK_E_USAGE, "%s: '%s': environment variable %s is not set", p->origin, p->name,
                           value_env);
        sk_buf_adds(&p->value, e);
    }
    return check_param(p, err);
}

/* The parameters of a YAML file (lib/core/yamljv.c: at most 1 MiB, no aliases, no key twice, one
 * document), every entry read and checked before anything is written. */
static int load_yaml(const char *file, struct param **out, size_t *nout, struct sk_err *err)
{
    struct sk_buf text = SK_BUF_INIT;
    jv doc = jv_invalid(), lines = jv_invalid(), map = jv_invalid(), map_lines = jv_invalid(), keys = jv_invalid();
    struct param *ps = NULL;
    size_t n = 0, i;
    int rc = -1;

    *out = NULL;
    *nout = 0;
    if (tool_read_input(file, &text, SK_YAML_MAX, err) < 0)
        goto out;
    if (sk_yaml_parse(text.p, text.len, file, SK_YAML_STRINGS, &doc, &lines, err) < 0)
        goto out;
    if (jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_USAGE, "%s: expected a map of parameter names", file);
        goto out;
    }
    /* A whole configuration file (config-aws): parameters: {...} and secrets: {...} sections; the
     * secrets are secret-put's. Otherwise the file is the map of parameters itself. */
    if (jv_object_has(jv_copy(doc), jv_string("parameters")) || jv_object_has(jv_copy(doc), jv_string("secrets"))) {
        map = sk_json_get(doc, "parameters");
        map_lines = sk_yaml_value_lines(lines, "parameters");
        if (!jv_is_valid(map) || (jv_get_kind(map) == JV_KIND_STRING && !*jv_string_value(map))) {
            rc = 0; /* no parameters: or "parameters:" with nothing under it */
            goto out;
        }
        if (jv_get_kind(map) != JV_KIND_OBJECT) {
            sk_errf(err, SK_E_USAGE, "%s: parameters must be a map of parameter names", file);
            goto out;
        }
    } else {
        map = jv_copy(doc);
        map_lines = jv_copy(lines);
    }
    keys = jv_keys_unsorted(jv_copy(map)); /* the file's order */
    n = (size_t)jv_array_length(jv_copy(keys));
    if (n == 0) {
        sk_errf(err, SK_E_USAGE, "%s: no parameters", file);
        goto out;
    }
    ps = xcalloc(n, sizeof(*ps));
    for (i = 0; i < n; i++)
        sk_buf_init_secret(&ps[i].value);
    for (i = 0; i < n; i++) {
        jv k = jv_array_get(jv_copy(keys), (int)i), v = jv_object_get(jv_copy(map), jv_copy(k));
        int bad = load_yaml_entry(jv_string_value(k), v, file, sk_yaml_key_line(map_lines, jv_string_value(k)), &ps[i],
                                  err) < 0;
        jv_free(v);
        jv_free(k);
        if (bad)
            goto out;
    }
    *out = ps;
    *nout = n;
    ps = NULL;
    rc = 0;
out:
    if (ps) {
        for (i = 0; i < n; i++)
            param_release(&ps[i]);
        free(ps);
    }
    jv_free(keys);
    jv_free(map);
    jv_free(map_lines);
    if (jv_is_valid(doc))
        sk_json_wipe_strings(doc); /* the values written out in the file */
    jv_free(doc);
    jv_free(lines);
    sk_wipe(text.p, text.len);
    sk_buf_release(&text);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------- */

static int put_parameter(struct sk_client *c, const struct param *p, int overwrite, const char *tags, jv *out,
                         struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    int secure = strcmp(p->type, "SecureString") == 0, rc;

    sk_buf_init_secret(&body);
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "Name", p->name);
    sk_jsonw_strn(&w, "Value", p->value.p, p->value.len);
    sk_jsonw_str(&w, "Type", p->type);
    sk_jsonw_bool(&w, "Overwrite", overwrite);
    if (p->description)
        sk_jsonw_str(&w, "Description", p->description);
    if (p->key_id)
        sk_jsonw_str(&w, "KeyId", p->key_id);
    if (p->tier)
        sk_jsonw_str(&w, "Tier", p->tier);
    if (tags)
        sk_jsonw_raw(&w, "Tags", tags);
    sk_jsonw_end(&w);
    rc = sk_client_json_raw(c, &sk_svc_ssm, "PutParameter", body.p, body.len, secure ? SK_API_SECRET_REQ : 0, out, err);
    sk_buf_release(&body);
    return rc;
}

/* ---- reading what SSM holds ----------------------------------------------------------------- */

/* Names per GetParameters call:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html */
#define GET_MAX 10

/* Record one entry of GetParameters' Parameters in the ps[idx[0..k)] it names (*hit = its place in
 * idx, or -1 for a name we did not ask for). With decrypt, the value is compared, never kept. */
static int take_existing(jv param, struct param *ps, const size_t *idx, size_t k, int decrypt, long *hit,
                         struct sk_err *err)
{
    const char *name = sk_json_str(param, "Name"), *t = sk_json_str(param, "Type"), *v;
    struct param *p;
    size_t j;

    *hit = -1;
    for (j = 0; name && j < k && *hit < 0; j++)
        if (strcmp(ps[idx[j]].name, name) == 0)
            *hit = (long)j;
    if (*hit < 0)
        return 0;
    p = &ps[idx[*hit]];
    if (!t || !valid_type(t))
        return sk_errf(err, SK_E_PARSE, "GetParameters: '%s' has no known type", p->name);
    p->exists = 1;
    snprintf(p->cur_type, sizeof(p->cur_type), "%s", t);
    p->cur_version = 0;
    sk_json_num(param, "Version", &p->cur_version);
    v = sk_json_str(param, "Value");
    p->holds_value = decrypt && v && strlen(v) == p->value.len && memcmp(v, p->value.p, p->value.len) == 0;
    return 0;
}

/* jv array a's length, 0 when it is not an array. */
static size_t array_len(jv a)
{
    return jv_get_kind(a) == JV_KIND_ARRAY ? (size_t)jv_array_length(jv_copy(a)) : 0;
}

/*
 * Read the parameters ps[i] with want[i] set, GET_MAX names a call: whether each exists, its type
 * and version, and with decrypt whether it holds exactly ps[i].value (--skip-unchanged). The answer
 * carries values (SecureStrings when decrypting; moto's undecrypted ones hold the text too): it is
 * kept out of traces and its values are wiped. Every name must be answered, found or in
 * InvalidParameters: a parameter we could not see might be a SecureString.
 */
static int read_existing(struct sk_client *c, struct param *ps, size_t n, const unsigned char *want, int decrypt,
                         struct sk_err *err)
{
    size_t i = 0, idx[GET_MAX], k, j;

    while (i < n) {
        struct sk_buf body = SK_BUF_INIT;
        unsigned char seen[GET_MAX] = { 0 };
        jv res, list, missing;
        int bad = 0;

        for (k = 0; i < n && k < GET_MAX; i++)
            if (want[i])
                idx[k++] = i;
        if (!k)
            break;
        sk_buf_adds(&body, "{\"Names\":[");
        for (j = 0; j < k; j++) {
            if (j)
                sk_buf_addch(&body, ',');
            sk_json_escape(&body, ps[idx[j]].name, strlen(ps[idx[j]].name));
        }
        sk_buf_addf(&body, "],\"WithDecryption\":%s}", decrypt ? "true" : "false");
        bad = sk_client_json_raw(c, &sk_svc_ssm, "GetParameters", body.p, body.len, SK_API_SECRET_RESP, &res, err);
        sk_buf_release(&body);
        if (bad)
            return -1;
        list = sk_json_get(res, "Parameters");
        for (j = 0; j < array_len(list); j++) {
            jv param = jv_array_get(jv_copy(list), (int)j), value;
            long hit;
            if (!bad && take_existing(param, ps, idx, k, decrypt, &hit, err) < 0)
                bad = 1;
            else if (!bad && hit >= 0)
                seen[hit] = 1;
            value = sk_json_get(param, "Value");
            sk_json_wipe_strings(value);
            jv_free(value);
            jv_free(param);
        }
        missing = sk_json_get(res, "InvalidParameters");
        for (j = 0; j < array_len(missing); j++) {
            jv name = jv_array_get(jv_copy(missing), (int)j);
            size_t q;
            for (q = 0; jv_get_kind(name) == JV_KIND_STRING && q < k; q++)
                if (strcmp(ps[idx[q]].name, jv_string_value(name)) == 0)
                    seen[q] = 1;
            jv_free(name);
        }
        jv_free(missing);
        jv_free(list);
        jv_free(res);
        for (j = 0; !bad && j < k; j++)
            if (!seen[j]) {
                sk_errf(err, SK_E_PARSE, "GetParameters did not answer for '%s'", ps[idx[j]].name);
                bad = 1;
            }
        if (bad)
            return -1;
    }
    return 0;
}

/* PutParameter refuses Tags together with Overwrite, so: create with tags; if it exists and
 * overwriting is allowed, overwrite without tags and then AddTagsToResource. */
static int write_param(struct sk_client *c, const struct opts *o, const struct param *p, jv *out, struct sk_err *err)
{
    struct sk_buf tags = SK_BUF_INIT, body = SK_BUF_INIT;
    struct sk_jsonw w;
    jv ignored;
    int rc = -1;

    if (!o->ntags)
        return put_parameter(c, p, !o->no_overwrite, NULL, out, err);
    tool_tags_json(o->tags, o->ntags, &tags);
    if (put_parameter(c, p, 0, tags.p, out, err) == 0) {
        rc = 0;
        goto out;
    }
    if (o->no_overwrite || strcmp(err->aws_code, "ParameterAlreadyExists") != 0)
        goto out;
    if (put_parameter(c, p, 1, NULL, out, err) < 0)
        goto out;
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "ResourceType", "Parameter");
    sk_jsonw_str(&w, "ResourceId", p->name);
    sk_jsonw_raw(&w, "Tags", tags.p);
    sk_jsonw_end(&w);
    if (sk_client_json_raw(c, &sk_svc_ssm, "AddTagsToResource", body.p, body.len, 0, &ignored, err) < 0) {
        jv_free(*out);
        sk_err_prefix(err, "'%s' was written but not tagged", p->name);
        goto out;
    }
    jv_free(ignored);
    rc = 0;
out:
    sk_buf_release(&tags);
    sk_buf_release(&body);
    return rc;
}

/* After a failed write whose request may have reached SSM (a network failure or a 5xx), read the
 * parameter back: 1 it holds the value we sent, 0 it does not, -1 unknown (e says why). */
static int holds_value(struct sk_client *c, struct param *p, struct sk_err *e)
{
    static const unsigned char one = 1;

    sk_err_clear(e);
    p->exists = p->holds_value = 0;
    if (read_existing(c, p, 1, &one, 1, e) < 0)
        return -1;
    return p->holds_value && strcmp(p->cur_type, p->type) == 0;
}

/* Append " NAME" for ps[from..to) to b, up to about 120 bytes of names (the error line is bounded). */
static void add_names(struct sk_buf *b, const struct param *ps, size_t from, size_t to)
{
    size_t i, start = b->len;

    for (i = from; i < to; i++) {
        if (i > from && b->len - start + strlen(ps[i].name) > 120) {
            sk_buf_addf(b, " and %zu more", to - i);
            return;
        }
        sk_buf_addf(b, " %s", ps[i].name);
    }
}

/*
 * A write failed: say exactly what state is left, on the one error line. Parameters are written in
 * file order, so ps[0..i) were written and ps[i+1..n) were not tried; ps[i] itself may have been
 * written when the failure came after the request was sent, so it is read back.
 */
static void explain_partial(struct sk_client *c, struct param *ps, size_t i, size_t n, struct sk_err *err)
{
    struct sk_buf b = SK_BUF_INIT;
    struct sk_err e;
    /* ParameterAlreadyExists too: with --no-overwrite, a retry after a reset finds the first
     * attempt's write. */
    int ambiguous =
            err->kind == SK_E_NET || err->http_status >= 500 || strcmp(err->aws_code, "ParameterAlreadyExists") == 0,
        state = 0;

    if (ambiguous)
        state = holds_value(c, &ps[i], &e);
    if (n > 1) {
        sk_buf_addf(&b, "; %zu of %zu written", i + (state == 1), n);
        if (i) {
            sk_buf_adds(&b, " (");
            add_names(&b, ps, 0, i);
            sk_buf_adds(&b, " )");
        }
    }
    if (state == 1)
        sk_buf_addf(&b, "; %s holds the new value all the same (read back)", ps[i].name);
    else if (state < 0)
        sk_buf_addf(&b, "; whether %s was written is unknown (%s)", ps[i].name, e.msg);
    else if (ambiguous)
        sk_buf_addf(&b, "; %s was not written (read back)", ps[i].name);
    else if (n > 1)
        sk_buf_addf(&b, "; %s was not written", ps[i].name);
    if (i + 1 < n) {
        sk_buf_adds(&b, "; not tried:");
        add_names(&b, ps, i + 1, n);
    }
    if (b.len)
        tool_err_append(err, "%s", b.p);
    sk_buf_release(&b);
}

/*
 * Give every parameter without a type its current one (a new parameter is a String), so that an
 * update never turns a SecureString into a String; with --skip-unchanged, also learn which already
 * hold their value. One GetParameters call per GET_MAX parameters that need it, all before the
 * first write: a value written out (argv, YAML value:) for what is a SecureString is refused, and
 * nothing at all is written. With --no-overwrite an existing parameter is never written, so its
 * type needs no read.
 */
static int resolve(struct sk_client *c, const struct opts *o, struct param *ps, size_t n, struct sk_err *err)
{
    unsigned char *want = xcalloc(n, 1);
    size_t i, k = 0;
    int rc = -1;

    for (i = 0; i < n; i++) {
        want[i] = o->skip_unchanged || (!ps[i].type && !o->no_overwrite);
        k += want[i];
    }
    if (k && read_existing(c, ps, n, want, o->skip_unchanged, err) < 0) {
        const char *what = o->skip_unchanged ? "value and type" : "type";
        if (n == 1) {
            sk_err_prefix(err, "%s: reading its current %s", ps[0].name, what);
        } else {
            sk_err_prefix(err, "reading the current %s of %zu parameters", what, k);
            tool_err_append(err, "; nothing written");
        }
        goto out;
    }
    for (i = 0; i < n; i++) {
        struct param *p = &ps[i];
        if (p->type)
            continue;
        p->type = xstrdup(p->exists ? p->cur_type : "String");
        if (strcmp(p->type, "SecureString") != 0 || !p->literal)
            continue;
        if (p->origin)
            sk_errf(err, SK_E_USAGE,
                    "%s: '%s' is a SecureString: take its value from value_file or value_env, not the file itself "
                    "(a type: setting changes its type)",
                    p->origin, p->name);
        else
            sk_errf(err, SK_E_USAGE,
                    "'%s' is a SecureString: refusing its value on the command line; pass it on stdin (-) or with "
                    "--value-file (--type changes its type)",
                    p->name);
        goto out;
    }
    rc = 0;
out:
    free(want);
    return rc;
}

static void print_text(jv result, FILE *out)
{
    jv name = sk_json_get(result, "Name");
    double version = 0;

    sk_json_num(result, "Version", &version);
    {
        jv same = sk_json_get(result, "Unchanged");
        fprintf(out, "%s version %.0f%s\n", jv_get_kind(name) == JV_KIND_STRING ? jv_string_value(name) : "?", version,
                jv_get_kind(same) == JV_KIND_TRUE ? " (unchanged)" : "");
        jv_free(same);
    }
    jv_free(name);
}

static int run(const struct opts *o, struct sk_err *err)
{
    struct param *ps = NULL, one;
    size_t n = 0, i;
    struct sk_client c;
    int have_client = 0, rc = -1;

    memset(&one, 0, sizeof(one));
    sk_buf_init_secret(&one.value);
    if (o->from_file) {
        if (load_yaml(o->from_file, &ps, &n, err) < 0)
            goto out;
    } else {
        one.name = xstrdup(o->name);
        one.type = xstrdup_or_null(o->type);
        one.description = xstrdup_or_null(o->description);
        one.key_id = xstrdup_or_null(o->key_id);
        one.tier = xstrdup_or_null(o->tier);
        if (o->value_file || strcmp(o->value, "-") == 0) {
            if (tool_read_input(o->value_file ? o->value_file : "-", &one.value, MAX_VALUE + 2, err) < 0)
                goto out;
            tool_chomp(&one.value);
        } else {
            sk_buf_adds(&one.value, o->value);
            one.literal = 1;
        }
        if (check_param(&one, err) < 0)
            goto out;
        ps = &one;
        n = 1;
    }
    if (n == 0) { /* a configuration file with secrets only */
        rc = 0;
        goto out;
    }
    /* Everything is valid: only now talk to AWS. */
    if (tool_client_init(&c, &o->c, err) < 0)
        goto out;
    have_client = 1;
    if (resolve(&c, o, ps, n, err) < 0)
        goto out;
    for (i = 0; i < n; i++) {
        jv res, shown;
        if (o->skip_unchanged && ps[i].holds_value && strcmp(ps[i].cur_type, ps[i].type) == 0) {
            res = jv_object_set(jv_object_set(jv_object(), jv_string("Version"), jv_number(ps[i].cur_version)),
                                jv_string("Unchanged"), jv_true());
        } else if (write_param(&c, o, &ps[i], &res, err) < 0) {
            if (n > 1)
                sk_err_prefix(err, "%s", ps[i].name);
            explain_partial(&c, ps, i, n, err);
            goto out;
        }
        shown = jv_object_set(res, jv_string("Name"), jv_string(ps[i].name));
        if (tool_emit(&o->c, shown, print_text, err) < 0)
            goto out;
    }
    rc = 0;
out:
    if (have_client)
        sk_client_release(&c);
    if (ps && ps != &one) {
        for (i = 0; i < n; i++)
            param_release(&ps[i]);
        free(ps);
    }
    param_release(&one);
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("ssm-put");
    parse_args(argc, argv, &o);
    code = run(&o, &err);
    return tool_finish(code);
}
