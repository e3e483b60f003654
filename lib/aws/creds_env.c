/*
 * creds_env.c - credentials from the environment (AWS_ACCESS_KEY_ID, ...; the SDKs' "environment
 * variables" provider, https://docs.aws.amazon.com/sdkref/latest/guide/environment-variables.html).
 */
#include <stdlib.h>

#include "aws/config.h"
#include "aws/creds_int.h"
#include "core/mem.h"

static const char env_access_key[] = "AWS_ACCESS_KEY_ID";
static const char env_secret_key[] = "AWS_SECRET_ACCESS_KEY";
static const char env_session_token[] = "AWS_SESSION_TOKEN";
static const char env_security_token[] = "AWS_SECURITY_TOKEN";
static const char env_expiration[] = "AWS_CREDENTIAL_EXPIRATION";
static const char env_account_id[] = "AWS_ACCOUNT_ID";

int sk_creds_src_env(struct resolve *r, struct sk_creds *out, struct sk_err *err)
{
    const char *ak = sk_getenv(env_access_key), *sk = sk_getenv(env_secret_key);
    const char *tok = sk_getenv(env_session_token), *exp = sk_getenv(env_expiration);
    time_t t = 0;

    (void)r;
    if (!ak && !sk)
        return 0;
    if (!ak || !sk)
        return sk_errf(err, SK_E_CONFIG, "%s is set but %s is not", ak ? env_access_key : env_secret_key,
                       ak ? env_secret_key : env_access_key);
    if (exp && sk_parse_iso8601(exp, &t))
        return sk_errf(err, SK_E_CONFIG, "invalid %s '%.40s'", env_expiration, exp);
    if (!tok)
        tok = sk_getenv(env_security_token);
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = xstrdup_or_null(tok);
    out->account_id = xstrdup_or_null(sk_getenv(env_account_id));
    out->expiration = t;
    out->source = "env";
    return 1;
}
