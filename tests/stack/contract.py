"""contract.py: the stack's contract layer, checked against AWS's own API models (docs/aws-fidelity.md).

Installed by moto_plus.py in front of everything else on moto's port (the fault layer, the ECS
simulator, moto), it sees every AWS API request and every answer:

  * Requests: the service comes from the SigV4 credential scope (signing name), the operation from
    X-Amz-Target (awsJson1_1) or Action= (awsQuery, ec2). The wire form is turned into parameters by
    following the operation's input shape in botocore's model (JSON: timestamps as epoch numbers,
    blobs as base64; Query: Member.member.N / Member.N lists, Map.entry.N.key/value maps), then
    checked by botocore's ParamValidator, extended here with what it leaves out (max lengths and
    ranges, enums, patterns). Then the documented cross-field rules of contract_rules.py. A request
    that breaks any of them gets the answer AWS gives (HTTP status, error code, message) and never
    reaches moto; the refusal is logged (below).
  * Responses: every 2xx answer is parsed with botocore's response parser for the protocol (made
    strict about JSON containers) and checked against the operation's output shape: types, enums,
    required members. A violation replaces the answer with HTTP 500 ShipkitContractViolation and is
    logged.

The log ($SK_CONTRACT_LOG, one JSON object a line) names the test that made the request: the
layer finds the client process from the TCP connection (/proc/net/tcp, then /proc/PID/fd) and reads
SK_TEST_ID from its environment (tests/bats/helpers/common.bash exports it for each test), so a
test's teardown fails when an entry carries its id, even with other bats files running at the same
time. Values of sensitive members never reach the log or an error message.

Control URL (no auth): GET /shipkit-sim/contract shows counters and the time the layer takes;
POST {"inject": {"service": S, "action": A, "test": ID}} makes the next matching answer a
violation (to test the path a real one takes); DELETE zeroes the counters and drops injections.
"""
import base64
import binascii
import datetime
import decimal
import io
import json
import os
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qsl

import botocore.parsers
import botocore.session
from botocore.awsrequest import HeadersDict
from botocore.utils import parse_timestamp
from botocore.validate import ParamValidator, ValidationErrors

try:  # Java-style patterns (\p{L}, [\w-_]) as AWS writes them; else re with translations below
    import regex as _regex
except ImportError:  # pragma: no cover - the venv mk/build/prereqs makes may lack it
    _regex = None

CONTROL_PATH = "/shipkit-sim/contract"

# SigV4 signing name -> the botocore services that sign with it (picked by target prefix or Version).
SIGNING_NAMES = {"elasticloadbalancing": ("elbv2", "elb"), "ecr": ("ecr",), "monitoring": ("cloudwatch",),
                 "rds": ("rds",), "states": ("stepfunctions",), "email": ("ses",)}
# Unsigned requests (AssumeRoleWithWebIdentity...) carry no scope: X-Amz-Target prefix or Version.
TARGET_PREFIXES = {"AmazonEC2ContainerServiceV20141113": "ecs", "AmazonEC2ContainerRegistry_V20150921": "ecr",
                   "AmazonSSM": "ssm", "secretsmanager": "secretsmanager", "Logs_20140328": "logs",
                   "TrentService": "kms"}
QUERY_VERSIONS = {"2011-06-15": "sts", "2010-05-08": "iam", "2015-12-01": "elbv2", "2012-06-01": "elb",
                  "2014-10-31": "rds", "2016-11-15": "ec2"}

# The error code a service gives for a parameter that breaks its model's constraints (the message
# is AWS's usual "1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: ...").
VALIDATION_CODES = {"ecs": "InvalidParameterException", "ecr": "InvalidParameterException",
                    "logs": "InvalidParameterException", "ssm": "ValidationException",
                    "secretsmanager": "ValidationException", "kms": "ValidationException",
                    "elbv2": "ValidationError", "elb": "ValidationError", "sts": "ValidationError",
                    "iam": "ValidationError", "rds": "InvalidParameterValue", "ec2": "InvalidParameterValue"}

_CRED_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_AUTH_QUERY = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
               "X-Amz-Signature", "X-Amz-Security-Token"}
_KEY_RE = re.compile(r"Credential=([A-Z0-9]{16,128})/")
_MISSING = object()


def _log(msg):
    print(f"contract: {msg}", file=sys.stderr, flush=True)


