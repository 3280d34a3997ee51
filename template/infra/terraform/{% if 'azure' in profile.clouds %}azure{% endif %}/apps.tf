# Container Apps: the web app (external ingress, behind Front Door, KEDA http and cpu scale
# rules), the worker app (jobs and cron, cpu scale rule) and the migration job, all from
# one image in the registry, in an environment inside the virtual network.

resource "azurerm_log_analytics_workspace" "main" {
  name                = var.name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  sku                 = "PerGB2018"
  retention_in_days   = min(730, max(90, var.log_retention_days))
  tags                = local.tags
}

resource "azurerm_container_registry" "main" {
  name                          = "${substr(replace(var.name, "-", ""), 0, 40)}${random_string.suffix.result}"
  resource_group_name           = azurerm_resource_group.main.name
  location                      = azurerm_resource_group.main.location
  sku                           = "Standard"
  admin_enabled                 = false
  anonymous_pull_enabled        = false
  public_network_access_enabled = true
  tags                          = local.tags
}

resource "azurerm_role_assignment" "app_pull" {
  scope                = azurerm_container_registry.main.id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.app.principal_id
}

resource "azurerm_container_app_environment" "main" {
  name                       = var.name
  resource_group_name        = azurerm_resource_group.main.name
  location                   = azurerm_resource_group.main.location
  log_analytics_workspace_id = azurerm_log_analytics_workspace.main.id
  infrastructure_subnet_id   = azurerm_subnet.apps.id
  zone_redundancy_enabled    = var.postgres_ha
  tags                       = local.tags

  workload_profile {
    name                  = "Consumption"
    workload_profile_type = "Consumption"
  }
}

locals {
  image = "${azurerm_container_registry.main.login_server}/${var.name}:${var.image_tag}"
  # Concurrent requests per web replica at the SLA (Little's law: throughput per replica at
  # the ceiling times the p95 latency), the KEDA http rule's target.
  concurrent_requests_per_replica = max(10, ceil(var.throughput_rps / var.web_max_replicas * var.p95_latency_ms / 1000))
  processes = {
    web    = { command = [local.cli, "serve"], cpu = var.web_cpu, memory = var.web_memory, min = var.web_min_replicas, max = var.web_max_replicas }
    worker = { command = [local.cli, "worker"], cpu = var.worker_cpu, memory = var.worker_memory, min = var.worker_min_replicas, max = var.worker_max_replicas }
  }
}

resource "azurerm_container_app" "app" {
  for_each                     = local.processes
  name                         = "${var.name}-${each.key}"
  resource_group_name          = azurerm_resource_group.main.name
  container_app_environment_id = azurerm_container_app_environment.main.id
  revision_mode                = "Single"
  workload_profile_name        = "Consumption"
  tags                         = local.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }

  registry {
    server   = azurerm_container_registry.main.login_server
    identity = azurerm_user_assigned_identity.app.id
  }

  dynamic "secret" {
    for_each = local.app_secrets
    content {
      name                = secret.value
      key_vault_secret_id = azurerm_key_vault_secret.app[secret.key].versionless_id
      identity            = azurerm_user_assigned_identity.app.id
    }
  }

  dynamic "ingress" {
    for_each = each.key == "web" ? [1] : []
    content {
      external_enabled = true
      target_port      = local.port
      transport        = "http"
      traffic_weight {
        latest_revision = true
        percentage      = 100
      }
    }
  }

  template {
    min_replicas = each.value.min
    max_replicas = each.value.max

    container {
      name    = each.key
      image   = local.image
      command = each.value.command
      cpu     = each.value.cpu
      memory  = each.value.memory

      dynamic "env" {
        for_each = local.app_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.app_secrets
        content {
          name        = env.key
          secret_name = env.value
        }
      }

      dynamic "readiness_probe" {
        for_each = each.key == "web" ? [1] : []
        content {
          transport = "HTTP"
          port      = local.port
          path      = "/health/ready"
        }
      }

      dynamic "liveness_probe" {
        for_each = each.key == "web" ? [1] : []
        content {
          transport = "HTTP"
          port      = local.port
          path      = "/health/live"
        }
      }
    }

    dynamic "http_scale_rule" {
      for_each = each.key == "web" ? [1] : []
      content {
        name                = "http"
        concurrent_requests = tostring(local.concurrent_requests_per_replica)
      }
    }

    custom_scale_rule {
      name             = "cpu"
      custom_rule_type = "cpu"
      metadata = {
        type  = "Utilization"
        value = tostring(var.autoscale_cpu_target)
      }
    }
  }

  depends_on = [azurerm_role_assignment.app_secrets, azurerm_role_assignment.app_pull]
}

# Run once per release, before the new web revision takes traffic:
#   az containerapp job start --name <name>-migrate --resource-group <group>
resource "azurerm_container_app_job" "migrate" {
  name                         = "${var.name}-migrate"
  resource_group_name          = azurerm_resource_group.main.name
  location                     = azurerm_resource_group.main.location
  container_app_environment_id = azurerm_container_app_environment.main.id
  workload_profile_name        = "Consumption"
  replica_timeout_in_seconds   = 900
  replica_retry_limit          = 1
  tags                         = local.tags

  manual_trigger_config {
    parallelism              = 1
    replica_completion_count = 1
  }

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.app.id]
  }

  registry {
    server   = azurerm_container_registry.main.login_server
    identity = azurerm_user_assigned_identity.app.id
  }

  dynamic "secret" {
    for_each = local.app_secrets
    content {
      name                = secret.value
      key_vault_secret_id = azurerm_key_vault_secret.app[secret.key].versionless_id
      identity            = azurerm_user_assigned_identity.app.id
    }
  }

  template {
    container {
      name    = "migrate"
      image   = local.image
      command = [local.cli, "migrate"]
      cpu     = var.worker_cpu
      memory  = var.worker_memory

      dynamic "env" {
        for_each = local.app_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.app_secrets
        content {
          name        = env.key
          secret_name = env.value
        }
      }
    }
  }

  depends_on = [azurerm_role_assignment.app_secrets, azurerm_role_assignment.app_pull]
}
