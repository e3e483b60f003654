/*
 * rds_test - lib/svc/rds.c against canned RDS answers (awsQuery XML, API 2014-10-31): the form each
 * call sends, the structs it fills (flags and counts the answer leaves out are SK_RDS_UNSET),
 * Marker paging, and its errors.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribePendingMaintenanceActions.html
 */
#include <string.h>

#include "fake_aws.h"
#include "harness.h"
#include "svc/rds.h"

#define NS "xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\""
#define KMS "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

static const char db_answer[] =
    "<DescribeDBInstancesResponse " NS "><DescribeDBInstancesResult><DBInstances><DBInstance>"
    "<DBInstanceIdentifier>shipkit-db</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>"
    "<Engine>postgres</Engine><EngineVersion>16.3</EngineVersion><DBName>appdb</DBName>"
    "<Endpoint><Address>shipkit-db.abcdefghij.eu-west-1.rds.amazonaws.com</Address><Port>5432</Port>"
    "<HostedZoneId>Z29XKXDKYMONMX</HostedZoneId></Endpoint><AllocatedStorage>20</AllocatedStorage>"
    "<StorageEncrypted>true</StorageEncrypted><KmsKeyId>" KMS "</KmsKeyId>"
    "<PubliclyAccessible>false</PubliclyAccessible><MultiAZ>true</MultiAZ>"
    "<SecondaryAvailabilityZone>eu-west-1b</SecondaryAvailabilityZone>"
    "<BackupRetentionPeriod>7</BackupRetentionPeriod><DeletionProtection>true</DeletionProtection>"
    "<CACertificateIdentifier>rds-ca-rsa2048-g1</CACertificateIdentifier>"
    "<DBParameterGroups><DBParameterGroup><DBParameterGroupName>default.postgres16</DBParameterGroupName>"
    "<ParameterApplyStatus>in-sync</ParameterApplyStatus></DBParameterGroup>"
    "<DBParameterGroup><DBParameterGroupName>app-tuning</DBParameterGroupName>"
    "<ParameterApplyStatus>pending-reboot</ParameterApplyStatus></DBParameterGroup></DBParameterGroups>"
    "</DBInstance></DBInstances></DescribeDBInstancesResult>"
    "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>";

/* An instance being created: no endpoint yet, backups off, public, the flags it leaves out, and
 * one parameter group (a list of one is still a list). */
static const char db_creating_answer[] =
    "<DescribeDBInstancesResponse " NS "><DescribeDBInstancesResult><DBInstances><DBInstance>"
    "<DBInstanceIdentifier>new-db</DBInstanceIdentifier><DBInstanceStatus>creating</DBInstanceStatus>"
    "<Engine>mysql</Engine><PubliclyAccessible>true</PubliclyAccessible><MultiAZ>false</MultiAZ>"
    "<BackupRetentionPeriod>0</BackupRetentionPeriod><DBParameterGroups><DBParameterGroup>"
    "<DBParameterGroupName>default.mysql8.0</DBParameterGroupName></DBParameterGroup></DBParameterGroups>"
    "</DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>";

static const char db_empty_answer[] = "<DescribeDBInstancesResponse " NS "><DescribeDBInstancesResult>"
                                      "<DBInstances/></DescribeDBInstancesResult></DescribeDBInstancesResponse>";

static const char db_not_found[] = "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code>"
                                   "<Message>DBInstance nope not found.</Message></Error>"
                                   "<RequestId>req-2</RequestId></ErrorResponse>";

static const char denied[] = "<ErrorResponse " NS "><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                             "<Message>User is not authorized to perform: rds:DescribePendingMaintenanceActions"
                             "</Message></Error><RequestId>req-3</RequestId></ErrorResponse>";

