variable "name" {
  type        = string
  description = "Name prefix for every resource of the network."
}

variable "cidr_block" {
  type        = string
  description = "CIDR block of the VPC; public and private subnets are carved out of it (/20 each for a /16)."
  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be a valid IPv4 CIDR block, e.g. 10.40.0.0/16."
  }
}

variable "az_count" {
  type        = number
  description = "Number of availability zones to spread subnets over (at least 2 for Multi-AZ RDS, ElastiCache and the ALB)."
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be between 2 and 4."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all private subnets (cheaper) instead of one per AZ (survives the loss of an AZ)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
