/*
 * argv-watch.c - sample every process's argv and report any that holds a registered secret.
 *
 *   argv-watch [-i MILLISECONDS] SECRETS_FILE
 *
 * SECRETS_FILE has one "NAME<TAB>VALUE" line per secret and may grow while we run: it is re-read
 * whenever its size changes. Every interval (default 20 ms) each /proc/PID/cmdline is read and
 * searched for every value. On SIGTERM or SIGINT it stops and prints, on stdout:
 *
 *   leak<TAB>PID<TAB>COMM<TAB>ARGN<TAB>NAME        one per (process, secret), NAME never the value
 *   argv-watch: S samples, P processes seen, N secrets, L leaks
 *
 * and exits 1 if there was a leak, 0 otherwise (2 on usage errors). Processes are counted by
 * (pid, start time), so a recycled pid counts again.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SECRETS 4096
#define CMDLINE_MAX (1 << 20)
#define SEEN_BUCKETS (1 << 16)

struct secret {
    char *name, *value;
    size_t len;
};

struct seen {
    long pid;
    unsigned long long start;
    struct seen *next;
};

struct leak {
    long pid;
    unsigned long long start;
    int secret;
    struct leak *next;
};

static volatile sig_atomic_t stop;
static struct secret secrets[MAX_SECRETS];
static int nsecrets;
static off_t secrets_size = -1;
static struct seen *seen[SEEN_BUCKETS];
static unsigned long nseen, nsamples;
static struct leak *leaks;
static unsigned long nleaks;
static char cmdline[CMDLINE_MAX];

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Values shorter than this would match by accident; the registry never hands them out. */
#define MIN_SECRET 8

static void load_secrets(const char *path)
{
    struct stat st;
    FILE *f;
    char *line = NULL, *tab;
    size_t cap = 0;
    ssize_t n;
    int i;

    if (stat(path, &st) < 0 || st.st_size == secrets_size)
        return;
    if (!(f = fopen(path, "r")))
        return;
    for (i = 0; i < nsecrets; i++) {
        free(secrets[i].name);
        free(secrets[i].value);
    }
    nsecrets = 0;
    while ((n = getline(&line, &cap, f)) > 0 && nsecrets < MAX_SECRETS) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (!(tab = strchr(line, '\t')) || strlen(tab + 1) < MIN_SECRET)
            continue;
        *tab = '\0';
        secrets[nsecrets].name = strdup(line);
        secrets[nsecrets].value = strdup(tab + 1);
        secrets[nsecrets].len = strlen(tab + 1);
        if (!secrets[nsecrets].name || !secrets[nsecrets].value)
            break;
        nsecrets++;
    }
    free(line);
    fclose(f);
    secrets_size = st.st_size;
}

/* Read a whole small /proc file into buf; returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t cap)
{
    ssize_t n, total = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    while ((size_t)total < cap && (n = read(fd, buf + total, cap - (size_t)total)) > 0)
        total += n;
    close(fd);
    return total;
}

/* Field 22 of /proc/PID/stat: the start time, which tells a recycled pid apart. */
static unsigned long long start_time(long pid)
{
    char path[64], buf[1024], *p;
    ssize_t n;
    int field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((n = read_file(path, buf, sizeof(buf) - 1)) <= 0)
        return 0;
    buf[n] = '\0';
    if (!(p = strrchr(buf, ')')))
        return 0;
    for (field = 2; *p && field < 22; p++) {
        if (*p == ' ')
            field++;
    }
    return strtoull(p, NULL, 10);
}

static void note_process(long pid, unsigned long long start)
{
    unsigned h = (unsigned)(pid * 2654435761u) % SEEN_BUCKETS;
    struct seen *s;

    for (s = seen[h]; s; s = s->next) {
        if (s->pid == pid && s->start == start)
            return;
    }
    if (!(s = malloc(sizeof(*s))))
        return;
    s->pid = pid;
    s->start = start;
    s->next = seen[h];
    seen[h] = s;
    nseen++;
}

static void note_leak(long pid, unsigned long long start, int secret, const char *args, size_t n)
{
    struct leak *l;
    char path[64], comm[64] = "?";
    ssize_t c;
    size_t i, argn = 0;
    const char *hit;

    for (l = leaks; l; l = l->next) {
        if (l->pid == pid && l->start == start && l->secret == secret)
            return;
    }
    if (!(l = malloc(sizeof(*l))))
        return;
    l->pid = pid;
    l->start = start;
    l->secret = secret;
    l->next = leaks;
    leaks = l;
    nleaks++;
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    if ((c = read_file(path, comm, sizeof(comm) - 1)) > 0) {
        comm[c] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
    }
    hit = memmem(args, n, secrets[secret].value, secrets[secret].len);
    for (i = 0; hit && args + i < hit; i++) {
        if (!args[i])
            argn++;
    }
    printf("leak\t%ld\t%s\targv[%zu]\t%s\n", pid, comm, argn, secrets[secret].name);
    fflush(stdout);
}

static void sample(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    char path[64];
    long pid, self = (long)getpid();
    unsigned long long start;
    ssize_t n;
    int i;

    if (!d)
        return;
    nsamples++;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        pid = strtol(e->d_name, NULL, 10);
        if (pid == self)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
        if ((n = read_file(path, cmdline, sizeof(cmdline))) < 0)
            continue;
        start = start_time(pid);
        note_process(pid, start);
        for (i = 0; i < nsecrets; i++) {
            if ((size_t)n >= secrets[i].len && memmem(cmdline, (size_t)n, secrets[i].value, secrets[i].len))
                note_leak(pid, start, i, cmdline, (size_t)n);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    struct timespec ts;
    long ms = 20;
    int opt;

    while ((opt = getopt(argc, argv, "i:")) != -1) {
        if (opt == 'i' && (ms = strtol(optarg, NULL, 10)) > 0)
            continue;
        fprintf(stderr, "usage: argv-watch [-i MILLISECONDS] SECRETS_FILE\n");
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: argv-watch [-i MILLISECONDS] SECRETS_FILE\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (!stop) {
        load_secrets(argv[optind]);
        sample();
        if (!stop)
            nanosleep(&ts, NULL);
    }
    load_secrets(argv[optind]);
    sample(); /* one last look, with every secret registered by now */
    printf("argv-watch: %lu samples, %lu processes seen, %d secrets, %lu leaks\n", nsamples, nseen, nsecrets, nleaks);
    return nleaks ? 1 : 0;
}
