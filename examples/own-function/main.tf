# A team's own functions on lambda-dedup's modules, consumed by git source and pinned to
# a commit of the lambda-dedup repository (replace <your-org> with where it lives).
provider "aws" {
  region = var.region
}

locals {
  tags = { Team = "orders" }
  # Every function of the team shares one idempotency table; each handler has its own
  # namespace in it ("orders-consumer", "orders-api").
  package_file = "${path.module}/build/orders.zip"
}

module "idempotency_table" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/idempotency-table?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  name                = "${var.name}-idempotency"
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "orders_table" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/dynamodb-table?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  name                = "${var.name}-orders"
  hash_key            = "order_id"
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "customers_table" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/dynamodb-table?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  name                = "${var.name}-customers"
  hash_key            = "customer_id"
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

# Order events from a queue: each order recorded once, its customer's totals updated.
module "consumer" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/function?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  function_name          = "${var.name}-consumer"
  description            = "Order events from SQS, each recorded once."
  handler                = "orders.consumer.handler"
  package_file           = local.package_file
  architectures          = ["arm64"]
  timeout                = 30
  dedup_ttl_seconds      = 14 * 24 * 3600 # as long as the DLQ keeps a message
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  environment_variables = {
    ORDERS_TABLE_NAME    = module.orders_table.name
    CUSTOMERS_TABLE_NAME = module.customers_table.name
  }
  policy_statements = {
    RecordOrders    = { actions = ["dynamodb:PutItem"], resources = [module.orders_table.arn] }
    UpdateCustomers = { actions = ["dynamodb:UpdateItem"], resources = [module.customers_table.arn] }
  }
  tags = local.tags
}

module "queue" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/trigger-sqs?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  name             = "${var.name}-events" # its DLQ is <name>-events-dlq
  function_name    = module.consumer.function_name
  role_name        = module.consumer.role_name
  function_timeout = 30
  tags             = local.tags
}

# The orders API: POST /orders once per Idempotency-Key, GET /orders/{order_id}.
module "api_function" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/function?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  function_name          = "${var.name}-api"
  description            = "Orders API: POST /orders once per Idempotency-Key."
  handler                = "orders.api.handler"
  package_file           = local.package_file
  architectures          = ["arm64"]
  dedup_ttl_seconds      = 24 * 3600
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  environment_variables  = { ORDERS_TABLE_NAME = module.orders_table.name }
  policy_statements = {
    CreateOrders = { actions = ["dynamodb:PutItem"], resources = [module.orders_table.arn] }
    ReadOrders   = { actions = ["dynamodb:GetItem"], resources = [module.orders_table.arn] }
  }
  tags = local.tags
}

module "api" {
  source = "git::https://github.com/<your-org>/lambda-dedup.git//modules/trigger-api-gateway?ref=afb3f346fa5eed2dbc9a23c5daa064d7d94920b0"

  name          = "${var.name}-api"
  routes        = ["POST /orders", "GET /orders/{order_id}"]
  function_name = module.api_function.function_name # AWS_IAM authorization
  tags          = local.tags
}
