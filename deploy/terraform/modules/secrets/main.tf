# Every credential lives in Secrets Manager; tasks receive them as ECS task secrets (resolved by the agent at
# start), never as plain environment values in the task definition.

resource "random_password" "generated" {
  for_each = var.generated
  length   = each.value.length
  special  = false # values are embedded in postgres://, amqps:// and rediss:// URLs
}

resource "aws_secretsmanager_secret" "generated" {
  for_each                = var.generated
  name                    = "${var.name_prefix}/${each.key}"
  kms_key_id              = var.kms_key_id
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
  # Replicated to the standby region (same name there): one JWT secret and one password per database for both.
  dynamic "replica" {
    for_each = toset(var.replica_regions)
    content {
      region = replica.value
    }
  }
}

resource "aws_secretsmanager_secret_version" "generated" {
  for_each      = var.generated
  secret_id     = aws_secretsmanager_secret.generated[each.key].id
  secret_string = random_password.generated[each.key].result
}

resource "aws_secretsmanager_secret" "provided" {
  for_each                = var.provided_names
  name                    = "${var.name_prefix}/${each.key}"
  kms_key_id              = var.kms_key_id
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "provided" {
  for_each      = var.provided_names
  secret_id     = aws_secretsmanager_secret.provided[each.key].id
  secret_string = var.provided_values[each.key]
}
