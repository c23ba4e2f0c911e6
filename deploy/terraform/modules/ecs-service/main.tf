data "aws_region" "current" {}

locals {
  container_name = var.name
  port_name      = "http"
  has_lb         = var.load_balancer != null
  # A list (not a map) so that ARNs unknown until apply can still be iterated over.
  secret_arns = distinct([for arn in values(var.secrets) : arn])
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# ---- IAM: the execution role pulls the image, writes logs and reads exactly this service's secrets ----

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix        = "${substr(var.name, 0, 32)}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    resources = length(local.secret_arns) > 0 ? local.secret_arns : ["arn:aws:secretsmanager:*:*:secret:none-*"]
  }
  dynamic "statement" {
    for_each = var.secrets_kms_key_arn == null ? [] : [var.secrets_kms_key_arn]
    content {
      sid       = "DecryptSecrets"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "read_secrets" {
  name   = "read-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_secrets.json
}

# The task role is what the application itself may do: publish its custom metrics, and (optionally) accept
# ECS Exec sessions.
resource "aws_iam_role" "task" {
  name_prefix        = "${substr(var.name, 0, 32)}-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "PublishCustomMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.metrics_namespace]
    }
  }
  dynamic "statement" {
    for_each = var.enable_execute_command ? [1] : []
    content {
      sid = "ExecuteCommand"
      actions = [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "application"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# ---- network: admit the load balancer on the service port, nothing else ----

resource "aws_security_group" "service" {
  name_prefix = "${var.name}-"
  description = "${var.name} tasks: the service port from the load balancer only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = var.name })
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  count                        = local.has_lb ? 1 : 0
  security_group_id            = aws_security_group.service.id
  description                  = "Service port from the load balancer"
  referenced_security_group_id = var.load_balancer.security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

# Outbound: the database, broker and cache admit this group by id; AWS APIs (ECR, Secrets Manager, logs,
# CloudWatch) are reached over HTTPS through the NAT gateways.
# Service Connect: callers inside the VPC (the order service's console proxy) reach the service port from the
# security groups named in peer_security_group_ids.
resource "aws_vpc_security_group_ingress_rule" "from_peers" {
  count                        = length(var.peer_security_group_ids)
  security_group_id            = aws_security_group.service.id
  description                  = "Service port from peer services (Service Connect)"
  referenced_security_group_id = var.peer_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.service.id
  description       = "Outbound to dependencies and AWS APIs"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

# ---- task definition and service ----

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }
  container_definitions = jsonencode([
    {
      name  = local.container_name
      image = var.image
      # The entry point is named here (the image's own, minus the launcher) so that a one-off task of this very
      # task definition can run another script of the image with a command override, e.g. the database migrations
      # before a deployment: `--overrides '{"containerOverrides":[{"name":…,"command":["deploy/migrate.mjs","order"]}]}'`.
      entryPoint             = ["/usr/bin/tini", "--", "node"]
      command                = concat(["apps/platform/dist/main.js"], var.command)
      essential              = true
      readonlyRootFilesystem = false
      stopTimeout            = var.stop_timeout_seconds
      portMappings           = [{ name = local.port_name, containerPort = var.container_port, protocol = "tcp", appProtocol = "http" }]
      environment            = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
      secrets                = [for k in sort(keys(var.secrets)) : { name = k, valueFrom = var.secrets[k] }]
      healthCheck = {
        command     = ["CMD", "node", "/app/deploy/healthcheck.mjs", var.health_check_service]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 60
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "app"
        }
      }
    },
  ])
  tags = var.tags
}

resource "aws_ecs_service" "this" {
  name                               = var.name
  cluster                            = var.cluster_arn
  task_definition                    = aws_ecs_task_definition.this.arn
  desired_count                      = var.desired_count
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  enable_execute_command             = var.enable_execute_command
  propagate_tags                     = "SERVICE"
  health_check_grace_period_seconds  = local.has_lb ? 60 : null
  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = concat([aws_security_group.service.id], var.additional_security_group_ids)
    assign_public_ip = false
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  # ECS Service Connect (backed by the Cloud Map namespace): every service is a client of the namespace; one with
  # a discovery_name is also reachable at http://<dns_name>:<container_port> from the others.
  dynamic "service_connect_configuration" {
    for_each = var.service_connect == null ? [] : [var.service_connect]
    content {
      enabled   = true
      namespace = service_connect_configuration.value.namespace_arn
      dynamic "service" {
        for_each = service_connect_configuration.value.discovery_name == null ? [] : [service_connect_configuration.value]
        content {
          port_name      = local.port_name
          discovery_name = service.value.discovery_name
          client_alias {
            port     = var.container_port
            dns_name = service.value.dns_name
          }
        }
      }
      log_configuration {
        log_driver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = "service-connect"
        }
      }
    }
  }
  dynamic "load_balancer" {
    for_each = local.has_lb ? [var.load_balancer] : []
    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = local.container_name
      container_port   = var.container_port
    }
  }
  lifecycle {
    ignore_changes = [desired_count] # owned by autoscaling after creation
  }
  tags = var.tags
}

# ---- autoscaling: CPU, and the backlog of the queues the service consumes ----

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${var.cluster_name}/${aws_ecs_service.this.name}"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "queue_depth" {
  count              = var.queue_depth_scaling == null ? 0 : 1
  name               = "${var.name}-queue-depth"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id
  target_tracking_scaling_policy_configuration {
    target_value       = var.queue_depth_scaling.target_value
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    customized_metric_specification {
      # One metric per queue, summed by a metric-math expression: the service's whole backlog.
      dynamic "metrics" {
        for_each = var.queue_depth_scaling.dimension_sets
        content {
          id          = "q${metrics.key}"
          return_data = false
          metric_stat {
            stat = var.queue_depth_scaling.statistic
            metric {
              namespace   = var.queue_depth_scaling.namespace
              metric_name = var.queue_depth_scaling.metric_name
              dynamic "dimensions" {
                for_each = metrics.value
                content {
                  name  = dimensions.key
                  value = dimensions.value
                }
              }
            }
          }
        }
      }
      metrics {
        id          = "backlog"
        label       = "${var.name} queue backlog"
        expression  = "SUM([${join(",", [for i in range(length(var.queue_depth_scaling.dimension_sets)) : "q${i}"])}])"
        return_data = true
      }
    }
  }
}
