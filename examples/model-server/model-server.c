/*
 * model-server: a tiny HTTP/1.1 model-serving endpoint for the shipkit examples.
 *
 * Serves a linear model read once at start from $MODEL_PATH (default /model/model.txt):
 *
 *   GET  /health              200 {"status":"ok"}
 *   GET  /predict?x=1,2,3     200 {"y":<bias + w.x>,"model":"<name>"}
 *   POST /predict             the same, the features in the body: {"x":[1,2,3]}, x=1,2,3 or 1,2,3
 *
 * `model-server --check` loads the model, prints what it read and exits (0 if it loads, 1 if not):
 * the one-off task a deploy runs first (ecs-run; examples/Makefile, migrate-aws).
 *
 * Listens on $PORT (default 8080) on all IPv4 addresses, one request per connection
 * (Connection: close), one log line per request on stdout. SIGTERM (what ECS sends to stop a
 * task) and SIGINT finish the request in progress and exit 0. No threads, no DNS, no locale:
 * built with `cc -static` it runs as the only file of a FROM scratch image, as PID 1.
 *
 * Model file: '#' comments and blank lines are skipped; "name NAME", "bias B" and
 * "weights W1 W2 ..." (one line, at most MAX_FEATURES numbers) set the model.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_FEATURES 64
#define MAX_REQUEST 16384 /* headers and body together */
#define IO_TIMEOUT_SEC 5  /* a client that stalls longer is dropped */

static const char default_model_path[] = "/model/model.txt";
static const char default_port[] = "8080";

struct model {
    char name[64];
    double bias;
    double w[MAX_FEATURES];
    size_t n;
};

struct request {
    char method[8];
    char target[1024];
    const char *body; /* into the read buffer, not NUL-terminated by the client */
    size_t body_len;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

#if defined(__GNUC__)
static void logf_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif

static void logf_line(const char *fmt, ...)
{
    char ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    printf("%s.%03ldZ ", ts, now.tv_nsec / 1000000L);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* Parse up to MAX_FEATURES numbers separated by commas and/or blanks from s[0, len), stopping at
 * end, ']' or '&'. Returns the count, or -1 on a malformed number or too many of them. */
static int parse_numbers(const char *s, size_t len, double *out)
{
    char tmp[64];
    size_t i = 0;
    int n = 0;

    for (;;) {
        while (i < len && (s[i] == ',' || isspace((unsigned char)s[i]))) {
            i++;
        }
        if (i >= len || s[i] == ']' || s[i] == '&') {
            return n;
        }
        size_t j = i;
        while (j < len && (isdigit((unsigned char)s[j]) || strchr("+-.eE", s[j]))) {
            j++;
        }
        if (j == i || j - i >= sizeof tmp || n >= MAX_FEATURES) {
            return -1;
        }
        memcpy(tmp, s + i, j - i);
        tmp[j - i] = '\0';
        char *end;
        errno = 0;
        double v = strtod(tmp, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(v)) {
            return -1;
        }
        out[n++] = v;
        i = j;
    }
}

static int load_model(const char *path, struct model *m)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int have_weights = 0, lineno = 0;

    if (!f) {
        fprintf(stderr, "model-server: cannot open model '%s': %s\n", path, strerror(errno));
        return -1;
    }
    snprintf(m->name, sizeof m->name, "linear");
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        if (*p == '\0' || *p == '#') {
            continue;
        }
        if (strncmp(p, "name ", 5) == 0) {
            p += 5;
            size_t k = strcspn(p, " \t\r\n\"\\");
            if (k == 0 || k >= sizeof m->name) {
                goto bad;
            }
            memcpy(m->name, p, k);
            m->name[k] = '\0';
        } else if (strncmp(p, "bias ", 5) == 0) {
            double b[MAX_FEATURES];
            if (parse_numbers(p + 5, strlen(p + 5), b) != 1) {
                goto bad;
            }
            m->bias = b[0];
        } else if (strncmp(p, "weights ", 8) == 0) {
            int n = parse_numbers(p + 8, strlen(p + 8), m->w);
            if (n <= 0) {
                goto bad;
            }
            m->n = (size_t)n;
            have_weights = 1;
        } else {
            goto bad;
        }
    }
    if (ferror(f) || !have_weights) {
        fprintf(stderr, "model-server: model '%s': %s\n", path, ferror(f) ? "read error" : "no weights line");
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
bad:
    fprintf(stderr, "model-server: model '%s' line %d: expected 'name N', 'bias B' or 'weights W...'\n", path, lineno);
    fclose(f);
    return -1;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return; /* the client went away: nothing to tell it */
        }
        p += w;
        n -= (size_t)w;
    }
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    default: return "Internal Server Error";
    }
}

