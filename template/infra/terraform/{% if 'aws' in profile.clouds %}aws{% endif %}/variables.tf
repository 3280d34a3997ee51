# Inputs. The sized ones (CPU, memory, replicas, instance classes, HA, retention, budget) have
# no default here: prodkit writes them into profile.auto.tfvars from the business answers,
# which Terraform loads on its own. Override them there, in one place.

variable "name" {
  description = "Name prefix of every resource (the service's slug)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,24}$", var.name))
    error_message = "name: lowercase letters, digits and dashes, at most 25 characters: load balancer and target group names (32 at most) are built from it."
  }
}

variable "region" {
  description = "AWS region."
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

variable "image_tag" {
  description = "Tag of the service image in the ECR repository (push it before the first apply of the services)."
  type        = string
  default     = "latest"
}

variable "acm_certificate_arn" {
  description = "ARN of the ACM certificate for the service's domain (HTTPS on the load balancer)."
  type        = string
}

variable "alarm_email" {
  description = "Email address that receives alarm and budget notifications."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins allowed by CORS (e.g. [\"https://app.example.com\"]); empty for same-origin only."
  type        = list(string)
  default     = []
}

variable "vpc_cidr" {
  description = "Address range of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

# --- sized by the profile (profile.auto.tfvars) ------------------------------------------

variable "azs" {
  description = "Availability zones the VPC spans."
  type        = number
}

variable "nat_gateways" {
  description = "NAT gateways: one per AZ when highly available, one in all otherwise."
  type        = number
}

variable "web_cpu" {
  description = "Fargate CPU units of a web task (1024 = 1 vCPU)."
  type        = number
}

variable "web_memory" {
  description = "Memory (MiB) of a web task."
  type        = number
}

variable "worker_cpu" {
  description = "Fargate CPU units of a worker task."
  type        = number
}

variable "worker_memory" {
  description = "Memory (MiB) of a worker task."
  type        = number
}

variable "web_min_replicas" {
  description = "Web tasks kept running (also the desired count at creation)."
  type        = number
}

variable "web_max_replicas" {
  description = "Upper bound of web autoscaling."
  type        = number
}

variable "worker_min_replicas" {
  description = "Worker tasks kept running."
  type        = number
}

variable "worker_max_replicas" {
  description = "Upper bound of worker autoscaling."
  type        = number
}

variable "autoscale_cpu_target" {
  description = "Average CPU (%) that target tracking holds the services at."
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

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "db_storage_gb" {
  description = "Allocated storage (GB); autoscaling may grow it to four times this."
  type        = number
}

variable "db_multi_az" {
  description = "Standby instance in a second AZ with automatic failover."
  type        = bool
}

variable "db_read_replicas" {
  description = "Read replicas of the database."
  type        = number
}

variable "db_backup_retention_days" {
  description = "Days automated backups (point-in-time recovery) are kept."
  type        = number
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database until this is turned off."
  type        = bool
}

variable "db_peak_connections" {
  description = "Connections the web and worker tasks can open at peak: max_connections allows them plus headroom."
  type        = number
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "cache_replicas" {
  description = "Replica nodes per shard (0: one node, no automatic failover)."
  type        = number
}

variable "cache_ha" {
  description = "A replica in another AZ with automatic failover (needs cache_replicas >= 1)."
  type        = bool
}

variable "rate_limit_authenticated" {
  description = "The application's per-client rate limit (N/second|minute|hour): the WAF's backstop is derived from it."
  type        = string
}

variable "monthly_budget_usd" {
  description = "Monthly budget ceiling in USD: alerts at 80% forecast and 100% actual spend."
  type        = number
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps logs."
  type        = number
}

variable "db_logical_replication" {
  description = "Turn on logical replication (multi-cloud: the standby clouds' databases subscribe to the primary's)."
  type        = bool
}
