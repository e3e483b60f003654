/*
 * creds_imds.c - EC2 instance metadata credentials, IMDSv2 with the v1 fallback unless disabled
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-credentials.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html).
 */
#include <string.h>
#include <strings.h>

#include "aws/api.h"
#include "core/buf.h"
#include "aws/config.h"
#include "aws/creds_int.h"
#include "core/hdr.h"
#include "aws/http.h"
#include "core/json.h"

static const char env_imds_disabled[] = "AWS_EC2_METADATA_DISABLED";
static const char env_imds_endpoint[] = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
static const char env_imds_mode[] = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
static const char env_imds_v1_disabled[] = "AWS_EC2_METADATA_V1_DISABLED";

static const char imds_v4[] = "http://169.254.169.254";
static const char imds_v6[] = "http://[fd00:ec2::254]";
static const char imds_token_path[] = "/latest/api/token";
static const char imds_creds_path[] = "/latest/meta-data/iam/security-credentials/";
static const char hdr_imds_ttl[] = "x-aws-ec2-metadata-token-ttl-seconds";
static const char hdr_imds_token[] = "x-aws-ec2-metadata-token";

#define IMDS_TIMEOUT_MS 1000

static int imds_token(struct resolve *r, const char *base, int v1_disabled, struct sk_buf *token, int *answered,
                      struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_http_resp resp;
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1;

    *answered = 0;
    sk_http_resp_init(&resp);
    sk_buf_reset(token);
    sk_buf_addf(&url, "%s%s", base, imds_token_path);
    sk_headers_add(&h, hdr_imds_ttl, "21600");
    if (sk_creds_metadata_send(r, "PUT", url.p, &h, IMDS_TIMEOUT_MS, &resp, err))
        goto out; /* nothing answered: the caller treats IMDS as absent */
    *answered = 1;
    if (resp.status == 200 && resp.body.len) {
        sk_buf_add(token, resp.body.p, resp.body.len);
        sk_creds_rtrim(token);
        rc = 0;
    } else if (resp.status == 403 || resp.status == 404 || resp.status == 405) {
        /* IMDSv1 fallback: no token. */
        if (v1_disabled) {
            sk_errf(err, SK_E_CONFIG, "IMDS token request returned HTTP %ld and the IMDSv1 fallback is disabled",
                    resp.status);
            err->http_status = resp.status;
            goto out;
        }
        rc = 0;
    } else {
        sk_errf(err, SK_E_AWS, "IMDS token request returned HTTP %ld", resp.status);
        err->http_status = resp.status;
    }
out:
    sk_headers_release(&h);
    sk_http_resp_release(&resp);
    sk_buf_release(&url);
    return rc;
}

/* GET base+path with the token (if any); a 401 means the token expired: fetch a new one once. */
static int imds_get(struct resolve *r, const char *base, int v1_disabled, struct sk_buf *token, const char *path,
                    struct sk_http_resp *resp, struct sk_err *err)
{
    struct sk_headers h = SK_HEADERS_INIT;
    struct sk_buf url = SK_BUF_INIT;
    int rc = -1, attempt, answered;

    sk_buf_addf(&url, "%s%s", base, path);
    for (attempt = 0; attempt < 2; attempt++) {
        sk_headers_release(&h);
        if (token->len)
            sk_headers_add(&h, hdr_imds_token, token->p);
        if (sk_creds_metadata_send(r, "GET", url.p, &h, IMDS_TIMEOUT_MS, resp, err)) {
            sk_err_prefix(err, "IMDS");
            goto out;
        }
        if (resp->status != 401 || attempt)
            break;
        if (imds_token(r, base, v1_disabled, token, &answered, err))
            goto out;
    }
    rc = 0;
out:
    sk_headers_release(&h);
    sk_buf_release(&url);
    return rc;
}

static int valid_role_name(const char *s, size_t n)
{
    size_t i;

    if (!n || n > 128)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              strchr("+=,.@_-", s[i])))
            return 0;
    return 1;
}

/* The endpoint without a trailing '/': the environment's, the config's, else the default of the
 * endpoint mode (IPv4 unless IPv6). */
static void imds_endpoint(struct resolve *r, struct sk_buf *out)
{
    const char *base = sk_getenv(env_imds_endpoint), *mode = sk_getenv(env_imds_mode);

    if (!base)
        base = sk_creds_conf(r, NULL, "ec2_metadata_service_endpoint");
    if (!mode)
        mode = sk_creds_conf(r, NULL, "ec2_metadata_service_endpoint_mode");
    if (!base)
        base = mode && strcasecmp(mode, "IPv6") == 0 ? imds_v6 : imds_v4;
    sk_buf_adds(out, base);
    while (out->len && out->p[out->len - 1] == '/')
        sk_buf_truncate(out, out->len - 1);
}

