/*
 * secret-put - create a Secrets Manager secret, or put a new version of an existing one.
 * The value comes from stdin, a file, or a generator; it is never printed and never on argv.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aws/api.h"
#include "aws/client.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "tool.h"
#include "core/yamljv.h"

static const char usage_text[] =
    "usage: secret-put [--description TEXT] [--kms-key-id ID] [--tag KEY=VALUE]... [--skip-unchanged]\n"
    "                  [--value-file FILE | --generate [--length N] [--exclude-punctuation]] [OPTIONS] NAME\n"
    "       secret-put --from-file FILE.yaml [--tag KEY=VALUE]... [--skip-unchanged] [OPTIONS]\n";

static const char help_text[] =
    "\n"
    "Create the secret NAME, or put a new version if it exists. The value is read from stdin unless\n"
    "--value-file or --generate is given; one trailing newline is dropped. Text that is not UTF-8 is\n"
    "stored as SecretBinary. One client request token per run makes retries idempotent.\n"
    "\n"
    "  --description TEXT     secret description (also updated on an existing secret)\n"
    "  --kms-key-id ID        KMS key (also updated on an existing secret)\n"
    "  --tag KEY=VALUE        tag the secret (repeatable)\n"
    "  --value-file FILE      read the value from FILE\n"
    "  --generate             generate a random value\n"
    "  --length N             length of a generated value (default 32, 1..4096)\n"
    "  --exclude-punctuation  generate letters and digits only\n"
    "  --from-file FILE.yaml  put every secret of FILE's secrets: section: NAME: {value_file | value_env |\n"
    "                         generate: true|{length, exclude_punctuation}, description, kms_key_id}\n"
    "  --skip-unchanged       write nothing when the secret already has this value (a generated secret\n"
    "                         that exists is never regenerated)\n"
    "\n";

#define MAX_SECRET 65536 /* Secrets Manager's limit */
#define MAX_TAGS 50

enum {
    OPT_DESCRIPTION = OPT_TOOL_BASE,
    OPT_KMS_KEY_ID,
    OPT_TAG,
    OPT_VALUE_FILE,
    OPT_GENERATE,
    OPT_LENGTH,
    OPT_EXCLUDE_PUNCT,
    OPT_FROM_FILE,
    OPT_SKIP_UNCHANGED
};

struct opts {
    struct common_opts c;
    const char *description, *kms_key_id, *value_file, *name, *from_file;
    const char *tags[MAX_TAGS];
    int ntags, generate, exclude_punct, skip_unchanged;
    long length;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "description", required_argument, NULL, OPT_DESCRIPTION },
        { "exclude-punctuation", no_argument, NULL, OPT_EXCLUDE_PUNCT },
        { "from-file", required_argument, NULL, OPT_FROM_FILE },
        { "generate", no_argument, NULL, OPT_GENERATE },
        { "kms-key-id", required_argument, NULL, OPT_KMS_KEY_ID },
        { "length", required_argument, NULL, OPT_LENGTH },
        { "skip-unchanged", no_argument, NULL, OPT_SKIP_UNCHANGED },
        { "tag", required_argument, NULL, OPT_TAG },
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
        case OPT_EXCLUDE_PUNCT: o->exclude_punct = 1; break;
        case OPT_FROM_FILE: o->from_file = optarg; break;
        case OPT_SKIP_UNCHANGED: o->skip_unchanged = 1; break;
        case OPT_GENERATE: o->generate = 1; break;
        case OPT_KMS_KEY_ID: o->kms_key_id = optarg; break;
        case OPT_LENGTH:
            if (tool_parse_long(optarg, 1, 4096, &o->length) < 0)
                tool_usage("--length must be 1..4096, not '%s'", optarg);
            break;
        case OPT_TAG:
            if (!strchr(optarg, '=') || optarg[0] == '=')
                tool_usage("--tag needs KEY=VALUE, not '%s'", optarg);
            if (o->ntags == MAX_TAGS)
                tool_usage("at most %d tags", MAX_TAGS);
            o->tags[o->ntags++] = optarg;
            break;
        case OPT_VALUE_FILE: o->value_file = optarg; break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (o->from_file) {
        if (optind < argc)
            tool_usage("--from-file takes no NAME (and never a value)");
        if (o->generate || o->value_file || o->description || o->kms_key_id || o->length || o->exclude_punct)
            tool_usage("with --from-file, set value_file, value_env, generate, description and kms_key_id in the file");
        return;
    }
    if (optind >= argc)
        tool_usage("missing secret NAME");
    o->name = argv[optind++];
    if (optind < argc)
        /* Do not echo the argument: it is most likely the secret itself. */
        tool_usage("unexpected argument after NAME: the value is read from stdin, --value-file or --generate, "
                   "never from the command line");
    if (o->generate && o->value_file)
        tool_usage("--generate and --value-file exclude each other");
    if ((o->length || o->exclude_punct) && !o->generate)
        tool_usage("--length and --exclude-punctuation go with --generate");
    if (!o->length)
        o->length = 32;
    if (!*o->name || strlen(o->name) > 512)
        tool_usage("secret names are 1 to 512 characters");
}

