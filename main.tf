locals {
  package_file = coalesce(var.package_file, "${path.module}/build/lambda.zip")
  tags         = merge({ Project = "lambda-dedup" }, var.tags)

  # Every batch function gets the same timeout, which the SQS queue's visibility timeout
  # must cover six times over.
  batch_function_timeout = 30
}

# The deduplication records of every function in the stack; keys are namespaced per
# handler, so one table serves them all.
module "idempotency_table" {
  source = "./modules/idempotency-table"

  name = "${var.name_prefix}-idempotency"
  tags = local.tags
}

# Direct invocation (SDK Invoke, Step Functions): an idempotent inbox for commands.
module "inbox_function" {
  source = "./modules/function"

  function_name          = "${var.name_prefix}-inbox"
  description            = "Idempotent receiver for directly invoked commands."
  handler                = "lambda_dedup.handlers.inbox.handler"
  package_file           = local.package_file
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  tags                   = local.tags
}

# ---------------------------------------------------------------------------------------
# The reference domain's data: profiles (written from SQS, audited from their stream),
# per-user activity counters (from Kinesis) and the audit trail.

module "profiles_table" {
  source = "./modules/dynamodb-table"

  create           = var.triggers.sqs || var.triggers.dynamodb_stream
  name             = "${var.name_prefix}-profiles"
  hash_key         = "user_id"
  stream_view_type = var.triggers.dynamodb_stream ? "NEW_AND_OLD_IMAGES" : null
  tags             = local.tags
}

module "counters_table" {
  source = "./modules/dynamodb-table"

  create    = var.triggers.kinesis
  name      = "${var.name_prefix}-activity-counters"
  hash_key  = "user_id"
  range_key = "type"
  tags      = local.tags
}

module "audit_table" {
  source = "./modules/dynamodb-table"

  create   = var.triggers.dynamodb_stream
  name     = "${var.name_prefix}-profile-audit"
  hash_key = "id"
  tags     = local.tags
}

# ---------------------------------------------------------------------------------------
# SQS: profile upserts.

module "sqs_function" {
  source = "./modules/function"

  create                 = var.triggers.sqs
  function_name          = "${var.name_prefix}-sqs-profiles"
  description            = "Profile upserts from SQS, each applied once, with partial batch responses."
  handler                = "lambda_dedup.handlers.sqs.handler"
  timeout                = local.batch_function_timeout
  package_file           = local.package_file
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  environment_variables  = { PROFILES_TABLE_NAME = module.profiles_table.name }
  policy_statements = {
    WriteProfiles = { actions = ["dynamodb:PutItem"], resources = [module.profiles_table.arn] }
  }
  tags = local.tags
}

module "sqs_trigger" {
  source = "./modules/trigger-sqs"

  create           = var.triggers.sqs
  name             = "${var.name_prefix}-profile-updates"
  function_name    = module.sqs_function.function_name
  role_name        = module.sqs_function.role_name
  function_timeout = local.batch_function_timeout
  tags             = local.tags
}

# ---------------------------------------------------------------------------------------
# Kinesis: activity events counted per user and type.

module "kinesis_function" {
  source = "./modules/function"

  create                 = var.triggers.kinesis
  function_name          = "${var.name_prefix}-kinesis-activity"
  description            = "Per-user activity counters from Kinesis, each event counted once."
  handler                = "lambda_dedup.handlers.kinesis.handler"
  timeout                = local.batch_function_timeout
  package_file           = local.package_file
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  environment_variables  = { COUNTERS_TABLE_NAME = module.counters_table.name }
  policy_statements = {
    CountActivity = { actions = ["dynamodb:UpdateItem"], resources = [module.counters_table.arn] }
  }
  tags = local.tags
}

module "kinesis_trigger" {
  source = "./modules/trigger-kinesis"

  create        = var.triggers.kinesis
  name          = "${var.name_prefix}-activity"
  function_name = module.kinesis_function.function_name
  role_name     = module.kinesis_function.role_name
  tags          = local.tags
}

# ---------------------------------------------------------------------------------------
# DynamoDB Streams: every change of a profile audited once.

module "dynamodb_stream_function" {
  source = "./modules/function"

  create                 = var.triggers.dynamodb_stream
  function_name          = "${var.name_prefix}-profile-audit"
  description            = "One audit record per change of the profiles table, from its stream."
  handler                = "lambda_dedup.handlers.dynamodb_stream.handler"
  timeout                = local.batch_function_timeout
  package_file           = local.package_file
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  environment_variables  = { AUDIT_TABLE_NAME = module.audit_table.name }
  policy_statements = {
    WriteAudit = { actions = ["dynamodb:PutItem"], resources = [module.audit_table.arn] }
  }
  tags = local.tags
}

module "dynamodb_stream_trigger" {
  source = "./modules/trigger-dynamodb-stream"

  create        = var.triggers.dynamodb_stream
  name          = "${var.name_prefix}-profile-audit"
  create_table  = false
  stream_arn    = module.profiles_table.stream_arn
  function_name = module.dynamodb_stream_function.function_name
  role_name     = module.dynamodb_stream_function.role_name
  tags          = local.tags
}
