/*
 * ecr-push - push a local image (OCI layout, oci-archive, docker-archive) to ECR, no daemon.
 *
 * Order of work, so that bad input never leaves a tag pointing at a half-pushed image:
 *   1. read and check the source (image.c): manifests, configs, sizes, media types;
 *   2. authenticate: the ECR token (cached) only for the account's ECR registry; another registry gets
 *      the credentials the user gave for it (--registry-auth, Docker's config.json) or none;
 *      optionally create the repository;
 *   3. push blobs in parallel: HEAD, else POST + one streaming PATCH + PUT ?digest=, hashing every
 *      byte on the way and committing only if it matches its digest (or diff_id);
 *   4. only when every blob is in: child manifests by digest, then each tag (HEAD first, so an
 *      identical tag in an immutable repository is not rewritten).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <libdeflate.h>

#include "core/cache.h"
#include "aws/client.h"
#include "aws/config.h"
#include "svc/ecr.h"
#include "oci/image.h"
#include "core/json.h"
#include "oci/layer_cache.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "oci/ref.h"
#include "oci/registry.h"
#include "aws/retry.h"
#include "tool.h"

static const char usage_text[] =
    "usage: ecr-push [--platform OS/ARCH[/VARIANT]] [--jobs N] [--compress gzip|none] [--compress-level N]\n"
    "                [--create-repo [--immutable]] [--digest-file FILE] [--progress auto|plain|none]\n"
    "                [--registry-auth FILE] [OPTIONS] SOURCE DEST...\n";

static const char help_text[] =
    "\n"
    "Push the image in SOURCE to every DEST, without a Docker daemon. Prints REGISTRY/REPO@DIGEST per DEST.\n"
    "\n"
    "  SOURCE                  oci:DIR[:REF], oci-archive:PATH[:REF], docker-archive:PATH[:REF], or a path\n"
    "  DEST                    [REGISTRY/]REPO[:TAG]; without REGISTRY, the account's ECR registry\n"
    "  --platform P            from a multi-platform index push only this image (default: all)\n"
    "  --jobs N                parallel blob uploads, 1..32 (default 4)\n"
    "  --compress gzip|none    compress docker-archive layers (default gzip)\n"
    "  --compress-level N      gzip level 1..9 (default 1: fast)\n"
    "  --create-repo           create a missing ECR repository (scan on push)\n"
    "  --immutable             with --create-repo: immutable tags\n"
    "  --digest-file FILE      write the pushed manifest digest to FILE\n"
    "  --progress MODE         auto, plain or none (default auto)\n"
    "  --registry-auth FILE    USER:PASSWORD for the REGISTRY of DEST (not ECR) from FILE, - for stdin;\n"
    "                          otherwise Docker's config.json; the ECR token goes only to ECR\n"
    "\n";

#define MAX_DESTS 64
/* Attempts per request kind, for failures that may pass (429, 5xx, resets, timeouts). The waits
 * between them are the standard retry mode's (lib/aws/retry.h: full-jitter backoff, the retry quota, at
 * least the registry's Retry-After). */
#define PING_ATTEMPTS 3
#define BLOB_ATTEMPTS 3
#define MANIFEST_ATTEMPTS 5
/* ECR_PUSH_STALL_TIMEOUT: how long a registry request may make no progress (default 60 s). */
static const char stall_env[] = "ECR_PUSH_STALL_TIMEOUT";
#define READ_CHUNK (256 * 1024)
/* docker-archive layers are gzipped as a series of gzip members of this much input each (RFC 1952
 * allows members to follow one another; gunzip, Go, pigz and zlib's gzread all read them). Each member
 * is made by libdeflate, several times faster than zlib, in bounded memory. */
#define GZIP_CHUNK (128 * 1024)

enum {
    OPT_PLATFORM = OPT_TOOL_BASE,
    OPT_JOBS,
    OPT_COMPRESS,
    OPT_COMPRESS_LEVEL,
    OPT_CREATE_REPO,
    OPT_IMMUTABLE,
    OPT_DIGEST_FILE,
    OPT_PROGRESS,
    OPT_REGISTRY_AUTH
};

struct dest {
    char *host; /* NULL: the account's registry (proxyEndpoint) */
    char *repo;
    char *tag;
};

struct opts {
    struct common_opts c;
    const char *platform, *digest_file, *source, *registry_auth;
    long jobs, level;
    int compress, create_repo, immutable, progress; /* progress: 0 none, 1 plain lines, 2 a bar */
    struct dest dests[MAX_DESTS];
    int ndests;
};

/* ---- arguments ----------------------------------------------------------------------------- */