static const char maint_page1[] =
    "<DescribePendingMaintenanceActionsResponse " NS "><DescribePendingMaintenanceActionsResult>"
    "<PendingMaintenanceActions><ResourcePendingMaintenanceActions>"
    "<ResourceIdentifier>arn:aws:rds:eu-west-1:123456789012:db:shipkit-db</ResourceIdentifier>"
    "<PendingMaintenanceActionDetails><PendingMaintenanceAction><Action>system-update</Action>"
    "<AutoAppliedAfterDate>2026-02-01T00:00:00Z</AutoAppliedAfterDate>"
    "<Description>New Operating System update is available</Description></PendingMaintenanceAction>"
    "<PendingMaintenanceAction><Action>db-upgrade</Action><OptInStatus>next-maintenance</OptInStatus>"
    "<ForcedApplyDate>2026-03-01T00:00:00Z</ForcedApplyDate>"
    "<CurrentApplyDate>2026-01-10T00:00:00Z</CurrentApplyDate></PendingMaintenanceAction>"
    "</PendingMaintenanceActionDetails></ResourcePendingMaintenanceActions></PendingMaintenanceActions>"
    "<Marker>page+2</Marker></DescribePendingMaintenanceActionsResult></DescribePendingMaintenanceActionsResponse>";

static const char maint_page2[] =
    "<DescribePendingMaintenanceActionsResponse " NS "><DescribePendingMaintenanceActionsResult>"
    "<PendingMaintenanceActions><ResourcePendingMaintenanceActions>"
    "<PendingMaintenanceActionDetails><PendingMaintenanceAction><Action>ca-certificate-rotation</Action>"
    "</PendingMaintenanceAction></PendingMaintenanceActionDetails></ResourcePendingMaintenanceActions>"
    "</PendingMaintenanceActions></DescribePendingMaintenanceActionsResult>"
    "</DescribePendingMaintenanceActionsResponse>";

static const char maint_none[] =
    "<DescribePendingMaintenanceActionsResponse " NS ">"
    "<DescribePendingMaintenanceActionsResult><PendingMaintenanceActions/>"
    "</DescribePendingMaintenanceActionsResult></DescribePendingMaintenanceActionsResponse>";

TEST(instance)
{
    static const struct fake_answer a[] = { { 200, db_answer } };
    struct sk_rds_instance db;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_rds_instance_get(&f.c, "shipkit-db", &db, &err), &err);
    ASSERT(strstr(f.url[0], "https://rds.eu-west-1.amazonaws.com") == f.url[0]);
    ASSERT(fake_aws_sent(&f, 0, "Action=DescribeDBInstances"));
    ASSERT(fake_aws_sent(&f, 0, "Version=2014-10-31"));
    ASSERT(fake_aws_sent(&f, 0, "DBInstanceIdentifier=shipkit-db"));
    ASSERT_STREQ(db.id, "shipkit-db");
    ASSERT_STREQ(db.status, "available");
    ASSERT_STREQ(db.engine, "postgres");
    ASSERT_STREQ(db.engine_version, "16.3");
    ASSERT_STREQ(db.db_name, "appdb");
    ASSERT_STREQ(db.address, "shipkit-db.abcdefghij.eu-west-1.rds.amazonaws.com");
    ASSERT(db.port == 5432);
    ASSERT(db.storage_encrypted == 1);
    ASSERT_STREQ(db.kms_key_id, KMS);
    ASSERT(db.publicly_accessible == 0);
    ASSERT(db.multi_az == 1);
    ASSERT_STREQ(db.secondary_az, "eu-west-1b");
    ASSERT(db.backup_retention == 7);
    ASSERT(db.deletion_protection == 1);
    ASSERT_STREQ(db.ca_cert_id, "rds-ca-rsa2048-g1");
    ASSERT(db.nparam_groups == 2);
    if (db.nparam_groups == 2) {
        ASSERT_STREQ(db.param_groups[0], "default.postgres16");
        ASSERT_STREQ(db.param_groups[1], "app-tuning");
    }
    sk_rds_instance_release(&db);
    sk_rds_instance_release(&db); /* released twice: harmless */
    fake_aws_release(&f);
}

