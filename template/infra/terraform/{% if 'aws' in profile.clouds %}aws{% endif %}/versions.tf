# Provider versions, and where Terraform keeps its state.
#
# The S3 backend is a partial configuration on purpose: bucket, key and region differ per
# account, so they are given at `terraform init` time (see README.md), never committed:
#
#   terraform init -backend-config=backend.hcl
#
# with backend.hcl holding `bucket = "..."`, `key = "<service>/production.tfstate"`,
# `region = "..."` and `use_lockfile = true` (S3-native state locking, no DynamoDB table).
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  backend "s3" {
    encrypt = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      service     = var.name
      environment = "production"
      role        = var.role
      managed-by  = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}
