data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region             = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  create_table       = var.create && var.create_table
  create_destination = var.create && var.create_on_failure_queue
  prefix             = "arn:${data.aws_partition.current.partition}"
  where              = "${local.region}:${data.aws_caller_identity.current.account_id}"
  failure_queue_name = "${var.name}-failures"

  # Built from known parts (the names are references, so that dependents wait for the
  # resources). A created table's stream ARN carries a label DynamoDB chooses, so it is
  # known only after apply.
  table_arn       = try("${local.prefix}:dynamodb:${local.where}:table/${aws_dynamodb_table.this[0].name}", null)
  stream_arn      = var.create_table ? try(aws_dynamodb_table.this[0].stream_arn, null) : var.stream_arn
  destination_arn = var.create_on_failure_queue ? try("${local.prefix}:sqs:${local.where}:${aws_sqs_queue.on_failure[0].name}", null) : var.on_failure_destination_arn
  # Lambda sends failure records to an SQS queue or an SNS topic.
  destination_action = try(split(":", local.destination_arn)[2] == "sns" ? "sns:Publish" : "sqs:SendMessage", null)
}

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:A customer managed key is optional (kms_key_arn); by default the table is encrypted with the AWS managed key, which costs nothing per table.
  count = local.create_table ? 1 : 0

  name             = var.name
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = var.hash_key
  range_key        = var.range_key
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  dynamic "attribute" {
    for_each = compact([var.hash_key, var.range_key])

    content {
      name = attribute.value
      type = "S"
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

data "aws_iam_policy_document" "table_tls_only" {
  count = local.create_table ? 1 : 0

  statement {
    # DynamoDB's endpoints also answer plain HTTP: refuse it for this table.
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["dynamodb:*"]
    resources = [local.table_arn]

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

resource "aws_dynamodb_resource_policy" "this" {
  count = local.create_table ? 1 : 0

  resource_arn = aws_dynamodb_table.this[0].arn
  policy       = data.aws_iam_policy_document.table_tls_only[0].json
}

data "aws_iam_policy_document" "queue_tls_only" {
  count = local.create_destination ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = ["${local.prefix}:sqs:${local.where}:${local.failure_queue_name}"]

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

# Where Lambda sends the description of a batch it gave up on (shard, sequence range):
# the records themselves stay readable in the stream for 24 hours.
resource "aws_sqs_queue" "on_failure" {
  count = local.create_destination ? 1 : 0

  name                      = local.failure_queue_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  policy                    = data.aws_iam_policy_document.queue_tls_only[0].json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    # What Lambda's poller needs on the stream (as in AWS's own example policy).
    sid = "ReadStream"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    # compact(): a missing ARN is reported by the mapping's precondition, not here.
    resources = compact([local.stream_arn])
  }

  statement {
    sid       = "SendFailureRecords"
    actions   = compact([local.destination_action])
    resources = compact([local.destination_arn])
  }

  dynamic "statement" {
    # The module's own table under a customer managed key: its stream is read with that key.
    for_each = local.create_table && var.kms_key_arn != null ? [var.kms_key_arn] : []

    content {
      sid       = "DecryptStream"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    # A destination under a customer managed key: sending to it needs the key too.
    for_each = var.create_on_failure_queue || var.on_failure_destination_kms_key_arn == null ? [] : [var.on_failure_destination_kms_key_arn]

    content {
      sid       = "EncryptFailures"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.function_name}-dynamodb-stream"
  role   = var.role_name
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.create ? 1 : 0

  event_source_arn                   = local.stream_arn
  function_name                      = var.function_name
  enabled                            = var.enabled
  starting_position                  = var.starting_position
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor
  bisect_batch_on_function_error     = var.bisect_batch_on_function_error
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = local.destination_arn
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

  # Lambda checks the role's access to the stream when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.create_table == (var.stream_arn == null)
      error_message = "Set stream_arn when create_table is false, and only then."
    }

    precondition {
      condition     = var.create_on_failure_queue == (var.on_failure_destination_arn == null)
      error_message = "Set on_failure_destination_arn when create_on_failure_queue is false, and only then."
    }
  }
}
