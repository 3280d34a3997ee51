# DNS failover across the clouds, in Route 53 (the zone may hold any domain; the clouds'
# own DNS services are not needed). State in S3, given at init time like ../aws:
#
#   terraform init -backend-config=backend.hcl
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  backend "s3" {
    encrypt = true
  }
}

provider "aws" {
  region = "us-east-1" # Route 53 is global; its API lives here.
}
