#!/usr/bin/env python3
"""botosign.py: the botocore reference for aws-sign's output.

  botosign.py WHAT --method M --url URL --region R --service S --date YYYYMMDDTHHMMSSZ
              [--body-file F] [--token T] [--expires N] [-H 'Name: value']...

WHAT is one of
  canonical      canonical request, a blank line, the string to sign (like --print-canonical)
  authorization  the Authorization header value
  headers        the headers aws-sign --print-headers prints, "Name: value" per line
  presign        the presigned URL (SigV4QueryAuth)
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN unless
--token is given.
"""
import argparse
import datetime
import os
import sys

import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["canonical", "authorization", "headers", "presign"])
    ap.add_argument("--method", default="GET")
    ap.add_argument("--url", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--body-file")
    ap.add_argument("--token")
    ap.add_argument("--expires", type=int, default=3600)
    ap.add_argument("-H", dest="headers", action="append", default=[])
    a = ap.parse_args()

    when = datetime.datetime.strptime(a.date, "%Y%m%dT%H%M%SZ")
    # botocore reads the clock through this function; pin it to --date.
    botocore.auth.get_current_datetime = lambda *args, **kw: when

    token = a.token if a.token is not None else os.environ.get("AWS_SESSION_TOKEN")
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], token)

    body = b""
    if a.body_file:
        with open(a.body_file, "rb") as f:
            body = f.read()

    hdrs = []
    for h in a.headers:
        name, _, value = h.partition(":")
        hdrs.append((name.strip(), value.strip()))

    req = AWSRequest(method=a.method, url=a.url, data=body or None)
    for name, value in hdrs:
        req.headers[name] = value

    if a.what == "presign":
        auth = SigV4QueryAuth(creds, a.service, a.region, expires=a.expires)
        auth.add_auth(req)
        print(req.url)
        return

    cls = S3SigV4Auth if a.service == "s3" else SigV4Auth
    auth = cls(creds, a.service, a.region)
    auth.add_auth(req)
    authz = req.headers["Authorization"]
    if a.what == "authorization":
        print(authz)
        return
    if a.what == "headers":
        for name, value in hdrs:
            print(f"{name}: {value}")
        print(f"X-Amz-Date: {req.headers['X-Amz-Date']}")
        if token:
            print(f"X-Amz-Security-Token: {token}")
        if a.service == "s3":
            print(f"X-Amz-Content-Sha256: {req.headers['X-Amz-Content-SHA256']}")
        print(f"Authorization: {authz}")
        return
    del req.headers["Authorization"]
    cr = auth.canonical_request(req)
    sts = auth.string_to_sign(req, cr)
    sys.stdout.write(cr + "\n\n" + sts + "\n")


if __name__ == "__main__":
    main()
