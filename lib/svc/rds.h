/*
 * rds.h - Amazon RDS (awsQuery, API 2014-10-31): one DB instance and its pending maintenance.
 * The _get calls fill C structs with the fields tools decide on; the describe calls return the
 * whole answer as jv values the caller owns (see json.h for the jv rules), shaped like the AWS JSON
 * SDKs return them: RDS's locationName lists (<DBInstances><DBInstance>) become plain arrays, the
 * numbers used by shipkit become numbers and the booleans booleans.
 */
#ifndef SK_RDS_H
#define SK_RDS_H

#include <time.h>

#include <jv.h>

#include "aws/client.h"
#include "aws/creds.h"
#include "core/buf.h"
#include "core/err.h"

#define SK_RDS_UNSET (-1) /* a flag or a count the answer did not report */

/* The posture of a DB instance, as DescribeDBInstances describes it
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstance.html). Strings are
 * owned, NULL when absent; flags are 1, 0 or SK_RDS_UNSET. */
struct sk_rds_instance {
    char *id;     /* DBInstanceIdentifier */
    char *status; /* DBInstanceStatus: "available", "modifying", ... */
    char *engine, *engine_version;
    char *db_name;           /* DBName */
    char *address;           /* Endpoint.Address (none while the instance is created) */
    long port;               /* Endpoint.Port, 0: not given */
    int storage_encrypted;   /* StorageEncrypted */
    char *kms_key_id;        /* KmsKeyId */
    int publicly_accessible; /* PubliclyAccessible */
    int multi_az;            /* MultiAZ */
    char *secondary_az;      /* SecondaryAvailabilityZone: the standby's */
    long backup_retention;   /* BackupRetentionPeriod in days, or SK_RDS_UNSET */
    int deletion_protection; /* DeletionProtection */
    char *ca_cert_id;        /* CACertificateIdentifier: the CA of the server certificate */
    char **param_groups;     /* DBParameterGroups[].DBParameterGroupName */
    size_t nparam_groups;
    char *vpc_id;  /* DBSubnetGroup.VpcId */
    char **sg_ids; /* VpcSecurityGroups[].VpcSecurityGroupId */
    size_t nsg_ids;
    char **subnet_ids; /* DBSubnetGroup.Subnets[].SubnetIdentifier */
    size_t nsubnet_ids;
};

/* A pending maintenance action
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_PendingMaintenanceAction.html).
 * Strings owned, NULL when absent. */
struct sk_rds_action {
    char *action, *description, *auto_applied_after, *forced_apply, *current_apply, *opt_in_status;
};

struct sk_rds_actions {
    struct sk_rds_action *v;
    size_t n;
};

/* sk_rds_describe_db_instance as a struct (*out filled, release it). */
int sk_rds_instance_get(struct sk_client *c, const char *id, struct sk_rds_instance *out, struct sk_err *err);
void sk_rds_instance_release(struct sk_rds_instance *db);

/* sk_rds_pending_maintenance as structs, in the answer's order (*out filled, release it). */
int sk_rds_actions_get(struct sk_client *c, const char *id, struct sk_rds_actions *out, struct sk_err *err);
void sk_rds_actions_release(struct sk_rds_actions *a);

/* DescribeDBInstances for one instance (identifier or ARN). *out is the DBInstance object, with
 * Endpoint.Port, DbInstancePort, AllocatedStorage and BackupRetentionPeriod as numbers and
 * StorageEncrypted, PubliclyAccessible, DeletionProtection, MultiAZ, AutoMinorVersionUpgrade and
 * IAMDatabaseAuthenticationEnabled as booleans. Not found fails with SK_E_AWS, aws_code
 * "DBInstanceNotFound" and a message naming the instance. */
int sk_rds_describe_db_instance(struct sk_client *c, const char *id, jv *out, struct sk_err *err);

/* DescribePendingMaintenanceActions filtered on db-instance-id = id (identifier or ARN). *out is
 * an array of PendingMaintenanceAction objects ({"Action","Description","AutoAppliedAfterDate",
 * "ForcedApplyDate","CurrentApplyDate","OptInStatus"}, absent fields absent) of that instance,
 * possibly empty. Follows Marker pages. */
int sk_rds_pending_maintenance(struct sk_client *c, const char *id, jv *out, struct sk_err *err);

/* An IAM database authentication token for user at host:port in region, made at when with creds, as
 * the SDKs make it (RDS.Client.generate_db_auth_token; "Connecting to your DB instance using IAM
 * authentication", https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html):
 * a SigV4 presigned "GET https://HOST:PORT/?Action=connect&DBUser=USER" for the signing name rds-db,
 * valid 900 s, without its scheme; the query in botocore's order, byte for byte
 * (tests/unit/rds-token-vectors), appended to out: a password, so out should be a secret buffer
 * (sk_buf_init_secret). */
int sk_rds_auth_token(const char *host, long port, const char *user, const char *region, const struct sk_creds *creds,
                      time_t when, struct sk_buf *out, struct sk_err *err);

#endif
