"""faults.py: a controllable fault layer in front of moto_server (installed by moto_plus.py).

Control URL: http://127.0.0.1:$SK_MOTO_PORT/shipkit-sim/faults (no auth), the schema shared with the
registry's fault layer (docs/ecs-simulator.md, "Fault injection"):

  POST   {"seed": 42, "rules": [{"fault": KIND, "match": {...}, "count": N, "rate": P,
                                 "delay": S, "retry_after": S}, ...]}   replaces the fault set
  GET    {"rules": [... with "left"], "requests": N, "injected": {KIND: n}, "log": [last 200]}
  DELETE clears the rules and zeroes the counters (as does POST {"rules": []})

Match keys: "service" (the SigV4 credential scope's service: ssm, secretsmanager, ecs,
elasticloadbalancing, rds, sts, ecr, logs, ...), "action" (X-Amz-Target's operation after the
dot, or the Query protocol's Action=) and "not_action" (a list of actions the rule skips).
Kinds: throttle, throttle-retry-after, 500, 502, 503, reset-before, reset-during, slow.

Throttling as ECS does it ("Request throttling for the Amazon ECS API", ECS API Reference: a token
bucket per account and Region for a group of actions; the bucket's size is the burst, its refill
rate the sustained rate; a request finding it empty gets ThrottlingException and is not executed):

  POST   {"buckets": [{"match": {"service": "ecs", "actions": ["RegisterTaskDefinition"]},
                       "burst": 20, "refill": 1}, ...], "rules": [...]}

"actions" lists the actions that share the bucket (none: every action of the service); "text", a
string the request's body must hold (a test's own cluster or family name: its bucket then leaves
the requests of tests running beside it alone); refill is tokens per real second. A request takes a token from every bucket it matches; when one is empty it
is answered with the service's ThrottlingException (JSON or Query) and moto never sees it. Buckets
start full, are off unless programmed, and show "tokens" and "throttled" in GET. The values of
ECS's own table are not published in a form this stack can cite, so tests set their own
(docs/aws-fidelity.md).

Never faulted: /shipkit-sim/* (the control endpoints) and /moto-api/*, and requests without a
SigV4 credential (Authorization header or X-Amz-Credential): the fault layer only ever touches
signed AWS API calls, whatever the rules say.
"""
import ctypes
import ctypes.util
import io
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

CONTROL_PATH = "/shipkit-sim/faults"
KINDS = ("throttle", "throttle-retry-after", "500", "502", "503", "reset-before", "reset-during", "slow")
MATCH_KEYS = ("service", "action", "not_action")
LOG_MAX = 200
# reset-during: the client gets the status line, the headers and this share of the body, then a RST.
PARTIAL_SHARE = 0.5

_CRED_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
_QCRED_RE = re.compile(r"(?:^|&)X-Amz-Credential=[^&]*?(?:/|%2F)\d{8}(?:/|%2F)[^/&%]+(?:/|%2F)([^/&%]+)(?:/|%2F)")


