"""sso_portal.py: IAM Identity Center's portal and OIDC token service for the stack (installed by moto_plus.py).

Served on moto's port, at the paths the SDKs call, so the stack's AWS_ENDPOINT_URL reaches both, and
AWS_ENDPOINT_URL_SSO / AWS_ENDPOINT_URL_SSO_OIDC can point at them alone (the API references:
https://docs.aws.amazon.com/singlesignon/latest/PortalAPIReference/API_GetRoleCredentials.html,
https://docs.aws.amazon.com/singlesignon/latest/OIDCAPIReference/API_CreateToken.html):

  GET  /federation/credentials?account_id=A&role_name=R, header x-amz-sso_bearer_token: TOKEN
       (sso GetRoleCredentials, unsigned) -> {"roleCredentials": {"accessKeyId", "secretAccessKey",
       "sessionToken", "expiration" (ms)}}: moto STS credentials of the role arn:aws:iam::A:role/R
       (moto's AssumeRole, in this process), so the next signed call is checked by moto's IAM auth as
       any other. 401 UnauthorizedException for a token it does not know; 403 ForbiddenException for an
       account that is not moto's or a role moto does not have.
  POST /token {"clientId", "clientSecret", "grantType": "refresh_token", "refreshToken"}
       (sso-oidc CreateToken, unsigned) -> {"accessToken", "tokenType": "Bearer", "expiresIn",
       "refreshToken"}: the new access token is valid from then on, the refresh token is rotated (the old
       one is spent). 400 InvalidGrantException for a refresh token it does not know, 401
       InvalidClientException for a wrong client secret, 400 UnsupportedGrantTypeException.

Control: /shipkit-sim/sso on this port (no auth):
  POST   {"access_tokens": [TOKEN, ...], "clients": [{"clientId", "clientSecret", "refreshToken",
          "issue": [{"accessToken", "refreshToken"}, ...], "expiresIn": S}]} replaces the state: the
          tokens the portal takes, and the registrations CreateToken refreshes ("issue": what each
          refresh hands out, in order; random ones after that; expiresIn default 28800)
  GET    {"calls": {"GetRoleCredentials": n, "CreateToken": n}, "refused": {...}}: counters only, no token
  DELETE clears it all
The state is one for the whole stack: tests that program it run one at a time (tests/bats/sso.bats).
No token is ever logged.
"""
import json
import secrets
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.serving import WSGIRequestHandler

CONTROL_PATH = "/shipkit-sim/sso"
PORTAL_PATH = "/federation/credentials"
TOKEN_PATH = "/token"
TOKEN_HEADER = "x-amz-sso_bearer_token"
TOKEN_ENVIRON = "shipkit.sso_bearer_token"
ROLE_SECONDS = 3600


def _log(msg):
    print(f"sso_portal: {msg}", file=sys.stderr, flush=True)


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.tokens, self.clients = set(), []
        self.calls = {"GetRoleCredentials": 0, "CreateToken": 0}
        self.refused = {"GetRoleCredentials": 0, "CreateToken": 0}

    def program(self, doc):
        if not isinstance(doc, dict) or set(doc) - {"access_tokens", "clients"}:
            raise ValueError("the body is an object with access_tokens and clients")
        tokens = doc.get("access_tokens", [])
        if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
            raise ValueError("access_tokens must be a list of strings")
        clients = []
        for i, c in enumerate(doc.get("clients", [])):
            if not isinstance(c, dict) or not all(isinstance(c.get(k), str) and c[k]
                                                  for k in ("clientId", "clientSecret", "refreshToken")):
                raise ValueError(f"clients[{i}] needs clientId, clientSecret and refreshToken")
            issue = c.get("issue", [])
            if not isinstance(issue, list) or not all(isinstance(x, dict) for x in issue):
                raise ValueError(f"clients[{i}].issue must be a list of objects")
            clients.append({"clientId": c["clientId"], "clientSecret": c["clientSecret"],
                            "refreshToken": c["refreshToken"], "issue": list(issue),
                            "expiresIn": int(c.get("expiresIn", 28800))})
        self.clear()
        self.tokens, self.clients = set(tokens), clients

    def state(self):
        return {"calls": dict(self.calls), "refused": dict(self.refused),
                "tokens": len(self.tokens), "clients": len(self.clients)}


STATE = State()


def _json(start_response, status, doc, error_type=None):
    body = json.dumps(doc).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
               ("x-amzn-RequestId", str(uuid.uuid4()))]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    start_response(status, headers)
    return [body]


