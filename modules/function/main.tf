data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region     = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  account_id = data.aws_caller_identity.current.account_id

  # IAM is global to the account, Lambda is regional: the role's name carries the region, so
  # the same stack applies in a second region of one account. A name that would pass IAM's
  # 64 characters is cut, and a digest of the whole keeps two cut names apart.
  role_suffix = "-${local.region}"
  role_name = (length(var.function_name) + length(local.role_suffix) <= 64
    ? "${var.function_name}${local.role_suffix}"
    : "${substr(var.function_name, 0, 64 - length(local.role_suffix) - 9)}-${substr(sha1(var.function_name), 0, 8)}${local.role_suffix}"
  )

  log_group_name = "/aws/lambda/${var.function_name}"
  # Built from known parts (referencing the log group, so that the policy waits for it):
  # the policy is then fully known at plan time and reviewable in the plan.
  log_group_arn = try("arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${aws_cloudwatch_log_group.this[0].name}", null)

  dead_letter_service = var.dead_letter_target_arn == null ? null : split(":", var.dead_letter_target_arn)[2]

  # architectures wins; the deprecated architecture string is read only when it is not set.
  architectures = coalesce(var.architectures, [coalesce(var.architecture, "x86_64")])

  environment = merge(var.environment_variables, {
    DEDUP_TABLE_NAME             = var.idempotency_table_name
    DEDUP_TTL_SECONDS            = tostring(var.dedup_ttl_seconds)
    POWERTOOLS_SERVICE_NAME      = var.function_name
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    POWERTOOLS_LOG_LEVEL         = var.log_level
  })
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:A KMS key for the log group is optional (log_kms_key_arn); CloudWatch Logs encrypts at rest by default.
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_in_days); the sandbox default of 14 days keeps costs low.
  count = var.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  count = var.create ? 1 : 0

  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create ? 1 : 0

  name               = local.role_name
  description        = "Execution role of the ${var.function_name} Lambda function."
  assume_role_policy = data.aws_iam_policy_document.assume_role[0].json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:*"]
  }

  statement {
    # X-Ray has no resource-level permissions for these two actions: "*" is the only
    # resource they accept (see the X-Ray IAM documentation).
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    # Every operation of lambda_dedup.DynamoDBStore: conditional put (claim, effect
    # marker), fenced update (completion) and fenced delete (release). No reads.
    sid       = "IdempotencyTable"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [var.idempotency_table_arn]
  }

  dynamic "statement" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]

    content {
      sid       = "DeadLetter"
      actions   = [local.dead_letter_service == "sqs" ? "sqs:SendMessage" : "sns:Publish"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptEnvironment"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.policy_statements

    content {
      sid       = statement.key
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.function_name}-base"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_115:Reserved concurrency is the caller's choice (reserved_concurrent_executions); poll-based triggers cap concurrency on the event source mapping instead.
  #checkov:skip=CKV_AWS_116:A DLQ applies to asynchronous invocations only and is optional here (dead_letter_target_arn); trigger modules configure on-failure destinations.
  #checkov:skip=CKV_AWS_117:The function calls only AWS APIs over TLS; attaching it to a VPC would need NAT or endpoints and is out of scope.
  #checkov:skip=CKV_AWS_173:Environment variables hold names and settings, no secrets; a customer key is optional (kms_key_arn).
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile per account; the zip is reproducible and its sha256 is pinned by source_code_hash.
  count = var.create ? 1 : 0

  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this[0].arn
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = local.architectures
  layers                         = var.layers
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  filename                       = var.package_file
  source_code_hash               = filebase64sha256(var.package_file)
  reserved_concurrent_executions = coalesce(var.reserved_concurrent_executions, -1)
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.environment
  }

  tracing_config {
    mode = "Active"
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]

    content {
      target_arn = dead_letter_config.value
    }
  }

  tags = var.tags

  # Lambda logs to /aws/lambda/<function_name>, the group above: it must exist (with its
  # retention) before the first invocation creates it unmanaged, and so must the role's
  # permissions.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.architecture == null || var.architectures == null
      error_message = "Set architectures or the deprecated architecture, not both: architectures = [\"${coalesce(var.architecture, "x86_64")}\"] replaces architecture = \"${coalesce(var.architecture, "x86_64")}\"."
    }
  }
}

# A caller that still sets the deprecated input gets a warning at plan, not an error.
check "architecture_is_deprecated" {
  assert {
    condition     = var.architecture == null
    error_message = "The input architecture is deprecated: write architectures = [\"${coalesce(var.architecture, "x86_64")}\"] instead."
  }
}
