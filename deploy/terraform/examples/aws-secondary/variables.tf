variable "aws_region" {
  type        = string
  description = "Standby region to deploy into (not the primary's)."
  default     = "eu-central-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like eu-west-1."
  }
}

variable "name" {
  type        = string
  description = "Name prefix of every resource (short: load balancer and target group names derive from it)."
  default     = "commerce"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.name))
    error_message = "name must be 2 to 15 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "Environment name, part of resource names and secret paths (e.g. production, staging)."
  default     = "production"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2 to 10 lower-case letters or digits, starting with a letter."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource."
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.tags) : length(k) <= 128])
    error_message = "Tag keys must be at most 128 characters."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the VPC."
  default     = "10.40.0.0/16"
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /20 or larger."
  }
}

variable "az_count" {
  type        = number
  description = "Availability zones to spread over (2 or more)."
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway instead of one per AZ (cheaper; loses outbound access if its AZ fails)."
  default     = false
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate (in aws_region) for the HTTPS listener, covering api_domain_name."
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+$", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)."
  }
}

variable "api_domain_name" {
  type        = string
  description = "Host name clients use (point it at the load balancer); null reports the load balancer's own name as the API URL."
  default     = null
  validation {
    condition     = var.api_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]*[a-z0-9])?\\.)+[a-z]{2,}$", var.api_domain_name))
    error_message = "api_domain_name must be a lower-case DNS name such as api.example.com."
  }
}

variable "alb_ingress_cidr_blocks" {
  type        = list(string)
  description = "Client address ranges admitted to the load balancer."
  default     = ["0.0.0.0/0"]
  validation {
    condition     = length(var.alb_ingress_cidr_blocks) > 0 && alltrue([for c in var.alb_ingress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "alb_ingress_cidr_blocks must be a non-empty list of IPv4 CIDR blocks."
  }
}

variable "image_tag" {
  type        = string
  description = "Tag of the image in the ECR repository to run (tags are immutable: one tag, one build)."
  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid Docker tag other than latest (use a release or commit tag)."
  }
}

variable "cpu_architecture" {
  type        = string
  description = "Architecture the image is built for: X86_64 or ARM64."
  default     = "X86_64"
  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "service_sizes" {
  type = map(object({
    cpu           = number
    memory        = number
    min_capacity  = number
    max_capacity  = number
    desired_count = number
  }))
  description = "Task size and autoscaling bounds per ECS service: order (API), order-worker (saga capacity), inventory, payment."
  default = {
    order        = { cpu = 512, memory = 1024, min_capacity = 2, max_capacity = 6, desired_count = 2 }
    order-worker = { cpu = 512, memory = 1024, min_capacity = 2, max_capacity = 8, desired_count = 2 }
    inventory    = { cpu = 512, memory = 1024, min_capacity = 2, max_capacity = 6, desired_count = 2 }
    payment      = { cpu = 512, memory = 1024, min_capacity = 2, max_capacity = 6, desired_count = 2 }
  }
  validation {
    condition     = length(setsubtract(["order", "order-worker", "inventory", "payment"], keys(var.service_sizes))) == 0
    error_message = "service_sizes must have entries for order, order-worker, inventory and payment."
  }
  validation {
    condition     = alltrue([for s in values(var.service_sizes) : s.min_capacity >= 1 && s.min_capacity <= s.desired_count && s.desired_count <= s.max_capacity])
    error_message = "For every service: 1 <= min_capacity <= desired_count <= max_capacity."
  }
}

variable "queue_backlog_target" {
  type        = number
  description = "Ready messages per consuming service that queue-depth autoscaling aims for."
  default     = 100
  validation {
    condition     = var.queue_backlog_target >= 1
    error_message = "queue_backlog_target must be at least 1."
  }
}

variable "order_partitions" {
  type        = number
  description = "ORDER_PARTITIONS: number of order saga partitions (changing it remaps orders in flight: drain first)."
  default     = 16
  validation {
    condition     = var.order_partitions >= 1 && var.order_partitions <= 1024
    error_message = "order_partitions must be between 1 and 1024."
  }
}

variable "saga_timeout_ms" {
  type        = number
  description = "SAGA_TIMEOUT_MS: an order still PENDING this long is cancelled and compensated."
  default     = 30000
  validation {
    condition     = var.saga_timeout_ms >= 100 && var.saga_timeout_ms <= 86400000
    error_message = "saga_timeout_ms must be between 100 and 86400000."
  }
}

variable "reservation_ttl_ms" {
  type        = number
  description = "RESERVATION_TTL_MS: a reservation neither committed nor released this long is released."
  default     = 900000
  validation {
    condition     = var.reservation_ttl_ms >= 1000
    error_message = "reservation_ttl_ms must be at least 1000."
  }
}

variable "rate_limit" {
  type        = string
  description = "RATE_LIMIT per client: N/second, N/minute, N/hour or off."
  default     = "600/minute"
  validation {
    condition     = can(regex("^([1-9][0-9]*/(second|minute|hour)|off)$", var.rate_limit))
    error_message = "rate_limit must be N/second, N/minute, N/hour or off."
  }
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL of the services."
  default     = "info"
  validation {
    condition     = contains(["fatal", "error", "warn", "info", "debug", "trace"], var.log_level)
    error_message = "log_level must be one of fatal, error, warn, info, debug, trace."
  }
}

variable "db_pool_size" {
  type        = number
  description = "DB_POOL_SIZE: PostgreSQL connections per task (mind max_connections × tasks)."
  default     = 8
  validation {
    condition     = var.db_pool_size >= 1 && var.db_pool_size <= 200
    error_message = "db_pool_size must be between 1 and 200."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days CloudWatch keeps the services' logs."
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs supports (e.g. 7, 14, 30, 90, 365)."
  }
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class of each service's PostgreSQL."
  default     = "db.t4g.medium"
  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "db_multi_az" {
  type        = bool
  description = "Run each database with a Multi-AZ standby."
  default     = true
}

variable "db_deletion_protection" {
  type        = bool
  description = "Protect the databases (and the load balancer) from deletion."
  default     = true
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days of automated backups of each database."
  default     = 14
  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "database_url_options" {
  type        = string
  description = "Query string of the *_DATABASE_URL secrets. TLS is enforced by the server (rds.force_ssl); no-verify encrypts without checking the RDS CA, which Node does not trust by default. Use sslmode=verify-full once the image carries the RDS CA bundle (NODE_EXTRA_CA_CERTS)."
  default     = "sslmode=no-verify"
  validation {
    condition     = can(regex("^sslmode=(no-verify|require|verify-ca|verify-full)(&[A-Za-z0-9_]+=[A-Za-z0-9_./-]+)*$", var.database_url_options))
    error_message = "database_url_options must start with an sslmode that uses TLS (no-verify, require, verify-ca or verify-full)."
  }
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type."
  default     = "cache.t4g.small"
  validation {
    condition     = startswith(var.redis_node_type, "cache.")
    error_message = "redis_node_type must be an ElastiCache node type such as cache.t4g.small."
  }
}

variable "redis_replicas" {
  type        = number
  description = "Redis replicas besides the primary (1 or more enables Multi-AZ failover)."
  default     = 1
  validation {
    condition     = var.redis_replicas >= 0 && var.redis_replicas <= 5
    error_message = "redis_replicas must be between 0 and 5."
  }
}

variable "mq_instance_type" {
  type        = string
  description = "Amazon MQ broker instance type."
  default     = "mq.m5.large"
  validation {
    condition     = startswith(var.mq_instance_type, "mq.")
    error_message = "mq_instance_type must be an Amazon MQ instance type such as mq.m5.large."
  }
}

variable "mq_deployment_mode" {
  type        = string
  description = "SINGLE_INSTANCE or CLUSTER_MULTI_AZ."
  default     = "CLUSTER_MULTI_AZ"
  validation {
    condition     = contains(["SINGLE_INSTANCE", "CLUSTER_MULTI_AZ"], var.mq_deployment_mode)
    error_message = "mq_deployment_mode must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ."
  }
}

variable "alert_emails" {
  type        = list(string)
  description = "Addresses that receive alarm notifications."
  default     = []
  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be e-mail addresses."
  }
}

variable "secrets_recovery_window_days" {
  type        = number
  description = "Days a deleted secret stays restorable (0 = delete at once, for throw-away environments)."
  default     = 7
  validation {
    condition     = var.secrets_recovery_window_days == 0 || (var.secrets_recovery_window_days >= 7 && var.secrets_recovery_window_days <= 30)
    error_message = "secrets_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "service_discovery_namespace" {
  type        = string
  description = "Cloud Map namespace of ECS Service Connect: each service is reachable inside the VPC as <service>.<namespace> (e.g. inventory.commerce.internal)."
  default     = "commerce.internal"
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.service_discovery_namespace))
    error_message = "service_discovery_namespace must be a dotted DNS name such as commerce.internal."
  }
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec (and SSM port forwarding) into the tasks: the operator path to the commerce CLI, /console and /admin (docs/deployment.md). Every session is logged by CloudTrail."
  default     = true
}

variable "route53_zone_id" {
  type        = string
  description = "Hosted zone of api_domain_name: with both set, a PRIMARY failover alias record points at this region's ALB. null leaves DNS to you."
  default     = null
  validation {
    condition     = var.route53_zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.route53_zone_id))
    error_message = "route53_zone_id must be a Route 53 hosted zone id (Z...)."
  }
}