class Refusal(Exception):
    """A request AWS would refuse: the code, message and HTTP status AWS answers with."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# ---- models, loaded once per service, lazily -------------------------------------------------------

_MODELS = {}
_MODELS_LOCK = threading.Lock()
_SESSION = []


def service_model(name):
    """botocore's ServiceModel for a service name, or None when botocore has none."""
    with _MODELS_LOCK:
        if name not in _MODELS:
            if not _SESSION:
                _SESSION.append(botocore.session.get_session())
            try:
                _MODELS[name] = _SESSION[0].get_service_model(name)
            except Exception:  # noqa: BLE001 - UnknownServiceError, DataNotFoundError
                _MODELS[name] = None
        return _MODELS[name]


def _candidates(scope):
    return SIGNING_NAMES.get(scope, (scope,))


def identify(scope, target, version):
    """(ServiceModel, operation name) of a request, or (None, None) when no model describes it.

    scope: the signing name of the credential scope (None if unsigned); target: X-Amz-Target (JSON);
    version: the Version parameter (Query)."""
    if target:
        prefix, _, op = target.rpartition(".")
        names = _candidates(scope) if scope else (TARGET_PREFIXES.get(prefix),)
        for name in names:
            m = name and service_model(name)
            if m and m.metadata.get("targetPrefix") == prefix:
                return m, op
        return None, None
    names = _candidates(scope) if scope else (QUERY_VERSIONS.get(version),)
    models = [m for m in (n and service_model(n) for n in names) if m]
    for m in models:
        if m.metadata.get("apiVersion") == version:
            return m, None
    return (models[0], None) if models and not version else (None, None)


# ---- patterns: AWS writes them for Java's java.util.regex, matched against the whole value --------------

_PATTERNS = {}
_Z = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # \p{Z}: Zs, Zl, Zp


def _pattern(p):
    """The compiled full-match pattern, or None when it cannot be compiled here (then unchecked)."""
    if p in _PATTERNS:
        return _PATTERNS[p]
    rx = None
    if _regex is not None:
        try:
            rx = _regex.compile(p)
        except Exception:  # noqa: BLE001 - regex.error
            rx = None
    if rx is None:
        t = p.replace(r"\p{L}", r"\w").replace(r"\p{N}", r"\d").replace(r"\p{Z}", _Z)
        t = re.sub(r"(\\[wds])-", r"\1\\-", t)  # Java takes [\w-_] as \w, '-', '_'
        try:
            rx = re.compile(t)
        except re.error:
            _log(f"pattern not checked (cannot compile here): {p}")
    _PATTERNS[p] = rx
    return rx


# ---- wire -> parameters ---------------------------------------------------------------------------

class _Wire:
    """What deserialising found wrong: ('type' | 'unknown', path, detail)."""

    def __init__(self):
        self.errors = []

    def add(self, kind, path, detail):
        self.errors.append((kind, path, detail))


def _json_names(shape):
    names = getattr(shape, "_sk_json_names", None)
    if names is None:
        names = {m.serialization.get("name", n): n for n, m in shape.members.items()}
        shape._sk_json_names = names
    return names


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def from_json(value, shape, path, wire):
    """A JSON value (already json.loads-ed) as botocore parameters for shape; null is absent."""
    if value is None:
        return _MISSING
    t = shape.type_name
    if t == "structure":
        if shape.is_document_type:
            return value
        if not isinstance(value, dict):
            wire.add("type", path, "an object")
            return _MISSING
        names, out = _json_names(shape), {}
        for k, v in value.items():
            member = names.get(k)
            if member is None:
                wire.add("unknown", f"{path}.{k}" if path else k, None)
                continue
            r = from_json(v, shape.members[member], f"{path}.{member}" if path else member, wire)
            if r is not _MISSING:
                out[member] = r
        return out
    if t == "list":
        if not isinstance(value, list):
            wire.add("type", path, "a list")
            return _MISSING
        out = []
        for i, v in enumerate(value):
            r = from_json(v, shape.member, f"{path}[{i}]", wire)
            if r is not _MISSING:
                out.append(r)
        return out
    if t == "map":
        if not isinstance(value, dict):
            wire.add("type", path, "a map")
            return _MISSING
        out = {}
        for k, v in value.items():
            r = from_json(v, shape.value, f"{path}.{k}", wire)
            if r is not _MISSING:
                out[k] = r
        return out
    if t == "timestamp":
        if _is_number(value):
            return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
        if isinstance(value, str):
            try:
                return parse_timestamp(value)
            except Exception:  # noqa: BLE001 - ValueError and friends
                pass
        wire.add("type", path, "a timestamp (epoch seconds)")
        return _MISSING
    if t == "blob":
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                pass
        wire.add("type", path, "base64 data")
        return _MISSING
    return value  # scalars: the validator checks their types


