data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region          = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  create_queue    = var.create && var.create_dead_letter_queue
  prefix          = "arn:${data.aws_partition.current.partition}"
  where           = "${local.region}:${data.aws_caller_identity.current.account_id}"
  dead_letter_key = "${var.name}-dlq"

  # ARNs built from known parts (names are references, so that dependents wait for the
  # resources): the policies are then known at plan time and reviewable. A rule on a
  # custom bus has the bus's name in its ARN.
  bus_path        = var.event_bus_name == "default" ? "" : "${var.event_bus_name}/"
  rule_arn        = try("${local.prefix}:events:${local.where}:rule/${local.bus_path}${aws_cloudwatch_event_rule.this[0].name}", null)
  function_arn    = "${local.prefix}:lambda:${local.where}:function:${coalesce(var.function_name, "-")}"
  dead_letter_arn = var.create_dead_letter_queue ? try("${local.prefix}:sqs:${local.where}:${aws_sqs_queue.dead_letter[0].name}", null) : var.dead_letter_queue_arn
}

resource "aws_cloudwatch_event_rule" "this" {
  count = var.create ? 1 : 0

  name           = var.name
  description    = var.description
  event_bus_name = var.event_bus_name
  event_pattern  = var.event_pattern
  state          = var.enabled ? "ENABLED" : "DISABLED"

  tags = var.tags
}

# ---------------------------------------------------------------------------------------
# One dead-letter queue for both failure paths: EventBridge puts there the events it could
# not deliver to the function (the target's dead-letter config), and Lambda the invocation
# records of the events it gave up on after its retries (on-failure destination).

data "aws_iam_policy_document" "dead_letter" {
  count = local.create_queue ? 1 : 0

  statement {
    sid       = "RuleSendsUndeliverable"
    actions   = ["sqs:SendMessage"]
    resources = ["${local.prefix}:sqs:${local.where}:${local.dead_letter_key}"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.rule_arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = ["${local.prefix}:sqs:${local.where}:${local.dead_letter_key}"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue" "dead_letter" {
  count = local.create_queue ? 1 : 0

  name                      = local.dead_letter_key
  message_retention_seconds = var.dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = true
  policy                    = data.aws_iam_policy_document.dead_letter[0].json

  tags = var.tags
}

# ---------------------------------------------------------------------------------------
# The function's access: send failed events to the dead-letter queue.

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "SendFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = compact([local.dead_letter_arn])
  }

  dynamic "statement" {
    # A destination under a customer managed key: sending to it needs the key too.
    for_each = var.create_dead_letter_queue || var.dead_letter_queue_kms_key_arn == null ? [] : [var.dead_letter_queue_kms_key_arn]

    content {
      sid       = "EncryptFailures"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.function_name}-eventbridge"
  role   = var.role_name
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.create ? 1 : 0

  function_name                = var.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = local.dead_letter_arn
    }
  }

  # Lambda checks the role's access to the destination when the config is saved.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.create_dead_letter_queue == (var.dead_letter_queue_arn == null)
      error_message = "Set dead_letter_queue_arn when create_dead_letter_queue is false, and only then."
    }
  }
}

# ---------------------------------------------------------------------------------------
# The wiring: this rule only may invoke the function.

resource "aws_lambda_permission" "this" {
  count = var.create ? 1 : 0

  statement_id  = "AllowEventBridge-${var.name}"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "events.amazonaws.com"
  source_arn    = local.rule_arn
}

resource "aws_cloudwatch_event_target" "this" {
  count = var.create ? 1 : 0

  rule           = aws_cloudwatch_event_rule.this[0].name
  event_bus_name = var.event_bus_name
  target_id      = "function"
  arn            = local.function_arn

  retry_policy {
    maximum_retry_attempts       = var.target_maximum_retry_attempts
    maximum_event_age_in_seconds = var.target_maximum_event_age_in_seconds
  }

  dead_letter_config {
    arn = local.dead_letter_arn
  }

  # Failures have somewhere to go before the first event arrives.
  depends_on = [aws_lambda_permission.this, aws_lambda_function_event_invoke_config.this]
}
