#!/usr/bin/env python3
"""sigv4_diff.py SEED COUNT: sign COUNT random requests with bin/aws-sign --print-canonical and with
botocore's SigV4Auth, and report every difference. Requests have odd paths (dot segments, double
slashes, percent-encoding, UTF-8), queries (repeated keys, empty values, reserved characters),
headers (mixed case, whitespace runs) and bodies. Exit 0 when all agree."""
import datetime
import os
import tempfile
import random
import subprocess
import sys
import urllib.parse

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SEG = ["a", "b", "model", "v1", ".", "..", "", "x y", "ሴ", "a+b", "~tilde", "per%cent", "q=1", "$del", "é"]
QK = ["Param", "param", "a", "A", "b c", "key/1", "ü", "x+y", "e"]
QV = ["", "1", "value", "a b", "/", "=", "&", "ሴ", "~._-", "+"]
HN = ["X-Custom", "x-amz-meta-Thing", "My-Header", "Content-Type", "X-Amz-Target"]
HV = ["value", "  padded  ", "a   b\tc", "VALUE", "application/x-amz-json-1.1", "\"quoted   text\""]
SERVICES = ["ssm", "ecs", "secretsmanager", "sts", "execute-api", "logs"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def rand_request(rnd):
    path = "/" + "/".join(urllib.parse.quote(rnd.choice(SEG), safe="~") if rnd.random() < 0.8 else rnd.choice(["", ".", ".."])
                          for _ in range(rnd.randint(0, 5)))
    if rnd.random() < 0.3:
        path += "/"
    pairs = []
    for _ in range(rnd.randint(0, 4)):
        k = urllib.parse.quote(rnd.choice(QK), safe="-_.~")
        v = urllib.parse.quote(rnd.choice(QV), safe="-_.~")
        pairs.append(k + "=" + v)
    if pairs and rnd.random() < 0.3:
        pairs.append(pairs[0])  # a repeated key and value
    query = "&".join(pairs)
    headers = {}
    for _ in range(rnd.randint(0, 3)):
        headers[rnd.choice(HN)] = rnd.choice(HV)
    method = rnd.choice(["GET", "POST", "PUT", "DELETE"])
    body = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 64))) if method in ("POST", "PUT") else b""
    service = rnd.choice(SERVICES)
    region = rnd.choice(REGIONS)
    port = rnd.choice(["", ":8443"])
    url = "https://example.amazonaws.com" + port + path + ("?" + query if query else "")
    when = datetime.datetime(2026, 1, 1) + datetime.timedelta(seconds=rnd.randrange(10**8))
    return method, url, headers, body, service, region, when


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rnd = random.Random(seed)
    akid, secret = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    creds = Credentials(akid, secret)
    bad = 0
    fd, body_path = tempfile.mkstemp(prefix="sigv4_diff_")
    os.close(fd)
    for i in range(count):
        method, url, headers, body, service, region, when = rand_request(rnd)
        botocore.auth.get_current_datetime = lambda *a, **k: when
        req = AWSRequest(method=method, url=url, data=body or None, headers=dict(headers))
        auth = SigV4Auth(creds, service, region)
        req.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        auth.add_auth(req)  # sets X-Amz-Date; compute the canonical form without its Authorization
        del req.headers["Authorization"]
        creq = auth.canonical_request(req)
        sts = auth.string_to_sign(req, creq)
        want = creq + "\n\n" + sts + "\n"
        with open(body_path, "wb") as f:
            f.write(body)
        cmd = ["aws-sign", "--print-canonical", "-X", method, "--service", service, "--region", region,
               "--date", when.strftime("%Y%m%dT%H%M%SZ")]
        for k, v in headers.items():
            cmd += ["-H", k + ": " + v]
        if body:
            cmd += ["-d", "@" + body_path]
        cmd.append(url)
        p = subprocess.run(cmd, capture_output=True,
                           env={"AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": secret, "PATH": sys.path[0] + "/../../../bin"})
        got = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0 or got != want:
            bad += 1
            print(f"# case {i}: {method} {url} headers={headers!r} body={len(body)}B rc={p.returncode}")
            print("# stderr: " + p.stderr.decode(errors="replace").strip())
            print("# want:\n" + want + "# got:\n" + got)
            if bad >= 5:
                break
    os.unlink(body_path)
    print(f"{count - bad} of {count} requests agree with botocore" if not bad else f"{bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
