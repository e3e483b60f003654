/*
 * creds_webid.c - web identity: AssumeRoleWithWebIdentity with a token file, from
 * AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN or a profile's web_identity_token_file
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html).
 */
#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds_int.h"
#include "core/mem.h"

static const char env_wi_token_file[] = "AWS_WEB_IDENTITY_TOKEN_FILE";
static const char env_role_arn[] = "AWS_ROLE_ARN";
static const char env_role_session[] = "AWS_ROLE_SESSION_NAME";

/* Unsigned AssumeRoleWithWebIdentity; the token file is read on every call (tokens rotate). */
static int web_identity(struct resolve *r, const char *role, const char *token_file, const char *session,
                        struct sk_creds *out, struct sk_err *err)
{
    struct sk_buf tok = SK_BUF_INIT, name = SK_BUF_INIT;
    struct sk_form f;
    int rc = -1;

    sk_form_init(&f);
    sk_buf_init_secret(&tok);
    sk_buf_init_secret(&f.body);
    if (sk_creds_read_token_file(token_file, "web identity token", &tok, err))
        goto out;
    sk_creds_session_name(r, session, &name);
    sk_form_add(&f, "RoleArn", role);
    sk_form_add(&f, "RoleSessionName", name.p);
    sk_form_add(&f, "WebIdentityToken", tok.p);
    rc = sk_creds_sts_call(r, "AssumeRoleWithWebIdentity", &f, NULL, "web-identity", out, err);
    if (rc < 0)
        sk_err_prefix(err, "web identity for role '%.200s'", role);
out:
    sk_form_release(&f);
    sk_buf_release(&tok);
    sk_buf_release(&name);
    return rc;
}

int sk_creds_src_web_identity_env(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const char *file = sk_getenv(env_wi_token_file), *role = sk_getenv(env_role_arn);

    if (!file || !role)
        return 0;
    return web_identity(r, role, file, sk_getenv(env_role_session), out, err);
}

const char *sk_creds_web_identity_file(const struct resolve *r, const char *profile)
{
    const char *wif = sk_getenv(env_wi_token_file);

    return wif ? wif : sk_creds_conf(r, profile, "web_identity_token_file");
}

/* The environment's role and session name win over the profile's (botocore). */
int sk_creds_web_identity_profile(struct resolve *r, const char *profile, const char *role, const char *token_file,
                                  struct sk_creds *out, struct sk_err *err)
{
    const char *arn = sk_getenv(env_role_arn), *sess = sk_getenv(env_role_session);

    return web_identity(r, arn ? arn : role, token_file, sess ? sess : sk_creds_conf(r, profile, "role_session_name"),
                        out, err);
}
