# Inputs. The sized ones have no default here: prodkit writes them into profile.auto.tfvars
# from the business answers, which Terraform loads on its own.

variable "project_id" {
  description = "Google Cloud project to deploy into."
  type        = string
}

variable "billing_account" {
  description = "Billing account ID (XXXXXX-XXXXXX-XXXXXX) the budget is created on."
  type        = string
}

variable "domain" {
  description = "Domain the service answers on (a Google-managed certificate is issued for it)."
  type        = string
}

variable "alarm_email" {
  description = "Email address that receives budget notifications."
  type        = string
}

variable "image_tag" {
  description = "Tag of the service image in Artifact Registry."
  type        = string
  default     = "latest"
}

variable "cors_origins" {
  description = "Browser origins allowed by CORS; empty for same-origin only."
  type        = list(string)
  default     = []
}

variable "subnet_cidr" {
  description = "Range of the subnet Cloud Run's Direct VPC egress uses."
  type        = string
  default     = "10.50.0.0/20"
}

variable "name" {
  description = "Name prefix of every resource (the service's slug)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,23}$", var.name))
    error_message = "name: lowercase letters, digits and dashes, at most 24 characters: service account ids (30 at most) are built from it."
  }
}

variable "region" {
  description = "Google Cloud region."
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
  description = "vCPU of a web instance."
  type        = string
}

variable "web_memory" {
  description = "Memory of a web instance (e.g. 2048Mi)."
  type        = string
}

variable "worker_cpu" {
  description = "vCPU of a worker instance."
  type        = string
}

variable "worker_memory" {
  description = "Memory of a worker instance."
  type        = string
}

variable "web_min_replicas" {
  description = "Web instances kept warm."
  type        = number
}

variable "web_max_replicas" {
  description = "Upper bound of web autoscaling."
  type        = number
}

variable "worker_min_replicas" {
  description = "Worker instances running."
  type        = number
}

variable "worker_max_replicas" {
  description = "Worker instances to scale the pool to under load or on failover (README.md)."
  type        = number
  validation {
    condition     = var.worker_max_replicas >= var.worker_min_replicas
    error_message = "worker_max_replicas is the pool's ceiling: at least worker_min_replicas."
  }
}

variable "db_tier" {
  description = "Cloud SQL machine type."
  type        = string
}

variable "db_availability_type" {
  description = "REGIONAL (standby in another zone, automatic failover) or ZONAL."
  type        = string
}

variable "db_storage_gb" {
  description = "Initial disk size (GB); grows automatically."
  type        = number
}

variable "db_backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery."
  type        = number
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database until this is turned off."
  type        = bool
}

variable "db_peak_connections" {
  description = "Connections the instances can open at peak: max_connections allows them plus headroom."
  type        = number
}

variable "db_read_replicas" {
  description = "Read replicas of the database."
  type        = number
}

variable "db_logical_replication" {
  description = "Turn on logical decoding (multi-cloud: standby databases subscribe to the primary's)."
  type        = bool
}

variable "redis_tier" {
  description = "Memorystore tier: STANDARD_HA (replica with automatic failover) or BASIC."
  type        = string
}

variable "redis_memory_gb" {
  description = "Memorystore capacity (GB)."
  type        = number
}

variable "p95_latency_ms" {
  description = "p95 latency target of the SLA, in milliseconds."
  type        = number
}

variable "rate_limit_authenticated" {
  description = "The application's per-client rate limit (N/second|minute|hour): Cloud Armor's backstop is derived from it."
  type        = string
}

variable "monthly_budget_usd" {
  description = "Monthly budget ceiling in USD: alerts at 80% forecast and 100% actual spend."
  type        = number
}
