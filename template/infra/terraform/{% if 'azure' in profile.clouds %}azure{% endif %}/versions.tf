# Provider versions, and where Terraform keeps its state.
#
# The azurerm backend is a partial configuration on purpose: the state storage account
# differs per subscription, so it is given at `terraform init` time (see README.md):
#
#   terraform init -backend-config=backend.hcl
#
# with backend.hcl holding resource_group_name, storage_account_name, container_name,
# key = "<service>/production.tfstate" and use_azuread_auth = true.
terraform {
  required_version = ">= 1.10"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  backend "azurerm" {}
}

provider "azurerm" {
  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
  }
  # The file storage account refuses shared keys: Terraform uses Entra ID for its data plane.
  storage_use_azuread = true
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "main" {
  name     = "${var.name}-production"
  location = var.region
  tags     = local.tags
}

locals {
  tags = {
    service     = var.name
    environment = "production"
    role        = var.role
    managed-by  = "terraform"
  }
}