TEST(instance_absent_fields)
{
    static const struct fake_answer a[] = { { 200, db_creating_answer } };
    struct sk_rds_instance db;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 1) < 0)
        return;
    ASSERT_OK(sk_rds_instance_get(&f.c, "arn:aws:rds:eu-west-1:123456789012:db:new-db", &db, &err), &err);
    ASSERT(fake_aws_sent(&f, 0, "DBInstanceIdentifier=arn%3Aaws%3Ards%3Aeu-west-1%3A123456789012%3Adb%3Anew-db"));
    ASSERT_STREQ(db.status, "creating");
    ASSERT_STREQ(db.engine, "mysql");
    ASSERT(db.engine_version == NULL && db.db_name == NULL && db.kms_key_id == NULL && db.ca_cert_id == NULL);
    ASSERT(db.address == NULL && db.port == 0);
    ASSERT(db.publicly_accessible == 1);
    ASSERT(db.multi_az == 0 && db.secondary_az == NULL);
    ASSERT(db.backup_retention == 0);
    ASSERT(db.storage_encrypted == SK_RDS_UNSET);
    ASSERT(db.deletion_protection == SK_RDS_UNSET);
    ASSERT(db.nparam_groups == 1);
    if (db.nparam_groups == 1)
        ASSERT_STREQ(db.param_groups[0], "default.mysql8.0");
    sk_rds_instance_release(&db);
    fake_aws_release(&f);
}

TEST(instance_not_found)
{
    static const struct fake_answer a[] = { { 404, db_not_found }, { 200, db_empty_answer }, { 0, NULL } };
    struct sk_rds_instance db;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 3) < 0)
        return;
    /* AWS's error, and an empty list, are one error naming the instance */
    ASSERT_ERR(sk_rds_instance_get(&f.c, "nope", &db, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "DBInstanceNotFound");
    ASSERT_STREQ(err.msg, "DB instance 'nope' not found");
    ASSERT(db.id == NULL && db.param_groups == NULL);
    ASSERT_ERR(sk_rds_instance_get(&f.c, "nope", &db, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "DBInstanceNotFound");
    ASSERT_STREQ(err.msg, "DB instance 'nope' not found");
    ASSERT_ERR(sk_rds_instance_get(&f.c, "nope", &db, &err), &err, SK_E_NET);
    sk_rds_instance_release(&db);
    fake_aws_release(&f);
}

TEST(maintenance_pages)
{
    static const struct fake_answer a[] = { { 200, maint_page1 }, { 200, maint_page2 } };
    struct sk_rds_actions acts;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 2) < 0)
        return;
    ASSERT_OK(sk_rds_actions_get(&f.c, "shipkit-db", &acts, &err), &err);
    ASSERT(f.calls == 2);
    ASSERT(fake_aws_sent(&f, 0, "Action=DescribePendingMaintenanceActions"));
    ASSERT(fake_aws_sent(&f, 0, "Filters.Filter.1.Name=db-instance-id"));
    ASSERT(fake_aws_sent(&f, 0, "Filters.Filter.1.Values.Value.1=shipkit-db"));
    ASSERT(!strstr(f.body[0], "Marker"));
    ASSERT(fake_aws_sent(&f, 1, "Marker=page%2B2"));
    ASSERT(fake_aws_sent(&f, 1, "Filters.Filter.1.Values.Value.1=shipkit-db"));
    ASSERT(acts.n == 3);
    if (acts.n == 3) {
        ASSERT_STREQ(acts.v[0].action, "system-update");
        ASSERT_STREQ(acts.v[0].auto_applied_after, "2026-02-01T00:00:00Z");
        ASSERT_STREQ(acts.v[0].description, "New Operating System update is available");
        ASSERT(acts.v[0].forced_apply == NULL && acts.v[0].opt_in_status == NULL);
        ASSERT_STREQ(acts.v[1].action, "db-upgrade");
        ASSERT_STREQ(acts.v[1].opt_in_status, "next-maintenance");
        ASSERT_STREQ(acts.v[1].forced_apply, "2026-03-01T00:00:00Z");
        ASSERT_STREQ(acts.v[1].current_apply, "2026-01-10T00:00:00Z");
        ASSERT(acts.v[1].description == NULL);
        ASSERT_STREQ(acts.v[2].action, "ca-certificate-rotation");
    }
    sk_rds_actions_release(&acts);
    sk_rds_actions_release(&acts);
    fake_aws_release(&f);
}

TEST(maintenance_none_and_refused)
{
    static const struct fake_answer a[] = { { 200, maint_none }, { 403, denied } };
    struct sk_rds_actions acts;
    struct fake_aws f;
    struct sk_err err;

    if (fake_aws_init(&f, a, 2) < 0)
        return;
    ASSERT_OK(sk_rds_actions_get(&f.c, "shipkit-db", &acts, &err), &err);
    ASSERT(acts.n == 0);
    sk_rds_actions_release(&acts);
    ASSERT_ERR(sk_rds_actions_get(&f.c, "shipkit-db", &acts, &err), &err, SK_E_AWS);
    ASSERT_STREQ(err.aws_code, "AccessDenied");
    ASSERT(acts.n == 0 && acts.v == NULL);
    fake_aws_release(&f);
}

