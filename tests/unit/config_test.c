/* config_test.c - the INI parser (https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html),
 * profile selection, region and endpoints. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/config.h"
#include "harness.h"
#include "core/mem.h"
#include "aws/service.h"

static struct sk_err err;
static char dir[] = "/tmp/sk_config_test.XXXXXX";

static const char *const aws_vars[] = {
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "SK_ALLOW_CLEARTEXT",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    NULL,
};

static void clean_env(void)
{
    size_t i;

    for (i = 0; aws_vars[i]; i++)
        unsetenv(aws_vars[i]);
    setenv("HOME", dir, 1);
}

/* Write text to dir/name and return the path (static buffer per name slot). */
static const char *write_file(const char *name, const char *text)
{
    static char paths[4][512];
    static int slot;
    char *p = paths[slot++ % 4];
    FILE *f;

    snprintf(p, 512, "%s/%s", dir, name);
    f = fopen(p, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return p;
}

static int parse(struct sk_ini *ini, const char *text, enum sk_ini_source src)
{
    return sk_ini_parse(ini, text, strlen(text), src, "test", &err);
}

static const char *get(const struct sk_ini *ini, enum sk_ini_kind kind, const char *sec, const char *key)
{
    const struct sk_ini_prop *p = sk_ini_prop(sk_ini_section(ini, kind, sec), key);

    return p ? p->value : NULL;
}

static const char *sub(const struct sk_ini *ini, enum sk_ini_kind kind, const char *sec, const char *key,
                       const char *subkey)
{
    const struct sk_ini_prop *p = sk_ini_prop(sk_ini_section(ini, kind, sec), key);
    size_t i;

    for (i = 0; p && i < p->nsubs; i++)
        if (strcmp(p->subs[i].key, subkey) == 0)
            return p->subs[i].value;
    return NULL;
}

/* ---- parser -------------------------------------------------------------------------------------- */

TEST(basic_sections_and_properties)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini,
                    "[default]\nregion=us-east-1\n\n[profile dev]\n  \nregion   =   eu-west-1  \noutput\t=\tjson\n"
                    "[ profile  spaced ]\nk = v\n",
                    SK_INI_CONFIG_FILE),
              &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "region"), "us-east-1");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "dev", "region"), "eu-west-1");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "dev", "output"), "json");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "spaced", "k"), "v");
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "nope") == NULL);
    ASSERT(get(&ini, SK_INI_PROFILE, "dev", "nope") == NULL);
    ASSERT(ini.nsections == 3);
    sk_ini_release(&ini);
    sk_ini_release(&ini); /* idempotent */
}

TEST(empty_value_and_equals_in_value)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini, "[default]\na =\nb = x=y==\nc=  \n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "a"), "");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "b"), "x=y==");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "c"), "");
    sk_ini_release(&ini);
}

TEST(comment_rules)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini,
                    "# full line\n; also full line\n"
                    "[profile a] # comment after a section\n"
                    "k1 = v1 # comment\n"
                    "k2 = a#b\n"
                    "k3 = a;b\n"
                    "k4 = v4\t; tab comment\n"
                    "k5 = #whitespace before it makes this a comment\n"
                    "k5b =#kept\n"
                    "k6 = x\n"
                    "  # folded, not a comment\n"
                    "[profile b]#no space needed on a section line\n"
                    "k = 1\n",
                    SK_INI_CONFIG_FILE),
              &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k1"), "v1");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k2"), "a#b");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k3"), "a;b");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k4"), "v4");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k5"), "");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k5b"), "#kept");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "a", "k6"), "x\n# folded, not a comment");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "b", "k"), "1");
    sk_ini_release(&ini);
    ASSERT(ini.nsections == 0);
}

TEST(section_comment_hides_bracket_is_fatal)
{
    struct sk_ini ini = { 0 };

    ASSERT_ERR(parse(&ini, "[profile c;x]\nk = 2\n", SK_INI_CONFIG_FILE), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "test:1:") != NULL);
    sk_ini_release(&ini);
}

TEST(continuation_lines)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini, "[default]\nk = first\n  second  \n\tthird # kept\nnext = 1\n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "k"), "first\nsecond\nthird # kept");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "next"), "1");
    sk_ini_release(&ini);
}

TEST(sub_properties)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini,
                    "[default]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style=path\n"
                    "  bad key = ignored\n"
                    "region = us-west-2\n"
                    "[services local]\necs =\n  endpoint_url = http://localhost:4566\nssm =\n"
                    "  endpoint_url = http://localhost:4567\n",
                    SK_INI_CONFIG_FILE),
              &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "s3"), "");
    ASSERT_STREQ(sub(&ini, SK_INI_PROFILE, "default", "s3", "max_concurrent_requests"), "10");
    ASSERT_STREQ(sub(&ini, SK_INI_PROFILE, "default", "s3", "addressing_style"), "path");
    ASSERT(sub(&ini, SK_INI_PROFILE, "default", "s3", "bad key") == NULL);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "region"), "us-west-2");
    ASSERT_STREQ(sub(&ini, SK_INI_SERVICES, "local", "ecs", "endpoint_url"), "http://localhost:4566");
    ASSERT_STREQ(sub(&ini, SK_INI_SERVICES, "local", "ssm", "endpoint_url"), "http://localhost:4567");
    sk_ini_release(&ini);
}

