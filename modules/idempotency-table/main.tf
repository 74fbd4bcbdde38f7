data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  # The schema the Python package's DynamoDBStore expects.
  hash_key       = "id"
  ttl_attribute  = "expires_at"
  is_provisioned = var.billing_mode == "PROVISIONED"
  # Built from the table's name (a reference, so dependents still wait for the table)
  # rather than read from the computed `arn` attribute, which is unknown until apply.
  arn = try("arn:${data.aws_partition.current.partition}:dynamodb:${local.region}:${data.aws_caller_identity.current.account_id}:table/${aws_dynamodb_table.this[0].name}", null)
}

resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:A customer managed key is optional (kms_key_arn); by default the table is encrypted with the AWS managed key, which costs nothing per table.
  count = var.create ? 1 : 0

  name                        = var.name
  billing_mode                = var.billing_mode
  read_capacity               = local.is_provisioned ? var.read_capacity : null
  write_capacity              = local.is_provisioned ? var.write_capacity : null
  hash_key                    = local.hash_key
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = local.hash_key
    type = "S"
  }

  ttl {
    enabled        = true
    attribute_name = local.ttl_attribute
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
