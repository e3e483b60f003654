/*
 * http_test.c - lib/aws/http.c against a loopback HTTP/1.1 responder forked by the test itself.
 *
 * The responder listens on 127.0.0.1 (port 0, read back with getsockname), serves keep-alive
 * connections with poll(), counts accepted connections, and exits when the parent closes the
 * control pipe. Paths select the canned answer: /ok /err /big /bigclose /slow /count /echo
 * /continue. A TLS ClientHello gets a plain-text reply, so https to it fails the handshake.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "harness.h"
#include "core/hdr.h"
#include "aws/http.h"

#define MAX_CONNS 32

struct server {
    pid_t pid;
    int ctl; /* write end of the control pipe; closing it stops the responder */
    int port;
    char base[64]; /* "http://127.0.0.1:<port>" */
};

struct conn {
    int fd;
    struct sk_buf in;
};

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static const char *ci_find(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return hay;
    return NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int respond(int fd, int status, const char *reason, const char *extra, const char *body, size_t n)
{
    struct sk_buf b = SK_BUF_INIT;
    int rc;

    sk_buf_addf(&b, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n", status, reason, n, extra ? extra : "");
    sk_buf_add(&b, body, n);
    rc = write_all(fd, b.p, b.len);
    sk_buf_release(&b);
    return rc;
}

/* Answer one complete request; returns -1 to close the connection, 1 to hold it silently. */
static int handle(int fd, const char *req, size_t n, int accepted)
{
    char method[16] = "", path[256] = "", num[32];
    char *big;
    int rc;

    if (sscanf(req, "%15s %255s", method, path) != 2)
        return -1;
    if (strcmp(path, "/ok") == 0 || strncmp(path, "/ok?", 4) == 0)
        return respond(fd, 200, "OK", "Content-Type: text/plain\r\nX-Test:  yes \r\n", "hello",
                       strcmp(method, "HEAD") == 0 ? 0 : 5);
    if (strcmp(path, "/err") == 0)
        return respond(fd, 500, "Internal Server Error", "X-Amzn-RequestId: r-500\r\n", "boom", 4);
    if (strcmp(path, "/count") == 0) {
        snprintf(num, sizeof(num), "%d", accepted);
        return respond(fd, 200, "OK", NULL, num, strlen(num));
    }
    if (strcmp(path, "/echo") == 0)
        return respond(fd, 200, "OK", "X-Amz-Security-Token: resp-token\r\n", req, n);
    if (strcmp(path, "/continue") == 0) {
        static const char interim[] = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n";
        if (write_all(fd, interim, sizeof(interim) - 1) < 0)
            return -1;
        return respond(fd, 201, "Created", "X-Final: 1\r\n", "ok", 2);
    }
    if (strcmp(path, "/big") == 0 || strcmp(path, "/bigclose") == 0) {
        static const char head_len[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
        static const char head_close[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        const char *head = strcmp(path, "/big") == 0 ? head_len : head_close;
        big = malloc(100000);
        memset(big, 'x', 100000);
        rc = write_all(fd, head, strlen(head));
        if (rc == 0)
            rc = write_all(fd, big, 100000);
        free(big);
        return head == head_close ? -1 : rc;
    }
    if (strcmp(path, "/slow") == 0)
        return 1;
    if (strcmp(path, "/reset") == 0 || strcmp(path, "/resetmid") == 0) {
        /* An abortive close (RST), before any answer or after part of the body (as the stack's
         * fault layer does: tests/stack/faults.py). */
        struct linger lg = { 1, 0 };
        static const char part[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"partial\":";
        if (strcmp(path, "/resetmid") == 0) {
            write_all(fd, part, sizeof(part) - 1);
            usleep(50000);
        }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        return -1;
    }
    return respond(fd, 404, "Not Found", NULL, "", 0);
}

/* Length of the first complete request in buf, or 0 when more bytes are needed. */
static size_t request_len(const struct sk_buf *b)
{
    const char *end = strstr(b->p, "\r\n\r\n"), *cl;
    size_t head, body = 0;

    if (!end)
        return 0;
    head = (size_t)(end - b->p) + 4;
    for (cl = b->p; cl && cl < end; cl = strchr(cl, '\n')) {
        cl += *cl == '\n';
        if (strncasecmp(cl, "Content-Length:", 15) == 0)
            body = strtoul(cl + 15, NULL, 10);
    }
    return b->len >= head + body ? head + body : 0;
}

static void serve(int lfd, int ctl)
{
    struct conn conns[MAX_CONNS];
    struct pollfd pfd[MAX_CONNS + 2];
    char chunk[4096];
    int nconn = 0, accepted = 0, i, fd, rc;
    ssize_t r;
    size_t len;

    for (;;) {
        pfd[0].fd = ctl;
        pfd[0].events = POLLIN;
        pfd[1].fd = lfd;
        pfd[1].events = POLLIN;
        for (i = 0; i < nconn; i++) {
            pfd[i + 2].fd = conns[i].fd;
            pfd[i + 2].events = POLLIN;
        }
        if (poll(pfd, (nfds_t)nconn + 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (pfd[0].revents)
            return; /* parent closed the pipe */
        if ((pfd[1].revents & POLLIN) && nconn < MAX_CONNS) {
            fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                accepted++;
                conns[nconn].fd = fd;
                sk_buf_init(&conns[nconn].in);
                nconn++;
            }
        }
        for (i = 0; i < nconn; i++) {
            if (!(pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) || pfd[i + 2].fd != conns[i].fd)
                continue;
            r = read(conns[i].fd, chunk, sizeof(chunk));
            rc = 0;
            if (r <= 0) {
                rc = -1;
            } else if (conns[i].in.len == 0 && (unsigned char)chunk[0] == 0x16) {
                /* A TLS ClientHello on a plain port: answer in clear text and hang up. */
                static const char plain[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
                write_all(conns[i].fd, plain, sizeof(plain) - 1);
                rc = -1;
            } else {
                sk_buf_add(&conns[i].in, chunk, (size_t)r);
                while (rc == 0 && (len = request_len(&conns[i].in)) > 0) {
                    rc = handle(conns[i].fd, conns[i].in.p, len, accepted);
                    memmove(conns[i].in.p, conns[i].in.p + len, conns[i].in.len - len + 1);
                    conns[i].in.len -= len;
                }
            }
            if (rc < 0) {
                close(conns[i].fd);
                sk_buf_release(&conns[i].in);
                conns[i] = conns[--nconn];
                pfd[i + 2] = pfd[nconn + 2];
                i--;
            }
        }
    }
}

static void server_start(struct server *s)
{
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    int lfd, pfd[2], one = 1;

    memset(s, 0, sizeof(*s));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0 || pipe(pfd) < 0) {
        perror("http_test: server");
        exit(1);
    }
    s->port = ntohs(sa.sin_port);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    fflush(stdout);
    s->pid = fork();
    if (s->pid == 0) {
        signal(SIGPIPE, SIG_IGN);
        alarm(60); /* never outlive a wedged test */
        close(pfd[1]);
        serve(lfd, pfd[0]);
        _exit(0); /* skip atexit handlers (and LeakSanitizer) in the child */
    }
    close(lfd);
    close(pfd[0]);
    s->ctl = pfd[1];
}

static void server_stop(struct server *s)
{
    int status;

    close(s->ctl);
    waitpid(s->pid, &status, 0);
}

static void url(char *out, size_t n, const struct server *s, const char *path)
{
    snprintf(out, n, "%s%s", s->base, path);
}

/* ---- tests ---- */

TEST(get_200_and_headers)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/ok");
    req.method = "GET";
    req.url = u;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.status == 200);
    ASSERT_STREQ(resp.body.p, "hello");
    ASSERT_STREQ(sk_headers_get(&resp.headers, "x-test"), "yes");
    ASSERT_STREQ(sk_headers_get(&resp.headers, "Content-Type"), "text/plain");
    ASSERT(sk_headers_get(&resp.headers, "HTTP/1.1 200 OK") == NULL);
    ASSERT(!resp.body.secret);

    req.method = "HEAD";
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.status == 200 && resp.body.len == 0);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(status_500_with_body)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/err");
    req.method = "POST";
    req.url = u;
    req.body = "x";
    req.body_len = 1;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.status == 500);
    ASSERT_STREQ(resp.body.p, "boom");
    ASSERT_STREQ(sk_headers_get(&resp.headers, "x-amzn-requestid"), "r-500");
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(interim_response_headers_dropped)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/continue");
    req.method = "PUT";
    req.url = u;
    req.body = "data";
    req.body_len = 4;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.status == 201);
    ASSERT(sk_headers_get(&resp.headers, "X-Interim") == NULL);
    ASSERT_STREQ(sk_headers_get(&resp.headers, "X-Final"), "1");
    ASSERT_STREQ(resp.body.p, "ok");
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

/* Exactly the caller's headers: no Expect, Accept, or default Content-Type; no chunking. */
TEST(sends_exact_headers)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_headers hs = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];
    static char body[2048];

    memset(body, 'b', sizeof(body)); /* large enough that curl would add Expect: 100-continue */
    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/echo");
    sk_headers_add(&hs, "X-Custom", "1");
    sk_headers_add(&hs, "X-Empty", "");
    req.method = "POST";
    req.url = u;
    req.headers = &hs;
    req.body = body;
    req.body_len = sizeof(body);
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.status == 200);
    ASSERT(strncmp(resp.body.p, "POST /echo HTTP/1.1\r\n", 21) == 0);
    ASSERT(strstr(resp.body.p, "\r\nX-Custom: 1\r\n") != NULL);
    ASSERT(strstr(resp.body.p, "\r\nX-Empty:") != NULL);
    ASSERT(strstr(resp.body.p, "\r\nContent-Length: 2048\r\n") != NULL);
    ASSERT(ci_find(resp.body.p, "Expect") == NULL);
    ASSERT(ci_find(resp.body.p, "Accept") == NULL);
    ASSERT(ci_find(resp.body.p, "Content-Type") == NULL);
    ASSERT(ci_find(resp.body.p, "Transfer-Encoding") == NULL);
    ASSERT(ci_find(resp.body.p, "User-Agent") == NULL);
    ASSERT(resp.body.len > sizeof(body) && resp.body.p[resp.body.len - 1] == 'b');

    /* The caller's Accept and Content-Type are kept. */
    sk_headers_add(&hs, "Accept", "application/json");
    sk_headers_add(&hs, "Content-Type", "application/x-amz-json-1.1");
    req.body = "{}";
    req.body_len = 2;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(strstr(resp.body.p, "\r\nAccept: application/json\r\n") != NULL);
    ASSERT(strstr(resp.body.p, "\r\nContent-Type: application/x-amz-json-1.1\r\n") != NULL);
    ASSERT(strstr(resp.body.p, "\r\n\r\n{}") != NULL);

    /* PUT carries its body; DELETE without one has no Content-Type either. */
    req.method = "PUT";
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(strncmp(resp.body.p, "PUT /echo HTTP/1.1\r\n", 20) == 0);
    ASSERT(strstr(resp.body.p, "\r\nContent-Length: 2\r\n") != NULL);
    ASSERT(strstr(resp.body.p, "\r\n\r\n{}") != NULL);
    req.method = "DELETE";
    req.body = NULL;
    req.body_len = 0;
    req.headers = NULL;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(strncmp(resp.body.p, "DELETE /echo HTTP/1.1\r\n", 23) == 0);
    ASSERT(ci_find(resp.body.p, "Content-Type") == NULL);

    sk_headers_release(&hs);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(connection_reused)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128], u2[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/count");
    url(u2, sizeof(u2), &s, "/ok");
    req.method = "GET";
    req.url = u;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT_STREQ(resp.body.p, "1");
    req.url = u2;
    req.method = "POST";
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    req.url = u;
    req.method = "GET";
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT_STREQ(resp.body.p, "1"); /* still the first connection */
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(body_over_max)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/big");
    req.method = "GET";
    req.url = u;
    req.max_body = 1000;
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(strstr(err.msg, "response body over 1000 bytes") != NULL);
    ASSERT(err.retryable == SK_RETRY_NO);
    url(u, sizeof(u), &s, "/bigclose"); /* no Content-Length: caught while streaming */
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(strstr(err.msg, "response body over 1000 bytes") != NULL);
    ASSERT(resp.body.len <= 1000);
    req.max_body = 100000; /* exactly at the limit is fine */
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.body.len == 100000);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(connection_refused)
{
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    char u[160];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    /* A bound but not listening port refuses connections, and nobody else can take it. */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    ASSERT(getsockname(fd, (struct sockaddr *)&sa, &slen) == 0);
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x?X-Amz-Signature=sekrit", ntohs(sa.sin_port));
    sk_http_resp_init(&resp);
    req.method = "GET";
    req.url = u;
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(err.retryable == SK_RETRY_TRANSIENT);
    ASSERT(strncmp(err.msg, "GET 127.0.0.1: ", 15) == 0);
    ASSERT(strstr(err.msg, "sekrit") == NULL);
    ASSERT(strstr(err.msg, "X-Amz") == NULL);
    close(fd);
    sk_http_resp_release(&resp);
    sk_http_free(h);
}

