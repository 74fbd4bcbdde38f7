data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region             = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  create_bucket      = var.create && var.create_bucket
  create_destination = var.create && var.create_on_failure_queue
  partition          = data.aws_partition.current.partition
  account_id         = data.aws_caller_identity.current.account_id
  where              = "${local.region}:${local.account_id}"
  failure_queue_name = "${var.name}-failures"
  eventbridge        = var.delivery == "eventbridge"
  create_rule        = var.create && local.eventbridge
  # The notification configuration: the function's, or EventBridge's on a created bucket.
  # An existing bucket in EventBridge mode keeps its configuration untouched.
  write_notification = var.create && (!local.eventbridge || local.create_bucket)

  # ARNs built from known parts (names are references, so that dependents wait for the
  # resources): the IAM policy and the permission are then known at plan time.
  bucket_name     = local.create_bucket ? try(aws_s3_bucket.this[0].bucket, null) : var.bucket_name
  bucket_arn      = try("arn:${local.partition}:s3:::${local.bucket_name}", null)
  function_arn    = "arn:${local.partition}:lambda:${local.where}:function:${coalesce(var.function_name, "-")}"
  destination_arn = var.create_on_failure_queue ? try("arn:${local.partition}:sqs:${local.where}:${aws_sqs_queue.on_failure[0].name}", null) : var.on_failure_destination_arn
  # Lambda sends failed invocations to an SQS queue or an SNS topic.
  destination_action = try(split(":", local.destination_arn)[2] == "sns" ? "sns:Publish" : "sqs:SendMessage", null)
  rule_arn           = "arn:${local.partition}:events:${local.where}:rule/${var.name}"

  # EventBridge delivery: S3's event types as the detail-types S3 sends to EventBridge
  # (Amazon S3 User Guide, "EventBridge mapping and troubleshooting").
  detail_types = {
    "ObjectCreated"                           = ["Object Created"]
    "ObjectCreated:Put"                       = ["Object Created"]
    "ObjectCreated:Post"                      = ["Object Created"]
    "ObjectCreated:Copy"                      = ["Object Created"]
    "ObjectCreated:CompleteMultipartUpload"   = ["Object Created"]
    "ObjectRemoved"                           = ["Object Deleted"]
    "ObjectRemoved:Delete"                    = ["Object Deleted"]
    "ObjectRemoved:DeleteMarkerCreated"       = ["Object Deleted"]
    "LifecycleExpiration"                     = ["Object Deleted"]
    "LifecycleExpiration:Delete"              = ["Object Deleted"]
    "LifecycleExpiration:DeleteMarkerCreated" = ["Object Deleted"]
    "ObjectRestore"                           = ["Object Restore Initiated", "Object Restore Completed", "Object Restore Expired"]
    "ObjectRestore:Post"                      = ["Object Restore Initiated"]
    "ObjectRestore:Completed"                 = ["Object Restore Completed"]
    "ObjectRestore:Delete"                    = ["Object Restore Expired"]
    "LifecycleTransition"                     = ["Object Storage Class Changed"]
    "IntelligentTiering"                      = ["Object Access Tier Changed"]
    "ObjectTagging"                           = ["Object Tags Added", "Object Tags Deleted"]
    "ObjectTagging:Put"                       = ["Object Tags Added"]
    "ObjectTagging:Delete"                    = ["Object Tags Deleted"]
    "ObjectAcl:Put"                           = ["Object ACL Updated"]
  }
  event_types = [for e in var.events : trimsuffix(trimprefix(e, "s3:"), ":*")]
  # The key filter: EventBridge events carry the key as it is (not URL-encoded). Prefix and
  # suffix together are one wildcard pattern, whose '*' and '\' are escaped.
  # An empty filter is no filter, as in a notification.
  key_filters = { for k, v in { prefix = var.filter_prefix, suffix = var.filter_suffix } : k => v if v != null && v != "" }
  wildcard    = { for k, v in local.key_filters : k => replace(replace(v, "\\", "\\\\"), "*", "\\*") }
  key_filter = (
    length(local.key_filters) == 2 ? [{ wildcard = "${lookup(local.wildcard, "prefix", "")}*${lookup(local.wildcard, "suffix", "")}" }] :
    length(local.key_filters) == 1 ? [local.key_filters] : null
  )
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = distinct(flatten([for t in local.event_types : lookup(local.detail_types, t, [])]))
    detail = merge(
      { bucket = { name = [coalesce(local.bucket_name, "-")] } },
      local.key_filter == null ? {} : { object = { key = local.key_filter } },
    )
  })
}

# ---------------------------------------------------------------------------------------
# The bucket: versioned, encrypted, private, TLS only.

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging needs a separate log bucket, which is the caller's choice; CloudTrail data events cover object access.
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice outside a trigger module.
  #checkov:skip=CKV2_AWS_62:The bucket's event notification is aws_s3_bucket_notification.this, a separate resource checkov does not link.
  count = local.create_bucket ? 1 : 0

  bucket        = var.bucket_name
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    # SSE-KMS with the AWS managed key aws/s3, or the caller's key.
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Versioning must be on before S3 accepts noncurrent-version rules.
  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  count = local.create_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

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

