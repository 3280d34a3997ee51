# Inputs. The sized ones have no default here: prodkit writes them into profile.auto.tfvars
# from the business answers, which Terraform loads on its own.

variable "domain" {
  description = "Domain the service answers on through Front Door (validated with a TXT record)."
  type        = string
}

variable "alarm_email" {
  description = "Email address that receives budget notifications."
  type        = string
}

variable "operator_ip_ranges" {
  description = "Public CIDR ranges Terraform runs from: the only addresses allowed past the Key Vault firewall (Terraform writes the secrets)."
  type        = list(string)
}

variable "image_tag" {
  description = "Tag of the service image in the container registry."
  type        = string
  default     = "latest"
}

variable "cors_origins" {
  description = "Browser origins allowed by CORS; empty for same-origin only."
  type        = list(string)
  default     = []
}

variable "vnet_cidr" {
  description = "Address space of the virtual network."
  type        = string
  default     = "10.60.0.0/16"
}

variable "name" {
  description = "Name prefix of every resource (the service's slug)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name))
    error_message = "name: lowercase letters, digits and dashes, at most 24 characters: Key Vault and storage account names (24 at most) are built from it."
  }
}

variable "region" {
  description = "Azure region."
  type        = string
}

variable "role" {
  description = "primary (takes writes) or standby (multi-cloud only: scaled in until a failover)."
  type        = string
  validation {
    condition     = contains(["primary", "standby"], var.role)
    error_message = "role is primary or standby."
  }
}

# --- sized by the profile (profile.auto.tfvars) ------------------------------------------

variable "web_cpu" {
  description = "vCPU of a web replica."
  type        = number
}

variable "web_memory" {
  description = "Memory of a web replica (2 GiB per vCPU on Consumption)."
  type        = string
}

variable "worker_cpu" {
  description = "vCPU of a worker replica."
  type        = number
}

variable "worker_memory" {
  description = "Memory of a worker replica."
  type        = string
}

variable "web_min_replicas" {
  description = "Web replicas kept running."
  type        = number
}

variable "web_max_replicas" {
  description = "Upper bound of web scaling."
  type        = number
}

variable "worker_min_replicas" {
  description = "Worker replicas kept running."
  type        = number
}

variable "worker_max_replicas" {
  description = "Upper bound of worker scaling."
  type        = number
}

variable "autoscale_cpu_target" {
  description = "Average CPU (%) the KEDA cpu rule scales at."
  type        = number
}

variable "throughput_rps" {
  description = "Requests per second the service is sized for (the SLA's throughput)."
  type        = number
}

variable "p95_latency_ms" {
  description = "p95 latency target of the SLA, in milliseconds."
  type        = number
}

variable "postgres_sku" {
  description = "PostgreSQL Flexible Server SKU."
  type        = string
}

variable "postgres_ha" {
  description = "Zone-redundant standby with automatic failover."
  type        = bool
}

variable "db_storage_gb" {
  description = "Storage (GB); rounded up to the next size Flexible Server offers, and grows automatically."
  type        = number
}

variable "db_backup_retention_days" {
  description = "Days of backups and point-in-time recovery (Flexible Server keeps at most 35)."
  type        = number
}

variable "db_deletion_protection" {
  description = "Lock the database server against deletion."
  type        = bool
}

variable "db_peak_connections" {
  description = "Connections the replicas can open at peak: max_connections allows them plus headroom."
  type        = number
}

variable "db_logical_replication" {
  description = "wal_level = logical (multi-cloud: standby databases subscribe to the primary's)."
  type        = bool
}

variable "redis_sku" {
  description = "Azure Managed Redis SKU."
  type        = string
}

variable "redis_ha" {
  description = "Replicated Managed Redis (high availability)."
  type        = bool
}

variable "frontdoor_sku" {
  description = "Front Door tier: Premium_AzureFrontDoor carries the managed WAF rule sets."
  type        = string
}

variable "rate_limit_authenticated" {
  description = "The application's per-client rate limit (N/second|minute|hour): the WAF's backstop is derived from it."
  type        = string
}

variable "monthly_budget_usd" {
  description = "Monthly budget ceiling (in the billing currency, USD assumed): alerts at 80% forecast and 100% actual."
  type        = number
}

variable "log_retention_days" {
  description = "Days the compliance answers require logs to be kept (Log Analytics keeps at most 730 interactively)."
  type        = number
}
