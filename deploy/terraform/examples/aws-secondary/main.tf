# The warm standby region (docs/multi-region.md): the same modules as examples/aws, with
#  - a cross-region read replica of each service's PostgreSQL (promoted at failover: var.failover = true);
#  - its own Amazon MQ broker and ElastiCache Redis (messages and cache are not replicated; the outbox is);
#  - the image from ECR replication, the JWT secret and database passwords from Secrets Manager replication;
#  - ECS services at zero tasks until failover, then at service_sizes;
#  - a SECONDARY Route 53 failover record, answered while the primary's ALB has no healthy target.

locals {
  prefix   = "${var.name}-${var.environment}-standby"
  services = ["order", "inventory", "payment"]
  ports    = { order = 3000, inventory = 3001, payment = 3002 }

  mq_vhost         = "/"
  saga_queues      = [for i in range(var.order_partitions) : "order.saga.p${i}"]
  consumer_queues  = { inventory = ["inventory.order_events"], payment = ["payment.order_events"], order-worker = local.saga_queues }
  dead_letter_list = [for q in concat(local.saga_queues, ["inventory.order_events", "payment.order_events"]) : "${q}.dlq"]

  ecs_services = {
    order        = { service = "order", load_balanced = true }
    order-worker = { service = "order", load_balanced = false }
    inventory    = { service = "inventory", load_balanced = true }
    payment      = { service = "payment", load_balanced = true }
  }
  # Standby: every service at zero tasks (the replicas are read-only; nothing may write before promotion).
  sizes = { for k, s in var.service_sizes : k => var.failover ? s : merge(s, { min_capacity = 0, desired_count = 0 }) }

  discovery_names = { for s in local.services : s => "${s}.${var.service_discovery_namespace}" }
  service_urls    = { for s in local.services : s => "http://${local.discovery_names[s]}:${local.ports[s]}" }
  peer_environment = {
    INVENTORY_URL = local.service_urls.inventory
    PAYMENT_URL   = local.service_urls.payment
  }
  common_environment = {
    HOST               = "0.0.0.0"
    ORDER_PORT         = tostring(local.ports.order)
    INVENTORY_PORT     = tostring(local.ports.inventory)
    PAYMENT_PORT       = tostring(local.ports.payment)
    ORDER_PARTITIONS   = tostring(var.order_partitions)
    SAGA_TIMEOUT_MS    = tostring(var.saga_timeout_ms)
    RESERVATION_TTL_MS = tostring(var.reservation_ttl_ms)
    RATE_LIMIT         = var.rate_limit
    LOG_LEVEL          = var.log_level
    DB_POOL_SIZE       = tostring(var.db_pool_size)
  }

  # Replicated from the primary under the primary's names: one JWT secret for both regions (tokens stay valid), and
  # the database passwords the replicas inherited.
  replicated = toset(concat(["jwt-secret"], [for s in local.services : "${s}-db-password"]))
  service_secrets = {
    for key, svc in local.ecs_services : key => {
      "${upper(svc.service)}_DATABASE_URL" = module.connection_secrets.arns["${svc.service}-database-url"]
      AMQP_URL                             = module.connection_secrets.arns["amqp-url"]
      REDIS_URL                            = module.connection_secrets.arns["redis-url"]
      JWT_SECRET                           = data.aws_secretsmanager_secret.replicated["jwt-secret"].arn
    }
  }
  database_urls = {
    for s in local.services : "${s}-database-url" => format(
      "postgresql://%s:%s@%s:%d/%s?%s",
      module.database[s].username,
      data.aws_secretsmanager_secret_version.replicated["${s}-db-password"].secret_string,
      module.database[s].address,
      module.database[s].port,
      "commerce_${s}",
      var.database_url_options,
    )
  }
  amqp_url  = replace(module.mq.amqps_endpoint, "amqps://", "amqps://commerce:${module.credentials.values["mq-password"]}@")
  redis_url = "rediss://:${module.credentials.values["redis-auth-token"]}@${module.redis.primary_endpoint}:${module.redis.port}"
}

data "aws_caller_identity" "current" {}