/* The path of the instance role's credentials into path: 1; no role or refused (when not
 * required): 0, noted as tried; -1 on errors. */
static int imds_role_path(struct resolve *r, const char *base, int v1_disabled, int required, struct sk_buf *token,
                          struct sk_http_resp *resp, struct sk_buf *path, struct sk_err *err)
{
    size_t n;

    if (imds_get(r, base, v1_disabled, token, imds_creds_path, resp, err))
        return -1;
    if (resp->status >= 400 && resp->status < 500 && !required) {
        /* 404: no role attached; 403: metadata access restricted. Either way: no credentials here. */
        sk_creds_tried(r, resp->status == 404 ? "imds (no instance role)" : "imds (refused)");
        return 0;
    }
    if (resp->status != 200) {
        sk_errf(err, SK_E_AWS, "IMDS: role name request returned HTTP %ld", resp->status);
        err->http_status = resp->status;
        return -1;
    }
    n = strcspn(resp->body.p, "\r\n");
    if (!valid_role_name(resp->body.p, n))
        return sk_errf(err, SK_E_PARSE, "IMDS: invalid instance role name");
    sk_buf_addf(path, "%s%.*s", imds_creds_path, (int)n, resp->body.p);
    return 1;
}

/* The credentials document at path. */
static int imds_creds(struct resolve *r, const char *base, int v1_disabled, struct sk_buf *token, const char *path,
                      struct sk_http_resp *resp, struct sk_creds *out, struct sk_err *err)
{
    jv doc = jv_invalid();
    const char *code;
    int rc = -1;

    if (imds_get(r, base, v1_disabled, token, path, resp, err))
        goto out;
    if (resp->status != 200) {
        sk_errf(err, SK_E_AWS, "IMDS: credentials request returned HTTP %ld", resp->status);
        err->http_status = resp->status;
        goto out;
    }
    if (sk_json_parse(resp->body.p, resp->body.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "IMDS: credentials response is not a JSON object");
        goto out;
    }
    code = sk_json_str(doc, "Code");
    if (code && strcmp(code, "Success") != 0) {
        sk_errf(err, SK_E_AWS, "IMDS: credentials response has Code '%.60s'", code);
        goto out;
    }
    if (sk_creds_from_json(doc, "Token", "IMDS", out, err))
        goto out;
    out->source = "imds";
    rc = 1;
out:
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    return rc;
}

int sk_creds_src_imds(struct resolve *r, int required, struct sk_creds *out, struct sk_err *err)
{
    const char *v1 = sk_getenv(env_imds_v1_disabled);
    struct sk_buf token = SK_BUF_INIT, base = SK_BUF_INIT, path = SK_BUF_INIT;
    struct sk_http_resp resp;
    int rc = -1, answered = 0, v1_disabled;

    if (!required && sk_truthy(sk_getenv(env_imds_disabled))) {
        sk_creds_tried(r, "imds (disabled)");
        return 0;
    }
    if (!r->p->t || !r->p->t->http) {
        if (!required) {
            sk_creds_tried(r, "imds (no transport)");
            return 0;
        }
        return sk_errf(err, SK_E_INTERNAL, "IMDS: no HTTP transport");
    }
    imds_endpoint(r, &base);
    v1_disabled = sk_truthy(v1 ? v1 : sk_creds_conf(r, NULL, "ec2_metadata_v1_disabled"));
    sk_http_resp_init(&resp);
    sk_buf_init_secret(&token);
    if (imds_token(r, base.p, v1_disabled, &token, &answered, err)) {
        if (!answered && !required) {
            /* Not on EC2 (or IMDS unreachable): short-circuit instead of failing. */
            sk_creds_tried(r, "imds (no response)");
            rc = 0;
        } else {
            sk_err_prefix(err, "instance metadata credentials");
        }
        goto out;
    }
    rc = imds_role_path(r, base.p, v1_disabled, required, &token, &resp, &path, err);
    if (rc == 1)
        rc = imds_creds(r, base.p, v1_disabled, &token, path.p, &resp, out, err);
out:
    sk_http_resp_release(&resp);
    sk_buf_release(&token);
    sk_buf_release(&base);
    sk_buf_release(&path);
    return rc;
}
