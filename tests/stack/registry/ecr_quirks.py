#!/usr/bin/env python3
"""ecr_quirks.py: a TLS reverse proxy in front of the test registry that behaves like ECR on request.

    python3 tests/stack/registry/ecr_quirks.py [--upstream HOST:PORT] [--ca FILE]
        [--cert FILE --key FILE] [--log FILE] [QUIRKS...]

docker-registry 2.8.2 is a lenient oracle: it does not reproduce ECR's deviations from the OCI
distribution spec (registry-anchors.md §0, §2.6). This proxy forwards every request to the real
registry and injects them, so tests can check how a client copes. Standard library only.

Upstream and TLS (defaults come from the stack's env, as written by tests/stack/up):
  --upstream HOST:PORT  the registry to forward to (default $SK_REGISTRY), verified with --ca
  --ca FILE             the CA that signed its certificate (default $SK_REGISTRY_CA)
  --cert/--key FILE     the proxy's own certificate and key (default: the stack's server
                        certificate, DIR/tls/server.pem and server-key.pem next to the CA file;
                        it is valid for 127.0.0.1, so clients trust the proxy with the same CA)

Quirks (any combination):
  --patch-201           a successful PATCH answers 201 instead of 202 (ECR; regclient#81)
  --manifest-429 N      the first N manifest PUTs answer 429 TOOMANYREQUESTS, Retry-After: 1
  --retry-after S       with --manifest-429: send Retry-After: S instead (S >= 0)
  --immutable           a manifest PUT by tag to a tag that exists answers 400 TAG_INVALID, even
                        when the digest is the same (aws/containers-roadmap#2179); by digest is fine
  --reject-empty-blob   committing an upload that received 0 bytes answers 400 BLOB_UPLOAD_INVALID
                        "... does not have any parts" (radius-project/radius#7855)
  --eof-on-post REPO    POST /v2/REPO/blobs/uploads/ closes the connection without an answer (ECR,
                        for a repository that does not exist); may be given several times
  --bad-blob-digest     a successful blob commit answers with a wrong Docker-Content-Digest

  --log FILE            one line per request: METHOD PATH STATUS (STATUS "EOF": no answer sent);
                        PATH as the client sent it, with its query

Absolute Location headers that point at the upstream are rewritten to point at the proxy; relative
ones pass through. Authorization passes through. Bodies are streamed both ways (Content-Length or
chunked), never held whole. Prints the port it listens on (127.0.0.1) once ready; exits on SIGTERM.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import urllib.parse

CHUNK = 64 * 1024
MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])
# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business on each side.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authenticate", "proxy-authorization"}

RE_MANIFEST = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
RE_UPLOADS = re.compile(r"^/v2/(.+)/blobs/uploads/?$")
RE_SESSION = re.compile(r"^/v2/(.+)/blobs/uploads/([^/]+)$")


class State:
    """What the quirks need to remember across requests (and threads)."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.manifest_429_left = args.manifest_429
        self.upload_bytes = {}  # upload session uuid -> bytes received by PATCH/PUT so far
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.port = 0

    def take_429(self):
        with self.lock:
            if self.manifest_429_left > 0:
                self.manifest_429_left -= 1
                return True
            return False

    def add_bytes(self, uuid, n):
        with self.lock:
            self.upload_bytes[uuid] = self.upload_bytes.get(uuid, 0) + n

    def bytes_of(self, uuid):
        with self.lock:
            return self.upload_bytes.get(uuid, 0)

    def write_log(self, method, path, status):
        if self.log:
            with self.lock:
                self.log.write("%s %s %s\n" % (method, path, status))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ecr-quirks"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: --log is the log
        pass

    def setup(self):
        self.request.settimeout(300)
        self.request.do_handshake()
        super().setup()

    # --- plumbing -------------------------------------------------------------------------

    @property
    def st(self):
        return self.server.state

    def upstream(self):
        a = self.st.args
        host, _, port = a.upstream.rpartition(":")
        return http.client.HTTPSConnection(host, int(port), context=self.server.client_ctx, timeout=300)

    def body_chunks(self):
        """The request body, streamed: Content-Length or chunked. Yields bytes."""
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers, up to the empty line
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return
                left = size
                while left:
                    d = self.rfile.read(min(left, CHUNK))
                    if not d:
                        raise ConnectionError("client closed inside a chunk")
                    left -= len(d)
                    yield d
                self.rfile.readline(3)  # CRLF after the chunk
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                d = self.rfile.read(min(left, CHUNK))
                if not d:
                    raise ConnectionError("client closed inside the body")
                left -= len(d)
                yield d

    def drain(self):
        for _ in self.body_chunks():
            pass

    def answer(self, status, headers=(), body=b""):
        """A response made here (not upstream's)."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()
        self.st.write_log(self.command, self.path, status)

    def answer_error(self, status, code, message, extra=()):
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
        self.answer(status, [("Content-Type", "application/json; charset=utf-8"),
                             ("Docker-Distribution-API-Version", "registry/2.0")] + list(extra), body)

    def eof(self):
        """Answer nothing: close the connection, as ECR does for a missing repository."""
        self.close_connection = True
        self.st.write_log(self.command, self.path, "EOF")
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def rewrite_location(self, loc):
        """Absolute URLs at the upstream point at the proxy instead; anything else passes."""
        u = urllib.parse.urlsplit(loc)
        if u.scheme and u.netloc.lower() == self.st.args.upstream.lower():
            return urllib.parse.urlunsplit(("https", "127.0.0.1:%d" % self.st.port, u.path, u.query, u.fragment))
        return loc

    def forward(self, path=None, status_override=None, header_override=None, count_upload=None):
        """Send this request upstream (streaming its body) and relay the answer (streaming it)."""
        up = self.upstream()
        path = path or self.path
        try:
            up.putrequest(self.command, path, skip_host=True, skip_accept_encoding=True)
            up.putheader("Host", self.st.args.upstream)
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            for k, v in self.headers.items():
                if k.lower() in HOP or k.lower() in ("host", "expect"):
                    continue
                up.putheader(k, v)
            if chunked:
                up.putheader("Transfer-Encoding", "chunked")
            up.endheaders()
            for d in self.body_chunks():
                if count_upload:
                    self.st.add_bytes(count_upload, len(d))
                up.send(b"%x\r\n%s\r\n" % (len(d), d) if chunked else d)
            if chunked:
                up.send(b"0\r\n\r\n")
            resp = up.getresponse()
            status = resp.status
            if status_override:
                status = status_override(status)
            self.send_response(status)
            length = resp.getheader("Content-Length")
            for k, v in resp.getheaders():
                kl = k.lower()
                if kl in HOP or kl == "content-length":
                    continue
                if kl == "location":
                    v = self.rewrite_location(v)
                if header_override and kl in header_override:
                    v = header_override[kl](status, v)
                self.send_header(k, v)
            relay_chunked = False
            if self.command == "HEAD" or status in (204, 304) or 100 <= status < 200:
                if length is not None:
                    self.send_header("Content-Length", length)
            elif length is not None:
                self.send_header("Content-Length", length)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                relay_chunked = True
            self.end_headers()
            if self.command != "HEAD":
                while True:
                    d = resp.read(CHUNK)
                    if not d:
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d) if relay_chunked else d)
                if relay_chunked:
                    self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            self.st.write_log(self.command, self.path, status)
        finally:
            up.close()

    def upstream_head_manifest(self, repo, ref):
        """Status of HEAD /v2/REPO/manifests/REF upstream, with the client's credentials."""
        up = self.upstream()
        try:
            h = {"Host": self.st.args.upstream, "Accept": MANIFEST_ACCEPT}
            if self.headers.get("Authorization"):
                h["Authorization"] = self.headers["Authorization"]
            up.request("HEAD", "/v2/%s/manifests/%s" % (repo, ref), headers=h)
            r = up.getresponse()
            r.read()
            return r.status
        finally:
            up.close()

    # --- the quirks -----------------------------------------------------------------------

    def handle_any(self):
        a = self.st.args
        path = urllib.parse.urlsplit(self.path).path
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        m_manifest = RE_MANIFEST.match(path)
        m_uploads = RE_UPLOADS.match(path)
        m_session = RE_SESSION.match(path)

        if self.command == "POST" and m_uploads and m_uploads.group(1) in a.eof_on_post:
            self.drain()
            return self.eof()

        if self.command == "PUT" and m_manifest:
            repo, ref = m_manifest.groups()
            if a.manifest_429 and self.st.take_429():
                self.drain()
                return self.answer_error(429, "TOOMANYREQUESTS", "Rate exceeded", [("Retry-After", str(a.retry_after))])
            if a.immutable and ":" not in ref and self.upstream_head_manifest(repo, ref) == 200:
                self.drain()
                return self.answer_error(
                    400, "TAG_INVALID",
                    "The image tag '%s' already exists in the '%s' repository and cannot be overwritten "
                    "because the repository is immutable." % (ref, repo))
            return self.forward()

        if m_session and self.command in ("PATCH", "PUT"):
            uuid = m_session.group(2)
            if self.command == "PATCH":
                return self.forward(
                    count_upload=uuid,
                    status_override=(lambda s: 201 if s == 202 else s) if a.patch_201 else None)
            # PUT: the commit (with ?digest=), maybe carrying the last bytes
            if a.reject_empty_blob and "digest" in query:
                body_len = int(self.headers.get("Content-Length") or 0)
                chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
                if self.st.bytes_of(uuid) == 0 and body_len == 0 and not chunked:
                    self.drain()
                    return self.answer_error(
                        400, "BLOB_UPLOAD_INVALID",
                        "The upload %s for repository '%s' cannot be completed because it does not have "
                        "any parts." % (uuid, m_session.group(1)))
            override = None
            if a.bad_blob_digest and "digest" in query:
                def wrong(status, value):
                    if status != 201:
                        return value
                    return "sha256:" + hashlib.sha256(b"ecr_quirks wrong digest for " + value.encode()).hexdigest()
                override = {"docker-content-digest": wrong}
            return self.forward(count_upload=uuid, header_override=override)

        return self.forward()

    def run_one(self):
        try:
            self.handle_any()
        except (ConnectionError, ssl.SSLError, socket.timeout, BrokenPipeError) as e:
            self.close_connection = True
            self.st.write_log(self.command, self.path, "ERR(%s)" % type(e).__name__)
        except Exception as e:  # never leave a client hanging on a bug here
            self.close_connection = True
            self.st.write_log(self.command, self.path, "ERR(%s: %s)" % (type(e).__name__, e))
            print("ecr_quirks: %s %s: %r" % (self.command, self.path, e), file=sys.stderr, flush=True)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = run_one


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def get_request(self):
        # The TLS handshake happens in the request's thread (on its first read), so a client that
        # never finishes one cannot stall the accept loop.
        sock, addr = self.socket.accept()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        # A client that went away (or failed the handshake) is not news.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (OSError, ssl.SSLError)):
            super().handle_error(request, client_address)


