/*
 * freescan.c - LD_PRELOAD object: report freed heap blocks that still hold a secret.
 *
 *   SK_FREESCAN_CANARIES="NAME=VALUE<newline>NAME=VALUE..."   the secrets to look for
 *   SK_FREESCAN_REPORT=FILE                                    where hits are appended
 *   LD_PRELOAD=tests/hygiene/freescan.so TOOL ...
 *
 * free() and realloc() are interposed. Before a block is released (free, or a realloc that moves
 * it), its whole usable size (malloc_usable_size) is searched for every canary; each hit appends
 * one line to the report:
 *
 *   hit<TAB>NAME<TAB>DSO<TAB>SYMBOL<TAB>SIZE<TAB>free|realloc
 *
 * DSO and SYMBOL name the code that called free (dladdr on the return address): the tool binary
 * itself means our code released the secret unwiped; a library means that library did. The
 * process's exit writes "exit<TAB>NAME<TAB>PID<TAB>FREES<TAB>HITS" so a run with no hits still proves the
 * scanner was loaded.
 *
 * Build without sanitizers (they bring their own allocator), e.g.
 *   cc -O1 -g -shared -fPIC -o tests/hygiene/freescan.so tests/hygiene/freescan.c -ldl
 * It uses glibc's __libc_free/__libc_realloc, so no dlsym bootstrap, and never allocates.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void __libc_free(void *);
extern void *__libc_realloc(void *, size_t);

#define MAX_CANARIES 64
#define CANARY_SPACE 16384

static char space[CANARY_SPACE];
static const char *names[MAX_CANARIES];
static const char *values[MAX_CANARIES];
static size_t lens[MAX_CANARIES];
static int ncanaries;
static int report_fd = -1;
static int ready;
static unsigned long nfrees, nhits;
static __thread int busy; /* dladdr may free: never scan from inside the scanner */

__attribute__((constructor)) static void freescan_init(void)
{
    const char *env = getenv("SK_FREESCAN_CANARIES"), *path = getenv("SK_FREESCAN_REPORT");
    size_t n;
    char *p, *line, *eq;

    /* Only this process: children (a credential_process shell) are not ours to judge. */
    unsetenv("LD_PRELOAD");
    if (path)
        report_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (env && (n = strlen(env)) < sizeof(space)) {
        memcpy(space, env, n + 1);
        for (p = space; *p && ncanaries < MAX_CANARIES;) {
            line = p;
            p = strchr(p, '\n');
            if (p)
                *p++ = '\0';
            else
                p = line + strlen(line);
            eq = strchr(line, '=');
            if (!eq || !eq[1])
                continue;
            *eq = '\0';
            names[ncanaries] = line;
            values[ncanaries] = eq + 1;
            lens[ncanaries] = strlen(eq + 1);
            ncanaries++;
        }
    }
    ready = 1;
}

/* Append one line with write(2): no stdio, no allocation. */
static void emit(const char *line, size_t n)
{
    if (report_fd >= 0 && write(report_fd, line, n) < 0)
        report_fd = -1;
}

__attribute__((destructor)) static void freescan_fini(void)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "exit\t%s\t%ld\t%lu\t%lu\n", program_invocation_short_name, (long)getpid(),
                     nfrees, nhits);

    if (n > 0 && (size_t)n < sizeof(line))
        emit(line, (size_t)n);
}

/* Which canary (index) does the block hold, or -1; *sizep gets its usable size. */
static int scan(const void *p, size_t *sizep)
{
    size_t size;
    int i;

    if (!p || !ready || !ncanaries)
        return -1;
    *sizep = size = malloc_usable_size((void *)p);
    for (i = 0; i < ncanaries; i++) {
        if (lens[i] <= size && memmem(p, size, values[i], lens[i]))
            return i;
    }
    return -1;
}

static void record(int i, size_t size, void *caller, const char *how)
{
    Dl_info info;
    char line[1024];
    const char *dso = "?", *sym = "?";
    int n;

    nhits++;
    memset(&info, 0, sizeof(info));
    if (dladdr(caller, &info)) {
        if (info.dli_fname && *info.dli_fname)
            dso = info.dli_fname;
        if (info.dli_sname)
            sym = info.dli_sname;
    }
    n = snprintf(line, sizeof(line), "hit\t%s\t%s\t%s\t%zu\t%s\n", names[i], dso, sym, size, how);
    if (n > 0 && (size_t)n < sizeof(line))
        emit(line, (size_t)n);
}

void free(void *p)
{
    size_t size = 0;
    int i;

    if (p && !busy) {
        busy = 1;
        nfrees++;
        if ((i = scan(p, &size)) >= 0)
            record(i, size, __builtin_return_address(0), "free");
        busy = 0;
    }
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    void *q;
    size_t size = 0;
    int i = -1;

    if (p && !busy) {
        busy = 1;
        i = scan(p, &size);
        busy = 0;
    }
    q = __libc_realloc(p, n);
    /* Moved (or freed by realloc(p, 0)): the old block went back to the heap as it was. */
    if (i >= 0 && q != p && !busy) {
        busy = 1;
        nfrees++;
        record(i, size, __builtin_return_address(0), "realloc");
        busy = 0;
    }
    return q;
}
