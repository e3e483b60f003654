/*
 * creds_process.c - credential_process: a profile's command, run without a shell, prints the
 * credentials as JSON (https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html).
 */
#include <string.h>
#include <sys/wait.h>

#include "core/buf.h"
#include "aws/creds_int.h"
#include "core/json.h"
#include "core/proc.h"

#define MAX_PROCESS_OUTPUT (1024 * 1024)

int sk_creds_src_process(struct resolve *r, const char *profile, const char *cmd, struct sk_creds *out,
                         struct sk_err *err)
{
    char **argv = NULL;
    struct sk_buf sout = SK_BUF_INIT, serr = SK_BUF_INIT;
    jv doc = jv_invalid();
    double version;
    int status = 0, rc = -1;

    (void)r;
    sk_buf_init_secret(&sout);
    if (sk_proc_split(cmd, "credential_process", &argv, err) ||
        sk_proc_run(argv, "credential_process", MAX_PROCESS_OUTPUT, &sout, &serr, &status, err))
        goto out;
    if (WIFSIGNALED(status)) {
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s' was killed by signal %d", profile,
                WTERMSIG(status));
        goto out;
    }
    if (WEXITSTATUS(status)) {
        size_t n = strcspn(serr.p, "\r\n");
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s' exited with status %d%s%.*s", profile,
                WEXITSTATUS(status), n ? ": " : "", (int)(n > 200 ? 200 : n), serr.p);
        goto out;
    }
    if (sk_json_parse(sout.p, sout.len, &doc, NULL) || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s': output is not a JSON object", profile);
        goto out;
    }
    if (sk_json_num(doc, "Version", &version) || version != 1) {
        sk_errf(err, SK_E_CONFIG, "credential_process for profile '%s': Version must be 1", profile);
        goto out;
    }
    if (sk_creds_from_json(doc, "SessionToken", "credential_process", out, err))
        goto out;
    out->source = "process";
    rc = 1;
out:
    sk_json_wipe_strings(doc); /* credentials: jv frees without wiping */
    jv_free(doc);
    sk_proc_argv_free(argv);
    sk_buf_release(&sout);
    sk_buf_release(&serr);
    return rc;
}