data "aws_secretsmanager_secret" "replicated" {
  for_each = local.replicated
  name     = "${var.primary_environment_prefix}/${each.key}"
}

data "aws_secretsmanager_secret_version" "replicated" {
  for_each  = local.replicated
  secret_id = data.aws_secretsmanager_secret.replicated[each.key].id
}

module "network" {
  source             = "../../modules/network"
  name               = local.prefix
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
}

# This region's own broker and cache credentials (nothing to share with the primary's).
module "credentials" {
  source      = "../../modules/secrets"
  name_prefix = "${var.name}/${var.environment}/standby"
  generated = {
    "mq-password"      = { length = 40 }
    "redis-auth-token" = { length = 64 }
  }
  recovery_window_in_days = var.secrets_recovery_window_days
}

module "connection_secrets" {
  source                  = "../../modules/secrets"
  name_prefix             = "${var.name}/${var.environment}/standby"
  provided_names          = toset(concat([for s in local.services : "${s}-database-url"], ["amqp-url", "redis-url"]))
  provided_values         = merge(local.database_urls, { "amqp-url" = local.amqp_url, "redis-url" = local.redis_url })
  recovery_window_in_days = var.secrets_recovery_window_days
}

module "alb" {
  source              = "../../modules/alb"
  name                = local.prefix
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  certificate_arn     = var.certificate_arn
  ingress_cidr_blocks = var.alb_ingress_cidr_blocks
  deletion_protection = var.db_deletion_protection
  services = {
    order     = { port = local.ports.order, priority = 10, path_patterns = ["/orders", "/orders/*"] }
    inventory = { port = local.ports.inventory, priority = 20, path_patterns = ["/products", "/products/*"] }
    payment   = { port = local.ports.payment, priority = 30, path_patterns = ["/customers/*", "/payments/*"] }
  }
}

resource "aws_service_discovery_http_namespace" "this" {
  name        = var.service_discovery_namespace
  description = "${local.prefix}: ECS Service Connect names of the platform's services"
}

resource "aws_ecs_cluster" "this" {
  name = local.prefix
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  service_connect_defaults {
    namespace = aws_service_discovery_http_namespace.this.arn
  }
}

resource "aws_security_group" "platform_tasks" {
  name_prefix = "${local.prefix}-tasks-"
  description = "${local.prefix}: every platform task (peers admit it on their service port)"
  vpc_id      = module.network.vpc_id
  tags        = { Name = "${local.prefix}-tasks" }
  lifecycle {
    create_before_destroy = true
  }
}

module "service" {
  source   = "../../modules/ecs-service"
  for_each = local.ecs_services

  name                 = "${local.prefix}-${each.key}"
  cluster_arn          = aws_ecs_cluster.this.arn
  cluster_name         = aws_ecs_cluster.this.name
  image                = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${var.aws_region}.amazonaws.com/${var.name}-platform:${var.image_tag}"
  command              = [each.value.service]
  container_port       = local.ports[each.value.service]
  health_check_service = each.value.service
  cpu                  = local.sizes[each.key].cpu
  memory               = local.sizes[each.key].memory
  cpu_architecture     = var.cpu_architecture
  desired_count        = local.sizes[each.key].desired_count
  min_capacity         = local.sizes[each.key].min_capacity
  max_capacity         = local.sizes[each.key].max_capacity
  environment          = each.value.service == "order" ? merge(local.common_environment, local.peer_environment) : local.common_environment
  secrets              = local.service_secrets[each.key]
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  log_retention_days   = var.log_retention_days

  enable_execute_command        = var.enable_execute_command
  additional_security_group_ids = [aws_security_group.platform_tasks.id]
  peer_security_group_ids       = [aws_security_group.platform_tasks.id]
  service_connect = {
    namespace_arn  = aws_service_discovery_http_namespace.this.arn
    discovery_name = each.value.load_balanced ? each.value.service : null
    dns_name       = each.value.load_balanced ? local.discovery_names[each.value.service] : null
  }
  load_balancer = each.value.load_balanced ? {
    target_group_arn  = module.alb.target_group_arns[each.value.service]
    security_group_id = module.alb.security_group_id
  } : null
  queue_depth_scaling = contains(keys(local.consumer_queues), each.key) ? {
    namespace      = "AWS/AmazonMQ"
    metric_name    = "MessageReadyCount"
    dimension_sets = [for q in local.consumer_queues[each.key] : { Broker = module.mq.broker_name, VirtualHost = local.mq_vhost, Queue = q }]
    target_value   = var.queue_backlog_target
  } : null
}

