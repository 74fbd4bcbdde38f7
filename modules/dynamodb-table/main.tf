data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  keys   = compact([var.hash_key, var.range_key])
  # Built from the name (a reference, so dependents wait for the table): known at plan
  # time, so IAM policies that use it can be reviewed in the plan.
  arn = try("arn:${data.aws_partition.current.partition}:dynamodb:${local.region}:${data.aws_caller_identity.current.account_id}:table/${aws_dynamodb_table.this[0].name}", null)
}

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:A customer managed key is optional (kms_key_arn); by default the table is encrypted with the AWS managed key, which costs nothing per table.
  count = var.create ? 1 : 0

  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  deletion_protection_enabled = var.deletion_protection
  stream_enabled              = var.stream_view_type != null
  stream_view_type            = var.stream_view_type

  dynamic "attribute" {
    for_each = local.keys

    content {
      name = attribute.value
      type = "S"
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

data "aws_iam_policy_document" "tls_only" {
  count = var.create ? 1 : 0

  statement {
    # DynamoDB's endpoints also answer plain HTTP: refuse it for this table.
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["dynamodb:*"]
    resources = [local.arn]

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
  count = var.create ? 1 : 0

  resource_arn = aws_dynamodb_table.this[0].arn
  policy       = data.aws_iam_policy_document.tls_only[0].json
}