class _Node:
    __slots__ = ("value", "kids", "used")

    def __init__(self):
        self.value, self.kids, self.used = None, {}, False


def _query_tree(pairs):
    root = _Node()
    for key, value in pairs:
        node = root
        for part in key.split("."):
            node = node.kids.setdefault(part, _Node())
        node.value = value
    return root


def _query_name(shape, default, ec2):
    s = shape.serialization
    if ec2:
        if "queryName" in s:
            return s["queryName"]
        if "name" in s:
            return s["name"][0].upper() + s["name"][1:]
        return default
    return s.get("name", default)


def _query_scalar(node, shape, path, wire):
    node.used = True
    v, t = node.value, shape.type_name
    try:
        if t in ("integer", "long"):
            return int(v)
        if t in ("float", "double"):
            return float(v)
        if t == "boolean":
            if v in ("true", "false"):
                return v == "true"
            raise ValueError(v)
        if t == "timestamp":
            return parse_timestamp(v)
        if t == "blob":
            return base64.b64decode(v, validate=True)
    except (ValueError, TypeError, binascii.Error, OverflowError):
        wire.add("type", path, {"integer": "an integer", "long": "an integer", "float": "a number",
                                "double": "a number", "boolean": "true or false",
                                "timestamp": "an ISO 8601 timestamp", "blob": "base64 data"}[t])
        return _MISSING
    return v


def _indexed(node):
    """The children of a list/map node numbered 1, 2, ... in order (others are left unknown)."""
    return [node.kids[k] for k in sorted((k for k in node.kids if k.isdigit() and k != "0"), key=int)]


def from_query(node, shape, path, wire, ec2):
    """A Query (or ec2) parameter tree as botocore parameters for shape."""
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            key = _query_name(member, name, ec2)
            if member.type_name == "list" and not ec2 and member.serialization.get("flattened") \
                    and member.member.serialization.get("name"):
                key = member.member.serialization["name"]
            child = node.kids.get(key)
            if child is None:
                continue
            r = from_query(child, member, f"{path}.{name}" if path else name, wire, ec2)
            if r is not _MISSING:
                out[name] = r
        return out
    if t == "list":
        if node.value == "" and not node.kids:  # the Query protocol's empty list: "Name="
            node.used = True
            return []
        items = node
        if not ec2 and not shape.serialization.get("flattened"):
            items = node.kids.get(shape.member.serialization.get("name", "member"))
            if items is None:
                return _MISSING
        out = []
        for i, item in enumerate(_indexed(items)):
            r = from_query(item, shape.member, f"{path}[{i}]", wire, ec2)
            if r is not _MISSING:
                out.append(r)
        return out
    if t == "map":
        entries = node if shape.serialization.get("flattened") else node.kids.get("entry")
        if entries is None:
            return _MISSING
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out = {}
        for e in _indexed(entries):
            k, v = e.kids.get(kname), e.kids.get(vname)
            if k is None or k.value is None:
                continue
            k.used = True
            r = from_query(v, shape.value, f"{path}.{k.value}", wire, ec2) if v is not None else _MISSING
            if r is not _MISSING:
                out[k.value] = r
        return out
    if node.value is None:
        return _MISSING
    return _query_scalar(node, shape, path, wire)


def _unused(node, prefix, out):
    for k, kid in node.kids.items():
        key = f"{prefix}.{k}" if prefix else k
        if kid.value is not None and not kid.used:
            out.append(key)
        _unused(kid, key, out)
    return out


# ---- validation: botocore's ParamValidator plus max lengths/ranges, enums and patterns --------------------

