output "api_url" {
  description = "Base URL of this region's API (the shared api_domain_name answers here after failover)."
  value       = "https://${module.alb.dns_name}"
}

output "ecs_cluster_name" {
  description = "ECS cluster of the standby region (deploy/release.sh CLUSTER, with SKIP_MIGRATIONS=1 while the databases are replicas)."
  value       = aws_ecs_cluster.this.name
}

output "ecs_service_names" {
  description = "ECS service per platform process (zero tasks until failover)."
  value       = { for key, m in module.service : key => m.service_name }
}

output "database_identifiers" {
  description = "Identifier of each service's read replica: aws rds promote-read-replica --db-instance-identifier <id> at failover."
  value       = { for s, m in module.database : s => m.identifier }
}

output "replica_sources" {
  description = "Source ARN of each read replica (null once promoted)."
  value       = { for s, m in module.database : s => m.replica_of }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm of this region notifies (replica lag included)."
  value       = module.alarms.sns_topic_arn
}
