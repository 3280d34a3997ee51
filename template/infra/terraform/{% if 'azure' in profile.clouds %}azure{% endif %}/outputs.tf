output "frontdoor_endpoint" {
  description = "Point the service's domain (a CNAME) here, and add the TXT record Front Door asks for."
  value       = azurerm_cdn_frontdoor_endpoint.web.host_name
}

output "domain_validation_token" {
  description = "Value of the _dnsauth.<domain> TXT record that validates the managed certificate."
  value       = azurerm_cdn_frontdoor_custom_domain.web.validation_token
}

output "health_url" {
  description = "Readiness of the service through Front Door."
  value       = "https://${var.domain}/health/ready"
}

output "registry_login_server" {
  description = "Push the service image here."
  value       = azurerm_container_registry.main.login_server
}

output "resource_group" {
  value = azurerm_resource_group.main.name
}

output "migrate_job" {
  description = "Run once per release: az containerapp job start --name <this> --resource-group <group>"
  value       = azurerm_container_app_job.migrate.name
}

output "web_app" {
  value = azurerm_container_app.app["web"].name
}

output "database_fqdn" {
  value = azurerm_postgresql_flexible_server.main.fqdn
}

output "files_account" {
  value = azurerm_storage_account.files.name
}

output "key_vault_secrets" {
  description = "Key Vault secrets the containers read."
  value       = local.app_secrets
}