class Validator(ParamValidator):
    """botocore's validator, extended with the constraints it leaves to the service.

    output=True checks what an answer must hold (types, enums, required members) and not lengths,
    ranges or patterns, which constrain what a caller sends."""

    VALIDATED_METADATA_ATTRS = ParamValidator.VALIDATED_METADATA_ATTRS | {"max", "enum", "pattern"}

    def __init__(self, output=False):
        self.output = output

    def _bounds(self, value, shape, errors, name, kind, shown):
        if self.output:
            return
        md = shape.metadata
        if "min" in md and value < md["min"]:
            errors.report(name, kind, param=shown, min_allowed=md["min"], sensitive=_sensitive(shape))
        if "max" in md and value > md["max"]:
            errors.report(name, kind, param=shown, max_allowed=md["max"], sensitive=_sensitive(shape))

    def _type(self, param, types, shape, errors, name):
        if isinstance(param, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(param, types)
        if not ok:  # a container of the wrong type is not shown: it may hold anything
            errors.report(name, "invalid type", param=param, valid_types=[shape.type_name],
                          sensitive=_sensitive(shape) or isinstance(param, (dict, list, tuple)))
        return ok

    def _validate_structure(self, params, shape, errors, name):
        if self._type(params, (dict,), shape, errors, name):
            _structure_body(self, params, shape, errors, name)

    def _validate_string(self, param, shape, errors, name):
        if not self._type(param, (str,), shape, errors, name):
            return
        enum = shape.metadata.get("enum")
        # An answer's enum is compared without case: EC2 answers lowercase values its model spells
        # capitalized (VpcEndpoint State "available" for the model's "Available", as describe-vpc-endpoints
        # shows on AWS), so the model's case is not AWS's contract there.
        if enum and param not in enum and not (self.output and param.lower() in {e.lower() for e in enum}):
            errors.report(name, "invalid enum", param=param, enum=enum, sensitive=_sensitive(shape))
        self._bounds(len(param), shape, errors, name, "invalid length", param)
        p = shape.metadata.get("pattern")
        if p and not self.output:
            rx = _pattern(p)
            if rx is not None and rx.fullmatch(param) is None:
                errors.report(name, "invalid pattern", param=param, pattern=p, sensitive=_sensitive(shape))

    def _validate_list(self, param, shape, errors, name):
        if not self._type(param, (list, tuple), shape, errors, name):
            return
        self._bounds(len(param), shape, errors, name, "invalid length", param)
        for i, item in enumerate(param):
            self._validate(item, shape.member, errors, f"{name}[{i}]")

    def _validate_map(self, param, shape, errors, name):
        if not self._type(param, (dict,), shape, errors, name):
            return
        self._bounds(len(param), shape, errors, name, "invalid length", param)
        for key, value in param.items():
            self._validate(key, shape.key, errors, f"{name} (key: {key})")
            self._validate(value, shape.value, errors, f"{name}.{key}")

    def _validate_integer(self, param, shape, errors, name):
        if self._type(param, (int,), shape, errors, name):
            self._bounds(param, shape, errors, name, "invalid range", param)

    _validate_long = _validate_integer

    def _validate_double(self, param, shape, errors, name):
        if self._type(param, (int, float, decimal.Decimal), shape, errors, name):
            self._bounds(param, shape, errors, name, "invalid range", param)

    _validate_float = _validate_double

    def _validate_boolean(self, param, shape, errors, name):
        self._type(param, (bool,), shape, errors, name)

    def _validate_blob(self, param, shape, errors, name):
        if self._type(param, (bytes, bytearray), shape, errors, name):
            self._bounds(len(param), shape, errors, name, "invalid length", "<binary>")

    def _validate_timestamp(self, param, shape, errors, name):
        self._type(param, (datetime.datetime,), shape, errors, name)


# ParamValidator._validate_structure's body (tagged unions, required and unknown members) behind
# its type-check decorator; the subclass checks the type itself (a bool is not an int there).
def _structure_body(self, params, shape, errors, name):
    if shape.is_tagged_union:
        if len(params) == 0:
            errors.report(name, "empty input", members=shape.members)
        elif len(params) > 1:
            errors.report(name, "more than one input", members=shape.members)
    for required in shape.metadata.get("required", []):
        if required not in params:
            errors.report(name, "missing required field", required_name=required, user_params=params)
    for param, value in params.items():
        if param not in shape.members:
            errors.report(name, "unknown field", unknown_param=param, valid_names=list(shape.members))
        else:
            self._validate(value, shape.members[param], errors, f"{name}.{param}")


def _sensitive(shape):
    """Is a value of shape (or an element of it, for a list or map) a secret never to be repeated?"""
    return bool(shape.metadata.get("sensitive")) or any(
        _sensitive(s) for s in (getattr(shape, "member", None), getattr(shape, "value", None)) if s is not None)


def _aws_path(name):
    """botocore's '.containerDefinitions[0].name' as AWS writes it: 'containerDefinitions.1.member.name'."""
    name = re.sub(r"\[(\d+)\]", lambda m: f".{int(m.group(1)) + 1}.member", name.lstrip("."))
    return ".".join(p[:1].lower() + p[1:] if p and not p[0].isdigit() else p for p in name.split("."))


def _shown(v):
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_shown(x) for x in v) + "]"
    s = str(v)
    return s if len(s) <= 256 else s[:256] + "..."


def _value(kw):
    return "Value" if kw.get("sensitive") else f"Value '{_shown(kw.get('param'))}'"


