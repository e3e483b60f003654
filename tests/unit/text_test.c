/*
 * text_test - untrusted text escaped for terminals and CI logs (lib/core/text.c), and secret values
 * kept out of what is shown (lib/core/redact.c): the sensitive-member table, bodies as --debug shows
 * them, and registered values scrubbed in every wire form.
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/buf.h"
#include "harness.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/redact.h"
#include "core/text.h"

/* The escaping of s[0..n) as a heap string (free it). */
static char *esc(const char *s, size_t n)
{
    struct sk_buf b = SK_BUF_INIT;

    sk_text_escape(&b, s, n);
    return sk_buf_detach(&b, NULL);
}

static void check_escape(const char *in, size_t n, const char *want)
{
    char *got = esc(in, n);

    if (strcmp(got, want) != 0)
        H_FAIL("escape: got '%s', want '%s'", got, want);
    free(got);
}

#define CHECK(in, want) check_escape(in, sizeof(in) - 1, want)

TEST(control_characters_escaped)
{
    CHECK("plain text, 100% ok: {\"a\": [1]}", "plain text, 100% ok: {\"a\": [1]}");
    CHECK("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");                     /* ANSI SGR */
    CHECK("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title");               /* OSC title */
    CHECK("\x1b]52;c;ZWNobyBoaQ==\x1b\\", "\\x1b]52;c;ZWNobyBoaQ==\\x1b\\"); /* OSC 52 */
    CHECK("\x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\", "\\x1b]8;;http://evil/\\x1b\\click\\x1b]8;;\\x1b\\");
    CHECK("a\nb\r\nc\td", "a\\nb\\r\\nc\\td");
    CHECK("nul\0del\x7f bs\b", "nul\\x00del\\x7f bs\\x08");
    CHECK("", "");
}

