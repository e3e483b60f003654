# ECS on Fargate: the ml-cicd-cluster cluster, the ml-model-service task definition and service
# behind the ALB, and CPU/memory target-tracking autoscaling.
#
# Ownership: Terraform owns the cluster, the service's settings and the first task-definition
# revision; `make deploy-aws` (ecs-roll) owns which revision runs, registering a new one with the
# pushed image digest on each deploy. So the service ignores changes to task_definition (and to
# desired_count, which autoscaling moves).

locals {
  # Valid Fargate memory (MiB) range per CPU value.
  fargate_memory = {
    "256"   = { min = 512, max = 2048 }
    "512"   = { min = 1024, max = 4096 }
    "1024"  = { min = 2048, max = 8192 }
    "2048"  = { min = 4096, max = 16384 }
    "4096"  = { min = 8192, max = 30720 }
    "8192"  = { min = 16384, max = 61440 }
    "16384" = { min = 32768, max = 122880 }
  }

  # Production keeps one task and half of the rest on regular Fargate; other environments run
  # everything beyond the first task on Fargate Spot (up to 70 % cheaper, may be interrupted).
  capacity_providers = [
    { name = "FARGATE", base = 1, weight = local.is_production ? 1 : 0 },
    { name = "FARGATE_SPOT", base = 0, weight = 1 },
  ]

  # var.deployment_strategy other than ROLLING: ECS shifts production traffic from one target group
  # to the other (alb.tf: the alternate target group, the production and test listener rules; iam.tf:
  # the infrastructure role it does that with), and a deployment also fails on target 5xx
  # (monitoring.tf: deployment_5xx) besides the alarms named in var.deployment_alarm_names.
  traffic_shift = var.deployment_strategy != "ROLLING"
  deployment_alarm_names = concat(
    var.deployment_alarm_names,
    local.traffic_shift ? [aws_cloudwatch_metric_alarm.deployment_5xx[0].alarm_name] : [],
  )
}

resource "aws_ecs_cluster" "main" {
  name = local.cluster_name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  dynamic "default_capacity_provider_strategy" {
    for_each = local.capacity_providers

    content {
      capacity_provider = default_capacity_provider_strategy.value.name
      base              = default_capacity_provider_strategy.value.base
      weight            = default_capacity_provider_strategy.value.weight
    }
  }
}

resource "aws_cloudwatch_log_group" "model_service" {
  name              = local.log_group_name
  retention_in_days = local.log_retention_days
}

resource "aws_ecs_task_definition" "model_service" {
  family                   = local.task_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.ecs_task_cpu
  memory                   = var.ecs_task_memory
  execution_role_arn       = aws_iam_role.task_execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # Secrets and secret-bearing settings come only through "secrets" (resolved by ECS with the
  # execution role at task start), never through "environment". The root filesystem is read-only:
  # the model server writes nothing to disk. Ports are literals (= local.container_port) so the
  # heredoc stays valid JSON for offline checks.
  container_definitions = <<-EOT
    [
      {
        "name": "${local.container_name}",
        "image": "${local.bootstrap_image}",
        "essential": true,
        "readonlyRootFilesystem": true,
        "privileged": false,
        "user": "65534:65534",
        "portMappings": [
          {
            "name": "http",
            "containerPort": 8080,
            "hostPort": 8080,
            "protocol": "tcp",
            "appProtocol": "http"
          }
        ],
        "environment": [
          { "name": "PORT", "value": "${local.container_port}" },
          { "name": "MODEL_PATH", "value": "/model/model.txt" }
        ],
        "secrets": [
          { "name": "MLFLOW_BACKEND_STORE_URI", "valueFrom": "${aws_ssm_parameter.backend_store_uri.arn}" },
          { "name": "MLFLOW_ARTIFACT_ROOT", "valueFrom": "${aws_ssm_parameter.artifact_root.arn}" },
          { "name": "DB_USERNAME", "valueFrom": "${aws_secretsmanager_secret.database.arn}:username::" },
          { "name": "DB_PASSWORD", "valueFrom": "${aws_secretsmanager_secret.database.arn}:password::" }
        ],
        "logConfiguration": {
          "logDriver": "awslogs",
          "options": {
            "awslogs-group": "${aws_cloudwatch_log_group.model_service.name}",
            "awslogs-region": "${var.region}",
            "awslogs-stream-prefix": "ecs"
          }
        },
        "stopTimeout": 30
      }
    ]
  EOT

  lifecycle {
    precondition {
      condition = (
        var.ecs_task_memory >= local.fargate_memory[tostring(var.ecs_task_cpu)].min &&
        var.ecs_task_memory <= local.fargate_memory[tostring(var.ecs_task_cpu)].max
      )
      error_message = "ecs_task_memory is not a valid Fargate memory size for ecs_task_cpu (e.g. 512 CPU takes 1024-4096 MiB, 1024 CPU takes 2048-8192 MiB)."
    }
  }
}

