variable "name" {
  type        = string
  description = "Name of the ECS service, its task family, log group and security group (e.g. commerce-order)."
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,48}$", var.name))
    error_message = "name must be 1 to 48 letters, digits, _ or -."
  }
}

variable "cluster_arn" {
  type        = string
  description = "ARN of the ECS cluster."
}

variable "cluster_name" {
  type        = string
  description = "Name of the ECS cluster (autoscaling resource id and CloudWatch dimension)."
}

variable "image" {
  type        = string
  description = "Container image with tag or digest."
}

variable "command" {
  type        = list(string)
  description = "Arguments after the image's entrypoint: the service to run (order, inventory or payment)."
  validation {
    condition     = length(var.command) >= 1 && contains(["order", "inventory", "payment"], var.command[0])
    error_message = "command must start with order, inventory or payment."
  }
}

variable "container_port" {
  type        = number
  description = "Port the service listens on (its *_PORT setting); also used by the container health check."
}

variable "health_check_service" {
  type        = string
  description = "Service whose /health/ready the container health check probes (the name passed to deploy/healthcheck.mjs)."
}

variable "cpu" {
  type        = number
  description = "Task CPU units (256, 512, 1024, 2048, 4096)."
  default     = 512
  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be one of 256, 512, 1024, 2048, 4096."
  }
}

variable "memory" {
  type        = number
  description = "Task memory in MiB (must fit the CPU size per Fargate's table)."
  default     = 1024
  validation {
    condition     = var.memory >= 512 && var.memory <= 30720
    error_message = "memory must be between 512 and 30720 MiB."
  }
}

variable "cpu_architecture" {
  type        = string
  description = "X86_64 or ARM64 (the image must be built for it)."
  default     = "X86_64"
  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "environment" {
  type        = map(string)
  description = "Plain, non-secret settings (ports, partitions, timeouts, log level). Credentials go in secrets."
  default     = {}
  validation {
    condition     = length([for k in keys(var.environment) : k if can(regex("(SECRET|PASSWORD|TOKEN|_DATABASE_URL$|^AMQP_URL$|^REDIS_URL$)", k))]) == 0
    error_message = "Credentials and connection URLs must be passed in secrets, not environment."
  }
}

variable "secrets" {
  type        = map(string)
  description = "Environment variable name => Secrets Manager secret ARN (or SSM parameter ARN), injected by ECS at start."
  default     = {}
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key that encrypts the secrets, if any (the execution role may decrypt with it)."
  default     = null
}

variable "vpc_id" {
  type        = string
  description = "VPC of the tasks."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the tasks (no public address is assigned)."
}

variable "load_balancer" {
  type = object({
    target_group_arn  = string
    security_group_id = string
  })
  description = "Target group to register in and the ALB security group admitted to container_port; null for instances that only run workers."
  default     = null
}

variable "desired_count" {
  type        = number
  description = "Initial number of tasks (autoscaling moves it between min_capacity and max_capacity)."
  default     = 2
}

variable "min_capacity" {
  type        = number
  description = "Fewest tasks autoscaling keeps (0 only in a standby region, whose services wait at zero tasks)."
  default     = 2
  validation {
    condition     = var.min_capacity >= 0
    error_message = "min_capacity must not be negative."
  }
}

variable "max_capacity" {
  type        = number
  description = "Most tasks autoscaling starts."
  default     = 6
}

variable "cpu_target_percent" {
  type        = number
  description = "Average CPU utilisation that target tracking keeps the service at."
  default     = 60
  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "queue_depth_scaling" {
  type = object({
    namespace      = string
    metric_name    = string
    dimension_sets = list(map(string))
    statistic      = optional(string, "Average")
    target_value   = number
  })
  description = "Scale on the backlog of the queues this service consumes: the sum of metric_name over every dimension set (e.g. AWS/AmazonMQ MessageReadyCount per Broker/VirtualHost/Queue) is kept near target_value. null disables it."
  default     = null
}

variable "log_retention_days" {
  type        = number
  description = "Days the CloudWatch log group keeps the service's logs."
  default     = 30
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs supports (e.g. 7, 14, 30, 90, 365)."
  }
}

variable "stop_timeout_seconds" {
  type        = number
  description = "Seconds between SIGTERM and SIGKILL: time to finish in-flight requests and messages."
  default     = 30
  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 (Fargate's limit)."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the task may publish custom metrics to (outbox lag, dead letters)."
  default     = "CommercePlatform"
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow `aws ecs execute-command` into running tasks (for operators running `commerce` CLI verbs)."
  default     = false
}

variable "service_connect" {
  type = object({
    namespace_arn  = string
    discovery_name = optional(string)
    dns_name       = optional(string)
  })
  description = "ECS Service Connect: the Cloud Map namespace ARN; with discovery_name and dns_name (e.g. inventory, inventory.commerce.internal) the service is also published there. null disables it."
  default     = null
  validation {
    condition     = var.service_connect == null ? true : ((var.service_connect.discovery_name == null) == (var.service_connect.dns_name == null))
    error_message = "service_connect.discovery_name and service_connect.dns_name are given together or not at all."
  }
}

variable "peer_security_group_ids" {
  type        = list(string)
  description = "Security groups admitted on container_port besides the load balancer's: the callers that reach this service through Service Connect."
  default     = []
}

variable "additional_security_group_ids" {
  type        = list(string)
  description = "More security groups attached to the tasks (e.g. the group every platform task shares, which peers admit)."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