def _log(msg):
    print(f"faults: {msg}", file=sys.stderr, flush=True)


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.rules, self.requests, self.injected, self.log = [], 0, {}, []
        self.buckets = []
        self.rng = random.Random()

    def program(self, doc):
        if not isinstance(doc, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(doc) - {"seed", "rules", "buckets"}
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        rules = doc.get("rules", [])
        if not isinstance(rules, list):
            raise ValueError("rules must be a list")
        checked = [_check_rule(r, i) for i, r in enumerate(rules)]
        buckets = doc.get("buckets", [])
        if not isinstance(buckets, list):
            raise ValueError("buckets must be a list")
        checked_buckets = [_check_bucket(b, i) for i, b in enumerate(buckets)]
        seed = doc.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError("seed must be an integer")
        self.clear()
        self.rules = checked
        self.buckets = checked_buckets
        self.rng = random.Random(seed)

    def state(self):
        now = time.monotonic()
        for b in self.buckets:
            self._refill(b, now)
        return {"rules": [dict(r) for r in self.rules], "requests": self.requests, "injected": dict(self.injected),
                "buckets": [{k: (round(v, 3) if k == "tokens" else v) for k, v in b.items() if k != "last"}
                            for b in self.buckets],
                "log": list(self.log)}

    @staticmethod
    def _refill(b, now):
        b["tokens"] = min(float(b["burst"]), b["tokens"] + (now - b["last"]) * b["refill"])
        b["last"] = now

    def bucket_refuses(self, service, action, body=lambda: b""):
        """Take a token from every bucket the request matches; True when one had none (throttled)."""
        now, hit = time.monotonic(), []
        for b in self.buckets:
            m = b["match"]
            if m.get("service", service) != service or ("actions" in m and action not in m["actions"]):
                continue
            if "text" in m and m["text"].encode() not in body():
                continue
            self._refill(b, now)
            hit.append(b)
        empty = [b for b in hit if b["tokens"] < 1]
        if empty:
            for b in empty:
                b["throttled"] += 1
            return True
        for b in hit:
            b["tokens"] -= 1
        return False

    def pick(self, service, action):
        """The rule to apply to a request (count taken), or None."""
        self.requests += 1
        for r in self.rules:
            m = r.get("match", {})
            if "service" in m and m["service"] != service:
                continue
            if "action" in m and m["action"] != action:
                continue
            if action in m.get("not_action", []):
                continue
            if r.get("left") is not None and r["left"] <= 0:
                continue
            if r.get("rate", 1) < 1 and self.rng.random() >= r["rate"]:
                continue
            if r.get("left") is not None:
                r["left"] -= 1
            kind = r["fault"]
            self.injected[kind] = self.injected.get(kind, 0) + 1
            self.log.append({"t": round(time.time(), 3), "match": f"{service}/{action}", "fault": kind})
            del self.log[:-LOG_MAX]
            return dict(r)
        return None


def _check_rule(r, i):
    where = f"rules[{i}]"
    if not isinstance(r, dict):
        raise ValueError(f"{where} must be an object")
    unknown = set(r) - {"fault", "match", "count", "rate", "delay", "retry_after"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if r.get("fault") not in KINDS:
        raise ValueError(f"{where}: fault must be one of {', '.join(KINDS)}")
    m = r.get("match", {})
    if not isinstance(m, dict) or set(m) - set(MATCH_KEYS):
        raise ValueError(f"{where}: match keys are {', '.join(MATCH_KEYS)}")
    for k in ("service", "action"):
        if k in m and not isinstance(m[k], str):
            raise ValueError(f"{where}: match.{k} must be a string")
    if "not_action" in m and (not isinstance(m["not_action"], list)
                              or not all(isinstance(a, str) for a in m["not_action"])):
        raise ValueError(f"{where}: match.not_action must be a list of strings")
    out = {"fault": r["fault"], "match": dict(m)}
    if "count" in r:
        if type(r["count"]) is not int or r["count"] < 0:
            raise ValueError(f"{where}: count must be a whole number")
        out["count"] = out["left"] = r["count"]
    for k, lo in (("rate", 0.0), ("delay", 0.0), ("retry_after", 0.0)):
        if k in r:
            v = r[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo or (k == "rate" and v > 1):
                raise ValueError(f"{where}: bad {k} {v!r}")
            out[k] = v
    if out["fault"] == "slow" and "delay" not in out:
        out["delay"] = 5.0
    if out["fault"] == "throttle-retry-after" and "retry_after" not in out:
        out["retry_after"] = 1
    return out


def _check_bucket(b, i):
    where = f"buckets[{i}]"
    if not isinstance(b, dict) or set(b) - {"match", "burst", "refill"}:
        raise ValueError(f"{where} must be an object with match, burst and refill")
    m = b.get("match", {})
    if not isinstance(m, dict) or set(m) - {"service", "actions", "text"}:
        raise ValueError(f"{where}: match keys are service, actions, text")
    if "text" in m and (not isinstance(m["text"], str) or not m["text"]):
        raise ValueError(f"{where}: match.text must be a non-empty string")
    if "service" in m and not isinstance(m["service"], str):
        raise ValueError(f"{where}: match.service must be a string")
    if "actions" in m and (not isinstance(m["actions"], list) or not all(isinstance(a, str) for a in m["actions"])):
        raise ValueError(f"{where}: match.actions must be a list of strings")
    for k in ("burst", "refill"):
        v = b.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"{where}: bad {k} {v!r}")
    return {"match": dict(m), "burst": b["burst"], "refill": b["refill"], "tokens": float(b["burst"]),
            "last": time.monotonic(), "throttled": 0}


FAULTS = Faults()


# ---- what a request is ------------------------------------------------------------------------------

def _classify(environ):
    """(service, action, json_protocol) of a signed AWS call; service None when it is unsigned."""
    m = _CRED_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = m.group(1) if m else None
    if service is None:
        m = _QCRED_RE.search(environ.get("QUERY_STRING", ""))
        service = m.group(1) if m else None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rsplit(".", 1)[-1], True
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    if not action and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        body = _body(environ)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    json_protocol = "json" in environ.get("CONTENT_TYPE", "") and not action
    return service, action, json_protocol


def _body(environ):
    """The request body, read once and put back for moto."""
    if "shipkit.body" not in environ:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        data = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(data)
        environ["shipkit.body"] = data
    return environ["shipkit.body"]


# ---- the faults -------------------------------------------------------------------------------------

_ERRORS = {  # kind: (HTTP status, JSON __type / Query Code, Query Type, message)
    "throttle": (400, "ThrottlingException", "Throttling", "Sender", "Rate exceeded"),
    "throttle-retry-after": (400, "ThrottlingException", "Throttling", "Sender", "Rate exceeded"),
    "500": (500, "InternalFailure", "InternalFailure", "Receiver",
            "The request processing has failed because of an unknown error, exception or failure."),
    "502": (502, "InternalFailure", "InternalFailure", "Receiver", "Bad Gateway"),
    "503": (503, "ServiceUnavailable", "ServiceUnavailable", "Receiver",
            "The service is unavailable. Please slow down and try again."),
}


def _error_response(rule, json_protocol, start_response):
    status, jtype, qcode, qtype, message = _ERRORS[rule["fault"]]
    rid = str(uuid.uuid4())
    reason = {400: "Bad Request", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}[status]
    if json_protocol:
        body = json.dumps({"__type": jtype, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid)]
    else:
        body = (f"<ErrorResponse><Error><Type>{qtype}</Type><Code>{qcode}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
    if rule["fault"] == "throttle-retry-after":
        ra = rule.get("retry_after", 1)
        headers.append(("Retry-After", str(int(ra)) if float(ra).is_integer() else str(ra)))
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {reason}", headers)
    return [body]


_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _reset(sock):
    """Reset the connection now (RST), keeping the descriptor valid for werkzeug to close later.

    connect() with AF_UNSPEC disconnects a TCP socket; Linux answers with a RST for an established
    connection. SO_LINGER(1, 0) makes the final close abortive too, in case anything is left."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    unspec = struct.pack("H14x", socket.AF_UNSPEC)
    buf = ctypes.create_string_buffer(unspec, len(unspec))
    if _libc.connect(sock.fileno(), buf, len(unspec)) != 0:
        _log(f"reset: connect(AF_UNSPEC) failed: errno {ctypes.get_errno()}")


def _reset_during(environ, dispatch, app):
    """Let moto handle the request, send the status line, the headers and part of the body, then RST."""
    got = {}

    def start_response(status, headers, exc_info=None):
        got["status"], got["headers"] = status, headers
        return lambda data: None

    chunks = dispatch(app, environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    head = [f"HTTP/1.1 {got.get('status', '200 OK')}"]
    head += [f"{k}: {v}" for k, v in got.get("headers", []) if k.lower() not in ("content-length", "connection")]
    head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    sock = environ["werkzeug.socket"]
    part = body[:max(1, int(len(body) * PARTIAL_SHARE))] if body else b""
    try:
        sock.sendall("\r\n".join(head).encode("latin-1") + part)
        time.sleep(0.05)  # let the client read what was sent before the reset
    except OSError:
        pass
    _reset(sock)


class _Dropped(ConnectionResetError):
    """Raised to werkzeug after a reset: it treats it as a dropped connection and writes nothing."""


def _control(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    status, body = "200 OK", None
    try:
        with FAULTS.lock:
            if method == "GET":
                body = FAULTS.state()
            elif method == "DELETE":
                FAULTS.clear()
                body = FAULTS.state()
            elif method == "POST":
                raw = _body(environ)
                FAULTS.program(json.loads(raw or b"{}"))
                body = FAULTS.state()
                _log(f"programmed {len(FAULTS.rules)} rule(s)")
            else:
                status, body = "405 Method Not Allowed", {"error": f"use GET, POST or DELETE, not {method}"}
    except (ValueError, TypeError) as e:
        status, body = "400 Bad Request", {"error": str(e)}
    data = json.dumps(body, indent=1).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def install():
    """Wrap moto's WSGI dispatcher (once; after ecs_sim.install(), so this runs first)."""
    if getattr(install, "done", False):
        return
    install.done = True
    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return _control(environ, start_response)
        if path.startswith("/shipkit-sim/") or path.startswith("/moto-api"):
            return dispatch(self, environ, start_response)
        service, action, json_protocol = _classify(environ)
        if service is None:
            return dispatch(self, environ, start_response)
        with FAULTS.lock:
            if FAULTS.bucket_refuses(service, action, lambda: _body(environ)):
                FAULTS.requests += 1
                FAULTS.injected["throttle"] = FAULTS.injected.get("throttle", 0) + 1
                rule = {"fault": "throttle"}
            else:
                rule = FAULTS.pick(service, action)
        if rule is None:
            return dispatch(self, environ, start_response)
        kind = rule["fault"]
        if kind in _ERRORS:
            return _error_response(rule, json_protocol, start_response)
        if kind == "slow":
            time.sleep(rule.get("delay", 5.0))
            return dispatch(self, environ, start_response)
        sock = environ.get("werkzeug.socket")
        if sock is None:  # not werkzeug's server: nothing to reset, answer 500 instead
            return _error_response(dict(rule, fault="500"), json_protocol, start_response)
        if kind == "reset-before":
            _body(environ)  # read the request first, so the reset is not mistaken for a send failure
            _reset(sock)
        else:
            _reset_during(environ, dispatch, self)
        raise _Dropped(f"shipkit fault {kind}")

    DomainDispatcherApplication.__call__ = call
    _log("fault layer on: " + CONTROL_PATH)
