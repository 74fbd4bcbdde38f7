output "table_name" {
  description = "Name of the created table; null when a stream was given or create is false."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "table_arn" {
  description = "ARN of the created table, known at plan time; null when a stream was given or create is false."
  value       = local.table_arn
}

output "stream_arn" {
  description = "ARN of the consumed stream (given, or the created table's, known after apply); null when create is false."
  value       = var.create ? local.stream_arn : null
}

output "on_failure_destination_arn" {
  description = "ARN of the queue or topic that receives failed batches (created or given); null when create is false."
  value       = var.create ? local.destination_arn : null
}

output "on_failure_queue_url" {
  description = "URL of the created failure queue; null when a destination was given or create is false."
  value       = try(aws_sqs_queue.on_failure[0].url, null)
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping (known after apply); null when create is false."
  value       = try(aws_lambda_event_source_mapping.this[0].uuid, null)
}

output "event_source_mapping_arn" {
  description = "ARN of the event source mapping (known after apply); null when create is false."
  value       = try(aws_lambda_event_source_mapping.this[0].arn, null)
}

output "role_policy_name" {
  description = "Name of the inline policy this module attached to the function's role; null when create is false."
  value       = try(aws_iam_role_policy.this[0].name, null)
}
