variable "name" {
  type        = string
  description = "Broker name (CloudWatch dimension Broker)."
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,50}$", var.name))
    error_message = "name must be 1 to 50 letters, digits, _ or -."
  }
}

variable "engine_version" {
  type        = string
  description = "RabbitMQ engine version on Amazon MQ (3.13 brings quorum queues, which the platform's queues use)."
  default     = "3.13"
}

variable "instance_type" {
  type        = string
  description = "Broker instance type."
  default     = "mq.m5.large"
}

variable "deployment_mode" {
  type        = string
  description = "SINGLE_INSTANCE or CLUSTER_MULTI_AZ (three nodes across AZs)."
  default     = "CLUSTER_MULTI_AZ"
  validation {
    condition     = contains(["SINGLE_INSTANCE", "CLUSTER_MULTI_AZ"], var.deployment_mode)
    error_message = "deployment_mode must be SINGLE_INSTANCE or CLUSTER_MULTI_AZ."
  }
}

variable "username" {
  type        = string
  description = "Broker user the services connect as."
  default     = "commerce"
}

variable "password" {
  type        = string
  description = "Broker user password (12+ characters without , : =; from the secrets module)."
  sensitive   = true
  validation {
    condition     = length(var.password) >= 12 && !can(regex("[,:=]", var.password))
    error_message = "password must be at least 12 characters and contain no comma, colon or equals sign."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the broker."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets: one for SINGLE_INSTANCE, several AZs for CLUSTER_MULTI_AZ."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups admitted on AMQPS 5671 (the service tasks)."
}

variable "operator_security_group_ids" {
  type        = list(string)
  description = "Security groups admitted to the management console on 443 (operators, bastion); empty for none."
  default     = []
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
