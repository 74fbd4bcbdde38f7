data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # The region from the data source's EC2 endpoint (ec2.<region>.<suffix>): the one attribute that
  # provider 5.70+ and 6.x both export without a deprecation warning (6.x deprecates name, then id).
  region       = regex("^ec2\\.([^.]+)\\.", data.aws_region.current.endpoint)[0]
  prefix       = "arn:${data.aws_partition.current.partition}"
  where        = "${local.region}:${data.aws_caller_identity.current.account_id}"
  function_arn = "${local.prefix}:lambda:${local.where}:function:${coalesce(var.function_name, "-")}"

  # "POST /profiles/{user_id}" -> the permission's "<execution ARN>/*/POST/profiles/*": any
  # stage, this method, this path with any value for each path parameter.
  routes = var.create ? {
    for route in var.routes : route => {
      # Readable, and unique: "GET /a-b" and "GET /a/b" read alike, so a digest of the
      # route itself ends the id (at most 16 + 70 + 1 + 8 = 95 of the 100 characters allowed).
      statement_id = "AllowApiGateway-${substr(trim(replace(route, "/[^A-Za-z0-9]+/", "-"), "-"), 0, 70)}-${substr(sha1(route), 0, 8)}"
      method       = split(" ", route)[0] == "ANY" ? "*" : split(" ", route)[0]
      path         = replace(split(" ", route)[1], "/\\{[^}]+\\}/", "*")
    }
  } : {}
}

resource "aws_apigatewayv2_api" "this" {
  count = var.create ? 1 : 0

  name          = var.name
  description   = var.description
  protocol_type = "HTTP"

  tags = var.tags

  lifecycle {
    precondition {
      condition     = (var.authorization_type == "JWT") == (var.jwt != null)
      error_message = "Set jwt (issuer and audience) with authorization_type JWT, and only then."
    }
  }
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = var.create && var.authorization_type == "JWT" ? 1 : 0

  api_id           = aws_apigatewayv2_api.this[0].id
  name             = "${var.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = try(var.jwt.issuer, null)
    audience = try(var.jwt.audience, [])
  }
}

resource "aws_apigatewayv2_integration" "this" {
  count = var.create ? 1 : 0

  api_id                 = aws_apigatewayv2_api.this[0].id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = local.function_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.integration_timeout_milliseconds
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:Authorization is AWS_IAM by default or JWT; NONE happens only when the caller sets authorization_type = "NONE" explicitly.
  for_each = local.routes

  api_id               = aws_apigatewayv2_api.this[0].id
  route_key            = each.key
  target               = "integrations/${aws_apigatewayv2_integration.this[0].id}"
  authorization_type   = var.authorization_type
  authorizer_id        = try(aws_apigatewayv2_authorizer.jwt[0].id, null)
  authorization_scopes = var.authorization_type == "JWT" ? try(var.jwt.scopes, null) : null
}

# ---------------------------------------------------------------------------------------
# The stage: access logs in their own log group, throttling on every route.

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:A KMS key for the log group is optional (log_kms_key_arn); CloudWatch Logs encrypts at rest by default.
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (log_retention_in_days); the sandbox default of 14 days keeps costs low.
  count = var.create ? 1 : 0

  name              = "/aws/apigateway/${var.name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.log_kms_key_arn

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  count = var.create ? 1 : 0

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.this[0].arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      sourceIp           = "$context.identity.sourceIp"
      caller             = "$context.identity.caller"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      authorizerError    = "$context.authorizer.error"
    })
  }

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  tags = var.tags
}

# ---------------------------------------------------------------------------------------
# The wiring: this API only, and each route only, may invoke the function.

resource "aws_lambda_permission" "this" {
  for_each = local.routes

  statement_id  = each.value.statement_id
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this[0].execution_arn}/*/${each.value.method}${each.value.path}"
}