TEST(timeout)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    url(u, sizeof(u), &s, "/slow");
    req.method = "GET";
    req.url = u;
    req.timeout_ms = 300;
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(err.retryable == SK_RETRY_TIMEOUT);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

/* A connection reset before the answer, or part-way through the body, is a transient network
 * failure: the API layer retries it (standard mode retries resets). */
TEST(connection_reset)
{
    static const char *const paths[] = { "/reset", "/resetmid" };
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];
    size_t i;

    server_start(&s);
    sk_http_resp_init(&resp);
    for (i = 0; i < 2; i++) {
        url(u, sizeof(u), &s, paths[i]);
        req.method = "POST";
        req.url = u;
        req.body = "{}";
        req.body_len = 2;
        ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
        printf("# %s: %s\n", paths[i], err.msg);
        ASSERT(err.retryable == SK_RETRY_TRANSIENT);
        ASSERT(err.http_status == 0);
    }
    /* The handle is still usable afterwards. */
    url(u, sizeof(u), &s, "/ok");
    req.method = "GET";
    req.body = NULL;
    req.body_len = 0;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.status == 200);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(https_to_plain_port)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok", s.port);
    req.method = "GET";
    req.url = u;
    req.timeout_ms = 5000;
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(strncmp(err.msg, "GET 127.0.0.1: ", 15) == 0);
    ASSERT(resp.status == 0);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

