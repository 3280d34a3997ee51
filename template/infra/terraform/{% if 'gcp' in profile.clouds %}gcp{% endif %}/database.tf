# Cloud SQL for PostgreSQL with a private address only (no public IP), TLS required,
# sized, made highly available and backed up as the profile says.

locals {
  # Every connection the instances can open at peak, plus room for migrations, replication,
  # monitoring and an operator's session.
  db_max_connections = max(100, var.db_peak_connections + 25)
}

resource "google_sql_database_instance" "main" {
  name                = var.name
  database_version    = "POSTGRES_17"
  region              = var.region
  deletion_protection = var.db_deletion_protection

  settings {
    tier                        = var.db_tier
    edition                     = "ENTERPRISE"
    availability_type           = var.db_availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = var.db_storage_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.db_deletion_protection

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = google_compute_network.main.id
      ssl_mode                                      = "ENCRYPTED_ONLY"
      enable_private_path_for_google_cloud_services = true
    }

    backup_configuration {
      enabled                        = true
      point_in_time_recovery_enabled = true
      start_time                     = "03:00"
      transaction_log_retention_days = min(7, var.db_backup_retention_days)
      backup_retention_settings {
        retained_backups = var.db_backup_retention_days
        retention_unit   = "COUNT"
      }
    }

    maintenance_window {
      day  = 7
      hour = 4
    }

    insights_config {
      query_insights_enabled = true
    }

    # Connection, lock, checkpoint and DDL logging and pgAudit for the audit trail (not every
    # statement's duration: at the sized request rates that is a log flood); logical
    # decoding for multi-cloud replication (the standbys subscribe to this database).
    database_flags {
      name  = "max_connections"
      value = tostring(local.db_max_connections)
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_duration"
      value = "off"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "pgaudit.log"
      value = "ddl,role"
    }
    database_flags {
      name  = "cloudsql.logical_decoding"
      value = var.db_logical_replication ? "on" : "off"
    }
  }

  depends_on = [google_service_networking_connection.services]
}

resource "google_sql_database_instance" "replica" {
  count                = var.db_read_replicas
  name                 = "${var.name}-replica-${count.index}"
  master_instance_name = google_sql_database_instance.main.name
  database_version     = "POSTGRES_17"
  region               = var.region
  deletion_protection  = var.db_deletion_protection

  replica_configuration {
    failover_target = false
  }

  settings {
    tier                        = var.db_tier
    edition                     = "ENTERPRISE"
    availability_type           = "ZONAL"
    disk_type                   = "PD_SSD"
    disk_autoresize             = true
    deletion_protection_enabled = var.db_deletion_protection

    ip_configuration {
      ipv4_enabled    = false
      private_network = google_compute_network.main.id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    # Connection, lock, checkpoint and DDL logging and pgAudit for the audit trail (not every
    # statement's duration: at the sized request rates that is a log flood); logical
    # decoding for multi-cloud replication (the standbys subscribe to this database).
    database_flags {
      name  = "max_connections"
      value = tostring(local.db_max_connections)
    }
    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }
    database_flags {
      name  = "log_connections"
      value = "on"
    }
    database_flags {
      name  = "log_disconnections"
      value = "on"
    }
    database_flags {
      name  = "log_duration"
      value = "off"
    }
    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }
    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
    database_flags {
      name  = "log_hostname"
      value = "on"
    }
    database_flags {
      name  = "log_min_messages"
      value = "error"
    }
    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }
    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }
    database_flags {
      name  = "log_statement"
      value = "ddl"
    }
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }
    database_flags {
      name  = "pgaudit.log"
      value = "ddl,role"
    }
    database_flags {
      name  = "cloudsql.logical_decoding"
      value = var.db_logical_replication ? "on" : "off"
    }
  }
}

resource "google_sql_database" "app" {
  name     = replace(var.name, "-", "_")
  instance = google_sql_database_instance.main.name
}

resource "google_sql_user" "app" {
  name     = "app"
  instance = google_sql_database_instance.main.name
  password = random_password.db.result
}