def main():
    env = os.environ
    p = argparse.ArgumentParser(description="TLS reverse proxy injecting ECR's registry quirks")
    p.add_argument("--upstream", default=env.get("SK_REGISTRY"))
    p.add_argument("--ca", default=env.get("SK_REGISTRY_CA"))
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--log")
    p.add_argument("--patch-201", action="store_true")
    p.add_argument("--manifest-429", type=int, default=0, metavar="N")
    p.add_argument("--retry-after", type=int, default=1, metavar="S")
    p.add_argument("--immutable", action="store_true")
    p.add_argument("--reject-empty-blob", action="store_true")
    p.add_argument("--eof-on-post", action="append", default=[], metavar="REPO")
    p.add_argument("--bad-blob-digest", action="store_true")
    args = p.parse_args()
    if not args.upstream or not args.ca:
        p.error("need --upstream and --ca (or SK_REGISTRY and SK_REGISTRY_CA from the stack's env)")
    tls = os.path.join(os.path.dirname(os.path.abspath(args.ca)), "tls")
    args.cert = args.cert or os.path.join(tls, "server.pem")
    args.key = args.key or os.path.join(tls, "server-key.pem")

    srv = Server(("127.0.0.1", 0), Handler)
    srv.state = State(args)
    srv.state.port = srv.server_address[1]
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(args.cert, args.key)
    srv.tls = sctx
    srv.client_ctx = ssl.create_default_context(cafile=args.ca)

    def stop(*_):
        # shutdown() waits for serve_forever, which runs in this thread: do it from another.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(srv.state.port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
