# One customer-managed KMS key for the stack's secrets and data: the ml-cicd/database secret, the
# RDS-managed master password secret, the /ml-cicd SecureString parameters, the artifact bucket
# and the alarm topic. (The AWS-managed aws/sns key cannot be used: CloudWatch alarms may only
# publish to a topic whose key policy lets cloudwatch.amazonaws.com use the key.)

data "aws_iam_policy_document" "kms" {
  # The standard key-policy statement: the account (through IAM policies) administers and uses the
  # key. Without it the key can become unmanageable. IAM policies in iam.tf grant the actual uses.
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${var.project_name} (${var.environment}): secrets, parameters, artifacts, alarms"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.project_name}-${var.environment}"
  target_key_id = aws_kms_key.main.key_id
}
