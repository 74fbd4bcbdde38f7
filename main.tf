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
# One function per trigger, from the shared package, each with its own role, which may
# write only that trigger's effect table. Each remembers its keys for longer than its
# source can deliver a record again: 14 days for the queue (its DLQ keeps a message that
# long, and may be redriven), 2 days for the streams (24 hours of retention, plus retries).

locals {
  batch_functions = {
    sqs = {
      enabled     = var.triggers.sqs
      name        = "sqs-profiles"
      dedup_ttl   = 14 * 24 * 3600
      description = "Profile upserts from SQS, each applied once, with partial batch responses."
      handler     = "lambda_dedup.handlers.sqs.handler"
      environment = tomap({ PROFILES_TABLE_NAME = module.profiles_table.name })
      statements = tomap({
        WriteProfiles = { actions = ["dynamodb:PutItem"], resources = [module.profiles_table.arn] }
      })
    }
    kinesis = {
      enabled     = var.triggers.kinesis
      name        = "kinesis-activity"
      dedup_ttl   = 2 * 24 * 3600
      description = "Per-user activity counters from Kinesis, each event counted once."
      handler     = "lambda_dedup.handlers.kinesis.handler"
      environment = tomap({ COUNTERS_TABLE_NAME = module.counters_table.name })
      statements = tomap({
        CountActivity = { actions = ["dynamodb:UpdateItem"], resources = [module.counters_table.arn] }
      })
    }
    dynamodb_stream = {
      enabled     = var.triggers.dynamodb_stream
      name        = "profile-audit"
      dedup_ttl   = 2 * 24 * 3600
      description = "One audit record per change of the profiles table, from its stream."
      handler     = "lambda_dedup.handlers.dynamodb_stream.handler"
      environment = tomap({ AUDIT_TABLE_NAME = module.audit_table.name })
      statements = tomap({
        WriteAudit = { actions = ["dynamodb:PutItem"], resources = [module.audit_table.arn] }
      })
    }
  }
}

module "batch_function" {
  source   = "./modules/function"
  for_each = local.batch_functions

  create                 = each.value.enabled
  function_name          = "${var.name_prefix}-${each.value.name}"
  description            = each.value.description
  handler                = each.value.handler
  timeout                = local.batch_function_timeout
  package_file           = local.package_file
  idempotency_table_name = module.idempotency_table.name
  idempotency_table_arn  = module.idempotency_table.arn
  dedup_ttl_seconds      = each.value.dedup_ttl
  environment_variables  = each.value.environment
  policy_statements      = each.value.statements
  tags                   = local.tags
}

# ---------------------------------------------------------------------------------------
# SQS: profile upserts.

module "sqs_trigger" {
  source = "./modules/trigger-sqs"

  create           = var.triggers.sqs
  name             = "${var.name_prefix}-profile-updates"
  function_name    = module.batch_function["sqs"].function_name
  role_name        = module.batch_function["sqs"].role_name
  function_timeout = local.batch_function_timeout
  tags             = local.tags
}

# ---------------------------------------------------------------------------------------
# Kinesis: activity events counted per user and type.

module "kinesis_trigger" {
  source = "./modules/trigger-kinesis"

  create        = var.triggers.kinesis
  name          = "${var.name_prefix}-activity"
  function_name = module.batch_function["kinesis"].function_name
  role_name     = module.batch_function["kinesis"].role_name
  tags          = local.tags
}

# ---------------------------------------------------------------------------------------
# DynamoDB Streams: every change of a profile audited once.

module "dynamodb_stream_trigger" {
  source = "./modules/trigger-dynamodb-stream"

  create        = var.triggers.dynamodb_stream
  name          = "${var.name_prefix}-profile-audit"
  create_table  = false
  stream_arn    = module.profiles_table.stream_arn
  function_name = module.batch_function["dynamodb_stream"].function_name
  role_name     = module.batch_function["dynamodb_stream"].role_name
  tags          = local.tags
}