TEST(bad_ca_bundle)
{
    struct sk_http *h = sk_http_new("/nonexistent/ca.pem");
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    struct server s;
    char u[128];

    server_start(&s);
    sk_http_resp_init(&resp);
    snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok", s.port);
    req.method = "GET";
    req.url = u;
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(err.retryable == SK_RETRY_NO);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

/*
 * TLS verification against "openssl s_server" with a fresh self-signed certificate: refused with
 * the system store, accepted when that certificate is the CA bundle. Skipped without openssl(1).
 */
TEST(tls_verification)
{
    char dir[] = "/tmp/http_test_tls.XXXXXX", cmd[512], cert[96], key[96], u[128], line[256];
    struct sk_http *h = NULL, *h2 = NULL;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    FILE *fp = NULL;
    pid_t pid = -1;
    int pfd[2], port = 0, status, devnull;

    sk_http_resp_init(&resp);
    if (!mkdtemp(dir)) {
        H_FAIL("mkdtemp");
        return;
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        printf("# skip: openssl(1) cannot make a certificate\n");
        goto out;
    }
    if (pipe(pfd) < 0)
        goto out;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        devnull = open("/dev/null", O_RDWR);
        dup2(pfd[1], 1);
        dup2(devnull, 2);
        dup2(devnull, 0);
        close(pfd[0]);
        alarm(30);
        execlp("openssl", "openssl", "s_server", "-accept", "127.0.0.1:0", "-cert", cert, "-key", key, "-www",
               "-naccept", "2", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    fp = fdopen(pfd[0], "r");
    while (fp && fgets(line, sizeof(line), fp))
        if (sscanf(line, "ACCEPT 127.0.0.1:%d", &port) == 1)
            break;
    if (!port) {
        printf("# skip: openssl s_server did not start\n");
        goto out;
    }
    snprintf(u, sizeof(u), "https://127.0.0.1:%d/", port);
    req.method = "GET";
    req.url = u;
    req.timeout_ms = 10000;
    h = sk_http_new(NULL);
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(err.retryable == SK_RETRY_NO);
    ASSERT(strstr(err.msg, "TLS certificate could not be verified") != NULL);
    h2 = sk_http_new(cert);
    ASSERT_OK(sk_http_send(h2, &req, &resp, &err), &err);
    ASSERT(resp.status == 200);
out:
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
    }
    if (fp)
        fclose(fp);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    sk_http_free(h);
    sk_http_free(h2);
    sk_http_resp_release(&resp);
}

TEST(rejects_other_schemes)
{
    struct sk_http *h = sk_http_new(NULL);
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;

    sk_http_resp_init(&resp);
    req.method = "GET";
    req.url = "file:///etc/passwd";
    ASSERT(sk_http_send(h, &req, &resp, &err) == -1);
    ASSERT(resp.body.len == 0);
    sk_http_resp_release(&resp);
    sk_http_free(h);
}

/* ---- tracing ---- */

static void collect(void *ctx, const char *line)
{
    struct sk_buf *b = ctx;

    ASSERT(strchr(line, '\n') == NULL);
    sk_buf_adds(b, line);
    sk_buf_addch(b, '\n');
}

TEST(trace_redacts)
{
    struct server s;
    struct sk_http *h = sk_http_new(NULL);
    struct sk_headers hs = SK_HEADERS_INIT;
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    struct sk_buf tr = SK_BUF_INIT;
    char u[256];
    const char *body = "{\"Name\":\"p\",\"Value\":\"topsecret\"}";

    server_start(&s);
    sk_http_resp_init(&resp);
    ASSERT(!sk_http_tracing(h));
    sk_http_set_trace(h, collect, &tr);
    ASSERT(sk_http_tracing(h));
    url(u, sizeof(u), &s, "/echo");
    sk_headers_add(&hs, "Authorization",
                   "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ssm/aws4_request, "
                   "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=deadbeefcafe");
    sk_headers_add(&hs, "X-Amz-Security-Token", "SESSIONTOKEN");
    sk_headers_add(&hs, "x-aws-ec2-metadata-token", "IMDSTOKEN");
    sk_headers_add(&hs, "x-amz-sso_bearer_token", "SSOTOKEN");
    sk_headers_add(&hs, "X-Amz-Target", "AmazonSSM.PutParameter");
    req.method = "POST";
    req.url = u;
    req.headers = &hs;
    req.body = body;
    req.body_len = strlen(body);
    req.flags = SK_HTTP_SECRET_REQ | SK_HTTP_SECRET_RESP;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.body.secret);
    ASSERT(strstr(resp.body.p, "topsecret") != NULL); /* the echo itself is intact */
    ASSERT(strstr(tr.p, "> POST http://127.0.0.1:") != NULL);
    ASSERT(strstr(tr.p, "> Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ssm/aws4_request, "
                        "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=<redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "> X-Amz-Security-Token: <redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "> x-aws-ec2-metadata-token: <redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "> x-amz-sso_bearer_token: <redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "> X-Amz-Target: AmazonSSM.PutParameter\n") != NULL);
    ASSERT(strstr(tr.p, "< HTTP 200\n") != NULL);
    ASSERT(strstr(tr.p, "< X-Amz-Security-Token: <redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "> [body 32 bytes") != NULL);
    ASSERT(strstr(tr.p, "< [body ") != NULL);
    ASSERT(strstr(tr.p, "deadbeef") == NULL);
    ASSERT(strstr(tr.p, "SESSIONTOKEN") == NULL);
    ASSERT(strstr(tr.p, "IMDSTOKEN") == NULL);
    ASSERT(strstr(tr.p, "SSOTOKEN") == NULL);
    ASSERT(strstr(tr.p, "resp-token") == NULL);
    ASSERT(strstr(tr.p, "topsecret") == NULL);

    /* Not secret: bodies are traced; other Authorization schemes are hidden whole. */
    sk_buf_reset(&tr);
    sk_headers_release(&hs);
    sk_headers_add(&hs, "Authorization", "Bearer containertoken");
    req.flags = 0;
    req.body = "Action=DescribeTargetHealth";
    req.body_len = strlen(req.body);
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(resp.body.secret); /* a secret buffer stays secret when the response is reused */
    ASSERT(strstr(tr.p, "> Authorization: <redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "> Authorization: Bearer") == NULL);
    ASSERT(strstr(tr.p, "> [body 27 bytes]\nAction=DescribeTargetHealth\n") != NULL);
    /* the echoed request is plain text, neither JSON, XML nor a form: not shown at all */
    ASSERT(strstr(tr.p, "< <body of ") != NULL && strstr(tr.p, " bytes not shown>\n") != NULL);
    ASSERT(strstr(tr.p, "POST /echo") == NULL);

    /* Presigned URL: the signing parameters' values are hidden, the rest kept. */
    sk_buf_reset(&tr);
    snprintf(u, sizeof(u),
             "%s/ok?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%%2F20260101&X-Amz-Expires=900"
             "&X-Amz-Security-Token=QUERYTOKEN&X-Amz-Signature=abcdef0123",
             s.base);
    req.method = "GET";
    req.headers = NULL;
    req.body = NULL;
    req.body_len = 0;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(strstr(tr.p, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<redacted>&X-Amz-Expires=900"
                        "&X-Amz-Security-Token=<redacted>&X-Amz-Signature=<redacted>\n") != NULL);
    ASSERT(strstr(tr.p, "abcdef0123") == NULL);
    ASSERT(strstr(tr.p, "QUERYTOKEN") == NULL);
    ASSERT(strstr(tr.p, "AKIDEXAMPLE") == NULL);
    ASSERT(strstr(tr.p, "< X-Test: yes\n") != NULL);
    ASSERT(strstr(tr.p, "< [body 5 bytes]\nhello\n") != NULL);

    /* sk_http_trace splits lines; with no callback it is a no-op. */
    sk_buf_reset(&tr);
    sk_http_trace(h, "a %d\nb", 1);
    ASSERT_STREQ(tr.p, "a 1\nb\n");
    sk_http_set_trace(h, NULL, NULL);
    sk_http_trace(h, "ignored");
    ASSERT_STREQ(tr.p, "a 1\nb\n");

    sk_buf_release(&tr);
    sk_headers_release(&hs);
    sk_http_resp_release(&resp);
    sk_http_free(h);
    server_stop(&s);
}

/* ---- the ops seam ---- */

struct fake {
    int calls;
    const char *last_url;
};

static int fake_send(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    struct fake *f = ctx;

    (void)err;
    f->calls++;
    f->last_url = req->url;
    resp->status = 418;
    sk_headers_add(&resp->headers, "X-Fake", "1");
    sk_buf_adds(&resp->body, "canned");
    return 0;
}

static int fake_fail(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    (void)ctx;
    (void)req;
    (void)resp;
    sk_errf(err, SK_E_NET, "fake failure");
    err->retryable = SK_RETRY_TRANSIENT;
    return -1;
}

TEST(ops_seam)
{
    struct sk_http *h = sk_http_new(NULL);
    struct fake f = { 0 };
    struct sk_http_ops ops = { fake_send, &f };
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;
    struct sk_buf tr = SK_BUF_INIT;

    sk_http_resp_init(&resp);
    sk_http_set_ops(h, &ops);
    sk_http_set_trace(h, collect, &tr);
    req.method = "GET";
    req.url = "https://ssm.us-east-1.amazonaws.com/";
    req.flags = SK_HTTP_SECRET_RESP;
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    ASSERT(f.calls == 1);
    ASSERT(resp.status == 418);
    ASSERT(resp.body.secret);
    ASSERT_STREQ(resp.body.p, "canned");
    ASSERT(strstr(tr.p, "> GET https://ssm.us-east-1.amazonaws.com/\n") != NULL);
    ASSERT(strstr(tr.p, "< HTTP 418\n< X-Fake: 1\n") != NULL);
    ASSERT(strstr(tr.p, "canned") == NULL);
    ops.send = fake_fail;
    sk_http_set_ops(h, &ops);
    ASSERT_ERR(sk_http_send(h, &req, &resp, &err), &err, SK_E_NET);
    printf("# %s\n", err.msg);
    ASSERT(err.retryable == SK_RETRY_TRANSIENT);
    ASSERT(resp.status == 0 && resp.body.len == 0 && resp.headers.n == 0);
    sk_http_set_ops(h, NULL);
    sk_buf_release(&tr);
    sk_http_resp_release(&resp);
    sk_http_free(h);
}

/* A transport answering with a canned response, for the trace of bodies. */
struct canned {
    long status;
    const char *header; /* "Name: value" or NULL */
    const char *body;
};

static int canned_send(void *ctx, const struct sk_http_req *req, struct sk_http_resp *resp, struct sk_err *err)
{
    const struct canned *c = ctx;

    (void)req;
    (void)err;
    resp->status = c->status;
    if (c->header) {
        const char *colon = strchr(c->header, ':');
        sk_headers_addn(&resp->headers, c->header, (size_t)(colon - c->header), colon + 2, strlen(colon + 2));
    }
    sk_buf_adds(&resp->body, c->body);
    return 0;
}

/* Trace of one POST with body (request) answered by c; the lines in *tr. */
static void traced(struct sk_http *h, struct canned *c, const char *body, struct sk_buf *tr)
{
    struct sk_http_ops ops = { canned_send, c };
    struct sk_http_req req = { 0 };
    struct sk_http_resp resp;
    struct sk_err err;

    sk_http_resp_init(&resp);
    sk_http_set_ops(h, &ops);
    sk_buf_reset(tr);
    req.method = "POST";
    req.url = "https://secretsmanager.us-east-1.amazonaws.com/";
    req.body = body;
    req.body_len = strlen(body);
    ASSERT_OK(sk_http_send(h, &req, &resp, &err), &err);
    sk_http_resp_release(&resp);
}

TEST(trace_bodies_redacted_and_escaped)
{
    struct sk_http *h = sk_http_new(NULL);
    struct sk_buf tr = SK_BUF_INIT, big = SK_BUF_INIT;
    struct canned c = { 200, NULL, "" };
    const char *p;
    size_t i;

    sk_http_set_trace(h, collect, &tr);
    /* JSON: the sensitive members' values go, the rest stays */
    c.body = "{\"ARN\":\"arn:x\",\"SecretString\":\"resp-secret-1\"}";
    traced(h, &c, "{\"SecretId\":\"db\",\"SecretString\":\"req-secret-1\",\"Nested\":[{\"Password\":\"pw-2\"}]}", &tr);
    ASSERT(strstr(
        tr.p, "\n{\"SecretId\":\"db\",\"SecretString\":\"<redacted>\",\"Nested\":[{\"Password\":\"<redacted>\"}]}\n"));
    ASSERT(strstr(tr.p, "\n{\"ARN\":\"arn:x\",\"SecretString\":\"<redacted>\"}\n"));
    ASSERT(!strstr(tr.p, "secret-1") && !strstr(tr.p, "pw-2"));
    /* a form: sensitive parameters by name */
    c.body = "";
    traced(h, &c, "Action=ModifyDBInstance&MasterUserPassword=form-pw&DBInstanceIdentifier=db1", &tr);
    ASSERT(strstr(tr.p, "\nAction=ModifyDBInstance&MasterUserPassword=<redacted>&DBInstanceIdentifier=db1\n"));
    ASSERT(!strstr(tr.p, "form-pw"));
    /* XML: sensitive elements */
    c.body = "<AssumeRoleResponse><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>xml-sak"
             "</SecretAccessKey><SessionToken>xml-tok</SessionToken></Credentials></AssumeRoleResponse>";
    traced(h, &c, "Action=AssumeRole", &tr);
    ASSERT(strstr(tr.p, "<AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey><redacted></SecretAccessKey>"));
    ASSERT(!strstr(tr.p, "xml-sak") && !strstr(tr.p, "xml-tok"));
    /* anything else: its size only */
    c.body = "Value: not-a-form resp-text";
    traced(h, &c, "raw text with spaces, a Password=raw-pw", &tr);
    ASSERT(strstr(tr.p, "> <body of 39 bytes not shown>\n"));
    ASSERT(strstr(tr.p, "< <body of 27 bytes not shown>\n"));
    ASSERT(!strstr(tr.p, "raw-pw") && !strstr(tr.p, "resp-text"));

    /* A registered value is scrubbed wherever it appears (an error quoting it), in its JSON form. */
    sk_secrets_add(sk_http_secrets(h), "quo\"ted-secret", 14);
    c.status = 400;
    c.body = "{\"__type\":\"ValidationException\",\"message\":\"Value 'quo\\\"ted-secret' at 'value' failed\"}";
    traced(h, &c, "{\"Name\":\"/p\"}", &tr);
    ASSERT(strstr(tr.p, "\"message\":\"Value '<redacted>' at 'value' failed\"") != NULL);
    ASSERT(!strstr(tr.p, "ted-secret"));

    /* Escape sequences and forged lines from a server are escaped, line by line. */
    c.status = 200;
    c.header = "X-Evil: \x1b]0;pwned\x07\x1b[31m##[add-mask]x";
    c.body = "";
    traced(h, &c, "", &tr);
    ASSERT(strstr(tr.p, "< X-Evil: \\x1b]0;pwned\\x07\\x1b[31m##\\x5badd-mask]x\n"));
    ASSERT(!strchr(tr.p, '\x1b') && !strchr(tr.p, '\x07'));
    c.header = NULL;
    sk_buf_reset(&tr);
    sk_http_trace(h, "* note\n::set-output name=x::y");
    ASSERT_STREQ(tr.p, "* note\n\\x3a:set-output name=x::y\n");

    /* A long body is scrubbed before it is cut: no part of a secret at the cut. The compact dump
     * is {"a":"xxx...","m":"SECRET"}: the secret starts 5 bytes before the 64 KiB cut. */
    sk_secrets_add(sk_http_secrets(h), "cutSECRETvalue-0123456789", 25);
    sk_buf_adds(&big, "{\"a\":\"");
    for (i = 0; i < 65536 - 13 - 5; i++)
        sk_buf_addch(&big, 'x');
    sk_buf_adds(&big, "\",\"m\":\"cutSECRETvalue-0123456789\"}");
    c.body = big.p;
    traced(h, &c, "", &tr);
    ASSERT(strstr(tr.p, "< [body truncated after ") != NULL);
    ASSERT(!strstr(tr.p, "cutSE") && !strstr(tr.p, "SECRET"));
    p = strstr(tr.p, "\"m\":\"");
    ASSERT(p && strncmp(p + 5, "<reda\n", 6) == 0);

    sk_buf_release(&big);
    sk_buf_release(&tr);
    sk_http_free(h);
}

int main(void)
{
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    RUN(get_200_and_headers);
    RUN(status_500_with_body);
    RUN(interim_response_headers_dropped);
    RUN(sends_exact_headers);
    RUN(connection_reused);
    RUN(body_over_max);
    RUN(connection_refused);
    RUN(timeout);
    RUN(https_to_plain_port);
    RUN(bad_ca_bundle);
    RUN(tls_verification);
    RUN(rejects_other_schemes);
    RUN(trace_redacts);
    RUN(ops_seam);
    RUN(trace_bodies_redacted_and_escaped);
    RUN(connection_reset);
    return DONE();
}
