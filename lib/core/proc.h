/*
 * proc.h - running a program without a shell and capturing what it writes.
 *
 * Generic (no AWS knowledge): the credential_process source (lib/aws/creds_process.c) is one user.
 * Errors name the command by the caller's label `what` (e.g. "credential_process").
 */
#ifndef SK_PROC_H
#define SK_PROC_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Split cmd into a NULL-terminated argv with POSIX shell quoting (as Python's shlex.split): '...'
 * is literal, "..." honours backslash before \ " $ ` and newline, a bare backslash quotes the next
 * character. SK_E_CONFIG "<what> is empty" or "<what>: unbalanced quote or trailing backslash".
 * Free *argv with sk_proc_argv_free. */
int sk_proc_split(const char *cmd, const char *what, char ***argv, struct sk_err *err);
void sk_proc_argv_free(char **argv); /* NULL-safe */

/* Run argv[0] (searched in PATH) with argv and the current environment, stdin inherited; wait for
 * it. Its stdout goes to out (give it a secret buffer when the output is one), the first 4 KiB or
 * so of its stderr to errtext, its wait status to *status. Output over max_out bytes fails with
 * SK_E_CONFIG "<what>: output is larger than N bytes"; a program that cannot be started, or a
 * failed pipe/poll/waitpid, with SK_E_CONFIG naming what. */
int sk_proc_run(char **argv, const char *what, size_t max_out, struct sk_buf *out, struct sk_buf *errtext, int *status,
                struct sk_err *err);

#endif