/* Uniform random characters by rejection sampling, so no character is more likely than another. */
static int generate(struct sk_buf *out, long length, int exclude_punct, struct sk_err *err)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    char set[sizeof(alnum) + sizeof(punct)];
    unsigned char r[256];
    size_t setlen, limit, i;

    snprintf(set, sizeof(set), "%s%s", alnum, exclude_punct ? "" : punct);
    setlen = strlen(set);
    limit = 256 - 256 % setlen;
    while ((long)out->len < length) {
        if (RAND_bytes(r, sizeof(r)) != 1)
            return sk_errf(err, SK_E_INTERNAL, "the random generator failed");
        for (i = 0; i < sizeof(r) && (long)out->len < length; i++)
            if (r[i] < limit)
                sk_buf_addch(out, set[r[i] % setlen]);
    }
    sk_wipe(r, sizeof(r));
    return 0;
}

/* A version 4 UUID, used as the ClientRequestToken of every call this run makes. */
static int make_token(char out[37], struct sk_err *err)
{
    unsigned char b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return sk_errf(err, SK_E_INTERNAL, "the random generator failed");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

static void add_value(struct sk_jsonw *w, const struct sk_buf *value)
{
    if (sk_utf8_valid(value->p, value->len)) {
        sk_jsonw_strn(w, "SecretString", value->p, value->len);
    } else {
        struct sk_buf b64 = SK_BUF_INIT;
        sk_buf_init_secret(&b64);
        sk_buf_grow(&b64, 4 * ((value->len + 2) / 3));
        b64.len = (size_t)EVP_EncodeBlock((unsigned char *)b64.p, (const unsigned char *)value->p, (int)value->len);
        b64.p[b64.len] = '\0';
        sk_jsonw_strn(w, "SecretBinary", b64.p, b64.len);
        sk_buf_release(&b64);
    }
}

static int call(struct sk_client *c, const char *op, struct sk_buf *body, unsigned flags, jv *out, struct sk_err *err)
{
    int rc = sk_client_json_raw(c, &sk_svc_secretsmanager, op, body->p, body->len, flags, out, err);
    sk_buf_reset(body);
    return rc;
}

static jv get_or_null(jv obj, const char *key)
{
    jv v = sk_json_get(obj, key);
    if (jv_get_kind(v) == JV_KIND_INVALID) {
        jv_free(v);
        return jv_null();
    }
    return v;
}

static void print_text(jv result, FILE *out)
{
    jv same = sk_json_get(result, "Unchanged");

    fprintf(out, "%s version %s%s\n", sk_json_str(result, "ARN") ? sk_json_str(result, "ARN") : "?",
            sk_json_str(result, "VersionId") ? sk_json_str(result, "VersionId") : "?",
            jv_get_kind(same) == JV_KIND_TRUE ? " (unchanged)" : "");
    jv_free(same);
}

/* One secret to put: from the command line, or one entry of a --from-file. */
struct spec {
    char *name;
    struct sk_buf value; /* secret */
    char *description, *kms_key_id;
    int generated;
};

static void spec_release(struct spec *sp)
{
    free(sp->name);
    sk_buf_release(&sp->value);
    free(sp->description);
    free(sp->kms_key_id);
}

static int check_value(const struct spec *sp, const char *from, struct sk_err *err)
{
    if (sp->value.len == 0)
        return sk_errf(err, SK_E_USAGE, "empty secret value for '%s' from %s", sp->name, from);
    if (sp->value.len > MAX_SECRET)
        return sk_errf(err, SK_E_USAGE, "the value of '%s' is over %d bytes", sp->name, MAX_SECRET);
    return 0;
}

/* The secrets: section of a configuration file (shared with ssm-put's parameters:). Everything is
 * read, generated and checked here, before anything is written. */
/* Where a secret's value comes from, as its entry in the file says. */
struct source {
    const char *file, *env; /* value_file, value_env */
    long length;            /* generate: */
    int exclude_punctuation;
    int n; /* how many of the three the entry names */
};

/* generate: true, or {length, exclude_punctuation}. */
static int read_generate(const char *file, struct spec *sp, jv v, struct source *src, struct sk_err *err)
{
    double d;

    src->n++;
    sp->generated = 1;
    if (jv_get_kind(v) == JV_KIND_OBJECT) {
        jv ex = sk_json_get(v, "exclude_punctuation");
        if (sk_json_num(v, "length", &d) == 0)
            src->length = (long)d;
        src->exclude_punctuation = jv_get_kind(ex) == JV_KIND_TRUE;
        jv_free(ex);
    } else if (jv_get_kind(v) != JV_KIND_TRUE) {
        return sk_errf(err, SK_E_USAGE, "%s: secret '%s': generate is true or {length, exclude_punctuation}", file,
                       sp->name);
    }
    if (src->length < 1 || src->length > 4096)
        return sk_errf(err, SK_E_USAGE, "%s: secret '%s': length must be 1..4096", file, sp->name);
    return 0;
}

/* One setting of a secret's entry; e is the entry, which keeps the strings src points at alive. */
static int read_setting(const char *file, struct spec *sp, jv e, const char *key, jv v, struct source *src,
                        struct sk_err *err)
{
    int is_str = jv_get_kind(v) == JV_KIND_STRING;

    if (strcmp(key, "value") == 0)
        return sk_errf(
            err, SK_E_USAGE,
            "%s: secret '%s': a secret's value never goes in the file: use value_file, value_env or generate", file,
            sp->name);
    if (strcmp(key, "generate") == 0)
        return read_generate(file, sp, v, src, err);
    if (strcmp(key, "value_file") == 0 && is_str) {
        src->file = sk_json_str(e, "value_file");
        src->n++;
    } else if (strcmp(key, "value_env") == 0 && is_str) {
        src->env = sk_json_str(e, "value_env");
        src->n++;
    } else if (strcmp(key, "description") == 0 && is_str) {
        sp->description = xstrdup(jv_string_value(v));
    } else if (strcmp(key, "kms_key_id") == 0 && is_str) {
        sp->kms_key_id = xstrdup(jv_string_value(v));
    } else {
        return sk_errf(err, SK_E_USAGE,
                       "%s: secret '%s': unknown or malformed setting '%s' (use value_file, value_env, generate, "
                       "description, kms_key_id)",
                       file, sp->name, key);
    }
    return 0;
}

/* The value, from its one source. */
static int read_value(const char *file, struct spec *sp, const struct source *src, struct sk_err *err)
{
    if (src->n != 1)
        return sk_errf(err, SK_E_USAGE, "%s: secret '%s' needs exactly one of value_file, value_env, generate", file,
                       sp->name);
    if (src->file) {
        if (tool_read_input(src->file, &sp->value, MAX_SECRET + 2, err) < 0) {
            sk_err_prefix(err, "%s: secret '%s'", file, sp->name);
            return -1;
        }
        tool_chomp(&sp->value);
        return check_value(sp, src->file, err);
    }
    if (src->env) {
        const char *ev = getenv(src->env);
        if (!ev)
            return sk_errf(err, SK_E_USAGE, "%s: secret '%s': environment variable %s is not set", file, sp->name,
                           src->env);
        sk_buf_adds(&sp->value, ev);
        return check_value(sp, src->env, err);
    }
    return generate(&sp->value, src->length, src->exclude_punctuation, err);
}

/* One secret's entry: its settings, then its value. */
static int load_entry(const char *file, jv name, jv e, struct spec *sp, struct sk_err *err)
{
    struct source src = { NULL, NULL, 32, 0, 0 };
    jv ek;
    int j, m, rc = 0;

    sk_buf_init_secret(&sp->value);
    sp->name = xstrdup(jv_string_value(name));
    if (jv_get_kind(e) != JV_KIND_OBJECT)
        return sk_errf(err, SK_E_USAGE, "%s: secret '%s' must be a map (value_file, value_env or generate)", file,
                       sp->name);
    ek = jv_keys_unsorted(jv_copy(e));
    m = jv_array_length(jv_copy(ek));
    for (j = 0; j < m && rc == 0; j++) {
        jv kk = jv_array_get(jv_copy(ek), j);
        jv v = jv_object_get(jv_copy(e), jv_copy(kk));
        rc = read_setting(file, sp, e, jv_string_value(kk), v, &src, err);
        jv_free(v);
        jv_free(kk);
    }
    jv_free(ek);
    return rc < 0 ? -1 : read_value(file, sp, &src, err);
}

static int load_file(const char *file, struct spec **out, size_t *nout, struct sk_err *err)
{
    struct sk_buf text = SK_BUF_INIT;
    jv doc = jv_invalid(), secrets = jv_invalid(), keys = jv_invalid();
    struct spec *sps = NULL;
    int i, n = 0, rc = -1;

    *out = NULL;
    *nout = 0;
    if (tool_read_input(file, &text, SK_YAML_MAX, err) < 0)
        return -1;
    if (sk_yaml_to_jv(text.p, text.len, file, &doc, err) < 0)
        goto out;
    secrets = sk_json_get(doc, "secrets");
    if (jv_get_kind(secrets) == JV_KIND_INVALID || jv_get_kind(secrets) == JV_KIND_NULL) {
        if (jv_get_kind(doc) != JV_KIND_OBJECT) {
            sk_errf(err, SK_E_USAGE, "%s: expected a map with a secrets: section", file);
            goto out;
        }
        rc = 0; /* no secrets: nothing to do */
        goto out;
    }
    if (jv_get_kind(secrets) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_USAGE, "%s: secrets must be a map of secret names", file);
        goto out;
    }
    keys = jv_keys_unsorted(jv_copy(secrets));
    n = jv_array_length(jv_copy(keys));
    sps = xcalloc((size_t)(n ? n : 1), sizeof(*sps));
    for (i = 0; i < n; i++) {
        jv k = jv_array_get(jv_copy(keys), i), e = jv_object_get(jv_copy(secrets), jv_copy(k));
        int bad = load_entry(file, k, e, &sps[i], err) < 0;
        jv_free(k);
        jv_free(e);
        if (bad) {
            n = i + 1;
            goto out;
        }
    }
    *out = sps;
    *nout = (size_t)n;
    sps = NULL;
    rc = 0;
out:
    if (sps) {
        for (i = 0; i < n; i++)
            spec_release(&sps[i]);
        free(sps);
    }
    jv_free(keys);
    jv_free(secrets);
    jv_free(doc);
    sk_buf_release(&text);
    return rc;
}

