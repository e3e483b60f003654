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