TEST(sub_property_without_equals_is_fatal)
{
    struct sk_ini ini = { 0 };

    ASSERT_ERR(parse(&ini, "[default]\ns3 =\n  just text\n", SK_INI_CONFIG_FILE), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "test:3:") != NULL);
    sk_ini_release(&ini);
}

TEST(profile_default_wins_over_default)
{
    struct sk_ini ini = { 0 };

    /* [profile default] first: the later [default] is ignored entirely. */
    ASSERT_OK(parse(&ini, "[profile default]\na = 1\n[default]\na = 2\nb = 2\n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "a"), "1");
    ASSERT(get(&ini, SK_INI_PROFILE, "default", "b") == NULL);
    sk_ini_release(&ini);

    /* [default] first: [profile default] replaces it. */
    ASSERT_OK(parse(&ini, "[default]\na = 2\nb = 2\n[profile default]\na = 1\n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "a"), "1");
    ASSERT(get(&ini, SK_INI_PROFILE, "default", "b") == NULL);
    sk_ini_release(&ini);

    /* Two [default] sections merge. */
    ASSERT_OK(parse(&ini, "[default]\na = 2\n[profile x]\nk=v\n[default]\nb = 3\n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "a"), "2");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "b"), "3");
    sk_ini_release(&ini);
}

TEST(config_needs_profile_prefix)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini, "[dev]\nk = ignored\n  cont = ignored\n[profile dev2]\nk = v\n[profilefoo]\nk=1\n",
                    SK_INI_CONFIG_FILE),
              &err);
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "dev") == NULL);
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "profilefoo") == NULL);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "dev2", "k"), "v");
    sk_ini_release(&ini);
}

TEST(credentials_file_forbids_profile_prefix)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini,
                    "[profile x]\naws_access_key_id = IGNORED\n[x2]\naws_access_key_id = AKID\n"
                    "[sso-session s]\nk=v\n[services s]\nk=v\n[default]\nk = d\n",
                    SK_INI_CREDENTIALS_FILE),
              &err);
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "x") == NULL);
    ASSERT(sk_ini_section(&ini, SK_INI_SSO_SESSION, "s") == NULL);
    ASSERT(sk_ini_section(&ini, SK_INI_SERVICES, "s") == NULL);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "x2", "aws_access_key_id"), "AKID");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "k"), "d");
    sk_ini_release(&ini);
}

TEST(sso_session_and_services_sections)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini,
                    "[sso-session corp]\nsso_region = us-east-1\n[services dev]\nsts =\n  endpoint_url = http://x\n"
                    "[profile p]\nsso_session = corp\n",
                    SK_INI_CONFIG_FILE),
              &err);
    ASSERT_STREQ(get(&ini, SK_INI_SSO_SESSION, "corp", "sso_region"), "us-east-1");
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "corp") == NULL);
    ASSERT(sk_ini_section(&ini, SK_INI_SERVICES, "dev") != NULL);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "p", "sso_session"), "corp");
    sk_ini_release(&ini);
}

TEST(name_charset)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini,
                    "[profile A-z_0/.%@:+\\]\nk = ok\n"
                    "[profile bad name]\nk = no\n"
                    "[profile bad$]\nk = no\n"
                    "[profile]\nk = no\n"
                    "[profile good]\nbad key = no\nk$ = no\ngood_key = yes\n",
                    SK_INI_CONFIG_FILE),
              &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "A-z_0/.%@:+\\", "k"), "ok");
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "bad") == NULL);
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "bad$") == NULL);
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "profile") == NULL);
    ASSERT(get(&ini, SK_INI_PROFILE, "good", "bad key") == NULL);
    ASSERT(get(&ini, SK_INI_PROFILE, "good", "k$") == NULL);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "good", "good_key"), "yes");
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "good")->nprops == 1);
    ASSERT(ini.nsections == 2);
    sk_ini_release(&ini);
}