/* The tokens botocore's generate_db_auth_token makes at 2026-12-04T12:00:00Z (printed, and checked
 * against these lines, by tests/unit/rds-token-vectors). */
#define RDS_TOKEN_PLAIN                                                                                                \
    "db.abc.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=mlflow&X-Amz-Algorithm=AWS4"                       \
    "-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261204%2Fus-east-1%2Frds-db%2Faws4_request&X"                       \
    "-Amz-Date=20261204T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=f899"                       \
    "20d71a7f588cf5f4c2ced2213c6f35294511a7bf635670af51cc7d0ed975"
#define RDS_TOKEN_TOKEN                                                                                                \
    "db.abc.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=mlflow&X-Amz-Algorithm=AWS4"                       \
    "-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261204%2Fus-east-1%2Frds-db%2Faws4_request&X"                       \
    "-Amz-Date=20261204T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token"                       \
    "=FQoGZXIvYXdzEXAMPLE%2Ftoken%2B%3D%3D&X-Amz-Signature=106fb0bf5a1edf307545a179ce3e651fdb3f"                       \
    "334013709617f47f7aab433dc3b9"
#define RDS_TOKEN_ODD                                                                                                  \
    "h.eu-west-1.rds.amazonaws.com:5433/?Action=connect&DBUser=app%20user%40x~&X-Amz-Algorithm="                       \
    "AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261204%2Feu-west-1%2Frds-db%2Faws4_reque"                       \
    "st&X-Amz-Date=20261204T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="                       \
    "339cf61a67a6fc2eee41b558981c9bba6aa7a8d45f850a8d3285832cc607b39f"

static void check_token(const char *host, long port, const char *user, const char *region, const char *session,
                        const char *want)
{
    struct sk_creds c;
    struct sk_buf out;
    struct sk_err err;

    sk_buf_init_secret(&out);
    memset(&c, 0, sizeof(c));
    c.access_key_id = (char *)"AKIDEXAMPLE";
    c.secret_access_key = (char *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    c.session_token = (char *)session;
    sk_err_clear(&err);
    ASSERT_OK(sk_rds_auth_token(host, port, user, region, &c, 1796385600, &out, &err), &err);
    if (out.p && strcmp(out.p, want) != 0)
        H_FAIL("token\n#   got  %s\n#   want %s", out.p, want);
    sk_buf_release(&out);
}

/* IAM database authentication: byte for byte what botocore makes, with and without a session token,
 * and a user name that needs encoding; bad input refused. */
TEST(auth_token)
{
    struct sk_creds c;
    struct sk_buf out = SK_BUF_INIT;
    struct sk_err err;

    check_token("db.abc.us-east-1.rds.amazonaws.com", 5432, "mlflow", "us-east-1", NULL, RDS_TOKEN_PLAIN);
    check_token("db.abc.us-east-1.rds.amazonaws.com", 5432, "mlflow", "us-east-1",
                "FQoGZXIvYXdzEXAMPLE/token+==", RDS_TOKEN_TOKEN);
    check_token("h.eu-west-1.rds.amazonaws.com", 5433, "app user@x~", "eu-west-1", NULL, RDS_TOKEN_ODD);
    memset(&c, 0, sizeof(c));
    c.access_key_id = (char *)"AKIDEXAMPLE";
    c.secret_access_key = (char *)"x";
    ASSERT(sk_rds_auth_token("h", 0, "u", "us-east-1", &c, 0, &out, &err) < 0 && err.kind == SK_E_USAGE);
    ASSERT(sk_rds_auth_token("h", 5432, "", "us-east-1", &c, 0, &out, &err) < 0 && err.kind == SK_E_USAGE);
    sk_buf_release(&out);
}

int main(void)
{
    RUN(instance);
    RUN(instance_absent_fields);
    RUN(instance_not_found);
    RUN(maintenance_pages);
    RUN(maintenance_none_and_refused);
    RUN(auth_token);
    return DONE();
}
