# The deployment guide's variables (terraform.tfvars.example shows each with an example value).

variable "project_name" {
  description = "Project name: prefixes the ALB, target group, bucket and other non-fixed names, and tags everything."
  type        = string
  default     = "ml-cicd-pipeline"

  validation {
    # 24 characters at most so that "<project>-alb" and "<project>-tg" stay within AWS's 32.
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}[a-z0-9]$", var.project_name))
    error_message = "project_name must be 3-24 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "environment" {
  description = "Environment name. \"production\" (or \"prod\") selects Multi-AZ RDS, one NAT gateway per AZ and a larger on-demand Fargate share."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters of lowercase letters, digits and hyphens, starting with a letter (e.g. production, staging, dev)."
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-west-2."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC, /16 to /20. Subnets are /24: public at index k, private at k + 10."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition = (
      can(cidrhost(var.vpc_cidr, 0)) &&
      can(regex("^[0-9.]+/(1[6-9]|20)$", var.vpc_cidr))
    )
    error_message = "vpc_cidr must be an IPv4 CIDR block with a prefix length from /16 to /20, e.g. 10.0.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability zones for the subnets (two or more, in var.region): one public and one private subnet each."
  type        = list(string)
  default     = ["us-west-2a", "us-west-2b"]

  validation {
    condition = (
      length(var.availability_zones) >= 2 &&
      length(var.availability_zones) <= 6 &&
      length(distinct(var.availability_zones)) == length(var.availability_zones) &&
      alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$", az))])
    )
    error_message = "availability_zones must list 2 to 6 distinct zone names such as us-west-2a (RDS and the ALB need at least two)."
  }
}

variable "db_instance_class" {
  description = "RDS instance class. db.t3.micro or db.t4g.micro for development; larger for production."
  type        = string
  default     = "db.t3.micro"

  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be an RDS instance class such as db.t3.micro or db.t4g.small."
  }
}

variable "db_name" {
  description = "Name of the database RDS creates (MLflow's backend store)."
  type        = string
  default     = "mlflow"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must start with a letter and contain only letters, digits and underscores (at most 63 characters)."
  }
}

variable "db_username" {
  description = "Master user name of the RDS instance."
  type        = string
  default     = "mlflow_user"

  validation {
    condition = (
      can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,15}$", var.db_username)) &&
      !contains(["rdsadmin", "rdsrepladmin", "rds_superuser", "postgres"], lower(var.db_username))
    )
    error_message = "db_username must start with a letter, contain only letters, digits and underscores (at most 16 characters), and not be a reserved name (rdsadmin, postgres, ...)."
  }
}

variable "db_iam_user" {
  description = <<-EOT
    A database user that logs in with an IAM authentication token (rds-check --iam), or null (the
    default: IAM database authentication stays off). Set, it turns IAM authentication on for the
    instance and creates the role <project_name>-db-connect, which the deploy role may assume and
    which may only rds-db:connect as this user to this instance. The user must exist with
    GRANT rds_iam TO <user>; it should not be the master user.
  EOT
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.db_iam_user == null ? true : can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.db_iam_user))
    error_message = "db_iam_user must be null or start with a letter and contain only letters, digits and underscores (at most 63 characters)."
  }
}

variable "db_password" {
  description = <<-EOT
    DISCOURAGED. Master password of the RDS instance. Leave it null (the default): RDS then
    manages the master password itself (manage_master_user_password = true), keeps it in a
    Secrets Manager secret encrypted with this stack's KMS key, and rotates it; the password
    never reaches Terraform state. A password set here is stored in the state in plain text.
  EOT
  type        = string
  default     = null
  nullable    = true
  sensitive   = true

  validation {
    condition = var.db_password == null ? true : (
      length(var.db_password) >= 16 &&
      length(var.db_password) <= 128 &&
      !can(regex("[/@\" ]", var.db_password))
    )
    error_message = "db_password must be null (recommended: RDS-managed credentials) or 16-128 printable characters without /, @, \" or spaces."
  }
}

variable "ecs_task_cpu" {
  description = "Fargate task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.ecs_task_cpu)
    error_message = "ecs_task_cpu must be one of Fargate's CPU values: 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "ecs_task_memory" {
  description = "Fargate task memory in MiB; must be a valid combination with ecs_task_cpu (checked in ecs.tf)."
  type        = number
  default     = 1024

  validation {
    condition = (
      var.ecs_task_memory >= 512 &&
      var.ecs_task_memory <= 122880 &&
      (var.ecs_task_memory == 512 || var.ecs_task_memory % 1024 == 0)
    )
    error_message = "ecs_task_memory must be 512 or a multiple of 1024 MiB, up to 122880."
  }
}

variable "desired_count" {
  description = "Number of model-server tasks; also the autoscaling minimum (the maximum is four times it)."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1 && var.desired_count <= 25 && floor(var.desired_count) == var.desired_count
    error_message = "desired_count must be a whole number from 1 to 25."
  }
}

variable "domain_name" {
  description = "Optional domain name for HTTPS (an ACM certificate validated through the Route 53 hosted zone of the same name, and an alias record to the ALB). Empty: the ALB serves plain HTTP only."
  type        = string
  default     = ""

  validation {
    condition     = var.domain_name == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be empty or a lowercase DNS name such as ml.example.com."
  }
}

# --- Deployment strategy (ecs.tf, alb.tf, iam.tf) ------------------------------------------------
# ROLLING replaces tasks in place behind the one target group. BLUE_GREEN, LINEAR and CANARY start
# the new revision in an alternate target group and shift production traffic to it through a
# listener rule that ECS rewrites, then keep the old revision for the bake time to roll back to.

