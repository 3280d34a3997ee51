# Provider versions, and where Terraform keeps its state.
#
# The GCS backend is a partial configuration on purpose: the state bucket differs per
# project, so it is given at `terraform init` time (see README.md), never committed:
#
#   terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=<service>/production"
terraform {
  required_version = ">= 1.10"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  backend "gcs" {}
}

provider "google" {
  project = var.project_id
  region  = var.region

  default_labels = {
    service     = var.name
    environment = "production"
    role        = var.role
    managed-by  = "terraform"
  }
}

data "google_project" "current" {}

# The APIs this deployment uses.
resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "billingbudgets.googleapis.com",
    "certificatemanager.googleapis.com",
    "compute.googleapis.com",
    "redis.googleapis.com",
    "run.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
  ])
  service            = each.value
  disable_on_destroy = false
}