static void respond(int fd, int status, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, reason(status), strlen(body));
    if (n > 0 && (size_t)n < sizeof head) {
        send_all(fd, head, (size_t)n);
        send_all(fd, body, strlen(body));
    }
}

/* Content-Length of the header block hdr (NUL-terminated), 0 when absent, -1 when malformed. */
static long content_length(const char *hdr)
{
    for (const char *p = strstr(hdr, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, "Content-Length:", 15) == 0) {
            char *end;
            errno = 0;
            long v = strtol(p + 17, &end, 10);
            if (errno || v < 0 || (*end != '\0' && *end != '\r' && *end != ' ' && *end != '\t')) {
                return -1;
            }
            return v;
        }
    }
    return 0;
}

/* Read one request into buf. Returns 0, or an HTTP status to answer with (or -1: just close). */
static int read_request(int fd, char *buf, size_t cap, struct request *r)
{
    size_t len = 0;
    char *eoh = NULL;
    long clen = 0;

    for (;;) {
        if (!eoh && len > 0) {
            buf[len] = '\0';
            eoh = strstr(buf, "\r\n\r\n");
            if (eoh) {
                *eoh = '\0';
                clen = content_length(buf);
                if (clen < 0) {
                    return 400;
                }
                if ((size_t)clen > cap - 1 - (size_t)(eoh + 4 - buf)) {
                    return 413;
                }
            }
        }
        if (eoh && len - (size_t)(eoh + 4 - buf) >= (size_t)clen) {
            break;
        }
        if (len >= cap - 1) {
            return 413;
        }
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return len ? 408 : -1;
        }
        if (n <= 0) {
            return len ? 400 : -1;
        }
        len += (size_t)n;
    }

    /* Request line: METHOD SP TARGET SP HTTP/1.x */
    char *sp1 = strchr(buf, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    char *eol = strstr(buf, "\r\n");
    if (!eol) {
        eol = eoh;
    }
    if (!sp1 || !sp2 || sp2 > eol || (size_t)(sp1 - buf) >= sizeof r->method ||
        (size_t)(sp2 - sp1 - 1) >= sizeof r->target || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        return 400;
    }
    memcpy(r->method, buf, (size_t)(sp1 - buf));
    r->method[sp1 - buf] = '\0';
    memcpy(r->target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    r->target[sp2 - sp1 - 1] = '\0';
    r->body = eoh + 4;
    r->body_len = (size_t)clen;
    return 0;
}

/* Features from ?x=... or the body. Returns the count or -1. */
static int features(const struct request *r, const char *query, double *x)
{
    if (strcmp(r->method, "POST") == 0 && r->body_len > 0) {
        const char *b = r->body;
        size_t n = r->body_len;
        const char *open = memchr(b, '[', n);
        if (open) {
            n -= (size_t)(open + 1 - b);
            b = open + 1;
        } else if (n >= 2 && b[0] == 'x' && b[1] == '=') {
            b += 2;
            n -= 2;
        }
        return parse_numbers(b, n, x);
    }
    for (const char *q = query; q && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL) {
        if (q[0] == 'x' && q[1] == '=') {
            /* Commas may arrive percent-encoded. */
            char dec[1024];
            size_t k = 0;
            for (const char *p = q + 2; *p && *p != '&' && k < sizeof dec - 1; p++) {
                if (p[0] == '%' && p[1] == '2' && (p[2] == 'C' || p[2] == 'c')) {
                    dec[k++] = ',';
                    p += 2;
                } else {
                    dec[k++] = *p;
                }
            }
            return parse_numbers(dec, k, x);
        }
    }
    return -1;
}

static int handle(const struct model *m, const struct request *r, char *out, size_t cap)
{
    char path[1024];
    const char *query = strchr(r->target, '?');
    size_t plen = query ? (size_t)(query - r->target) : strlen(r->target);
    int get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;

    memcpy(path, r->target, plen);
    path[plen] = '\0';
    if (query) {
        query++;
    }

    if (strcmp(path, "/health") == 0) {
        if (!get) {
            snprintf(out, cap, "{\"error\":\"use GET\"}");
            return 405;
        }
        snprintf(out, cap, "{\"status\":\"ok\"}");
        return 200;
    }
    if (strcmp(path, "/predict") == 0) {
        double x[MAX_FEATURES];
        if (!get && !post) {
            snprintf(out, cap, "{\"error\":\"use GET or POST\"}");
            return 405;
        }
        int n = features(r, query, x);
        if (n < 0) {
            snprintf(out, cap, "{\"error\":\"give features as ?x=1,2,3 or a body {\\\"x\\\":[1,2,3]}\"}");
            return 400;
        }
        if ((size_t)n != m->n) {
            snprintf(out, cap, "{\"error\":\"expected %zu features, got %d\"}", m->n, n);
            return 400;
        }
        double y = m->bias;
        for (size_t i = 0; i < m->n; i++) {
            y += m->w[i] * x[i];
        }
        if (!isfinite(y)) {
            snprintf(out, cap, "{\"error\":\"prediction is not finite\"}");
            return 400;
        }
        snprintf(out, cap, "{\"y\":%.17g,\"model\":\"%s\"}", y, m->name);
        return 200;
    }
    snprintf(out, cap, "{\"error\":\"not found\"}");
    return 404;
}

/* Printable copy of s for the log line (no control characters from a client). */
static void sanitize(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (; *s && k < cap - 1; s++) {
        out[k++] = (*s > 0x20 && *s < 0x7f) ? *s : '?';
    }
    out[k] = '\0';
}

static void serve_one(int fd, const struct sockaddr_in *peer, const struct model *m)
{
    static char buf[MAX_REQUEST];
    char body[512], ip[INET_ADDRSTRLEN] = "?", target[256];
    struct request r = { .method = "-", .target = "-" };
    struct timespec t0, t1;
    struct timeval tv = { .tv_sec = IO_TIMEOUT_SEC };

    clock_gettime(CLOCK_MONOTONIC, &t0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof ip);

    int status = read_request(fd, buf, sizeof buf, &r);
    if (status < 0) {
        return; /* connected and closed without a request (e.g. a TCP health probe) */
    }
    if (status == 0) {
        status = handle(m, &r, body, sizeof body);
    } else {
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", reason(status));
    }
    respond(fd, status, body);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sanitize(r.target, target, sizeof target);
    logf_line("%s %s %s %d %.3fms", ip, r.method, target, status,
              (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

int main(int argc, char **argv)
{
    const char *model_path = getenv("MODEL_PATH");
    const char *port_s = getenv("PORT");
    struct model m = { .n = 0 };
    struct sigaction sa = { .sa_handler = on_signal };
    sigset_t block, orig;
    char *end;
    int one = 1;

    setvbuf(stdout, NULL, _IOLBF, 0); /* one line per request, even into a pipe (the ECS log driver) */
    if (!model_path || !*model_path) {
        model_path = default_model_path;
    }
    if (!port_s || !*port_s) {
        port_s = default_port;
    }
    errno = 0;
    long port = strtol(port_s, &end, 10);
    if (errno || *end || port < 1 || port > 65535) {
        fprintf(stderr, "model-server: invalid PORT '%s'\n", port_s);
        return 2;
    }
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--check") != 0)) {
        fprintf(stderr, "usage: model-server [--check]\n");
        return 2;
    }
    if (load_model(model_path, &m) < 0) {
        return 1;
    }
    if (argc == 2) {
        logf_line("model %s: %zu features from %s: loads", m.name, m.n, model_path);
        return 0;
    }

    /* SIGTERM/SIGINT are blocked except inside pselect(), so a signal can't slip in between the
     * check of `stopping` and the wait: the loop ends at the next turn. */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &orig);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 64) < 0) {
        fprintf(stderr, "model-server: cannot listen on port %ld: %s\n", port, strerror(errno));
        return 1;
    }
    logf_line("listening on :%ld, model %s (%zu features) from %s", port, m.name, m.n, model_path);

    while (!stopping) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(lfd, &rd);
        int r = pselect(lfd + 1, &rd, NULL, NULL, NULL, &orig);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "model-server: pselect: %s\n", strerror(errno));
            return 1;
        }
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
        if (cfd < 0) {
            continue; /* the client gave up before we got to it, or fds ran out for a moment */
        }
        serve_one(cfd, &peer, &m);
        close(cfd);
    }
    close(lfd);
    logf_line("stopping: signal received");
    return fflush(stdout) == 0 ? 0 : 1;
}
