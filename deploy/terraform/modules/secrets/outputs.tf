output "arns" {
  description = "ARN of every secret, by name (for ECS task secrets and IAM policies)."
  value = merge(
    { for k, s in aws_secretsmanager_secret.generated : k => s.arn },
    { for k, s in aws_secretsmanager_secret.provided : k => s.arn },
  )
}

output "values" {
  description = "Generated values, by name, for the resources that must be created with them (database, broker, cache)."
  value       = { for k, p in random_password.generated : k => p.result }
  sensitive   = true
}