variable "deployment_strategy" {
  description = "ECS deployment strategy: ROLLING (default), BLUE_GREEN (all traffic at once), LINEAR (equal steps) or CANARY (a small share first, then the rest). Anything but ROLLING adds an alternate target group, listener rules, a test listener and the ECS infrastructure role for load balancers."
  type        = string
  default     = "ROLLING"

  validation {
    condition     = contains(["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"], var.deployment_strategy)
    error_message = "deployment_strategy must be ROLLING, BLUE_GREEN, LINEAR or CANARY."
  }
}

variable "deployment_bake_time_minutes" {
  description = "BLUE_GREEN, LINEAR, CANARY: minutes both revisions keep running after all production traffic has shifted, so that a rollback is instant (deployment_configuration.bake_time_in_minutes). Ignored with ROLLING."
  type        = number
  default     = 5

  validation {
    condition     = var.deployment_bake_time_minutes >= 0 && var.deployment_bake_time_minutes <= 1440 && floor(var.deployment_bake_time_minutes) == var.deployment_bake_time_minutes
    error_message = "deployment_bake_time_minutes must be a whole number from 0 to 1440 (24 hours)."
  }
}

# Ranges from the ECS API reference:
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html
# (canaryPercent: multiples of 0.1 from 0.1 to 100.0; canaryBakeTimeInMinutes: 0 to 1440) and
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html
# (stepPercent: multiples of 0.1 from 3.0 to 100.0; stepBakeTimeInMinutes: 0 to 1440).

variable "canary_percent" {
  description = "CANARY: percent of production traffic the new revision gets first (a multiple of 0.1 from 0.1 to 100)."
  type        = number
  default     = 10

  validation {
    condition = (
      var.canary_percent >= 0.1 &&
      var.canary_percent <= 100 &&
      abs(var.canary_percent * 10 - floor(var.canary_percent * 10 + 0.5)) < 0.000001
    )
    error_message = "canary_percent must be a multiple of 0.1 from 0.1 to 100 (ECS CanaryConfiguration.canaryPercent)."
  }
}

variable "canary_bake_time_minutes" {
  description = "CANARY: minutes the canary share runs before the rest of the traffic shifts."
  type        = number
  default     = 10

  validation {
    condition     = var.canary_bake_time_minutes >= 0 && var.canary_bake_time_minutes <= 1440 && floor(var.canary_bake_time_minutes) == var.canary_bake_time_minutes
    error_message = "canary_bake_time_minutes must be a whole number from 0 to 1440 (ECS CanaryConfiguration.canaryBakeTimeInMinutes)."
  }
}

variable "linear_step_percent" {
  description = "LINEAR: percent of production traffic shifted at each step (a multiple of 0.1 from 3 to 100)."
  type        = number
  default     = 20

  validation {
    condition = (
      var.linear_step_percent >= 3 &&
      var.linear_step_percent <= 100 &&
      abs(var.linear_step_percent * 10 - floor(var.linear_step_percent * 10 + 0.5)) < 0.000001
    )
    error_message = "linear_step_percent must be a multiple of 0.1 from 3 to 100 (ECS LinearConfiguration.stepPercent)."
  }
}

variable "linear_step_bake_time_minutes" {
  description = "LINEAR: minutes between two steps (not applied after the last one)."
  type        = number
  default     = 5

  validation {
    condition     = var.linear_step_bake_time_minutes >= 0 && var.linear_step_bake_time_minutes <= 1440 && floor(var.linear_step_bake_time_minutes) == var.linear_step_bake_time_minutes
    error_message = "linear_step_bake_time_minutes must be a whole number from 0 to 1440 (ECS LinearConfiguration.stepBakeTimeInMinutes)."
  }
}

variable "deployment_alarm_names" {
  description = "Names of existing CloudWatch alarms (in var.region) that fail and roll back a deployment when they go to ALARM during it, with any strategy. With BLUE_GREEN, LINEAR or CANARY the stack's own <service>-deploy-5xx alarm (monitoring.tf) is always added."
  type        = list(string)
  default     = []

  validation {
    condition = (
      length(var.deployment_alarm_names) <= 10 &&
      length(distinct(var.deployment_alarm_names)) == length(var.deployment_alarm_names) &&
      alltrue([for n in var.deployment_alarm_names : length(n) >= 1 && length(n) <= 255])
    )
    error_message = "deployment_alarm_names must list at most 10 distinct alarm names of 1-255 characters."
  }
}

variable "test_listener_port" {
  description = "BLUE_GREEN, LINEAR, CANARY: ALB port of the test listener, which reaches the new revision before production traffic does (HTTPS with a domain, like the production listener)."
  type        = number
  default     = 8443

  validation {
    condition = (
      var.test_listener_port >= 1 &&
      var.test_listener_port <= 65535 &&
      floor(var.test_listener_port) == var.test_listener_port &&
      !contains([80, 443], var.test_listener_port)
    )
    error_message = "test_listener_port must be a port number other than 80 and 443 (the production ports)."
  }
}

variable "test_listener_cidrs" {
  description = "BLUE_GREEN, LINEAR, CANARY: IPv4 CIDR blocks allowed to reach the test listener (your office, VPN or CI egress addresses; /8 or longer). Default none: the listener exists but the ALB security group admits nobody to it. Never 0.0.0.0/0: the test listener serves a revision no one has approved yet."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for c in var.test_listener_cidrs : can(cidrhost(c, 0)) && can(regex("^[0-9.]+/([89]|[12][0-9]|3[0-2])$", c)) && !startswith(c, "0.")
    ])
    error_message = "test_listener_cidrs must be IPv4 CIDR blocks of /8 or longer such as 203.0.113.0/24 (never 0.0.0.0/0)."
  }
}
