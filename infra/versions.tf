# Terraform and provider versions, and the provider every resource uses.

terraform {
  # The deployment guide installs Terraform 1.6.0; nothing here needs a newer one.
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # State is local by default. For a team, keep it in S3 with native locking (Terraform >= 1.10):
  #
  # backend "s3" {
  #   bucket       = "my-terraform-state"
  #   key          = "ml-cicd/terraform.tfstate"
  #   region       = "us-west-2"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.project_name
      Environment = var.environment
      ManagedBy   = "terraform"
      Stack       = "ml-cicd"
    }
  }
}
