#!/usr/bin/env python3
"""ecr_quirks.py: a TLS reverse proxy in front of the test registry that behaves like ECR, and fails,
on request.

    python3 tests/stack/registry/ecr_quirks.py [--upstream HOST:PORT] [--ca FILE]
        [--cert FILE --key FILE] [--port N] [--control-port N] [--log FILE] [--faults JSON|@FILE]
        [QUIRKS...]

docker-registry 2.8.2 is a lenient oracle: it does not reproduce ECR's deviations from the OCI
distribution spec (docs/fault-injection.md, "ECR's quirks"), and it never fails. This proxy forwards every
request to the real registry and injects ECR's quirks and transient or persistent faults, chosen by
rules, so tests can check how a client copes. Standard library only. docs/fault-injection.md
("Registry faults") has examples.

Once ready it prints one line, "PORT CONTROL_PORT" (both on 127.0.0.1, both TLS with the same
certificate); it exits on SIGTERM.

Upstream and TLS (defaults come from the stack's env, as written by tests/stack/up):
  --upstream HOST:PORT  the registry to forward to (default $SK_REGISTRY), verified with --ca
  --ca FILE             the CA that signed its certificate (default $SK_REGISTRY_CA)
  --cert/--key FILE     the proxy's own certificate and key (default: the stack's server
                        certificate, DIR/tls/server.pem and server-key.pem next to the CA file;
                        it is valid for 127.0.0.1, so clients trust the proxy with the same CA)
  --port N, --control-port N   listen there (default 0: any free port)

The control endpoint: https://127.0.0.1:CONTROL_PORT/shipkit-faults (no auth; it is never
forwarded, and the proxy port answers 404 for that path). The schema is shared with the AWS fault
layer:
  POST   {"seed": 42, "rules": [RULE...]}  replaces the whole rule set and zeroes the counters
         (400 {"error": "..."} for anything it does not understand, and the old set stays)
  GET    {"rules": [RULE + "left"...], "seed", "requests": N, "injected": {KIND: n},
          "log": [{"t", "match": "METHOD PATH", "fault": KIND}... the last 200]}
  DELETE clears the rules and zeroes the counters (as POST {"rules": []})
  RULE = {"fault": KIND, "match": {...}, "count": N, "rate": P, "delay": S, "retry_after": S}:
  all "match" keys given must hold; "count" (default unlimited) is how many matching requests get
  the fault, "rate" (default 1) the chance for each, drawn from an RNG seeded with "seed". The first
  rule, in order, that matches, applies (see ECR kinds), has count left and wins its draw is the
  one applied to a request; every other request passes through untouched.
  Match keys: "method" (GET HEAD POST PATCH PUT DELETE), "kind" (ping: /v2/; blob: blobs/<digest>;
  upload: POST blobs/uploads/; chunk: PATCH or PUT on an upload session; manifest; other), "repo"
  (exact), "path_regex" (re.search over the request target, query included).

Fault kinds common to both layers:
  throttle              429 {"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}
  throttle-retry-after  the same with Retry-After: retry_after (default 1)
  500 | 502 | 503       that status with a registry error body (503: UNAVAILABLE, "slow down"; with
                        Retry-After when the rule gives "retry_after")
  reset-before          the connection is reset (RST) once the request line and headers are read:
                        nothing reaches the registry
  reset-during          the request is forwarded and handled, then the connection is reset half-way
                        through the response's headers: the client cannot tell it happened
  slow                  wait "delay" seconds (default 5), then forward and answer normally
ECR kinds (docs/fault-injection.md, "ECR's quirks"); each applies only to the requests named, others fall through
to the next rule without using its count:
  patch-201             a PATCH on a session answered 202 upstream answers 201 instead (regclient#81)
  immutable             a manifest PUT by tag to a tag that exists upstream answers 400 TAG_INVALID,
                        even for the same digest (aws/containers-roadmap#2179); by digest is fine
  drop-mid-upload       a PATCH/PUT on a session with a body: half the body is read (a PATCH
                        forwards that half to the session upstream, a PUT forwards nothing), then the
                        connection is reset
  upload-no-restart     any request on an upload session that has already had a failed or dropped
                        request (any fault here, or an upstream error) answers 404
                        BLOB_UPLOAD_UNKNOWN: the client must POST a new session
  reject-empty-blob     committing a session that received 0 bytes answers 400 BLOB_UPLOAD_INVALID
                        "... does not have any parts" (radius-project/radius#7855)
  bad-blob-digest       a successful blob commit answers with a wrong Docker-Content-Digest
  eof                   the connection is closed without an answer (what ECR does on a POST to a
                        repository that does not exist)

Quirk flags (kept for tests/bats/ecr-quirks.bats): each preloads rules, in this order, after those
of --faults (a POST replaces them all):
  --eof-on-post REPO    {"fault":"eof","match":{"method":"POST","kind":"upload","repo":REPO}}
                        (may be given several times)
  --manifest-429 N      {"fault":"throttle-retry-after","match":{"method":"PUT","kind":"manifest"},
                         "count":N,"retry_after":S}
  --retry-after S       with --manifest-429: S (default 1)
  --immutable, --patch-201, --reject-empty-blob, --bad-blob-digest
                        {"fault": that kind}, unlimited
  --faults JSON|@FILE   a rule set as POSTed to the control endpoint

  --log FILE            one line per request: METHOD PATH STATUS, PATH as the client sent it, with
                        its query. STATUS is the status sent, or EOF (no answer), RST (reset before
                        answering), DROP (drop-mid-upload), STATUS+RST (reset-during: the status
                        upstream gave, cut short), ERR(...) (the client went away, or a bug)

Absolute Location headers that point at the upstream are rewritten to point at the proxy; relative
ones pass through. Authorization passes through. Bodies are streamed both ways (Content-Length or
chunked), never held whole.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
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

CONTROL_PATH = "/shipkit-faults"
RE_MANIFEST = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
RE_UPLOADS = re.compile(r"^/v2/(.+)/blobs/uploads/?$")
RE_SESSION = re.compile(r"^/v2/(.+)/blobs/uploads/([^/]+)$")
RE_BLOB = re.compile(r"^/v2/(.+)/blobs/([^/]+)$")
RE_REPO = re.compile(r"^/v2/(.+)/(?:blobs|manifests|tags|referrers)/")

COMMON_KINDS = {"throttle", "throttle-retry-after", "500", "502", "503", "reset-before", "reset-during", "slow"}
ECR_KINDS = {"patch-201", "immutable", "drop-mid-upload", "upload-no-restart", "reject-empty-blob",
             "bad-blob-digest", "eof"}
KINDS = COMMON_KINDS | ECR_KINDS
METHODS = {"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"}
REQ_KINDS = {"ping", "blob", "upload", "chunk", "manifest", "other"}
MATCH_KEYS = {"method", "kind", "repo", "path_regex"}
RULE_KEYS = {"fault", "match", "count", "rate", "delay", "retry_after"}
# Faults after which the upload session counts as failed (upload-no-restart).
NOT_FAILING = {"patch-201", "bad-blob-digest", "slow"}
ERRORS = {
    "500": (500, "UNKNOWN", "unknown error: internal server error"),
    "502": (502, "UNKNOWN", "bad gateway"),
    "503": (503, "UNAVAILABLE", "service unavailable: slow down"),
}
LOG_KEEP = 200


class RuleError(ValueError):
    pass


def parse_rules(doc):
    """Check a control document; return (seed, [rule dicts with "left"]). Raises RuleError."""
    if not isinstance(doc, dict):
        raise RuleError("the body must be a JSON object")
    extra = set(doc) - {"seed", "rules"}
    if extra:
        raise RuleError("unknown key(s): %s" % ", ".join(sorted(extra)))
    seed = doc.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise RuleError("seed must be an integer")
    rules = doc.get("rules", [])
    if not isinstance(rules, list):
        raise RuleError("rules must be a list")
    out = []
    for i, r in enumerate(rules):
        where = "rules[%d]" % i
        if not isinstance(r, dict):
            raise RuleError("%s must be an object" % where)
        extra = set(r) - RULE_KEYS
        if extra:
            raise RuleError("%s: unknown key(s): %s" % (where, ", ".join(sorted(extra))))
        f = r.get("fault")
        if f not in KINDS:
            raise RuleError("%s: fault must be one of %s, not %r" % (where, ", ".join(sorted(KINDS)), f))
        m = r.get("match", {})
        if not isinstance(m, dict):
            raise RuleError("%s: match must be an object" % where)
        extra = set(m) - MATCH_KEYS
        if extra:
            raise RuleError("%s: unknown match key(s): %s (known: %s)" % (where, ", ".join(sorted(extra)),
                                                                          ", ".join(sorted(MATCH_KEYS))))
        if "method" in m and m["method"] not in METHODS:
            raise RuleError("%s: match.method must be one of %s" % (where, ", ".join(sorted(METHODS))))
        if "kind" in m and m["kind"] not in REQ_KINDS:
            raise RuleError("%s: match.kind must be one of %s" % (where, ", ".join(sorted(REQ_KINDS))))
        if "repo" in m and not isinstance(m["repo"], str):
            raise RuleError("%s: match.repo must be a string" % where)
        rx = None
        if "path_regex" in m:
            try:
                rx = re.compile(m["path_regex"])
            except (re.error, TypeError) as e:
                raise RuleError("%s: match.path_regex: %s" % (where, e))
        count = r.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
            raise RuleError("%s: count must be an integer >= 0" % where)
        rate = r.get("rate", 1)
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise RuleError("%s: rate must be a number in [0, 1]" % where)
        delay = r.get("delay", 5.0)
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 3600:
            raise RuleError("%s: delay must be a number of seconds in [0, 3600]" % where)
        ra = r.get("retry_after", 1)
        if not isinstance(ra, int) or isinstance(ra, bool) or ra < 0:
            raise RuleError("%s: retry_after must be an integer >= 0" % where)
        out.append({"spec": r, "fault": f, "match": m, "rx": rx, "left": count, "rate": rate,
                    "delay": float(delay), "retry_after": ra, "retry_after_given": "retry_after" in r})
    return seed, out


class Request:
    """What the rules look at: method, kind, repo, the target, the upload session (uuid)."""

    def __init__(self, method, target):
        self.method = method
        self.target = target
        self.path = urllib.parse.urlsplit(target).path
        self.query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        self.repo = ""
        self.session = None
        self.ref = None
        p = self.path
        m = RE_REPO.match(p)
        if m:
            self.repo = m.group(1)
        if p in ("/v2", "/v2/"):
            self.kind = "ping"
        elif RE_UPLOADS.match(p):
            self.repo = RE_UPLOADS.match(p).group(1)
            self.kind = "upload" if method == "POST" else "other"
        elif RE_SESSION.match(p):
            self.repo, self.session = RE_SESSION.match(p).groups()
            self.kind = "chunk" if method in ("PATCH", "PUT") else "other"
        elif RE_BLOB.match(p):
            self.kind = "blob"
        elif RE_MANIFEST.match(p):
            self.repo, self.ref = RE_MANIFEST.match(p).groups()
            self.kind = "manifest"
        else:
            self.kind = "other"


class State:
    """Rules, counters and what the quirks remember across requests (and threads)."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.upload_bytes = {}  # upload session uuid -> bytes received by PATCH/PUT so far
        self.failed_sessions = set()  # uuids of sessions that had a failed or dropped request
        self.log = open(args.log, "a", buffering=1) if args.log else None
        self.port = 0
        self.requests = 0
        self.set_rules(None, [])

    def set_rules(self, seed, rules):
        """Replace the rule set; zero the counters. Caller holds the lock (or is __init__)."""
        self.seed = seed
        self.rng = random.Random(seed)
        self.rules = rules
        self.requests = 0
        self.injected = {}
        self.events = []

    def snapshot(self):
        with self.lock:
            rules = []
            for r in self.rules:
                d = dict(r["spec"])
                d["left"] = r["left"]
                rules.append(d)
            return {"seed": self.seed, "rules": rules, "requests": self.requests,
                    "injected": dict(self.injected), "log": list(self.events)}

    def count_request(self):
        with self.lock:
            self.requests += 1

    def take(self, rule, req):
        """Use one of rule's count and draw its rate; True if it applies to req."""
        with self.lock:
            if not any(r is rule for r in self.rules):  # replaced meanwhile
                return False
            if rule["left"] is not None and rule["left"] <= 0:
                return False
            if rule["rate"] < 1 and self.rng.random() >= rule["rate"]:
                return False
            if rule["left"] is not None:
                rule["left"] -= 1
            f = rule["fault"]
            self.injected[f] = self.injected.get(f, 0) + 1
            self.events.append({"t": round(time.time(), 3), "match": "%s %s" % (req.method, req.path), "fault": f})
            del self.events[:-LOG_KEEP]
            return True

    def rules_now(self):
        with self.lock:
            return list(self.rules)

    def add_bytes(self, uuid, n):
        with self.lock:
            self.upload_bytes[uuid] = self.upload_bytes.get(uuid, 0) + n

    def bytes_of(self, uuid):
        with self.lock:
            return self.upload_bytes.get(uuid, 0)

    def fail_session(self, uuid):
        if uuid:
            with self.lock:
                self.failed_sessions.add(uuid)

    def session_failed(self, uuid):
        with self.lock:
            return uuid in self.failed_sessions

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

    def has_body(self):
        return ("chunked" in self.headers.get("Transfer-Encoding", "").lower()
                or int(self.headers.get("Content-Length") or 0) > 0)

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

    def rst(self, status="RST"):
        """Reset the connection: SO_LINGER 0, then close (the client reads ECONNRESET)."""
        self.close_connection = True
        self.st.write_log(self.command, self.path, status)
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile holds a reference to the socket: the descriptor closes only when both are closed.
        try:
            self.rfile.close()
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def rewrite_location(self, loc):
        """Absolute URLs at the upstream point at the proxy instead; anything else passes."""
        u = urllib.parse.urlsplit(loc)
        if u.scheme and u.netloc.lower() == self.st.args.upstream.lower():
            return urllib.parse.urlunsplit(("https", "127.0.0.1:%d" % self.st.port, u.path, u.query, u.fragment))
        return loc

    def send_upstream(self, up, body=None, count_upload=None):
        """Send this request upstream: its body streamed from the client, or the bytes given."""
        up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        up.putheader("Host", self.st.args.upstream)
        chunked = body is None and "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        for k, v in self.headers.items():
            kl = k.lower()
            if kl in HOP or kl in ("host", "expect") or (body is not None and kl == "content-length"):
                continue
            up.putheader(k, v)
        if chunked:
            up.putheader("Transfer-Encoding", "chunked")
        if body is not None:
            up.putheader("Content-Length", str(len(body)))
        up.endheaders()
        for d in ([body] if body else []) if body is not None else self.body_chunks():
            if count_upload:
                self.st.add_bytes(count_upload, len(d))
            up.send(b"%x\r\n%s\r\n" % (len(d), d) if chunked else d)
        if chunked:
            up.send(b"0\r\n\r\n")
        return up.getresponse()

    def forward(self, status_override=None, header_override=None, count_upload=None, cut=False):
        """Send this request upstream (streaming its body) and relay the answer (streaming it).
        cut: send only half of the answer's headers, then reset the connection."""
        up = self.upstream()
        try:
            resp = self.send_upstream(up, count_upload=count_upload)
            status = resp.status
            if status_override:
                status = status_override(status)
            if status >= 400:
                self.st.fail_session(Request(self.command, self.path).session)
            headers = []
            length = resp.getheader("Content-Length")
            for k, v in resp.getheaders():
                kl = k.lower()
                if kl in HOP or kl == "content-length":
                    continue
                if kl == "location":
                    v = self.rewrite_location(v)
                if header_override and kl in header_override:
                    v = header_override[kl](status, v)
                headers.append((k, v))
            if cut:
                resp.read()
                head = "HTTP/1.1 %d %s\r\n" % (status, resp.reason)
                head += "".join("%s: %s\r\n" % kv for kv in headers)
                head += "Content-Length: %s\r\n\r\n" % (length or "0")
                data = head.encode("latin-1")
                self.wfile.write(data[:max(len(data) // 2, 1)])
                self.wfile.flush()
                return self.rst("%d+RST" % status)
            self.send_response(status)
            for k, v in headers:
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

    # --- the rules ------------------------------------------------------------------------

    def matches(self, rule, req):
        m = rule["match"]
        if "method" in m and m["method"] != req.method:
            return False
        if "kind" in m and m["kind"] != req.kind:
            return False
        if "repo" in m and m["repo"] != req.repo:
            return False
        if rule["rx"] is not None and not rule["rx"].search(req.target):
            return False
        return True

    def applies(self, fault, req):
        """ECR kinds apply only to some requests (see the docstring); common kinds to all."""
        if fault == "patch-201":
            return req.kind == "chunk" and req.method == "PATCH"
        if fault == "immutable":
            return (req.kind == "manifest" and req.method == "PUT" and ":" not in req.ref
                    and self.upstream_head_manifest(req.repo, req.ref) == 200)
        if fault == "drop-mid-upload":
            return req.kind == "chunk" and self.has_body()
        if fault == "upload-no-restart":
            return req.session is not None and self.st.session_failed(req.session)
        if fault == "reject-empty-blob":
            return (req.kind == "chunk" and req.method == "PUT" and "digest" in req.query and not self.has_body()
                    and self.st.bytes_of(req.session) == 0)
        if fault == "bad-blob-digest":
            return req.kind == "chunk" and req.method == "PUT" and "digest" in req.query
        return True

    def pick(self, req):
        for rule in self.st.rules_now():
            if self.matches(rule, req) and self.applies(rule["fault"], req) and self.st.take(rule, req):
                return rule
        return None

    def handle_any(self):
        req = Request(self.command, self.path)
        if req.path == CONTROL_PATH:
            self.drain()
            return self.answer_error(404, "NOT_FOUND", "the fault control endpoint is on the control port")
        self.st.count_request()
        rule = self.pick(req)
        if rule is None:
            return self.forward(count_upload=req.session if req.kind == "chunk" else None)
        f = rule["fault"]
        if f not in NOT_FAILING:
            self.st.fail_session(req.session)

        if f == "reset-before":
            return self.rst()
        if f == "eof":
            self.drain()
            return self.eof()
        if f == "slow":
            time.sleep(rule["delay"])
            return self.forward(count_upload=req.session if req.kind == "chunk" else None)
        if f == "reset-during":
            return self.forward(count_upload=req.session if req.kind == "chunk" else None, cut=True)
        if f in ("throttle", "throttle-retry-after"):
            self.drain()
            extra = [("Retry-After", str(rule["retry_after"]))] if f == "throttle-retry-after" else []
            return self.answer_error(429, "TOOMANYREQUESTS", "Rate exceeded", extra)
        if f in ERRORS:
            self.drain()
            extra = [("Retry-After", str(rule["retry_after"]))] if f == "503" and rule["retry_after_given"] else []
            return self.answer_error(*ERRORS[f], extra)
        if f == "patch-201":
            return self.forward(count_upload=req.session, status_override=lambda s: 201 if s == 202 else s)
        if f == "immutable":
            self.drain()
            return self.answer_error(
                400, "TAG_INVALID",
                "The image tag '%s' already exists in the '%s' repository and cannot be overwritten "
                "because the repository is immutable." % (req.ref, req.repo))
        if f == "drop-mid-upload":
            return self.drop_mid_upload(req)
        if f == "upload-no-restart":
            self.drain()
            return self.answer_error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        if f == "reject-empty-blob":
            self.drain()
            return self.answer_error(
                400, "BLOB_UPLOAD_INVALID",
                "The upload %s for repository '%s' cannot be completed because it does not have "
                "any parts." % (req.session, req.repo))
        if f == "bad-blob-digest":
            def wrong(status, value):
                if status != 201:
                    return value
                return "sha256:" + hashlib.sha256(b"ecr_quirks wrong digest for " + value.encode()).hexdigest()
            return self.forward(count_upload=req.session, header_override={"docker-content-digest": wrong})
        raise AssertionError("fault %s not handled" % f)

    def drop_mid_upload(self, req):
        """Read half the body (a chunked one: its first 32 KiB or less), hand a PATCH's part to the
        session upstream, reset the connection."""
        length = self.headers.get("Content-Length")
        want = max(int(length) // 2, 1) if length and "chunked" not in self.headers.get(
            "Transfer-Encoding", "").lower() else 32 * 1024
        got = bytearray()
        for d in self.body_chunks():
            got += d
            if len(got) >= want:
                break
        part = bytes(got[:want])
        if self.command == "PATCH" and part:
            up = self.upstream()
            try:
                self.send_upstream(up, body=part, count_upload=req.session).read()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                up.close()
        return self.rst("DROP")

    def run_one(self):
        try:
            self.handle_any()
        except (ConnectionError, ssl.SSLError, socket.timeout, BrokenPipeError) as e:
            self.close_connection = True
            self.st.fail_session(Request(self.command, self.path).session)
            self.st.write_log(self.command, self.path, "ERR(%s)" % type(e).__name__)
        except Exception as e:  # never leave a client hanging on a bug here
            self.close_connection = True
            self.st.write_log(self.command, self.path, "ERR(%s: %s)" % (type(e).__name__, e))
            print("ecr_quirks: %s %s: %r" % (self.command, self.path, e), file=sys.stderr, flush=True)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = run_one


class ControlHandler(http.server.BaseHTTPRequestHandler):
    """GET/POST/DELETE /shipkit-faults on the control port."""
    protocol_version = "HTTP/1.1"
    server_version = "ecr-quirks-control"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        self.request.settimeout(60)
        self.request.do_handshake()
        super().setup()

    def reply(self, status, doc):
        body = (json.dumps(doc, indent=None) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def run_one(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if urllib.parse.urlsplit(self.path).path.rstrip("/") != CONTROL_PATH:
            return self.reply(404, {"error": "not found: the control endpoint is %s" % CONTROL_PATH})
        if self.command == "GET":
            return self.reply(200, st.snapshot())
        if self.command == "DELETE":
            with st.lock:
                st.set_rules(None, [])
            return self.reply(200, st.snapshot())
        if self.command == "POST":
            try:
                doc = json.loads(raw.decode("utf-8") or "{}")
                seed, rules = parse_rules(doc)
            except (ValueError, UnicodeDecodeError) as e:
                return self.reply(400, {"error": str(e)})
            with st.lock:
                st.set_rules(seed, rules)
            return self.reply(200, st.snapshot())
        return self.reply(405, {"error": "use GET, POST or DELETE"})

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = run_one


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
        if not isinstance(exc, (OSError, ssl.SSLError, ValueError)):
            super().handle_error(request, client_address)


def preload(args):
    """The rules of --faults, then of the quirk flags, in the order the docstring gives."""
    seed, rules = None, []
    if args.faults:
        text = args.faults
        if text.startswith("@"):
            with open(text[1:]) as f:
                text = f.read()
        seed, rules = parse_rules(json.loads(text))
    flags = []
    for repo in args.eof_on_post:
        flags.append({"fault": "eof", "match": {"method": "POST", "kind": "upload", "repo": repo}})
    if args.manifest_429:
        flags.append({"fault": "throttle-retry-after", "match": {"method": "PUT", "kind": "manifest"},
                      "count": args.manifest_429, "retry_after": args.retry_after})
    for on, kind in ((args.immutable, "immutable"), (args.patch_201, "patch-201"),
                     (args.reject_empty_blob, "reject-empty-blob"), (args.bad_blob_digest, "bad-blob-digest")):
        if on:
            flags.append({"fault": kind})
    return seed, rules + parse_rules({"rules": flags})[1]


def main():
    env = os.environ
    p = argparse.ArgumentParser(description="TLS reverse proxy injecting ECR's registry quirks and faults")
    p.add_argument("--upstream", default=env.get("SK_REGISTRY"))
    p.add_argument("--ca", default=env.get("SK_REGISTRY_CA"))
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--control-port", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--faults", metavar="JSON|@FILE")
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
    if args.manifest_429 < 0 or args.retry_after < 0:
        p.error("--manifest-429 and --retry-after take numbers >= 0")
    tls = os.path.join(os.path.dirname(os.path.abspath(args.ca)), "tls")
    args.cert = args.cert or os.path.join(tls, "server.pem")
    args.key = args.key or os.path.join(tls, "server-key.pem")
    try:
        seed, rules = preload(args)
    except (OSError, ValueError) as e:
        p.error("--faults: %s" % e)

    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(args.cert, args.key)
    state = State(args)
    state.set_rules(seed, rules)
    srv = Server(("127.0.0.1", args.port), Handler)
    ctl = Server(("127.0.0.1", args.control_port), ControlHandler)
    for s in (srv, ctl):
        s.state = state
        s.tls = sctx
    state.port = srv.server_address[1]
    srv.client_ctx = ssl.create_default_context(cafile=args.ca)

    def stop(*_):
        # shutdown() waits for serve_forever, which runs in this thread: do it from another.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=ctl.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(state.port, ctl.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        ctl.shutdown()
        ctl.server_close()
        srv.server_close()


if __name__ == "__main__":
    main()
