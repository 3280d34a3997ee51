# ElastiCache for Valkey (Redis-compatible, cheaper per node than Redis OSS): the job queue,
# real-time fan-out and shared rate limits. TLS and an AUTH token are required; with replicas,
# a replica in another AZ takes over automatically.

resource "aws_elasticache_subnet_group" "main" {
  name       = var.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id = var.name
  description          = "${var.name}: queue, pub/sub and rate limits"
  engine               = "valkey"
  engine_version       = "8.0"
  parameter_group_name = "default.valkey8"
  node_type            = var.cache_node_type
  num_cache_clusters   = 1 + var.cache_replicas
  port                 = 6379

  automatic_failover_enabled = var.cache_ha
  multi_az_enabled           = var.cache_ha

  subnet_group_name  = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.cache.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.main.arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.cache.result

  snapshot_retention_limit   = 1
  snapshot_window            = "02:00-03:00"
  maintenance_window         = "sun:05:30-sun:06:30"
  auto_minor_version_upgrade = true

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.app["cache"].name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "engine-log"
  }
}
