variable "name_prefix" {
  type        = string
  description = "Prefix of the SNS topic and of every alarm name."
}

variable "alert_emails" {
  type        = list(string)
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription)."
  default     = []
}

variable "ecs_cluster_name" {
  type        = string
  description = "ECS cluster of the services."
}

variable "ecs_service_names" {
  type        = map(string)
  description = "ECS service name by platform service key (order, order-worker, inventory, payment)."
}

variable "cpu_threshold_percent" {
  type        = number
  description = "Average CPU above which a service alarms (autoscaling should have caught it before)."
  default     = 85
}

variable "memory_threshold_percent" {
  type        = number
  description = "Average memory above which a service alarms."
  default     = 85
}

variable "alb_arn_suffix" {
  type        = string
  description = "ARN suffix of the load balancer."
}

variable "target_group_arn_suffixes" {
  type        = map(string)
  description = "Target group ARN suffix by service."
}

variable "http_5xx_threshold" {
  type        = number
  description = "5xx answers per minute (from the load balancer itself, or from a service's targets) that raise an alarm."
  default     = 10
}

variable "mq_broker_name" {
  type        = string
  description = "Amazon MQ broker name."
}

variable "mq_virtual_host" {
  type        = string
  description = "RabbitMQ virtual host of the platform's queues."
  default     = "/"
}

variable "dead_letter_queues" {
  type        = list(string)
  description = "Dead-letter queues: any message in one of them is an alarm (someone must look, then replay or discard)."
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the platform's custom metrics (the services' CLOUDWATCH_METRICS_NAMESPACE)."
  default     = "CommercePlatform"
}

variable "outbox_lag_metric_name" {
  type        = string
  description = "Custom metric: age in seconds of the oldest unpublished outbox row, with dimension Service; the services publish it as CloudWatch EMF log lines when CLOUDWATCH_EMF_INTERVAL_MS is set."
  default     = "OutboxLagSeconds"
}

variable "outbox_lag_threshold_seconds" {
  type        = number
  description = "Outbox lag above which a service alarms (the relay is stuck or the broker unreachable)."
  default     = 60
}

variable "outbox_services" {
  type        = list(string)
  description = "Services whose outbox lag is watched (value of the Service dimension)."
  default     = ["order", "inventory", "payment"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
