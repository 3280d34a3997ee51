# PostgreSQL Flexible Server in a delegated subnet (private access only), TLS required,
# zone-redundant when the profile calls for high availability, backed up as it says.

locals {
  # Flexible Server offers fixed storage sizes: the smallest that holds the profile's.
  pg_storage_mb = [for mb in [32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 8388608, 16777216] : mb if mb >= var.db_storage_gb * 1024][0]
  # Every connection the replicas can open at peak, plus room for migrations, replication,
  # monitoring and an operator's session.
  db_max_connections = var.db_peak_connections + 25
  pg_settings = merge(
    {
      max_connections              = tostring(local.db_max_connections)
      require_secure_transport     = "on"
      log_checkpoints              = "on"
      log_connections              = "on"
      log_disconnections           = "on"
      "connection_throttle.enable" = "on"
    },
    # Multi-cloud: the standbys' databases subscribe to this one by logical replication.
    var.db_logical_replication ? { wal_level = "logical" } : {},
  )
}

resource "azurerm_postgresql_flexible_server" "main" {
  name                          = "${var.name}-${random_string.suffix.result}"
  resource_group_name           = azurerm_resource_group.main.name
  location                      = azurerm_resource_group.main.location
  version                       = "16"
  sku_name                      = var.postgres_sku
  storage_mb                    = local.pg_storage_mb
  auto_grow_enabled             = true
  delegated_subnet_id           = azurerm_subnet.postgres.id
  private_dns_zone_id           = azurerm_private_dns_zone.zones["postgres"].id
  public_network_access_enabled = false
  administrator_login           = "app"
  administrator_password        = random_password.db.result
  backup_retention_days         = min(35, var.db_backup_retention_days)
  geo_redundant_backup_enabled  = true
  zone                          = "1"
  tags                          = local.tags

  dynamic "high_availability" {
    for_each = var.postgres_ha ? [1] : []
    content {
      mode                      = "ZoneRedundant"
      standby_availability_zone = "2"
    }
  }

  maintenance_window {
    day_of_week  = 0
    start_hour   = 4
    start_minute = 0
  }

  depends_on = [azurerm_private_dns_zone_virtual_network_link.zones]
}

resource "azurerm_postgresql_flexible_server_configuration" "settings" {
  for_each  = local.pg_settings
  name      = each.key
  server_id = azurerm_postgresql_flexible_server.main.id
  value     = each.value
}

resource "azurerm_postgresql_flexible_server_database" "app" {
  name      = replace(var.name, "-", "_")
  server_id = azurerm_postgresql_flexible_server.main.id
  collation = "en_US.utf8"
  charset   = "UTF8"
}

resource "azurerm_management_lock" "postgres" {
  count      = var.db_deletion_protection ? 1 : 0
  name       = "${var.name}-postgres"
  scope      = azurerm_postgresql_flexible_server.main.id
  lock_level = "CanNotDelete"
  notes      = "Production database: remove this lock (db_deletion_protection = false) before deleting."
}
