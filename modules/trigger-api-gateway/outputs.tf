output "api_id" {
  description = "Id of the HTTP API (known after apply); null when create is false."
  value       = try(aws_apigatewayv2_api.this[0].id, null)
}

output "api_endpoint" {
  description = "URL of the API's default endpoint, e.g. https://<id>.execute-api.<region>.amazonaws.com (known after apply); null when create is false."
  value       = try(aws_apigatewayv2_api.this[0].api_endpoint, null)
}

output "url" {
  description = "URL to call the routes at: the $default stage's invoke URL (known after apply); null when create is false."
  value       = try(aws_apigatewayv2_stage.this[0].invoke_url, null)
}

output "execution_arn" {
  description = "Execution ARN of the API, the prefix of every permission's source_arn (known after apply); null when create is false."
  value       = try(aws_apigatewayv2_api.this[0].execution_arn, null)
}

output "route_ids" {
  description = "Id of each route, by route key (known after apply); empty when create is false."
  value       = { for key, route in aws_apigatewayv2_route.this : key => route.id }
}

output "authorization_type" {
  description = "How the routes authorize callers: AWS_IAM, JWT or NONE; null when create is false."
  value       = var.create ? var.authorization_type : null
}

output "log_group_name" {
  description = "Name of the stage's access log group; null when create is false."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}
