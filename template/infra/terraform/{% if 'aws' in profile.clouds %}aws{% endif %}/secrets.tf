# Secrets Manager holds every secret setting; ECS injects them at task start, so they never
# appear in a task definition. Terraform generates the ones it can (the signing key, the
# database and cache credentials); the operator gives the rest at apply time (README.md).

resource "random_password" "secret_key" {
  length  = 64
  special = false
}

resource "random_password" "db" {
  length  = 40
  special = false
}

resource "random_password" "cache" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  for_each                = local.app_secrets
  name                    = each.value
  description             = "${each.key} of ${var.name}"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}

# Keyed by the (non-sensitive) names: for_each may not iterate over the secret values.
resource "aws_secretsmanager_secret_version" "app" {
  for_each      = local.app_secrets
  secret_id     = aws_secretsmanager_secret.app[each.key].id
  secret_string = local.secret_values[each.key]
}