TEST(malformed_is_fatal_and_names_line)
{
    struct sk_ini ini = { 0 };
    static const struct {
        const char *text;
        const char *where;
    } cases[] = {
        { "[profile a\nk=v\n", "test:1:" },
        { "[default]\nk=v\n[default\n", "test:3:" },
        { "k = v\n[default]\n", "test:1:" },
        { "# comment\n\nk = v\n", "test:3:" },
        { "[default]\njusttext\n", "test:2:" },
        { "[default]\n= value\n", "test:2:" },
        { "[default]\n  continuation first\n", "test:2:" },
        { "  continuation\n", "test:1:" },
    };
    size_t i;

    ASSERT_OK(parse(&ini, "[default]\nkeep = 1\n", SK_INI_CONFIG_FILE), &err);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ASSERT_ERR(parse(&ini, cases[i].text, SK_INI_CONFIG_FILE), &err, SK_E_CONFIG);
        if (!strstr(err.msg, cases[i].where))
            H_FAIL("case %zu: '%s' does not name %s", i, err.msg, cases[i].where);
    }
    /* A failed parse leaves ini as it was. */
    ASSERT(ini.nsections == 1);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "keep"), "1");
    ASSERT(sk_ini_section(&ini, SK_INI_PROFILE, "a") == NULL);
    ASSERT_ERR(parse(&ini, "[x\n", SK_INI_CREDENTIALS_FILE), &err, SK_E_CONFIG);
    sk_ini_release(&ini);
}

TEST(later_keys_win_and_merge)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini, "[default]\na = 1\na = 2\ns =\n  x = 1\n  y = 1\n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "a"), "2");
    /* A second file merges: values replace, sub-properties merge key by key. */
    ASSERT_OK(parse(&ini, "[default]\na = 3\nb = 4\ns =\n  y = 2\n[other]\nk=v\n", SK_INI_CREDENTIALS_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "a"), "3");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "b"), "4");
    ASSERT_STREQ(sub(&ini, SK_INI_PROFILE, "default", "s", "x"), "1");
    ASSERT_STREQ(sub(&ini, SK_INI_PROFILE, "default", "s", "y"), "2");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "other", "k"), "v");
    /* Within one file a repeated key replaces its sub-properties too. */
    ASSERT_OK(parse(&ini, "[default]\ns =\n  z = 1\n", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(sub(&ini, SK_INI_PROFILE, "default", "s", "z"), "1");
    sk_ini_release(&ini);
}

TEST(crlf_and_no_trailing_newline)
{
    struct sk_ini ini = { 0 };

    ASSERT_OK(parse(&ini, "[default]\r\nk = v\r\nm = a\r\n  b\r\n\r\nlast = x", SK_INI_CONFIG_FILE), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "k"), "v");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "m"), "a\nb");
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "last"), "x");
    sk_ini_release(&ini);
}

TEST(length_bounded_input)
{
    struct sk_ini ini = { 0 };
    const char text[] = "[default]\nk = v\nzzz";

    /* Only len bytes are read: the trailing "zzz" (a fatal line) is outside. */
    ASSERT_OK(sk_ini_parse(&ini, text, strlen(text) - 3, SK_INI_CONFIG_FILE, "t", &err), &err);
    ASSERT_STREQ(get(&ini, SK_INI_PROFILE, "default", "k"), "v");
    ASSERT_OK(sk_ini_parse(&ini, "", 0, SK_INI_CONFIG_FILE, "t", &err), &err);
    sk_ini_release(&ini);
}

/* ---- env helpers ------------------------------------------------------------------------------- */

TEST(getenv_and_truthy)
{
    setenv("SK_TEST_VAR", "", 1);
    ASSERT(sk_getenv("SK_TEST_VAR") == NULL);
    setenv("SK_TEST_VAR", "x", 1);
    ASSERT_STREQ(sk_getenv("SK_TEST_VAR"), "x");
    unsetenv("SK_TEST_VAR");
    ASSERT(sk_getenv("SK_TEST_VAR") == NULL);
    ASSERT(sk_truthy("true") && sk_truthy("TRUE") && sk_truthy("1") && sk_truthy("Yes"));
    ASSERT(!sk_truthy("false") && !sk_truthy("0") && !sk_truthy("") && !sk_truthy(NULL) && !sk_truthy("truex"));
}

/* ---- loading --------------------------------------------------------------------------------------- */