/* --skip-unchanged: 1 when nothing needs writing (*shown set), 0 when it does. A generated secret
 * that exists is never regenerated; any other is compared with its current value (read back as a
 * secret, never printed, wiped). */
static int unchanged(struct sk_client *c, const struct spec *sp, jv *shown, struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    jv res;
    int same = 0;

    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "SecretId", sp->name);
    sk_jsonw_end(&w);
    if (sk_client_json_raw(c, &sk_svc_secretsmanager, sp->generated ? "DescribeSecret" : "GetSecretValue", body.p,
                           body.len, SK_API_SECRET_RESP, &res, err) < 0) {
        sk_buf_release(&body);
        if (strcmp(err->aws_code, "ResourceNotFoundException") == 0) {
            sk_err_clear(err);
            return 0;
        }
        return -1;
    }
    sk_buf_release(&body);
    if (sp->generated) {
        same = 1;
    } else {
        const char *v = sk_json_str(res, "SecretString");
        same = v && strlen(v) == sp->value.len && memcmp(v, sp->value.p, sp->value.len) == 0;
    }
    if (same) {
        jv vid = get_or_null(res, "VersionId");
        if (sp->generated) {
            /* DescribeSecret: the version labelled AWSCURRENT. */
            jv stages = sk_json_get(res, "VersionIdsToStages"), keys;
            int i, n;
            keys = jv_get_kind(stages) == JV_KIND_OBJECT ? jv_keys(jv_copy(stages)) : jv_array();
            n = jv_array_length(jv_copy(keys));
            for (i = 0; i < n; i++) {
                jv k = jv_array_get(jv_copy(keys), i), labels = jv_object_get(jv_copy(stages), jv_copy(k));
                int j, m = jv_get_kind(labels) == JV_KIND_ARRAY ? jv_array_length(jv_copy(labels)) : 0;
                for (j = 0; j < m; j++) {
                    jv l = jv_array_get(jv_copy(labels), j);
                    if (strcmp(jv_string_value(l), "AWSCURRENT") == 0) {
                        jv_free(vid);
                        vid = jv_copy(k);
                    }
                    jv_free(l);
                }
                jv_free(labels);
                jv_free(k);
            }
            jv_free(keys);
            jv_free(stages);
        }
        *shown = jv_object();
        *shown = jv_object_set(*shown, jv_string("ARN"), get_or_null(res, "ARN"));
        *shown = jv_object_set(*shown, jv_string("Name"), get_or_null(res, "Name"));
        *shown = jv_object_set(*shown, jv_string("VersionId"), vid);
        *shown = jv_object_set(*shown, jv_string("Created"), jv_false());
        *shown = jv_object_set(*shown, jv_string("Unchanged"), jv_true());
    }
    {
        /* Wipe the value read back; only it: other strings are shared with *shown. */
        jv secret = sk_json_get(res, "SecretString"), bin = sk_json_get(res, "SecretBinary");
        sk_json_wipe_strings(secret);
        sk_json_wipe_strings(bin);
        jv_free(secret);
        jv_free(bin);
    }
    jv_free(res);
    return same;
}

