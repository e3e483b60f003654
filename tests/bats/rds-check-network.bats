#!/usr/bin/env bats
# shellcheck disable=SC2154 # output/stderr/lines come from bats' run
# rds-check --from-service and --from-sg: the network path from a service's tasks to the database,
# read from moto's EC2 (security groups, subnets, network ACLs), ECS (the service's awsvpc
# configuration) and RDS (the instance's VPC security groups and DB subnet group). Each test builds
# its own VPC: the database in two subnets with its group, the service in a third with its own. The
# instance's Port is the stack's PostgreSQL, so the connection lines pass as in rds-check.bats.
# bats file_tags=rds

load helpers/common

setup() {
    use_stack
    need_tool rds-check
    [[ -n ${SK_RDS_ID:-} ]] || skip "no PostgreSQL in the test stack"
    PY=$(pyref) || skip "no python3 with botocore"
    "$PY" -c 'import boto3' 2>/dev/null || skip "no python3 with boto3"
    export AWS_MAX_ATTEMPTS=1
    H=$(unique | md5sum | cut -c1-10)
}

# net [JSON]: a VPC 10.N.0.0/16 with db subnets .1 and .2 and service subnet .3, groups sg-db (no
# rule) and sg-svc, DB subnet group, the instance db-$H on the stack's PostgreSQL, and the Fargate
# service $H/web (desired 0) in the service subnet with sg-svc. JSON: {"ingress": "group"|"cidr"|
# "none" (sg-db's rule for 5432: from sg-svc, from 10.N.3.0/24's /16, none), "svc_vpc": true (the
# service in a VPC of its own)}. Sets N, VPC, DB_SG, SVC_SG, DB_SUBNETS, SVC_SUBNET, DB.
net() {
    local out
    out=$("$PY" - "$H" "$SK_PG_PORT" "${1:-{\}}" <<'EOF'
import json, os, random, sys
import boto3
h, port, opt = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
ec2, rds, ecs = (boto3.client(s, **kw) for s in ("ec2", "rds", "ecs"))
n = random.randint(20, 250)
vpc = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
az = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
sub = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{n}.{i}.0/24", AvailabilityZone=az[i % len(az)])["Subnet"]["SubnetId"]
       for i in (1, 2)]
svc_vpc = vpc
if opt.get("svc_vpc"):
    svc_vpc = ec2.create_vpc(CidrBlock=f"10.{n + 1}.0.0/16")["Vpc"]["VpcId"]
svc_cidr = f"10.{n + 1 if opt.get('svc_vpc') else n}.3.0/24"
svc_sub = ec2.create_subnet(VpcId=svc_vpc, CidrBlock=svc_cidr, AvailabilityZone=az[0])["Subnet"]["SubnetId"]
db_sg = ec2.create_security_group(GroupName=f"db-{h}", Description="db", VpcId=vpc)["GroupId"]
svc_sg = ec2.create_security_group(GroupName=f"svc-{h}", Description="svc", VpcId=svc_vpc)["GroupId"]
ing = opt.get("ingress", "group")
if ing == "group":
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": port,
        "ToPort": port, "UserIdGroupPairs": [{"GroupId": svc_sg}]}])
elif ing == "cidr":
    ec2.authorize_security_group_ingress(GroupId=db_sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": port,
        "ToPort": port, "IpRanges": [{"CidrIp": f"10.{n}.0.0/16"}]}])
rds.create_db_subnet_group(DBSubnetGroupName=f"db-{h}", DBSubnetGroupDescription="db", SubnetIds=sub)
rds.create_db_instance(DBInstanceIdentifier=f"db-{h}", Engine="postgres", DBInstanceClass="db.t3.micro",
                       MasterUsername="app", MasterUserPassword="not-the-password", AllocatedStorage=20,
                       Port=port, StorageEncrypted=True, BackupRetentionPeriod=7, PubliclyAccessible=False,
                       DeletionProtection=True, MultiAZ=True, DBSubnetGroupName=f"db-{h}", VpcSecurityGroupIds=[db_sg])
ecs.create_cluster(clusterName=h)
ecs.register_task_definition(family=f"web-{h}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                             cpu="256", memory="512", containerDefinitions=[{"name": "app", "image": "example/model:good"}])
ecs.create_service(cluster=h, serviceName="web", taskDefinition=f"web-{h}", desiredCount=0, launchType="FARGATE",
                   networkConfiguration={"awsvpcConfiguration": {"subnets": [svc_sub], "securityGroups": [svc_sg]}})
print(n, vpc, db_sg, svc_sg, " ".join(sub), svc_sub)
EOF
) || fail "cannot set up the network"
    read -r N VPC DB_SG SVC_SG DB_SUB1 DB_SUB2 SVC_SUBNET <<<"$out"
    DB=db-$H
}