TEST(load_merges_credentials_over_config)
{
    struct sk_config c;

    clean_env();
    setenv("AWS_CONFIG_FILE",
           write_file("c1", "[default]\nregion = us-east-1\naws_access_key_id = FROMCONF\n"
                            "[profile dev]\nregion = eu-west-1\n"),
           1);
    setenv("AWS_SHARED_CREDENTIALS_FILE",
           write_file("k1", "[default]\naws_access_key_id = FROMCREDS\n[dev]\naws_access_key_id = DEV\n"), 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    ASSERT_STREQ(c.profile, "default");
    ASSERT(!c.profile_explicit);
    ASSERT_STREQ(sk_config_get(&c, NULL, "aws_access_key_id"), "FROMCREDS");
    ASSERT_STREQ(sk_config_get(&c, NULL, "region"), "us-east-1");
    ASSERT_STREQ(sk_config_get(&c, "dev", "aws_access_key_id"), "DEV");
    ASSERT_STREQ(sk_config_get(&c, "dev", "region"), "eu-west-1");
    ASSERT(sk_config_get(&c, "nope", "region") == NULL);
    sk_config_release(&c);
    sk_config_release(&c);
}

TEST(load_defaults_to_home_and_missing_files_are_fine)
{
    struct sk_config c;
    char path[600];

    clean_env();
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    ASSERT_STREQ(c.profile, "default");
    ASSERT(c.ini.nsections == 0);
    sk_config_release(&c);

    snprintf(path, sizeof(path), "%s/.aws", dir);
    mkdir(path, 0700);
    write_file(".aws/config", "[profile home]\nregion = ap-south-1\n");
    ASSERT_OK(sk_config_load(&c, "home", &err), &err);
    ASSERT(c.profile_explicit);
    ASSERT_STREQ(sk_config_get(&c, NULL, "region"), "ap-south-1");
    sk_config_release(&c);

    setenv("AWS_CONFIG_FILE", "~/.aws/config", 1);
    ASSERT_OK(sk_config_load(&c, "home", &err), &err);
    ASSERT_STREQ(sk_config_get(&c, NULL, "region"), "ap-south-1");
    sk_config_release(&c);
}

TEST(load_parse_error_names_file)
{
    struct sk_config c;
    const char *p;

    clean_env();
    p = write_file("bad", "[default]\nregion = x\nnot a property\n");
    setenv("AWS_CONFIG_FILE", p, 1);
    ASSERT_ERR(sk_config_load(&c, NULL, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, p) != NULL);
    ASSERT(strstr(err.msg, ":3:") != NULL);
    ASSERT(c.profile == NULL && c.ini.nsections == 0);
    sk_config_release(&c);

    setenv("AWS_CONFIG_FILE", dir, 1); /* a directory */
    ASSERT_ERR(sk_config_load(&c, NULL, &err), &err, SK_E_IO);
}

TEST(profile_selection)
{
    struct sk_config c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("c2", "[profile a]\nk = a\n[profile b]\nk = b\n[profile c]\nk = c\n"), 1);
    setenv("AWS_DEFAULT_PROFILE", "c", 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    ASSERT_STREQ(c.profile, "c");
    sk_config_release(&c);
    setenv("AWS_PROFILE", "b", 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    ASSERT_STREQ(c.profile, "b");
    ASSERT(!c.profile_explicit);
    sk_config_release(&c);
    ASSERT_OK(sk_config_load(&c, "a", &err), &err);
    ASSERT_STREQ(c.profile, "a");
    ASSERT(c.profile_explicit);
    sk_config_release(&c);

    ASSERT_ERR(sk_config_load(&c, "missing", &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "missing") != NULL);
    setenv("AWS_PROFILE", "missing2", 1);
    ASSERT_ERR(sk_config_load(&c, NULL, &err), &err, SK_E_CONFIG);
    /* "default" may be absent. */
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_DEFAULT_PROFILE");
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    ASSERT_STREQ(c.profile, "default");
    sk_config_release(&c);
}

TEST(get_sub)
{
    struct sk_config c;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("c3", "[default]\ns3 =\n  max = 10\n"), 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    ASSERT_STREQ(sk_config_get_sub(&c, NULL, "s3", "max"), "10");
    ASSERT(sk_config_get_sub(&c, NULL, "s3", "min") == NULL);
    ASSERT(sk_config_get_sub(&c, NULL, "s4", "max") == NULL);
    ASSERT(sk_config_get_sub(&c, "other", "s3", "max") == NULL);
    sk_config_release(&c);
}

/* ---- region ------------------------------------------------------------------------------------ */

TEST(region_order)
{
    struct sk_config c;
    char *r = NULL;

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("c4", "[default]\nregion = eu-central-1\n[profile bad]\nregion = EU!\n"), 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);

    ASSERT_OK(sk_config_region(&c, NULL, &r, &err), &err);
    ASSERT_STREQ(r, "eu-central-1");
    free(r);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    ASSERT_OK(sk_config_region(&c, NULL, &r, &err), &err);
    ASSERT_STREQ(r, "us-west-1");
    free(r);
    setenv("AWS_REGION", "us-west-2", 1);
    ASSERT_OK(sk_config_region(&c, NULL, &r, &err), &err);
    ASSERT_STREQ(r, "us-west-2");
    free(r);
    ASSERT_OK(sk_config_region(&c, "ap-northeast-1", &r, &err), &err);
    ASSERT_STREQ(r, "ap-northeast-1");
    free(r);
    setenv("AWS_REGION", "", 1); /* empty is unset */
    ASSERT_OK(sk_config_region(&c, NULL, &r, &err), &err);
    ASSERT_STREQ(r, "us-west-1");
    free(r);

    r = NULL;
    ASSERT_ERR(sk_config_region(&c, "Bad Region", &r, &err), &err, SK_E_USAGE);
    ASSERT(r == NULL);
    sk_config_release(&c);

    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("c5", "[profile bad]\nregion = EU!\n[profile none]\nk=v\n"), 1);
    ASSERT_OK(sk_config_load(&c, "bad", &err), &err);
    ASSERT_ERR(sk_config_region(&c, NULL, &r, &err), &err, SK_E_USAGE);
    sk_config_release(&c);
    ASSERT_OK(sk_config_load(&c, "none", &err), &err);
    ASSERT_ERR(sk_config_region(&c, NULL, &r, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "region") != NULL);
    sk_config_release(&c);
}

