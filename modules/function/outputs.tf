output "function_name" {
  description = "Name of the function, or null when create is false."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "function_arn" {
  description = "Unqualified ARN of the function, known at plan time (built from its name); null when create is false."
  value       = try("arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${aws_lambda_function.this[0].function_name}", null)
}

output "invoke_arn" {
  description = "ARN for API Gateway integrations (known after apply), or null when create is false."
  value       = try(aws_lambda_function.this[0].invoke_arn, null)
}

output "handler" {
  description = "The function's handler, as configured."
  value       = try(aws_lambda_function.this[0].handler, null)
}

output "role_name" {
  description = "Name of the execution role; other modules attach their statements to it with aws_iam_role_policy; null when create is false."
  value       = try(aws_iam_role.this[0].name, null)
}

output "role_arn" {
  description = "ARN of the execution role, or null when create is false."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "log_group_name" {
  description = "Name of the function's log group (/aws/lambda/<function_name>), or null when create is false."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "log_group_arn" {
  description = "ARN of the function's log group, known at plan time; null when create is false."
  value       = try(local.log_group_arn, null)
}

output "architectures" {
  description = "The function's instruction set as a one-element list, [\"x86_64\"] or [\"arm64\"], or null when create is false."
  value       = try(aws_lambda_function.this[0].architectures, null)
}
