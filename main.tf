locals {
  package_file = coalesce(var.package_file, "${path.module}/build/lambda.zip")
  tags         = merge({ Project = "lambda-dedup" }, var.tags)

  # Every trigger's function gets the same timeout, which the SQS queue's visibility
  # timeout must cover six times over, and which API Gateway's 30 s integration limit caps.
  trigger_function_timeout = 30
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>), as in the modules:
  # the one attribute that provider 5.70+ and 6.x both export without a deprecation warning.
  region = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]

  # Bucket names are global: account and region make the stack's own unique, so that it
  # applies in a second region of one account. The long form when it fits S3's 63 characters.
  bucket_where = "${data.aws_caller_identity.current.account_id}-${local.region}"
  bucket_name = (length("${var.name_prefix}-profile-uploads-${local.bucket_where}") <= 63
    ? "${var.name_prefix}-profile-uploads-${local.bucket_where}"
    : "${var.name_prefix}-${local.bucket_where}"
  )
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
# The reference domain's data: profiles (created through the API, written from SQS and S3
# uploads, audited from their stream), per-user activity counters (from Kinesis), the
# audit trail, and EC2 instance state changes (from EventBridge).

module "profiles_table" {
  source = "./modules/dynamodb-table"

  create           = anytrue([for t in ["api_gateway", "sqs", "s3", "dynamodb_stream"] : var.triggers[t]])
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

module "instance_states_table" {
  source = "./modules/dynamodb-table"

  create    = var.triggers.eventbridge
  name      = "${var.name_prefix}-instance-states"
  hash_key  = "instance_id"
  range_key = "changed_at"
  tags      = local.tags
}

# ---------------------------------------------------------------------------------------
# One function per trigger, from the shared package, each with its own role, which may
# write only that trigger's effect table. Each remembers its keys for longer than its
# source can deliver a record again: 14 days for the queue (its DLQ keeps a message that
# long, and may be redriven), 2 days for the streams (24 hours of retention, plus retries)
# and for EventBridge (24 hours of delivery retries, then 6 hours of Lambda's), 1 day for
# the API (the IETF draft's suggested key lifetime), S3 and SNS (asynchronous retries end
# within 6 hours).

locals {
  trigger_functions = {
    api_gateway = {
      enabled     = var.triggers.api_gateway
      name        = "api-profiles"
      dedup_ttl   = 24 * 3600
      description = "Profiles API: POST /profiles once per Idempotency-Key, GET /profiles/{user_id}."
      handler     = "lambda_dedup.handlers.api.handler"
      environment = tomap({ PROFILES_TABLE_NAME = module.profiles_table.name })
      statements = tomap({
        CreateProfiles = { actions = ["dynamodb:PutItem"], resources = [module.profiles_table.arn] }
        ReadProfiles   = { actions = ["dynamodb:GetItem"], resources = [module.profiles_table.arn] }
      })
    }
    s3 = {
      enabled     = var.triggers.s3
      name        = "s3-profiles"
      dedup_ttl   = 24 * 3600
      description = "Profile files uploaded to S3, each object version applied once."
      handler     = "lambda_dedup.handlers.s3.handler"
      environment = tomap({ PROFILES_TABLE_NAME = module.profiles_table.name })
      statements = tomap({
        WriteProfiles = { actions = ["dynamodb:PutItem"], resources = [module.profiles_table.arn] }
      })
    }
    sns = {
      enabled     = var.triggers.sns
      name        = "sns-welcome"
      dedup_ttl   = 24 * 3600
      description = "One welcome message per profile notification from SNS (claim mode)."
      handler     = "lambda_dedup.handlers.sns.handler"
      environment = tomap({})
      statements  = tomap({})
    }
    eventbridge = {
      enabled     = var.triggers.eventbridge
      name        = "instance-states"
      dedup_ttl   = 2 * 24 * 3600
      description = "EC2 instance state changes from EventBridge, each recorded once."
      handler     = "lambda_dedup.handlers.eventbridge.handler"
      environment = tomap({ INSTANCE_STATES_TABLE_NAME = module.instance_states_table.name })
      statements = tomap({
        RecordStates = { actions = ["dynamodb:PutItem"], resources = [module.instance_states_table.arn] }
      })
    }
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

module "trigger_function" {
  source   = "./modules/function"
  for_each = local.trigger_functions

  create                 = each.value.enabled
  function_name          = "${var.name_prefix}-${each.value.name}"
  description            = each.value.description
  handler                = each.value.handler
  timeout                = local.trigger_function_timeout
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
  function_name    = module.trigger_function["sqs"].function_name
  role_name        = module.trigger_function["sqs"].role_name
  function_timeout = local.trigger_function_timeout
  tags             = local.tags
}

# ---------------------------------------------------------------------------------------
# Kinesis: activity events counted per user and type.

module "kinesis_trigger" {
  source = "./modules/trigger-kinesis"

  create        = var.triggers.kinesis
  name          = "${var.name_prefix}-activity"
  function_name = module.trigger_function["kinesis"].function_name
  role_name     = module.trigger_function["kinesis"].role_name
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
  function_name = module.trigger_function["dynamodb_stream"].function_name
  role_name     = module.trigger_function["dynamodb_stream"].role_name
  tags          = local.tags
}

# ---------------------------------------------------------------------------------------
# API Gateway (HTTP API): profiles created once per Idempotency-Key.

module "api_gateway_trigger" {
  source = "./modules/trigger-api-gateway"

  create             = var.triggers.api_gateway
  name               = "${var.name_prefix}-profiles-api"
  description        = "Profiles: POST /profiles with Idempotency-Key, GET /profiles/{user_id}."
  function_name      = module.trigger_function["api_gateway"].function_name
  authorization_type = var.api_authorization_type
  jwt                = var.api_jwt
  tags               = local.tags
}

# ---------------------------------------------------------------------------------------
# S3: profile files uploaded under profiles/, each version applied once.

module "s3_trigger" {
  source = "./modules/trigger-s3"

  create        = var.triggers.s3
  name          = "${var.name_prefix}-profile-uploads"
  bucket_name   = local.bucket_name
  force_destroy = var.bucket_force_destroy
  filter_prefix = "profiles/"
  filter_suffix = ".json"
  function_name = module.trigger_function["s3"].function_name
  role_name     = module.trigger_function["s3"].role_name
  tags          = local.tags
}

# ---------------------------------------------------------------------------------------
# SNS: a welcome message per profile notification, sent once.

module "sns_trigger" {
  source = "./modules/trigger-sns"

  create        = var.triggers.sns
  name          = "${var.name_prefix}-profile-events"
  function_name = module.trigger_function["sns"].function_name
  role_name     = module.trigger_function["sns"].role_name
  tags          = local.tags
}

# ---------------------------------------------------------------------------------------
# EventBridge: EC2 instances entering the stopped state, recorded once.

module "eventbridge_trigger" {
  source = "./modules/trigger-eventbridge"

  create        = var.triggers.eventbridge
  name          = "${var.name_prefix}-instance-stopped"
  description   = "EC2 instances entering the stopped state."
  function_name = module.trigger_function["eventbridge"].function_name
  role_name     = module.trigger_function["eventbridge"].role_name
  tags          = local.tags
}
