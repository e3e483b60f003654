"""server_clock.py: a server clock that is off, for the stack (installed by moto_plus.py, outermost layer).

moto verifies a SigV4 signature against the X-Amz-Date the request carries and never compares that
date with its own clock; AWS refuses a request signed more than 15 minutes off its clock
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). This layer plays a
server whose clock is OFFSET seconds ahead (negative: behind) of the machine's, for the requests signed
with one access key (so the tests that share the stack see no change) or for all:

  * the Date header of every answer to those requests is the server's time (its HTTP server's Date);
  * a request signed in the header (Authorization: AWS4-HMAC-SHA256 ..., X-Amz-Date) more than 15
    minutes from the server's time is refused as the service would: awsJson services (X-Amz-Target)
    400 InvalidSignatureException, the Query ones 403 SignatureDoesNotMatch, with AWS's message
    "Signature expired: <date> is now earlier than <limit> (<now> - 15 min.)" or "Signature not yet
    current: <date> is still later than <limit> (<now> + 15 min.)". Anything else goes on to moto
    (which checks the signature itself).

Control: /shipkit-sim/clock on this port (no auth):
  POST   {"offset": SECONDS, "access_key_id": KEY}   the clock for requests signed with KEY (omit it:
         every request, which changes the shared stack for everyone)
  GET    {"clocks": {KEY or "*": {"offset", "requests", "refused"}}}: signed requests seen, refused
  DELETE clears every clock (?access_key_id=KEY: only that one)
"""
import calendar
import json
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.serving import WSGIRequestHandler

CONTROL_PATH = "/shipkit-sim/clock"
WINDOW = 15 * 60
ALL = "*"

_KEY_RE = re.compile(r"^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/")
_LOCAL = threading.local()  # the offset of the request this thread is answering


def _log(msg):
    print(f"server_clock: {msg}", file=sys.stderr, flush=True)


class Clocks:
    def __init__(self):
        self.lock = threading.Lock()
        self.clocks = {}

    def state(self):
        return {"clocks": {k: dict(v) for k, v in self.clocks.items()}}


CLOCKS = Clocks()


def _amz(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def _refuse(environ, start_response, signed, now):
    if signed < now - WINDOW:
        message = f"Signature expired: {_amz(signed)} is now earlier than {_amz(now - WINDOW)} ({_amz(now)} - 15 min.)"
    else:
        message = (f"Signature not yet current: {_amz(signed)} is still later than {_amz(now + WINDOW)} "
                   f"({_amz(now)} + 15 min.)")
    rid = str(uuid.uuid4())
    if environ.get("HTTP_X_AMZ_TARGET"):
        status = "400 Bad Request"
        body = json.dumps({"__type": "InvalidSignatureException", "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", "InvalidSignatureException")]
    else:
        status = "403 Forbidden"
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
                f"<Message>{message}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml")]
    headers += [("x-amzn-RequestId", rid), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


def _control(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    status = "200 OK"
    try:
        with CLOCKS.lock:
            if method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                doc = json.loads(environ["wsgi.input"].read(length) if length > 0 else b"{}")
                if not isinstance(doc, dict) or set(doc) - {"offset", "access_key_id"}:
                    raise ValueError("the body is an object with offset and access_key_id")
                offset = doc.get("offset")
                if isinstance(offset, bool) or not isinstance(offset, (int, float)) or abs(offset) > 10 * 365 * 86400:
                    raise ValueError("offset must be a number of seconds")
                key = doc.get("access_key_id") or ALL
                if not isinstance(key, str):
                    raise ValueError("access_key_id must be a string")
                CLOCKS.clocks[key] = {"offset": offset, "requests": 0, "refused": 0}
                _log(f"offset {offset} s for {'every request' if key == ALL else 'one access key'}")
            elif method == "DELETE":
                key = parse_qs(environ.get("QUERY_STRING", "")).get("access_key_id", [None])[0]
                if key:
                    CLOCKS.clocks.pop(key, None)
                else:
                    CLOCKS.clocks.clear()
            elif method != "GET":
                raise ValueError(f"use GET, POST or DELETE, not {method}")
            body = CLOCKS.state()
    except (ValueError, TypeError) as e:
        status, body = "400 Bad Request", {"error": str(e)}
    data = json.dumps(body, indent=1).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


_date_time_string = WSGIRequestHandler.date_time_string


def _server_date(self, timestamp=None):
    """The Date header werkzeug's handler sends: the server's clock for the request being answered."""
    if timestamp is None:
        timestamp = time.time() + getattr(_LOCAL, "offset", 0)
    return _date_time_string(self, timestamp)


def install():
    """Wrap moto's WSGI dispatcher (once; after the other layers, so this one sees requests first)."""
    if getattr(install, "done", False):
        return
    install.done = True
    dispatch = DomainDispatcherApplication.__call__
    WSGIRequestHandler.date_time_string = _server_date

    def call(self, environ, start_response):
        _LOCAL.offset = 0
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PATH:
            return _control(environ, start_response)
        if path.startswith("/shipkit-sim/") or path.startswith("/moto-api"):
            return dispatch(self, environ, start_response)
        m = _KEY_RE.match(environ.get("HTTP_AUTHORIZATION", ""))
        refuse, signed, now = False, None, 0.0
        with CLOCKS.lock:
            clock = (CLOCKS.clocks.get(m.group(1)) if m else None) or CLOCKS.clocks.get(ALL)
            if clock is not None:
                _LOCAL.offset = clock["offset"]
                now = time.time() + clock["offset"]
                if m:
                    clock["requests"] += 1
                    try:
                        signed = calendar.timegm(time.strptime(environ.get("HTTP_X_AMZ_DATE", ""), "%Y%m%dT%H%M%SZ"))
                    except ValueError:
                        signed = None  # moto answers it (IncompleteSignature and the like)
                    refuse = signed is not None and abs(signed - now) > WINDOW
                    if refuse:
                        clock["refused"] += 1
        if refuse:
            return _refuse(environ, start_response, signed, now)
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
    _log("server clock layer on: " + CONTROL_PATH)