def aws_messages(errors):
    """ValidationErrors as AWS phrases constraint failures, one string per error."""
    out = []
    for reason, name, kw in errors._errors:
        at = _aws_path(name)
        if reason == "missing required field":
            field = kw["required_name"]
            field = field[:1].lower() + field[1:]
            out.append(f"Value null at '{at + '.' if at else ''}{field}' failed to satisfy constraint: "
                       "Member must not be null")
        elif reason == "unknown field":
            out.append(f"Unknown parameter '{kw['unknown_param']}' at '{at or 'input'}'")
        elif reason == "invalid type":
            out.append(f"{_value(kw)} at '{at}' failed to satisfy constraint: Member must be of type "
                       f"{kw['valid_types'][0]}")
        elif reason == "invalid enum":
            out.append(f"{_value(kw)} at '{at}' failed to satisfy constraint: Member must satisfy enum value "
                       f"set: [{', '.join(kw['enum'])}]")
        elif reason == "invalid pattern":
            out.append(f"{_value(kw)} at '{at}' failed to satisfy constraint: Member must satisfy regular "
                       f"expression pattern: {kw['pattern']}")
        elif reason in ("invalid length", "invalid range"):
            what = "length" if reason == "invalid length" else "value"
            if "min_allowed" in kw:
                bound = f"greater than or equal to {kw['min_allowed']}"
            else:
                bound = f"less than or equal to {kw['max_allowed']}"
            out.append(f"{_value(kw)} at '{at}' failed to satisfy constraint: Member must have {what} {bound}")
        else:
            out.append(f"{reason} at '{at}'")
    return out


def _detected(messages):
    n = len(messages)
    return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(messages)


# ---- a request -----------------------------------------------------------------------------------

class Request:
    """One AWS API request as the layer sees it (rules get it as their context)."""

    def __init__(self, environ, body):
        self.environ, self.body = environ, body
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = _CRED_RE.search(auth) or _CRED_RE.search(environ.get("QUERY_STRING", "").replace("%2F", "/"))
        self.region, self.scope = (m.group(1), m.group(2)) if m else (None, None)
        k = _KEY_RE.search(auth)
        self.access_key = k.group(1) if k else None
        self.target = environ.get("HTTP_X_AMZ_TARGET", "")
        self.query = None
        # Smithy RPC v2 CBOR (botocore's first choice for CloudWatch today): the operation is the last
        # path segment (POST /service/SERVICE/operation/OP), the body a CBOR map.
        self.cbor = environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor"
        if self.cbor:
            self.target = environ.get("PATH_INFO", "").rsplit("/", 1)[-1]
        elif not self.target:
            pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "") or \
                    (environ.get("REQUEST_METHOD") == "POST" and not environ.get("CONTENT_TYPE")):
                pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            self.query = {k: v for k, v in pairs}
        self.action = self.query.get("Action") if self.query is not None else None
        self.model, op = identify(self.scope, "" if self.cbor else self.target,
                                  self.query.get("Version") if self.query else None)
        self.service = self.model.service_name if self.model else self.scope
        self.protocol = self.model.metadata.get("protocol") if self.model else None
        if self.model and self.target and not self.cbor and "json" in (self.model.metadata.get("protocols") or []):
            self.protocol = "json"  # a service that speaks several (CloudWatch: CBOR, JSON, Query)
        self.operation = self.target if self.cbor else op if self.target else self.action
        self.params = None

    @property
    def json(self):
        return self.protocol in ("json", "rest-json")

    def account(self):
        """The account the request's access key belongs to (moto's IAM)."""
        from moto.iam.models import get_account_id_from

        return get_account_id_from(self.access_key or "")