/* After CreateSecret/PutSecretValue failed in a way that may have reached Secrets Manager (a
 * network failure or a 5xx), say on err whether the version `token` names exists: the token is
 * the version id. */
static void tell_stored(struct sk_client *c, const struct spec *sp, const char *token, struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    struct sk_err e;
    jv res, versions, v;

    if (err->kind != SK_E_NET && err->http_status < 500)
        return;
    sk_err_clear(&e);
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "SecretId", sp->name);
    sk_jsonw_end(&w);
    if (sk_client_json_raw(c, &sk_svc_secretsmanager, "DescribeSecret", body.p, body.len, 0, &res, &e) < 0) {
        sk_buf_release(&body);
        if (strcmp(e.aws_code, "ResourceNotFoundException") == 0)
            tool_err_append(err, "; %s does not exist (read back)", sp->name);
        else
            tool_err_append(err, "; whether %s was written is unknown (%s)", sp->name, e.msg);
        return;
    }
    sk_buf_release(&body);
    versions = sk_json_get(res, "VersionIdsToStages");
    v = sk_json_get(versions, token);
    if (jv_get_kind(v) != JV_KIND_INVALID)
        tool_err_append(err, "; %s got its new version %s all the same (read back)", sp->name, token);
    else
        tool_err_append(err, "; %s got no new version (read back)", sp->name);
    jv_free(v);
    jv_free(versions);
    jv_free(res);
}

