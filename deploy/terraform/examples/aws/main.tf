# The whole platform on AWS: VPC, ALB (HTTPS), ECS Fargate services from one image, a PostgreSQL per service,
# Amazon MQ for RabbitMQ, ElastiCache Redis, secrets in Secrets Manager, alarms to SNS.

locals {
  prefix   = "${var.name}-${var.environment}"
  services = ["order", "inventory", "payment"]
  ports    = { order = 3000, inventory = 3001, payment = 3002 }

  # Amazon MQ's default virtual host; the queues the services declare (docs/architecture.md, Messaging).
  mq_vhost         = "/"
  saga_queues      = [for i in range(var.order_partitions) : "order.saga.p${i}"]
  consumer_queues  = { inventory = ["inventory.order_events"], payment = ["payment.order_events"], order-worker = local.saga_queues }
  dead_letter_list = [for q in concat(local.saga_queues, ["inventory.order_events", "payment.order_events"]) : "${q}.dlq"]

  # ECS services: the order API, more order instances for saga-worker capacity (same image and command, no load
  # balancer), inventory and payment.
  ecs_services = {
    order        = { service = "order", load_balanced = true }
    order-worker = { service = "order", load_balanced = false }
    inventory    = { service = "inventory", load_balanced = true }
    payment      = { service = "payment", load_balanced = true }
  }

  # Service discovery (ECS Service Connect over a Cloud Map namespace): each service is published as
  # <service>.<namespace>, e.g. inventory.commerce.internal, on its own port.
  discovery_names = { for s in local.services : s => "${s}.${var.service_discovery_namespace}" }
  service_urls    = { for s in local.services : s => "http://${local.discovery_names[s]}:${local.ports[s]}" }
  # The order service's console proxy reaches inventory and payment through Service Connect (not secrets: URLs
  # inside the VPC without credentials).
  peer_environment = {
    INVENTORY_URL = local.service_urls.inventory
    PAYMENT_URL   = local.service_urls.payment
  }

  # Plain settings (SPEC §3). Everything secret is in local.service_secrets.
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
    # Outbox lag and dead-letter depth as CloudWatch EMF log lines: the metrics the alarms module reads.
    CLOUDWATCH_EMF_INTERVAL_MS   = "60000"
    CLOUDWATCH_METRICS_NAMESPACE = local.metrics_namespace
  }

  # The CloudWatch namespace the services publish to (EMF) and the alarms read.
  metrics_namespace = "CommercePlatform"

  # Each ECS service receives its own database URL and the shared broker, cache and JWT secrets.
  service_secrets = {
    for key, svc in local.ecs_services : key => {
      "${upper(svc.service)}_DATABASE_URL" = module.connection_secrets.arns["${svc.service}-database-url"]
      AMQP_URL                             = module.connection_secrets.arns["amqp-url"]
      REDIS_URL                            = module.connection_secrets.arns["redis-url"]
      JWT_SECRET                           = module.credentials.arns["jwt-secret"]
    }
  }

  database_urls = {
    for s in local.services : "${s}-database-url" => format(
      "postgresql://%s:%s@%s:%d/%s?%s",
      module.database[s].username,
      module.credentials.values["${s}-db-password"],
      module.database[s].address,
      module.database[s].port,
      module.database[s].database_name,
      var.database_url_options,
    )
  }
  amqp_url  = replace(module.mq.amqps_endpoint, "amqps://", "amqps://commerce:${module.credentials.values["mq-password"]}@")
  redis_url = "rediss://:${module.credentials.values["redis-auth-token"]}@${module.redis.primary_endpoint}:${module.redis.port}"
}

module "network" {
  source             = "../../modules/network"
  name               = local.prefix
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
}

module "ecr" {
  source              = "../../modules/ecr"
  name                = "${var.name}-platform"
  replication_regions = var.standby_region == null ? [] : [var.standby_region]
}

# Generated credentials: JWT signing secret, one password per database, broker password, Redis AUTH token.
module "credentials" {
  source      = "../../modules/secrets"
  name_prefix = "${var.name}/${var.environment}"
  generated = merge(
    { for s in local.services : "${s}-db-password" => { length = 40 } },
    {
      "jwt-secret"       = { length = 64 }
      "mq-password"      = { length = 40 }
      "redis-auth-token" = { length = 64 }
    },
  )
  recovery_window_in_days = var.secrets_recovery_window_days
  replica_regions         = var.standby_region == null ? [] : [var.standby_region]
}

# Connection URLs, composed from the endpoints and the generated credentials: what the services read.
module "connection_secrets" {
  source                  = "../../modules/secrets"
  name_prefix             = "${var.name}/${var.environment}"
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
  # Path routing on one host name; each service's health, metrics and docs stay private to the VPC.
  services = {
    order     = { port = local.ports.order, priority = 10, path_patterns = ["/orders", "/orders/*"] }
    inventory = { port = local.ports.inventory, priority = 20, path_patterns = ["/products", "/products/*"] }
    payment   = { port = local.ports.payment, priority = 30, path_patterns = ["/customers/*", "/payments/*"] }
  }
}

# The Cloud Map namespace behind ECS Service Connect (API-only discovery: Service Connect's proxy resolves the names).
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

# Every platform task wears this group; each service admits it on its own port (Service Connect traffic between
# services, e.g. the order console proxy to inventory and payment). It has no ingress of its own.
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
  image                = "${module.ecr.repository_url}:${var.image_tag}"
  command              = [each.value.service]
  container_port       = local.ports[each.value.service]
  health_check_service = each.value.service
  cpu                  = var.service_sizes[each.key].cpu
  memory               = var.service_sizes[each.key].memory
  cpu_architecture     = var.cpu_architecture
  desired_count        = var.service_sizes[each.key].desired_count
  min_capacity         = var.service_sizes[each.key].min_capacity
  max_capacity         = var.service_sizes[each.key].max_capacity
  environment          = each.value.service == "order" ? merge(local.common_environment, local.peer_environment) : local.common_environment
  secrets              = local.service_secrets[each.key]
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  log_retention_days   = var.log_retention_days
  metrics_namespace    = local.metrics_namespace
  # The operator path: ECS Exec (SSM) into a task, no public route to /console or /admin (docs/deployment.md).
  enable_execute_command        = var.enable_execute_command
  additional_security_group_ids = [aws_security_group.platform_tasks.id]
  peer_security_group_ids       = [aws_security_group.platform_tasks.id]
  # Only the instance behind the load balancer is published; the extra order workers are clients only.
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

module "database" {
  source   = "../../modules/rds"
  for_each = toset(local.services)

  identifier                = "${local.prefix}-${each.key}"
  database_name             = "commerce_${each.key}"
  password                  = module.credentials.values["${each.key}-db-password"]
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
  metrics_namespace         = local.metrics_namespace
}

# Route 53 failover (docs/multi-region.md): this region's ALB answers while it has healthy targets; when it has none
# (evaluate_target_health), Route 53 answers with the standby region's SECONDARY record (examples/aws-secondary).
resource "aws_route53_record" "api_primary" {
  count          = var.route53_zone_id != null && var.api_domain_name != null ? 1 : 0
  zone_id        = var.route53_zone_id
  name           = var.api_domain_name
  type           = "A"
  set_identifier = "${local.prefix}-primary"
  failover_routing_policy {
    type = "PRIMARY"
  }
  alias {
    name                   = module.alb.dns_name
    zone_id                = module.alb.zone_id
    evaluate_target_health = true
  }
}
