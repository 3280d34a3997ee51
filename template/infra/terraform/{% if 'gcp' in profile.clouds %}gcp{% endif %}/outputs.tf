output "load_balancer_ip" {
  description = "Point the service's domain (an A record) here."
  value       = google_compute_global_address.web.address
}

output "certificate_dns_record" {
  description = "Create this CNAME record: it authorises the managed certificate for the domain."
  value       = google_certificate_manager_dns_authorization.web.dns_resource_record
}

output "health_url" {
  description = "Readiness of the service through the load balancer."
  value       = "https://${var.domain}/health/ready"
}

output "image_repository" {
  description = "Push the service image here."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.app.repository_id}/${var.name}"
}

output "migrate_job" {
  description = "Run once per release: gcloud run jobs execute <this> --region <region> --wait"
  value       = google_cloud_run_v2_job.migrate.name
}

output "web_service" {
  value = google_cloud_run_v2_service.web.name
}

output "worker_pool" {
  value = google_cloud_run_v2_worker_pool.worker.name
}

output "database_private_ip" {
  value = google_sql_database_instance.main.private_ip_address
}

output "files_bucket" {
  value = google_storage_bucket.files.name
}

output "secret_ids" {
  description = "Secret Manager secret of each secret setting the containers read."
  value       = local.app_secrets
}
