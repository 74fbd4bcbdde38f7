provider "aws" {
  region = var.region
}

module "idempotency_table" {
  source = "../../modules/idempotency-table"

  name                = "${var.name}-idempotency"
  deletion_protection = false
}

module "function" {
  source = "../../modules/function"

  function_name          = var.name
  description            = "Idempotent receiver for order commands."
  handler                = "lambda_dedup.handlers.inbox.handler"
  package_file           = "${path.module}/../../build/lambda.zip"
  runtime                = "python3.13"
  architectures          = ["arm64"]
  memory_size            = 512
  timeout                = 10
  dedup_ttl_seconds      = 3 * 24 * 3600
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn

  environment_variables = {
    ORDERS_SOURCE = "example"
  }
}