resource "aws_s3_bucket_policy" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.bucket[0].json

  # S3 refuses a policy while the public access block is being changed.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# ---------------------------------------------------------------------------------------
# Failure handling: Lambda retries an asynchronous invocation up to maximum_retry_attempts
# times, then sends the invocation record (with the S3 event) to the destination.

data "aws_iam_policy_document" "tls_only" {
  count = local.create_destination ? 1 : 0

  dynamic "statement" {
    # EventBridge delivery: the rule's target puts there what it could not deliver.
    for_each = local.eventbridge ? [local.rule_arn] : []

    content {
      sid       = "RuleSendsUndeliverable"
      actions   = ["sqs:SendMessage"]
      resources = ["arn:${local.partition}:sqs:${local.where}:${local.failure_queue_name}"]

      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [statement.value]
      }
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = ["arn:${local.partition}:sqs:${local.where}:${local.failure_queue_name}"]

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

resource "aws_sqs_queue" "on_failure" {
  count = local.create_destination ? 1 : 0

  name                      = local.failure_queue_name
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  policy                    = data.aws_iam_policy_document.tls_only[0].json

  tags = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.create ? 1 : 0

  function_name                = var.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = local.destination_arn
    }
  }

  # Lambda checks the role's access to the destination when the config is saved.
  depends_on = [aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = var.create_on_failure_queue == (var.on_failure_destination_arn == null)
      error_message = "Set on_failure_destination_arn when create_on_failure_queue is false, and only then."
    }
  }
}

# ---------------------------------------------------------------------------------------
# The function's access: read the notified objects, send failures.

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    # GetObjectVersion: the handler reads exactly the version the event names.
    sid       = "ReadObjects"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.bucket_arn}/${var.filter_prefix == null ? "" : var.filter_prefix}*"]
  }

  statement {
    # Without s3:ListBucket, S3 answers 403 for an object that is gone, not 404: the handler
    # could not tell an overwritten or deleted object (nothing to apply) from a denial.
    sid       = "ListObjects"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }

  statement {
    sid       = "SendFailedEvents"
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
      sid       = "DecryptObjects"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  count = var.create ? 1 : 0

  name   = "${var.function_name}-s3"
  role   = var.role_name
  policy = data.aws_iam_policy_document.this[0].json
}

# ---------------------------------------------------------------------------------------
# The wiring. Notification mode: S3 may invoke the function for this bucket only, from this
# account only. EventBridge mode: this rule only may invoke it.

resource "aws_lambda_permission" "this" {
  count = var.create ? 1 : 0

  statement_id   = local.eventbridge ? "AllowEventBridge-${var.name}" : "AllowS3-${var.name}"
  action         = "lambda:InvokeFunction"
  function_name  = var.function_name
  principal      = local.eventbridge ? "events.amazonaws.com" : "s3.amazonaws.com"
  source_arn     = local.eventbridge ? local.rule_arn : local.bucket_arn
  source_account = local.eventbridge ? null : local.account_id
}

resource "aws_s3_bucket_notification" "this" {
  count = local.write_notification ? 1 : 0

  bucket      = local.bucket_name
  eventbridge = local.eventbridge

  dynamic "lambda_function" {
    for_each = local.eventbridge ? [] : [var.name]

    content {
      id                  = lambda_function.value
      lambda_function_arn = local.function_arn
      events              = var.events
      filter_prefix       = var.filter_prefix
      filter_suffix       = var.filter_suffix
    }
  }

  # S3 checks that it may invoke the function when the configuration is saved.
  depends_on = [aws_lambda_permission.this]
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.create_rule ? 1 : 0

  name          = var.name
  description   = "S3 events of ${local.bucket_name} for ${var.function_name}"
  event_pattern = local.event_pattern

  tags = var.tags

  lifecycle {
    precondition {
      condition     = alltrue([for t in local.event_types : contains(keys(local.detail_types), t)])
      error_message = "With delivery = \"eventbridge\", every entry of events must be an S3 event type that S3 sends to EventBridge (ObjectCreated, ObjectRemoved, LifecycleExpiration, ObjectRestore, LifecycleTransition, IntelligentTiering, ObjectTagging, ObjectAcl:Put)."
    }
    precondition {
      condition     = length(var.name) <= 64
      error_message = "With delivery = \"eventbridge\", name must be at most 64 characters: it names the EventBridge rule."
    }
    precondition {
      condition     = try(split(":", local.destination_arn)[2] == "sqs", false)
      error_message = "With delivery = \"eventbridge\", the on-failure destination must be an SQS queue: it is also the rule target's dead-letter queue, which EventBridge allows only on SQS."
    }
  }
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.create_rule ? 1 : 0

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "function"
  arn       = local.function_arn

  # EventBridge retries delivering to Lambda; then Lambda's own retries and on-failure
  # destination apply, as in notification mode.
  retry_policy {
    maximum_retry_attempts       = var.target_maximum_retry_attempts
    maximum_event_age_in_seconds = var.target_maximum_event_age_in_seconds
  }

  dead_letter_config {
    arn = local.destination_arn
  }

  # Failures have somewhere to go before the first event arrives.
  depends_on = [aws_lambda_permission.this, aws_lambda_function_event_invoke_config.this]
}
