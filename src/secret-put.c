/*
 * secret-put - create a Secrets Manager secret, or put a new version of an existing one.
 * The value comes from stdin, a file, or a generator; it is never printed and never on argv.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "api.h"
#include "json.h"
#include "jsonw.h"
#include "mem.h"
#include "tool.h"

static const char usage_text[] =
    "usage: secret-put [--description TEXT] [--kms-key-id ID] [--tag KEY=VALUE]...\n"
    "                  [--value-file FILE | --generate [--length N] [--exclude-punctuation]] [OPTIONS] NAME\n";

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
    OPT_EXCLUDE_PUNCT
};

struct opts {
    struct common_opts c;
    const char *description, *kms_key_id, *value_file, *name;
    const char *tags[MAX_TAGS];
    int ntags, generate, exclude_punct;
    long length;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "description", required_argument, NULL, OPT_DESCRIPTION },
        { "exclude-punctuation", no_argument, NULL, OPT_EXCLUDE_PUNCT },
        { "generate", no_argument, NULL, OPT_GENERATE },
        { "kms-key-id", required_argument, NULL, OPT_KMS_KEY_ID },
        { "length", required_argument, NULL, OPT_LENGTH },
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
    fprintf(out, "%s version %s\n", sk_json_str(result, "ARN") ? sk_json_str(result, "ARN") : "?",
            sk_json_str(result, "VersionId") ? sk_json_str(result, "VersionId") : "?");
}

static int run(const struct opts *o, struct sk_err *err)
{
    struct sk_buf value = SK_BUF_INIT, body = SK_BUF_INIT, tags = SK_BUF_INIT;
    struct sk_client c;
    struct sk_jsonw w;
    char token[37];
    jv res = jv_invalid(), shown;
    int have_client = 0, created = 0, rc = -1;

    sk_buf_init_secret(&value);
    sk_buf_init_secret(&body);
    if (o->generate) {
        if (generate(&value, o->length, o->exclude_punct, err) < 0)
            goto out;
    } else {
        if (tool_read_input(o->value_file ? o->value_file : "-", &value, MAX_SECRET + 2, err) < 0)
            goto out;
        tool_chomp(&value);
        if (value.len == 0) {
            sk_errf(err, SK_E_USAGE, "empty secret value from %s", o->value_file ? o->value_file : "stdin");
            goto out;
        }
        if (value.len > MAX_SECRET) {
            sk_errf(err, SK_E_USAGE, "the secret value is over %d bytes", MAX_SECRET);
            goto out;
        }
    }
    if (make_token(token, err) < 0)
        goto out;
    if (o->ntags)
        tool_tags_json(o->tags, o->ntags, &tags);
    if (tool_client_init(&c, &o->c, err) < 0)
        goto out;
    have_client = 1;

    /* Create; if it exists, put a new version with the same token (idempotent on retry). */
    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "Name", o->name);
    sk_jsonw_str(&w, "ClientRequestToken", token);
    add_value(&w, &value);
    if (o->description)
        sk_jsonw_str(&w, "Description", o->description);
    if (o->kms_key_id)
        sk_jsonw_str(&w, "KmsKeyId", o->kms_key_id);
    if (o->ntags)
        sk_jsonw_raw(&w, "Tags", tags.p);
    sk_jsonw_end(&w);
    if (call(&c, "CreateSecret", &body, SK_API_SECRET_REQ, &res, err) == 0) {
        created = 1;
    } else if (strcmp(err->aws_code, "ResourceExistsException") == 0) {
        sk_jsonw_begin(&w, &body);
        sk_jsonw_str(&w, "SecretId", o->name);
        sk_jsonw_str(&w, "ClientRequestToken", token);
        add_value(&w, &value);
        sk_jsonw_end(&w);
        if (call(&c, "PutSecretValue", &body, SK_API_SECRET_REQ, &res, err) < 0)
            goto out;
        if (o->description || o->kms_key_id) {
            jv ignored;
            sk_jsonw_begin(&w, &body);
            sk_jsonw_str(&w, "SecretId", o->name);
            if (o->description)
                sk_jsonw_str(&w, "Description", o->description);
            if (o->kms_key_id)
                sk_jsonw_str(&w, "KmsKeyId", o->kms_key_id);
            sk_jsonw_end(&w);
            if (call(&c, "UpdateSecret", &body, 0, &ignored, err) < 0) {
                sk_err_prefix(err, "new version stored, but the description/KMS key was not updated");
                goto out;
            }
            jv_free(ignored);
        }
        if (o->ntags) {
            jv ignored;
            sk_jsonw_begin(&w, &body);
            sk_jsonw_str(&w, "SecretId", o->name);
            sk_jsonw_raw(&w, "Tags", tags.p);
            sk_jsonw_end(&w);
            if (call(&c, "TagResource", &body, 0, &ignored, err) < 0) {
                sk_err_prefix(err, "new version stored, but the tags were not applied");
                goto out;
            }
            jv_free(ignored);
        }
    } else {
        goto out;
    }
    tool_verbose(&o->c, "%s %s", created ? "created" : "updated", o->name);
    shown = jv_object();
    shown = jv_object_set(shown, jv_string("ARN"), get_or_null(res, "ARN"));
    shown = jv_object_set(shown, jv_string("Name"), get_or_null(res, "Name"));
    shown = jv_object_set(shown, jv_string("VersionId"), get_or_null(res, "VersionId"));
    shown = jv_object_set(shown, jv_string("Created"), jv_bool(created));
    if (tool_emit(&o->c, shown, print_text, err) < 0)
        goto out;
    rc = 0;
out:
    jv_free(res);
    if (have_client)
        sk_client_release(&c);
    sk_buf_release(&value);
    sk_buf_release(&body);
    sk_buf_release(&tags);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code = EXIT_OK;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("secret-put");
    parse_args(argc, argv, &o);
    if (run(&o, &err) < 0)
        code = tool_fail(&o.c, &err);
    return tool_finish(code);
}