/* ---- endpoints (§2.9) ----------------------------------------------------------------------------- */

static const char endpoint_config[] = "[default]\n"
                                      "endpoint_url = http://profile-global\n"
                                      "services = local\n"
                                      "[profile nosvc]\n"
                                      "endpoint_url = http://profile-only\n"
                                      "[profile ignore]\n"
                                      "endpoint_url = http://profile-ignored\n"
                                      "ignore_configured_endpoint_urls = true\n"
                                      "[services local]\n"
                                      "ssm =\n"
                                      "  endpoint_url = http://services-ssm\n"
                                      "secrets_manager =\n"
                                      "  other = x\n";

static void expect_endpoint(const struct sk_config *c, const struct sk_service *svc, const char *cli,
                            const char *region, const char *want, int line)
{
    char *out = NULL;

    sk_err_clear(&err);
    if (sk_config_endpoint(c, svc, cli, region, &out, &err)) {
        printf("# line %d: endpoint failed: %s\n", line, err.msg);
        h_cur_failed = 1;
        return;
    }
    if (strcmp(out, want) != 0) {
        printf("# line %d: endpoint '%s', want '%s'\n", line, out, want);
        h_cur_failed = 1;
    }
    free(out);
}
#define EXPECT_ENDPOINT(c, svc, cli, region, want) expect_endpoint(c, svc, cli, region, want, __LINE__)

/* The precedence tests use made-up http hosts: cleartext consent is endpoint_cleartext's subject. */
static void clean_env_cleartext_ok(void)
{
    clean_env();
    setenv("SK_ALLOW_CLEARTEXT", "1", 1);
}

TEST(endpoint_precedence)
{
    struct sk_config c;

    clean_env_cleartext_ok();
    setenv("AWS_CONFIG_FILE", write_file("c6", endpoint_config), 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);

    /* 4: [services] sub-property for a service listed there; 5: profile endpoint_url otherwise. */
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "http://services-ssm");
    EXPECT_ENDPOINT(&c, &sk_svc_secretsmanager, NULL, "us-east-1", "http://profile-global");
    EXPECT_ENDPOINT(&c, &sk_svc_ecs, NULL, "us-east-1", "http://profile-global");
    /* 3: AWS_ENDPOINT_URL beats the config file. */
    setenv("AWS_ENDPOINT_URL", "http://env-global", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "http://env-global");
    /* 2: the service-specific variable beats AWS_ENDPOINT_URL. */
    setenv("AWS_ENDPOINT_URL_SSM", "http://env-ssm", 1);
    setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://env-sm/path", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "http://env-ssm");
    EXPECT_ENDPOINT(&c, &sk_svc_secretsmanager, NULL, "us-east-1", "https://env-sm/path");
    EXPECT_ENDPOINT(&c, &sk_svc_ecs, NULL, "us-east-1", "http://env-global");
    /* 1: the command line beats everything. */
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, "http://cli", "us-east-1", "http://cli");
    /* The ignore flag skips 2-5 but not 1. */
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "https://ssm.us-east-1.amazonaws.com");
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, "http://cli", "us-east-1", "http://cli");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "http://env-ssm");
    sk_config_release(&c);

    /* Profile flag, overridden by an explicit env value. */
    clean_env_cleartext_ok();
    setenv("AWS_CONFIG_FILE", write_file("c6", endpoint_config), 1);
    setenv("AWS_ENDPOINT_URL", "http://env-global", 1);
    ASSERT_OK(sk_config_load(&c, "ignore", &err), &err);
    EXPECT_ENDPOINT(&c, &sk_svc_sts, NULL, "eu-west-1", "https://sts.eu-west-1.amazonaws.com");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_sts, NULL, "eu-west-1", "http://env-global");
    sk_config_release(&c);

    clean_env_cleartext_ok();
    setenv("AWS_CONFIG_FILE", write_file("c6", endpoint_config), 1);
    ASSERT_OK(sk_config_load(&c, "nosvc", &err), &err);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "http://profile-only");
    sk_config_release(&c);
    clean_env();
}

/* expect_refused: sk_config_endpoint fails with SK_E_CONFIG, out untouched, and the one line names
 * the endpoint (scheme, host, port), where it came from, and the opt-in. */
static void expect_refused(const struct sk_config *c, const char *cli, const char *endpoint, const char *from, int line)
{
    char *out = NULL;

    sk_err_clear(&err);
    if (sk_config_endpoint(c, &sk_svc_ssm, cli, "us-east-1", &out, &err) == 0) {
        printf("# line %d: '%s' accepted, want refused\n", line, out);
        h_cur_failed = 1;
        free(out);
        return;
    }
    if (err.kind != SK_E_CONFIG || out || !strstr(err.msg, endpoint) || !strstr(err.msg, from) ||
        !strstr(err.msg, "SK_ALLOW_CLEARTEXT=1") || strchr(err.msg, '\n')) {
        printf("# line %d: kind %d, message '%s'\n", line, (int)err.kind, err.msg);
        h_cur_failed = 1;
    }
}
#define EXPECT_REFUSED(c, cli, endpoint, from) expect_refused(c, cli, endpoint, from, __LINE__)

