variable "name" {
  type        = string
  description = "Name of the load balancer (at most 32 characters; target groups get a shortened form)."
  validation {
    condition     = length(var.name) <= 26 && can(regex("^[A-Za-z0-9-]+$", var.name))
    error_message = "name must be at most 26 characters of letters, digits and hyphens."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the load balancer and its target groups."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets in at least two AZs."
  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two availability zones."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for the HTTPS listener."
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ssl_policy" {
  type        = string
  description = "TLS policy of the HTTPS listener."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "ingress_cidr_blocks" {
  type        = list(string)
  description = "Client address ranges admitted on ports 80 and 443."
  default     = ["0.0.0.0/0"]
}

variable "services" {
  type = map(object({
    port              = number
    priority          = number
    path_patterns     = optional(list(string), [])
    host_headers      = optional(list(string), [])
    health_check_path = optional(string, "/health/ready")
  }))
  description = "One target group and listener rule per service: traffic matching its host headers or path patterns goes to its tasks."
  validation {
    condition     = alltrue([for s in values(var.services) : length(s.path_patterns) + length(s.host_headers) > 0])
    error_message = "Every service needs at least one path pattern or host header to route on."
  }
  validation {
    condition     = length(distinct([for s in values(var.services) : s.priority])) == length(var.services)
    error_message = "Listener rule priorities must be unique."
  }
}

variable "idle_timeout" {
  type        = number
  description = "Seconds a connection may stay idle."
  default     = 60
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the load balancer from deletion."
  default     = true
}

variable "access_logs_bucket" {
  type        = string
  description = "S3 bucket for access logs; null disables them."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
