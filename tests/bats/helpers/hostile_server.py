#!/usr/bin/env python3
"""tests/bats/helpers/hostile_server.py: servers on 127.0.0.1 that answer as an attacker would.

    hostile_server.py aws SCRIPT.json PORTFILE [LIFETIME]
    hostile_server.py postgres MESSAGE.json PORTFILE [LIFETIME]

aws: an HTTP server speaking just enough of the AWS JSON and Query protocols. SCRIPT is
{"rules": [{"match": OP, "status": 400, "headers": {...}, "body": TEXT}, ...]}: the first rule
whose match is the request's operation (X-Amz-Target after the dot, or the form's Action=) or "*"
answers. In TEXT, {{NAME}} is replaced by the request's JSON member or form parameter NAME (a
service quoting the request back), and the string is sent as UTF-8 with surrogate escapes, so a
JSON "\\udc9b" in SCRIPT is the raw byte 0x9b on the wire. Nothing of a request is logged (it may
hold a test's secrets): only "METHOD OPERATION" lines on stderr.

postgres: a PostgreSQL server (protocol 3.0) that asks for a cleartext password and answers with a
FATAL ErrorResponse whose message is MESSAGE's "message" with {{password}} replaced by the password
it was sent (a server quoting it back). Connections that send nothing (a TCP probe) are closed.

Both bind 127.0.0.1 on a free port, write it to PORTFILE, and exit after LIFETIME seconds (60).
"""
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def wire(text):
    return text.encode("utf-8", "surrogateescape")


def fill(text, values):
    for k, v in values.items():
        text = text.replace("{{" + k + "}}", v)
    return text


def serve_aws(script, port_file, lifetime):
    rules = script["rules"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def answer(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            target = self.headers.get("X-Amz-Target") or ""
            values, op = {}, target.rsplit(".", 1)[-1] if target else ""
            try:
                doc = json.loads(raw or b"{}")
                if isinstance(doc, dict):
                    values = {k: v for k, v in doc.items() if isinstance(v, str)}
            except ValueError:
                values = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8", "replace")).items()}
                op = op or values.get("Action", "")
            print(f"hostile aws: {self.command} {op}", file=sys.stderr, flush=True)
            rule = next((r for r in rules if r.get("match") in (op, "*")), None)
            if rule is None:
                status, headers, body = 404, {}, '{"__type":"UnknownOperationException","message":"no rule"}'
            else:
                status, headers, body = rule.get("status", 200), rule.get("headers", {}), rule.get("body", "")
            data = wire(fill(body, values))
            self.send_response_only(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = answer

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(port_file, "w") as f:
        f.write(str(srv.server_address[1]))
    threading.Timer(lifetime, srv.shutdown).start()
    srv.serve_forever()


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def pg_session(conn, message):
    try:
        conn.settimeout(10)
        length = struct.unpack("!I", recv_exact(conn, 4))[0]
        body = recv_exact(conn, length - 4)
        if struct.unpack("!I", body[:4])[0] in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
            conn.sendall(b"N")
            length = struct.unpack("!I", recv_exact(conn, 4))[0]
            recv_exact(conn, length - 4)
        conn.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
        kind = recv_exact(conn, 1)
        length = struct.unpack("!I", recv_exact(conn, 4))[0]
        password = recv_exact(conn, length - 4).rstrip(b"\0").decode("utf-8", "surrogateescape")
        if kind != b"p":
            return
        fields = b"SFATAL\0VFATAL\0C28P01\0M" + wire(fill(message, {"password": password})) + b"\0\0"
        conn.sendall(b"E" + struct.pack("!I", 4 + len(fields)) + fields)
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def serve_postgres(message, port_file, lifetime):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.5)
    with open(port_file, "w") as f:
        f.write(str(srv.getsockname()[1]))
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=pg_session, args=(conn, message), daemon=True).start()
    srv.close()


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("aws", "postgres"):
        sys.exit(__doc__)
    with open(sys.argv[2], encoding="utf-8") as f:
        doc = json.load(f)
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 60.0
    if sys.argv[1] == "aws":
        serve_aws(doc, sys.argv[3], lifetime)
    else:
        serve_postgres(doc["message"], sys.argv[3], lifetime)


if __name__ == "__main__":
    main()