TEST(endpoint_cleartext)
{
    static const char *const loopback[] = {
        "http://127.0.0.1:5000", "http://127.255.255.254/", "http://localhost:4566",
        "http://LocalHost",      "http://[::1]:4566",       "http://[0:0:0:0:0:0:0:1]",
    };
    /* Not literally loopback, though some resolve or connect there (curl maps *.localhost to
     * 127.0.0.1; inet_aton reads 127.1 and 2130706433). */
    static const char *const others[] = {
        "http://localhost.example:5000",
        "http://sk.localhost:5000",
        "http://127.1:5000",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://127.0.0.1.nip.io/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:5000",
        "http://128.0.0.1/",
        "http://[::2]/",
        "http://10.0.0.1:5000",
        "http://localhost.:5000",
    };
    struct sk_config c;
    char *out = NULL;
    size_t i;

    clean_env();
    for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
        EXPECT_ENDPOINT(NULL, &sk_svc_ssm, loopback[i], "us-east-1", loopback[i]);
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, "https://ssm.example", "us-east-1", "https://ssm.example");
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        sk_err_clear(&err);
        if (sk_config_check_cleartext(others[i], "test", &err) == 0 || err.kind != SK_E_CONFIG) {
            printf("# '%s' not refused\n", others[i]);
            h_cur_failed = 1;
        }
    }
    /* Every source; the message shows no path or query (they may hold a token). */
    EXPECT_REFUSED(NULL, "http://moto.example:5000/x?X-Amz-Security-Token=t0k3n", "'http://moto.example:5000'",
                   "--endpoint-url");
    ASSERT(strstr(err.msg, "t0k3n") == NULL && strstr(err.msg, "/x") == NULL);
    setenv("AWS_CONFIG_FILE", write_file("c7", endpoint_config), 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    EXPECT_REFUSED(&c, NULL, "'http://services-ssm'", "the services section");
    sk_config_release(&c);
    ASSERT_OK(sk_config_load(&c, "nosvc", &err), &err);
    EXPECT_REFUSED(&c, NULL, "'http://profile-only'", "the profile's endpoint_url");
    setenv("AWS_ENDPOINT_URL", "http://env-global:80", 1);
    EXPECT_REFUSED(&c, NULL, "'http://env-global'", "from AWS_ENDPOINT_URL)");
    setenv("AWS_ENDPOINT_URL_SSM", "HTTP://Env-SSM:8080", 1);
    EXPECT_REFUSED(&c, NULL, "'http://env-ssm:8080'", "AWS_ENDPOINT_URL_SSM");
    /* Consent: true, 1 or yes; anything else is no. */
    setenv("SK_ALLOW_CLEARTEXT", "0", 1);
    EXPECT_REFUSED(&c, NULL, "'http://env-ssm:8080'", "AWS_ENDPOINT_URL_SSM");
    setenv("SK_ALLOW_CLEARTEXT", "", 1);
    EXPECT_REFUSED(&c, NULL, "'http://env-ssm:8080'", "AWS_ENDPOINT_URL_SSM");
    setenv("SK_ALLOW_CLEARTEXT", "1", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "HTTP://Env-SSM:8080");
    setenv("SK_ALLOW_CLEARTEXT", "true", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, "http://localhost.example:1", "us-east-1", "http://localhost.example:1");
    sk_config_release(&c);
    /* A URL that cannot be parsed is a config error naming its source, not a crash. */
    clean_env();
    setenv("AWS_ENDPOINT_URL", "http://user:pw@10.0.0.1/", 1);
    ASSERT_ERR(sk_config_endpoint(NULL, &sk_svc_ssm, NULL, "us-east-1", &out, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "AWS_ENDPOINT_URL") != NULL && strstr(err.msg, "pw") == NULL);
    ASSERT(out == NULL);
    clean_env();
}

TEST(endpoint_defaults)
{
    char *out = NULL;

    clean_env();
    EXPECT_ENDPOINT(NULL, &sk_svc_ecr, NULL, "us-east-1", "https://api.ecr.us-east-1.amazonaws.com");
    EXPECT_ENDPOINT(NULL, &sk_svc_elbv2, NULL, "eu-west-3", "https://elasticloadbalancing.eu-west-3.amazonaws.com");
    EXPECT_ENDPOINT(NULL, &sk_svc_logs, NULL, "cn-north-1", "https://logs.cn-north-1.amazonaws.com.cn");
    ASSERT_ERR(sk_config_endpoint(NULL, &sk_svc_ssm, NULL, NULL, &out, &err), &err, SK_E_CONFIG);
    ASSERT_ERR(sk_config_endpoint(NULL, &sk_svc_ssm, "ftp://x", "us-east-1", &out, &err), &err, SK_E_USAGE);
    setenv("AWS_ENDPOINT_URL", "localhost:4566", 1);
    ASSERT_ERR(sk_config_endpoint(NULL, &sk_svc_ssm, NULL, "us-east-1", &out, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "AWS_ENDPOINT_URL") != NULL);
    ASSERT(out == NULL);
    unsetenv("AWS_ENDPOINT_URL");
}

