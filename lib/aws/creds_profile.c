/*
 * creds_profile.c - a profile's credentials: static keys, role_arn with source_profile or
 * credential_source (STS AssumeRole), and the sources a profile names (web identity, SSO,
 * credential_process) (https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-static-credentials.html).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds_int.h"
#include "core/mem.h"

struct visit {
    const char *name;
    const struct visit *prev;
};

static int profile_static(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err)
{
    const char *ak = sk_creds_conf(r, name, "aws_access_key_id"), *sk = sk_creds_conf(r, name, "aws_secret_access_key");
    const char *tok = sk_creds_conf(r, name, "aws_session_token");

    if (!ak && !sk)
        return 0;
    if (!ak || !sk)
        return sk_errf(err, SK_E_CONFIG, "profile '%s' has %s but no %s", name,
                       ak ? "aws_access_key_id" : "aws_secret_access_key",
                       ak ? "aws_secret_access_key" : "aws_access_key_id");
    if (!tok)
        tok = sk_creds_conf(r, name, "aws_security_token");
    out->access_key_id = xstrdup(ak);
    out->secret_access_key = xstrdup(sk);
    out->session_token = xstrdup_or_null(tok);
    out->account_id = xstrdup_or_null(sk_creds_conf(r, name, "aws_account_id"));
    out->source = "profile";
    return 1;
}

static int cycle_error(const struct visit *v, const char *name, struct sk_err *err)
{
    struct sk_buf b = SK_BUF_INIT;
    const struct visit *chain[64];
    size_t n = 0, i;

    for (; v && n < 64; v = v->prev)
        chain[n++] = v;
    for (i = n; i > 0; i--)
        sk_buf_addf(&b, "%s -> ", chain[i - 1]->name);
    sk_buf_adds(&b, name);
    sk_errf(err, SK_E_CONFIG, "source_profile cycle: %.400s", b.p);
    sk_buf_release(&b);
    return -1;
}

static int credential_source(struct resolve *r, const char *profile, const char *src, struct sk_creds *out,
                             struct sk_err *err)
{
    int rc;

    if (strcmp(src, "Environment") == 0)
        rc = sk_creds_src_env(r, out, err);
    else if (strcmp(src, "EcsContainer") == 0)
        rc = sk_creds_src_container(r, out, err);
    else if (strcmp(src, "Ec2InstanceMetadata") == 0)
        rc = sk_creds_src_imds(r, 1, out, err);
    else
        return sk_errf(err, SK_E_CONFIG, "profile '%s': unknown credential_source '%.40s'", profile, src);
    if (rc == 0)
        return sk_errf(err, SK_E_CONFIG, "profile '%s': credential_source %s has no credentials", profile, src);
    return rc;
}

/* AssumeRole for `profile`'s role_arn, signed with base. */
static int assume_role(struct resolve *r, const char *profile, const struct sk_creds *base, struct sk_creds *out,
                       struct sk_err *err)
{
    const char *role = sk_creds_conf(r, profile, "role_arn"), *dur = sk_creds_conf(r, profile, "duration_seconds");
    const char *ext = sk_creds_conf(r, profile, "external_id");
    struct sk_form f;
    struct sk_buf name = SK_BUF_INIT;
    char *end;
    long d = 0;
    int rc;

    if (sk_creds_conf(r, profile, "mfa_serial"))
        return sk_errf(err, SK_E_CONFIG, "profile '%s': mfa_serial is not supported", profile);
    if (dur) {
        errno = 0;
        d = strtol(dur, &end, 10);
        if (errno || *end || d < 900 || d > 43200)
            return sk_errf(err, SK_E_CONFIG, "profile '%s': duration_seconds must be 900..43200", profile);
    }
    sk_creds_session_name(r, sk_creds_conf(r, profile, "role_session_name"), &name);
    sk_form_init(&f);
    sk_form_add(&f, "RoleArn", role);
    sk_form_add(&f, "RoleSessionName", name.p);
    if (dur)
        sk_form_add(&f, "DurationSeconds", dur);
    if (ext)
        sk_form_add(&f, "ExternalId", ext);
    rc = sk_creds_sts_call(r, "AssumeRole", &f, base, "assume-role", out, err);
    if (rc < 0)
        sk_err_prefix(err, "assume role '%.200s' for profile '%s'", role, profile);
    sk_form_release(&f);
    sk_buf_release(&name);
    return rc;
}