variable "primary_region" {
  type        = string
  description = "Region of the primary deployment (examples/aws), where the databases this region replicates live."
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.primary_region))
    error_message = "primary_region must be an AWS region name such as eu-west-1."
  }
}

variable "primary_environment_prefix" {
  type        = string
  description = "Secret name prefix of the primary (its name/environment, e.g. commerce/production): the JWT secret and database passwords replicated here under those names."
  validation {
    condition     = can(regex("^[A-Za-z0-9_+=.@/-]+$", var.primary_environment_prefix))
    error_message = "primary_environment_prefix must be a Secrets Manager name prefix such as commerce/production."
  }
}

variable "primary_database_arns" {
  type        = map(string)
  description = "ARN of each service's primary PostgreSQL (examples/aws output database_arns): order, inventory, payment."
  validation {
    condition     = length(setsubtract(["order", "inventory", "payment"], keys(var.primary_database_arns))) == 0 && alltrue([for a in values(var.primary_database_arns) : can(regex("^arn:aws[a-z-]*:rds:", a))])
    error_message = "primary_database_arns must map order, inventory and payment to RDS instance ARNs."
  }
}

variable "db_kms_key_arn" {
  type        = string
  description = "KMS key in this region that encrypts the read replicas (a cross-region encrypted replica needs one here)."
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", var.db_kms_key_arn))
    error_message = "db_kms_key_arn must be a KMS key or alias ARN in the standby region."
  }
}

variable "failover" {
  type        = bool
  description = "false: warm standby (read replicas, services at zero tasks). true: this region takes over: the replicas are promoted (replicate_source_db removed) and the services run at service_sizes. See the runbook in docs/multi-region.md."
  default     = false
}
