# IAM: the ECS task execution role and task role (separate), the ECS infrastructure role for load
# balancers (traffic-shifting deployment strategies only), and the GitHub Actions OIDC provider
# and deploy role that `make deploy-aws` runs as in CI (.github/workflows/deploy.yml).
# (The guide's "EC2 instance role" does not exist here: Fargate runs the tasks, with no instances.)

locals {
  # The GitHub repository allowed to assume the deploy role, and the branch it may deploy from.
  # EDIT THIS before `terraform apply` (see infra/README.md).
  github_repository = "your-org/shipkit"
  github_branch     = "main"

  # An account has at most one OIDC provider for token.actions.githubusercontent.com. If yours
  # already has one, set this to false and the existing provider is used.
  create_github_oidc_provider = true

  github_oidc_provider_arn = (
    local.create_github_oidc_provider
    ? aws_iam_openid_connect_provider.github[0].arn
    : data.aws_iam_openid_connect_provider.github[0].arn
  )
}

# --- Trust policy shared by the two ECS roles (confused-deputy protection) ----------------------

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasks"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${var.region}:${local.account_id}:*"]
    }
  }
}

# --- ECS infrastructure role for load balancers (BLUE_GREEN, LINEAR, CANARY) ---------------------
# ECS assumes it during a deployment to register tasks in either target group and move the weights
# of the production and test listener rules (ecs.tf: load_balancer.advanced_configuration.role_arn),
# with the AWS managed policy AmazonECSInfrastructureRolePolicyForLoadBalancers
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html).
# AWS's own trust policy for it has no condition; this one also pins the account, as the other
# service roles here do.

data "aws_iam_policy_document" "ecs_load_balancers_assume" {
  statement {
    sid     = "EcsInfrastructureForLoadBalancers"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "ecs_load_balancers" {
  count = local.traffic_shift ? 1 : 0

  name               = "${var.project_name}-ecs-infra-elb"
  description        = "ECS shifts ${local.service_name} traffic between its two target groups during deployments"
  assume_role_policy = data.aws_iam_policy_document.ecs_load_balancers_assume.json
}

resource "aws_iam_role_policy_attachment" "ecs_load_balancers" {
  count = local.traffic_shift ? 1 : 0

  role       = aws_iam_role.ecs_load_balancers[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
}

# --- Execution role: what ECS needs to start the task --------------------------------------------

resource "aws_iam_role" "task_execution" {
  name               = "${var.project_name}-ecs-task-execution"
  description        = "ECS pulls the model-server image, writes its logs, and resolves its secrets"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task_execution" {
  statement {
    sid       = "EcrAuth"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "EcrPull"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchGetImage",
    ]
    resources = [aws_ecr_repository.model_service.arn]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.model_service.arn}:*"]
  }

  # Exactly the two parameters and the one secret the container definition injects.
  statement {
    sid     = "Parameters"
    actions = ["ssm:GetParameters"]
    resources = [
      aws_ssm_parameter.backend_store_uri.arn,
      aws_ssm_parameter.artifact_root.arn,
    ]
  }

  statement {
    sid       = "DatabaseSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.database.arn]
  }

  statement {
    sid       = "DecryptSecretsAndParameters"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "ssm.${var.region}.amazonaws.com",
        "secretsmanager.${var.region}.amazonaws.com",
      ]
    }
  }
}

resource "aws_iam_role_policy" "task_execution" {
  name   = "start-model-service-task"
  role   = aws_iam_role.task_execution.id
  policy = data.aws_iam_policy_document.task_execution.json
}

# --- Task role: what the model server itself may do ----------------------------------------------

resource "aws_iam_role" "task" {
  name               = "${var.project_name}-ecs-task"
  description        = "The model-server container: MLflow artifacts in the artifact bucket"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ListArtifactBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  statement {
    sid       = "ReadWriteArtifacts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/*"]
  }

  statement {
    sid       = "ArtifactBucketKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "mlflow-artifacts"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- GitHub Actions: OIDC provider and the deploy role -------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count = local.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = local.create_github_oidc_provider ? 0 : 1

  url = "https://token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    sid     = "GitHubActionsOidc"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Only workflows of this repository running on this branch (push, or workflow_dispatch on it).
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${local.github_repository}:ref:refs/heads/${local.github_branch}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.project_name}-github-deploy"
  description          = "GitHub Actions (${local.github_repository}@${local.github_branch}) runs make deploy-aws"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600
}

# policies/deployer.json with this stack's names and ARNs filled in (its placeholders are listed
# in infra/README.md).
resource "aws_iam_policy" "deploy" {
  name        = "${var.project_name}-deployer"
  description = "What make config-aws, push-images, deploy-aws, status-aws, logs-aws and rds-check call"
  policy = templatefile("${path.module}/policies/deployer.json", {
    partition          = local.partition
    region             = var.region
    account_id         = local.account_id
    ecr_repository     = aws_ecr_repository.model_service.name
    ecs_cluster        = aws_ecs_cluster.main.name
    ecs_service        = aws_ecs_service.model_service.name
    task_family        = aws_ecs_task_definition.model_service.family
    log_group          = aws_cloudwatch_log_group.model_service.name
    task_role_arn      = aws_iam_role.task.arn
    execution_role_arn = aws_iam_role.task_execution.arn
    db_instance        = aws_db_instance.main.identifier
    ssm_prefix         = trimprefix(local.ssm_prefix, "/")
    secret_prefix      = split("/", local.secret_name)[0]
    kms_key_arn        = aws_kms_key.main.arn
  })
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.deploy.name
  policy_arn = aws_iam_policy.deploy.arn
}

# --- rds-check --iam: IAM database authentication, on a role of its own ---------------------------
# The deployer policy reads the database's settings but cannot log in. With var.db_iam_user set, this
# role can, as that user only, to this instance only
# (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html); the
# deploy role may assume it (a profile with role_arn and source_profile, then rds-check --iam).

data "aws_iam_policy_document" "db_connect_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [aws_iam_role.deploy.arn]
    }
  }
}

resource "aws_iam_role" "db_connect" {
  count                = var.db_iam_user == null ? 0 : 1
  name                 = "${var.project_name}-db-connect"
  description          = "rds-check --iam: log in to ${local.db_identifier} as its IAM user, nothing else"
  assume_role_policy   = data.aws_iam_policy_document.db_connect_assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "db_connect" {
  count = var.db_iam_user == null ? 0 : 1
  name  = "rds-db-connect"
  role  = aws_iam_role.db_connect[0].id
  policy = templatefile("${path.module}/policies/db-connect.json", {
    partition      = local.partition
    region         = var.region
    account_id     = local.account_id
    db_resource_id = aws_db_instance.main.resource_id
    db_user        = var.db_iam_user
  })
}