/* Credentials of profile `name`. In the selected profile (prev == NULL) role_arn wins over static
 * keys; further down a source_profile chain static keys win (aws-c-auth, botocore). */
static int profile_creds(struct resolve *r, const char *name, const struct visit *prev, struct sk_creds *out,
                         struct sk_err *err)
{
    const struct sk_config *conf = r->p->conf;
    const char *role, *src, *csrc, *wif, *proc;
    struct visit here = { name, prev };
    struct sk_creds base = { 0 };
    const struct visit *v;
    int rc;

    if (!sk_ini_section(&conf->ini, SK_INI_PROFILE, name)) {
        if (!prev) {
            sk_creds_tried(r, "profile '%s'", name);
            return 0;
        }
        return sk_errf(err, SK_E_CONFIG, "profile '%s' (source_profile of '%s') not found", name, prev->name);
    }
    role = sk_creds_conf(r, name, "role_arn");
    /* After role_arn, before static keys (botocore's profile providers, the Java SDK's
     * ProfileCredentialsUtils). */
    if (!role && sk_creds_is_sso_profile(r, name))
        return sk_creds_src_sso(r, name, out, err);
    if (prev || !role) {
        rc = profile_static(r, name, out, err);
        if (rc)
            return rc;
    }
    if (role) {
        src = sk_creds_conf(r, name, "source_profile");
        csrc = sk_creds_conf(r, name, "credential_source");
        wif = sk_creds_web_identity_file(r, name);
        if (src && csrc)
            return sk_errf(err, SK_E_CONFIG, "profile '%s' has both source_profile and credential_source", name);
        if (src) {
            if (strcmp(src, name) == 0) {
                /* Pointing at itself is allowed only to name its own static keys. */
                rc = profile_static(r, name, &base, err);
                if (rc == 0)
                    rc = cycle_error(&here, name, err);
            } else {
                for (v = prev; v; v = v->prev)
                    if (strcmp(v->name, src) == 0)
                        return cycle_error(&here, src, err);
                rc = profile_creds(r, src, &here, &base, err);
            }
        } else if (csrc) {
            rc = credential_source(r, name, csrc, &base, err);
        } else if (wif) {
            return sk_creds_web_identity_profile(r, name, role, wif, out, err);
        } else {
            return sk_errf(err, SK_E_CONFIG,
                           "profile '%s' has role_arn but no source_profile, credential_source or "
                           "web_identity_token_file",
                           name);
        }
        if (rc == 1)
            rc = assume_role(r, name, &base, out, err);
        sk_creds_release(&base);
        return rc;
    }
    if ((proc = sk_creds_conf(r, name, "credential_process")))
        return sk_creds_src_process(r, name, proc, out, err);
    if (prev)
        return sk_errf(err, SK_E_CONFIG, "profile '%s' (source_profile of '%s') has no credentials", name, prev->name);
    if (sk_creds_conf(r, name, "sso_session") || sk_creds_conf(r, name, "sso_start_url"))
        sk_creds_tried(r, "profile '%s' (SSO, but no sso_account_id or sso_role_name)", name);
    else
        sk_creds_tried(r, "profile '%s'", name);
    return 0;
}

int sk_creds_profile(struct resolve *r, const char *name, struct sk_creds *out, struct sk_err *err)
{
    return profile_creds(r, name, NULL, out, err);
}
