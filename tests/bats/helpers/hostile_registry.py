#!/usr/bin/env python3
"""hostile_registry.py: a registry that attacks its client, for tests/bats/security-registry.bats.

    python3 tests/bats/helpers/hostile_registry.py --log FILE [--cert FILE --key FILE | --plain]
        [--ask-auth] [--location URL] [--accept-uploads] [--redirect URL]

Listens on 127.0.0.1 only, on a free port, TLS with the stack's server certificate (valid for
127.0.0.1 and localhost) unless --plain (cleartext http, the target of a downgrade). Prints its port
once ready; exits on SIGTERM, or by itself after 120 s so that a test that dies cannot leave it.

Every request is logged to --log as one line, "METHOD PATH auth=VALUE" where VALUE is the
Authorization header exactly as received ("-" when there was none): a credential that reaches this
server lands in the log, where the secret-hygiene scan of the test finds it too.

  --ask-auth        /v2/ answers 401 with WWW-Authenticate: Basic (a registry that wants
                    credentials); without it, /v2/ answers 200
  --location URL    POST /v2/<repo>/blobs/uploads/ answers 202 with Location: URL (the attack:
                    an upload moved to another host, or to plain http)
  --accept-uploads  answer PATCH 202 and PUT 201 (with the digest the client names) on any path,
                    so the client goes on with what it believes is a successful upload
  --redirect URL    answer every request 307 with Location: URL (a client must not follow)
Anything else: HEAD of a blob or manifest 404, other requests 404 (CONNECT too: as an https proxy,
it logs where a client tried to go).
"""
import argparse
import http.server
import os
import signal
import socket
import ssl
import sys
import threading
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-registry"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        self.request.settimeout(30)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def drain(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                self.rfile.read(size)
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            d = self.rfile.read(min(n, 65536))
            if not d:
                return
            n -= len(d)

    def answer(self, status, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.wfile.flush()

    def run_one(self):
        a = self.server.args
        with self.server.lock:
            self.server.log.write("%s %s auth=%s\n" % (self.command, self.path, self.headers.get("Authorization", "-")))
            self.server.log.flush()
        try:
            self.drain()
        except (OSError, ValueError):
            self.close_connection = True
            return
        path = urllib.parse.urlsplit(self.path).path
        if a.redirect:
            return self.answer(307, [("Location", a.redirect)])
        if path in ("/v2", "/v2/"):
            if a.ask_auth and not self.headers.get("Authorization"):
                return self.answer(401, [("WWW-Authenticate", 'Basic realm="hostile"')])
            return self.answer(200)
        if self.command == "POST" and path.endswith("/blobs/uploads/") and a.location:
            return self.answer(202, [("Location", a.location), ("Range", "0-0")])
        if a.accept_uploads and self.command == "PATCH":
            return self.answer(202, [("Location", self.path), ("Range", "0-0")])
        if a.accept_uploads and self.command == "PUT":
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            return self.answer(201, [("Docker-Content-Digest", q.get("digest", [""])[0])])
        return self.answer(404)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_CONNECT = run_one


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls:
            return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr
        return sock, addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (OSError, ssl.SSLError, ValueError)):
            super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description="a hostile registry on 127.0.0.1, for tests")
    p.add_argument("--log", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--ask-auth", action="store_true")
    p.add_argument("--location")
    p.add_argument("--accept-uploads", action="store_true")
    p.add_argument("--redirect")
    args = p.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.lock = threading.Lock()
    srv.log = open(args.log, "a")
    if not args.plain:
        if not args.cert or not args.key:
            p.error("need --cert and --key, or --plain")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.tls = ctx

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Timer(120, stop).start()
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        os._exit(0)


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    main()
