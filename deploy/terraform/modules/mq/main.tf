# Amazon MQ for RabbitMQ: management and the consistent-hash exchange plugins come enabled on its brokers.
resource "aws_security_group" "broker" {
  name_prefix = "${var.name}-"
  description = "${var.name}: AMQPS from the service tasks only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "amqps" {
  count                        = length(var.client_security_group_ids)
  security_group_id            = aws_security_group.broker.id
  description                  = "AMQPS from a service"
  referenced_security_group_id = var.client_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 5671
  to_port                      = 5671
}

resource "aws_vpc_security_group_ingress_rule" "console" {
  count                        = length(var.operator_security_group_ids)
  security_group_id            = aws_security_group.broker.id
  description                  = "Management console for operators"
  referenced_security_group_id = var.operator_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
}

resource "aws_mq_broker" "this" {
  broker_name                = var.name
  engine_type                = "RabbitMQ"
  engine_version             = var.engine_version
  host_instance_type         = var.instance_type
  deployment_mode            = var.deployment_mode
  publicly_accessible        = false
  subnet_ids                 = var.deployment_mode == "SINGLE_INSTANCE" ? [var.subnet_ids[0]] : var.subnet_ids
  security_groups            = [aws_security_group.broker.id]
  auto_minor_version_upgrade = true
  apply_immediately          = false
  user {
    username = var.username
    password = var.password
  }
  logs {
    general = true
  }
  maintenance_window_start_time {
    day_of_week = "SUNDAY"
    time_of_day = "04:00"
    time_zone   = "UTC"
  }
  tags = var.tags
}
