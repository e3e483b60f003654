#!/usr/bin/env python3
"""moto_plus.py: moto_server, plus the real-AWS behaviour shipkit's tests need that moto lacks.

Run exactly like moto_server (same arguments). Patches, all in the authentication path, which
moto only enters once IAM authentication is on:

  * STS AssumeRoleWithWebIdentity and AssumeRoleWithSAML are served without a signature, as AWS
    serves them (their model says smithy.api#noAuth); moto answers any unsigned call with a 500.
  * Any other request without an Authorization header gets AWS's answer, 403
    MissingAuthenticationToken, instead of moto's 500 (a KeyError on the missing header).

Later issues add their behaviour here (ECS rollouts over time, target health, fault injection).
"""
import sys

from moto.core.exceptions import _RESTError
from moto.core.responses import ActionAuthenticatorMixin

NO_AUTH_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


class MissingAuthenticationTokenError(_RESTError):
    code = 403

    def __init__(self):
        super().__init__("MissingAuthenticationToken", "Request is missing Authentication Token")


_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_like_aws(self, iam_request_cls, resource="*"):
    if "Authorization" not in self.headers:
        if self._get_action() in NO_AUTH_ACTIONS:
            return None
        if ActionAuthenticatorMixin.request_count >= _settings().INITIAL_NO_AUTH_ACTION_COUNT:
            raise MissingAuthenticationTokenError()
    return _authenticate(self, iam_request_cls, resource)


def _settings():
    from moto import settings

    return settings


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_like_aws

if __name__ == "__main__":
    from moto.server import main

    sys.argv[0] = "moto_server"
    sys.exit(main())
