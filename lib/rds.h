/*
 * rds.h - Amazon RDS (awsQuery, API 2014-10-31): one DB instance and its pending maintenance.
 * Results are jv values the caller owns (see json.h for the jv rules), shaped like the AWS JSON
 * SDKs return them: RDS's locationName lists (<DBInstances><DBInstance>) become plain arrays, the
 * numbers used by shipkit become numbers and the booleans booleans.
 */
#ifndef SK_RDS_H
#define SK_RDS_H

#include <jv.h>

#include "client.h"
#include "err.h"

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

#endif