def _cbor_map(d):
    """A CBOR map of text strings (RFC 8949: major types 5 and 3), for an error in the CBOR protocol."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | extra]) + n.to_bytes(size, "big")
        raise ValueError("too long")
    out = head(5, len(d))
    for k, v in d.items():
        for text in (k, v):
            b = text.encode()
            out += head(3, len(b)) + b
    return out


def _error(req, code, message, status, start_response, kind="Sender"):
    rid = str(uuid.uuid4())
    reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error"}.get(status, "Error")
    if req.cbor:
        body = _cbor_map({"__type": code, "message": message})
        headers = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"), ("x-amzn-RequestId", rid)]
    elif req.json or (req.model is None and req.target):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", rid),
                   ("x-amzn-ErrorType", code)]
    else:
        msg = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if req.protocol == "ec2":
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code>"
                    f"<Message>{msg}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>").encode()
        else:
            body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{msg}</Message>"
                    f"</Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)]
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {reason}", headers)
    return [body]


def check_request(req):
    """Deserialise and validate req (sets req.params); raises Refusal the way AWS answers."""
    m, op = req.model, req.operation
    if not op or op not in m.operation_names:
        if req.json:
            raise Refusal("UnknownOperationException", f"The operation {op or '(none)'} is not valid")
        raise Refusal("InvalidAction", f"The action {op or '(none)'} is not valid for this web service.")
    om = m.operation_model(op)
    shape = om.input_shape
    wire = _Wire()
    vcode = VALIDATION_CODES.get(req.service, "ValidationException" if req.json else "ValidationError")
    if req.cbor:
        from botocore.parsers import RpcV2CBORParser
        try:
            parser = RpcV2CBORParser()
            doc = parser._initial_body_parse(req.body) if req.body else {}
            params = parser._parse_shape(shape, doc) if shape is not None and doc else {}
        except Exception:  # noqa: BLE001 - any decoding failure is the client's
            raise Refusal("SerializationException", "The request body is not valid CBOR") from None
    elif req.json:
        try:
            doc = json.loads(req.body or b"{}")
        except ValueError:
            raise Refusal("SerializationException", "The request body is not valid JSON") from None
        params = from_json(doc, shape, "", wire) if shape is not None else ({} if doc in ({}, None) else _MISSING)
        if shape is None and params is _MISSING:
            wire.add("unknown", "input", None)
    else:
        pairs = [(k, v) for k, v in req.query.items() if k not in ("Action", "Version") and k not in _AUTH_QUERY]
        tree = _query_tree(pairs)
        params = from_query(tree, shape, "", wire, req.protocol == "ec2") if shape is not None else {}
        for key in _unused(tree, "", []):
            wire.add("unknown", key, None)
    if params is _MISSING:
        params = {}
    req.params = params
    if wire.errors:
        unknown = [p for kind, p, _ in wire.errors if kind == "unknown"]
        if req.json:
            what = [f"Unknown parameter '{p}'" for p in unknown] + \
                   [f"'{_aws_path(p)}' must be {d}" for kind, p, d in wire.errors if kind == "type"]
            raise Refusal("SerializationException", "; ".join(what))
        if unknown and req.protocol == "ec2":
            raise Refusal("UnknownParameter", f"The parameter {unknown[0]} is not recognized")
        what = [f"Unknown parameter '{p}'" for p in unknown] + \
               [f"Value at '{_aws_path(p)}' failed to satisfy constraint: Member must be {d}"
                for kind, p, d in wire.errors if kind == "type"]
        raise Refusal(vcode, _detected(what))
    if shape is not None:
        errors = Validator().validate(params, shape)
        if errors.has_errors():
            if req.json and any(e[0] == "invalid type" for e in errors._errors):
                kept = ValidationErrors()
                for reason, name, kw in errors._errors:
                    if reason == "invalid type":
                        kept.report(name, reason, **kw)
                raise Refusal("SerializationException", "; ".join(aws_messages(kept)))
            missing = [e for e in errors._errors if e[0] == "missing required field"]
            if req.protocol == "ec2" and missing:
                raise Refusal("MissingParameter",
                              f"The request must contain the parameter {missing[0][2]['required_name']}")
            raise Refusal(vcode, _detected(aws_messages(errors)))
    import contract_rules  # noqa: PLC0415 - after moto is up: rules read its backends

    contract_rules.check(req)


# ---- a response ----------------------------------------------------------------------------------

class _StrictJSONParser(botocore.parsers.JSONParser):
    """botocore's JSON parser, but a container of the wrong kind is an error, not reinterpreted."""

    def _handle_structure(self, shape, value):
        if value is not None and not shape.is_document_type and not isinstance(value, dict):
            raise botocore.parsers.ResponseParserError(
                f"expected an object for {shape.name}, got {type(value).__name__}")
        return super()._handle_structure(shape, value)

    def _handle_list(self, shape, node):
        if not isinstance(node, list):
            raise botocore.parsers.ResponseParserError(f"expected a list for {shape.name}, got {type(node).__name__}")
        return super()._handle_list(shape, node)

    def _handle_map(self, shape, value):
        if not isinstance(value, dict):
            raise botocore.parsers.ResponseParserError(f"expected a map for {shape.name}, got {type(value).__name__}")
        return super()._handle_map(shape, value)


class _StrictQueryParser(botocore.parsers.QueryParser):
    @botocore.parsers._text_content
    def _handle_boolean(self, shape, text):
        if text not in ("true", "false"):
            raise botocore.parsers.ResponseParserError(f"expected true or false for {shape.name}, got {text!r}")
        return text == "true"


