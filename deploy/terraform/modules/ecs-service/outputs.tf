output "service_name" {
  description = "Name of the ECS service (CloudWatch dimension ServiceName)."
  value       = aws_ecs_service.this.name
}

output "security_group_id" {
  description = "Security group of the tasks; dependencies admit this group by id."
  value       = aws_security_group.service.id
}

output "task_role_arn" {
  description = "Role the application runs as."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "Role ECS uses to pull the image, write logs and resolve secrets."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the service."
  value       = aws_cloudwatch_log_group.this.name
}

output "container_name" {
  description = "Name of the container in the task definition (for ECS Exec and run-task overrides)."
  value       = local.container_name
}

output "task_definition_arn" {
  description = "ARN of the task definition revision the service runs (one-off tasks such as migrations run it too)."
  value       = aws_ecs_task_definition.this.arn
}
