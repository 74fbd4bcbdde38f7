data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region           = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  create_queue     = var.create && var.create_queue
  fifo             = var.create_queue ? var.fifo_queue : endswith(coalesce(var.queue_arn, "-"), ".fifo")
  suffix           = local.fifo ? ".fifo" : ""
  queue_name       = "${var.name}${local.suffix}"
  dead_letter_name = "${var.name}-dlq${local.suffix}"

  # Lambda's advice for SQS event sources: at least six times the function timeout.
  minimum_visibility_timeout = 6 * var.function_timeout
  visibility_timeout         = coalesce(var.visibility_timeout_seconds, local.minimum_visibility_timeout)

  # ARNs built from known parts, so that the IAM policy is fully known at plan time and
  # reviewable. The consumed queue's ARN references the queue (dependents wait for it);
  # the queues' own policies name themselves, so they cannot reference themselves.
  arn_prefix      = "arn:${data.aws_partition.current.partition}:sqs:${local.region}:${data.aws_caller_identity.current.account_id}"
  queue_arn       = var.create_queue ? try("${local.arn_prefix}:${aws_sqs_queue.this[0].name}", null) : var.queue_arn
  dead_letter_arn = try("${local.arn_prefix}:${aws_sqs_queue.dead_letter[0].name}", null)
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.create_queue ? toset([local.queue_name, local.dead_letter_name]) : toset([])

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = ["${local.arn_prefix}:${each.key}"]

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

  name                      = local.dead_letter_name
  fifo_queue                = local.fifo
  message_retention_seconds = var.dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  policy                    = data.aws_iam_policy_document.tls_only[local.dead_letter_name].json

  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  count = local.create_queue ? 1 : 0

  name                        = local.queue_name
  fifo_queue                  = local.fifo
  content_based_deduplication = local.fifo ? var.content_based_deduplication : null
  visibility_timeout_seconds  = local.visibility_timeout
  message_retention_seconds   = var.message_retention_seconds
  sqs_managed_sse_enabled     = var.kms_key_arn == null ? true : null
  kms_master_key_id           = var.kms_key_arn
  policy                      = data.aws_iam_policy_document.tls_only[local.queue_name].json

  redrive_policy = jsonencode({
    deadLetterTargetArn = local.dead_letter_arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.visibility_timeout >= local.minimum_visibility_timeout
      error_message = "The queue's visibility timeout (${local.visibility_timeout} s) must be at least 6 times the function timeout (${var.function_timeout} s), i.e. at least ${local.minimum_visibility_timeout} s: otherwise a batch that is still being processed becomes visible again and is delivered twice."
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    # What Lambda's poller needs on the queue, and nothing else.
    sid = "ConsumeQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ]
    # compact(): a missing ARN is reported by the mapping's precondition, not here.
    resources = compact([local.queue_arn])
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptMessages"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.function_name}-sqs"
  role   = var.role_name
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.create ? 1 : 0

  event_source_arn                   = local.queue_arn
  function_name                      = var.function_name
  enabled                            = var.enabled
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = local.fifo ? null : var.maximum_batching_window_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  dynamic "scaling_config" {
    for_each = var.maximum_concurrency == null ? [] : [var.maximum_concurrency]

    content {
      maximum_concurrency = scaling_config.value
    }
  }

  dynamic "filter_criteria" {
    for_each = length(var.filter_patterns) == 0 ? [] : [var.filter_patterns]

    content {
      dynamic "filter" {
        for_each = filter_criteria.value

        content {
          pattern = filter.value
        }
      }
    }
  }

  tags = var.tags

  # Lambda checks the role's access to the queue when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.create_queue == (var.queue_arn == null)
      error_message = "Set queue_arn when create_queue is false, and only then."
    }

    precondition {
      condition     = !local.fifo || (var.batch_size <= 10 && var.maximum_batching_window_in_seconds == 0)
      error_message = "A FIFO queue allows batch_size 1-10 and no batching window (maximum_batching_window_in_seconds = 0)."
    }

    precondition {
      condition     = local.fifo || var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
      error_message = "batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
    }
  }
}
