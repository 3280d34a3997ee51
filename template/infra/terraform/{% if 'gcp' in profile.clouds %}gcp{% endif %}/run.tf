# Cloud Run: the web service (autoscaled between the profile's bounds, reached only through
# the load balancer), the worker pool (jobs and cron: it serves no HTTP, so it is a worker
# pool, not a service) and the migration job. One image, three commands; all reach the
# database and Redis through Direct VPC egress.

resource "google_artifact_registry_repository" "app" {
  repository_id = var.name
  location      = var.region
  format        = "DOCKER"
  docker_config {
    immutable_tags = true
  }
  depends_on = [google_project_service.apis]
}

resource "google_service_account" "run" {
  account_id   = "${var.name}-run"
  display_name = "${var.name} web, worker and migrations"
}

locals {
  image = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.app.repository_id}/${var.name}:${var.image_tag}"
  # PORT is Cloud Run's to set (from the container port); every other setting is passed.
  container_env = { for key, value in local.app_env : key => value if key != "PORT" }
}

resource "google_cloud_run_v2_service" "web" {
  name                 = "${var.name}-web"
  location             = var.region
  ingress              = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  invoker_iam_disabled = true
  deletion_protection  = var.db_deletion_protection

  template {
    service_account                  = google_service_account.run.email
    max_instance_request_concurrency = 80

    scaling {
      min_instance_count = var.web_min_replicas
      max_instance_count = var.web_max_replicas
    }

    vpc_access {
      network_interfaces {
        network    = google_compute_network.main.id
        subnetwork = google_compute_subnetwork.run.id
      }
      egress = "PRIVATE_RANGES_ONLY"
    }

    containers {
      image   = local.image
      command = [local.cli, "serve"]

      ports {
        container_port = local.port
      }

      resources {
        limits = {
          cpu    = var.web_cpu
          memory = var.web_memory
        }
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = local.container_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.app_secrets
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.app[env.key].secret_id
              version = "latest"
            }
          }
        }
      }

      startup_probe {
        http_get {
          path = "/health/live"
        }
        period_seconds    = 5
        failure_threshold = 12
      }

      liveness_probe {
        http_get {
          path = "/health/live"
        }
        period_seconds = 15
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.run, google_secret_manager_secret_version.app]
}

resource "google_cloud_run_v2_worker_pool" "worker" {
  name                = "${var.name}-worker"
  location            = var.region
  deletion_protection = var.db_deletion_protection

  # Worker pools run a set number of instances: the profile's minimum, raised towards
  # worker_max_replicas when the queue backs up or on failover (see README.md).
  scaling {
    scaling_mode          = "MANUAL"
    manual_instance_count = var.worker_min_replicas
  }

  template {
    service_account = google_service_account.run.email

    vpc_access {
      network_interfaces {
        network    = google_compute_network.main.id
        subnetwork = google_compute_subnetwork.run.id
      }
      egress = "PRIVATE_RANGES_ONLY"
    }

    containers {
      image   = local.image
      command = [local.cli, "worker"]

      resources {
        limits = {
          cpu    = var.worker_cpu
          memory = var.worker_memory
        }
      }

      dynamic "env" {
        for_each = local.container_env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = local.app_secrets
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = google_secret_manager_secret.app[env.key].secret_id
              version = "latest"
            }
          }
        }
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.run, google_secret_manager_secret_version.app]
}

# Run once per release, before the new web revision takes traffic:
#   gcloud run jobs execute <name>-migrate --region <region> --wait
resource "google_cloud_run_v2_job" "migrate" {
  name                = "${var.name}-migrate"
  location            = var.region
  deletion_protection = false

  template {
    task_count = 1
    template {
      service_account = google_service_account.run.email
      max_retries     = 1
      timeout         = "900s"

      vpc_access {
        network_interfaces {
          network    = google_compute_network.main.id
          subnetwork = google_compute_subnetwork.run.id
        }
        egress = "PRIVATE_RANGES_ONLY"
      }

      containers {
        image   = local.image
        command = [local.cli, "migrate"]

        resources {
          limits = {
            cpu    = var.worker_cpu
            memory = var.worker_memory
          }
        }

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
            name = env.key
            value_source {
              secret_key_ref {
                secret  = google_secret_manager_secret.app[env.key].secret_id
                version = "latest"
              }
            }
          }
        }
      }
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.run, google_secret_manager_secret_version.app]
}
