"""fleet.py CLUSTER N IMAGE: create N services fleet-1..fleet-N in CLUSTER (each with its own Fargate
task-definition family, one awslogs container "app" running IMAGE, one task, no load balancer) and
wait for their first deployments to complete. One process: aws-cli would start Python 2N times.

Uses the stack's environment (AWS_ENDPOINT_URL, the shipkit-ci keys, SK_TASK_EXECUTION_ROLE_ARN).
Prints the services' names, one a line."""
import json
import os
import sys
import time
import urllib.request

import botocore.session


def main():
    cluster, n, image = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    ecs = botocore.session.get_session().create_client(
        "ecs", region_name=os.environ.get("AWS_REGION", "us-east-1"), endpoint_url=endpoint)
    with urllib.request.urlopen(endpoint + "/shipkit-sim/network", timeout=10) as r:
        net = json.load(r)
    subnets = net["subnets"] if isinstance(net["subnets"], list) else [net["subnets"]]
    names = [f"fleet-{i}" for i in range(1, n + 1)]
    for name in names:
        family = f"{cluster}-{name}"
        ecs.register_task_definition(
            family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            executionRoleArn=os.environ["SK_TASK_EXECUTION_ROLE_ARN"],
            containerDefinitions=[{
                "name": "app", "image": image, "essential": True, "portMappings": [{"containerPort": 8080}],
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": f"/ecs/{family}", "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "ecs"}}}])
        ecs.create_service(
            cluster=cluster, serviceName=name, taskDefinition=family, desiredCount=1, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": subnets[:1], "securityGroups": [net["securityGroupId"]]}},
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    deadline = time.monotonic() + 120
    left = set(names)
    while left and time.monotonic() < deadline:
        batch = sorted(left)[:10]
        for s in ecs.describe_services(cluster=cluster, services=batch)["services"]:
            if s["deployments"] and s["deployments"][0].get("rolloutState") == "COMPLETED":
                left.discard(s["serviceName"])
        if left:
            time.sleep(0.1)
    if left:
        sys.exit(f"fleet.py: the first deployments of {sorted(left)} did not complete")
    print("\n".join(names))


if __name__ == "__main__":
    main()
