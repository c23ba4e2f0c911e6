output "api_url" {
  description = "Base URL of the API (order, inventory and payment routes behind one HTTPS host)."
  value       = var.api_domain_name != null ? "https://${var.api_domain_name}" : "https://${module.alb.dns_name}"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer: point api_domain_name at it (CNAME or Route 53 alias)."
  value       = module.alb.dns_name
}

output "alb_zone_id" {
  description = "Route 53 hosted zone of the load balancer, for an alias record."
  value       = module.alb.zone_id
}

output "ecr_repository_url" {
  description = "Push the image here, tagged with image_tag."
  value       = module.ecr.repository_url
}

output "ecs_cluster_name" {
  description = "ECS cluster running the services."
  value       = aws_ecs_cluster.this.name
}

output "ecs_service_names" {
  description = "ECS service per platform process."
  value       = { for key, m in module.service : key => m.service_name }
}

output "log_groups" {
  description = "CloudWatch log group per ECS service."
  value       = { for key, m in module.service : key => m.log_group_name }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = module.alarms.sns_topic_arn
}

output "secret_arns" {
  description = "Secrets Manager ARNs of every credential and connection URL (values are never output)."
  value       = merge(module.credentials.arns, module.connection_secrets.arns)
}

output "mq_console_url" {
  description = "RabbitMQ management console (reachable from inside the VPC only)."
  value       = module.mq.console_url
}

output "database_endpoints" {
  description = "Host name of each service's PostgreSQL."
  value       = { for s, m in module.database : s => m.address }
}

output "service_discovery" {
  description = "Service Connect name and URL of each service inside the VPC (the order service's INVENTORY_URL and PAYMENT_URL)."
  value       = { namespace = aws_service_discovery_http_namespace.this.name, urls = local.service_urls }
}

output "ecs_services" {
  description = "Per ECS service: its name, container name and task definition, for ECS Exec, one-off tasks and the release script."
  value = { for key, m in module.service : key => {
    service         = m.service_name
    container       = m.container_name
    task_definition = m.task_definition_arn
  } }
}

output "task_network" {
  description = "Subnets and security groups for one-off tasks (migrations, operator tasks): aws ecs run-task --network-configuration."
  value = {
    subnets         = module.network.private_subnet_ids
    security_groups = { for key, m in module.service : key => [m.security_group_id, aws_security_group.platform_tasks.id] }
  }
}

output "database_arns" {
  description = "ARN of each service's PostgreSQL: the standby region's primary_database_arns (its read replicas' sources)."
  value       = { for s, m in module.database : s => m.arn }
}
