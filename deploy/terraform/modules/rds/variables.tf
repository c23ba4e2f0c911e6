variable "identifier" {
  type        = string
  description = "Identifier of the DB instance (e.g. commerce-order)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.identifier))
    error_message = "identifier must start with a letter and hold at most 63 lower-case letters, digits or hyphens."
  }
}

variable "database_name" {
  type        = string
  description = "Name of the service's database (e.g. commerce_order)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a letter and hold lower-case letters, digits or underscores."
  }
}

variable "username" {
  type        = string
  description = "Master user name."
  default     = "commerce"
}

variable "password" {
  type        = string
  description = "Master password (from the secrets module; never typed into a tfvars file). null only for a read replica, which inherits its source's."
  sensitive   = true
  default     = null
}

variable "replicate_source_db" {
  type        = string
  description = "ARN of the DB instance to replicate (a cross-region read replica for the standby region); null for a primary. Setting it to null on an existing replica promotes it."
  default     = null
  validation {
    condition     = var.replicate_source_db == null || can(regex("^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:db:[a-z][a-z0-9-]*$", var.replicate_source_db))
    error_message = "replicate_source_db must be an RDS DB instance ARN (arn:aws:rds:REGION:ACCOUNT:db:ID)."
  }
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major or major.minor version."
  default     = "15"
  validation {
    condition     = can(regex("^1[5-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15 or later."
  }
}

variable "instance_class" {
  type        = string
  description = "DB instance class."
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  type        = number
  description = "Initial storage in GiB."
  default     = 20
}

variable "max_allocated_storage_gb" {
  type        = number
  description = "Storage autoscaling ceiling in GiB."
  default     = 200
}

variable "multi_az" {
  type        = bool
  description = "Keep a synchronous standby in another AZ (automatic failover)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (point-in-time recovery window)."
  default     = 14
  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35 (automated backups cannot be turned off here)."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (and take a final snapshot if it is deleted once this is off)."
  default     = true
}

variable "kms_key_id" {
  type        = string
  description = "KMS key ARN for storage encryption; null uses the account's aws/rds key."
  default     = null
}

variable "vpc_id" {
  type        = string
  description = "VPC of the instance."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets in at least two AZs."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups admitted on 5432: the tasks of the one service that owns this database."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
