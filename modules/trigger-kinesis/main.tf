data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region             = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  create_stream      = var.create && var.create_stream
  create_destination = var.create && var.create_on_failure_queue
  prefix             = "arn:${data.aws_partition.current.partition}"
  where              = "${local.region}:${data.aws_caller_identity.current.account_id}"
  failure_queue_name = "${var.name}-failures"

  # ARNs built from known parts (the names are references, so that dependents wait for
  # the resources): the IAM policy is then fully known at plan time and reviewable.
  stream_arn      = var.create_stream ? try("${local.prefix}:kinesis:${local.where}:stream/${aws_kinesis_stream.this[0].name}", null) : var.stream_arn
  destination_arn = var.create_on_failure_queue ? try("${local.prefix}:sqs:${local.where}:${aws_sqs_queue.on_failure[0].name}", null) : var.on_failure_destination_arn
  # Lambda sends failure records to an SQS queue or an SNS topic.
  destination_action = try(split(":", local.destination_arn)[2] == "sns" ? "sns:Publish" : "sqs:SendMessage", null)
}

resource "aws_kinesis_stream" "this" {
  count = local.create_stream ? 1 : 0

  name             = var.name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.retention_period
  encryption_type  = "KMS"
  kms_key_id       = coalesce(var.kms_key_arn, "alias/aws/kinesis")

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.maximum_record_age_in_seconds <= var.retention_period * 3600
      error_message = "maximum_record_age_in_seconds (${var.maximum_record_age_in_seconds}) must not exceed the stream's retention (${var.retention_period} h): a record must still be in the stream when its failure is reported."
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
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
# the records themselves stay readable in the stream until its retention ends.
resource "aws_sqs_queue" "on_failure" {
  count = local.create_destination ? 1 : 0

  name                      = local.failure_queue_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  policy                    = data.aws_iam_policy_document.tls_only[0].json

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    # What Lambda's poller needs to read the stream with a shared-throughput iterator.
    sid = "ReadStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
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
    # A destination under a customer managed key: sending to it needs the key too.
    for_each = var.create_on_failure_queue || var.on_failure_destination_kms_key_arn == null ? [] : [var.on_failure_destination_kms_key_arn]

    content {
      sid       = "EncryptFailures"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]

    content {
      sid       = "DecryptRecords"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.function_name}-kinesis"
  role   = var.role_name
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_lambda_event_source_mapping" "this" {
  count = var.create ? 1 : 0

  event_source_arn                   = local.stream_arn
  function_name                      = var.function_name
  enabled                            = var.enabled
  starting_position                  = var.starting_position
  starting_position_timestamp        = var.starting_position_timestamp
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

  tags = var.tags

  # Lambda checks the role's access to the stream when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.create_stream == (var.stream_arn == null)
      error_message = "Set stream_arn when create_stream is false, and only then."
    }

    precondition {
      condition     = var.create_on_failure_queue == (var.on_failure_destination_arn == null)
      error_message = "Set on_failure_destination_arn when create_on_failure_queue is false, and only then."
    }

    precondition {
      condition     = (var.starting_position == "AT_TIMESTAMP") == (var.starting_position_timestamp != null)
      error_message = "starting_position_timestamp is required with starting_position AT_TIMESTAMP, and only then."
    }
  }
}