class _StrictEC2Parser(botocore.parsers.EC2QueryParser):
    _handle_boolean = _StrictQueryParser._handle_boolean


_PARSERS = {"json": _StrictJSONParser, "query": _StrictQueryParser, "ec2": _StrictEC2Parser}


def check_response(model, operation, status, headers, body, protocol=None):
    """The contract violations of a 2xx answer: a list of messages (values of sensitive members left out);
    protocol: the one the request spoke (default: the model's first)."""
    om = model.operation_model(operation)
    shape = om.output_shape
    protocol = protocol or model.metadata.get("protocol")
    if shape is None or protocol not in _PARSERS:
        return []
    if protocol == "json" and body.strip():
        try:
            json.loads(body)
        except ValueError:
            return ["the body is not JSON"]
    try:
        parsed = _PARSERS[protocol]().parse({"status_code": status, "headers": HeadersDict(headers), "body": body},
                                            shape)
    except Exception as e:  # noqa: BLE001 - any parser failure is what a client would hit
        return [f"the body does not parse as {operation}'s output: {e}"]
    parsed.pop("ResponseMetadata", None)
    errors = Validator(output=True).validate(parsed, shape)
    if not errors.has_errors():
        return []
    out = []
    for msg, err in zip(aws_messages(_masked(errors)), errors._errors):
        if not _exempt(model.service_name, operation, err):
            out.append(msg)
    return out


def _masked(errors):
    """The errors with every value left out: answers hold secrets, and the log is kept."""
    masked = ValidationErrors()
    for reason, name, kw in errors._errors:
        masked.report(name, reason, **dict(kw, sensitive=True))
    return masked


# Exemptions: answers of the stack's own simulators known to break the output shape, each with the
# reason, until the simulator's owner fixes it (docs/aws-fidelity.md lists them). Keep them narrow:
# (service, operation, AWS-style path regex, reason).
EXEMPTIONS = []


def _exempt(service, operation, err):
    reason, name, kw = err
    path = _aws_path(name)
    if reason == "missing required field":
        path = (path + "." if path else "") + kw["required_name"][:1].lower() + kw["required_name"][1:]
    return any(s == service and o == operation and re.fullmatch(p, path) for s, o, p, _ in EXEMPTIONS)


# ---- who made a request: the client process and its SK_TEST_ID ----------------------------------------

def _socket_inode(client_port, server_port):
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) < 10:
                continue
            local, remote = parts[1], parts[2]
            if int(local.rsplit(":", 1)[1], 16) == client_port and int(remote.rsplit(":", 1)[1], 16) == server_port:
                return parts[9]
    return None


def client_process(environ):
    """(pid, SK_TEST_ID or None, program name) of the local process that sent this request, or Nones."""
    try:
        inode = _socket_inode(int(environ.get("REMOTE_PORT")), int(environ.get("SERVER_PORT")))
    except (TypeError, ValueError):
        inode = None
    if inode is None or inode == "0":
        return None, None, None
    want = f"socket:[{inode}]"
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        fds = f"/proc/{pid}/fd"
        try:
            if not any(os.readlink(f"{fds}/{fd}") == want for fd in os.listdir(fds)):
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        test = next((e[len(b"SK_TEST_ID="):].decode("utf-8", "replace") for e in env
                     if e.startswith(b"SK_TEST_ID=")), None)
        return int(pid), test, comm
    return None, None, None


# ---- the log, the counters, the control endpoint ------------------------------------------------------

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.requests = self.checked = self.refused = self.violations = self.unmodelled = 0
        self.seconds = self.max_seconds = 0.0
        self.injections = []

    def timed(self, dt):
        with self.lock:
            self.seconds += dt
            self.max_seconds = max(self.max_seconds, dt)

    def dump(self):
        n = self.checked or 1
        return {"requests": self.requests, "checked": self.checked, "refused": self.refused,
                "violations": self.violations, "unmodelled": self.unmodelled,
                "layer_ms_total": round(self.seconds * 1000, 3), "layer_ms_mean": round(self.seconds * 1000 / n, 3),
                "layer_ms_max": round(self.max_seconds * 1000, 3), "injections": list(self.injections),
                "log": os.environ.get("SK_CONTRACT_LOG", "")}


STATE = State()
_LOG_LOCK = threading.Lock()