/* FIPS and dual-stack (https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoints.html):
 * the environment, else the profile; an endpoint given explicitly wins; a misspelt value and a
 * mode the partition's rules refuse are errors (exit 3) naming the setting. */
static const char fips_config[] = "[default]\n"
                                  "use_fips_endpoint = true\n"
                                  "[profile ds]\n"
                                  "use_dualstack_endpoint = TRUE\n"
                                  "[profile both]\n"
                                  "use_fips_endpoint = true\n"
                                  "use_dualstack_endpoint = true\n"
                                  "[profile typo]\n"
                                  "use_fips_endpoint = ture\n"
                                  "[profile local]\n"
                                  "use_fips_endpoint = true\n"
                                  "endpoint_url = http://127.0.0.1:4566\n";

TEST(endpoint_fips_dualstack)
{
    struct sk_config c;
    struct sk_endpoint ep = { NULL, NULL };
    unsigned mode = 9;
    char *out = NULL;

    clean_env();
    /* Neither set: plain; the environment alone. */
    ASSERT_OK(sk_config_endpoint_mode(NULL, &mode, &err), &err);
    ASSERT(mode == 0);
    setenv("AWS_USE_FIPS_ENDPOINT", "true", 1);
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "us-east-1", "https://ssm-fips.us-east-1.amazonaws.com");
    EXPECT_ENDPOINT(NULL, &sk_svc_ecr, NULL, "us-east-1", "https://api.ecr-fips.us-east-1.amazonaws.com");
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "us-gov-west-1", "https://ssm.us-gov-west-1.amazonaws.com");
    EXPECT_ENDPOINT(NULL, &sk_svc_logs, NULL, "us-gov-east-1", "https://logs.us-gov-east-1.amazonaws.com");
    EXPECT_ENDPOINT(NULL, &sk_svc_sts, NULL, "eusc-de-east-1", "https://sts-fips.eusc-de-east-1.amazonaws.eu");
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "True", 1);
    EXPECT_ENDPOINT(NULL, &sk_svc_ecr, NULL, "us-east-1", "https://ecr-fips.us-east-1.api.aws");
    EXPECT_ENDPOINT(NULL, &sk_svc_secretsmanager, NULL, "us-east-1",
                    "https://secretsmanager-fips.us-east-1.amazonaws.com");
    setenv("AWS_USE_FIPS_ENDPOINT", "false", 1);
    EXPECT_ENDPOINT(NULL, &sk_svc_ecs, NULL, "cn-north-1", "https://ecs.cn-north-1.api.amazonwebservices.com.cn");
    /* The partition has no dual-stack endpoint in the SDK's data: refused, naming the setting. */
    ASSERT_ERR(sk_config_endpoint(NULL, &sk_svc_ssm, NULL, "eu-isoe-west-1", &out, &err), &err, SK_E_CONFIG);
    ASSERT(out == NULL);
    ASSERT(strstr(err.msg, "AWS_USE_DUALSTACK_ENDPOINT") && strstr(err.msg, "dual-stack") &&
           strstr(err.msg, "eu-isoe-west-1") && strstr(err.msg, "aws-iso-e"));
    /* An explicit endpoint wins, and the setting is not even read. */
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "bogus", 1);
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, "http://127.0.0.1:4566", "eu-isoe-west-1", "http://127.0.0.1:4566");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", 1);
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "us-east-1", "http://127.0.0.1:4566");
    unsetenv("AWS_ENDPOINT_URL");
    /* Anything but true or false is an error, never a silent false. */
    ASSERT_ERR(sk_config_endpoint(NULL, &sk_svc_ssm, NULL, "us-east-1", &out, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "AWS_USE_DUALSTACK_ENDPOINT") && strstr(err.msg, "bogus"));
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "1", 1);
    ASSERT_ERR(sk_config_endpoint_mode(NULL, &mode, &err), &err, SK_E_CONFIG);
    /* Empty is unset. */
    setenv("AWS_USE_DUALSTACK_ENDPOINT", "", 1);
    setenv("AWS_USE_FIPS_ENDPOINT", "", 1);
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "us-east-1", "https://ssm.us-east-1.amazonaws.com");

    /* The profile, when the environment says nothing; the environment over the profile. */
    clean_env();
    setenv("AWS_CONFIG_FILE", write_file("c8", fips_config), 1);
    ASSERT_OK(sk_config_load(&c, NULL, &err), &err);
    EXPECT_ENDPOINT(&c, &sk_svc_rds, NULL, "eu-west-1", "https://rds-fips.eu-west-1.amazonaws.com");
    setenv("AWS_USE_FIPS_ENDPOINT", "false", 1);
    EXPECT_ENDPOINT(&c, &sk_svc_rds, NULL, "eu-west-1", "https://rds.eu-west-1.amazonaws.com");
    unsetenv("AWS_USE_FIPS_ENDPOINT");
    sk_config_release(&c);
    ASSERT_OK(sk_config_load(&c, "ds", &err), &err);
    EXPECT_ENDPOINT(&c, &sk_svc_elbv2, NULL, "eu-west-1", "https://elasticloadbalancing.eu-west-1.api.aws");
    sk_config_release(&c);
    ASSERT_OK(sk_config_load(&c, "both", &err), &err);
    EXPECT_ENDPOINT(&c, &sk_svc_sts, NULL, "us-gov-west-1", "https://sts-fips.us-gov-west-1.api.aws");
    ASSERT_ERR(sk_config_endpoint(&c, &sk_svc_sts, NULL, "us-isof-south-1", &out, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "use_fips_endpoint and use_dualstack_endpoint") != NULL);
    sk_config_release(&c);
    ASSERT_OK(sk_config_load(&c, "typo", &err), &err);
    ASSERT_ERR(sk_config_endpoint(&c, &sk_svc_ssm, NULL, "us-east-1", &out, &err), &err, SK_E_CONFIG);
    ASSERT(strstr(err.msg, "use_fips_endpoint") && strstr(err.msg, "'ture'") && strstr(err.msg, "'typo'"));
    sk_config_release(&c);
    /* The local stack: the profile's endpoint_url wins over its use_fips_endpoint. */
    ASSERT_OK(sk_config_load(&c, "local", &err), &err);
    EXPECT_ENDPOINT(&c, &sk_svc_ssm, NULL, "us-east-1", "http://127.0.0.1:4566");
    sk_config_release(&c);

    /* STS in aws-global signs for us-east-1 (the rule set's authSchemes). */
    clean_env();
    ASSERT_OK(sk_config_resolve_endpoint(NULL, &sk_svc_sts, NULL, "aws-global", &ep, &err), &err);
    ASSERT_STREQ(ep.url, "https://sts.amazonaws.com");
    ASSERT_STREQ(ep.signing_region, "us-east-1");
    sk_endpoint_release(&ep);
    ASSERT_OK(sk_config_resolve_endpoint(NULL, &sk_svc_sts, NULL, "eu-west-1", &ep, &err), &err);
    ASSERT_STREQ(ep.url, "https://sts.eu-west-1.amazonaws.com");
    ASSERT(ep.signing_region == NULL);
    sk_endpoint_release(&ep);
    clean_env();
}

