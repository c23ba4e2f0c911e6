variable "name" {
  type        = string
  description = "Replication group id (e.g. commerce-redis)."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name))
    error_message = "name must start with a letter and hold at most 40 lower-case letters, digits or hyphens."
  }
}

variable "auth_token" {
  type        = string
  description = "Redis AUTH token (16 to 128 characters; from the secrets module)."
  sensitive   = true
  validation {
    condition     = length(var.auth_token) >= 16 && length(var.auth_token) <= 128
    error_message = "auth_token must be 16 to 128 characters."
  }
}

variable "engine_version" {
  type        = string
  description = "Redis engine version."
  default     = "7.1"
}

variable "node_type" {
  type        = string
  description = "Cache node type."
  default     = "cache.t4g.small"
}

variable "replicas" {
  type        = number
  description = "Read replicas besides the primary; at least 1 enables automatic failover across AZs."
  default     = 1
  validation {
    condition     = var.replicas >= 0 && var.replicas <= 5
    error_message = "replicas must be between 0 and 5."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cache."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups admitted on 6379 (the service tasks)."
}

variable "snapshot_retention_days" {
  type        = number
  description = "Days of daily snapshots (Redis only speeds up de-duplication and rate limits, so short is fine)."
  default     = 1
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
