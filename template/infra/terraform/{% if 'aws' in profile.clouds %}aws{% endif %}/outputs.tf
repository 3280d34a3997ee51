output "load_balancer_dns_name" {
  description = "Point the service's domain (a CNAME or alias record) here."
  value       = aws_lb.main.dns_name
}

output "health_url" {
  description = "Readiness of the service through the load balancer (the domain must match the certificate)."
  value       = "https://${aws_lb.main.dns_name}/health/ready"
}

output "ecr_repository_url" {
  description = "Push the service image here."
  value       = aws_ecr_repository.app.repository_url
}

output "cluster_name" {
  value = aws_ecs_cluster.main.name
}

output "migrate_task_definition" {
  description = "Run once per release, before the services roll (see README.md)."
  value       = aws_ecs_task_definition.app["migrate"].arn
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

output "app_security_group_id" {
  value = aws_security_group.app.id
}

output "database_endpoint" {
  value = aws_db_instance.main.address
}

output "files_bucket" {
  value = aws_s3_bucket.files.bucket
}

output "secret_names" {
  description = "Secrets Manager secret of each secret setting the tasks read."
  value       = local.app_secrets
}
