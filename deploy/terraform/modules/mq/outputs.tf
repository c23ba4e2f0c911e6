output "amqps_endpoint" {
  description = "AMQPS endpoint, amqps://<host>:5671 (no credentials)."
  value       = aws_mq_broker.this.instances[0].endpoints[0]
}

output "broker_name" {
  description = "Broker name (CloudWatch dimension Broker)."
  value       = aws_mq_broker.this.broker_name
}

output "console_url" {
  description = "Management console URL (reachable from operator_security_group_ids only)."
  value       = aws_mq_broker.this.instances[0].console_url
}

output "security_group_id" {
  description = "Security group of the broker."
  value       = aws_security_group.broker.id
}
