output "address" {
  description = "Host name of the instance."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port of the instance."
  value       = aws_db_instance.this.port
}

output "database_name" {
  description = "Name of the service's database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.this.username
}

output "identifier" {
  description = "Instance identifier (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.this.identifier
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}

output "arn" {
  description = "ARN of the instance (the standby region's replica names it as replicate_source_db)."
  value       = aws_db_instance.this.arn
}

output "replica_of" {
  description = "ARN of the source instance while this is a read replica; null for a primary (or once promoted)."
  value       = aws_db_instance.this.replicate_source_db == "" ? null : aws_db_instance.this.replicate_source_db
}