# check ARGS...: rds-check of the instance, logged in as rds-check.bats does (TLS not verified: the
# stack's certificate is for the stack's instance name, not this one's).
check() {
    rds-check "$DB" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --sslmode require "$@"
}

# acl SUBNET ENTRY...: a new network ACL for SUBNET (its association replaced) with these entries
# "RULE egress|ingress allow|deny PROTO CIDR FROM-TO"; prints its id.
acl() {
    "$PY" - "$@" <<'EOF'
import os, sys
import boto3
ec2 = boto3.client("ec2", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
subnet = sys.argv[1]
vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
for e in sys.argv[2:]:
    rule, way, action, proto, cidr, ports = e.split()
    lo, hi = ports.split("-")
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=int(rule), Egress=way == "egress", RuleAction=action,
                                 Protocol=proto, CidrBlock=cidr, PortRange={"From": int(lo), "To": int(hi)})
assoc = [a for n in ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"]
         for a in n["Associations"] if a["SubnetId"] == subnet][0]
ec2.replace_network_acl_association(AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl)
print(acl)
EOF
}

line() { # RESULT CHECK TEXT: a line of the output
    assert_line --regexp "^$1  $2  .*$3"
}

@test "--from-service: one VPC, the database's group admits the service's, the ACLs allow: every network line PASS, exit 0" {
    net
    run -0 --separate-stderr check --from-service "$H/web"
    line PASS network-vpc "the database and service $H/web are in $VPC"
    line PASS network-sg-in "$DB_SG allows TCP $SK_PG_PORT from $SVC_SG \\(the database's\\)"
    line PASS network-sg-out "$SVC_SG allows TCP $SK_PG_PORT to 0.0.0.0/0 \\(service $H/web's\\)"
    line PASS network-acl "allow TCP $SK_PG_PORT from service $H/web's subnets to the database's and the replies back \\(2 subnet pairs\\)"
    line PASS login
}

@test "--output json: the network object and its four checks" {
    net
    run -0 --separate-stderr check --from-service "$H/web" --output json
    jq -e --arg s "$SVC_SG" --arg n "$SVC_SUBNET" --arg h "$H" '
        .network == {from: "service \($h)/web", securityGroups: [$s], subnets: [$n]} and
        ([.checks[] | select(.check | startswith("network-")) | [.check, .result]] ==
            [["network-vpc", "PASS"], ["network-sg-in", "PASS"], ["network-sg-out", "PASS"], ["network-acl", "PASS"]]) and
        .verdict == "PASS"' <<<"$output" >/dev/null || fail "unexpected JSON: $output"
}

@test "a database group without the rule: network-sg-in FAIL names the group and the rule to add, exit 1; a CIDR holding the subnet passes" {
    net '{"ingress": "none"}'
    run -1 --separate-stderr check --from-service "$H/web"
    line FAIL network-sg-in "no inbound rule of the database's security group \\($DB_SG\\) allows TCP $SK_PG_PORT from service $H/web \\($SVC_SG, 10.$N.3.0/24\\): add one, e.g. aws ec2 authorize-security-group-ingress --group-id $DB_SG --protocol tcp --port $SK_PG_PORT --source-group $SVC_SG"
    [[ ${stderr_lines[-1]} == "rds-check: DB instance '$DB' failed 1 check: network-sg-in" ]] || fail "$stderr"
    awsref ec2 authorize-security-group-ingress --group-id "$DB_SG" --protocol tcp --port "$SK_PG_PORT" \
        --cidr "10.$N.0.0/16" >/dev/null
    run -0 --separate-stderr check --from-service "$H/web"
    line PASS network-sg-in "$DB_SG allows TCP $SK_PG_PORT from 10.$N.0.0/16, which holds the subnets"
}

@test "a CIDR rule that does not hold the service's subnet, or another port, does not count" {
    net '{"ingress": "none"}'
    awsref ec2 authorize-security-group-ingress --group-id "$DB_SG" --protocol tcp --port "$SK_PG_PORT" \
        --cidr "10.$N.1.0/24" >/dev/null
    awsref ec2 authorize-security-group-ingress --group-id "$DB_SG" --protocol tcp --port 3306 \
        --source-group "$SVC_SG" >/dev/null
    run -1 --separate-stderr check --from-service "$H/web"
    line FAIL network-sg-in "no inbound rule"
}

