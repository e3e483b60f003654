/*
 * mem_test - memory for secrets: sk_secret_alloc's blocks sit on pages of their own marked
 * MADV_DONTDUMP (the "dd" flag of /proc/self/smaps, proc(5)), are wiped when freed and reused
 * wiped; secret sk_bufs live there; sk_mem_no_core_dumps leaves the process not dumpable with
 * RLIMIT_CORE 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "harness.h"
#include "core/mem.h"

/* 1 if the mapping holding p is marked dd in /proc/self/smaps, 0 if not, -1 if p is in none. */
static int dontdump(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[1024];
    uintptr_t a = (uintptr_t)p;
    int in = 0, rc = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            in = lo <= a && a < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            rc = strstr(line, " dd") != NULL;
            break;
        }
    }
    fclose(f);
    return rc;
}

TEST(secret_blocks_are_kept_out_of_dumps)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    char *p = sk_secret_alloc(100), *big = sk_secret_alloc(3 * ps), *r;
    void *plain = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    /* The control: an ordinary page is dumped, so dontdump() can tell them apart. */
    ASSERT(plain != MAP_FAILED);
    if (plain != MAP_FAILED) {
        memset(plain, 1, ps);
        ASSERT(dontdump(plain) == 0);
        munmap(plain, ps);
    }
    memset(p, 'x', 100);
    memset(big, 'y', 3 * ps);
    ASSERT(dontdump(p) == 1 && dontdump(p + 99) == 1);
    ASSERT(dontdump(big) == 1 && dontdump(big + 3 * ps - 1) == 1);
    /* A block starts just after its header, on a page of its own. */
    ASSERT((uintptr_t)p % ps != 0 && (uintptr_t)p % ps <= 64);
    /* realloc keeps the kind and the contents. */
    r = sk_wipe_realloc(p, 2 * ps);
    ASSERT(r != NULL);
    if (r) {
        ASSERT(r[0] == 'x' && r[99] == 'x');
        ASSERT(dontdump(r) == 1 && dontdump(r + 2 * ps - 1) == 1);
    }
    sk_wipe_free(r);
    sk_wipe_free(big);
    sk_wipe_free(NULL);
}

TEST(freed_secret_blocks_are_wiped_and_reused)
{
    char *blocks[40], *again;
    size_t i;
    int ours = 0;

    /* Take every kept page (at most 32) and some new ones, then give all back: the kept ones are
     * now ours, wiped, and the next block is one of them. */
    for (i = 0; i < 40; i++) {
        blocks[i] = sk_secret_alloc(64);
        memset(blocks[i], 'S', 64);
    }
    for (i = 0; i < 40; i++)
        sk_wipe_free(blocks[i]);
    again = sk_secret_alloc(64);
    for (i = 0; i < 40; i++)
        ours |= again == blocks[i];
    ASSERT(ours);
    for (i = 0; i < 64; i++)
        if (again[i] != 0)
            break;
    ASSERT(i == 64);
    ASSERT(dontdump(again) == 1);
    sk_wipe_free(again);
}

TEST(secret_bufs_live_on_undumped_pages)
{
    struct sk_buf b = SK_BUF_INIT, plain = SK_BUF_INIT;
    char *copy;
    size_t len, i;

    sk_buf_init_secret(&b);
    for (i = 0; i < 2000; i++)
        sk_buf_adds(&b, "hunter2-"); /* grows through many blocks, each wiped on the way */
    ASSERT(b.len == 16000);
    ASSERT(dontdump(b.p) == 1 && dontdump(b.p + b.len) == 1);
    sk_buf_adds(&plain, "not secret");
    /* detach hands over a copy free() takes (AddressSanitizer checks the pairing). */
    copy = sk_buf_detach(&b, &len);
    ASSERT(len == 16000 && strncmp(copy, "hunter2-hunter2-", 16) == 0 && copy[len] == '\0');
    ASSERT(b.len == 0 && b.p == sk_buf_empty && b.secret);
    sk_free_secret(copy);
    sk_buf_adds(&b, "again");
    ASSERT(dontdump(b.p) == 1);
    sk_buf_release(&b);
    sk_buf_release(&plain);
}

TEST(no_core_dumps)
{
    pid_t pid = fork();
    int status = 0;

    ASSERT(pid >= 0);
    if (pid == 0) {
        struct rlimit rl;
        int ok;
        sk_mem_no_core_dumps();
        ok = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 && getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 &&
             rl.rlim_max == 0;
        _exit(ok ? 0 : 1);
    }
    if (pid > 0) {
        ASSERT(waitpid(pid, &status, 0) == pid);
        ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

int main(void)
{
    RUN(secret_blocks_are_kept_out_of_dumps);
    RUN(freed_secret_blocks_are_wiped_and_reused);
    RUN(secret_bufs_live_on_undumped_pages);
    RUN(no_core_dumps);
    return DONE();
}