def _body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _role_credentials(environ, start_response):
    token = environ.get(TOKEN_ENVIRON, "")
    q = parse_qs(environ.get("QUERY_STRING", ""))
    account, role = q.get("account_id", [""])[0], q.get("role_name", [""])[0]
    with STATE.lock:
        STATE.calls["GetRoleCredentials"] += 1
        known = token in STATE.tokens
        if not known:
            STATE.refused["GetRoleCredentials"] += 1
    if not known:
        return _json(start_response, "401 Unauthorized", {"message": "Session token not found or invalid"},
                     "UnauthorizedException")
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    arn = f"arn:aws:iam::{account}:role/{role}"
    try:
        if account != DEFAULT_ACCOUNT_ID:
            raise LookupError(account)
        iam_backends[account]["aws"].get_role(role)
    except Exception:  # moto's NotFoundException, or another account
        return _json(start_response, "403 Forbidden", {"message": "No access"}, "ForbiddenException")
    assumed = sts_backends[account]["aws"].assume_role(
        region_name="us-east-1", role_session_name=f"sso-{uuid.uuid4().hex[:12]}", role_arn=arn, policy=None,
        duration=ROLE_SECONDS, external_id=None)
    _log(f"GetRoleCredentials {account}/{role}")
    return _json(start_response, "200 OK", {"roleCredentials": {
        "accessKeyId": assumed.access_key_id, "secretAccessKey": assumed.secret_access_key,
        "sessionToken": assumed.session_token, "expiration": int((time.time() + ROLE_SECONDS) * 1000)}})


def _create_token(environ, start_response):
    try:
        req = json.loads(_body(environ) or b"{}")
    except ValueError:
        req = None
    if not isinstance(req, dict):
        return _json(start_response, "400 Bad Request", {"error": "invalid_request"}, "InvalidRequestException")
    with STATE.lock:
        STATE.calls["CreateToken"] += 1
        client = next((c for c in STATE.clients if c["clientId"] == req.get("clientId")), None)
        if req.get("grantType") != "refresh_token":
            err = ("400 Bad Request", "unsupported_grant_type", "UnsupportedGrantTypeException")
        elif client is None or client["clientSecret"] != req.get("clientSecret"):
            err = ("401 Unauthorized", "invalid_client", "InvalidClientException")
        elif client["refreshToken"] != req.get("refreshToken"):
            err = ("400 Bad Request", "invalid_grant", "InvalidGrantException")
        else:
            err = None
            nxt = client["issue"].pop(0) if client["issue"] else {}
            access = nxt.get("accessToken") or "sso-access-" + secrets.token_hex(16)
            refresh = nxt.get("refreshToken") or "sso-refresh-" + secrets.token_hex(16)
            client["refreshToken"] = refresh
            STATE.tokens.add(access)
            expires_in = client["expiresIn"]
        if err:
            STATE.refused["CreateToken"] += 1
    if err:
        status, error, error_type = err
        return _json(start_response, status, {"error": error, "error_description": "refused"}, error_type)
    _log("CreateToken (refresh_token)")
    return _json(start_response, "200 OK", {"accessToken": access, "tokenType": "Bearer", "expiresIn": expires_in,
                                            "refreshToken": refresh})


def _control(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    status = "200 OK"
    try:
        with STATE.lock:
            if method == "POST":
                STATE.program(json.loads(_body(environ) or b"{}"))
                _log(f"programmed {len(STATE.tokens)} token(s), {len(STATE.clients)} client(s)")
            elif method == "DELETE":
                STATE.clear()
            elif method != "GET":
                raise ValueError(f"use GET, POST or DELETE, not {method}")
            body = STATE.state()
    except (ValueError, TypeError) as e:
        status, body = "400 Bad Request", {"error": str(e)}
    return _json(start_response, status, body)


_make_environ = WSGIRequestHandler.make_environ


def _make_environ_with_token(self):
    """werkzeug leaves out every header whose name has an underscore, as x-amz-sso_bearer_token does."""
    environ = _make_environ(self)
    token = self.headers.get(TOKEN_HEADER)
    if token is not None:
        environ[TOKEN_ENVIRON] = token
    return environ


def install():
    """Wrap moto's WSGI dispatcher (once): the portal's and the token service's paths go here."""
    if getattr(install, "done", False):
        return
    install.done = True
    dispatch = DomainDispatcherApplication.__call__
    WSGIRequestHandler.make_environ = _make_environ_with_token

    def call(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == CONTROL_PATH:
            return _control(environ, start_response)
        if path == PORTAL_PATH and method == "GET" and "HTTP_AUTHORIZATION" not in environ:
            return _role_credentials(environ, start_response)
        if path == TOKEN_PATH and method == "POST" and "HTTP_AUTHORIZATION" not in environ:
            return _create_token(environ, start_response)
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
    _log("SSO portal and OIDC token service on: " + PORTAL_PATH + ", " + TOKEN_PATH)
