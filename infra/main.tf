# Names the tools and the deployment guide depend on, and values every file shares.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Fixed by the deployment guide and the shipkit tools (make deploy-aws, status-aws, rds-check).
  cluster_name   = "ml-cicd-cluster"
  service_name   = "ml-model-service"
  task_family    = "ml-model-service"
  container_name = "model-server"
  container_port = 8080
  log_group_name = "/ecs/ml-model-service"
  ecr_repository = "ml-model-service"
  db_identifier  = "ml-cicd-database"
  ssm_prefix     = "/ml-cicd"
  secret_name    = "ml-cicd/database"

  # "production" (or "prod") turns on Multi-AZ RDS, one NAT gateway per AZ and a larger share of
  # on-demand Fargate; anything else is the cheaper development shape.
  is_production = contains(["production", "prod"], var.environment)

  azs           = var.availability_zones
  vpc_prefixlen = tonumber(split("/", var.vpc_cidr)[1])
  # /24 subnets whatever the VPC prefix (validated to /16../20): public k, private k + 10.
  subnet_newbits  = 24 - local.vpc_prefixlen
  public_subnets  = [for i, az in local.azs : cidrsubnet(var.vpc_cidr, local.subnet_newbits, i)]
  private_subnets = [for i, az in local.azs : cidrsubnet(var.vpc_cidr, local.subnet_newbits, i + 10)]
  nat_count       = local.is_production ? length(local.azs) : 1

  https = var.domain_name != ""

  # Log retention for every log group this stack creates.
  log_retention_days = 90

  # The image in the task definition Terraform registers. Nothing is pushed under this tag:
  # `make deploy-aws` (ecs-roll) registers the revisions that run, with pushed digests, so the
  # service's tasks fail to pull until the first deploy. The service ignores task_definition
  # changes for the same reason (see ecs.tf).
  bootstrap_image = "${aws_ecr_repository.model_service.repository_url}:bootstrap"
}