TEST(endpoint_partitions)
{
    clean_env();
    /* The newer partitions' own DNS suffixes (data/partitions.json). */
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "eu-isoe-west-1", "https://ssm.eu-isoe-west-1.cloud.adc-e.uk");
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "us-isof-south-1", "https://ssm.us-isof-south-1.csp.hci.ic.gov");
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "eusc-de-east-1", "https://ssm.eusc-de-east-1.amazonaws.eu");
    EXPECT_ENDPOINT(NULL, &sk_svc_ssm, NULL, "us-isob-east-1", "https://ssm.us-isob-east-1.sc2s.sgov.gov");
    EXPECT_ENDPOINT(NULL, &sk_svc_sts, NULL, "aws-global", "https://sts.amazonaws.com");
    /* A region no partition matches: aws, as the SDKs' rules engine does. */
    EXPECT_ENDPOINT(NULL, &sk_svc_ecs, NULL, "mars-1", "https://ecs.mars-1.amazonaws.com");
}

static void rm_tree(void)
{
    char cmd[700];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(basic_sections_and_properties);
    RUN(empty_value_and_equals_in_value);
    RUN(comment_rules);
    RUN(section_comment_hides_bracket_is_fatal);
    RUN(continuation_lines);
    RUN(sub_properties);
    RUN(sub_property_without_equals_is_fatal);
    RUN(profile_default_wins_over_default);
    RUN(config_needs_profile_prefix);
    RUN(credentials_file_forbids_profile_prefix);
    RUN(sso_session_and_services_sections);
    RUN(name_charset);
    RUN(malformed_is_fatal_and_names_line);
    RUN(later_keys_win_and_merge);
    RUN(crlf_and_no_trailing_newline);
    RUN(length_bounded_input);
    RUN(getenv_and_truthy);
    RUN(load_merges_credentials_over_config);
    RUN(load_defaults_to_home_and_missing_files_are_fine);
    RUN(load_parse_error_names_file);
    RUN(profile_selection);
    RUN(get_sub);
    RUN(region_order);
    RUN(endpoint_precedence);
    RUN(endpoint_defaults);
    RUN(endpoint_cleartext);
    RUN(endpoint_fips_dualstack);
    RUN(endpoint_partitions);
    rm_tree();
    return DONE();
}