/* Create the secret, or put a new version of it; one ClientRequestToken for every attempt, so a
 * retried call never makes a second version. */
static int put_one(struct sk_client *c, const struct opts *o, const struct spec *sp, const char *tags, jv *shown,
                   struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    char token[37];
    jv res = jv_invalid();
    int created = 0, rc = -1;

    sk_buf_init_secret(&body);
    if (o->skip_unchanged) {
        int same = unchanged(c, sp, shown, err);
        if (same != 0)
            return same < 0 ? -1 : 0;
    }
    if (make_token(token, err) < 0)
        goto out;
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "Name", sp->name);
    sk_jsonw_str(&w, "ClientRequestToken", token);
    add_value(&w, &sp->value);
    if (sp->description)
        sk_jsonw_str(&w, "Description", sp->description);
    if (sp->kms_key_id)
        sk_jsonw_str(&w, "KmsKeyId", sp->kms_key_id);
    if (tags)
        sk_jsonw_raw(&w, "Tags", tags);
    sk_jsonw_end(&w);
    if (call(c, "CreateSecret", &body, SK_API_SECRET_REQ, &res, err) == 0) {
        created = 1;
    } else if (strcmp(err->aws_code, "ResourceExistsException") == 0) {
        sk_jsonw_begin(&w, &body);
        sk_jsonw_str(&w, "SecretId", sp->name);
        sk_jsonw_str(&w, "ClientRequestToken", token);
        add_value(&w, &sp->value);
        sk_jsonw_end(&w);
        if (call(c, "PutSecretValue", &body, SK_API_SECRET_REQ, &res, err) < 0) {
            tell_stored(c, sp, token, err);
            goto out;
        }
        if (sp->description || sp->kms_key_id) {
            jv ignored;
            char update_token[37];
            /* The model marks ClientRequestToken an idempotency token: SDKs always send one. */
            if (make_token(update_token, err) < 0)
                goto out;
            sk_jsonw_begin(&w, &body);
            sk_jsonw_str(&w, "SecretId", sp->name);
            sk_jsonw_str(&w, "ClientRequestToken", update_token);
            if (sp->description)
                sk_jsonw_str(&w, "Description", sp->description);
            if (sp->kms_key_id)
                sk_jsonw_str(&w, "KmsKeyId", sp->kms_key_id);
            sk_jsonw_end(&w);
            if (call(c, "UpdateSecret", &body, 0, &ignored, err) < 0) {
                sk_err_prefix(err, "new version stored, but the description/KMS key was not updated");
                goto out;
            }
            jv_free(ignored);
        }
        if (tags) {
            jv ignored;
            sk_jsonw_begin(&w, &body);
            sk_jsonw_str(&w, "SecretId", sp->name);
            sk_jsonw_raw(&w, "Tags", tags);
            sk_jsonw_end(&w);
            if (call(c, "TagResource", &body, 0, &ignored, err) < 0) {
                sk_err_prefix(err, "new version stored, but the tags were not applied");
                goto out;
            }
            jv_free(ignored);
        }
    } else {
        tell_stored(c, sp, token, err);
        goto out;
    }
    tool_verbose(&o->c, "%s %s", created ? "created" : "updated", sp->name);
    *shown = jv_object();
    *shown = jv_object_set(*shown, jv_string("ARN"), get_or_null(res, "ARN"));
    *shown = jv_object_set(*shown, jv_string("Name"), get_or_null(res, "Name"));
    *shown = jv_object_set(*shown, jv_string("VersionId"), get_or_null(res, "VersionId"));
    *shown = jv_object_set(*shown, jv_string("Created"), jv_bool(created));
    rc = 0;
