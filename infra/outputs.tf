# What `make infra-outputs` (mk/infra.mk) and the deploy workflow read.

output "region" {
  description = "AWS region of the stack"
  value       = var.region
}

output "ecs_cluster_name" {
  description = "ECS cluster (ECS_CLUSTER for make deploy-aws)"
  value       = aws_ecs_cluster.main.name
}

output "ecs_service_name" {
  description = "ECS service (ECS_SERVICES for make deploy-aws)"
  value       = aws_ecs_service.model_service.name
}

output "container_name" {
  description = "Container of the task definition that gets the model-server image"
  value       = local.container_name
}

output "log_group_name" {
  description = "CloudWatch Logs group of the service (make logs-aws)"
  value       = aws_cloudwatch_log_group.model_service.name
}

output "target_group_arn" {
  description = "ALB target group of the service (tg-health)"
  value       = aws_lb_target_group.model_service.arn
}

output "ecr_repository_url" {
  description = "ECR repository URL (REGISTRY/REPO)"
  value       = aws_ecr_repository.model_service.repository_url
}

output "ecr_registry" {
  description = "ECR registry host (ECR_REGISTRY for make push-images)"
  value       = split("/", aws_ecr_repository.model_service.repository_url)[0]
}

output "ecr_repository_name" {
  description = "ECR repository name (IMAGE_REPO_<image> for make push-images)"
  value       = aws_ecr_repository.model_service.name
}

output "db_instance_identifier" {
  description = "RDS instance identifier (rds-check)"
  value       = aws_db_instance.main.identifier
}

output "db_endpoint" {
  description = "RDS endpoint host name"
  value       = aws_db_instance.main.address
}

output "db_secret_arn" {
  description = "Secrets Manager secret ml-cicd/database (the application's credentials; make config-aws fills it)"
  value       = aws_secretsmanager_secret.database.arn
}

output "db_master_user_secret_arn" {
  description = "RDS-managed secret with the master credentials (null when db_password is set)"
  value       = try(aws_db_instance.main.master_user_secret[0].secret_arn, null)
}

output "mlflow_artifact_root" {
  description = "Value of /ml-cicd/mlflow/artifact-root"
  value       = aws_ssm_parameter.artifact_root.value
}

output "artifact_bucket" {
  description = "S3 artifact bucket"
  value       = aws_s3_bucket.artifacts.id
}

output "kms_key_arn" {
  description = "The stack's KMS key (key_id / kms_key_id in the make config-aws file)"
  value       = aws_kms_key.main.arn
}

output "deploy_role_arn" {
  description = "IAM role GitHub Actions assumes through OIDC (the AWS_DEPLOY_ROLE_ARN repository secret)"
  value       = aws_iam_role.deploy.arn
}

output "alb_dns_name" {
  description = "DNS name of the ALB"
  value       = aws_lb.main.dns_name
}

output "service_url" {
  description = "Where the model server answers"
  value       = local.https ? "https://${var.domain_name}" : "http://${aws_lb.main.dns_name}"
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms (subscribe to it)"
  value       = aws_sns_topic.alarms.arn
}

output "db_connect_role_arn" {
  description = "The role rds-check --iam assumes to log in as var.db_iam_user (null when it is not set)."
  value       = var.db_iam_user == null ? null : aws_iam_role.db_connect[0].arn
}

output "deployment_strategy" {
  description = "ECS deployment strategy of the service (var.deployment_strategy)"
  value       = var.deployment_strategy
}

output "alternate_target_group_arn" {
  description = "The second target group of a traffic-shifting strategy (null with ROLLING)"
  value       = local.traffic_shift ? aws_lb_target_group.model_service_alternate[0].arn : null
}

output "test_listener_url" {
  description = "Where the new revision answers during a traffic-shifting deployment, from var.test_listener_cidrs (null with ROLLING)"
  value       = local.traffic_shift ? "${local.https ? "https" : "http"}://${local.https ? var.domain_name : aws_lb.main.dns_name}:${var.test_listener_port}" : null
}

output "deployment_alarm_names" {
  description = "CloudWatch alarms that roll a deployment back: var.deployment_alarm_names and, with a traffic-shifting strategy, the stack's <service>-deploy-5xx"
  value       = local.deployment_alarm_names
}
