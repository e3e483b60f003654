#!/usr/bin/env python3
"""moto_plus.py: moto_server, plus the real-AWS behaviour shipkit's tests need that moto lacks.

Run exactly like moto_server (same arguments). Patches in the authentication path, which moto
only enters once IAM authentication is on:

  * STS AssumeRoleWithWebIdentity and AssumeRoleWithSAML are served without a signature, as AWS
    serves them (their model says smithy.api#noAuth); moto answers any unsigned call with a 500.
  * Any other request without an Authorization header gets AWS's answer, 403
    MissingAuthenticationToken, instead of moto's 500 (a KeyError on the missing header).

And in ECR:

  * GetAuthorizationToken's expiresAt is now + 12 hours, as in AWS; moto returns 2015-01-01,
    a token that is always expired. The token itself stays moto's: base64("AWS:<account>-auth-token").
  * Its proxyEndpoint is "https://" + $SK_MOTO_ECR_PROXY when that is set (tests/stack/up sets it to
    the local docker-registry, 127.0.0.1:PORT), so pushing to a repository without a registry part
    goes to the test registry; without it, moto's "https://<account>.dkr.ecr.<region>.amazonaws.com".
  * Each GetAuthorizationToken served logs one line to stderr (moto.log),
    "moto_plus: ecr GetAuthorizationToken <registry ids>", so tests can count the calls.

RDS DescribePendingMaintenanceActions answers an empty list instead of moto's 500.

And ECS, through tests/stack/ecs_sim.py (docs/ecs-simulator.md), installed at import:

  * CreateService/UpdateService start real deployments: a background thread moves tasks through
    PROVISIONING -> PENDING -> RUNNING -> STOPPED, registers them in ELBv2 ip target groups (initial ->
    healthy -> draining, as DescribeTargetHealth shows), completes or fails rollouts (circuit breaker,
    rollback), emits service events and writes awslogs lines; the first container's image picks a
    scenario ("crash", "unhealthy", "slow"). Simulated seconds x $SK_SIM_TIME_SCALE (default 0.1).
  * /shipkit-sim/{config,state,reset,network} on this port (no auth) control and show it.

Later issues add their behaviour here (fault injection).
"""
import os
import sys
import time

from moto.core.exceptions import _RESTError
from moto.core.responses import ActionAuthenticatorMixin, ActionResult
from moto.ecr.responses import ECRResponse

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

ECR_TOKEN_LIFETIME = 12 * 3600  # seconds, as AWS documents for GetAuthorizationToken

_get_authorization_token = ECRResponse.get_authorization_token


def _get_authorization_token_like_aws(self):
    result = _get_authorization_token(self)
    proxy = os.environ.get("SK_MOTO_ECR_PROXY", "")
    expires = time.time() + ECR_TOKEN_LIFETIME
    data = result.result["authorizationData"]
    for entry in data:
        entry["expiresAt"] = expires
        if proxy:
            entry["proxyEndpoint"] = "https://" + proxy
    ids = " ".join(self._get_param("registryIds") or [self.current_account])
    print(f"moto_plus: ecr GetAuthorizationToken {ids}", file=sys.stderr, flush=True)
    return ActionResult({"authorizationData": data})


ECRResponse.get_authorization_token = _get_authorization_token_like_aws

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# RDS DescribePendingMaintenanceActions: moto answers 500 (not implemented). A fresh instance has
# nothing pending, which is what RDS says: an empty list.
from moto.rds.responses import RDSResponse  # noqa: E402


def _describe_pending_maintenance_actions(self):
    return ActionResult({"PendingMaintenanceActions": []})


if not hasattr(RDSResponse, "describe_pending_maintenance_actions"):
    RDSResponse.describe_pending_maintenance_actions = _describe_pending_maintenance_actions

import ecs_sim  # noqa: E402 - after moto's imports, like the patches above

ecs_sim.install()

if __name__ == "__main__":
    from moto.server import main

    sys.argv[0] = "moto_server"
    sys.exit(main())