def record(kind, req, status, code, message, environ):
    """Append one entry to $SK_CONTRACT_LOG (and moto.log), naming the test that made the request."""
    pid, test, comm = client_process(environ)
    entry = {"t": round(time.time(), 3), "kind": kind, "test": test, "pid": pid, "client": comm,
             "service": req.service, "operation": req.operation, "status": status, "code": code, "message": message}
    _log(f"{kind}: {req.service} {req.operation} {code}: {message} (client {comm or '?'} pid {pid or '?'}, "
         f"test {test or '?'})")
    path = os.environ.get("SK_CONTRACT_LOG")
    if path:
        with _LOG_LOCK, open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def _injected(req, environ):
    with STATE.lock:
        rules = list(STATE.injections)
    for rule in rules:
        if rule.get("service", req.service) != req.service or rule.get("action", req.operation) != req.operation:
            continue
        if "test" in rule and client_process(environ)[1] != rule["test"]:
            continue
        with STATE.lock:
            if rule in STATE.injections:
                STATE.injections.remove(rule)
                return True
    return False


def _control(environ, start_response):
    method = environ.get("REQUEST_METHOD", "GET")
    status, body = "200 OK", None
    try:
        if method == "GET":
            body = STATE.dump()
        elif method == "DELETE":
            with STATE.lock:
                STATE.clear()
            body = STATE.dump()
        elif method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            doc = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            inj = doc.get("inject") if isinstance(doc, dict) else None
            if set(doc) - {"inject"} or not isinstance(inj, dict) or set(inj) - {"service", "action", "test"} \
                    or not all(isinstance(v, str) for v in inj.values()):
                raise ValueError('expected {"inject": {"service": S, "action": A, "test": ID}}')
            with STATE.lock:
                STATE.injections.append(inj)
            body = STATE.dump()
        else:
            status, body = "405 Method Not Allowed", {"error": f"use GET, POST or DELETE, not {method}"}
    except (ValueError, TypeError) as e:
        status, body = "400 Bad Request", {"error": str(e)}
    data = json.dumps(body, indent=1).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


# ---- the middleware ----------------------------------------------------------------------------------

def _read_body(environ):
    if "shipkit.body" not in environ:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        data = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(data)
        environ["shipkit.body"] = data
    return environ["shipkit.body"]


def handle(environ, start_response, inner):
    """Check a request, pass it on (inner(environ, start_response)), check the answer."""
    path = environ.get("PATH_INFO", "")
    if path == CONTROL_PATH:
        return _control(environ, start_response)
    if path.startswith("/shipkit-sim/") or path.startswith("/moto-api"):
        return inner(environ, start_response)
    t0 = time.perf_counter()
    req = Request(environ, _read_body(environ))
    with STATE.lock:
        STATE.requests += 1
        if req.model is None:
            STATE.unmodelled += 1
    if req.model is None:
        return inner(environ, start_response)
    try:
        check_request(req)
    except Refusal as r:
        with STATE.lock:
            STATE.refused += 1
        STATE.timed(time.perf_counter() - t0)
        record("refused", req, r.status, r.code, r.message, environ)
        return _error(req, r.code, r.message, r.status, start_response)
    spent = time.perf_counter() - t0

    got = {}
    written = []

    def capture(status, headers, exc_info=None):
        got["status"], got["headers"] = status, headers
        return written.append

    chunks = inner(environ, capture)
    try:
        body = b"".join(written) + b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    status, headers = got.get("status", "500 Internal Server Error"), got.get("headers", [])
    t1 = time.perf_counter()
    code = int(status.split()[0])
    problems = []
    if 200 <= code < 300:
        with STATE.lock:
            STATE.checked += 1
        # CBOR answers are not checked (docs/aws-fidelity.md): the layer reads JSON and XML.
        problems = [] if req.cbor else check_response(req.model, req.operation, code, headers, body, req.protocol)
        if _injected(req, environ):
            problems.append("injected by POST /shipkit-sim/contract (a test of the violation path)")
    STATE.timed(spent + time.perf_counter() - t1)
    if problems:
        with STATE.lock:
            STATE.violations += 1
        message = f"{req.service} {req.operation}: the answer breaks the AWS output shape: " + "; ".join(problems)
        record("violation", req, 500, "ShipkitContractViolation", message, environ)
        return _error(req, "ShipkitContractViolation", message, 500, start_response, kind="Receiver")
    start_response(status, headers)
    return [body]


def install():
    """Wrap moto's WSGI dispatcher (once; after faults.install(), so this runs first of all)."""
    if getattr(install, "done", False):
        return
    install.done = True
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        return handle(environ, start_response, lambda e, s: dispatch(self, e, s))

    DomainDispatcherApplication.__call__ = call
    _log("contract layer on: requests and answers checked against botocore's models; " + CONTROL_PATH)