TEST(unicode_kept_c1_and_invalid_escaped)
{
    CHECK("h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
          "h\xc3\xa9llo \xe2\x9c\x93 "
          "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
    CHECK("\xc2\x9b"
          "31m",
          "\\u009b31m");          /* C1 CSI as UTF-8 */
    CHECK("\xc2\x85", "\\u0085"); /* NEL */
    CHECK("\x9b"
          "31m",
          "\\x9b31m");                /* a raw 8-bit CSI is no UTF-8 */
    CHECK("\xe2\x80\xa8", "\\u2028"); /* line separator */
    CHECK("abc\xe2\x80\xae"
          "dcba",
          "abc\\u202edcba"); /* right-to-left override */
    CHECK("\xff\xfe", "\\xff\\xfe");
    CHECK("\xc0\xaf", "\\xc0\\xaf");                   /* overlong '/' */
    CHECK("\xed\xa0\x80", "\\xed\\xa0\\x80");          /* surrogate */
    CHECK("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
    CHECK("cut \xe2\x9c", "cut \\xe2\\x9c");           /* a sequence cut short */
    CHECK("\xc3\xa9\x80", "\xc3\xa9\\x80");            /* a stray continuation byte */
    CHECK("\xc2\xa0nbsp", "\xc2\xa0nbsp");             /* printable: kept */
}

TEST(workflow_commands_defused)
{
    CHECK("::set-output name=x::y", "\\x3a:set-output name=x::y");
    CHECK("::add-mask::secret", "\\x3a:add-mask::secret");
    CHECK("   ::stop-commands::tok", "   \\x3a:stop-commands::tok");
    CHECK("\xc2\xa0\xe3\x80\x80::warning::w", "\xc2\xa0\xe3\x80\x80\\x3a:warning::w"); /* .NET trims these too */
    CHECK("line\n::set-output name=x::y", "line\\n::set-output name=x::y");            /* no line break left */
    CHECK("a::b :: c", "a::b :: c");
    CHECK(":x", ":x");
    CHECK("##[set-output name=x;]y", "##\\x5bset-output name=x;]y");
    CHECK("text ##[add-mask]v", "text ##\\x5badd-mask]v");
    CHECK("#[x] ## [y]", "#[x] ## [y]");
}

TEST(escaping_is_idempotent)
{
    static const char *const in[] = {
        "\x1b[31m::set-output\n##[x]", "::a", "\xc2\x9b\xff", "\\x1b already", "  ::  ", "##[##[", "\xe2\x80\xa8::",
    };
    size_t i;

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char *once = esc(in[i], strlen(in[i])), *twice = esc(once, strlen(once));
        ASSERT_STREQ(twice, once);
        ASSERT(sk_utf8_valid(once, strlen(once)));
        ASSERT(strchr(once, '\x1b') == NULL && strchr(once, '\n') == NULL);
        free(once);
        free(twice);
    }
}

/* Random bytes (biased towards the interesting ones): the escaping is valid UTF-8 with no control
 * character, C1, bidi control or workflow command left, and escaping it again changes nothing. */
TEST(escaping_random_bytes)
{
    static const unsigned char pick[] = { 0x1b, 0x07, '\n', '\r', ':',  ':',  '#',  '#',  '[',  ' ',  0xc2, 0x9b,
                                          0xe2, 0x80, 0xae, 0xa8, 0xff, 0xf0, 0x9f, 0x98, 0x80, 0x7f, 0x00, 'a' };
    unsigned long seed = 42;
    char in[32], dst[24];
    int round, i;

    for (round = 0; round < 20000 && !h_cur_failed; round++) {
        size_t n = 0, k;
        char *once, *twice;
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        n = (size_t)(seed >> 59) + 1;
        for (k = 0; k < n; k++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            in[k] = (char)((seed >> 40) & 1 ? pick[(seed >> 41) % sizeof(pick)] : (seed >> 48) & 0xff);
        }
        once = esc(in, n);
        twice = esc(once, strlen(once));
        ASSERT(sk_utf8_valid(once, strlen(once)));
        ASSERT_STREQ(twice, once);
        for (i = 0; once[i]; i++)
            if ((unsigned char)once[i] < 0x20 || once[i] == 0x7f)
                H_FAIL("a control character left at %d of '%s'", i, once);
        ASSERT(strstr(once, "\xc2\x9b") == NULL && strstr(once, "\xe2\x80\xae") == NULL);
        ASSERT(strstr(once, "##[") == NULL);
        ASSERT(strncmp(once + strspn(once, " "), "::", 2) != 0);
        sk_text_escape_to(dst, sizeof(dst), in, n);
        ASSERT(strlen(dst) < sizeof(dst) && sk_utf8_valid(dst, strlen(dst)));
        ASSERT(strncmp(dst, once,
                       strlen(dst) > 3 && strcmp(dst + strlen(dst) - 3, "...") == 0 ? strlen(dst) - 3 : strlen(dst)) ==
               0);
        free(once);
        free(twice);
    }
}

TEST(bounded_escape_cuts_whole_characters)
{
    char dst[16];
    size_t n;

    n = sk_text_escape_to(dst, sizeof(dst), "fifteen bytes!!", 15);
    ASSERT(n == 15);
    ASSERT_STREQ(dst, "fifteen bytes!!");
    n = sk_text_escape_to(dst, sizeof(dst), "sixteen bytes!!!", 16);
    ASSERT_STREQ(dst, "sixteen byte...");
    ASSERT(n == 15);
    /* an escape is never cut: "abcdefgh\x1b" is 12 bytes, with "..." 15; the next one does not fit */
    n = sk_text_escape_to(dst, sizeof(dst), "abcdefgh\x1b\x1b\x1b", 11);
    ASSERT_STREQ(dst, "abcdefgh\\x1b...");
    n = sk_text_escape_to(dst, sizeof(dst), "abcdefghi\x1b\x1b", 11);
    ASSERT_STREQ(dst, "abcdefghi...");
    /* nor a UTF-8 character: 2-byte e-acute */
    n = sk_text_escape_to(dst, sizeof(dst), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 16);
    ASSERT_STREQ(dst, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...");
    ASSERT(sk_utf8_valid(dst, n));
    n = sk_text_escape_to(dst, 4, "long text", 9);
    ASSERT(n <= 3 && strlen(dst) == n);
    n = sk_text_escape_to(dst, 1, "x", 1);
    ASSERT(n == 0 && dst[0] == '\0');
}

TEST(cut_on_character_boundary)
{
    ASSERT(sk_text_cut("abc", 3) == 3);
    ASSERT(sk_text_cut("abc\xe2\x9c", 5) == 3);
    ASSERT(sk_text_cut("abc\xe2\x9c\x93", 6) == 6);
    ASSERT(sk_text_cut("abc\xf0\x9f\x98", 6) == 3);
    ASSERT(sk_text_cut("abc\xc3", 4) == 3);
    ASSERT(sk_text_cut("abc\x80", 4) == 4); /* no lead byte: invalid, not cut short */
    ASSERT(sk_text_cut("", 0) == 0);
}

TEST(json_output_made_safe)
{
    const char *in = "{\"m\":\"a\xc2\x9b[2J b\xe2\x80\xa8 c\xe2\x80\xae ##[add-mask]x \xc3\xa9\"}";
    struct sk_buf b = SK_BUF_INIT;
    struct sk_err err;
    jv before, after;

    sk_buf_adds(&b, in);
    sk_text_json_safe(&b);
    ASSERT_STREQ(b.p, "{\"m\":\"a\\u009b[2J b\\u2028 c\\u202e ##\\u005badd-mask]x \xc3\xa9\"}");
    /* the same value */
    ASSERT_OK(sk_json_parse(in, strlen(in), &before, &err), &err);
    ASSERT_OK(sk_json_parse(b.p, b.len, &after, &err), &err);
    ASSERT(jv_equal(before, after));
    sk_buf_reset(&b);
    sk_buf_adds(&b, "{\"plain\":[1,2]}");
    sk_text_json_safe(&b);
    ASSERT_STREQ(b.p, "{\"plain\":[1,2]}");
    sk_buf_release(&b);
}

/* ---- redaction ---- */

TEST(sensitive_table)
{
    size_t i;

    ASSERT(sk_sensitive_members_n > 20);
    for (i = 1; i < sk_sensitive_members_n; i++)
        if (strcmp(sk_sensitive_members[i - 1], sk_sensitive_members[i]) >= 0)
            H_FAIL("not sorted at %s", sk_sensitive_members[i]);
    ASSERT(sk_redact_sensitive("SecretString", 12));
    ASSERT(sk_redact_sensitive("SecretBinary", 12));
    ASSERT(sk_redact_sensitive("Value", 5));
    ASSERT(sk_redact_sensitive("MasterUserPassword", 18));
    ASSERT(sk_redact_sensitive("SessionToken", 12));
    ASSERT(sk_redact_sensitive("SecretAccessKey", 15));
    ASSERT(sk_redact_sensitive("Token", 5));
    ASSERT(sk_redact_sensitive("authorizationToken", 18));
    ASSERT(sk_redact_sensitive("WebIdentityToken", 16));
    ASSERT(sk_redact_sensitive("NewPassword", 11));
    ASSERT(sk_redact_sensitive("Password", 8));
    ASSERT(sk_redact_sensitive("Values", 5)); /* "Value": n counts */
    ASSERT(!sk_redact_sensitive("Name", 4));
    ASSERT(!sk_redact_sensitive("value", 5)); /* exact, as the protocols are */
    ASSERT(!sk_redact_sensitive("", 0));
    ASSERT(!sk_redact_sensitive(NULL, 3));
}

static void check_body(const char *body, int want_rc, const char *want)
{
    struct sk_buf out = SK_BUF_INIT;
    int rc = sk_redact_body(body, strlen(body), &out);

    if (rc != want_rc)
        H_FAIL("sk_redact_body(%s) = %d, want %d", body, rc, want_rc);
    else if (want && strcmp(out.p, want) != 0)
        H_FAIL("sk_redact_body: got '%s', want '%s'", out.p, want);
    if (rc < 0 && out.len)
        H_FAIL("a refused body appended '%s'", out.p);
    sk_buf_release(&out);
}

TEST(bodies_shown_redacted)
{
    check_body("{\"Name\":\"/db/url\",\"Value\":\"pg://u:pw@h\",\"Type\":\"SecureString\"}", 0,
               "{\"Name\":\"/db/url\",\"Value\":\"<redacted>\",\"Type\":\"SecureString\"}");
    check_body(" {\"a\":[{\"SecretString\":{\"nested\":1}},{\"Password\":[\"x\"]}],\"n\":2}", 0,
               "{\"a\":[{\"SecretString\":\"<redacted>\"},{\"Password\":\"<redacted>\"}],\"n\":2}");
    check_body("[{\"SessionToken\":\"t\"},\"k\"]", 0, "[{\"SessionToken\":\"<redacted>\"},\"k\"]");
    check_body(
        "Action=CreateDBInstance&MasterUserPassword=hunter22&DBName=app&OptionSettings.member.1.Value=v%20x", 0,
        "Action=CreateDBInstance&MasterUserPassword=<redacted>&DBName=app&OptionSettings.member.1.Value=<redacted>");
    check_body("Action=X&Master%55serPassword=p&flag", 0, "Action=X&Master%55serPassword=<redacted>&flag");
    check_body("<?xml version=\"1.0\"?><AssumeRoleResponse><AssumeRoleResult><Credentials>"
               "<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>sak&amp;x</SecretAccessKey>"
               "<SessionToken><![CDATA[tok</en>]]></SessionToken></Credentials></AssumeRoleResult>"
               "</AssumeRoleResponse>",
               0,
               "<?xml version=\"1.0\"?><AssumeRoleResponse><AssumeRoleResult><Credentials>"
               "<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey><redacted></SecretAccessKey>"
               "<SessionToken><redacted></SessionToken></Credentials></AssumeRoleResult>"
               "</AssumeRoleResponse>");
    check_body("<a:R xmlns:a=\"u\"><a:Password>p<b>q</b></a:Password><Value/><Name>n</Name></a:R>", 0,
               "<a:R xmlns:a=\"u\"><a:Password><redacted></a:Password><Value/><Name>n</Name></a:R>");
    check_body("", 0, "");
    check_body("hello world", -1, NULL);                                /* text: not shown */
    check_body("{\"SecretString\":\"cut", -1, NULL);                    /* not JSON */
    check_body("<a><Password>x</a>", -1, NULL);                         /* not XML */
    check_body("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", -1, NULL); /* a DTD */
    check_body("Value=\x01\x02", -1, NULL);
}

/* Every wire form of a registered value is scrubbed. */
TEST(secrets_scrubbed_in_every_form)
{
    static const char secret[] = "p@ss w\"rd<&>\xc3\xa9\bx";
    static const char *const texts[] = {
        "raw p@ss w\"rd<&>\xc3\xa9\bx end",
        "jq {\"m\":\"p@ss w\\\"rd<&>\xc3\xa9\\bx\"}",
        "jsonw {\"m\":\"p@ss w\\\"rd<&>\xc3\xa9\\u0008x\"}",
        "ascii {\"m\":\"p@ss w\\\"rd<&>\\u00e9\\bx\"}",
        "url Value=p%40ss%20w%22rd%3C%26%3E%C3%A9%08x&x=1",
        "form Value=p%40ss+w%22rd%3C%26%3E%C3%A9%08x&x=1",
        "xml <Message>p@ss w&quot;rd&lt;&amp;&gt;\xc3\xa9\bx</Message>",
        "xml3 <Message>p@ss w\"rd&lt;&amp;&gt;\xc3\xa9\bx</Message>",
    };
    struct sk_secrets s;
    struct sk_buf t = SK_BUF_INIT;
    size_t i, n;

    sk_secrets_init(&s);
    sk_secrets_scrub(&s, &t); /* nothing registered, nothing to do */
    sk_secrets_add(&s, secret, sizeof(secret) - 1);
    n = s.n;
    sk_secrets_add(&s, secret, sizeof(secret) - 1);
    ASSERT(s.n == n); /* known already */
    sk_secrets_add(&s, "", 0);
    ASSERT(s.n == n);
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        sk_buf_reset(&t);
        sk_buf_adds(&t, texts[i]);
        sk_secrets_scrub(&s, &t);
        if (!strstr(t.p, "<redacted>") || strstr(t.p, "ss w"))
            H_FAIL("not scrubbed: %s -> %s", texts[i], t.p);
    }
    sk_buf_release(&t);
    sk_secrets_release(&s);
    sk_secrets_scrub(NULL, &t);
}

TEST(scrub_is_one_pass_longest_first)
{
    struct sk_secrets s;
    struct sk_buf t = SK_BUF_INIT;

    sk_secrets_init(&s);
    sk_secrets_add(&s, "d", 1); /* a replacement holds a 'd': it is not scrubbed again */
    sk_buf_adds(&t, "dad");
    sk_secrets_scrub(&s, &t);
    ASSERT_STREQ(t.p, "<redacted>a<redacted>");
    sk_secrets_release(&s);
    sk_secrets_init(&s);
    sk_secrets_add(&s, "abc", 3);
    sk_secrets_add(&s, "abcdef", 6);
    sk_buf_reset(&t);
    sk_buf_adds(&t, "xxabcdefyy abc");
    sk_secrets_scrub(&s, &t);
    ASSERT_STREQ(t.p, "xx<redacted>yy <redacted>");
    sk_buf_release(&t);
    sk_secrets_release(&s);
}

static void scrubbed(const struct sk_secrets *s, const char *text, const char *want)
{
    struct sk_buf t = SK_BUF_INIT;

    sk_buf_adds(&t, text);
    sk_secrets_scrub(s, &t);
    if (strcmp(t.p, want) != 0)
        H_FAIL("scrub '%s': got '%s', want '%s'", text, t.p, want);
    sk_buf_release(&t);
}

TEST(secrets_collected_from_bodies)
{
    struct sk_secrets s;
    const char *json = "{\"Name\":\"n-name\",\"SecretString\":\"s-one\",\"Tags\":[{\"Key\":\"k-key\",\"Value\":"
                       "\"v-one\"}],\"Parameters\":{\"a\":[\"x-one\"]},\"Other\":{\"Password\":\"p-one\"}}";
    const char *form = "Action=AssumeRoleWithWebIdentity&WebIdentityToken=eyJ.a%2Bb.c&RoleArn=arn";

    sk_secrets_init(&s);
    sk_secrets_add_body(&s, json, strlen(json));
    scrubbed(&s, "n-name s-one k-key v-one x-one p-one", "n-name <redacted> k-key <redacted> <redacted> <redacted>");
    sk_secrets_release(&s);

    sk_secrets_init(&s);
    sk_secrets_add_body(&s, form, strlen(form));
    scrubbed(&s, "token eyJ.a+b.c in arn", "token <redacted> in arn");
    scrubbed(&s, "sent eyJ.a%2Bb.c", "sent <redacted>");
    sk_secrets_release(&s);

    sk_secrets_init(&s);
    sk_secrets_add_body(&s, "not a body at all", 17);
    sk_secrets_add_body(&s, "{\"SecretString\":", 16);
    ASSERT(s.n == 0);
    sk_secrets_add_body(NULL, "{}", 2);
    sk_secrets_release(&s);
}

int main(void)
{
    RUN(control_characters_escaped);
    RUN(unicode_kept_c1_and_invalid_escaped);
    RUN(workflow_commands_defused);
    RUN(escaping_is_idempotent);
    RUN(escaping_random_bytes);
    RUN(bounded_escape_cuts_whole_characters);
    RUN(cut_on_character_boundary);
    RUN(json_output_made_safe);
    RUN(sensitive_table);
    RUN(bodies_shown_redacted);
    RUN(secrets_scrubbed_in_every_form);
    RUN(scrub_is_one_pass_longest_first);
    RUN(secrets_collected_from_bodies);
    return DONE();
}