@test "the service's group lets nothing out: network-sg-out FAIL, exit 1" {
    net
    awsref ec2 revoke-security-group-egress --group-id "$SVC_SG" --ip-permissions \
        '[{"IpProtocol":"-1","IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]' >/dev/null
    run -1 --separate-stderr check --from-service "$H/web"
    line FAIL network-sg-out "no outbound rule of service $H/web's security group \\($SVC_SG\\) allows TCP $SK_PG_PORT to the database \\($DB_SG or its subnets\\)"
    awsref ec2 authorize-security-group-egress --group-id "$SVC_SG" --ip-permissions \
        "[{\"IpProtocol\":\"tcp\",\"FromPort\":$SK_PG_PORT,\"ToPort\":$SK_PG_PORT,\"UserIdGroupPairs\":[{\"GroupId\":\"$DB_SG\"}]}]" >/dev/null
    run -0 --separate-stderr check --from-service "$H/web"
    line PASS network-sg-out "$SVC_SG allows TCP $SK_PG_PORT to $DB_SG"
}

@test "a network ACL denying the port: network-acl FAIL names the ACL, the direction, the peer and the rule, exit 1" {
    net
    local a
    a=$(acl "$DB_SUB1" "90 ingress deny 6 10.$N.3.0/24 $SK_PG_PORT-$SK_PG_PORT" "100 ingress allow -1 0.0.0.0/0 0-65535" \
        "100 egress allow -1 0.0.0.0/0 0-65535")
    run -1 --separate-stderr check --from-service "$H/web"
    line FAIL network-acl "$a of $DB_SUB1 \\(the database's\\) denies inbound TCP $SK_PG_PORT from 10.$N.3.0/24 \\(rule 90\\): network ACLs are stateless"
}

@test "a network ACL without the replies' ephemeral ports: network-acl FAIL on the way back (the default rule)" {
    net
    local a
    a=$(acl "$DB_SUB2" "100 ingress allow 6 10.$N.3.0/24 $SK_PG_PORT-$SK_PG_PORT" \
        "100 egress allow 6 10.$N.3.0/24 1024-32767")
    run -1 --separate-stderr check --from-service "$H/web"
    line FAIL network-acl "$a of $DB_SUB2 \\(the database's\\) denies outbound \\(the replies\\) TCP 1024-65535 to 10.$N.3.0/24 \\(no entry allows it: the default rule \\*\\)"
}

@test "the service in another VPC: network-vpc FAIL says what would join them, exit 1" {
    net '{"svc_vpc": true, "ingress": "cidr"}'
    run -1 --separate-stderr check --from-service "$H/web"
    line FAIL network-vpc "the database is in $VPC, service $H/web in vpc-[0-9a-f]+: no path unless VPC peering or a transit gateway joins them"
}

@test "--from-sg: the groups both ways, the network ACLs skipped (no subnets)" {
    net
    run -0 --separate-stderr check --from-sg "$SVC_SG"
    line PASS network-sg-in "$DB_SG allows TCP $SK_PG_PORT from $SVC_SG"
    line SKIP network-acl "the subnets of $SVC_SG are unknown \\(--from-service names them\\)"
    run -1 --separate-stderr check --from-sg "$DB_SG"
    line FAIL network-sg-in "no inbound rule"
}

@test "--from-service and --from-sg: usage, an unknown service, a service without awsvpc" {
    net
    run -2 --separate-stderr rds-check "$DB" --from-service "$H/web" --from-sg "$SVC_SG"
    [[ $stderr == "rds-check: give --from-service or --from-sg, not both"* ]] || fail "$stderr"
    run -2 --separate-stderr rds-check "$DB" --from-service web
    [[ $stderr == "rds-check: --from-service needs CLUSTER/SERVICE, not 'web'"* ]] || fail "$stderr"
    run -2 --separate-stderr rds-check "$DB" --from-sg 'sg-1,$(id)'
    [[ $stderr == "rds-check: --from-sg needs security group ids (sg-...), comma-separated, not 'sg-1,\$(id)'"* ]] || fail "$stderr"
    run --separate-stderr check --from-service "$H/nosuch"
    ((status == 4)) || fail "exit $status: $stderr $output"
    [[ $stderr == *"nosuch"* ]] || fail "$stderr"
    awsref ecs register-task-definition --family "b-$H" --container-definitions '[{"name":"app","image":"x","memory":128}]' >/dev/null
    awsref ecs create-service --cluster "$H" --service-name bridge --task-definition "b-$H" --desired-count 0 >/dev/null
    run -2 --separate-stderr check --from-service "$H/bridge"
    assert_equal "$stderr" "rds-check: --from-service: service $H/bridge has no awsvpc network configuration (its tasks use their container instances' security groups): give them with --from-sg"
    [[ -z $output ]] || fail "output: $output"
}