# A cross-region read replica of each primary database; failover = true removes replicate_source_db, which promotes
# it to a standalone, writable instance (the runbook promotes it first with the AWS CLI when the primary is gone).
module "database" {
  source   = "../../modules/rds"
  for_each = toset(local.services)

  identifier                = "${local.prefix}-${each.key}"
  database_name             = "commerce_${each.key}"
  replicate_source_db       = var.failover ? null : var.primary_database_arns[each.key]
  password                  = var.failover ? data.aws_secretsmanager_secret_version.replicated["${each.key}-db-password"].secret_string : null
  kms_key_id                = var.db_kms_key_arn
  instance_class            = var.db_instance_class
  multi_az                  = var.db_multi_az
  deletion_protection       = var.db_deletion_protection
  backup_retention_days     = var.db_backup_retention_days
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [for key, svc in local.ecs_services : module.service[key].security_group_id if svc.service == each.key]
}

module "mq" {
  source                    = "../../modules/mq"
  name                      = "${local.prefix}-broker"
  instance_type             = var.mq_instance_type
  deployment_mode           = var.mq_deployment_mode
  username                  = "commerce"
  password                  = module.credentials.values["mq-password"]
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [for key in keys(local.ecs_services) : module.service[key].security_group_id]
}

module "redis" {
  source                    = "../../modules/elasticache"
  name                      = "${local.prefix}-redis"
  auth_token                = module.credentials.values["redis-auth-token"]
  node_type                 = var.redis_node_type
  replicas                  = var.redis_replicas
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [for key in keys(local.ecs_services) : module.service[key].security_group_id]
}

module "alarms" {
  source                    = "../../modules/alarms"
  name_prefix               = local.prefix
  alert_emails              = var.alert_emails
  ecs_cluster_name          = aws_ecs_cluster.this.name
  ecs_service_names         = { for key in keys(local.ecs_services) : key => module.service[key].service_name }
  alb_arn_suffix            = module.alb.arn_suffix
  target_group_arn_suffixes = module.alb.target_group_arn_suffixes
  mq_broker_name            = module.mq.broker_name
  mq_virtual_host           = local.mq_vhost
  dead_letter_queues        = local.dead_letter_list
  outbox_services           = local.services
}

# Replica lag is the recovery point: alarm when a replica falls behind (docs/multi-region.md, RPO).
resource "aws_cloudwatch_metric_alarm" "replica_lag" {
  for_each            = var.failover ? toset([]) : toset(local.services)
  alarm_name          = "${local.prefix}-${each.key}-replica-lag"
  alarm_description   = "The ${each.key} read replica is more than 60 s behind its primary: a failover now would lose that much."
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  dimensions          = { DBInstanceIdentifier = module.database[each.key].identifier }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 60
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [module.alarms.sns_topic_arn]
  ok_actions          = [module.alarms.sns_topic_arn]
}

# Answered while the primary's PRIMARY record is unhealthy (its ALB has no healthy target).
resource "aws_route53_record" "api_secondary" {
  count          = var.route53_zone_id != null && var.api_domain_name != null ? 1 : 0
  zone_id        = var.route53_zone_id
  name           = var.api_domain_name
  type           = "A"
  set_identifier = "${local.prefix}-secondary"
  failover_routing_policy {
    type = "SECONDARY"
  }
  alias {
    name                   = module.alb.dns_name
    zone_id                = module.alb.zone_id
    evaluate_target_health = true
  }
}

check "regions" {
  assert {
    condition     = var.primary_region != var.aws_region && alltrue([for a in values(var.primary_database_arns) : strcontains(a, ":${var.primary_region}:")])
    error_message = "The standby region must differ from primary_region, and every primary_database_arns entry must be in primary_region."
  }
}