out:
    jv_free(res);
    sk_buf_release(&body);
    return rc;
}

static int run(const struct opts *o, struct sk_err *err)
{
    struct sk_buf tags = SK_BUF_INIT;
    struct spec one, *sps = NULL;
    struct sk_client c;
    size_t n = 0, i;
    int have_client = 0, rc = -1;

    memset(&one, 0, sizeof(one));
    sk_buf_init_secret(&one.value);
    if (o->from_file) {
        if (load_file(o->from_file, &sps, &n, err) < 0)
            goto out;
    } else {
        one.name = xstrdup(o->name);
        one.description = xstrdup_or_null(o->description);
        one.kms_key_id = xstrdup_or_null(o->kms_key_id);
        one.generated = o->generate;
        if (o->generate) {
            if (generate(&one.value, o->length, o->exclude_punct, err) < 0)
                goto out;
        } else {
            if (tool_read_input(o->value_file ? o->value_file : "-", &one.value, MAX_SECRET + 2, err) < 0)
                goto out;
            tool_chomp(&one.value);
            if (check_value(&one, o->value_file ? o->value_file : "stdin", err) < 0)
                goto out;
        }
        sps = &one;
        n = 1;
    }
    if (n == 0) { /* a configuration file with parameters only */
        rc = 0;
        goto out;
    }
    if (o->ntags)
        tool_tags_json(o->tags, o->ntags, &tags);
    if (tool_client_init(&c, &o->c, err) < 0)
        goto out;
    have_client = 1;
    /* Every value is a secret of the run from the start: no trace line or AWS error (of any call,
     * a DescribeSecret or TagResource too) shows one, in any encoding the wire gives it. */
    for (i = 0; i < n; i++)
        sk_client_add_secret(&c, sps[i].value.p, sps[i].value.len);
    for (i = 0; i < n; i++) {
        jv shown;
        if (put_one(&c, o, &sps[i], o->ntags ? tags.p : NULL, &shown, err) < 0) {
            if (n > 1)
                sk_err_prefix(err, "%s (%zu of %zu written)", sps[i].name, i, n);
            goto out;
        }
        if (tool_emit(&o->c, shown, print_text, err) < 0)
            goto out;
    }
    rc = 0;
out:
    if (have_client)
        sk_client_release(&c);
    if (sps && sps != &one) {
        for (i = 0; i < n; i++)
            spec_release(&sps[i]);
        free(sps);
    }
    spec_release(&one);
    sk_buf_release(&tags);
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("secret-put");
    parse_args(argc, argv, &o);
    code = run(&o, &err);
    return tool_finish(code);
}
