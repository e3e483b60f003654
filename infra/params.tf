# The deployment guide's configuration: two SSM parameters and one Secrets Manager secret.
#
# Terraform creates the containers, not the secret values, so no secret reaches the state:
#   /ml-cicd/mlflow/backend-store-uri  SecureString, created with a placeholder; its value (it holds
#                                      a password) is written by `make config-aws` (ssm-put), and
#                                      Terraform ignores later changes to it.
#   /ml-cicd/mlflow/artifact-root      String, not secret: Terraform owns it (s3://<bucket>/artifacts).
#   ml-cicd/database                   secret with no version: `make config-aws` (secret-put) puts
#                                      {"username","password"} into it.
# The RDS master password is not here at all: RDS manages it (rds.tf). What the state does hold:
# the placeholder, the artifact URI, ARNs, and a db_password only if one is (discouragingly) set.

resource "aws_ssm_parameter" "backend_store_uri" {
  name        = "${local.ssm_prefix}/mlflow/backend-store-uri"
  description = "MLflow backend store (RDS PostgreSQL): postgresql://USER:PASSWORD@HOST:5432/DB; written by make config-aws"
  type        = "SecureString"
  key_id      = aws_kms_key.main.arn
  tier        = "Standard"
  value       = "unset: written by make config-aws"

  lifecycle {
    ignore_changes = [value, description]
  }
}

resource "aws_ssm_parameter" "artifact_root" {
  name        = "${local.ssm_prefix}/mlflow/artifact-root"
  description = "MLflow default artifact root"
  type        = "String"
  tier        = "Standard"
  value       = "s3://${aws_s3_bucket.artifacts.id}/artifacts"
}

resource "aws_secretsmanager_secret" "database" {
  name                    = local.secret_name
  description             = "Database credentials"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}