/* DEST: a reference by tag (lib/oci/ref.h); the tag defaults to "latest". */
static void parse_dest(const char *arg, struct dest *d)
{
    struct sk_ref ref;
    struct sk_err err = { 0 };

    sk_ref_split(arg, &ref);
    if (ref.digest) {
        sk_ref_release(&ref);
        tool_usage("DEST '%s': push by tag, not by digest", arg);
    }
    if (sk_ref_check(&ref, &err) < 0) {
        sk_ref_release(&ref);
        tool_usage("DEST '%s': %s", arg, err.msg);
    }
    d->host = ref.registry;
    d->repo = ref.repository;
    d->tag = ref.tag ? ref.tag : xstrdup(SK_REF_DEFAULT_TAG);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "compress", required_argument, NULL, OPT_COMPRESS },
        { "compress-level", required_argument, NULL, OPT_COMPRESS_LEVEL },
        { "create-repo", no_argument, NULL, OPT_CREATE_REPO },
        { "digest-file", required_argument, NULL, OPT_DIGEST_FILE },
        { "immutable", no_argument, NULL, OPT_IMMUTABLE },
        { "jobs", required_argument, NULL, OPT_JOBS },
        { "platform", required_argument, NULL, OPT_PLATFORM },
        { "progress", required_argument, NULL, OPT_PROGRESS },
        { "registry-auth", required_argument, NULL, OPT_REGISTRY_AUTH },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    const char *progress = "auto";
    int opt, i;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    o->jobs = 4;
    o->level = 1; /* gzip -1, as crane and moby#48106: pushes are compression-bound, not size-bound */
    o->compress = 1;
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS, longopts);
    while ((opt = getopt_long(argc, argv, ":" COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        switch (opt) {
        case OPT_COMPRESS:
            if (strcmp(optarg, "gzip") == 0)
                o->compress = 1;
            else if (strcmp(optarg, "none") == 0)
                o->compress = 0;
            else
                tool_usage("--compress must be gzip or none, not '%s'", optarg);
            break;
        case OPT_COMPRESS_LEVEL:
            if (tool_parse_long(optarg, 1, 9, &o->level) < 0)
                tool_usage("--compress-level must be 1..9, not '%s'", optarg);
            break;
        case OPT_CREATE_REPO: o->create_repo = 1; break;
        case OPT_DIGEST_FILE: o->digest_file = optarg; break;
        case OPT_IMMUTABLE: o->immutable = 1; break;
        case OPT_JOBS:
            if (tool_parse_long(optarg, 1, 32, &o->jobs) < 0)
                tool_usage("--jobs must be 1..32, not '%s'", optarg);
            break;
        case OPT_PLATFORM:
            if (!strchr(optarg, '/') || optarg[0] == '/' || optarg[strlen(optarg) - 1] == '/')
                tool_usage("--platform must look like linux/amd64, not '%s'", optarg);
            o->platform = optarg;
            break;
        case OPT_PROGRESS:
            if (strcmp(optarg, "auto") != 0 && strcmp(optarg, "plain") != 0 && strcmp(optarg, "none") != 0)
                tool_usage("--progress must be auto, plain or none, not '%s'", optarg);
            progress = optarg;
            break;
        case OPT_REGISTRY_AUTH: o->registry_auth = optarg; break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (o->immutable && !o->create_repo)
        tool_usage("--immutable goes with --create-repo");
    if (argc - optind < 2)
        tool_usage(argc - optind < 1 ? "missing SOURCE and DEST" : "missing DEST");
    if (argc - optind - 1 > MAX_DESTS)
        tool_usage("at most %d DESTs", MAX_DESTS);
    o->source = argv[optind++];
    for (i = optind; i < argc; i++)
        parse_dest(argv[i], &o->dests[o->ndests++]);
    if (o->registry_auth && !o->dests[0].host)
        tool_usage(
            "--registry-auth is for a DEST that names its REGISTRY (the account's ECR registry takes the ECR token)");
    if (o->registry_auth && o->create_repo)
        tool_usage("--create-repo creates ECR repositories with the ECR token, not with --registry-auth");
    /* A bar for people at a terminal; plain lines for logs and CI. Neither with -q. */
    if (o->c.quiet || strcmp(progress, "none") == 0) {
        o->progress = 0;
    } else if (strcmp(progress, "plain") == 0 || o->c.debug || !isatty(2)) {
        o->progress = 1;
    } else {
        const char *term = getenv("TERM");
        o->progress = term && strcmp(term, "dumb") != 0 ? 2 : 1;
    }
}

/* ---- progress (stderr; serialised across worker threads) ------------------------------------- */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* The bar: totals of the current repository's blobs, updated by the workers (under out_lock). */
static struct {
    int on;
    uint64_t total, done;
    size_t blobs, blobs_done;
    struct timespec start, last;
    int drawn;
} bar;

static double since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Redraw at most ten times a second; force for the last frame. Caller holds out_lock. */
static void bar_draw(int force)
{
    char line[160];
    int width = 24, filled, i;
    double secs, rate;

    if (!bar.on || (!force && since(&bar.last) < 0.1))
        return;
    clock_gettime(CLOCK_MONOTONIC, &bar.last);
    filled = bar.total ? (int)((double)width * (double)bar.done / (double)bar.total) : 0;
    if (filled > width)
        filled = width;
    secs = since(&bar.start);
    rate = secs > 0 ? (double)bar.done / secs / (1024.0 * 1024.0) : 0;
    for (i = 0; i < width; i++)
        line[i] = i < filled ? '#' : '.';
    line[width] = '\0';
    fprintf(stderr, "\r\033[K%s: [%s] %zu/%zu blobs %.1f/%.1f MiB %.1f MiB/s", progname, line, bar.blobs_done,
            bar.blobs, (double)bar.done / (1024.0 * 1024.0), (double)bar.total / (1024.0 * 1024.0), rate);
    fflush(stderr);
    bar.drawn = 1;
}

static void bar_add(uint64_t bytes, int blob_done)
{
    if (!bar.on)
        return;
    pthread_mutex_lock(&out_lock);
    bar.done += bytes;
    bar.blobs_done += blob_done ? 1 : 0;
    bar_draw(blob_done);
    pthread_mutex_unlock(&out_lock);
}

static void bar_end(void)
{
    if (bar.on && bar.drawn) {
        pthread_mutex_lock(&out_lock);
        bar_draw(1);
        fputc('\n', stderr);
        bar.drawn = 0;
        pthread_mutex_unlock(&out_lock);
    }
    bar.on = 0;
}

/* One line on stderr from any thread, around the bar. */
static void say(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void say(const char *fmt, va_list ap)
{
    pthread_mutex_lock(&out_lock);
    if (bar.on && bar.drawn)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "%s: ", progname);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    if (bar.on && bar.drawn)
        bar_draw(1);
    pthread_mutex_unlock(&out_lock);
}

/* A progress line (not with -q or --progress none). */
static void note(const struct opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->progress)
        return;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

/* A -v line (not with -q), from any thread. */
static void vnote(const struct opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vnote(const struct opts *o, const char *fmt, ...)
{
    va_list ap;

    if (!o->c.verbose || o->c.quiet)
        return;
    va_start(ap, fmt);
    say(fmt, ap);
    va_end(ap);
}

static void human(uint64_t n, char *out, size_t sz)
{
    if (n >= 1024ull * 1024 * 1024)
        snprintf(out, sz, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
    else if (n >= 1024 * 1024)
        snprintf(out, sz, "%.1f MiB", (double)n / (1024.0 * 1024));
    else if (n >= 1024)
        snprintf(out, sz, "%.1f KiB", (double)n / 1024.0);
    else
        snprintf(out, sz, "%llu B", (unsigned long long)n);
}

static const char *short_digest(const char *d)
{
    return strncmp(d, "sha256:", 7) == 0 ? d + 7 : d;
}

/* ---- reading a blob: hashing every byte, compressing when asked ----------------------------- */

struct reader {
    const struct sk_blob *b;
    int fd;
    uint64_t pos, end;
    int gzip;
    struct libdeflate_compressor *deflater;
    int level;
    unsigned char *in, *out; /* gzip: one chunk of input, its compressed member */
    size_t out_len, out_pos;
    EVP_MD_CTX *out_md; /* sha256 of the bytes sent: the blob digest */
    EVP_MD_CTX *in_md;  /* gzip: sha256 of the uncompressed bytes: the diff_id */
    uint64_t sent;
    char digest[SK_DIGEST_MAX];
    struct sk_err err;
    int failed;
};

static void md_hex(EVP_MD_CTX *md, char out[SK_DIGEST_MAX])
{
    unsigned char h[32];
    unsigned int len = 0;
    static const char hex[] = "0123456789abcdef";
    int i;

    EVP_DigestFinal_ex(md, h, &len);
    memcpy(out, "sha256:", 7);
    for (i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[h[i] >> 4];
        out[8 + 2 * i] = hex[h[i] & 15];
    }
    out[71] = '\0';
}

static void reader_close(struct reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (r->deflater)
        libdeflate_free_compressor(r->deflater);
    r->deflater = NULL;
    EVP_MD_CTX_free(r->out_md);
    EVP_MD_CTX_free(r->in_md);
    r->out_md = r->in_md = NULL;
    free(r->in);
    free(r->out);
    r->in = r->out = NULL;
}

static int reader_open(struct reader *r, const struct sk_image *img, const struct sk_blob *b, int level,
                       struct sk_err *err)
{
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    r->b = b;
    r->level = level;
    r->out_md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(r->out_md, EVP_sha256(), NULL);
    if (b->kind == SK_BLOB_MEMORY)
        return 0;
    r->fd = sk_image_blob_open(img, b, err); /* in an OCI layout: never through a link */
    if (r->fd < 0)
        return -1;
    r->pos = b->offset;
    r->end = b->offset + (b->kind == SK_BLOB_GZIP ? b->src_size : b->size);
    if (b->kind == SK_BLOB_GZIP) {
        r->gzip = 1;
        r->in_md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(r->in_md, EVP_sha256(), NULL);
        /* libdeflate writes no name and no time in the header: the output is reproducible. */
        r->deflater = libdeflate_alloc_compressor(level);
        if (!r->deflater)
            return sk_errf(err, SK_E_INTERNAL, "cannot set up gzip level %d", level);
        r->in = xmalloc(GZIP_CHUNK);
        r->out = xmalloc(libdeflate_gzip_compress_bound(r->deflater, GZIP_CHUNK));
    }
    return 0;
}

static long reader_fail(struct reader *r, const char *what)
{
    sk_errf(&r->err, SK_E_USAGE, "%s %s: '%s' %s", r->gzip ? "layer" : "blob", r->gzip ? r->b->diff_id : r->b->digest,
            r->b->path, what);
    r->failed = 1;
    return -1;
}

static long reader_read(void *ctx, char *buf, size_t n)
{
    struct reader *r = ctx;

    if (r->failed)
        return -1;
    if (r->b->kind == SK_BLOB_MEMORY) {
        size_t left = (size_t)(r->b->size - r->sent), k = n < left ? n : left;
        memcpy(buf, r->b->data + r->sent, k);
        EVP_DigestUpdate(r->out_md, buf, k);
        r->sent += k;
        return (long)k;
    }
    if (!r->gzip) {
        uint64_t left = r->end - r->pos;
        size_t want = left < n ? (size_t)left : n;
        ssize_t got;
        if (!want)
            return 0;
        got = pread(r->fd, buf, want, (off_t)r->pos);
        if (got <= 0)
            return reader_fail(r, "ended early (truncated?)");
        EVP_DigestUpdate(r->out_md, buf, (size_t)got);
        r->pos += (uint64_t)got;
        r->sent += (uint64_t)got;
        bar_add((uint64_t)got, 0);
        return (long)got;
    }
    /* gzip: hand out the current member; when it is gone, compress the next chunk of input. */
    while (r->out_pos == r->out_len) {
        uint64_t left = r->end - r->pos;
        ssize_t got;
        if (!left)
            return 0;
        got = pread(r->fd, r->in, left < GZIP_CHUNK ? (size_t)left : GZIP_CHUNK, (off_t)r->pos);
        if (got <= 0)
            return reader_fail(r, "ended early (truncated?)");
        EVP_DigestUpdate(r->in_md, r->in, (size_t)got);
        r->pos += (uint64_t)got;
        bar_add((uint64_t)got, 0);
        r->out_len = libdeflate_gzip_compress(r->deflater, r->in, (size_t)got, r->out,
                                              libdeflate_gzip_compress_bound(r->deflater, GZIP_CHUNK));
        r->out_pos = 0;
        if (!r->out_len)
            return reader_fail(r, "could not be compressed");
    }
    {
        size_t k = r->out_len - r->out_pos < n ? r->out_len - r->out_pos : n;
        memcpy(buf, r->out + r->out_pos, k);
        r->out_pos += k;
        EVP_DigestUpdate(r->out_md, buf, k);
        r->sent += k;
        return (long)k;
    }
}

/* Called after the body went out and before the registry commits it. */
static int reader_finish(void *ctx, char digest[SK_DIGEST_MAX], struct sk_err *err)
{
    struct reader *r = ctx;
    char got[SK_DIGEST_MAX];

    if (r->failed) {
        *err = r->err;
        return -1;
    }
    md_hex(r->out_md, got);
    if (r->gzip) {
        char in[SK_DIGEST_MAX];
        md_hex(r->in_md, in);
        if (r->b->diff_id[0] && strcmp(in, r->b->diff_id) != 0)
            return sk_errf(err, SK_E_USAGE, "layer %s in '%s': content does not match its diff_id (it is %s)",
                           r->b->diff_id, r->b->path, in);
    } else if (strcmp(got, r->b->digest) != 0 || r->sent != r->b->size) {
        return sk_errf(err, SK_E_USAGE, "blob %s in '%s': content does not match its digest (it is %s, %llu bytes)",
                       r->b->digest, r->b->kind == SK_BLOB_MEMORY ? "(config)" : r->b->path, got,
                       (unsigned long long)r->sent);
    }
    memcpy(r->digest, got, sizeof(got));
    memcpy(digest, got, sizeof(got));
    return 0;
}

/* ---- pushing blobs, in parallel ---------------------------------------------------------------- */

struct push {
    const struct opts *o;
    struct sk_image *img;
    const char *host, *repo, *token, *ca_bundle;
    const struct sk_layer_cache *lc; /* docker-archive layers: diff_id -> compressed digest */
    int debug;
    long timeout_s;              /* sk_registry.timeout_s */
    struct sk_retry *retry;      /* the run's: each worker gets its own part (sk_retry_split) */
    struct sk_retry retries[32]; /* workers[k] */
    size_t nworkers;
    pthread_mutex_t lock;
    size_t next;
    int failed;
    struct sk_err err;
    size_t uploaded, existing;
    uint64_t bytes;
};

static void trace_stderr(void *ctx, const char *line)
{
    (void)ctx;
    pthread_mutex_lock(&out_lock);
    fprintf(stderr, "%s: debug: %s\n", progname, line);
    pthread_mutex_unlock(&out_lock);
}

/* The least wait the registry asked for (Retry-After on its last 429 or 503), in ms. */
static long registry_asked_ms(const struct sk_registry *reg)
{
    return reg->retry_after_s * 1000;
}

/* A failure that is final: say what was being done and, when it was retried, how often. */
/* fmt NULL: no context to add. */
static int gave_up(struct sk_err *err, int attempts, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int gave_up(struct sk_err *err, int attempts, const char *fmt, ...)
{
    char what[200];
    size_t len;
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        sk_err_prefix(err, "%s", what);
    }
    len = strlen(err->msg);
    if (attempts > 1 && len < sizeof(err->msg))
        snprintf(err->msg + len, sizeof(err->msg) - len, " (gave up after %d attempts)", attempts);
    return -1;
}

/* Record a layer's compressed digest; a cache that cannot be written is only slower (-v says why). */
static void cache_put(struct push *p, const char *diff_id, const char *digest, uint64_t size)
{
    struct sk_err cerr;

    sk_err_clear(&cerr);
    if (sk_layer_cache_put(p->lc, diff_id, digest, size, &cerr) < 0)
        vnote(p->o, "layer cache: %s", cerr.msg);
}

/* One blob's upload across its attempts (sk_retry_run). */
struct blob_job {
    struct push *p;
    struct sk_registry *reg;
    size_t i;
    int from_cache;
};

static const char *blob_name(const struct sk_blob *b)
{
    return short_digest(b->digest[0] ? b->digest : b->diff_id);
}

static enum sk_attempt blob_attempt(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct blob_job *j = ctx;
    struct push *p = j->p;
    struct sk_blob *b = &p->img->blobs[j->i];
    char size_s[32];
    struct reader r;
    struct sk_blob_stream s;
    int exists = 0, already = 0, rc;

    (void)n;
    if (b->digest[0]) {
        if (sk_registry_blob_exists(j->reg, p->repo, b->digest, &exists, err) < 0)
            goto failed;
        if (exists) {
            if (b->kind == SK_BLOB_GZIP && !j->from_cache) /* e.g. committed by an attempt whose answer was lost */
                cache_put(p, b->diff_id, b->digest, b->size);
            human(b->size, size_s, sizeof(size_s));
            note(p->o, "%s: %.12s %s exists", p->repo, short_digest(b->digest), size_s);
            pthread_mutex_lock(&p->lock);
            p->existing++;
            pthread_mutex_unlock(&p->lock);
            bar_add(b->kind == SK_BLOB_GZIP ? b->src_size : b->size, 1);
            return SK_ATTEMPT_DONE;
        }
    }
    if (reader_open(&r, p->img, b, (int)p->o->level, err) < 0) {
        reader_close(&r);
        return SK_ATTEMPT_FINAL;
    }
    s.read = reader_read;
    s.finish = reader_finish;
    s.ctx = &r;
    s.len = b->kind == SK_BLOB_GZIP ? -1 : (long long)b->size;
    rc = sk_registry_blob_upload(j->reg, p->repo, &s, &already, err);
    if (rc < 0 && r.failed) /* our own read failed: report that, not the transport's view */
        *err = r.err;
    if (rc < 0 && b->kind == SK_BLOB_GZIP && !b->digest[0] && r.digest[0]) {
        /* The layer was compressed and sent in full, and its commit failed: the commit may have
         * happened all the same (the answer was lost). Compression is reproducible, so the
         * retry can HEAD that digest first instead of sending the layer again. */
        pthread_mutex_lock(&p->lock);
        sk_image_set_blob(p->img, j->i, r.digest, r.sent);
        pthread_mutex_unlock(&p->lock);
    }
    if (rc == 0) {
        uint64_t size = b->kind == SK_BLOB_GZIP ? r.sent : b->size;
        if (b->kind == SK_BLOB_GZIP && !already) {
            pthread_mutex_lock(&p->lock);
            sk_image_set_blob(p->img, j->i, r.digest, size);
            pthread_mutex_unlock(&p->lock);
            cache_put(p, b->diff_id, r.digest, size);
        }
        human(size, size_s, sizeof(size_s));
        note(p->o, "%s: %.12s %s %s", p->repo, short_digest(b->digest[0] ? b->digest : r.digest), size_s,
             already ? "exists" : "uploaded");
        pthread_mutex_lock(&p->lock);
        if (already) {
            p->existing++;
        } else {
            p->uploaded++;
            p->bytes += size;
        }
        pthread_mutex_unlock(&p->lock);
        bar_add(0, 1);
    }
    reader_close(&r);
    if (rc == 0)
        return SK_ATTEMPT_DONE;
failed:
    /* Bad content never gets better; other failures get a fresh session after a pause. */
    if (err->kind == SK_E_USAGE)
        return SK_ATTEMPT_FINAL;
    *asked = registry_asked_ms(j->reg);
    return SK_ATTEMPT_FAILED;
}

static void blob_waiting(void *ctx, int n, int max, long ms, const struct sk_err *err)
{
    struct blob_job *j = ctx;

    (void)n;
    (void)max;
    note(j->p->o, "%s: %.12s: %s; retrying in %ld ms", j->p->repo, blob_name(&j->p->img->blobs[j->i]), err->msg, ms);
}

static int push_blob(struct push *p, struct sk_registry *reg, struct sk_retry *retry, size_t i, struct sk_err *err)
{
    struct sk_blob *b = &p->img->blobs[i];
    struct blob_job j = { p, reg, i, 0 };
    struct sk_retry_job job = { blob_attempt, blob_waiting, &j, BLOB_ATTEMPTS, 0, 0 };

    /* A docker-archive layer seen before: its compressed digest is in the cache, no recompression.
     * Only an entry with our MAC counts (sk_layer_cache_get): one that anybody or anything else wrote
     * is ignored, said with -v, and rewritten once the layer is compressed again. */
    if (b->kind == SK_BLOB_GZIP && !b->digest[0]) {
        char d[SK_DIGEST_MAX];
        uint64_t sz;
        struct sk_err cerr;
        int got;
        sk_err_clear(&cerr);
        got = sk_layer_cache_get(p->lc, b->diff_id, d, &sz, &cerr);
        if (got == 1) {
            j.from_cache = 1;
            pthread_mutex_lock(&p->lock);
            sk_image_set_blob(p->img, i, d, sz);
            pthread_mutex_unlock(&p->lock);
        } else if (got < 0) {
            vnote(p->o, "layer cache: ignored the entry for %.19s: %s; the layer is compressed again", b->diff_id,
                  cerr.msg);
        }
    }
    if (sk_retry_run(retry, &job, err) == 0)
        return 0;
    if (job.final)
        return -1;
    return gave_up(err, job.attempts, "%s %s to %s", b->digest[0] ? "blob" : "layer",
                   b->digest[0] ? b->digest : b->diff_id, p->repo);
}

static void *worker(void *arg)
{
    struct push *p = arg;
    struct sk_registry reg;
    struct sk_retry *retry;
    struct sk_err err;

    sk_err_clear(&err);
    pthread_mutex_lock(&p->lock);
    retry = &p->retries[p->nworkers++];
    pthread_mutex_unlock(&p->lock);
    if (sk_registry_init(&reg, p->host, p->token, p->ca_bundle, p->debug ? trace_stderr : NULL, NULL, &err) < 0) {
        pthread_mutex_lock(&p->lock);
        if (!p->failed) {
            p->failed = 1;
            p->err = err;
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    reg.timeout_s = p->timeout_s;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&p->lock);
        if (p->failed || p->next >= p->img->nblobs) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        i = p->next++;
        pthread_mutex_unlock(&p->lock);
        if (push_blob(p, &reg, retry, i, &err) < 0) {
            pthread_mutex_lock(&p->lock);
            if (!p->failed) {
                p->failed = 1;
                p->err = err;
            }
            pthread_mutex_unlock(&p->lock);
            break;
        }
    }
    sk_registry_release(&reg);
    return NULL;
}

static int push_blobs(struct push *p, struct sk_err *err)
{
    pthread_t threads[32];
    size_t n = (size_t)p->o->jobs, i, started = 0;

    if (n > p->img->nblobs)
        n = p->img->nblobs ? p->img->nblobs : 1;
    pthread_mutex_init(&p->lock, NULL);
    memset(&bar, 0, sizeof(bar));
    bar.on = p->o->progress == 2;
    bar.blobs = p->img->nblobs;
    for (i = 0; i < p->img->nblobs; i++)
        bar.total += p->img->blobs[i].kind == SK_BLOB_GZIP ? p->img->blobs[i].src_size : p->img->blobs[i].size;
    clock_gettime(CLOCK_MONOTONIC, &bar.start);
    for (i = 0; i < n; i++)
        sk_retry_split(p->retry, &p->retries[i]);
    for (i = 0; i < n; i++)
        if (pthread_create(&threads[started], NULL, worker, p) == 0)
            started++;
    if (!started) /* no threads to be had: do the work here */
        worker(p);
    for (i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    bar_end();
    pthread_mutex_destroy(&p->lock);
    if (p->failed) {
        *err = p->err;
        return -1;
    }
    return 0;
}

/* ---- manifests ------------------------------------------------------------------------------- */

/* One manifest's PUT across its attempts (sk_retry_run). */
struct manifest_job {
    const struct opts *o;
    struct sk_registry *reg;
    const char *repo, *ref;
    const struct sk_manifest *m;
};

static enum sk_attempt manifest_attempt(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct manifest_job *j = ctx;
    char have[SK_DIGEST_MAX];

    (void)n;
    /* Same digest already there: nothing to write (and an immutable tag would refuse it). This also
     * finds a PUT of ours whose answer was lost. A HEAD that fails for a passing reason is retried;
     * one the registry refuses for good leaves the PUT to decide. */
    if (sk_registry_manifest_head(j->reg, j->repo, j->ref, have, err) == 0) {
        if (strcmp(have, j->m->digest) == 0) {
            note(j->o, "%s:%s unchanged", j->repo, j->ref);
            return SK_ATTEMPT_DONE;
        }
    } else if (err->retryable) {
        goto failed;
    }
    if (sk_registry_manifest_put(j->reg, j->repo, j->ref, j->m->media_type, j->m->body.p, j->m->body.len, err) == 0) {
        note(j->o, "%s:%s -> %.12s", j->repo, j->ref, short_digest(j->m->digest));
        return SK_ATTEMPT_DONE;
    }
    if (strcmp(err->aws_code, "TAG_INVALID") == 0) {
        struct sk_err herr;
        sk_err_clear(&herr);
        if (sk_registry_manifest_head(j->reg, j->repo, j->ref, have, &herr) == 0 && strcmp(have, j->m->digest) == 0)
            return SK_ATTEMPT_DONE;
        if (herr.kind != SK_E_NONE && herr.retryable) { /* cannot tell yet: ask again */
            *err = herr;
            goto failed;
        }
        sk_errf(err, SK_E_AWS,
                "tag '%s' of %s already points at another image and the repository is immutable "
                "(TAG_INVALID): push a new tag",
                j->ref, j->repo);
        return SK_ATTEMPT_FINAL;
    }
failed:
    /* PutImage is rate limited (10 TPS by default): Retry-After is honoured. */
    *asked = registry_asked_ms(j->reg);
    return SK_ATTEMPT_FAILED;
}

static void manifest_waiting(void *ctx, int n, int max, long ms, const struct sk_err *err)
{
    struct manifest_job *j = ctx;

    (void)n;
    (void)max;
    note(j->o, "%s:%s: %s; retrying in %ld ms", j->repo, j->ref, err->msg, ms);
}

static int put_manifest(const struct opts *o, struct sk_registry *reg, struct sk_retry *retry, const char *repo,
                        const char *ref, const struct sk_manifest *m, struct sk_err *err)
{
    struct manifest_job j = { o, reg, repo, ref, m };
    struct sk_retry_job job = { manifest_attempt, manifest_waiting, &j, MANIFEST_ATTEMPTS, 0, 0 };

    if (sk_retry_run(retry, &job, err) == 0)
        return 0;
    if (job.final)
        return -1;
    return gave_up(err, job.attempts, "%s:%s", repo, ref);
}

/* The registry check (GET /v2/) across its attempts: quietly (but for -v), so a registry that
 * cannot be reached at all fails with one line. */
struct ping_job {
    const struct opts *o;
    struct sk_registry *reg;
};

static enum sk_attempt ping_attempt(void *ctx, int n, long *asked, struct sk_err *err)
{
    struct ping_job *j = ctx;

    (void)n;
    if (sk_registry_ping(j->reg, err) == 0)
        return SK_ATTEMPT_DONE;
    *asked = registry_asked_ms(j->reg);
    return SK_ATTEMPT_FAILED;
}

static void ping_waiting(void *ctx, int n, int max, long ms, const struct sk_err *err)
{
    struct ping_job *j = ctx;

    (void)n;
    (void)max;
    (void)ms;
    tool_verbose(&j->o->c, "registry %s: %s; retrying", j->reg->host, err->msg);
}

static int ping(const struct opts *o, struct sk_registry *reg, struct sk_retry *retry, const char *host,
                struct sk_err *err)
{
    struct ping_job j = { o, reg };
    struct sk_retry_job job = { ping_attempt, ping_waiting, &j, PING_ATTEMPTS, 0, 0 };

    if (sk_retry_run(retry, &job, err) == 0)
        return 0;
    if (err->kind == SK_E_NET) /* the transport names the host, not its port */
        return gave_up(err, job.attempts, "registry check at %s", host);
    return gave_up(err, job.attempts, NULL); /* "registry check: ..." */
}

/* ---- ECR: tokens and repositories ---------------------------------------------------------------- */

static int create_repo(struct sk_client *c, const struct opts *o, const char *repo, const char *registry_id,
                       struct sk_err *err)
{
    struct sk_buf body = SK_BUF_INIT;
    struct sk_jsonw w;
    jv res;
    int rc;

    sk_jsonw_begin(&w, &body);
    sk_jsonw_str(&w, "repositoryName", repo);
    if (registry_id)
        sk_jsonw_str(&w, "registryId", registry_id);
    sk_jsonw_raw(&w, "imageScanningConfiguration", "{\"scanOnPush\":true}");
    sk_jsonw_str(&w, "imageTagMutability", o->immutable ? "IMMUTABLE" : "MUTABLE");
    sk_jsonw_end(&w);
    rc = sk_client_json_raw(c, &sk_svc_ecr, "CreateRepository", body.p, body.len, 0, &res, err);
    sk_buf_release(&body);
    if (rc == 0) {
        jv_free(res);
        note(o, "created repository %s%s", repo, o->immutable ? " (immutable tags)" : "");
        return 0;
    }
    if (strcmp(err->aws_code, "RepositoryAlreadyExistsException") == 0) {
        sk_err_clear(err);
        return 0;
    }
    return -1;
}

/* ---- credentials: each registry gets only its own ------------------------------------------------ */

struct creds {
    char *basic;      /* base64 USER:PASSWORD for the registry (secret); NULL: none, anonymous */
    const char *from; /* where they come from, for -v */
    char *helper;     /* a credential helper Docker's config.json names for the registry (not run) */
    int ecr;          /* basic is the ECR token: the registry is the account's ECR registry */
};

static void creds_release(struct creds *cr)
{
    sk_free_secret(cr->basic);
    free(cr->helper);
    memset(cr, 0, sizeof(*cr));
}

/* --registry-auth FILE ("-": stdin): one line, USER:PASSWORD. */
static int creds_from_file(const char *path, struct creds *cr, struct sk_err *err)
{
    struct sk_buf b = SK_BUF_INIT;
    int rc = -1;

    sk_buf_init_secret(&b);
    if (tool_read_input(path, &b, 8192, err) < 0)
        goto out;
    tool_chomp(&b);
    cr->basic = sk_registry_basic(b.p, b.len);
    if (!cr->basic) {
        sk_errf(err, SK_E_USAGE, "--registry-auth %s: not one line USER:PASSWORD", path);
        goto out;
    }
    cr->from = "--registry-auth";
    rc = 0;
out:
    sk_buf_release(&b);
    return rc;
}

/* Docker's client config: $DOCKER_CONFIG/config.json, else ~/.docker/config.json; NULL without HOME. */
static char *docker_config_path(void)
{
    const char *dir = sk_getenv("DOCKER_CONFIG"), *home = sk_getenv("HOME");
    struct sk_buf b = SK_BUF_INIT;

    if (dir && *dir)
        sk_buf_addf(&b, "%s/config.json", dir);
    else if (home && *home)
        sk_buf_addf(&b, "%s/.docker/config.json", home);
    else
        return NULL;
    return sk_buf_detach(&b, NULL);
}

/* What `docker login HOST` stored for host, if anything (a missing file is no credentials). */
static int creds_from_docker(const char *host, struct creds *cr, struct sk_err *err)
{
    char *path = docker_config_path();
    struct sk_buf text = SK_BUF_INIT;
    int r, rc = -1;

    sk_buf_init_secret(&text);
    if (!path) {
        rc = 0;
        goto out;
    }
    err->sys_errno = 0;
    if (tool_read_input(path, &text, 1 << 20, err) < 0) {
        if (err->sys_errno == ENOENT || err->sys_errno == ENOTDIR) {
            sk_err_clear(err);
            rc = 0;
        }
        goto out;
    }
    r = sk_registry_docker_auth(text.p, text.len, host, &cr->basic, &cr->helper, err);
    if (r < 0) {
        sk_err_prefix(err, "%s", path);
        goto out;
    }
    if (r == 1)
        cr->from = "Docker's config.json";
    rc = 0;
out:
    sk_buf_release(&text);
    free(path);
    return rc;
}

/* The ECR token is the account's: it may go only to the registry GetAuthorizationToken names
 * (proxyEndpoint) or another ECR registry host of the same account and partition. */
static int creds_from_ecr(const struct opts *o, const char *host, const struct sk_ecr_token *tok, struct creds *cr,
                          struct sk_err *err)
{
    if (!sk_ecr_token_for_host(tok->proxy_endpoint, host))
        return sk_errf(err, SK_E_CONFIG,
                       "registry %s is not the account's ECR registry that GetAuthorizationToken named: the ECR "
                       "token is not sent there",
                       host);
    tool_verbose(&o->c, "registry token %s, valid until %ld", tok->from_cache ? "from the cache" : "fetched",
                 (long)tok->expires);
    cr->basic = xstrdup(tok->token);
    cr->from = "the ECR token";
    cr->ecr = 1;
    return 0;
}

/* ---- the run ------------------------------------------------------------------------------------- */

static void print_text(jv result, FILE *out)
{
    jv refs = sk_json_get(result, "references");
    int i, n = jv_get_kind(refs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(refs)) : 0;

    for (i = 0; i < n; i++) {
        jv r = jv_array_get(jv_copy(refs), i);
        fprintf(out, "%s\n", jv_string_value(r));
        jv_free(r);
    }
    jv_free(refs);
}

/* The digest file is made in two steps so that an unwritable FILE fails before anything is pushed,
 * and a failed push leaves an existing FILE as it was: open_digest_file creates FILE.XXXXXX next to
 * it first; commit_digest_file writes the digest there and renames it over FILE. */
struct digest_file {
    struct sk_buf tmp;
    int fd;
};

static int open_digest_file(const char *path, struct digest_file *df, struct sk_err *err)
{
    sk_buf_addf(&df->tmp, "%s.XXXXXX", path);
    df->fd = mkstemp(df->tmp.p);
    if (df->fd < 0) {
        int e = errno;
        sk_buf_release(&df->tmp);
        return sk_errf(err, SK_E_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return 0;
}

static int commit_digest_file(const char *path, struct digest_file *df, const char *digest, struct sk_err *err)
{
    FILE *f = fdopen(df->fd, "w");
    mode_t mask = umask(0);
    int e;

    umask(mask); /* mkstemp made it 0600: give it the mode fopen would have */
    if (f && fprintf(f, "%s\n", digest) >= 0 && fchmod(df->fd, 0666 & ~mask) == 0 && fclose(f) == 0) {
        df->fd = -1;
        if (rename(df->tmp.p, path) == 0)
            return 0;
    }
    e = errno;
    if (f && df->fd >= 0)
        fclose(f);
    df->fd = -1;
    return sk_errf(err, SK_E_IO, "cannot write '%s': %s", path, strerror(e));
}

/* Remove the temporary file unless it was committed. */
static void release_digest_file(struct digest_file *df)
{
    if (df->fd >= 0)
        close(df->fd);
    if (df->tmp.p && access(df->tmp.p, F_OK) == 0)
        unlink(df->tmp.p);
    sk_buf_release(&df->tmp);
}

/* One push, start to end: what each stage of run() makes and the next one uses. */
struct session {
    struct opts *o;
    struct common_opts co; /* o->c, with the region an ECR host names */
    struct sk_image img;
    struct sk_client c;
    struct sk_ecr_token tok;
    struct sk_registry reg;
    struct sk_layer_cache lc;
    struct sk_retry retry;
    struct creds cr;
    struct digest_file df;
    const char *host; /* the registry: the DESTs' host, or the account's ECR registry */
    char *cache_dir, *default_host, *account, *region, *ca_bundle;
    int ecr_host, have_client, have_reg;
    long timeout_s;
    size_t uploaded, existing;
    uint64_t bytes;
};

/* Whether DEST i is the first one naming its repository (several tags of one repository share its
 * blobs and its by-digest manifests). */
static int first_of_repo(const struct opts *o, int i)
{
    int j;

    for (j = 0; j < i; j++)
        if (strcmp(o->dests[j].repo, o->dests[i].repo) == 0)
            return 0;
    return 1;
}

/* 1. The source, checked in full before anything touches the network. */
static int open_source(struct session *s, struct sk_err *err)
{
    struct sk_image_opts io = { 0 };
    size_t k;

    io.platform = s->o->platform;
    io.compress = s->o->compress;
    if (sk_image_open(s->o->source, &io, &s->img, err) < 0)
        return -1;
    for (k = 0; k < s->img.nblobs; k++)
        if (s->img.blobs[k].kind != SK_BLOB_GZIP && s->img.blobs[k].size == 0)
            return sk_errf(err, SK_E_USAGE, "blob %s is empty: ECR refuses zero-length blobs", s->img.blobs[k].digest);
    return 0;
}

/* 2. One registry per run, and its own credentials; an ECR host names its region (and account). */
static int find_credentials(struct session *s, struct sk_err *err)
{
    const struct opts *o = s->o;
    int i;

    s->host = o->dests[0].host;
    for (i = 1; i < o->ndests; i++) {
        const char *h = o->dests[i].host;
        if ((h == NULL) != (s->host == NULL) || (h && strcasecmp(h, s->host) != 0))
            return sk_errf(err, SK_E_USAGE, "all DESTs must be in one registry (got '%s' and '%s')",
                           s->host ? s->host : "(ECR)", h ? h : "(ECR)");
    }
    s->ecr_host = s->host && sk_ecr_parse_host(s->host, &s->account, &s->region);
    if (s->ecr_host && !s->co.region)
        s->co.region = s->region;
    s->cache_dir = sk_cache_dir();
    if (o->registry_auth) {
        /* The user's own, for the registry DEST names. */
        if (creds_from_file(o->registry_auth, &s->cr, err) < 0)
            return -1;
    } else if (!s->host || s->ecr_host) {
        /* The account's ECR registry (or another account's, whose token we ask for): the token. */
        if (tool_client_init(&s->c, &s->co, err) < 0)
            return -1;
        s->have_client = 1;
        if (sk_ecr_token_get(&s->c, s->account, s->cache_dir, &s->tok, err) < 0)
            return -1;
        if (!s->host)
            s->host = s->default_host = sk_ecr_proxy_host(s->tok.proxy_endpoint);
        if (creds_from_ecr(o, s->host, &s->tok, &s->cr, err) < 0)
            return -1;
    } else {
        /* Another registry: what `docker login` stored for it. Else it may still be the account's
         * registry under a name that is not an ECR host (GetAuthorizationToken's proxyEndpoint
         * tells); failing to find out means it is not, and the push goes without credentials. */
        if (creds_from_docker(s->host, &s->cr, err) < 0)
            return -1;
        if (!s->cr.basic) {
            struct sk_err terr;
            sk_err_clear(&terr);
            if (tool_client_init(&s->c, &s->co, &terr) == 0) {
                s->have_client = 1;
                if (sk_ecr_token_get(&s->c, NULL, s->cache_dir, &s->tok, &terr) == 0)
                    creds_from_ecr(o, s->host, &s->tok, &s->cr, &terr);
            }
            if (terr.kind != SK_E_NONE)
                tool_verbose(&o->c, "%s", terr.msg);
        }
    }
    if (s->cr.basic)
        tool_verbose(&o->c, "registry %s: credentials from %s", s->host, s->cr.from);
    else
        tool_verbose(&o->c, "registry %s: no credentials for it (none in --registry-auth or Docker's config.json%s)",
                     s->host, s->cr.helper ? ", whose credential helper is not run" : "");
    return 0;
}

/* The repositories --create-repo asks for, then the registry itself: its retry rules, the TLS the
 * AWS calls trust (--ca-bundle, AWS_CA_BUNDLE, the profile's), and a first request. */
static int open_registry(struct session *s, struct sk_err *err)
{
    const struct opts *o = s->o;
    struct sk_client *c = s->have_client ? &s->c : NULL;
    int i;

    if (o->create_repo && !s->cr.ecr)
        return sk_errf(err, SK_E_USAGE, "--create-repo creates ECR repositories: %s is not the account's ECR registry",
                       s->host);
    for (i = 0; o->create_repo && i < o->ndests; i++)
        if (first_of_repo(o, i) && create_repo(&s->c, o, o->dests[i].repo, s->account, err) < 0)
            return -1;
    if (sk_retry_init(&s->retry, c ? &c->conf : NULL, err) < 0)
        return -1;
    if (sk_client_ca_bundle(c ? &c->conf : NULL, o->c.profile, o->c.ca_bundle, &s->ca_bundle, err) < 0)
        return -1;
    if (sk_registry_init(&s->reg, s->host, s->cr.basic, s->ca_bundle, o->c.debug ? trace_stderr : NULL, NULL, err) < 0)
        return -1;
    s->have_reg = 1;
    s->reg.timeout_s = s->timeout_s;
    return ping(o, &s->reg, &s->retry, s->host, err);
}

/* 3. Blobs, per repository. docker-archive layers are compressed here; the layer cache remembers
 * their digests (a cache that cannot be trusted or written is off: only slower). */
static int push_all_blobs(struct session *s, struct sk_err *err)
{
    size_t k;
    int i;

    for (k = 0; k < s->img.nblobs && s->img.blobs[k].kind != SK_BLOB_GZIP; k++)
        ;
    if (k < s->img.nblobs) {
        struct sk_err cerr;
        sk_err_clear(&cerr);
        if (sk_layer_cache_init(&s->lc, s->cache_dir, s->o->level, &cerr) < 0)
            tool_verbose(&s->o->c, "layer cache off: %s", cerr.msg);
    }
    for (i = 0; i < s->o->ndests; i++) {
        struct push p;
        if (!first_of_repo(s->o, i))
            continue;
        memset(&p, 0, sizeof(p));
        p.o = s->o;
        p.img = &s->img;
        p.host = s->host;
        p.repo = s->o->dests[i].repo;
        p.token = s->cr.basic;
        p.ca_bundle = s->ca_bundle;
        p.lc = &s->lc;
        p.debug = s->o->c.debug;
        p.timeout_s = s->timeout_s;
        p.retry = &s->retry;
        if (push_blobs(&p, err) < 0)
            return -1;
        s->uploaded += p.uploaded;
        s->existing += p.existing;
        s->bytes += p.bytes;
    }
    return 0;
}

/* 4. Every blob is in: now, and only now, the manifests (an index's by digest first, then the tag). */
static int put_manifests(struct session *s, struct sk_err *err)
{
    const struct opts *o = s->o;
    const struct sk_manifest *top;
    size_t k;
    int i;

    if (sk_image_finalize(&s->img, err) < 0)
        return -1;
    top = &s->img.manifests[s->img.nmanifests - 1];
    for (i = 0; i < o->ndests; i++) {
        const char *repo = o->dests[i].repo;
        for (k = 0; first_of_repo(o, i) && k + 1 < s->img.nmanifests; k++)
            if (put_manifest(o, &s->reg, &s->retry, repo, s->img.manifests[k].digest, &s->img.manifests[k], err) < 0)
                return -1;
        if (put_manifest(o, &s->reg, &s->retry, repo, o->dests[i].tag, top, err) < 0)
            return -1;
    }
    return 0;
}

/* 5. The digest file, the note on stderr and the result. */
static int report(struct session *s, time_t start, struct sk_err *err)
{
    const struct opts *o = s->o;
    const struct sk_manifest *top = &s->img.manifests[s->img.nmanifests - 1];
    jv refs = jv_array(), result;
    char b[32];
    int i;

    for (i = 0; i < o->ndests; i++) {
        struct sk_buf line = SK_BUF_INIT;
        sk_buf_addf(&line, "%s/%s@%s", s->host, o->dests[i].repo, top->digest);
        refs = jv_array_append(refs, jv_string(line.p));
        sk_buf_release(&line);
    }
    if (o->digest_file && commit_digest_file(o->digest_file, &s->df, top->digest, err) < 0) {
        jv_free(refs);
        return -1;
    }
    human(s->bytes, b, sizeof(b));
    note(o, "pushed %s: %zu blobs uploaded (%s), %zu already there, %lds", top->digest, s->uploaded, b, s->existing,
         (long)(time(NULL) - start));
    result = jv_object();
    result = jv_object_set(result, jv_string("digest"), jv_string(top->digest));
    result = jv_object_set(result, jv_string("mediaType"), jv_string(top->media_type));
    result = jv_object_set(result, jv_string("references"), refs);
    result = jv_object_set(result, jv_string("uploaded"), jv_number((double)s->uploaded));
    result = jv_object_set(result, jv_string("existing"), jv_number((double)s->existing));
    result = jv_object_set(result, jv_string("bytes"), jv_number((double)s->bytes));
    return tool_emit(&o->c, result, print_text, err);
}

static void session_release(struct session *s)
{
    release_digest_file(&s->df);
    if (s->have_reg)
        sk_registry_release(&s->reg);
    sk_ecr_token_release(&s->tok);
    creds_release(&s->cr);
    sk_layer_cache_release(&s->lc);
    if (s->have_client)
        sk_client_release(&s->c);
    sk_image_release(&s->img);
    free(s->ca_bundle);
    free(s->cache_dir);
    free(s->default_host);
    free(s->account);
    free(s->region);
}

static int run(struct opts *o, struct sk_err *err)
{
    struct session s;
    time_t start = time(NULL);
    const char *stall = sk_getenv(stall_env);
    int rc = -1;

    memset(&s, 0, sizeof(s));
    s.o = o;
    s.co = o->c;
    sk_buf_init(&s.df.tmp);
    s.df.fd = -1;
    if (stall && tool_parse_duration(stall, &s.timeout_s) < 0)
        sk_errf(err, SK_E_USAGE, "%s must be a duration (30s, 2m), not '%s'", stall_env, stall);
    else if ((!o->digest_file || open_digest_file(o->digest_file, &s.df, err) == 0) && open_source(&s, err) == 0 &&
             find_credentials(&s, err) == 0 && open_registry(&s, err) == 0 && push_all_blobs(&s, err) == 0 &&
             put_manifests(&s, err) == 0 && report(&s, start, err) == 0)
        rc = 0;
    if (rc < 0 && !s.cr.basic && err->kind == SK_E_CONFIG && err->http_status == 401)
        tool_err_append(err, ": give them with --registry-auth FILE or in Docker's config.json (docker login %s)%s",
                        s.host ? s.host : "", s.cr.helper ? "; its credential helpers are not run" : "");
    session_release(&s);
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code, i;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("ecr-push");
    parse_args(argc, argv, &o);
    code = run(&o, &err);
    for (i = 0; i < o.ndests; i++) {
        free(o.dests[i].host);
        free(o.dests[i].repo);
        free(o.dests[i].tag);
    }
    return tool_finish(code);
}
