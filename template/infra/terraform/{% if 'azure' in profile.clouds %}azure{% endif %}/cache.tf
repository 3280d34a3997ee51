# Azure Managed Redis (Azure Cache for Redis is retiring): the job queue, real-time fan-out
# and shared rate limits. TLS only, access-key auth, reached through a private endpoint;
# replicated when the profile calls for high availability. Keys are never evicted: the
# queue lives here.

resource "azurerm_managed_redis" "main" {
  name                      = "${var.name}-${random_string.suffix.result}"
  resource_group_name       = azurerm_resource_group.main.name
  location                  = azurerm_resource_group.main.location
  sku_name                  = var.redis_sku
  high_availability_enabled = var.redis_ha
  tags                      = local.tags

  default_database {
    access_keys_authentication_enabled = true
    client_protocol                    = "Encrypted"
    clustering_policy                  = "EnterpriseCluster"
    eviction_policy                    = "NoEviction"
  }
}

resource "azurerm_private_endpoint" "redis" {
  name                = "${var.name}-redis"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  subnet_id           = azurerm_subnet.endpoints.id
  tags                = local.tags

  private_service_connection {
    name                           = "redis"
    private_connection_resource_id = azurerm_managed_redis.main.id
    subresource_names              = ["redisEnterprise"]
    is_manual_connection           = false
  }

  private_dns_zone_group {
    name                 = "redis"
    private_dns_zone_ids = [azurerm_private_dns_zone.zones["redis"].id]
  }
}
