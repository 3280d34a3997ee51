# Memorystore for Redis: the job queue, real-time fan-out and shared rate limits. Private
# address only (private services access), AUTH required, TLS in transit.

resource "google_redis_instance" "main" {
  name                    = var.name
  tier                    = var.redis_tier
  memory_size_gb          = var.redis_memory_gb
  region                  = var.region
  redis_version           = "REDIS_7_2"
  authorized_network      = google_compute_network.main.id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours = 5
      }
    }
  }

  depends_on = [google_service_networking_connection.services]
}