resource "aws_ecs_service" "model_service" {
  name             = local.service_name
  cluster          = aws_ecs_cluster.main.id
  task_definition  = aws_ecs_task_definition.model_service.arn
  desired_count    = var.desired_count
  platform_version = "LATEST"

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60
  enable_execute_command             = false
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  wait_for_steady_state              = false

  dynamic "capacity_provider_strategy" {
    for_each = local.capacity_providers

    content {
      capacity_provider = capacity_provider_strategy.value.name
      base              = capacity_provider_strategy.value.base
      weight            = capacity_provider_strategy.value.weight
    }
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # The strategy (variables.tf). ECS refuses canary_configuration or linear_configuration with any
  # other strategy, so each block exists only with its own; the bake time applies to the three
  # traffic-shifting strategies only.
  deployment_configuration {
    strategy             = var.deployment_strategy
    bake_time_in_minutes = local.traffic_shift ? var.deployment_bake_time_minutes : null

    dynamic "canary_configuration" {
      for_each = var.deployment_strategy == "CANARY" ? [1] : []

      content {
        canary_percent              = var.canary_percent
        canary_bake_time_in_minutes = var.canary_bake_time_minutes
      }
    }

    dynamic "linear_configuration" {
      for_each = var.deployment_strategy == "LINEAR" ? [1] : []

      content {
        step_percent              = var.linear_step_percent
        step_bake_time_in_minutes = var.linear_step_bake_time_minutes
      }
    }
  }

  # A deployment during which one of these alarms goes to ALARM fails and is rolled back, like one
  # the circuit breaker stops.
  dynamic "alarms" {
    for_each = length(local.deployment_alarm_names) > 0 ? [local.deployment_alarm_names] : []

    content {
      alarm_names = alarms.value
      enable      = true
      rollback    = true
    }
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.ecs.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.model_service.arn
    container_name   = local.container_name
    container_port   = local.container_port

    # Traffic-shifting strategies: the second target group, the listener rules whose weights ECS
    # rewrites (production; test, which reaches the new revision first), and the role it does it as.
    dynamic "advanced_configuration" {
      for_each = local.traffic_shift ? [1] : []

      content {
        alternate_target_group_arn = aws_lb_target_group.model_service_alternate[0].arn
        production_listener_rule   = aws_lb_listener_rule.production[0].arn
        test_listener_rule         = aws_lb_listener_rule.test[0].arn
        role_arn                   = aws_iam_role.ecs_load_balancers[0].arn
      }
    }
  }

  lifecycle {
    ignore_changes = [task_definition, desired_count]
  }

  # The target groups must be attached to the ALB (through a listener or its rules) before the
  # service uses them, and the infrastructure role must have its policy.
  depends_on = [
    aws_ecs_cluster_capacity_providers.main,
    aws_lb_listener.https,
    aws_lb_listener.http_forward,
    aws_lb_listener_rule.production,
    aws_lb_listener_rule.test,
    aws_iam_role_policy.task_execution,
    aws_iam_role_policy_attachment.ecs_load_balancers,
  ]
}

resource "aws_appautoscaling_target" "model_service" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.model_service.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.desired_count
  max_capacity       = var.desired_count * 4
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${local.service_name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.model_service.service_namespace
  resource_id        = aws_appautoscaling_target.model_service.resource_id
  scalable_dimension = aws_appautoscaling_target.model_service.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 75
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "memory" {
  name               = "${local.service_name}-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.model_service.service_namespace
  resource_id        = aws_appautoscaling_target.model_service.resource_id
  scalable_dimension = aws_appautoscaling_target.model_service.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = 75
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}
