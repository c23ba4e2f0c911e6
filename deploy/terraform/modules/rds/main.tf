locals {
  # A cross-region read replica (the standby region, docs/multi-region.md) inherits engine version, database, user
  # and password from its source; promoting it (replicate_source_db removed) makes it a standalone primary.
  replica = var.replicate_source_db != null
}

resource "aws_db_subnet_group" "this" {
  name_prefix = "${var.identifier}-"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "db" {
  name_prefix = "${var.identifier}-db-"
  description = "${var.identifier}: PostgreSQL from its own service's tasks only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.identifier}-db" })
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  count                        = length(var.client_security_group_ids)
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the owning service"
  referenced_security_group_id = var.client_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.identifier}-"
  family      = "postgres${split(".", var.engine_version)[0]}"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  lifecycle {
    create_before_destroy = true
  }
  tags = var.tags
}

resource "aws_db_instance" "this" {
  identifier                      = var.identifier
  engine                          = "postgres"
  engine_version                  = local.replica ? null : var.engine_version
  replicate_source_db             = var.replicate_source_db
  instance_class                  = var.instance_class
  db_name                         = local.replica ? null : var.database_name
  username                        = local.replica ? null : var.username
  password                        = local.replica ? null : var.password
  port                            = 5432
  allocated_storage               = var.allocated_storage_gb
  max_allocated_storage           = var.max_allocated_storage_gb
  storage_type                    = "gp3"
  storage_encrypted               = true
  kms_key_id                      = var.kms_key_id
  multi_az                        = var.multi_az
  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = [aws_security_group.db.id]
  parameter_group_name            = aws_db_parameter_group.this.name
  publicly_accessible             = false
  backup_retention_period         = var.backup_retention_days
  backup_window                   = "02:00-03:00"
  maintenance_window              = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot           = true
  deletion_protection             = var.deletion_protection
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.identifier}-final"
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  enabled_cloudwatch_logs_exports = ["postgresql"]
  apply_immediately               = false
  tags                            = var.tags
  lifecycle {
    precondition {
      condition     = local.replica || var.password != null
      error_message = "password is required unless replicate_source_db makes this a read replica."
    }
    precondition {
      condition     = !local.replica || var.kms_key_id != null
      error_message = "A cross-region encrypted read replica needs kms_key_id: a KMS key in this region."
    }
  }
}
